#!/usr/bin/env bash
# The client CLI `vcf-pg-loader` (cli/) side by side with the Python vcf-pg-loader 0.5.4, the
# in-server vcf_load and a plain binary COPY of the same rows, on one server in one run.
# Prints one table; asserts nothing. (Issue 13: "the CLI vs the Python vcf-pg-loader 0.5.4 on
# the sites load — goal >= 20x; the COPY floor beside it; the full load; the CLI vs vcf_load;
# CLI memory flat on a 20 M-row load".)
#
#   bash bench/cli.sh        (also the last step of `make bench`)
#
# Everything runs on a throw-away cluster of its own (BENCH_CLI_DIR, default /tmp/bench_cli,
# port BENCH_CLI_PORT=5520, trust auth on localhost), stopped and removed at the end. The
# server is a copy of the Debian PostgreSQL 15 binaries with the release build of the
# extension (`cargo pgrx package`) laid over it, so the system's installed extension (often
# the debug build of `make test`) is neither used nor touched. Three databases:
#   vcf_cli  `vcf-pg-loader init-db` (no extension; as on RDS), loaded by the CLI over TCP as a
#            login role in vcf_loader + phi_admin; sample names sealed on the client
#   vcf_ext  CREATE EXTENSION vcf_pg_loader; `SELECT * FROM vcf_load(...)` as superuser
#   vcf_py   the Python loader's own schema (`init-db --no-human-genome`), owned by its role
# Files: the real files of $DATA_DIR (tiny: 162-3,500 records) and generated ones
# (core/examples/gen_vcf.rs, deterministic, kept in BENCH_WORK as bench/run.sh keeps them):
#   clinical  BENCH_CLI_SITES=200000 records, one sample
#   py        BENCH_PY=30000 records x 100 samples (bench/run.sh's Python comparison file)
#   memory    BENCH_CLI_MEM=20000 records x 1000 samples (~20.6 M rows) and one 10x smaller
# Every timing is the wall time of the client command (connection included), from empty
# tables after a CHECKPOINT, BENCH_REPS=3 times; the median is printed.
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"

PORT=${BENCH_CLI_PORT:-5520}
ROOT=${BENCH_CLI_DIR:-/tmp/bench_cli}
WORK=${BENCH_WORK:-/var/tmp/vcf_pg_loader_bench}
PYV=${BENCH_PYVENV:-$HOME/.cache/vcf_pg_loader/pyvenv}
REPS=${BENCH_REPS:-3}
SITES=${BENCH_CLI_SITES:-200000}
PY=${BENCH_PY:-30000}
MEM=${BENCH_CLI_MEM:-20000}
MEM_SMALL=$((MEM / 10))
REAL=${BENCH_CLI_REAL:-gnomad_subset dbsnp_subset strelka_snvs_chr22 mutect2_chr22}

PGBIN=$ROOT/pg/usr/lib/postgresql/15/bin
DUMP=$ROOT/dump
LOG=$ROOT/stderr.log
RESULTS=$ROOT/results.tsv
CLI=$CARGO_TARGET_DIR/release/vcf-pg-loader
CLI_KEYS=$ROOT/cli.keys
EXT_KEYS=$ROOT/keys/ext.keys
CLI_URL="postgresql://bench_loader@localhost:$PORT/vcf_cli"
PY_URL="postgresql://bench_py@localhost:$PORT/vcf_py"

# ---- the cluster ----------------------------------------------------------------------
stop_cluster() {
    if [ -f "$ROOT/data/postmaster.pid" ] && [ -x "$PGBIN/pg_ctl" ]; then
        as_pg "cd / && $PGBIN/pg_ctl -D $ROOT/data -m fast -w stop" >/dev/null || true
    fi
}
cleanup() { stop_cluster; [ -n "${BENCH_CLI_KEEP:-}" ] || rm -rf "$ROOT"; }
stop_cluster           # a cluster left by an interrupted run
rm -rf "$ROOT"
trap cleanup EXIT
install -d -m 0755 "$ROOT" "$WORK"
install -d -m 0700 "$DUMP"
: > "$LOG"
: > "$RESULTS"

