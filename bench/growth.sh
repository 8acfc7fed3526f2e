#!/usr/bin/env bash
# The growth table of issue 14: how the cost of a load, of an unload right after it, of disk
# and of backend memory grows with records and with samples; and the issue's 500-sample
# cohort (an unload beside a second batch, a force => true reload, an unload after ANALYZE).
# Prints one table, writes every run to $GW/growth.tsv; asserts nothing.
#
#   bash bench/growth.sh                            (also the last-but-one step of `make bench`)
#   BENCH_GROWTH_SCALE=small bash bench/growth.sh   (a quick run: a tenth of the records, once)
#
# Rows (the defaults; every one can be set):
#   records   BENCH_GROWTH_RECORDS=20000 x BENCH_GROWTH_FACTORS="1 4 16", the first sample count
#   samples   BENCH_GROWTH_RECORDS records x BENCH_GROWTH_SAMPLES="100 300 1000" samples
#   carriers  the last samples row again with genotypes => 'carriers'
#   cohort    BENCH_GROWTH_COHORT=77290 records x BENCH_GROWTH_COHORT_SAMPLES=500 samples
#             (BENCH_GROWTH_COHORT=0 skips it; skipped too when the disk lacks room)
# Each row, from empty tables after a CHECKPOINT: load file A (timed in the server session,
# the backend's RssAnon sampled every 20 ms), load file B (the same shape and size from
# another gen_vcf seed, so both are real loads), then vcf_unload of A at once: two batches in
# the table, no ANALYZE, as a user would run it. Then a CHECKPOINT and vcf_unload of B (what
# an unload costs once a checkpoint lies between load and unload). Disk bytes are taken after
# load A (one batch). Small rows run BENCH_GROWTH_REPS=3 times (the median is printed), the
# cohort BENCH_GROWTH_COHORT_REPS=1 time; between its two unloads the cohort also runs
# force => true of B, loads A again, ANALYZEs and unloads A again (fresh statistics).
# Autovacuum is off on the loaded tables (BENCH_GROWTH_AUTOVACUUM=on keeps it; see below).
# The installed build of the extension is used as it is (`make bench` installs the release
# build before it calls this); its kind is printed. The server is the Debian cluster 15/main,
# or the one PGHOST/PGPORT name (a server with the library preloaded, e.g. a copy of the
# binaries with a release package laid over them as bench/cli.sh makes: while `make test`
# reinstalls the system's library, a server that preloaded it can crash). Own database vcf_bench_growth, dropped at
# the end (BENCH_GROWTH_KEEP=1 keeps it). Files: BENCH_WORK (default
# /var/tmp/vcf_pg_loader_bench, shared with bench/run.sh; generated files kept between runs).
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"

case ${BENCH_GROWTH_SCALE:-full} in
    full) D_REC=20000 D_SAMPLES="100 300 1000" D_COH=77290 D_COH_S=500 D_REPS=3 ;;
    small) D_REC=2000 D_SAMPLES="100 300 1000" D_COH=7729 D_COH_S=500 D_REPS=1 ;;
    *) echo "BENCH_GROWTH_SCALE: full or small" >&2; exit 2 ;;
