-- vcf_pg_loader 0.2.0 → 0.3.0 (ALTER EXTENSION vcf_pg_loader UPDATE): the privilege model of
-- CONTRACT v2 §9. What changes in the catalog:
--   * roles vcf_loader and vcf_pg_loader_owner (NOLOGIN, never superuser); the owner owns every
--     table, partition, view and sequence, and may use the schemas;
--   * every SQL/PL/pgSQL function and trigger pins search_path = pg_catalog, pg_temp; the
--     online rotation procedure (which COMMITs) names everything with its schema;
--   * the audit chain: ids taken in chain order under a chain-head row (no advisory lock), an
--     anchor in each LOG line, verify_audit_chain(anchor_id, anchor_hash, anchor_xid) replacing
--     the argument-less function;
--   * phi_vault.load_sources keeps each load's real path (earlier loads: the path as given);
--   * vcf_load/vcf_validate/vcf_unload are granted to vcf_loader; phi_decrypt is PARALLEL UNSAFE.
-- The sql/bootstrap.sql and sql/finalize.sql texts these statements repeat are checked equal by
-- tests/ecosystem/run.sh (the updated catalog must equal a fresh install's).

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'phi_admin') THEN
        CREATE ROLE phi_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'phi_viewer') THEN
        CREATE ROLE phi_viewer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vcf_loader') THEN
        CREATE ROLE vcf_loader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vcf_pg_loader_owner') THEN
        CREATE ROLE vcf_pg_loader_owner NOLOGIN;
    END IF;
    ALTER ROLE vcf_pg_loader_owner NOLOGIN NOSUPERUSER NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
END
$roles$;
COMMENT ON ROLE vcf_loader IS 'vcf_pg_loader: may vcf_load files under vcf_pg_loader.load_directories (and unload its own loads)';
COMMENT ON ROLE vcf_pg_loader_owner IS 'vcf_pg_loader: owns the vcf and phi_vault tables; the extension acts as it (NOLOGIN, never superuser)';

CREATE OR REPLACE FUNCTION phi_vault.sample_id_mapping_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'phi_vault.sample_id_mapping rows are immutable and cannot be deleted'
            USING ERRCODE = '42501', HINT = 'vcf_unload() removes genotype data; pseudonym mappings stay by design.';
    END IF;
    IF NEW.mapping_id IS DISTINCT FROM OLD.mapping_id
       OR NEW.anonymous_id IS DISTINCT FROM OLD.anonymous_id
       OR NEW.source_file IS DISTINCT FROM OLD.source_file
       OR NEW.file_sha256 IS DISTINCT FROM OLD.file_sha256
       OR NEW.load_batch_id IS DISTINCT FROM OLD.load_batch_id
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.created_by IS DISTINCT FROM OLD.created_by
       OR (NEW.original_id IS DISTINCT FROM OLD.original_id AND NEW.original_id IS NOT NULL) THEN
        RAISE EXCEPTION 'phi_vault.sample_id_mapping row % is immutable except its crypto columns', OLD.mapping_id
            USING ERRCODE = '42501';
    END IF;
    IF (NEW.original_id_encrypted IS DISTINCT FROM OLD.original_id_encrypted
        OR NEW.encryption_iv IS DISTINCT FROM OLD.encryption_iv
        OR NEW.key_id IS DISTINCT FROM OLD.key_id
        OR NEW.original_id_hmac IS DISTINCT FROM OLD.original_id_hmac)
       AND coalesce(current_setting('vcf_pg_loader.internal_rotation', true), '') <> 'on' THEN
        RAISE EXCEPTION 'crypto columns of phi_vault.sample_id_mapping row % change only through phi_rotate_key()', OLD.mapping_id
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;

