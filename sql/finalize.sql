-- vcf_pg_loader schema, part 2 (runs after the generated functions): the online rotation
-- procedure and who may call what (CONTRACT §4 "Who may call").

CREATE PROCEDURE @extschema@.phi_rotate_key_online(batch_size integer DEFAULT 1000)
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    total bigint := 0;
BEGIN
    LOOP
        n := @extschema@.phi_rotate_key_batch(batch_size);
        total := total + n;
        COMMIT;
        EXIT WHEN n < batch_size;
    END LOOP;
    RAISE NOTICE 'phi_rotate_key_online: % rows re-encrypted under the active key', total;
END $$;
COMMENT ON PROCEDURE @extschema@.phi_rotate_key_online(integer) IS
    'Re-encrypt stale mapping rows under the active key, committing after each batch (short locks, resumable)';

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

-- vcf_load reads server files: like COPY FROM a file (checked again inside the function).
REVOKE ALL ON FUNCTION @extschema@.vcf_load(text, boolean, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.vcf_load(text, boolean, boolean, text) TO pg_read_server_files;
REVOKE ALL ON FUNCTION @extschema@.vcf_unload(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.vcf_unload(uuid) TO pg_read_server_files;
REVOKE ALL ON FUNCTION @extschema@.vcf_validate(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.vcf_validate(uuid) TO pg_read_server_files;

GRANT USAGE ON SCHEMA vcf TO phi_admin, phi_viewer;
GRANT SELECT ON ALL TABLES IN SCHEMA vcf TO phi_admin, phi_viewer;
GRANT USAGE ON SCHEMA phi_vault TO phi_admin, phi_viewer;
GRANT SELECT ON phi_vault.sample_id_mapping, phi_vault.audit_log TO phi_admin;
GRANT SELECT ON phi_vault.pseudonyms TO phi_admin, phi_viewer;
GRANT EXECUTE ON FUNCTION phi_vault.verify_audit_chain() TO phi_admin;
REVOKE ALL ON FUNCTION phi_vault.verify_audit_chain() FROM PUBLIC;
