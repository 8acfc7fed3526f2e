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
CLI=${2:-}   # the vcf-pg-loader binary, if built: its loads must be refused clearly here
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
rm -rf "$OUT"; mkdir -p "$OUT/files"; chmod 755 "$OUT" "$OUT/files"
# Keys and load directories on the coordinator only: workers never hold keys.
bash "$REPO/scripts/citus.sh" start "$D" "vcf_pg_loader.phi_key_file = '$FX/keys/a.keys'" \
    "vcf_pg_loader.load_directories = '$FX/data,$FX/local,$OUT/files'" || { echo "FAIL citus: cluster start"; exit 1; }
stop() { [ -n "${KEEP:-}" ] || bash "$REPO/scripts/citus.sh" stop "$D"; }
trap stop EXIT

# on PORT DB SQL…: psql as the superuser on one node (socket)
on() { local port=$1 db=$2; shift 2; su postgres -c "psql -X -q -At -v ON_ERROR_STOP=1 -h $D/$(node_dir "$port") -p $port -d $db $(printf '%q ' "$@")" 2>&1; }
node_dir() { case $1 in "$C") echo c ;; "$W1") echo w1 ;; "$W2") echo w2 ;; esac; }
co() { on "$C" dist "$@"; }       # the coordinator, distributed database
one() { on "$C" single "$@"; }    # one node, no Citus
# as ROLE DB SQL: over loopback TCP as a login role (trusted from loopback, like a private network)
as() { local role=$1 db=$2; shift 2; psql -X -q -At -v ON_ERROR_STOP=1 "host=localhost port=$C user=$role dbname=$db" "$@" 2>&1; }

# as_script ROLE DB < SQL: a psql script (\gset allowed) as ROLE over loopback TCP
as_script() { psql -X -q -At -v ON_ERROR_STOP=1 "host=localhost port=$C user=$1 dbname=$2" 2>&1; }
# worker_as ROLE PORT SQL…: a login role's own connection to a worker
worker_as() { local role=$1 port=$2; shift 2; psql -X -q -At -v ON_ERROR_STOP=1 "host=localhost port=$port user=$role dbname=dist" "$@" 2>&1; }

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
# Workers that log every statement, as a hospital's may: vcf_distribute must leave no
# credential in their logs.
for p in "$W1" "$W2"; do on "$p" dist -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null; done
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
check "one vcf_distribute(): the owner role NOLOGIN on the coordinator, LOGIN on the workers" "f t t" \
    "$(for p in "$C" "$W1" "$W2"; do on "$p" dist -c "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'vcf_pg_loader_owner'"; done | tr '\n' ' ' | sed 's/ $//')"
check "the owner's worker password: not accepted without it (scram)" "refused" \
    "$(psql -X -At "host=localhost port=$W1 user=vcf_pg_loader_owner dbname=dist" -c 'SELECT 1' </dev/null >/dev/null 2>&1 && echo accepted || echo refused)"
check "the owner's worker password: only in the coordinator's pg_dist_authinfo, hidden from loaders" "1 0 0 permission denied" \
    "$(co -c "SELECT count(*) FROM pg_dist_authinfo WHERE rolename = 'vcf_pg_loader_owner'") $(on "$W1" dist -c "SELECT count(*) FROM pg_dist_authinfo") $(on "$W2" dist -c "SELECT count(*) FROM pg_dist_authinfo") $(as dist_loader dist -c "SELECT * FROM pg_dist_authinfo" | grep -o 'permission denied' | head -1)"
check "vcf_distribute again: no change, no error" "$layout" "$(co -c "SELECT relation || ': ' || layout FROM vcf_distribute(8)")"
pwd_=$(co -c "SELECT substring(authinfo FROM 'password=(.*)') FROM pg_dist_authinfo WHERE rolename = 'vcf_pg_loader_owner'")
check "no node's log holds the owner's worker password (workers log every statement)" "0" \
    "$(cat "$D"/*/server.log | grep -cF "$pwd_")"
check "the workers' copies of variants/genotypes: no INSERT for loaders, no row guard (as on the coordinator)" "false false 0 false false 0" \
    "$(for p in "$W1" "$W2"; do on "$p" dist -c "SELECT has_table_privilege('vcf_loader', 'vcf.variants', 'INSERT') || ' ' || has_table_privilege('vcf_loader', 'vcf.genotypes', 'INSERT') || ' ' || (SELECT count(*) FROM pg_trigger WHERE tgname = 'client_rows_guard' AND tgrelid IN ('vcf.variants'::regclass, 'vcf.genotypes'::regclass))"; done | tr '\n' ' ' | sed 's/ $//')"