-- The audit chain is linked at commit (CONTRACT §4 v2): ids from a plain sequence (was an
-- identity), a chain position per row, the head row, sealing, anchors in LOG lines.
-- (Leaving the extension first takes the old identity sequence out of the pg_dump marks;
-- DROP IDENTITY then drops it.)
ALTER EXTENSION vcf_pg_loader DROP SEQUENCE phi_vault.audit_log_audit_id_seq;
ALTER TABLE phi_vault.audit_log ALTER COLUMN audit_id DROP IDENTITY;
CREATE SEQUENCE phi_vault.audit_log_audit_id_seq OWNED BY phi_vault.audit_log.audit_id;
SELECT pg_catalog.setval('phi_vault.audit_log_audit_id_seq', max(audit_id)) FROM phi_vault.audit_log HAVING max(audit_id) IS NOT NULL;
COMMENT ON SEQUENCE phi_vault.audit_log_audit_id_seq IS 'Audit ids, taken when an audit row is written.';
ALTER TABLE phi_vault.audit_log ALTER COLUMN hash DROP NOT NULL, ADD COLUMN chain_seq bigint UNIQUE;
-- Rows written before 0.3.0 were chained in id order (the append-only trigger steps aside
-- for this one statement of the update).
ALTER TABLE phi_vault.audit_log DISABLE TRIGGER audit_log_no_change;
UPDATE phi_vault.audit_log a SET chain_seq = o.n
  FROM (SELECT audit_id, row_number() OVER (ORDER BY audit_id) AS n FROM phi_vault.audit_log) o
 WHERE a.audit_id = o.audit_id;
ALTER TABLE phi_vault.audit_log ENABLE TRIGGER audit_log_no_change;
COMMENT ON COLUMN phi_vault.audit_log.chain_seq IS 'Position in the hash chain (1, 2, …), given when the row is sealed as its transaction commits; NULL only while that transaction runs';
COMMENT ON TABLE phi_vault.audit_log IS
    'Append-only, hash-chained audit of key operations, rotations, lookups, reveals and loads (HIPAA 164.312(b)). hash = SHA-256(prev_hash || row), linked in commit order. Verify with phi_vault.verify_audit_chain().';
CREATE TABLE phi_vault.audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_seq  bigint NOT NULL DEFAULT 0,
    max_id    bigint NOT NULL DEFAULT 0,
    last_hash bytea
);
INSERT INTO phi_vault.audit_chain_head (last_seq, max_id, last_hash)
    SELECT count(*), coalesce(max(audit_id), 0), (SELECT hash FROM phi_vault.audit_log ORDER BY audit_id DESC LIMIT 1)
      FROM phi_vault.audit_log;