esac
REC=${BENCH_GROWTH_RECORDS:-$D_REC}
FACTORS=${BENCH_GROWTH_FACTORS:-1 4 16}
SAMPLES=${BENCH_GROWTH_SAMPLES:-$D_SAMPLES}
BASE_S=${SAMPLES%% *}                       # the records series runs at the first sample count
CARRIERS_S=${SAMPLES##* }
COH=${BENCH_GROWTH_COHORT:-$D_COH}
COH_S=${BENCH_GROWTH_COHORT_SAMPLES:-$D_COH_S}
REPS=${BENCH_GROWTH_REPS:-$D_REPS}
COH_REPS=${BENCH_GROWTH_COHORT_REPS:-1}
WORK=${BENCH_WORK:-/var/tmp/vcf_pg_loader_bench}
GW=$WORK/growth
DB=vcf_bench_growth
KEYS=$GW/keys
TSV=$GW/growth.tsv

[ -n "${PGPORT:-}${PGHOST:-}" ] || start_cluster   # PGHOST/PGPORT: another server of these binaries
install -d -m 0755 "$WORK" "$GW"
install -d -o postgres -g postgres -m 0700 "$KEYS"

# ---- data -----------------------------------------------------------------------------
(cd "$REPO" && cargo build -q --release -p vcf_pg_loader_core --example gen_vcf)
GEN="$CARGO_TARGET_DIR/release/examples/gen_vcf"
cohort_file() { # cohort_file RECORDS SAMPLES SEED: path of that generated file (made if missing)
    local f=$WORK/cohort_${1}x$2.vcf.gz       # seed 0: the same name and bytes as bench/run.sh's
    [ "$3" = 0 ] || f=$WORK/cohort_${1}x${2}_seed$3.vcf.gz
    [ -s "$f" ] || { "$GEN" cohort "$1" "$2" "$3" | bgzip -@2 > "$f.part" && mv "$f.part" "$f"; }
    chmod 0644 "$f"
    echo "$f"
}

# ---- database -------------------------------------------------------------------------
as_pg "psql -X -q -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS $DB' -c 'CREATE DATABASE $DB'" >/dev/null
as_pg "umask 077; head -c 32 /dev/urandom | base64 > $KEYS/growth.keys"
q() { # q SQL...: run in $DB as postgres with the bench key; prints psql's unaligned output
    as_pg "psql -X -q -At -v ON_ERROR_STOP=1 -d $DB" <<SQL
SET vcf_pg_loader.phi_key_file = '$KEYS/growth.keys';
$*
SQL
}
q "CREATE EXTENSION vcf_pg_loader;" >/dev/null
# Autovacuum off on the loaded tables (BENCH_GROWTH_AUTOVACUUM=on keeps it): an unload "right
# after the loads" must see no statistics of them, and the WAL counted around an unload must be
# its own (an autovacuum pruning the earlier unload's rows writes full-page images too).
if [ "${BENCH_GROWTH_AUTOVACUUM:-off}" = off ]; then
    q "DO \$\$ DECLARE r regclass; BEGIN
  FOR r IN SELECT relid FROM pg_partition_tree('vcf.variants') WHERE isleaf UNION SELECT 'vcf.genotypes'::regclass LOOP
    EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = off)', r);
  END LOOP; END \$\$;" >/dev/null
fi
drop_db() { [ -n "${BENCH_GROWTH_KEEP:-}" ] || as_pg "psql -X -q -c 'DROP DATABASE IF EXISTS $DB'" >/dev/null || true; }
trap drop_db EXIT

LIB="$(q "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")/vcf_pg_loader.so"  # the server's own
BUILD=release
readelf -S "$LIB" 2>/dev/null | grep -q '\.debug_info' && BUILD="debug (numbers not comparable)"
# The server runs the library it preloaded at start: one replaced on disk since then is not it.
PM=$(head -1 "$(as_pg "psql -X -At -c 'SHOW data_directory'")/postmaster.pid")
grep -q 'vcf_pg_loader.so (deleted)' "/proc/$PM/maps" 2>/dev/null &&
    BUILD="$BUILD on disk, but the server runs an older library (restart it; numbers not comparable)"

empty() {
    q "TRUNCATE vcf.genotypes, vcf.variants, vcf.samples, vcf.load_blocks, vcf.load_batches; CHECKPOINT;" >/dev/null
}

# Counters around a timed statement. WAL and checkpoints are cluster-wide (a quiet server is
# assumed); pg_stat_wal is flushed by backends lazily, hence the forced flushes.
BEFORE="SELECT pg_stat_force_next_flush() \\gset
SELECT clock_timestamp() AS t0, pg_current_wal_lsn() AS l0, w.wal_fpi AS f0,
       b.checkpoints_timed + b.checkpoints_req AS c0 FROM pg_stat_wal w, pg_stat_bgwriter b \\gset"