say "building the release CLI, gen_vcf and the release extension package"
(cd "$REPO" && cargo build -q --release -p vcf-pg-loader && cargo build -q --release -p vcf_pg_loader_core --example gen_vcf)
GEN=$CARGO_TARGET_DIR/release/examples/gen_vcf
PKG=$CARGO_TARGET_DIR/bench_cli_pkg
EXT=1
if cargo pgrx --version >/dev/null 2>&1; then
    (cd "$REPO" && cargo pgrx package --pg-config "$PG_CONFIG" --out-dir "$PKG" 2>&1 | tail -1)
else
    echo "  cargo-pgrx is not installed (make demo installs it): no vcf_load rows"; EXT=0
fi
# The Debian binaries are relocatable: a copy finds its share/ and lib/ next to itself.
mkdir -p "$ROOT/pg/usr/lib/postgresql" "$ROOT/pg/usr/share/postgresql"
cp -a "$("$PG_CONFIG" --bindir)/.." "$ROOT/pg/usr/lib/postgresql/15"
cp -a "$("$PG_CONFIG" --sharedir)" "$ROOT/pg/usr/share/postgresql/15"
rm -f "$ROOT"/pg/usr/lib/postgresql/15/lib/vcf_pg_loader.so "$ROOT"/pg/usr/share/postgresql/15/extension/vcf_pg_loader*
if [ "$EXT" = 1 ]; then cp -a "$PKG/usr/." "$ROOT/pg/usr/"; fi

say "starting a throw-away PostgreSQL 15 on port $PORT ($ROOT/data)"
install -d -o postgres -g postgres -m 0700 "$ROOT/data" "$ROOT/keys"
install -d -o postgres -g postgres -m 0755 "$ROOT/sock"
as_pg "cd $ROOT && $PGBIN/initdb -D $ROOT/data -U postgres -A trust -E UTF8 --locale=C.UTF-8" >/dev/null
as_pg "cd $ROOT && $PGBIN/pg_ctl -D $ROOT/data -l $ROOT/data/server.log -w -o '-p $PORT -k $ROOT/sock -c listen_addresses=localhost' start" >/dev/null

sql() { # sql DB: run standard input as postgres over TCP; unaligned output
    psql -X -q -At -v ON_ERROR_STOP=1 -h localhost -p "$PORT" -U postgres -d "$1"
}
sql postgres <<SQL >/dev/null
CREATE ROLE bench_owner LOGIN CREATEROLE;
CREATE ROLE bench_py LOGIN;
CREATE DATABASE vcf_cli OWNER bench_owner;
CREATE DATABASE vcf_ext;
CREATE DATABASE vcf_py OWNER bench_py;
SQL
"$CLI" --db "postgresql://bench_owner@localhost:$PORT/vcf_cli" init-db >/dev/null
sql postgres <<< "CREATE ROLE bench_loader LOGIN; GRANT vcf_loader, phi_admin TO bench_loader;" >/dev/null
"$CLI" security generate-key --output "$CLI_KEYS" >/dev/null
if [ "$EXT" = 1 ]; then
    sql vcf_ext <<< "CREATE EXTENSION vcf_pg_loader;" >/dev/null
    as_pg "umask 077; head -c 32 /dev/urandom | base64 > $EXT_KEYS"
fi

say "the Python vcf-pg-loader 0.5.4 (venv $PYV)"
PYOK=1
pyver() { "$PYV/bin/python" -c 'import importlib.metadata as m; print(m.version("vcf-pg-loader"))' 2>/dev/null; }
if [ "$(pyver || true)" != 0.5.4 ]; then
    { python3 -m venv "$PYV" && "$PYV/bin/pip" install -q vcf-pg-loader==0.5.4; } \
        || { echo "  pip install vcf-pg-loader==0.5.4 failed: no Python rows"; PYOK=0; }
