#!/usr/bin/env bash
# Command 1: install what is missing, build and install the extension into the local
# PostgreSQL 15, create a database with a fresh key file, load a real VCF, show the result.
#   scripts/setup.sh            full tour (database vcf_demo)
#   scripts/setup.sh --deps     only install missing packages and cargo-pgrx
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_missing
[ "${1:-}" = "--deps" ] && exit 0

say "building and installing vcf_pg_loader (release)"
cd "$REPO"
library_aside
cargo pgrx install --release --pg-config "$PG_CONFIG" | tail -2
say "building and installing the companion CLI vcf-pg-loader (release) to /usr/local/bin"
cargo build --release -p vcf-pg-loader 2>&1 | tail -1
as_root install -m 0755 "$CARGO_TARGET_DIR/release/vcf-pg-loader" /usr/local/bin/vcf-pg-loader
start_cluster

DB=vcf_demo
KEY_DIR=/etc/postgresql/vcf_pg_loader
KEY_FILE=$KEY_DIR/phi.keys
CONF=/etc/postgresql/15/main/conf.d/vcf_pg_loader.conf

say "fresh key file $KEY_FILE (owner postgres, mode 0600)"
as_root install -d -o postgres -g postgres -m 0700 "$KEY_DIR"
if [ ! -s "$KEY_FILE" ]; then
    as_root su postgres -c "umask 077; head -c 32 /dev/urandom | base64 > '$KEY_FILE'"
else
    echo "kept the existing $KEY_FILE (never overwrite a key: data encrypted under it would be lost)"
fi
as_root install -d "$(dirname "$CONF")"
# The library is preloaded (CONTRACT §1): only a loaded library refuses ALTER ROLE/DATABASE … SET
# of key settings and hides postgresql.conf key settings. Appended to what is already there.
PRELOAD=$(psql_pg -Atc "'SHOW shared_preload_libraries'")
case ",${PRELOAD// /}," in *,vcf_pg_loader,*) ;; *) PRELOAD="${PRELOAD:+$PRELOAD,}vcf_pg_loader" ;; esac
LOAD_DIRS="$DATA_DIR,$REPO/tests/data"
printf "# vcf_pg_loader (written by scripts/setup.sh)\nshared_preload_libraries = '%s'\nvcf_pg_loader.phi_key_file = '%s'\n# vcf_loader members may load files under these directories only\nvcf_pg_loader.load_directories = '%s'\n" \
    "$PRELOAD" "$KEY_FILE" "$LOAD_DIRS" | as_root tee "$CONF" >/dev/null
# A restart, not a reload: shared_preload_libraries (and the new library) take effect then.
as_root pg_ctlcluster 15 main restart

say "database $DB"
psql_pg -q -c "'DROP DATABASE IF EXISTS $DB'" -c "'CREATE DATABASE $DB'"
psql_pg -q -d $DB -c "'CREATE EXTENSION vcf_pg_loader'"

VCF="$DATA_DIR/mutect2_chr22.vcf.gz"
[ -r "$VCF" ] || VCF="$REPO/tests/data/small_cohort.vcf"
say "loading $VCF as a member of vcf_loader"
as_root su postgres -c "psql -X -v ON_ERROR_STOP=1 -d $DB" <<SQL
\pset footer off
DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_loader') THEN CREATE ROLE demo_loader IN ROLE vcf_loader; END IF; END \$\$;
\echo '-- the load, as demo_loader (vcf_loader: files under load_directories only; one row per ALT allele;'
\echo '-- sample names become pseudonyms before any row is written)'
SET ROLE demo_loader;
SELECT * FROM vcf_load('$VCF');
RESET ROLE;
\echo '-- the load batch'
SELECT load_batch_id, source_file, file_format, compression, records, variants, genotypes, samples, warnings FROM vcf.load_batches;
\echo '-- variants with pseudonymized genotypes'
SELECT v.chrom, v.pos, v.ref, v.alt, v.filter, g.anonymous_id, g.gt, g.alt_dosage, g.dp, g.ad
  FROM vcf.variants v JOIN vcf.genotypes g USING (variant_id) ORDER BY v.pos, g.anonymous_id LIMIT 6;
\echo '-- the sample names are nowhere in vcf.*; in the vault they are AES-256-GCM envelopes'
SELECT anonymous_id, key_id, length(original_id_encrypted) AS ciphertext_bytes, original_id FROM phi_vault.sample_id_mapping;
\echo '-- encryption status'
\x on
SELECT * FROM phi_encryption_status();
\x off
\echo '-- the audit trail'
SELECT audit_id, operation, detail->>'source_file' AS file, encode(hash, 'hex') AS hash FROM phi_vault.audit_log;
SELECT * FROM phi_vault.verify_audit_chain();
\echo '-- who owns the data: the NOLOGIN, non-superuser owner role the extension acts as'
SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'vcf'::regnamespace;
SQL
# The same work from a client (what RDS users run): the CLI seals names on the client and
# writes by binary COPY; the extension reveals them with the same key file.
CLI_VCF="$DATA_DIR/strelka_snvs_chr22.vcf.gz"
if [ -r "$CLI_VCF" ]; then
    say "the same from a client: vcf-pg-loader load (as postgres, over the local socket, with the same key file)"
    as_pg "VCF_PG_LOADER_PHI_KEY_FILE=$KEY_FILE vcf-pg-loader --db 'host=/var/run/postgresql dbname=$DB' load '$CLI_VCF' --force --no-progress"
    as_pg "VCF_PG_LOADER_PHI_KEY_FILE=$KEY_FILE vcf-pg-loader --db 'host=/var/run/postgresql dbname=$DB' security check-encryption" || true
    psql_pg -d $DB -c "\"SELECT s.sample_index, s.anonymous_id, phi_reverse_lookup(s.anonymous_id, 'setup demo: a CLI load reveals through the extension') AS revealed_by_the_extension FROM vcf.samples s JOIN vcf.load_batches b USING (load_batch_id) WHERE b.source_file LIKE '%strelka_snvs%' ORDER BY 1\""
fi
say "done: psql -d $DB (as postgres) to explore; vcf-pg-loader --help; see README.md for a tour"
