#!/usr/bin/env bash
# Upgrade and backup, end to end, as a DBA does them. scripts/test.sh runs this inside a
# throw-away cluster (pg_virtualenv sets PGHOST/PGPORT/PGUSER); it prints one line per check
# and exits non-zero if any fails.
#   1. CREATE EXTENSION … VERSION '0.1.0' (the first release), load data, ALTER EXTENSION
#      UPDATE: data, reveals and loads still work, and the catalog equals a fresh install's.
#   2. pg_dump -Fc, pg_restore into a new database: rows, the vault and the audit chain
#      (with its original times) come back; the dump holds no key bytes.
set -uo pipefail
FX=/tmp/vcf_pg_loader_regress
OUT=${1:-/tmp/vcf_pg_loader_test/ecosystem}
mkdir -p "$OUT"
export PGOPTIONS="-c vcf_pg_loader.phi_key_file=$FX/keys/a.keys -c client_min_messages=warning"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
source "$(dirname "$0")/../checks.sh"
# Everything that makes up the installed extension: members, their comments and definitions.
CATALOG="SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
  SELECT pg_describe_object(classid, objid, objsubid) || ' ' ||
         coalesce(obj_description(objid, (SELECT relname FROM pg_class WHERE oid = classid)), '') || ' ' ||
         CASE WHEN classid = 'pg_proc'::regclass THEN pg_get_functiondef(objid) ELSE '' END AS x
    FROM pg_depend WHERE deptype = 'e' AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vcf_pg_loader')
  UNION ALL SELECT 'config ' || count(*) FROM pg_extension, unnest(extconfig) WHERE extname = 'vcf_pg_loader') s"
COUNTS="SELECT concat_ws(' ', (SELECT count(*) FROM vcf.load_batches), (SELECT count(*) FROM vcf.variants),
  (SELECT count(*) FROM vcf.genotypes), (SELECT count(*) FROM phi_vault.sample_id_mapping),
  (SELECT count(*) FROM phi_vault.audit_log), (SELECT max(at) FROM phi_vault.audit_log))"

for db in eco_up eco_new eco_restored; do dropdb --if-exists "$db"; createdb "$db"; done

# --- 1. upgrade from 0.1.0 ------------------------------------------------------------
q -d eco_up -c "CREATE EXTENSION vcf_pg_loader VERSION '0.1.0'"
check "installed 0.1.0" 0.1.0 "$(q -d eco_up -c "SELECT extversion FROM pg_extension WHERE extname = 'vcf_pg_loader'")"
q -d eco_up -c "SELECT variants FROM vcf_load('$FX/data/mutect2_chr22.vcf.gz')" >/dev/null
before=$(q -d eco_up -c "$COUNTS")
q -d eco_up -c "ALTER EXTENSION vcf_pg_loader UPDATE"
check "updated to the current version" "$(sed -n 's/^version = "\(.*\)"/\1/p' "$(dirname "$0")/../../Cargo.toml" | head -1)" \
    "$(q -d eco_up -c "SELECT extversion FROM pg_extension WHERE extname = 'vcf_pg_loader'")"
check "rows unchanged by the update" "$before" "$(q -d eco_up -c "$COUNTS")"
check "validate after update" "t" "$(q -d eco_up -c "SELECT bool_and(ok) FROM vcf_validate((SELECT load_batch_id FROM vcf.load_batches))")"
check "reveal after update" "t" "$(q -d eco_up -c "SELECT phi_reverse_lookup(anonymous_id, 'upgrade test') IS NOT NULL FROM vcf.samples LIMIT 1")"
check "load after update" "9" "$(q -d eco_up -c "SELECT variants FROM vcf_load('$FX/data/sarscov2.vcf.gz')")"
q -d eco_new -c "CREATE EXTENSION vcf_pg_loader"
check "updated catalog = fresh install's catalog" "$(q -d eco_new -c "$CATALOG")" "$(q -d eco_up -c "$CATALOG")"
check "audit chain after update" "t" "$(q -d eco_up -c "SELECT ok FROM phi_vault.verify_audit_chain()")"

# --- 2. dump and restore ------------------------------------------------------------------
pg_dump -Fc -d eco_up -f "$OUT/eco.dump"
pg_restore -d eco_restored "$OUT/eco.dump" 2> "$OUT/restore.err"
check "pg_restore without errors" "" "$(grep -v '^$' "$OUT/restore.err" | head -3)"
check "rows, mappings and audit (with times) restored" "$(q -d eco_up -c "$COUNTS")" "$(q -d eco_restored -c "$COUNTS")"
check "restored audit chain verifies" "t" "$(q -d eco_restored -c "SELECT ok FROM phi_vault.verify_audit_chain()")"
check "reveal on the restored database" \
    "$(q -d eco_up -c "SELECT phi_reverse_lookup(anonymous_id, 'restore test') FROM vcf.samples ORDER BY anonymous_id LIMIT 1")" \
    "$(q -d eco_restored -c "SELECT phi_reverse_lookup(anonymous_id, 'restore test') FROM vcf.samples ORDER BY anonymous_id LIMIT 1")"
check "load into the restored database" "140" "$(q -d eco_restored -c "SELECT variants FROM vcf_load('$FX/data/strelka_indels_chr22.vcf.gz')")"
check "audit chain after new entries" "t" "$(q -d eco_restored -c "SELECT ok FROM phi_vault.verify_audit_chain()")"
pg_restore -f "$OUT/eco.sql" "$OUT/eco.dump"
key=$(cat "$FX/keys/a.keys")
keyhex=$(base64 -d "$FX/keys/a.keys" | xxd -p | tr -d '\n')
check "no key (base64 or hex) in the dump" "0" "$(grep -c -e "$key" -e "$keyhex" "$OUT/eco.sql")"
check "no sample name in the dump" "0" "$(grep -c -e 'HCC1395_HCC1395N' -e 'HCC1395_HCC1395T' "$OUT/eco.sql")"

summary ecosystem
