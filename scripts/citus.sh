#!/usr/bin/env bash
# Citus for the scale-out suite (tests/citus) and its benchmark — a test dependency, never
# linked by the project. Citus is not packaged in Debian 12; its 13.0.5 source is vendored in
# ../shared/vendor (the newest release that compiles against Debian's PostgreSQL 15.20).
#   scripts/citus.sh build        build and install Citus when it is missing; exit 3 (and say
#                                 why) when it cannot be built on this machine
#   scripts/citus.sh start DIR    a coordinator and two workers under DIR (user postgres)
#   scripts/citus.sh stop DIR
# Ports: coordinator $CITUS_PORT (54420), workers +1, +2.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CITUS_VERSION=13.0.5
CITUS_TARBALL="${CITUS_TARBALL:-$REPO/../shared/vendor/citus-$CITUS_VERSION.tar.gz}"
CITUS_PORT="${CITUS_PORT:-54420}"
BIN=$("$PG_CONFIG" --bindir)

citus_installed() {
    [ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ] &&
        grep -qs "^default_version = '${CITUS_VERSION%.*}-" "$("$PG_CONFIG" --sharedir)/extension/citus.control"
}

build() {
    citus_installed && return 0
    [ -r "$CITUS_TARBALL" ] || { echo "citus: cannot build: $CITUS_TARBALL is missing"; return 3; }
    local pkgs=(libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev) missing=() p
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing the packages Citus builds with: ${missing[*]}"
        as_root apt-get update -qq &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
            { echo "citus: cannot build: apt-get could not install ${missing[*]}"; return 3; }
    fi
    local src="$HOME/.cache/vcf_pg_loader/citus-build"
    say "building Citus $CITUS_VERSION from $CITUS_TARBALL (about a minute)"
    rm -rf "$src"; mkdir -p "$src"
    tar xzf "$CITUS_TARBALL" -C "$src" --strip-components=1 || { echo "citus: cannot build: bad tarball"; return 3; }
    ( cd "$src" && ./configure PG_CONFIG="$PG_CONFIG" >"$src/configure.log" 2>&1 &&
        make -j2 with_llvm=no >"$src/make.log" 2>&1 && as_root make install with_llvm=no >"$src/install.log" 2>&1 ) ||
        { echo "citus: cannot build: see $src/{configure,make,install}.log"; tail -5 "$src/make.log" 2>/dev/null; return 3; }
    citus_installed || { echo "citus: built but not installed"; return 3; }
}

# start DIR [SETTINGS...]: initdb and start coordinator (DIR/c) and workers (DIR/w1, DIR/w2) as
# user postgres, each preloading citus and vcf_pg_loader; extra lines go into the
# coordinator's postgresql.conf (the key file and load directories live there only: workers
# never hold keys). Authentication on loopback TCP: the extension's owner role with a
# password (scram; vcf_distribute() provisions it), everyone else trusted from loopback, as
# in a private Citus network; the superuser over the socket.
start() {
    local dir=${1:?usage: citus.sh start DIR [SETTINGS...]}; shift
    local n port
    install -d -o postgres -g postgres -m 0755 "$dir"
    for n in c w1 w2; do
        port=$(node_port "$n")
        if [ ! -d "$dir/$n/data" ]; then
            install -d -o postgres -g postgres -m 0700 "$dir/$n"
            as_pg "$BIN/initdb -D $dir/$n/data -U postgres -A peer >/dev/null" || return 1
            cat > "$dir/$n/data/pg_hba.conf" <<EOH
local all postgres peer
host all vcf_pg_loader_owner 127.0.0.1/32 scram-sha-256
host all vcf_pg_loader_owner ::1/128 scram-sha-256
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
EOH
            {
                echo "port = $port"
                echo "listen_addresses = 'localhost'"
                echo "unix_socket_directories = '$dir/$n'"
                echo "shared_preload_libraries = '${CITUS_PRELOAD:-citus,vcf_pg_loader}'"
                echo "max_prepared_transactions = 100"   # Citus' two-phase commit
                echo "citus.node_conninfo = 'sslmode=disable'"
                echo "log_min_messages = log"
                echo "fsync = off"
                if [ "$n" = c ]; then printf '%s\n' "$@"; fi
            } >> "$dir/$n/data/postgresql.conf"
            chown postgres "$dir/$n/data/pg_hba.conf" "$dir/$n/data/postgresql.conf"
        fi
        as_pg "$BIN/pg_ctl -D $dir/$n/data -l $dir/$n/server.log -w start >/dev/null" ||
            { cat "$dir/$n/server.log"; return 1; }
    done
}

stop() {
    local dir=${1:?usage: citus.sh stop DIR} n
    for n in c w1 w2; do
        [ -f "$dir/$n/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl -D $dir/$n/data -m fast stop >/dev/null 2>&1"
    done
    return 0
}

node_port() { case $1 in c) echo "$CITUS_PORT" ;; w1) echo $((CITUS_PORT + 1)) ;; w2) echo $((CITUS_PORT + 2)) ;; esac; }

"$@"
