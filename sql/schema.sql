-- vcf_pg_loader schema, the portable part: roles, schemas, tables, partitions, RLS,
-- immutability and audit-chain triggers, grants. The one source of the schema: CREATE EXTENSION
-- runs it first (then the library's functions, then sql/extension.sql), and `vcf-pg-loader
-- init-db` runs it (then sql/client_api.sql) on servers that cannot load the library.
-- It must run as a superuser or as a role with CREATEROLE that owns the database (an RDS
-- master user); nothing here needs the library.
-- Roles are cluster-global: created if missing, never dropped by DROP EXTENSION.
-- vcf_pg_loader_owner owns the vcf and phi_vault tables and does the extension's writes
-- (CONTRACT §9): it must never log in, be a superuser, or bypass row-level security, so those
-- attributes are enforced even when the role already exists.
DO $roles$
DECLARE
    on_worker boolean := false;
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
    -- On a Citus worker vcf_distribute() gave the owner a worker-only LOGIN: leave that. And
    -- ALTER ROLE only when an attribute is wrong: Citus propagates ALTER ROLE to the workers.
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        EXECUTE 'SELECT NOT pg_catalog.citus_is_coordinator()' INTO on_worker;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vcf_pg_loader_owner'
                AND (rolsuper OR rolinherit OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls
                     OR (rolcanlogin AND NOT on_worker))) THEN
        IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
            EXECUTE 'ALTER ROLE vcf_pg_loader_owner NOSUPERUSER NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS'
                    || CASE WHEN on_worker THEN '' ELSE ' NOLOGIN' END;
        ELSE
            -- Only a superuser may name SUPERUSER, REPLICATION or BYPASSRLS at all: check them.
            IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vcf_pg_loader_owner'
                        AND (rolsuper OR rolreplication OR rolbypassrls)) THEN
                RAISE EXCEPTION 'role vcf_pg_loader_owner is a superuser, or may replicate or bypass row-level security'
                    USING ERRCODE = '42501', HINT = 'ALTER ROLE vcf_pg_loader_owner NOSUPERUSER NOREPLICATION NOBYPASSRLS (as a superuser), then run again.';
            END IF;
            ALTER ROLE vcf_pg_loader_owner NOLOGIN NOINHERIT NOCREATEDB NOCREATEROLE;
        END IF;
    END IF;
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        -- Handing objects to the owner needs membership in it (PostgreSQL 15): held only
        -- while this script runs (sql/client_api.sql revokes it at its end).
        EXECUTE pg_catalog.format('GRANT vcf_pg_loader_owner TO %I', current_user);
    END IF;
END
$roles$;
COMMENT ON ROLE phi_admin IS 'vcf_pg_loader: may reveal sample identifiers (every reveal is audited)';
COMMENT ON ROLE phi_viewer IS 'vcf_pg_loader: may see pseudonyms and counts, never identifiers';
COMMENT ON ROLE vcf_loader IS 'vcf_pg_loader: may vcf_load files under vcf_pg_loader.load_directories (and unload its own loads)';
COMMENT ON ROLE vcf_pg_loader_owner IS 'vcf_pg_loader: owns the vcf and phi_vault tables; the extension acts as it (NOLOGIN, never superuser)';

CREATE SCHEMA vcf;
COMMENT ON SCHEMA vcf IS 'vcf_pg_loader: genomic data; samples appear only as pseudonyms (anonymous_id)';
CREATE SCHEMA phi_vault;
COMMENT ON SCHEMA phi_vault IS 'vcf_pg_loader: sample identifiers (encrypted) and the audit log';
REVOKE ALL ON SCHEMA phi_vault FROM PUBLIC;

-- ---------------------------------------------------------------- phi_vault
CREATE TABLE phi_vault.sample_id_mapping (
    mapping_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    anonymous_id          uuid NOT NULL UNIQUE,
    original_id           text,
    original_id_encrypted bytea,
    encryption_iv         bytea,
    key_id                text,
    original_id_hmac      bytea,
    source_file           text NOT NULL,
    file_sha256           text NOT NULL,
    load_batch_id         uuid,
    created_at            timestamptz NOT NULL DEFAULT now(),
    created_by            name NOT NULL DEFAULT session_user,
    CONSTRAINT identifier_is_kept CHECK (original_id IS NOT NULL OR original_id_encrypted IS NOT NULL),
    CONSTRAINT crypto_columns_agree CHECK (
        (original_id_encrypted IS NULL) = (key_id IS NULL)
        AND (original_id_encrypted IS NULL) = (encryption_iv IS NULL))
);
CREATE INDEX sample_id_mapping_hmac_idx ON phi_vault.sample_id_mapping (original_id_hmac);
CREATE INDEX sample_id_mapping_key_id_idx ON phi_vault.sample_id_mapping (key_id);
CREATE INDEX sample_id_mapping_file_idx ON phi_vault.sample_id_mapping (file_sha256);
COMMENT ON TABLE phi_vault.sample_id_mapping IS
    'One pseudonym (anonymous_id) per sample name and file content. Identifiers are AES-256-GCM envelopes (format v1, context = the pseudonym). Immutable except the crypto columns, which only key rotation changes.';
COMMENT ON COLUMN phi_vault.sample_id_mapping.original_id IS 'Identifier in clear: NULL unless vcf_pg_loader.phi_store_plaintext was on, or no key was configured with require_encryption off';
COMMENT ON COLUMN phi_vault.sample_id_mapping.original_id_encrypted IS 'Ciphertext envelope v1 of the identifier, associated data bound to anonymous_id';
COMMENT ON COLUMN phi_vault.sample_id_mapping.encryption_iv IS 'The 12-byte GCM nonce (also inside the envelope), kept for the original schema''s queries';
COMMENT ON COLUMN phi_vault.sample_id_mapping.key_id IS 'Key id (8 hex digits) of the key that encrypted original_id_encrypted';
COMMENT ON COLUMN phi_vault.sample_id_mapping.original_id_hmac IS 'Blind index: 16-byte HMAC-SHA-256 under a key derived from the active key; phi_lookup() searches it';

-- Mappings are immutable: only rotation (crypto columns) and phi_clear_plaintext (original_id to NULL).
CREATE FUNCTION phi_vault.sample_id_mapping_guard() RETURNS trigger
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
-- (Its triggers are created in sql/client_api.sql, which updates re-run.)

ALTER TABLE phi_vault.sample_id_mapping ENABLE ROW LEVEL SECURITY;
CREATE POLICY phi_admin_reads ON phi_vault.sample_id_mapping FOR SELECT
    USING (pg_has_role(current_user, 'phi_admin', 'MEMBER'));

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

-- Pseudonyms without identifiers or ciphertext: what phi_viewer may see.
CREATE VIEW phi_vault.pseudonyms AS
    SELECT mapping_id, anonymous_id, key_id, source_file, file_sha256, load_batch_id, created_at, created_by
    FROM phi_vault.sample_id_mapping;
COMMENT ON VIEW phi_vault.pseudonyms IS 'Pseudonyms and their provenance, without identifiers or ciphertext (phi_viewer)';

CREATE TABLE phi_vault.audit_log (
    audit_id       bigint PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    "session_user" name NOT NULL DEFAULT session_user,
    "current_user" name NOT NULL DEFAULT current_user,
    client_addr    inet DEFAULT inet_client_addr(),
    operation      text NOT NULL,
    detail         jsonb NOT NULL DEFAULT '{}',
    prev_hash      bytea,
    hash           bytea,
    chain_seq      bigint UNIQUE
);
COMMENT ON COLUMN phi_vault.audit_log.chain_seq IS 'Position in the hash chain (1, 2, …), given when the row is sealed as its transaction commits; NULL only while that transaction runs';
-- Audit ids are taken when a row is written; the chain is linked when its transaction
-- commits, so chain order is commit order.
CREATE SEQUENCE phi_vault.audit_log_audit_id_seq OWNED BY phi_vault.audit_log.audit_id;

-- The end of the chain: one row, locked only while a committing transaction seals its audit
-- rows (a pre-commit step of the library), never for the life of a transaction — so no open
-- transaction, of any role, holds up another's audited work. No role below the owner holds
-- UPDATE on it, so none can lock it. Under REPEATABLE READ or SERIALIZABLE a concurrent
-- extension of the chain is a serialization error, never a fork. Derived data (pg_restore
-- rebuilds it as the audit rows are replayed), so never dumped.
CREATE TABLE phi_vault.audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_seq  bigint NOT NULL DEFAULT 0,
    max_id    bigint NOT NULL DEFAULT 0,
    last_hash bytea
);
INSERT INTO phi_vault.audit_chain_head DEFAULT VALUES;
COMMENT ON TABLE phi_vault.audit_chain_head IS 'The end of the audit chain (position, highest id sealed, hash): locked while a commit seals its rows, and a check that the tail was not removed';
COMMENT ON SEQUENCE phi_vault.audit_log_audit_id_seq IS 'Audit ids, taken when an audit row is written.';
COMMENT ON TABLE phi_vault.audit_log IS
    'Append-only, hash-chained audit of key operations, rotations, lookups, reveals and loads (HIPAA 164.312(b)). hash = SHA-256(prev_hash || row), linked in commit order. Verify with phi_vault.verify_audit_chain().';

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
CREATE FUNCTION phi_vault.audit_row_hash(prev bytea, id bigint, at timestamptz, su name, cu name,
                                         addr inet, op text, detail jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT sha256(coalesce(prev, ''::bytea) || phi_vault.audit_row_payload(id, at, su, cu, addr, op, detail))
$$;

-- Writing a row: the trigger stamps id, time, users and address itself; the row is sealed
-- into the chain by the library as its transaction commits. Without the library, rows are
-- written already sealed by phi_vault.append_audit (sql/client_api.sql), which takes the
-- restore path below under the chain head's lock. The LOG line is a trace that survives a
-- rollback.
CREATE FUNCTION phi_vault.audit_log_chain() RETURNS trigger
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
CREATE TRIGGER audit_log_chain BEFORE INSERT ON phi_vault.audit_log
    FOR EACH ROW EXECUTE FUNCTION phi_vault.audit_log_chain();

-- Append-only: the one change allowed is sealing a pending row (by the owner, hash columns only).
CREATE FUNCTION phi_vault.audit_log_append_only() RETURNS trigger
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
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON phi_vault.audit_log
    FOR EACH ROW EXECUTE FUNCTION phi_vault.audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON phi_vault.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION phi_vault.audit_log_append_only();

-- phi_vault.verify_audit_chain(): sql/client_api.sql (it knows rows the client API leaves pending).

-- ---------------------------------------------------------------- vcf
CREATE TABLE vcf.load_batches (
    load_batch_id uuid PRIMARY KEY,
    source_file   text NOT NULL,
    file_sha256   text NOT NULL,
    file_size     bigint NOT NULL,
    file_format   text,
    compression   text,
    reference     text,
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    loaded_by     name NOT NULL DEFAULT current_user,
    variants      bigint NOT NULL DEFAULT 0,
    genotypes     bigint NOT NULL DEFAULT 0,
    samples       int NOT NULL DEFAULT 0,
    records       bigint NOT NULL DEFAULT 0,
    warnings      jsonb NOT NULL DEFAULT '{}',
    options       jsonb NOT NULL DEFAULT '{}',
    header        text,
    loaded_by_session name
);
COMMENT ON COLUMN vcf.load_batches.loaded_by_session IS 'The login (session) role that made the load; with loaded_by it decides who may replace or unload it';
CREATE UNIQUE INDEX load_batches_file_sha256_key ON vcf.load_batches (file_sha256);
COMMENT ON TABLE vcf.load_batches IS 'One row per loaded file (identified by its SHA-256); header has sample names replaced by pseudonyms';

CREATE TABLE vcf.samples (
    load_batch_id uuid NOT NULL REFERENCES vcf.load_batches ON DELETE CASCADE,
    sample_index  int NOT NULL,
    anonymous_id  uuid NOT NULL,
    PRIMARY KEY (load_batch_id, sample_index)
);
CREATE INDEX samples_anonymous_id_idx ON vcf.samples (anonymous_id);
COMMENT ON TABLE vcf.samples IS 'The sample columns of each load, as pseudonyms (0-based sample_index in file order)';

-- Variant ids come in blocks of 2^20 per sequence value: concurrent loads never interleave
-- within a block and a load needs one sequence call per million rows.
CREATE SEQUENCE vcf.variant_id_block_seq;

CREATE TABLE vcf.variants (
    variant_id    bigint NOT NULL,
    load_batch_id uuid NOT NULL,
    chrom         text NOT NULL,
    pos           bigint NOT NULL,
    end_pos       bigint NOT NULL,
    ref           text NOT NULL,
    alt           text,
    alt_index     smallint,
    id            text,
    qual          real,
    filter        text[],
    info          jsonb NOT NULL DEFAULT '{}',
    gene          text,
    consequence   text,
    impact        text,
    af            real,
    source_line   bigint
) PARTITION BY LIST (chrom);
COMMENT ON TABLE vcf.variants IS 'One row per ALT allele (multi-allelic records decomposed); LIST-partitioned by chrom';
COMMENT ON COLUMN vcf.variants.source_line IS 'Line number of the record in the loaded file';

DO $parts$
DECLARE
    c text;
BEGIN
    FOREACH c IN ARRAY ARRAY['1','2','3','4','5','6','7','8','9','10','11','12','13','14','15',
                             '16','17','18','19','20','21','22','X','Y'] LOOP
        EXECUTE format('CREATE TABLE vcf.%I PARTITION OF vcf.variants FOR VALUES IN (%L, %L)',
                       'variants_chr' || lower(c), c, 'chr' || c);
    END LOOP;
END
$parts$;
CREATE TABLE vcf.variants_chrm PARTITION OF vcf.variants FOR VALUES IN ('M', 'MT', 'chrM', 'chrMT');
CREATE TABLE vcf.variants_other PARTITION OF vcf.variants DEFAULT;

CREATE INDEX variants_region_idx ON vcf.variants (chrom, pos);
CREATE INDEX variants_gene_idx ON vcf.variants (gene) WHERE gene IS NOT NULL;
CREATE INDEX variants_variant_id_idx ON vcf.variants (variant_id);
CREATE INDEX variants_load_batch_idx ON vcf.variants (load_batch_id);

CREATE TABLE vcf.genotypes (
    variant_id   bigint NOT NULL,
    anonymous_id uuid NOT NULL,
    gt           text,
    alt_dosage   smallint,
    phased       boolean,
    dp           int,
    gq           int,
    ad           int[],
    format       jsonb
);
-- Loads write variant_id in increasing blocks: a BRIN index serves joins to a variant and
-- unloads at a fraction of a btree's cost (see docs/performance.md).
CREATE INDEX genotypes_variant_id_brin ON vcf.genotypes USING brin (variant_id);
COMMENT ON TABLE vcf.genotypes IS 'One row per (variant row, sample) as the genotypes option chose; samples only as pseudonyms';
COMMENT ON COLUMN vcf.genotypes.alt_dosage IS 'Copies of this row''s ALT in GT; NULL if any allele is missing';

-- ---------------------------------------------------------------- who may read what
GRANT USAGE ON SCHEMA vcf TO phi_admin, phi_viewer;
GRANT SELECT ON ALL TABLES IN SCHEMA vcf TO phi_admin, phi_viewer;
GRANT USAGE ON SCHEMA phi_vault TO phi_admin, phi_viewer;
GRANT SELECT ON phi_vault.audit_log, phi_vault.audit_chain_head, phi_vault.load_sources TO phi_admin;
-- Every column but the blind index: phi_lookup is the (audited) way to search by name.
GRANT SELECT (mapping_id, anonymous_id, original_id, original_id_encrypted, encryption_iv, key_id, source_file,
              file_sha256, load_batch_id, created_at, created_by) ON phi_vault.sample_id_mapping TO phi_admin;
GRANT SELECT ON phi_vault.pseudonyms TO phi_admin, phi_viewer;

-- The owner role owns every table, partition, view and sequence of ours, one by one (ALTER
-- TABLE … OWNER does not recurse to partitions), and may use the schemas (CONTRACT §9).
GRANT USAGE, CREATE ON SCHEMA vcf, phi_vault TO vcf_pg_loader_owner;
DO $own$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::pg_catalog.regclass AS rel, c.relkind
               FROM pg_catalog.pg_class c
              WHERE c.relnamespace IN ('vcf'::pg_catalog.regnamespace, 'phi_vault'::pg_catalog.regnamespace)
                AND c.relkind IN ('r', 'p', 'v', 'S')
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

-- Every object explains itself in \\dt+ / \\df+ (tests/pg_regress/sql/12_catalog.sql).
COMMENT ON FUNCTION phi_vault.audit_row_hash(bytea, bigint, timestamptz, name, name, inet, text, jsonb) IS 'SHA-256 of one audit row chained to the previous hash; independent of DateStyle and TimeZone.';
COMMENT ON FUNCTION phi_vault.audit_log_append_only() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE of the audit log, except the owner sealing a pending row.';
COMMENT ON FUNCTION phi_vault.sample_id_mapping_guard() IS 'Trigger: mapping rows are immutable except their crypto columns during key rotation.';
COMMENT ON SEQUENCE vcf.variant_id_block_seq IS 'Blocks of 2^20 variant ids: variant_id = nextval * 2^20 + i; a load reserves one block per million rows.';
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