AFTER="SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 3) AS secs,
       pg_wal_lsn_diff(pg_current_wal_lsn(), :'l0') AS wal \\gset
SELECT pg_stat_force_next_flush() \\gset
SELECT concat_ws(' ', :secs, :wal, (SELECT wal_fpi FROM pg_stat_wal) - :f0,
       (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) - :c0"

load_sql() { # load_sql FILE MODE FORCE: prints "secs wal fpi ckpts batch_id variants genotypes"
    cat <<SQL
$BEFORE
SELECT load_batch_id AS id, variants, genotypes FROM vcf_load('$1', genotypes => '$2', force => $3) \\gset
$AFTER, :'id', :variants, :genotypes);
SQL
}

load() { # load FILE MODE [FORCE]: one timed load (see load_sql)
    q "$(load_sql "$1" "$2" "${3:-false}")"
}

exec {TICK}<> <(:)   # a pipe no one writes: `read -t` on it sleeps without a fork
RSS=0
rss_kb() { # rss_kb PID: RssAnon of that process into $RSS (kB), 0 once it is gone
    RSS=0
    local k v
    { while read -r k v _; do
        if [ "$k" = RssAnon: ]; then RSS=$v; break; fi
    done < "/proc/$1/status"; } 2>/dev/null || true
}

load_with_rss() { # load_with_rss FILE MODE: as `load`, plus " peak_MB" (backend RssAnon growth)
    local out=$GW/load.out app=vcf_bench_growth_rss
    as_pg "PGAPPNAME=$app psql -X -q -At -v ON_ERROR_STOP=1 -d $DB" > "$out" <<SQL &
SET vcf_pg_loader.phi_key_file = '$KEYS/growth.keys';
SELECT pg_sleep(1) \\gset
$(load_sql "$1" "$2" false)
SQL
    local bg=$! pid="" base peak=0
    while [ -z "$pid" ]; do
        pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'")
        [ -n "$pid" ] || sleep 0.05
    done
    rss_kb "$pid"; base=$RSS
    while kill -0 "$bg" 2>/dev/null; do
        rss_kb "$pid"
        [ "$RSS" -gt "$peak" ] && peak=$RSS
        read -t 0.02 -u "$TICK" _ || true
    done
    wait "$bg"
    echo "$(tail -1 "$out") $(( peak > base ? (peak - base) / 1024 : 0 ))"
}

unload() { # unload ID: prints "secs wal fpi ckpts rows reltuples vacuuming": reltuples of
           # vcf.genotypes as the planner saw it (-1: never analyzed), and whether an
           # autovacuum of vcf.genotypes was running when the unload began (1) or not (0)
    q "SELECT reltuples::bigint AS rt FROM pg_class WHERE oid = 'vcf.genotypes'::regclass \\gset
SELECT count(*) AS av FROM pg_stat_progress_vacuum WHERE relid = 'vcf.genotypes'::regclass \\gset
$BEFORE
SELECT vcf_unload('$1') AS n \\gset
$AFTER, :n, :rt, :av);"
}

disk_bytes() { # disk_bytes: "genotype_bytes variant_bytes" (heap + toast + indexes, all partitions)
    # pg_partition_tree has no rows for a table that is not partitioned: the table itself too
    q "SELECT string_agg(b::text, ' ' ORDER BY i) FROM (
  SELECT i, (SELECT sum(pg_total_relation_size(r)) FROM (SELECT relid FROM pg_partition_tree(t)
             UNION SELECT t) p(r)) AS b FROM unnest('{vcf.genotypes,vcf.variants}'::regclass[]) WITH ORDINALITY u(t, i)) s;"
}

unload_plan() { # unload_plan ID: the plan of the first genotype delete vcf.unload_batch runs for it
    q "SET enable_seqscan = off;
SELECT block AS b FROM vcf.load_blocks WHERE load_batch_id = '$1' ORDER BY block LIMIT 1 \\gset
EXPLAIN DELETE FROM vcf.genotypes WHERE variant_id >= :b * 1048576 AND variant_id < (:b + 1) * 1048576;"
}

