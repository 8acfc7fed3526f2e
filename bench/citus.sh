#!/usr/bin/env bash
# Scale-out benchmark (docs/scaling.md): vcf_load throughput on one node vs a Citus coordinator
# with two workers, and the latency of a region, a gene and a carriers query on each — on
# this machine (all three nodes share its cores: correctness is the point, numbers are
# reported, not promised). Its own clusters (scripts/citus.sh, port BENCH_CITUS_PORT=54430).
#   bash bench/citus.sh            (make bench runs it; after make demo)
# Data: gen_vcf cohort BENCH_CITUS_RECORDS=20000 x BENCH_CITUS_SAMPLES=100 (2 M genotype rows).
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
REC=${BENCH_CITUS_RECORDS:-20000}
SAM=${BENCH_CITUS_SAMPLES:-100}
WORK=${BENCH_WORK:-/var/tmp/vcf_pg_loader_bench}/citus
export CITUS_PORT=${BENCH_CITUS_PORT:-54430}
C=$CITUS_PORT W1=$((C + 1)) W2=$((C + 2))
bash "$REPO/scripts/citus.sh" build || { echo "citus bench: skipped (Citus cannot be built here)"; exit 0; }
install -d -m 0755 "$WORK"; install -d -o postgres -g postgres -m 0700 "$WORK/keys"
as_pg "umask 077; [ -s $WORK/keys/bench.keys ] || head -c 32 /dev/urandom | base64 > $WORK/keys/bench.keys"
(cd "$REPO" && cargo build -q --release -p vcf_pg_loader_core --example gen_vcf)
F=$WORK/cohort_${REC}x$SAM.vcf.gz
[ -s "$F" ] || "$CARGO_TARGET_DIR/release/examples/gen_vcf" cohort "$REC" "$SAM" | bgzip -@2 > "$F"; chmod 0644 "$F"
D=$WORK/cluster
bash "$REPO/scripts/citus.sh" stop "$D" >/dev/null 2>&1 || true; rm -rf "$D"
bash "$REPO/scripts/citus.sh" start "$D" "vcf_pg_loader.phi_key_file = '$WORK/keys/bench.keys'" "vcf_pg_loader.load_directories = '$WORK'" "fsync = on"
trap 'bash "$REPO/scripts/citus.sh" stop "$D"' EXIT
dir_of() { case $1 in "$C") echo c ;; "$W1") echo w1 ;; "$W2") echo w2 ;; esac; }
on() { local port=$1 db=$2; shift 2; as_pg "psql -X -q -At -v ON_ERROR_STOP=1 -h $D/$(dir_of "$port") -p $port -d $db $(printf '%q ' "$@")"; }
for p in "$C" "$W1" "$W2"; do on "$p" postgres -c "CREATE DATABASE dist"; done
on "$C" postgres -c "CREATE DATABASE single"
for p in "$W1" "$W2"; do on "$p" dist -c "CREATE EXTENSION citus"; done
on "$C" dist -c "CREATE EXTENSION citus" -c "SELECT citus_set_coordinator_host('localhost', $C)" \
    -c "SELECT citus_add_node('localhost', $W1)" -c "SELECT citus_add_node('localhost', $W2)" -c "CREATE EXTENSION vcf_pg_loader" >/dev/null
on "$C" dist -c "SELECT count(*) FROM vcf_distribute()" >/dev/null
for p in "$W1" "$W2"; do echo "  owner login on worker $p: $(on "$p" dist -c "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'vcf_pg_loader_owner'")"; done
on "$C" single -c "CREATE EXTENSION vcf_pg_loader"
for p in "$W1" "$W2"; do echo "  owner login on worker $p: $(on "$p" dist -c "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'vcf_pg_loader_owner'")"; done

secs() { # secs DB SQL: server-side wall seconds of one statement
    as_pg "psql -X -q -At -v ON_ERROR_STOP=1 -h $D/c -p $C -d $1" <<SQL | tail -1
SELECT clock_timestamp() AS t0 \gset
$2;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 4);
SQL
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
say "loading $F ($REC records x $SAM samples) on one node and on the cluster"
declare -A LOAD ROWS
for db in single dist; do
    t=()
    for i in 1 2 3; do
        on "$C" "$db" -c "SELECT count(*) FROM (SELECT vcf_unload(load_batch_id) FROM vcf.load_batches) u" >/dev/null
        t+=("$(secs "$db" "SELECT * FROM vcf_load('$F')")")
    done
    LOAD[$db]=$(printf '%s\n' "${t[@]}" | median)
    ROWS[$db]=$(on "$C" "$db" -c "SELECT (SELECT count(*) FROM vcf.variants) + (SELECT count(*) FROM vcf.genotypes)")
    on "$C" "$db" -c "ANALYZE"
done
SITE=$(on "$C" single -c "SELECT chrom || ' ' || pos || ' ' || ref || ' ' || alt FROM vcf.variants WHERE af > 0.05 ORDER BY variant_id LIMIT 1")
read -r chrom pos ref alt <<<"$SITE"
GENE=$(on "$C" single -c "SELECT gene FROM vcf.variants WHERE gene IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
declare -A Q=(
  [region]="SELECT count(*) FROM vcf.variants WHERE chrom = '$chrom' AND pos BETWEEN $pos AND $pos + 1000000"
  [gene]="SELECT count(*) FROM vcf.variants WHERE gene = '${GENE:-none}'"
  [carriers]="SELECT count(*) FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id) WHERE v.chrom = '$chrom' AND v.pos = $pos AND v.ref = '$ref' AND v.alt = '$alt' AND g.alt_dosage > 0"
)
declare -A LAT ANS
for db in single dist; do
    for q in region gene carriers; do
        ANS[$db.$q]=$(on "$C" "$db" -c "${Q[$q]}")
        LAT[$db.$q]=$(for i in 1 2 3 4 5; do secs "$db" "${Q[$q]}"; done | median)
    done
done
say "results ($(nproc) cores; coordinator + 2 workers on this one machine; median of 3 loads, 5 queries)"
printf '  %-44s %12s %12s\n' "" "one node" "coord+2 wk"
printf '  %-44s %12s %12s\n' "vcf_load, seconds" "${LOAD[single]}" "${LOAD[dist]}"
printf '  %-44s %12.0f %12.0f\n' "vcf_load, rows/s" "$(awk -v r="${ROWS[single]}" -v s="${LOAD[single]}" 'BEGIN {print r / s}')" "$(awk -v r="${ROWS[dist]}" -v s="${LOAD[dist]}" 'BEGIN {print r / s}')"
for q in region gene carriers; do
    printf '  %-44s %12s %12s   (answer %s / %s)\n' "$q query, ms" "$(awk -v s="${LAT[single.$q]}" 'BEGIN {print s * 1000}')" "$(awk -v s="${LAT[dist.$q]}" 'BEGIN {print s * 1000}')" "${ANS[single.$q]}" "${ANS[dist.$q]}"
done
