# Shared by setup.sh and test.sh: paths and the install-what-is-missing step.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PGRX_VERSION=0.18.1
# One target dir outside the clone, reused by every run (CI included).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vcf_pg_loader/target}"
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1
export PATH="$HOME/.cargo/bin:$PATH"
DATA_DIR="${VCF_DATA_DIR:-$REPO/../shared/data/vcf}"
[ -d "$DATA_DIR" ] && DATA_DIR="$(cd "$DATA_DIR" && pwd)"

say() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
    local pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-contrib libclang-dev clang sudo pkg-config bcftools tabix xxd openssl)
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
        say "installing cargo-pgrx $PGRX_VERSION (takes ~15 min once)"
        cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
    fi
    if ! grep -qs "pg15 = \"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
        say "cargo pgrx init --pg15 $PG_CONFIG"
        cargo pgrx init --pg15 "$PG_CONFIG"
    fi
}

start_cluster() {
    if ! pg_lsclusters -h 2>/dev/null | awk '$1=="15" && $2=="main"' | grep -q .; then
        say "creating the Debian cluster 15/main"
        as_root pg_createcluster 15 main >/dev/null
    fi
    if ! pg_lsclusters -h | awk '$1=="15" && $2=="main" {print $4}' | grep -q online; then
        say "starting PostgreSQL 15 (pg_ctlcluster 15 main start)"
        as_root pg_ctlcluster 15 main start
    fi
}

# Before `cargo pgrx install`: it writes the library in place, and a running server that
# preloaded it (the demo cluster) would crash on its next page fault into the rewritten file.
# A rename keeps the file that server mapped alive under another name.
library_aside() {
    local lib
    lib="$("$PG_CONFIG" --pkglibdir)/vcf_pg_loader.so"
    if [ -f "$lib" ]; then as_root mv -f "$lib" "$(dirname "$lib")/.vcf_pg_loader.so.in-use"; fi
    return 0
}

# as_pg CMD: a shell command as the server user (the cluster's owner).
as_pg() { as_root su postgres -c "$*"; }
psql_pg() { as_pg "psql -X -v ON_ERROR_STOP=1 $*"; }