blocks_of() { # blocks_of ID: "blocks last_block heap_pages" — the load's blocks of variant ids
              # (vcf.unload_batch deletes once per block) and the pages vcf.genotypes has now
    q "SELECT count(*) || ' ' || max(block) || ' ' || (SELECT pg_relation_size('vcf.genotypes') / 8192)
  FROM vcf.load_blocks WHERE load_batch_id = '$1';"
}

empty_block_pages() { # empty_block_pages BLOCK: "visited pages": heap pages one genotype delete
                      # of that (empty) block visits, as vcf.unload_batch runs it, and all
    q "SET enable_seqscan = off;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON) DELETE FROM vcf.genotypes
 WHERE variant_id >= $1::bigint * 1048576 AND variant_id < ($1::bigint + 1) * 1048576;
SELECT 'pages ' || pg_relation_size('vcf.genotypes') / 8192;" |
        grep -o '"Lossy Heap Blocks": [0-9]*\|"Exact Heap Blocks": [0-9]*\|^pages [0-9]*' |
        awk '/^pages/ {p = $2; next} {n += $NF} END {print n + 0, p}'
}

TSV_COLUMNS="name rep records samples mode
 load_s load_wal load_fpi load_ckpt variants genotypes rss_mb geno_bytes var_bytes load2_s
 unload_s unload_wal unload_fpi unload_ckpt unload_rows reltuples vacuuming blocks heap_pages
 ckpt_unload_s ckpt_unload_wal ckpt_unload_fpi ckpt_unload_ckpt force_s reload_s analyze_s fresh_unload_s empty_block_pages all_pages"
echo $TSV_COLUMNS | tr ' ' '\t' > "$TSV"
rm -f "$GW"/unload_plan_*.txt             # plans of an earlier run
field() { echo "$1" | cut -d' ' -f"$2"; } # field "WORDS" N

measure() { # measure NAME RECORDS SAMPLES MODE REP [cohort]: one row of the TSV
    local a b l1 l2 u uc id bl eb rest="- - - -" fl rl an
    a=$(cohort_file "$2" "$3" 0)
    b=$(cohort_file "$2" "$3" 1)
    empty
    l1=$(load_with_rss "$a" "$4")              # secs wal fpi ckpt id variants genotypes rss
    id=$(field "$l1" 5)
    local sz; sz=$(disk_bytes)                 # one batch in the tables
    l2=$(load "$b" "$4")
    [ -z "${6:-}" ] || unload_plan "$id" > "$GW/unload_plan_$1.txt"
    bl=$(blocks_of "$id")                      # blocks last_block heap_pages
    # The pages a delete of an unused block visits right after the loads: the ranges left
    # unsummarized (every unload's block delete visits them; 0 when the loads summarized theirs)
    eb=$(empty_block_pages "$(( $(field "$bl" 2) + 4096 ))")
    u=$(unload "$id")                          # right after the loads: secs wal fpi ckpt rows reltuples vacuuming
    if [ -n "${6:-}" ]; then                   # the cohort: force => true of B, A again, ANALYZE, unload A
        fl=$(load "$b" "$4" true)
        rl=$(load "$a" "$4")
        an=$(q "SELECT clock_timestamp() AS t0 \\gset
ANALYZE vcf.genotypes, vcf.variants;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 3);")
        rest="$(field "$fl" 1) $(field "$rl" 1) $an $(field "$(unload "$(field "$rl" 5)")" 1)"
    fi
    # The other batch after a CHECKPOINT: each heap page the delete dirties first is WAL-logged whole
    q "CHECKPOINT;" >/dev/null
    uc=$(unload "$(q "SELECT load_batch_id FROM vcf.load_batches LIMIT 1")")
    rest="$rest $eb"
    set -- "$1" "$5" "$2" "$3" "$4"
    printf '%s\t' "$@" $(field "$l1" 1-4) $(field "$l1" 6-8) $sz "$(field "$l2" 1)" \
        $(field "$u" 1-7) $(field "$bl" 1) $(field "$bl" 3) $(field "$uc" 1-4) $rest | sed 's/\t$/\n/' >> "$TSV"
    printf '  %-22s run %s: load %s s, %s rows, unload %s s, after a CHECKPOINT %s s\n' "$1" "$2" \
        "$(field "$l1" 1)" "$(( $(field "$l1" 6) + $(field "$l1" 7) ))" "$(field "$u" 1)" "$(field "$uc" 1)"
}