check "the first load moved to the shards: the coordinator's shell tables hold no rows" "0" \
    "$(co -c "SELECT sum(pg_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'vcf'::regnamespace AND c.relkind = 'r' AND (c.relname LIKE 'variants%' OR c.relname = 'genotypes')")"

# --- every shared file, loaded on the cluster (as a vcf_loader member) and on one node -------
co -c "GRANT pg_read_server_files TO dist_loader" >/dev/null   # the shared files sit outside nothing else
one -c "SELECT variants FROM vcf_load('$FX/data/$FIRST')" >/dev/null
bad=0
for f in $(echo "$FILES" | grep -vx "$FIRST"); do
    a=$(as dist_loader dist -c "SET client_min_messages = warning" -c "SELECT variants || ' ' || genotypes || ' ' || samples FROM vcf_load('$FX/data/$f')")
    b=$(one -c "SET client_min_messages = warning" -c "SELECT variants || ' ' || genotypes || ' ' || samples FROM vcf_load('$FX/data/$f')")
    [ "$a" = "$b" ] || { bad=$((bad + 1)); echo "  $f: cluster '$a', one node '$b'"; }
done
check "every shared file: vcf_load on the coordinator returns what one node returns ($(echo $FILES | wc -w) files)" "0" "$bad"
LOADS="SELECT string_agg(concat_ws(' ', file_sha256, records, variants, genotypes, samples), ',' ORDER BY file_sha256) FROM vcf.load_batches"
check "load_batches: the same loads and counts" "$(one -c "$LOADS")" "$(co -c "$LOADS")"
TOTALS="SELECT (SELECT count(*) FROM vcf.variants) || ' ' || (SELECT count(*) FROM vcf.genotypes) || ' ' || (SELECT count(*) FROM vcf.samples)"
check "distributed counts = one node's counts (variants genotypes samples)" "$(one -c "$TOTALS")" "$(co -c "$TOTALS")"
check "distributed counts = what the loads returned" "t" \
    "$(co -c "SELECT (SELECT sum(variants) FROM vcf.load_batches) = (SELECT count(*) FROM vcf.variants) AND (SELECT sum(genotypes) FROM vcf.load_batches) = (SELECT count(*) FROM vcf.genotypes)")"
check "nothing in the coordinator's shell tables" "0" \
    "$(co -c "SELECT sum(pg_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'vcf'::regnamespace AND c.relkind = 'r' AND (c.relname LIKE 'variants%' OR c.relname = 'genotypes')")"
check "the genotype rows are on the two workers' shards, all of them" "$W1 $W2 $(co -c "SELECT count(*) FROM vcf.genotypes")" \
    "$(co -c "SELECT string_agg(DISTINCT p.nodeport::text, ' ') || ' ' || sum(r.result::bigint) FROM run_command_on_shards('vcf.genotypes', 'SELECT count(*) FROM %s') r
              JOIN pg_dist_shard_placement p USING (shardid) WHERE r.success")"

# Every stored row, compared by content (ids and pseudonyms differ between the two databases:
# samples are compared by their column in the file).
VROWS="SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (SELECT concat_ws('|', b.file_sha256, v.chrom, v.pos, v.end_pos, v.ref, v.alt, v.alt_index, v.id, v.qual, v.filter::text, regexp_replace(v.info::text, '[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}', 'P', 'g'), v.gene, v.consequence, v.impact, v.af, v.source_line) AS x
  FROM vcf.variants v JOIN vcf.load_batches b USING (load_batch_id)) s"
GROWS="SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (SELECT concat_ws('|', b.file_sha256, v.chrom, v.pos, v.ref, v.alt, s.sample_index, g.gt, g.alt_dosage, g.phased, g.dp, g.gq, g.ad::text, g.format::text) AS x
  FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id) JOIN vcf.load_batches b ON b.load_batch_id = v.load_batch_id
  JOIN vcf.samples s ON s.load_batch_id = v.load_batch_id AND s.anonymous_id = g.anonymous_id) t"
