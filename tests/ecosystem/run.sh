#!/usr/bin/env bash
# Upgrade and backup, end to end, as a DBA does them. scripts/test.sh runs this inside a
# throw-away cluster (pg_virtualenv sets PGHOST/PGPORT/PGUSER); it prints one line per check
# and exits non-zero if any fails.
#   1. CREATE EXTENSION … VERSION '0.2.0' (and '0.1.0'), rows in the old layout, ALTER
#      EXTENSION UPDATE: rows kept and re-owned, reveals, validate, loads and the audit chain
#      work, and the catalog equals a fresh install's.
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

# The newest update script is generated from sql/client_api.sql and sql/update-0.5.0.sql: the committed one must
# be what the generator makes (one source, no hand edits).
check "sql/vcf_pg_loader--0.4.0--0.5.0.sql = scripts/gen-update-script.sh output" "up to date" \
    "$(bash "$(dirname "$0")/../../scripts/gen-update-script.sh" --check)"
for db in eco_up eco_up1 eco_new eco_restored; do dropdb --if-exists "$db"; createdb "$db"; done

# --- 1. update from the releases ---------------------------------------------------------
# An install as 0.2.0 (and as 0.1.0) left it: rows written by SQL in the old layout, since
# the installed library is the current one and 0.2.0 has no owner role for it to switch to.
OLD_DATA="
INSERT INTO vcf.load_batches (load_batch_id, source_file, file_sha256, file_size, samples, variants, genotypes, records, header)
  VALUES ('11111111-1111-4111-8111-111111111111', '/data/NA12878/NA12878.vcf', 'sha-of-an-old-load', 100, 1, 2, 2, 2,
          E'##fileformat=VCFv4.2\n##GATKCommandLine=<ID=HaplotypeCaller,CommandLine=\"--input /data/NA12878.bam\">\n##bcftools_viewCommand=view -s NA12878 x.vcf\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t22222222-2222-4222-8222-222222222222\n');
INSERT INTO vcf.samples VALUES ('11111111-1111-4111-8111-111111111111', 0, '22222222-2222-4222-8222-222222222222');
INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt, alt_index, info)
  VALUES (1, '11111111-1111-4111-8111-111111111111', 'chr1', 100, 100, 'A', 'G', 1, '{}'),
         (2, '11111111-1111-4111-8111-111111111111', 'chrX', 200, 200, 'C', 'T', 1, '{}');
INSERT INTO vcf.genotypes (variant_id, anonymous_id, gt) VALUES (1, '22222222-2222-4222-8222-222222222222', '0/1'),
                                                               (2, '22222222-2222-4222-8222-222222222222', '1/1');
INSERT INTO phi_vault.sample_id_mapping (anonymous_id, original_id_encrypted, encryption_iv, key_id, original_id_hmac, source_file, file_sha256, load_batch_id)
  SELECT '22222222-2222-4222-8222-222222222222', e, substr(e, 9, 12), phi_key_id(e), phi_blind_index('OLD_PATIENT_1'),
         '/data/NA12878/NA12878.vcf', 'sha-of-an-old-load', '11111111-1111-4111-8111-111111111111'
    FROM (SELECT phi_encrypt('OLD_PATIENT_1', convert_to('22222222-2222-4222-8222-222222222222', 'UTF8')) AS e) x;
INSERT INTO phi_vault.audit_log (operation, detail) VALUES ('load', '{\"load_batch_id\": \"11111111-1111-4111-8111-111111111111\"}'), ('lookup', '{}');"
OWNED="SELECT count(*) FILTER (WHERE relowner <> 'vcf_pg_loader_owner'::regrole) || '/' || count(*) FROM pg_class
  WHERE relnamespace IN ('vcf'::regnamespace, 'phi_vault'::regnamespace) AND relkind IN ('r', 'p', 'v', 'S')"
CURRENT=$(sed -n 's/^version = "\(.*\)"/\1/p' "$(dirname "$0")/../../Cargo.toml" | head -1)
q -d eco_new -c "CREATE EXTENSION vcf_pg_loader"
for pair in "eco_up 0.2.0" "eco_up1 0.1.0"; do
    set -- $pair; db=$1; from=$2
    q -d "$db" -c "CREATE EXTENSION vcf_pg_loader VERSION '$from'"
    check "$from: installed" "$from" "$(q -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'vcf_pg_loader'")"
    q -d "$db" -c "$OLD_DATA"
    before=$(q -d "$db" -c "$COUNTS")
    last=$(q -d "$db" -c "SELECT audit_id || ' ' || encode(hash, 'hex') FROM phi_vault.audit_log ORDER BY audit_id DESC LIMIT 1")
    q -d "$db" -c "ALTER EXTENSION vcf_pg_loader UPDATE"
    check "$from: updated to $CURRENT" "$CURRENT" "$(q -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'vcf_pg_loader'")"
    check "$from: rows unchanged by the update" "$before" "$(q -d "$db" -c "$COUNTS")"
    check "$from: every table, partition, view and sequence owned by vcf_pg_loader_owner" "0/42" "$(q -d "$db" -c "$OWNED")"
    check "$from: updated catalog = fresh install's catalog" "$(q -d eco_new -c "$CATALOG")" "$(q -d "$db" -c "$CATALOG")"
    check "$from: audit chain verifies, anchored at the last row written before the update" "t" \
        "$(q -d "$db" -c "SELECT ok FROM phi_vault.verify_audit_chain(${last%% *}, '\\x${last#* }')")"
    check "$from: an old mapping reveals" "OLD_PATIENT_1" "$(q -d "$db" -c "SELECT phi_reverse_lookup('22222222-2222-4222-8222-222222222222', 'upgrade test')")"
    check "$from: old paths and command lines out of what viewers read" "0 0 2" \
        "$(q -d "$db" -c "SELECT (SELECT count(*) FROM vcf.load_batches WHERE source_file ~ 'NA12878' OR header ~ 'NA12878') || ' ' ||
                               (SELECT count(*) FROM phi_vault.pseudonyms WHERE source_file ~ 'NA12878') || ' ' ||
                               (SELECT count(*) FROM regexp_split_to_table((SELECT header FROM vcf.load_batches WHERE file_sha256 = 'sha-of-an-old-load'), E'\\n') l WHERE l ~ '=<redacted>$')")"
    check "$from: validate an old load (its path kept in the vault)" "t" "$(q -d "$db" -c "SELECT bool_and(ok) FROM vcf_validate('11111111-1111-4111-8111-111111111111')")"
    check "$from: load after update" "9" "$(q -d "$db" -c "SELECT variants FROM vcf_load('$FX/data/sarscov2.vcf.gz')")"
    check "$from: audit chain continues across the update" "t" "$(q -d "$db" -c "SELECT ok FROM phi_vault.verify_audit_chain()")"
    check "$from: owner context after update (a loader loads under load_directories)" "174" \
        "$(q -d "$db" -c "CREATE ROLE eco_loader_$db IN ROLE vcf_loader" \
             -c "SET vcf_pg_loader.load_directories = '$FX/data'" -c "SET ROLE eco_loader_$db" \
             -c "SELECT variants FROM vcf_load('$FX/data/mutect2_chr22.vcf.gz')" -c "RESET ROLE" -c "DROP ROLE eco_loader_$db" | head -1)"
done

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