free_gb() { df -BG --output=avail "$(as_pg "psql -X -At -c 'SHOW data_directory'")" | tail -1 | tr -dc 0-9; }

# ---- the rows -------------------------------------------------------------------------
say "growth: records x ($FACTORS) of $REC at $BASE_S samples; samples $SAMPLES at $REC records; carriers; cohort ${COH}x$COH_S (build: $BUILD; autovacuum of vcf tables ${BENCH_GROWTH_AUTOVACUUM:-off})"
LAYOUT=""                               # series:name, in print order
for rep in $(seq "$REPS"); do
    for k in $FACTORS; do measure "$((REC * k))x$BASE_S" "$((REC * k))" "$BASE_S" all "$rep"; done
    for s in $SAMPLES; do
        [ "$s" = "$BASE_S" ] || measure "${REC}x$s" "$REC" "$s" all "$rep"
    done
    measure "${REC}x${CARRIERS_S}_carriers" "$REC" "$CARRIERS_S" carriers "$rep"
done
for k in $FACTORS; do LAYOUT+="records:$((REC * k))x$BASE_S "; done
for s in $SAMPLES; do LAYOUT+="samples:${REC}x$s "; done
LAYOUT+="carriers:${REC}x${CARRIERS_S}_carriers "
if [ "$COH" -gt 0 ]; then
    # No vacuum runs between its steps: four loads' pages (A, B, B forced, A again) of ~1.03
    # rows per record and sample at ~115 B each (measured), plus WAL (max_wal_size) and slack.
    need=$(( COH * COH_S * 103 / 100 * 4 * 130 / 1000000000 + 5 ))
    have=$(free_gb)
    if [ "$have" -lt "$need" ]; then
        echo "  cohort ${COH}x$COH_S skipped: needs ~$need GB free, $have GB free"
    else
        say "cohort ${COH} x $COH_S ($have GB free, ~$need GB needed)"
        for rep in $(seq "$COH_REPS"); do measure "${COH}x$COH_S" "$COH" "$COH_S" all "$rep" cohort; done
        LAYOUT+="cohort:${REC}x$BASE_S cohort:${COH}x$COH_S"
    fi
fi

