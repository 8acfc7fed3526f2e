-- vcf_pg_loader 0.1.0 → 0.2.0 (ALTER EXTENSION vcf_pg_loader UPDATE).
-- 0.2.0 adds no SQL function signatures (the COPY fast path and vcf_pg_loader.load_method
-- live in the library). What changes in the catalog:
--   * the audit chain trigger keeps rows that already continue the chain (pg_restore), so a
--     restored audit log keeps its times and verifies unchanged;
--   * every table and sequence is marked for pg_dump (0.1.0 dumps lost the extension's rows);
--   * every object has a COMMENT.
-- tests/ecosystem/run.sh installs 0.1.0, loads data, runs this update and compares the
-- catalog with a fresh 0.2.0 install.

CREATE OR REPLACE FUNCTION phi_vault.audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    last bytea;
BEGIN
    -- One writer at a time extends the chain; held to commit, so entries are written at the
    -- end of each audited operation to keep the wait short.
    PERFORM pg_advisory_xact_lock(7366301, 1);
    SELECT hash INTO last FROM phi_vault.audit_log ORDER BY audit_id DESC LIMIT 1;
    -- A row that already continues the chain (pg_restore replaying a dump, in order) keeps
    -- its time and hash, so restored history verifies unchanged. Only the owner inserts here.
    IF NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT DISTINCT FROM last
       AND NEW.hash = phi_vault.audit_row_hash(NEW.prev_hash, NEW.audit_id, NEW.at, NEW."session_user",
                                               NEW."current_user", NEW.client_addr, NEW.operation, NEW.detail) THEN
        RETURN NEW;
    END IF;
    NEW.prev_hash := last;
    NEW.at := clock_timestamp();
    NEW.hash := phi_vault.audit_row_hash(NEW.prev_hash, NEW.audit_id, NEW.at, NEW."session_user",
                                         NEW."current_user", NEW.client_addr, NEW.operation, NEW.detail);
    RAISE LOG 'vcf_pg_loader audit: % %', NEW.operation, NEW.detail::text;
    RETURN NEW;
END $$;

-- pg_dump skips the rows of an extension's tables unless they are marked: mark every table and
-- sequence of ours (partitions included), so a dump holds the loads, the vault (ciphertext)
-- and the audit log (docs/operations.md). Keys are never in the database, so never in a dump.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS rel
               FROM pg_class c
               JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
               JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vcf_pg_loader'
              WHERE c.relkind IN ('r', 'S')
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(r.rel, '');
    END LOOP;
END $$;

-- Every object explains itself in \df+ / \dt+ (tests/pg_regress/sql/12_catalog.sql fails when
-- one does not).
COMMENT ON FUNCTION @extschema@.vcf_load(text, boolean, boolean, text) IS
    'Load a VCF (.vcf/.vcf.gz; plain, gzip or BGZF) from the server file system into vcf.*, sample names replaced by pseudonyms; all or nothing. force replaces an earlier load of the same content; "normalize" trims shared bases; genotypes: all | carriers | none. Needs pg_read_server_files.';
COMMENT ON FUNCTION @extschema@.vcf_validate(uuid) IS
    'Check a load: stored counts vs rows present, and (if the file is still there) its SHA-256, records, ALT alleles and genotype rows counted again from the file.';
COMMENT ON FUNCTION @extschema@.vcf_unload(uuid) IS
    'Delete a load''s variants and genotypes (pseudonym mappings stay: they are immutable). Returns the rows removed.';
COMMENT ON FUNCTION @extschema@.vcf_pg_loader_version() IS 'Version of the loaded vcf_pg_loader library.';
COMMENT ON FUNCTION @extschema@.phi_encrypt(text, bytea) IS
    'AES-256-GCM envelope (format v1: version, key id, nonce, ciphertext, tag) of a text under the active PHI key; context is bound as associated data. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_decrypt(bytea, bytea) IS
    'Decrypt a phi_encrypt envelope with the key its key id names; the same context is required. Refused over TCP without TLS when require_ssl is on. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_key_id(bytea) IS 'The key id (8 hex digits) an envelope was encrypted under, without decrypting it.';
COMMENT ON FUNCTION @extschema@.phi_blind_index(text) IS 'HMAC-SHA-256 of an identifier under a key derived from the active PHI key: equality search without decryption. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_generate_key() IS 'A new random 256-bit key, base64, for a key file line. Write it to a file; never paste it into SQL.';
COMMENT ON FUNCTION @extschema@.phi_encryption_status() IS 'Configured key ids (active first), where keys come from, mapping rows per key id, and warnings (plaintext kept, key file inside the data directory).';
COMMENT ON FUNCTION @extschema@.phi_lookup(text) IS 'Pseudonyms (anonymous_id) of a sample name, found by blind index; audited. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_reverse_lookup(uuid, text) IS 'The sample name behind a pseudonym, for a stated reason; audited (refusals in the server log). phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_clear_plaintext() IS 'Erase original_id plaintext kept by phi_store_plaintext; returns rows cleared. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_rotate_key(integer, boolean) IS 'Re-encrypt (and re-index) every mapping row not under the active key, batch_size rows at a time, in this transaction; dry_run counts. Resumable. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_rotate_key_batch(integer) IS 'One batch of phi_rotate_key (FOR UPDATE SKIP LOCKED), used by phi_rotate_key_online between commits.';
COMMENT ON FUNCTION phi_vault.audit_row_hash(bytea, bigint, timestamptz, name, name, inet, text, jsonb) IS 'SHA-256 of one audit row chained to the previous hash; independent of DateStyle and TimeZone.';
COMMENT ON FUNCTION phi_vault.audit_log_chain() IS 'Trigger: extends the audit hash chain (serialized), stamps the time, writes a LOG line.';
COMMENT ON FUNCTION phi_vault.audit_log_append_only() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE of the audit log.';
COMMENT ON FUNCTION phi_vault.sample_id_mapping_guard() IS 'Trigger: mapping rows are immutable except their crypto columns during key rotation.';
COMMENT ON SEQUENCE vcf.variant_id_block_seq IS 'Blocks of 2^20 variant ids: variant_id = nextval * 2^20 + i; a load reserves one block per million rows.';
COMMENT ON SEQUENCE phi_vault.audit_log_audit_id_seq IS 'Identity of phi_vault.audit_log.';
COMMENT ON SEQUENCE phi_vault.sample_id_mapping_mapping_id_seq IS 'Identity of phi_vault.sample_id_mapping.';
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS rel, pg_get_expr(c.relpartbound, c.oid) AS bound
               FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'vcf.variants'::regclass
    LOOP
        EXECUTE format('COMMENT ON TABLE %s IS %L', r.rel, 'Partition of vcf.variants: ' || r.bound);
    END LOOP;
END $$;