COMMENT ON TABLE phi_vault.audit_chain_head IS 'The end of the audit chain (position, highest id sealed, hash): locked while a commit seals its rows, and a check that the tail was not removed';
-- What one audit row's hash covers, as bytes: a text form independent of DateStyle and
-- TimeZone. The library hashes the same bytes when it seals rows.
CREATE FUNCTION phi_vault.audit_row_payload(id bigint, at timestamptz, su name, cu name,
                                            addr inet, op text, detail jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT convert_to(concat_ws(E'\x1f', id::text, extract(epoch FROM at)::text, su::text, cu::text,
                                coalesce(host(addr), ''), op, detail::text), 'UTF8')
$$;
COMMENT ON FUNCTION phi_vault.audit_row_payload(bigint, timestamptz, name, name, inet, text, jsonb) IS 'The bytes of one audit row that its hash covers (independent of DateStyle and TimeZone).';

-- The hash of one audit row: SHA-256(previous hash || payload).
CREATE OR REPLACE FUNCTION phi_vault.audit_row_hash(prev bytea, id bigint, at timestamptz, su name, cu name,
                                         addr inet, op text, detail jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT sha256(coalesce(prev, ''::bytea) || phi_vault.audit_row_payload(id, at, su, cu, addr, op, detail))
$$;

CREATE OR REPLACE FUNCTION phi_vault.audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    head record;
BEGIN
    -- A row that already continues the chain (pg_restore replaying a dump in chain order)
    -- keeps its id, time, position and hash, so restored history verifies unchanged.
    IF NEW.hash IS NOT NULL THEN
        SELECT last_seq, max_id, last_hash INTO head FROM phi_vault.audit_chain_head FOR UPDATE;
        IF NEW.audit_id IS NOT NULL AND NEW.chain_seq IS NOT DISTINCT FROM head.last_seq + 1
           AND NEW.prev_hash IS NOT DISTINCT FROM head.last_hash
           AND NEW.hash = phi_vault.audit_row_hash(NEW.prev_hash, NEW.audit_id, NEW.at, NEW."session_user",
                                                   NEW."current_user", NEW.client_addr, NEW.operation, NEW.detail) THEN
            UPDATE phi_vault.audit_chain_head
               SET last_seq = NEW.chain_seq, max_id = greatest(max_id, NEW.audit_id), last_hash = NEW.hash;
            RETURN NEW;
        END IF;
    END IF;
    NEW.audit_id := nextval('phi_vault.audit_log_audit_id_seq'::regclass);
    NEW.prev_hash := NULL;
    NEW.hash := NULL;
    NEW.chain_seq := NULL;
    NEW.at := clock_timestamp();
    NEW."session_user" := session_user;
    -- The extension's code (running as the owner) names its caller; anyone else is named here.
    IF NEW."current_user" IS NULL OR current_user <> 'vcf_pg_loader_owner' THEN
        NEW."current_user" := current_user;
    END IF;
    NEW.client_addr := inet_client_addr();
    RAISE LOG 'vcf_pg_loader audit: written audit_id=% xid=% operation=% detail=%',
        NEW.audit_id, pg_current_xact_id(), NEW.operation, NEW.detail::text;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION phi_vault.audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_user = 'vcf_pg_loader_owner'
       AND OLD.hash IS NULL AND OLD.chain_seq IS NULL AND NEW.hash IS NOT NULL AND NEW.chain_seq IS NOT NULL
       AND NEW.audit_id = OLD.audit_id AND NEW.at = OLD.at AND NEW."session_user" = OLD."session_user"
       AND NEW."current_user" = OLD."current_user" AND NEW.client_addr IS NOT DISTINCT FROM OLD.client_addr
       AND NEW.operation = OLD.operation AND NEW.detail = OLD.detail THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'phi_vault.audit_log is append-only (% refused)', TG_OP USING ERRCODE = '42501';
END $$;
DROP FUNCTION phi_vault.verify_audit_chain();
CREATE FUNCTION phi_vault.verify_audit_chain(anchor_id bigint DEFAULT NULL, anchor_hash bytea DEFAULT NULL,
                                             anchor_xid xid8 DEFAULT NULL,
                                             OUT ok boolean, OUT rows_checked bigint, OUT first_bad_audit_id bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    prev bytea := NULL;
    seq bigint := 0;
    head record;
    mine text := (pg_current_xact_id_if_assigned()::text::bigint % 4294967296)::text;
BEGIN
    ok := true; rows_checked := 0;
    FOR r IN SELECT * FROM phi_vault.audit_log WHERE chain_seq IS NOT NULL ORDER BY chain_seq LOOP
        rows_checked := rows_checked + 1;
        seq := seq + 1;
        IF r.chain_seq <> seq OR r.prev_hash IS DISTINCT FROM prev
           OR r.hash IS DISTINCT FROM phi_vault.audit_row_hash(r.prev_hash, r.audit_id, r.at, r."session_user",
                                                               r."current_user", r.client_addr, r.operation, r.detail) THEN
            ok := false; first_bad_audit_id := r.audit_id;
            RETURN;
        END IF;
        prev := r.hash;
    END LOOP;
    -- A row outside the chain that is not this transaction's own pending row was written
    -- around the sealing (triggers disabled).
    SELECT a.audit_id INTO first_bad_audit_id FROM phi_vault.audit_log a
     WHERE a.chain_seq IS NULL AND a.xmin::text IS DISTINCT FROM mine ORDER BY a.audit_id LIMIT 1;
    IF first_bad_audit_id IS NOT NULL THEN
        ok := false;
        RETURN;
    END IF;
    -- The head names the last row sealed: rows removed from the tail leave it behind.
    SELECT h.last_seq, h.max_id, h.last_hash INTO head FROM phi_vault.audit_chain_head h;
    IF head.last_seq IS DISTINCT FROM seq OR head.last_hash IS DISTINCT FROM prev THEN
        ok := false; first_bad_audit_id := head.max_id;
        RETURN;
    END IF;
    IF anchor_id IS NULL THEN
        RETURN;
    END IF;
    -- An anchor is a sealed row's LOG line (audit_id, hash, xid): rows are sealed as their
    -- transaction commits, so a rolled-back call leaves no such line. One from a commit that
    -- failed after sealing is no anchor — told apart by its xid when given.
    IF anchor_hash IS NULL THEN
        RETURN;
    END IF;
    IF anchor_xid IS NOT NULL AND pg_xact_status(anchor_xid) IS DISTINCT FROM 'committed' THEN
        RAISE NOTICE 'audit anchor % is from a transaction that did not commit: not an anchor', anchor_id;
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM phi_vault.audit_log a WHERE a.audit_id = anchor_id AND a.hash = anchor_hash) THEN
        ok := false; first_bad_audit_id := anchor_id;
    END IF;
END $$;
COMMENT ON FUNCTION phi_vault.verify_audit_chain(bigint, bytea, xid8) IS 'Recomputes the audit hash chain in chain order and checks its head and, if given, an anchor (audit_id, hash, xid) from the server log: ok, rows checked, first row that does not verify';


-- The real path of each load, sealed like an identifier (context 'load_source:<load_batch_id>');
-- the stored source_file has sample names replaced. vcf_validate reads it to re-check the file.
CREATE TABLE phi_vault.load_sources (
    load_batch_id  uuid PRIMARY KEY,
    path_encrypted bytea,
    key_id         text,
    path           text,
    CONSTRAINT path_is_kept CHECK (path IS NOT NULL OR path_encrypted IS NOT NULL),
    CONSTRAINT crypto_columns_agree CHECK ((path_encrypted IS NULL) = (key_id IS NULL))
);
COMMENT ON TABLE phi_vault.load_sources IS 'Real path of each load, AES-256-GCM sealed (context load_source:<load_batch_id>); in clear only when no key was configured';

-- Loads made before 0.3.0 stored the path as given, where viewers read it, and command lines
-- with other people's files in them. The path moves into the vault (in clear: the update
-- runs without the key; phi_admin only); what viewers see gets what the update can do without
-- the sample names: the path replaced by a pointer, command lines <redacted> (CONTRACT §5
-- rule 3). Other header lines keep the 0.2.0 token redaction; reload with force => true for
-- the full v2 rules.
INSERT INTO phi_vault.load_sources (load_batch_id, path) SELECT load_batch_id, source_file FROM vcf.load_batches;
UPDATE vcf.load_batches
   SET source_file = '(loaded before 0.3.0; path in phi_vault.load_sources)',
       header = regexp_replace(header,
           '^##([^=\n]*([Cc][Oo][Mm][Mm][Aa][Nn][Dd]|[Cc][Mm][Dd][Ll][Ii][Nn][Ee]|[Cc][Mm][Dd])[^=\n]*)=[^\n]*$',
           '##\1=<redacted>', 'gn');
ALTER TABLE phi_vault.sample_id_mapping DISABLE TRIGGER sample_id_mapping_immutable;
UPDATE phi_vault.sample_id_mapping SET source_file = '(loaded before 0.3.0; path in phi_vault.load_sources)';
ALTER TABLE phi_vault.sample_id_mapping ENABLE TRIGGER sample_id_mapping_immutable;

ALTER FUNCTION @extschema@.phi_decrypt(bytea, bytea) PARALLEL UNSAFE;

-- Who may replace or unload a load: its loader (current and session role), not every member
-- of a group role it loaded as.
ALTER TABLE vcf.load_batches ADD COLUMN loaded_by_session name;
COMMENT ON COLUMN vcf.load_batches.loaded_by_session IS 'The login (session) role that made the load; with loaded_by it decides who may replace or unload it';

-- phi_admin reveals through audited functions; reading blind indexes directly would be an
-- unaudited lookup (phi_blind_index of a guessed name compared with the column).
REVOKE SELECT ON phi_vault.sample_id_mapping FROM phi_admin;
GRANT SELECT (mapping_id, anonymous_id, original_id, original_id_encrypted, encryption_iv, key_id, source_file,
              file_sha256, load_batch_id, created_at, created_by) ON phi_vault.sample_id_mapping TO phi_admin;

-- Procedures that COMMIT cannot carry a SET clause: the body names everything with its
-- schema (operators included), so a caller's search_path finds nothing of its own.
CREATE OR REPLACE PROCEDURE @extschema@.phi_rotate_key_online(batch_size integer DEFAULT 1000)
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

GRANT EXECUTE ON FUNCTION @extschema@.vcf_load(text, boolean, boolean, text) TO vcf_loader;
GRANT EXECUTE ON FUNCTION @extschema@.vcf_unload(uuid) TO vcf_loader;
GRANT EXECUTE ON FUNCTION @extschema@.vcf_validate(uuid) TO vcf_loader;
GRANT SELECT ON phi_vault.audit_chain_head, phi_vault.load_sources TO phi_admin;
REVOKE ALL ON FUNCTION phi_vault.verify_audit_chain(bigint, bytea, xid8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION phi_vault.verify_audit_chain(bigint, bytea, xid8) TO phi_admin;

-- The owner role owns every table, partition, view and sequence of ours, one by one (ALTER
-- TABLE … OWNER does not recurse to partitions), and may use the schemas (CONTRACT §9).
GRANT USAGE, CREATE ON SCHEMA vcf, phi_vault TO vcf_pg_loader_owner;
DO $own$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::pg_catalog.regclass AS rel, c.relkind
               FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e'
               JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'vcf_pg_loader'
              WHERE c.relkind IN ('r', 'p', 'v', 'S')
                -- sequences owned by a column (identity, OWNED BY) follow their table
                AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend o
                                 WHERE o.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.objid = c.oid
                                   AND o.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.deptype IN ('a', 'i')))
              ORDER BY c.oid
    LOOP
        EXECUTE pg_catalog.format('ALTER %s %s OWNER TO vcf_pg_loader_owner',
            CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, r.rel);
    END LOOP;
