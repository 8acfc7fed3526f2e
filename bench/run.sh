#!/usr/bin/env bash
# The benchmark of docs/performance.md: every number measured in this run, on this server,
# side by side, printed as one table of throughputs and ratios. Asserts nothing.
#
#   make bench            (= bash bench/run.sh; after `make demo`, which sets up the server)
#
# Data is generated here, deterministically (core/examples/gen_vcf.rs), no downloads:
#   clinical  BENCH_CLINICAL=1000000 records, one sample, SNV/indel/multi-allelic, ANN, PL
#   cohort    BENCH_COHORT=20000 records x BENCH_COHORT_SAMPLES=1000 samples
#   py        BENCH_PY=30000 records x 100 samples (the size the Python loader was timed on)
# The Python loader vcf-pg-loader 0.5.4 is pip-installed into a venv in the work dir; it
# connects over the Unix socket as the OS user, so the bench creates a login role for it.
# Work dir: BENCH_WORK (default /var/tmp/vcf_pg_loader_bench, reused between runs).
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"

CLIN=${BENCH_CLINICAL:-1000000}
COH=${BENCH_COHORT:-20000}
COH_S=${BENCH_COHORT_SAMPLES:-1000}
PY=${BENCH_PY:-30000}
WORK=${BENCH_WORK:-/var/tmp/vcf_pg_loader_bench}
DB=vcf_bench_load
PYDB=vcf_bench_py
KEYS=$WORK/keys
OUT=$WORK/server          # written by the server (binary COPY files)
RESULTS=$WORK/results.tsv

start_cluster
say "installing the release build (make test installs a debug build into the same server)"
library_aside
(cd "$REPO" && cargo pgrx install --release --pg-config "$PG_CONFIG" | tail -1)
as_root pg_ctlcluster 15 main restart  # backends load the new library
install -d -m 0755 "$WORK"
install -d -o postgres -g postgres -m 0700 "$KEYS" "$OUT"
: > "$RESULTS"

# ---- data -----------------------------------------------------------------------------
say "generating data (deterministic; kept in $WORK between runs)"
(cd "$REPO" && cargo build -q --release -p vcf_pg_loader_core --example gen_vcf)
GEN="$CARGO_TARGET_DIR/release/examples/gen_vcf"
gen() { # gen FILE ARGS...
    local f=$1; shift
    [ -s "$f" ] || { "$GEN" "$@" | bgzip -@2 > "$f.part" && mv "$f.part" "$f"; }
    chmod 0644 "$f"
}
F_CLIN=$WORK/clinical_$CLIN.vcf.gz
F_COH=$WORK/cohort_${COH}x$COH_S.vcf.gz
F_PY=$WORK/cohort_${PY}x100.vcf.gz
gen "$F_CLIN" clinical "$CLIN"
gen "$F_COH" cohort "$COH" "$COH_S"
gen "$F_PY" cohort "$PY" 100
ls -la "$F_CLIN" "$F_COH" "$F_PY" | awk '{print "  " $5 " bytes  " $9}'