fi
if [ "$PYOK" = 1 ]; then
    "$PYV/bin/vcf-pg-loader" init-db --no-human-genome --db "$PY_URL" >/dev/null \
        || { echo "  vcf-pg-loader init-db failed: no Python rows"; PYOK=0; }
fi

# ---- data -----------------------------------------------------------------------------
say "data (generated deterministically; kept in $WORK between runs)"
gen() { # gen FILE ARGS...
    local f=$1; shift
    [ -s "$f" ] || { "$GEN" "$@" | bgzip -@2 > "$f.part" && mv "$f.part" "$f"; }
    chmod 0644 "$f"
}
F_SITES=$WORK/clinical_$SITES.vcf.gz
F_PY=$WORK/cohort_${PY}x100.vcf.gz
F_MEM_SMALL=$WORK/cohort_${MEM_SMALL}x1000.vcf.gz
F_MEM=$WORK/cohort_${MEM}x1000.vcf.gz
gen "$F_SITES" clinical "$SITES"
gen "$F_PY" cohort "$PY" 100
gen "$F_MEM_SMALL" cohort "$MEM_SMALL" 1000
gen "$F_MEM" cohort "$MEM" 1000
F_REAL=()
for f in $REAL; do [ -r "$DATA_DIR/$f.vcf.gz" ] && F_REAL+=("$DATA_DIR/$f.vcf.gz"); done
ls -la "${F_REAL[@]}" "$F_SITES" "$F_PY" "$F_MEM_SMALL" "$F_MEM" | awk '{print "  " $5 " bytes  " $9}'
[ -x /usr/bin/time ] || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null