END $own$;

SELECT pg_catalog.pg_extension_config_dump('phi_vault.load_sources', '');
SELECT pg_catalog.pg_extension_config_dump('phi_vault.audit_log_audit_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('phi_vault.audit_log', 'ORDER BY chain_seq');
COMMENT ON FUNCTION @extschema@.vcf_load(text, boolean, boolean, text) IS
    'Load a VCF (.vcf/.vcf.gz; plain, gzip or BGZF) from the server file system into vcf.*, sample names replaced by pseudonyms; all or nothing. force replaces an earlier load of the same content; "normalize" trims shared bases; genotypes: all | carriers | none. Needs vcf_loader (files under vcf_pg_loader.load_directories) or pg_read_server_files.';
COMMENT ON FUNCTION @extschema@.phi_decrypt(bytea, bytea) IS
    'Decrypt a phi_encrypt envelope with the key its key id names; the same context is required. A reveal: needs vcf_pg_loader.reveal_reason set in the session, audited once per statement; refused over TCP without TLS when require_ssl is on. phi_admin.';
COMMENT ON FUNCTION @extschema@.phi_rotate_key_batch(integer) IS 'One transaction of phi_rotate_key_online: a batch of unlocked rows, or the last pass (waits for loads and locked rows); 0 when none remain.';
COMMENT ON COLUMN phi_vault.sample_id_mapping.encryption_iv IS 'The 12-byte GCM nonce (also inside the envelope), kept for the original schema''s queries';
COMMENT ON FUNCTION phi_vault.audit_log_chain() IS 'Trigger: stamps a new audit row (id, time, users, address) and writes a LOG line; the row joins the chain as its transaction commits (sealed by the library).';
COMMENT ON FUNCTION phi_vault.audit_log_append_only() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE of the audit log, except the owner sealing a pending row.';