check "every variant row equals one node's (digest)" "$(one -c "$VROWS")" "$(co -c "$VROWS")"
check "every genotype row equals one node's (digest)" "$(one -c "$GROWS")" "$(co -c "$GROWS")"

# The three questions a lab asks, as it asks them.
REGION="SELECT string_agg(concat_ws(':', chrom, pos, ref, alt), ' ' ORDER BY chrom, pos, ref, alt) FROM vcf.variants WHERE chrom = 'chr22' AND pos BETWEEN 10000000 AND 30000000"
GENE_OF="SELECT gene FROM vcf.variants WHERE gene IS NOT NULL GROUP BY gene ORDER BY count(*) DESC, gene LIMIT 1"
gene=$(one -c "$GENE_OF")
GENE="SELECT string_agg(concat_ws(':', chrom, pos, ref, alt, consequence), ' ' ORDER BY chrom, pos, ref, alt) FROM vcf.variants WHERE gene = '$gene'"
SITE="SELECT concat_ws(':', v.chrom, v.pos, v.ref, v.alt) FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id) WHERE g.alt_dosage > 0 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
site=$(one -c "$SITE"); IFS=: read -r schrom spos sref salt <<<"$site"
CARRIERS="SELECT string_agg(concat_ws(':', b.file_sha256, s.sample_index, g.gt), ' ' ORDER BY 1) FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id)
  JOIN vcf.load_batches b ON b.load_batch_id = v.load_batch_id JOIN vcf.samples s ON s.load_batch_id = v.load_batch_id AND s.anonymous_id = g.anonymous_id
  WHERE v.chrom = '$schrom' AND v.pos = $spos AND v.ref = '$sref' AND v.alt = '$salt' AND g.alt_dosage > 0"
r1=$(one -c "$REGION"); check "region query (chr22:10-30 Mb, $(echo "$r1" | wc -w) variants): same rows as one node" "$r1" "$(co -c "$REGION")"
r1=$(one -c "$GENE"); check "gene query ($gene, $(echo "$r1" | wc -w) variants): same rows as one node" "$r1" "$(co -c "$GENE")"
r1=$(one -c "$CARRIERS"); check "carriers of $site ($(echo "$r1" | wc -w) calls): same as one node" "$r1" "$(co -c "$CARRIERS")"
# The carriers' names, revealed on the coordinator and on one node: the same people.
CARRIER_IDS="SELECT g.anonymous_id FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id)
  WHERE v.chrom = '$schrom' AND v.pos = $spos AND v.ref = '$sref' AND v.alt = '$salt' AND g.alt_dosage > 0"
# Pushed down to the shards, a reveal would run on a worker (no vault there): refused, and
# nothing is audited on a worker.
check "a reveal inside a distributed query is refused (it would run on a worker): 0A000" "ERROR:  0A000" \
    "$(co -c "\\set VERBOSITY sqlstate" -c "SELECT phi_reverse_lookup(anonymous_id, 'citus test') FROM ($CARRIER_IDS) c" | tail -1)"
NAMES="WITH c AS MATERIALIZED ($CARRIER_IDS) SELECT string_agg(n, ' ' ORDER BY n) FROM (SELECT phi_reverse_lookup(anonymous_id, 'citus test') AS n FROM c) r"
r1=$(one -c "$NAMES"); check "the carriers' pseudonyms, revealed on the coordinator: the same names as on one node ($r1)" "$r1" "$(co -c "$NAMES")"
ALLNAMES="WITH s AS MATERIALIZED (SELECT anonymous_id FROM vcf.samples) SELECT string_agg(n, ' ' ORDER BY n) FROM (SELECT phi_reverse_lookup(anonymous_id, 'citus test') AS n FROM s) r"
check "every sample's pseudonym reveals the same name as on one node" "$(one -c "$ALLNAMES")" "$(co -c "$ALLNAMES")"