# ---- print --------------------------------------------------------------------------------
say "growth table ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), PostgreSQL $(q 'SHOW server_version' | tail -1 | cut -d' ' -f1), $BUILD build, median of $REPS, cohort: $COH_REPS run; autovacuum of vcf tables ${BENCH_GROWTH_AUTOVACUUM:-off}) — $TSV"
awk -F'\t' -v layout="$LAYOUT" '
  function commas(x,   s, neg) { x = sprintf("%.0f", x); neg = x < 0; if (neg) x = -x; s = ""
    while (length(x) > 3) { s = "," substr(x, length(x) - 2) s; x = substr(x, 1, length(x) - 3) }
    return (neg ? "-" : "") x s }
  function med(k, name,   a, n, i, j, t) { n = 0         # median over the runs of row k
    for (i = 1; i <= runs[k]; i++) { t = v[k, i, col[name]]; if (t != "-" && t != "") a[++n] = t + 0 }
    if (n == 0) return "-"
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((n + 1) / 2)] }
  function lin(x) { return x == "-" ? "-" : sprintf("%.2f%s", x, (x > 1.25 || x < 0.8) ? "*" : " ") }
  function note(ser, k, what, x) { if (x != "-" && (x > 1.25 || x < 0.8))
    bad = bad sprintf("    %s %s: %s %.2fx the per-row time of the series'\'' first row\n", ser, k, what, x) }
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { runs[$1]++; for (i = 1; i <= NF; i++) v[$1, runs[$1], i] = $i; rec[$1] = $3; smp[$1] = $4; mode[$1] = $5 }
  END {
    printf "  %-9s %-15s %-8s %11s %8s %9s %5s %8s | %8s %6s %5s | %8s %6s | %6s %6s %6s %6s %4s %3s %5s\n", "series", "records x samp.",
      "mode", "rows", "load s", "rows/s", "lin.", "2nd ld s", "unload s", "/load", "lin.", "ckpt+un", "/load",
      "RSS MB", "B/geno", "B/var", "WAL/r", "ckpt", "blk", "scan%"
    n = split(layout, L, " "); prev = ""
    for (i = 1; i <= n; i++) { split(L[i], p, ":"); ser = p[1]; k = p[2]; if (!(k in runs)) continue
      s = med(k, "load_s"); g = med(k, "genotypes"); rows = med(k, "variants") + g
      us = med(k, "unload_s"); ur = med(k, "unload_rows"); uc = med(k, "ckpt_unload_s")
      if (ser != prev) { base_t = s / rows; base_u = us / ur; prev = ser }
      lt = (s / rows) / base_t; lu = (us / ur) / base_u
      if (ser == "carriers") lt = lu = "-"      # fewer rows than its "all" load: no per-row series
      note(ser, k, "load", lt); note(ser, k, "unload", lu)
      printf "  %-9s %-15s %-8s %11s %8.3f %9s %5s %8.3f | %8.3f %5.2fx %5s | %8.3f %5.2fx | %6d %6.1f %6.1f %6.1f %4d %3d %4.0f%%\n", ser,
        commas(rec[k]) " x " commas(smp[k]), mode[k], commas(rows), s, commas(rows / s), lin(lt),
        med(k, "load2_s"), us, us / s, lin(lu), uc, uc / s, med(k, "rss_mb"), med(k, "geno_bytes") / (g > 0 ? g : 1),
        med(k, "var_bytes") / med(k, "variants"), med(k, "load_wal") / rows, med(k, "load_ckpt"),
        med(k, "blocks"), 100 * med(k, "empty_block_pages") / med(k, "all_pages")
      if (med(k, "force_s") != "-") {
        printf "    %s: unload right after the loads: WAL %.1f B/row, %s full-page images, %d checkpoints;\n", k,
          med(k, "unload_wal") / ur, commas(med(k, "unload_fpi")), med(k, "unload_ckpt")
        printf "      force => true reload of the other batch %.3f s = %.2fx its fresh load; load again beside it %.3f s;\n",
          med(k, "force_s"), med(k, "force_s") / s, med(k, "reload_s")
        printf "      ANALYZE %.3f s, then unload with fresh statistics %.3f s = %.2fx the load\n",
          med(k, "analyze_s"), med(k, "fresh_unload_s"), med(k, "fresh_unload_s") / s }
    }
    print "  rows: variant + genotype rows of one load. unload: of the first of two such batches, right after the"
    print "  loads, no ANALYZE; ckpt+un: the other batch, after a CHECKPOINT. lin.: seconds per row / those of the"
    print "  series'\'' first row (* outside 0.8-1.25). B/geno, B/var: bytes on disk (heap, toast, indexes) per row"
    print "  after one load. WAL/r: WAL bytes per row of the load; ckpt: checkpoints during it. RSS MB: the"
    print "  backend'\''s RssAnon growth during it. blk: blocks of 2^20 variant ids the load reserved (the unload"
    print "  deletes once per block); scan%: heap pages of vcf.genotypes a delete of an unused block visits right"
    print "  after the loads (BRIN ranges left unsummarized: each block delete of an unload visits them)."
    if (bad != "") printf "  not linear:\n%s", bad; else print "  linear: every per-row time within 0.8-1.25x of its series'\'' first row"
  }' "$TSV"
for f in "$GW"/unload_plan_*.txt; do
    [ -s "$f" ] || continue
    echo "  plan of the unload's first genotype delete right after the loads ($(basename "$f" .txt | sed 's/unload_plan_//')):"
    sed 's/^/    /' "$f"
done