# ---- measuring ------------------------------------------------------------------------
wall() { # wall CMD...: run CMD (stdout discarded, stderr to $LOG); print its wall seconds
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>>"$LOG" || { echo "failed: $*" >&2; tail -5 "$LOG" >&2; return 1; }
    e=$(date +%s.%N)
    awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"; } # section file tool seconds rows rss_kb

empty_vcf() { # empty_vcf DB: truncate every table of schema vcf (loads, rows, id blocks); the vault keeps its rows
    sql "$1" <<'SQL'
DO $$ BEGIN
  EXECUTE (SELECT 'TRUNCATE ' || string_agg(c.oid::regclass::text, ', ') FROM pg_class c
            WHERE c.relnamespace = 'vcf'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition);
END $$;
CHECKPOINT;
SQL
}
empty_cli() { empty_vcf vcf_cli; }
empty_ext() { empty_vcf vcf_ext; }
empty_py() { sql vcf_py <<< "TRUNCATE variants, variant_load_audit, samples; CHECKPOINT;"; }
rows_vcf() { sql "$1" <<< "SELECT (SELECT count(*) FROM vcf.variants) + (SELECT count(*) FROM vcf.genotypes);"; }

cli_load() { # cli_load FILE MODE
    VCF_PG_LOADER_PHI_KEY_FILE=$CLI_KEYS "$CLI" --db "$CLI_URL" load "$1" --no-progress --genotypes "$2"
}
ext_load() { # ext_load FILE MODE
    sql vcf_ext <<SQL
SET client_min_messages = warning;
SET vcf_pg_loader.phi_key_file = '$EXT_KEYS';
SELECT * FROM vcf_load('$1', genotypes => '$2');
SQL
}
py_load() { # py_load FILE: the Python loader's only load (sites; it has no genotype table)
    "$PYV/bin/vcf-pg-loader" load "$1" --no-human-genome --no-progress --quiet --db "$PY_URL"
}
copy_in() { # copy_in MODE: binary COPY of the dumped rows into the same tables, as a client
    if [ "$1" = none ]; then
        psql -X -q -v ON_ERROR_STOP=1 -h localhost -p "$PORT" -U postgres -d vcf_cli \
            -c "\\copy vcf.variants FROM '$DUMP/v.bin' (FORMAT binary)"
    else
        psql -X -q -v ON_ERROR_STOP=1 -h localhost -p "$PORT" -U postgres -d vcf_cli \
            -c "\\copy vcf.variants FROM '$DUMP/v.bin' (FORMAT binary)" \
            -c "\\copy vcf.genotypes FROM '$DUMP/g.bin' (FORMAT binary)"
    fi
}

times() { # times EMPTY CMD...: REPS wall times from empty tables; prints the median (each run to stderr)
    local empty=$1 i t ts=""
    shift
    for ((i = 0; i < REPS; i++)); do
        $empty
        t=$(wall "$@") || return 1
        ts+="$t"$'\n'
    done
    printf '    %-9s %s s\n' "$1" "$(echo $ts)" >&2
    printf '%s' "$ts" | median
}

measure() { # measure SECTION FILE MODE [floor]: CLI, vcf_load and (with floor) the COPY floor
    local sec=$1 f=$2 mode=$3 name t
    name=$(basename "$f" .vcf.gz)
    t=$(times empty_cli cli_load "$f" "$mode"); record "$sec" "$name" cli "$t" "$(rows_vcf vcf_cli)" ""
    if [ "${4:-}" = floor ]; then
        # The rows the CLI just wrote, dumped as a client, then COPYed back from empty tables.
        sql vcf_cli <<< "\\copy (SELECT * FROM vcf.variants) TO '$DUMP/v.bin' (FORMAT binary)"
        [ "$mode" = none ] || sql vcf_cli <<< "\\copy (SELECT * FROM vcf.genotypes) TO '$DUMP/g.bin' (FORMAT binary)"
        t=$(times empty_cli copy_in "$mode"); record "$sec" "$name" copy "$t" "$(rows_vcf vcf_cli)" ""
        rm -f "$DUMP/v.bin" "$DUMP/g.bin"
    fi
    if [ "$EXT" = 1 ]; then
        t=$(times empty_ext ext_load "$f" "$mode"); record "$sec" "$name" vcf_load "$t" "$(rows_vcf vcf_ext)" ""
    fi
}

measure_py() { # measure_py FILE
    local name t
    name=$(basename "$1" .vcf.gz)
    [ "$PYOK" = 1 ] || return 0
    if t=$(times empty_py py_load "$1"); then
        record sites "$name" python "$t" "$(sql vcf_py <<< 'SELECT count(*) FROM variants')" ""
        record full "$name" python "$t" "$(sql vcf_py <<< 'SELECT count(*) FROM variants')" ""
    else
        echo "  the Python loader failed on $1 (see above)"
    fi
}

measure_rss() { # measure_rss FILE: the CLI's full load under /usr/bin/time -v: median s, max peak RSS
    local f=$1 name i ts="" rss=0 r
    name=$(basename "$f" .vcf.gz)
    for ((i = 0; i < REPS; i++)); do
        empty_cli
        ts+="$(wall /usr/bin/time -v -o "$ROOT/time.txt" env VCF_PG_LOADER_PHI_KEY_FILE="$CLI_KEYS" \
            "$CLI" --db "$CLI_URL" load "$f" --no-progress --genotypes all)"$'\n'
        r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$ROOT/time.txt")
        if [ "$r" -gt "$rss" ]; then rss=$r; fi
    done
    printf '    %-9s %s s, peak RSS %s MB\n' cli_load "$(echo $ts)" $((rss / 1024)) >&2
    record memory "$name" cli "$(printf '%s' "$ts" | median)" "$(rows_vcf vcf_cli)" "$rss"
    if [ "$EXT" = 1 ]; then
        record memory "$name" vcf_load "$(times empty_ext ext_load "$f" all)" "$(rows_vcf vcf_ext)" ""
    fi
}

# ---- 1. sites loads ---------------------------------------------------------------------
say "1. sites loads: Python 0.5.4 (its only load) vs CLI --genotypes none vs vcf_load(genotypes => 'none') vs binary COPY"
for f in "${F_REAL[@]}" "$F_SITES" "$F_PY"; do
    echo "  $(basename "$f")"
    measure_py "$f"
    measure sites "$f" none floor
done

# ---- 2. full loads ----------------------------------------------------------------------
say "2. full loads: CLI --genotypes all vs vcf_load vs binary COPY of the same rows"
for f in "$DATA_DIR/mutect2_chr22.vcf.gz" "$F_SITES" "$F_PY"; do
    [ -r "$f" ] || continue
    echo "  $(basename "$f")"
    measure full "$f" all floor
done

# ---- 3. memory --------------------------------------------------------------------------
say "3. CLI peak RSS (/usr/bin/time -v) on full loads of ${MEM_SMALL}x1000 and ${MEM}x1000"
for f in "$F_MEM_SMALL" "$F_MEM"; do
    echo "  $(basename "$f")"
    measure_rss "$f"
done

# ---- print ------------------------------------------------------------------------------
say "results ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), PostgreSQL $(sql postgres <<< 'SHOW server_version' | cut -d' ' -f1); wall seconds, median of $REPS)"
awk -F'\t' -v reps="$REPS" '
  { k = $1 SUBSEP $2 SUBSEP $3; s[k] = $4; n[k] = $5; m[k] = $6
    if (!(($1 SUBSEP $2) in seen)) { seen[$1 SUBSEP $2] = 1; files[$1, ++nf[$1]] = $2 } }
  function x(sec, f, tool, t,   k) { k = sec SUBSEP f SUBSEP tool
    return (k in s && s[k] > 0) ? sprintf("%8.1fx", s[k] / t) : sprintf("%9s", "-") }
  function show(sec, title, tools, labels,   i, j, f, k, nt, tl, lb) {
    print "  -- " title
    printf "  %-22s %-36s %11s %9s %11s %10s %11s\n", "file", "tool", "rows", "seconds", "rows/s", "vs Python", "vs vcf_load"
    nt = split(tools, tl, " "); split(labels, lb, "|")
    for (i = 1; i <= nf[sec]; i++) { f = files[sec, i]; if (!((sec SUBSEP f SUBSEP "cli") in s)) continue
      for (j = 1; j <= nt; j++) { k = sec SUBSEP f SUBSEP tl[j]; if (!(k in s)) continue
        printf "  %-22s %-36s %11d %9.3f %11.0f %10s %11s\n", f, lb[j], n[k], s[k], n[k] / s[k], x(sec, f, "python", s[k]), x(sec, f, "vcf_load", s[k]) } } }
  END {
    show("sites", "1. sites loads (no genotypes); vs = that tool'"'"'s seconds / these seconds",
         "python cli vcf_load copy",
         "Python vcf-pg-loader 0.5.4 load|CLI load --genotypes none|vcf_load(genotypes => none)|binary COPY of the same rows")
    show("full", "2. full loads (variants + genotypes); Python: its only load, sites (no genotype table)",
         "python cli vcf_load copy",
         "Python 0.5.4 (sites; its only load)|CLI load --genotypes all|vcf_load(genotypes => all)|binary COPY of the same rows")
    print "  -- 3. CLI memory: peak RSS of the client process (max of " reps " runs), full loads"
    printf "  %-22s %-36s %11s %9s %11s %10s %11s\n", "file", "tool", "rows", "seconds", "rows/s", "peak RSS", "vs vcf_load"
    for (i = 1; i <= nf["memory"]; i++) { f = files["memory", i]
      k = "memory" SUBSEP f SUBSEP "cli"
      if (k in s) printf "  %-22s %-36s %11d %9.3f %11.0f %7.0f MB %11s\n", f, "CLI load --genotypes all", n[k], s[k], n[k] / s[k], m[k] / 1024, x("memory", f, "vcf_load", s[k])
      k = "memory" SUBSEP f SUBSEP "vcf_load"
      if (k in s) printf "  %-22s %-36s %11d %9.3f %11.0f %10s %11s\n", f, "vcf_load(genotypes => all)", n[k], s[k], n[k] / s[k], "", x("memory", f, "vcf_load", s[k]) }
  }' "$RESULTS"