# --- attacks by lesser roles on the cluster ---------------------------------------------------
# A loader with a schema of her own makes Citus replay SET LOCAL search_path at the start of
# the owner's worker connections (citus.propagate_set_commands = local), with her own
# lock_shard_resources() that Citus' worker commands call unqualified: it must never run as
# the owner. (Red without vcf.citus_fence: it ran as vcf_pg_loader_owner on the workers.)
co -c "CREATE SCHEMA mallory AUTHORIZATION dist_loader" >/dev/null
as dist_loader dist -c "GRANT USAGE ON SCHEMA mallory TO PUBLIC" -c "CREATE TABLE mallory.seen (who name, port int)" -c "GRANT INSERT ON mallory.seen TO PUBLIC" \
   -c "CREATE FUNCTION mallory.lock_shard_resources(lock_mode integer, shard_id bigint[]) RETURNS void LANGUAGE plpgsql AS \$f\$
       BEGIN
         IF current_user = 'vcf_pg_loader_owner' THEN RAISE LOG 'pwned as % on port %', current_user, inet_server_port(); END IF;
         PERFORM pg_catalog.lock_shard_resources(lock_mode, shard_id);
       END \$f\$" >/dev/null
{ grep '^#' "$FX/data/multiallelic.vcf" | sed '1a ##note=attack' ; grep -v '^#' "$FX/data/multiallelic.vcf"; } > "$OUT/files/attack.vcf"; chmod 0644 "$OUT/files/attack.vcf"
victim=$(co -c "SELECT load_batch_id FROM vcf.load_batches ORDER BY genotypes DESC LIMIT 1")
attack() { # attack FILE: the loader's load with her search_path propagated to the workers
    as_script dist_loader dist <<SQL
SET citus.propagate_set_commands = 'local';
BEGIN;
SET LOCAL search_path = mallory, pg_catalog;
SELECT variants FROM public.vcf_load('$1');
COMMIT;
SQL
}
pwned() { cat "$D"/w1/server.log "$D"/w2/server.log | grep -c 'LOG:  pwned as vcf_pg_loader_owner'; }
# Control: with the fence made a no-op by the superuser, the attack is real (her code runs as
# the owner on the workers); then the fence is put back.
fence=$(co -c "SELECT pg_get_functiondef('vcf.citus_fence()'::regprocedure)")
co -c "CREATE OR REPLACE FUNCTION vcf.citus_fence() RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN RETURN; END \$\$" >/dev/null
attack "$OUT/files/attack.vcf" >/dev/null
seen=$(pwned)
co -c "SELECT vcf_unload(load_batch_id) FROM vcf.load_batches WHERE loaded_by = 'dist_loader' AND file_sha256 = encode(sha256(pg_read_binary_file('$OUT/files/attack.vcf')), 'hex')" >/dev/null
co -c "$fence" >/dev/null
check "control: without the fence a loader's propagated search_path runs her code as the owner on a worker" "t" "$([ "$seen" -gt 0 ] && echo t || echo "$seen")"
out=$(attack "$OUT/files/attack.vcf")
check "with the fence: none of her code runs as the owner on a worker, and her load went through" "$seen t" \
    "$(pwned) $([[ "$(echo "$out" | tail -1)" =~ ^[0-9]+$ ]] && echo t || echo "$out")"
co -c "SELECT vcf_unload(load_batch_id) FROM vcf.load_batches WHERE loaded_by = 'dist_loader' AND file_sha256 = encode(sha256(pg_read_binary_file('$OUT/files/attack.vcf')), 'hex')" >/dev/null
check "… the load went through, and the victim's load is intact" "t" "$(co -c "SELECT bool_and(ok) FROM vcf_validate('$victim')")"
# The client API on a worker: refused, and no audit row there.
co -c "CREATE ROLE dist_admin LOGIN IN ROLE phi_admin" >/dev/null
check "phi_vault.client_reveal on a worker: refused (0A000)" "ERROR:  0A000" \
    "$(worker_as dist_admin "$W1" -c "\\set VERBOSITY sqlstate" -c "SELECT * FROM phi_vault.client_reveal(gen_random_uuid(), 'worker test')" | tail -1)"
check "phi_vault.client_lookup on a worker: refused (0A000)" "ERROR:  0A000" \
    "$(worker_as dist_admin "$W1" -c "\\set VERBOSITY sqlstate" -c "SELECT * FROM phi_vault.client_lookup(ARRAY['\\x00112233445566778899aabbccddeeff'::bytea])" | tail -1)"
check "phi_vault.seal_audit on a worker: refused (0A000)" "ERROR:  0A000" \
    "$(worker_as dist_loader "$W2" -c "\\set VERBOSITY sqlstate" -c "SELECT phi_vault.seal_audit()" | tail -1)"
check "vcf.client_claim_load on a worker: refused (0A000)" "ERROR:  0A000" \
    "$(worker_as dist_loader "$W2" -c "\\set VERBOSITY sqlstate" -c "SELECT * FROM vcf.client_claim_load(repeat('a', 64), 1, '{\"force\": false, \"normalize\": true, \"genotypes\": \"all\"}')" | tail -1)"

