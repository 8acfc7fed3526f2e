#!/usr/bin/env bash
# Scale-out on Citus (CONTRACT §11), run for real: a coordinator and two workers (three local
# clusters, scripts/citus.sh), the extension created on the coordinator (Citus creates it on
# the workers), vcf_distribute(), and loads that must reach the shards. Every answer is
# compared with one node: database "single" on the coordinator's server, the extension
# without Citus, the same files loaded.
#   bash tests/citus/run.sh OUT_DIR
# scripts/test.sh runs it after installing the dev build and the fixtures. If Citus cannot be
# built here it prints "SKIP citus: why" and exits 0 (the summary shows it as skipped).
set -uo pipefail
OUT=${1:-/tmp/vcf_pg_loader_test/citus}
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
FX=/tmp/vcf_pg_loader_regress
source "$(dirname "$0")/../checks.sh"
why=$(bash "$REPO/scripts/citus.sh" build 2>&1 | tail -3); rc=${PIPESTATUS[0]}
if [ "$rc" = 3 ]; then echo "SKIP citus: $(echo "$why" | grep -m1 'cannot' || echo "$why")"; exit 0; fi
[ "$rc" = 0 ] || { echo "FAIL citus build: $why"; exit 1; }

export CITUS_PORT=54420
C=$CITUS_PORT W1=$((CITUS_PORT + 1)) W2=$((CITUS_PORT + 2))
D="$OUT/cluster"
bash "$REPO/scripts/citus.sh" stop "$D" >/dev/null 2>&1
rm -rf "$OUT"; mkdir -p "$OUT"; chmod 755 "$OUT"
# Keys and load directories on the coordinator only: workers never hold keys.
bash "$REPO/scripts/citus.sh" start "$D" "vcf_pg_loader.phi_key_file = '$FX/keys/a.keys'" \
    "vcf_pg_loader.load_directories = '$FX/data,$FX/local'" || { echo "FAIL citus: cluster start"; exit 1; }
stop() { [ -n "${KEEP:-}" ] || bash "$REPO/scripts/citus.sh" stop "$D"; }
trap stop EXIT

# on PORT DB SQL…: psql as the superuser on one node (socket)
on() { local port=$1 db=$2; shift 2; su postgres -c "psql -X -q -At -v ON_ERROR_STOP=1 -h $D/$(node_dir "$port") -p $port -d $db $(printf '%q ' "$@")" 2>&1; }
node_dir() { case $1 in "$C") echo c ;; "$W1") echo w1 ;; "$W2") echo w2 ;; esac; }
co() { on "$C" dist "$@"; }       # the coordinator, distributed database
one() { on "$C" single "$@"; }    # one node, no Citus
# as ROLE DB SQL: over loopback TCP as a login role (trusted from loopback, like a private network)
as() { local role=$1 db=$2; shift 2; psql -X -q -At -v ON_ERROR_STOP=1 "host=localhost port=$C user=$role dbname=$db" "$@" 2>&1; }

# --- the cluster --------------------------------------------------------------------------
for p in "$C" "$W1" "$W2"; do on "$p" postgres -c "CREATE DATABASE dist" >/dev/null; done
on "$C" postgres -c "CREATE DATABASE single" >/dev/null
for p in "$W1" "$W2"; do on "$p" dist -c "CREATE EXTENSION citus" >/dev/null; done
co -c "CREATE EXTENSION citus" -c "SELECT citus_set_coordinator_host('localhost', $C)" \
   -c "SELECT citus_add_node('localhost', $W1)" -c "SELECT citus_add_node('localhost', $W2)" >/dev/null
check "citus: a coordinator and two workers" "2" "$(co -c "SELECT count(*) FROM pg_dist_node WHERE groupid <> 0 AND isactive")"
out=$(co -c "CREATE EXTENSION vcf_pg_loader"); one -c "CREATE EXTENSION vcf_pg_loader" >/dev/null
check "CREATE EXTENSION on the coordinator creates it on both workers" "0.5.0 0.5.0" \
    "$(for p in "$W1" "$W2"; do on "$p" dist -c "SELECT extversion FROM pg_extension WHERE extname = 'vcf_pg_loader'"; done | tr '\n' ' ' | sed 's/ $//')"