# ---- database -------------------------------------------------------------------------
as_pg "psql -X -q -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS $DB' -c 'CREATE DATABASE $DB'" >/dev/null
as_pg "umask 077; head -c 32 /dev/urandom | base64 > $KEYS/bench.keys"
q() { # q SQL...: run in $DB as postgres with the bench key; prints psql's unaligned output
    as_pg "psql -X -q -At -v ON_ERROR_STOP=1 -d $DB" <<SQL
SET vcf_pg_loader.phi_key_file = '$KEYS/bench.keys';
$*
SQL
}
q "CREATE EXTENSION vcf_pg_loader;" >/dev/null
# The same tables and indexes as vcf.*, for COPY of identical rows.
q "CREATE SCHEMA cb;
CREATE TABLE cb.variants (LIKE vcf.variants INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST (chrom);
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS b FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'vcf.variants'::regclass LOOP
    EXECUTE format('CREATE TABLE cb.%I PARTITION OF cb.variants %s', r.relname, r.b);
  END LOOP;
  FOR r IN SELECT indexdef FROM pg_indexes WHERE schemaname = 'vcf' AND tablename = 'variants' LOOP
    EXECUTE replace(replace(r.indexdef, ' ON ONLY vcf.', ' ON cb.'), ' ON vcf.', ' ON cb.');
  END LOOP;
END \$\$;
CREATE TABLE cb.genotypes (LIKE vcf.genotypes INCLUDING ALL);
-- What a DBA hand-rolls from bcftools query: bare text tables, no indexes.
CREATE TABLE bt_sites (chrom text, pos bigint, id text, ref text, alt text, qual text, filter text, af text);
CREATE TABLE bt_genotypes (chrom text, pos bigint, ref text, alt text, sample text, gt text, dp text, gq text, ad text);" >/dev/null

# `secs` prints the wall seconds of the statements between the two marks, timed in the server.
T0="SELECT clock_timestamp() AS t0 \\gset"
T1="SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 3);"
empty() { q "TRUNCATE vcf.genotypes, vcf.variants, vcf.samples, vcf.load_batches, cb.variants, cb.genotypes, bt_sites, bt_genotypes; CHECKPOINT;" >/dev/null; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$RESULTS"; } # name seconds rows

vcf_load() { # vcf_load NAME FILE MODE [METHOD]: time one load from empty tables
    empty
    local r
    r=$(q "SET vcf_pg_loader.load_method = ${4:-auto};
$T0
SELECT variants, genotypes FROM vcf_load('$2', genotypes => '$3') \\gset
$T1
SELECT :variants + :genotypes;")
    record "$1" "$(echo "$r" | sed -n 1p)" "$(echo "$r" | sed -n 2p)"
}

copy_baseline() { # copy_baseline NAME: binary COPY of the rows vcf_load just wrote
    q "COPY (SELECT * FROM vcf.variants) TO '$OUT/v.bin' (FORMAT binary);
COPY (SELECT * FROM vcf.genotypes) TO '$OUT/g.bin' (FORMAT binary);" >/dev/null
    local n
    n=$(q "SELECT (SELECT count(*) FROM vcf.variants) + (SELECT count(*) FROM vcf.genotypes);")
    empty
    record "$1" "$(q "$T0
COPY cb.variants FROM '$OUT/v.bin' (FORMAT binary);
COPY cb.genotypes FROM '$OUT/g.bin' (FORMAT binary);
$T1")" "$n"
    rm -f "$OUT/v.bin" "$OUT/g.bin"
}

peak_rss() { # peak_rss NAME FILE: RssAnon growth of the backend during a load, sampled every 20 ms
    empty
    as_pg "PGAPPNAME=vcf_bench_rss psql -X -q -At -d $DB" >/dev/null <<SQL &
SET vcf_pg_loader.phi_key_file = '$KEYS/bench.keys';
SELECT pg_sleep(1);
SELECT * FROM vcf_load('$2');
SQL
    local bg=$! pid="" base="" peak=0 v
    while [ -z "$pid" ]; do
        pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'vcf_bench_rss'")
        sleep 0.1
    done
    base=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status")
    while kill -0 "$bg" 2>/dev/null; do
        v=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ "${v:-0}" -gt "$peak" ] && peak=$v
        sleep 0.02
    done
    wait "$bg"
    record "$1" "$(( (peak - base) / 1024 ))" "$(( base / 1024 ))"
}

# ---- 1. vcf_load vs binary COPY of identical rows into identical tables ---------------------
say "1. vcf_load vs binary COPY (same rows, same tables, same indexes)"
vcf_load load_clinical "$F_CLIN" all
copy_baseline copy_clinical
vcf_load load_cohort "$F_COH" all
copy_baseline copy_cohort
vcf_load load_clinical_insert "$F_CLIN" all insert

# ---- 2. vcf_load sites-only vs the Python vcf-pg-loader 0.5.4 --------------------------------
say "2. vcf_load(genotypes => 'none') vs Python vcf-pg-loader 0.5.4 (sites only, same file)"
vcf_load load_py_sites "$F_PY" none
PYV=$WORK/pyloader
if [ ! -x "$PYV/bin/vcf-pg-loader" ]; then
    python3 -m venv "$PYV" && "$PYV/bin/pip" install -q vcf-pg-loader==0.5.4 || echo "  (pip install vcf-pg-loader==0.5.4 failed)"
fi
if [ -x "$PYV/bin/vcf-pg-loader" ]; then
    me=$(id -un)
    as_pg "psql -X -q -v ON_ERROR_STOP=1" >/dev/null <<SQL
DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$me') THEN CREATE ROLE "$me" LOGIN; END IF; END \$\$;
DROP DATABASE IF EXISTS $PYDB;
CREATE DATABASE $PYDB OWNER "$me";
SQL
    URL="postgresql:///$PYDB?host=/var/run/postgresql"
    "$PYV/bin/vcf-pg-loader" init-db --no-human-genome --db "$URL" >/dev/null
    as_pg "psql -X -q -c CHECKPOINT"
    s=$(date +%s.%N)
    "$PYV/bin/vcf-pg-loader" load "$F_PY" --no-human-genome --no-progress --quiet --db "$URL" >/dev/null
    e=$(date +%s.%N)
    record python_loader "$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}')" "$(psql -X -At -d "$PYDB" -h /var/run/postgresql -c 'SELECT count(*) FROM variants')"
fi

# ---- 3. vcf_load vs bcftools norm | bcftools query | psql COPY into bare text tables --------
say "3. vcf_load vs bcftools norm -m-any | bcftools query | COPY (bare text tables)"
pipeline() { # pipeline NAME TABLE FORMAT
    local s e n
    s=$(date +%s.%N)
    bcftools norm -m-any "$F_PY" 2>/dev/null | bcftools query -f "$3" \
        | as_pg "psql -X -q -d $DB -c 'COPY $2 FROM STDIN'"
    e=$(date +%s.%N)
    n=$(q "SELECT count(*) FROM $2")
    record "$1" "$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f", b - a}')" "$n"
}
empty
pipeline bcftools_sites bt_sites '%CHROM\t%POS\t%ID\t%REF\t%ALT\t%QUAL\t%FILTER\t%INFO/AF\n'
pipeline bcftools_genotypes bt_genotypes '[%CHROM\t%POS\t%REF\t%ALT\t%SAMPLE\t%GT\t%DP\t%GQ\t%AD\n]'
vcf_load load_py_all "$F_PY" all

# ---- 6. peak memory of the backend during the largest load ---------------------------------
say "6. backend memory during the cohort load"
peak_rss rss_cohort "$F_COH"

# ---- print --------------------------------------------------------------------------------
say "results ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), PostgreSQL $(q 'SHOW server_version' | tail -1 | cut -d' ' -f1))"
awk -F'\t' -v clin="$CLIN" -v coh="$COH" -v cohs="$COH_S" -v py="$PY" '
  { s[$1] = $2; n[$1] = $3 }
  function row(label, k) { printf "  %-58s %12d rows %9.3f s %12.0f rows/s\n", label, n[k], s[k], n[k] / s[k] }
  function ratio(label, num, den, goal) { if (s[num] > 0 && s[den] > 0) printf "  %-58s %8.2fx   (goal %s)\n", label, s[num] / s[den], goal }
  END {
    print "  -- 1. clinical: " clin " records, 1 sample; cohort: " coh " records x " cohs " samples"
    row("vcf_load clinical (variants + genotypes)", "load_clinical")
    row("binary COPY of the same rows, same tables and indexes", "copy_clinical")
    row("vcf_load cohort (variants + genotypes)", "load_cohort")
    row("binary COPY of the same rows, same tables and indexes", "copy_cohort")
    row("vcf_load clinical, load_method = insert (the fallback)", "load_clinical_insert")
    ratio("vcf_load speed / binary COPY speed, clinical", "copy_clinical", "load_clinical", ">= 0.8x")
    ratio("vcf_load speed / binary COPY speed, cohort", "copy_cohort", "load_cohort", ">= 0.8x")
    print "  -- 2. sites only, " py " records x 100 samples"
    row("vcf_load(genotypes => none)", "load_py_sites")
    if ("python_loader" in s) {
      row("Python vcf-pg-loader 0.5.4 load --no-human-genome", "python_loader")
      ratio("vcf_load speed / Python loader speed", "python_loader", "load_py_sites", ">= 20x")
    } else print "  Python vcf-pg-loader 0.5.4: could not be installed (see above)"
    print "  -- 3. same file; bcftools norm -m-any | bcftools query | psql COPY into bare text tables"
    row("bcftools pipeline, sites", "bcftools_sites")
    row("bcftools pipeline, genotypes", "bcftools_genotypes")
    row("vcf_load(genotypes => all): typed rows, indexes, pseudonyms", "load_py_all")
    ratio("vcf_load sites speed / bcftools sites speed", "bcftools_sites", "load_py_sites", ">= 1x")
    s["bcftools_all"] = s["bcftools_sites"] + s["bcftools_genotypes"]
    ratio("vcf_load full speed / bcftools sites+genotypes speed", "bcftools_all", "load_py_all", "report")
    print "  -- 6. backend memory"
    printf "  %-58s %8d MB   (goal < 256 MB; backend RssAnon before: %d MB)\n", "peak RssAnon growth during the cohort load", s["rss_cohort"], n["rss_cohort"]
  }' "$RESULTS"

say "4-5. PHI crypto and rotation (bench/phi_crypto.sh)"
bash "$REPO/bench/phi_crypto.sh" "${BENCH_CRYPTO:-1000000}" "${BENCH_ROTATE:-100000}"
bash "$REPO/bench/growth.sh"  # growth with records and samples; unload beside a second batch; the 500-sample cohort
bash "$REPO/bench/cli.sh"  # 7. the client CLI vs Python vcf-pg-loader 0.5.4 vs vcf_load vs binary COPY, on a cluster of its own
bash "$REPO/bench/citus.sh"  # 8. scale-out: one node vs a Citus coordinator + 2 workers (load rows/s, query latency)