# --- what the workers hold -------------------------------------------------------------------
for p in "$W1" "$W2"; do on "$p" dist -c "CHECKPOINT" >/dev/null; done
check "no worker holds a phi_vault row" "0 0" \
    "$(for p in "$W1" "$W2"; do on "$p" dist -c "SELECT (SELECT count(*) FROM phi_vault.sample_id_mapping) + (SELECT count(*) FROM phi_vault.audit_log) + (SELECT count(*) FROM phi_vault.load_sources)"; done | tr '\n' ' ' | sed 's/ $//')"
# The distinctive names (generic ones like "test" or "TUMOR" occur in any catalog).
for f in $FILES; do bcftools query -l "$FX/data/$f" 2>/dev/null; done | sort -u | grep -E '[0-9]' > "$OUT/names"
check "control: the name search finds the names in the files they came from" "t" \
    "$([ -n "$(zcat -f "$FX/data"/* 2>/dev/null | grep -aF -f "$OUT/names" | head -1)" ] && echo t)"
check "no worker's data directory (tables, WAL) holds a sample name ($(wc -l < "$OUT/names") names)" "" \
    "$(grep -rlaF -f "$OUT/names" "$D/w1/data" "$D/w2/data" 2>/dev/null | head -3)"
check "no worker has a key setting" "  " \
    "$(for p in "$W1" "$W2"; do on "$p" dist -c "SELECT current_setting('vcf_pg_loader.phi_key_file', true)"; done | tr '\n' ' ')"

# --- replace, remove, check, rotate: on the cluster ----------------------------------------------
id=$(co -c "SELECT load_batch_id FROM vcf.load_batches b WHERE b.samples = 2 ORDER BY genotypes DESC LIMIT 1")
before=$(co -c "$TOTALS")
check "force reload: the same counts, no row twice" "$before" \
    "$(co -c "SET client_min_messages = warning" -c "SELECT count(*) FROM vcf_load((SELECT '$FX/data/' || f FROM unnest(string_to_array('$(echo $FILES)', ' ')) f
        WHERE encode(sha256(pg_read_binary_file('$FX/data/' || f)), 'hex') = (SELECT file_sha256 FROM vcf.load_batches WHERE load_batch_id = '$id')), force => true)" >/dev/null; co -c "$TOTALS")"
id=$(co -c "SELECT load_batch_id FROM vcf.load_batches b WHERE b.samples = 2 ORDER BY genotypes DESC LIMIT 1")
check "vcf_validate on the cluster: every check ok" "t" "$(co -c "SELECT bool_and(ok) FROM vcf_validate('$id')")"
n=$(co -c "SELECT variants + genotypes FROM vcf.load_batches WHERE load_batch_id = '$id'")
check "vcf_unload on the cluster removes the load's rows from the shards" "$n 0 0" \
    "$(co -c "SELECT vcf_unload('$id')") $(co -c "SELECT count(*) FROM vcf.variants WHERE load_batch_id = '$id'") $(co -c "SELECT count(*) FROM vcf.genotypes g JOIN vcf.load_blocks k ON g.variant_id >= k.block * 1048576 AND g.variant_id < (k.block + 1) * 1048576 WHERE k.load_batch_id = '$id'")"
check "unload: the batch row is gone from every node's copy of the reference table" "0 0 0" \
    "$(for p in "$C" "$W1" "$W2"; do on "$p" dist -c "SELECT count(*) FROM run_command_on_placements('vcf.load_batches', \$\$SELECT count(*) FROM %s WHERE load_batch_id = '$id'\$\$) r WHERE r.result <> '0'" ; done | head -3 | tr '\n' ' ' | sed 's/ $//')"
# Rotation happens in the coordinator's vault: new key b active, a kept for reading.
names=$(co -c "$ALLNAMES")
rot=$(co -c "SET vcf_pg_loader.phi_key_file = '$FX/keys/ba.keys'" -c "SELECT phi_rotate_key()" -c "SELECT count(*) FILTER (WHERE key_id = (SELECT key_id FROM phi_encryption_status() LIMIT 1)) || '/' || count(*) FROM phi_vault.sample_id_mapping" -c "$ALLNAMES")
check "rotation on the coordinator: every mapping under the new key, names unchanged" "$(co -c "SELECT count(*) FROM phi_vault.sample_id_mapping") $(co -c "SELECT count(*) || '/' || count(*) FROM phi_vault.sample_id_mapping") $names" \
    "$(echo "$rot" | tr '\n' ' ' | sed 's/ $//')"

# --- all or nothing across nodes ---------------------------------------------------------------
# 30,000 good records (several INSERT batches reach the shards) and then a broken one.
{ zcat "$FX/data/$FIRST" | grep '^##'; printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tHG01\n'
  awk 'BEGIN { for (i = 1; i <= 30000; i++) printf "chr1\t%d\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n", i; print "chr1\tnotanumber\t.\tA\tG\t50\tPASS\t.\tGT\t0/1" }'; } > "$OUT/files/broken.vcf"
awk 'BEGIN { for (i = 1; i <= 400000; i++) printf "chr2\t%d\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n", i }' > "$OUT/files/body"
{ grep '^#' "$OUT/files/broken.vcf"; cat "$OUT/files/body"; } > "$OUT/files/big.vcf"; rm "$OUT/files/body"
chmod 0644 "$OUT/files/"*
before=$(co -c "$TOTALS") loads=$(co -c "SELECT count(*) FROM vcf.load_batches")
err=$(co -c "SELECT * FROM vcf_load('$OUT/files/broken.vcf')" | head -1)
check "a broken file: the error names file, line and field" "t" "$([[ "$err" =~ broken\.vcf:[0-9]+:\ POS ]] && echo t || echo "$err")"
check "a broken file leaves nothing on any node (rows, loads, prepared transactions)" "$before $loads 0 0" \
    "$(co -c "$TOTALS") $(co -c "SELECT count(*) FROM vcf.load_batches") $(on "$W1" dist -c "SELECT count(*) FROM pg_prepared_xacts") $(on "$W2" dist -c "SELECT count(*) FROM pg_prepared_xacts")"
err=$(co -c "SET statement_timeout = '1500ms'" -c "SELECT * FROM vcf_load('$OUT/files/big.vcf')" | head -1)
check "a cancelled load (statement_timeout) leaves nothing on any node" "canceling statement due to statement timeout|$before $loads 0 0" \
    "$(echo "$err" | grep -o 'canceling statement due to statement timeout')|$(co -c "$TOTALS") $(co -c "SELECT count(*) FROM vcf.load_batches") $(on "$W1" dist -c "SELECT count(*) FROM pg_prepared_xacts") $(on "$W2" dist -c "SELECT count(*) FROM pg_prepared_xacts")"

# Installing the extension in another database of the coordinator (or updating it) must not
# take the workers' login from the owner (Citus propagates ALTER ROLE to the workers).
on "$C" postgres -c "CREATE DATABASE other" >/dev/null; on "$C" other -c "CREATE EXTENSION vcf_pg_loader" >/dev/null
check "CREATE EXTENSION in another database: the owner keeps its worker login, loads still reach the shards" "t t 9" \
    "$(for p in "$W1" "$W2"; do on "$p" dist -c "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'vcf_pg_loader_owner'"; done | tr '\n' ' ')$(co -c "SET client_min_messages = warning" -c "SET vcf_pg_loader.phi_key_file = '$FX/keys/ba.keys'" -c "SELECT variants FROM vcf_load('$FX/data/sarscov2.vcf.gz', force => true)")"

# --- the companion CLI on the coordinator: COPY into guarded local staging tables, moved into
# the distributed tables by the owner when the load finishes -------------------------------------
check "a loader can no longer INSERT into the distributed tables directly" "permission denied" \
    "$(as dist_loader dist -c "INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt, alt_index, info) VALUES (1, gen_random_uuid(), '1', 1, 1, 'A', 'C', 1, '{}')" | grep -o 'permission denied' | head -1)"
check "client rows go to the guarded staging tables here" "vcf.client_variants|vcf.client_genotypes" \
    "$(as dist_loader dist -c "SELECT variants || '|' || genotypes FROM vcf.client_copy_targets()")"
check "rows put into staging outside a claimed load are refused by the guard (42501)" "ERROR:  42501" \
    "$(as dist_loader dist -c "\\set VERBOSITY sqlstate" -c "INSERT INTO vcf.client_variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt, alt_index, info) VALUES (1, gen_random_uuid(), '1', 1, 1, 'A', 'C', 1, '{}')" | tail -1)"
if [ -n "$CLI" ] && [ -x "$CLI" ]; then
    install -m 0600 "$FX/keys/ba.keys" "$OUT/client.key"
    CF=strelka_snvs_chr22.vcf.gz
    co -c "SELECT vcf_unload(load_batch_id) FROM vcf.load_batches WHERE file_sha256 = encode(sha256(pg_read_binary_file('$FX/data/$CF')), 'hex')" >/dev/null
    out=$(VCF_PG_LOADER_PHI_KEY_FILE="$OUT/client.key" "$CLI" --db "postgresql://dist_loader@localhost:$C/dist" --tls-mode disable load "$FX/data/$CF" --no-progress 2>&1); rc=$?
    check "vcf-pg-loader load on the coordinator succeeds" "0" "$rc"
    [ "$rc" = 0 ] || echo "  $out"
    ONE="SELECT variants || ' ' || genotypes || ' ' || samples FROM vcf.load_batches WHERE file_sha256 = encode(sha256(pg_read_binary_file('$FX/data/$CF')), 'hex')"
    check "the CLI's load: the same counts as one node's vcf_load" "$(one -c "$ONE")" "$(co -c "$ONE")"
    check "the CLI's rows reached the shards; the staging tables are empty" "$(one -c "$TOTALS") 0 0" \
        "$(co -c "$TOTALS") $(co -c "SELECT count(*) FROM vcf.client_variants") $(co -c "SELECT count(*) FROM vcf.client_genotypes")"
    check "every variant row equals one node's after the CLI's load (digest)" "$(one -c "$VROWS")" "$(co -c "$VROWS")"
    check "every genotype row equals one node's after the CLI's load (digest)" "$(one -c "$GROWS")" "$(co -c "$GROWS")"
    check "the CLI's pseudonyms reveal the same names on the coordinator" "$(one -c "SET vcf_pg_loader.phi_key_file = '$FX/keys/ba.keys'" -c "$ALLNAMES")" \
        "$(co -c "SET vcf_pg_loader.phi_key_file = '$FX/keys/ba.keys'" -c "$ALLNAMES")"
fi
# A client load of genotype rows without variant rows (last: its junk envelope stays in the
# vault, where rotation could not read it): finish moves them all; staging empty.
out=$(as_script dist_loader dist <<'SQL'
BEGIN;
SELECT load_batch_id AS l FROM vcf.client_claim_load(encode(sha256('citus-strand-test'::bytea), 'hex'), 10, '{"force": false, "normalize": false, "genotypes": "all"}') \gset
SELECT vcf.client_reserve_block(:'l') AS blk \gset
SELECT gen_random_uuid() AS a \gset
SELECT phi_vault.client_add_pseudonyms(:'l', 'x.vcf', ARRAY[:'a'::uuid], ARRAY['\x50480101'::bytea || decode(md5('1') || md5('2') || md5('3'), 'hex')], ARRAY[decode(md5('4'), 'hex')]);
SELECT vcf.client_describe_load(:'l', 'x.vcf', 'VCFv4.2', NULL, NULL, '##fileformat=VCFv4.2', ARRAY[:'a'::uuid]);
INSERT INTO vcf.client_genotypes (variant_id, anonymous_id, gt, alt_dosage) VALUES (:blk * 1048576, :'a', '0/1', 1), (:blk * 1048576 + 1, :'a', '1/1', 2);
SELECT vcf.client_finish_load(:'l', 0, 2, 2, '{}');
COMMIT;
SQL
)
sid=$(co -c "SELECT load_batch_id FROM vcf.load_batches WHERE file_sha256 = encode(sha256('citus-strand-test'::bytea), 'hex')")
[ -n "$sid" ] || echo "  (the client load of genotypes alone failed: $(echo "$out" | tail -3))"
check "a client load of genotypes alone: both rows moved to the shards, staging empty" "0 2" \
    "$(co -c "SELECT count(*) FROM vcf.client_genotypes") $(co -c "SELECT count(*) FROM vcf.genotypes g JOIN vcf.load_blocks k ON g.variant_id >= k.block * 1048576 AND g.variant_id < (k.block + 1) * 1048576 WHERE k.load_batch_id = '$sid'")"
co -c "SELECT vcf_unload('$sid')" >/dev/null
summary citus