[ -n "$out" ] && echo "  (create extension said: $out)"

# --- distribute a database that already holds a load ----------------------------------------
FILES=$(cd "$FX/data" && ls *.vcf *.vcf.gz | grep -v '^empty' | sort)
FIRST=mutect2_chr22.vcf.gz
co -c "SELECT variants FROM vcf_load('$FX/data/$FIRST')" >/dev/null
check "vcf_distribute() refuses a non-superuser (42501)" "42501" \
    "$(co -c "CREATE ROLE dist_loader LOGIN IN ROLE vcf_loader" >/dev/null; as dist_loader dist -c "\\set VERBOSITY sqlstate" -c "SELECT * FROM vcf_distribute()" | tail -1 | awk '{print $NF}')"
check "vcf_distribute() refuses where Citus is absent (0A000)" "0A000" \
    "$(one -c "\\set VERBOSITY sqlstate" -c "SELECT * FROM vcf_distribute()" | tail -1 | awk '{print $NF}')"
layout=$(co -c "SELECT relation || ': ' || layout FROM vcf_distribute(8)")
echo "$layout" | sed 's/^/  /'
check "vcf_distribute(8): variants and genotypes distributed and colocated on variant_id" "vcf.genotypes h variant_id 8|vcf.variants h variant_id 8" \
    "$(co -c "SELECT string_agg(logicalrelid::text || ' ' || partmethod::text || ' ' || column_to_column_name(logicalrelid, partkey) || ' ' ||
                                (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid), '|' ORDER BY logicalrelid::text)
                FROM pg_dist_partition p WHERE logicalrelid IN ('vcf.variants'::regclass, 'vcf.genotypes'::regclass)")"
check "vcf_distribute: the two share one colocation group" "1" \
    "$(co -c "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE logicalrelid IN ('vcf.variants'::regclass, 'vcf.genotypes'::regclass)")"
check "vcf_distribute: load_batches, samples, load_blocks are reference tables" "vcf.load_batches vcf.load_blocks vcf.samples" \
    "$(co -c "SELECT string_agg(logicalrelid::text, ' ' ORDER BY logicalrelid::text) FROM pg_dist_partition WHERE partmethod = 'n' AND logicalrelid::text LIKE 'vcf.%'")"
check "vcf_distribute: no phi_vault table is known to Citus" "0" \
    "$(co -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'phi_vault.%'")"
check "vcf_distribute again: no change, no error" "$layout" "$(co -c "SELECT relation || ': ' || layout FROM vcf_distribute(8)")"
check "the owner role: NOLOGIN on the coordinator, LOGIN on the workers" "f t t" \
    "$(for p in "$C" "$W1" "$W2"; do on "$p" dist -c "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'vcf_pg_loader_owner'"; done | tr '\n' ' ' | sed 's/ $//')"
check "the owner's worker password: not accepted without it (scram)" "refused" \
    "$(psql -X -At "host=localhost port=$W1 user=vcf_pg_loader_owner dbname=dist" -c 'SELECT 1' </dev/null >/dev/null 2>&1 && echo accepted || echo refused)"
check "the owner's worker password: only in the coordinator's pg_dist_authinfo, hidden from loaders" "1 0 0 permission denied" \
    "$(co -c "SELECT count(*) FROM pg_dist_authinfo WHERE rolename = 'vcf_pg_loader_owner'") $(on "$W1" dist -c "SELECT count(*) FROM pg_dist_authinfo") $(on "$W2" dist -c "SELECT count(*) FROM pg_dist_authinfo") $(as dist_loader dist -c "SELECT * FROM pg_dist_authinfo" | grep -o 'permission denied' | head -1)"
check "the first load moved to the shards: the coordinator's shell tables hold no rows" "0" \
    "$(co -c "SELECT sum(pg_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'vcf'::regnamespace AND c.relkind = 'r' AND (c.relname LIKE 'variants%' OR c.relname = 'genotypes')")"
