-- vcf_pg_loader, the extension-only part (runs after the library's generated functions): the
-- online rotation procedure, who may call the library's functions (CONTRACT §4 "Who may
-- call"), pg_dump marks. The schema itself is sql/schema.sql and sql/client_api.sql, shared
-- with `vcf-pg-loader init-db`.

-- Procedures that COMMIT cannot carry a SET clause: the body names everything with its
-- schema (operators included), so a caller's search_path finds nothing of its own.
CREATE PROCEDURE @extschema@.phi_rotate_key_online(batch_size integer DEFAULT 1000)
LANGUAGE plpgsql AS $$
DECLARE
    n pg_catalog.int8;
    total pg_catalog.int8 := 0;
BEGIN
    LOOP
        n := @extschema@.phi_rotate_key_batch(batch_size);
        total := total OPERATOR(pg_catalog.+) n;
        COMMIT;
        EXIT WHEN n OPERATOR(pg_catalog.=) 0;
    END LOOP;
    RAISE NOTICE 'phi_rotate_key_online: % rows re-encrypted under the active key', total;
END $$;
COMMENT ON PROCEDURE @extschema@.phi_rotate_key_online(integer) IS
    'Re-encrypt stale mapping rows under the active key, committing after each batch (short locks, resumable); the last pass waits for concurrent loads and locked rows';

REVOKE ALL ON FUNCTION @extschema@.phi_decrypt(bytea, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.phi_reverse_lookup(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.phi_lookup(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.phi_clear_plaintext() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.phi_rotate_key(integer, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.phi_rotate_key_batch(integer) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.phi_rotate_key_online(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.phi_encryption_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.phi_encrypt(text, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.phi_blind_index(text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION @extschema@.phi_decrypt(bytea, bytea) TO phi_admin;
-- phi_viewer may call reverse lookup only to be refused *and audited* (in the server log).
GRANT EXECUTE ON FUNCTION @extschema@.phi_reverse_lookup(uuid, text) TO phi_admin, phi_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.phi_lookup(text) TO phi_admin;
GRANT EXECUTE ON FUNCTION @extschema@.phi_clear_plaintext() TO phi_admin;
GRANT EXECUTE ON FUNCTION @extschema@.phi_rotate_key(integer, boolean) TO phi_admin;
GRANT EXECUTE ON FUNCTION @extschema@.phi_rotate_key_batch(integer) TO phi_admin;
GRANT EXECUTE ON PROCEDURE @extschema@.phi_rotate_key_online(integer) TO phi_admin;
GRANT EXECUTE ON FUNCTION @extschema@.phi_encryption_status() TO phi_admin, phi_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.phi_encrypt(text, bytea) TO phi_admin;
GRANT EXECUTE ON FUNCTION @extschema@.phi_blind_index(text) TO phi_admin;

-- vcf_load reads server files: vcf_loader members under vcf_pg_loader.load_directories,
-- pg_read_server_files members and superusers any (checked again inside, for the caller).
REVOKE ALL ON FUNCTION @extschema@.vcf_load(text, boolean, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.vcf_load(text, boolean, boolean, text) TO vcf_loader, pg_read_server_files;
REVOKE ALL ON FUNCTION @extschema@.vcf_unload(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.vcf_unload(uuid) TO vcf_loader, pg_read_server_files;
REVOKE ALL ON FUNCTION @extschema@.vcf_validate(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.vcf_validate(uuid) TO vcf_loader, pg_read_server_files;
-- vcf_distribute changes the cluster's layout and credentials: superusers only (checked
-- again inside).
REVOKE ALL ON FUNCTION @extschema@.vcf_distribute(integer) FROM PUBLIC;

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
                AND c.oid NOT IN ('phi_vault.audit_chain_head'::pg_catalog.regclass,   -- rebuilt on restore
                                  'vcf.forgotten_genotype_pages'::pg_catalog.regclass) -- one transaction's
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(r.rel, '');
    END LOOP;
END $$;
-- The audit log is dumped in chain order, so pg_restore replays it as a chain.
SELECT pg_catalog.pg_extension_config_dump('phi_vault.audit_log', 'ORDER BY chain_seq');

-- Every object explains itself in \df+ / \dt+ (tests/pg_regress/sql/12_catalog.sql fails when
-- one does not).
COMMENT ON FUNCTION @extschema@.vcf_load(text, boolean, boolean, text) IS
    'Load a VCF (.vcf/.vcf.gz; plain, gzip or BGZF) from the server file system into vcf.*, sample names replaced by pseudonyms; all or nothing. force replaces an earlier load of the same content; "normalize" trims shared bases; genotypes: all | carriers | none. Needs vcf_loader (files under vcf_pg_loader.load_directories) or pg_read_server_files.';
COMMENT ON FUNCTION @extschema@.vcf_validate(uuid) IS
    'Check a load: stored counts vs rows present, and (if the file is still there) its SHA-256, records, ALT alleles and genotype rows counted again from the file.';
COMMENT ON FUNCTION @extschema@.vcf_unload(uuid) IS
    'Delete a load''s variants and genotypes (pseudonym mappings stay: they are immutable). Returns the rows removed.';
COMMENT ON FUNCTION @extschema@.vcf_distribute(integer) IS
    'On a Citus coordinator: distribute vcf.variants and vcf.genotypes on variant_id (colocated), make the other vcf tables reference tables, keep phi_vault on the coordinator, and give the owner role a worker-only login. Superusers; run again after citus_add_node. docs/scaling.md.';
COMMENT ON FUNCTION @extschema@.vcf_pg_loader_version() IS 'Version of the loaded vcf_pg_loader library.';
COMMENT ON FUNCTION @extschema@.phi_encrypt(text, bytea) IS
    'AES-256-GCM envelope (format v1: version, key id, nonce, ciphertext, tag) of a text under the active PHI key; context is bound as associated data. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_decrypt(bytea, bytea) IS
    'Decrypt a phi_encrypt envelope with the key its key id names; the same context is required. A reveal: needs vcf_pg_loader.reveal_reason set in the session, audited once per statement; refused over TCP without TLS when require_ssl is on. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_key_id(bytea) IS 'The key id (8 hex digits) an envelope was encrypted under, without decrypting it.';
COMMENT ON FUNCTION @extschema@.phi_blind_index(text) IS 'HMAC-SHA-256 of an identifier under a key derived from the active PHI key: equality search without decryption. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_generate_key() IS 'A new random 256-bit key, base64, for a key file line. Write it to a file; never paste it into SQL.';
COMMENT ON FUNCTION @extschema@.phi_encryption_status() IS 'Configured key ids (active first), where keys come from, mapping rows per key id, and warnings (plaintext kept, key file inside the data directory).';
COMMENT ON FUNCTION @extschema@.phi_lookup(text) IS 'Pseudonyms (anonymous_id) of a sample name, found by blind index; audited. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_reverse_lookup(uuid, text) IS 'The sample name behind a pseudonym, for a stated reason; audited (refusals in the server log). phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_clear_plaintext() IS 'Erase original_id plaintext kept by phi_store_plaintext; returns rows cleared. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_rotate_key(integer, boolean) IS 'Re-encrypt (and re-index) every mapping row not under the active key, batch_size rows at a time, in this transaction; dry_run counts. Resumable. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_rotate_key_batch(integer) IS 'One transaction of phi_rotate_key_online: the next batch of rows not under the active key (key order, no row locks held while encrypting), or the last pass (waits for loads and locked rows); 0 when none remain.';
