-- vcf_pg_loader schema, the client API (portable; after sql/schema.sql): what the
-- `vcf-pg-loader` client calls, in both kinds of install (CONTRACT §9–10, docs/cli.md).
--
-- Clients never write phi_vault tables or vcf.load_batches / vcf.samples themselves: these
-- SECURITY DEFINER functions, owned by the NOLOGIN owner role with a pinned search_path, do,
-- after checking that the load they touch was claimed in the caller's own transaction by the
-- caller's login role. Audit rows are written by them, sealed at once, and name session_user:
-- a client cannot forge an audit time, a user, or an entry of its own choosing. The bulk rows
-- (vcf.variants, vcf.genotypes) arrive by the client's binary COPY, so vcf_loader may INSERT
-- into those two tables (and nothing else).
--
-- Every statement here may run again (CREATE OR REPLACE): scripts/gen-update-script.sh makes
-- the update script from this file, so it is the one copy.

-- ---------------------------------------------------------------- audit, without the library
-- Appends one audit row already sealed into the chain: the chain head stays locked until the
-- caller's transaction ends (the library seals at commit instead; both take the same lock, so
-- the chain stays one line). The anchor LOG line names the xid: verify_audit_chain tells a
-- rolled-back one apart. Not callable by clients.
CREATE OR REPLACE FUNCTION phi_vault.append_audit(p_operation text, p_detail jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    head record;
    r phi_vault.audit_log;
BEGIN
    SELECT last_seq, last_hash INTO head FROM phi_vault.audit_chain_head FOR UPDATE;
    r.audit_id := nextval('phi_vault.audit_log_audit_id_seq'::regclass);
    r.at := clock_timestamp();
    r."session_user" := session_user;
    -- Inside a SECURITY DEFINER function the caller's current_user is gone: the login role
    -- is the one name no client can change.
    r."current_user" := session_user;
    r.client_addr := inet_client_addr();
    r.operation := p_operation;
    r.detail := coalesce(p_detail, '{}'::jsonb);
    r.prev_hash := head.last_hash;
    r.chain_seq := head.last_seq + 1;
    r.hash := phi_vault.audit_row_hash(r.prev_hash, r.audit_id, r.at, r."session_user", r."current_user",
                                       r.client_addr, r.operation, r.detail);
    INSERT INTO phi_vault.audit_log (audit_id, at, "session_user", "current_user", client_addr, operation, detail,
                                     prev_hash, hash, chain_seq)
    VALUES (r.audit_id, r.at, r."session_user", r."current_user", r.client_addr, r.operation, r.detail,
            r.prev_hash, r.hash, r.chain_seq);
    RAISE LOG 'vcf_pg_loader audit: audit_id=% hash=% xid=% chain_seq=% operation=% detail=%',
        r.audit_id, encode(r.hash, 'hex'), pg_current_xact_id(), r.chain_seq, r.operation, r.detail::text;
    RETURN r.audit_id;
END $$;
COMMENT ON FUNCTION phi_vault.append_audit(text, jsonb) IS 'Append one audit row sealed at once (no library to seal at commit); the chain head stays locked until the transaction ends. Owner only.';
COMMENT ON FUNCTION phi_vault.audit_log_chain() IS 'Trigger: stamps a new audit row (id, time, users, address) and writes a LOG line; the row joins the chain as its transaction commits (sealed by the library), or arrives sealed from phi_vault.append_audit.';

-- ---------------------------------------------------------------- loads
-- Remove a load's rows (vcf_unload, force, and the client's --force). Owner only.
CREATE OR REPLACE FUNCTION vcf.unload_batch(p_load_batch_id uuid) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g bigint;
    v bigint;
BEGIN
    WITH d AS (DELETE FROM vcf.genotypes g USING vcf.variants v
                WHERE v.load_batch_id = p_load_batch_id AND g.variant_id = v.variant_id RETURNING 1)
    SELECT count(*) INTO g FROM d;
    WITH d AS (DELETE FROM vcf.variants WHERE load_batch_id = p_load_batch_id RETURNING 1)
    SELECT count(*) INTO v FROM d;
    DELETE FROM vcf.load_batches WHERE load_batch_id = p_load_batch_id;
    RETURN g + v;
END $$;
COMMENT ON FUNCTION vcf.unload_batch(uuid) IS 'Delete a load''s genotypes, variants and batch row; returns the rows removed. Owner only (vcf_unload and force call it).';

-- The load batch claimed in this very transaction by this login role, locked; else 42501.
-- (xmin is this transaction's id only for a row it wrote: a client cannot describe, fill or
-- finish an older load, or another's.)
CREATE OR REPLACE FUNCTION vcf.claimed_here(p_load_batch_id uuid) RETURNS vcf.load_batches
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b vcf.load_batches;
BEGIN
    SELECT * INTO b FROM vcf.load_batches
     WHERE load_batch_id = p_load_batch_id AND loaded_by_session = session_user
       AND xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'load batch % was not claimed in this transaction by %', p_load_batch_id, session_user
            USING ERRCODE = '42501', HINT = 'Call vcf.client_claim_load() first, in the same transaction.';
    END IF;
    RETURN b;
END $$;
COMMENT ON FUNCTION vcf.claimed_here(uuid) IS 'The load batch claimed in the current transaction by the session''s login role (locked), else an error. Owner only.';

-- Claim a file's content for a new load (idempotent by SHA-256, as vcf_load): returns the new
-- batch, or the earlier load (already_loaded), or — with p_force, for its own loader or a
-- superuser — removes the earlier load and claims again. Waits for a concurrent load of the
-- same content to end, as vcf_load does (the unique index orders them).
CREATE OR REPLACE FUNCTION vcf.client_claim_load(p_file_sha256 text, p_file_size bigint, p_options jsonb,
                                                 p_force boolean DEFAULT false,
                                                 OUT load_batch_id uuid, OUT already_loaded boolean,
                                                 OUT variants bigint, OUT genotypes bigint, OUT samples integer,
                                                 OUT rows_replaced bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old vcf.load_batches;
    new_id uuid := gen_random_uuid();
BEGIN
    IF p_file_sha256 IS NULL OR p_file_sha256 !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'invalid file_sha256: 64 lower-case hex digits expected' USING ERRCODE = '22023';
    END IF;
    IF p_file_size IS NULL OR p_file_size < 0 THEN
        RAISE EXCEPTION 'invalid file_size' USING ERRCODE = '22023';
    END IF;
    rows_replaced := 0;
    FOR attempt IN 1..4 LOOP
        INSERT INTO vcf.load_batches (load_batch_id, source_file, file_sha256, file_size, loaded_by,
                                      loaded_by_session, options)
        VALUES (new_id, '', p_file_sha256, p_file_size, session_user, session_user, coalesce(p_options, '{}'::jsonb))
        ON CONFLICT (file_sha256) DO NOTHING;
        IF FOUND THEN
            load_batch_id := new_id; already_loaded := false;
            variants := 0; genotypes := 0; samples := 0;
            RETURN;
        END IF;
        SELECT * INTO old FROM vcf.load_batches b WHERE b.file_sha256 = p_file_sha256;
        CONTINUE WHEN NOT FOUND; -- the earlier load was just removed: claim again
        IF NOT p_force THEN
            PERFORM phi_vault.append_audit('load', jsonb_build_object(
                'source_file', old.source_file, 'file_sha256', p_file_sha256,
                'load_batch_id', old.load_batch_id::text, 'already_loaded', true, 'method', 'client'));
            load_batch_id := old.load_batch_id; already_loaded := true;
            variants := old.variants; genotypes := old.genotypes; samples := old.samples;
            RETURN;
        END IF;
        IF NOT (old.loaded_by = session_user AND coalesce(old.loaded_by_session, session_user) = session_user)
           AND NOT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false) THEN
            RAISE EXCEPTION 'permission denied to replace load batch %', old.load_batch_id
                USING ERRCODE = '42501', HINT = 'Only its loader (or a superuser) may replace or unload a load.';
        END IF;
        rows_replaced := rows_replaced + vcf.unload_batch(old.load_batch_id);
    END LOOP;
    RAISE EXCEPTION 'could not claim content % (a concurrent load keeps replacing it)', p_file_sha256
        USING ERRCODE = '40001', HINT = 'Retry; under REPEATABLE READ or SERIALIZABLE, use READ COMMITTED.';
END $$;
COMMENT ON FUNCTION vcf.client_claim_load(text, bigint, jsonb, boolean) IS 'Client load, step 1: claim a file content (SHA-256) for a new load, or return the earlier load, or (force) replace the caller''s own earlier load. vcf_loader.';

-- Record what the header says (redacted by the client, as vcf_load redacts) and the samples.
CREATE OR REPLACE FUNCTION vcf.client_describe_load(p_load_batch_id uuid, p_source_file text, p_file_format text,
                                                    p_compression text, p_reference text, p_header text,
                                                    p_samples uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM vcf.claimed_here(p_load_batch_id);
    UPDATE vcf.load_batches
       SET source_file = coalesce(p_source_file, ''), file_format = p_file_format, compression = p_compression,
           reference = p_reference, header = p_header, samples = coalesce(cardinality(p_samples), 0)
     WHERE load_batch_id = p_load_batch_id;
    INSERT INTO vcf.samples (load_batch_id, sample_index, anonymous_id)
    SELECT p_load_batch_id, u.i - 1, u.a FROM unnest(p_samples) WITH ORDINALITY AS u(a, i);
END $$;
COMMENT ON FUNCTION vcf.client_describe_load(uuid, text, text, text, text, text, uuid[]) IS 'Client load, step 3: the load''s (redacted) source, header and sample pseudonyms. vcf_loader.';

-- Record the counts and audit the load. The variant count is checked against the rows present.
CREATE OR REPLACE FUNCTION vcf.client_finish_load(p_load_batch_id uuid, p_variants bigint, p_genotypes bigint,
                                                  p_records bigint, p_warnings jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b vcf.load_batches := vcf.claimed_here(p_load_batch_id);
    present bigint;
BEGIN
    SELECT count(*) INTO present FROM vcf.variants WHERE load_batch_id = p_load_batch_id;
    IF present IS DISTINCT FROM p_variants THEN
        RAISE EXCEPTION 'load batch %: % variant rows reported, % present', p_load_batch_id, p_variants, present
            USING ERRCODE = 'XX000';
    END IF;
    UPDATE vcf.load_batches SET variants = p_variants, genotypes = p_genotypes, records = p_records,
                                warnings = coalesce(p_warnings, '{}'::jsonb)
     WHERE load_batch_id = p_load_batch_id;
    PERFORM phi_vault.append_audit('load', jsonb_build_object(
        'source_file', b.source_file, 'file_sha256', b.file_sha256, 'load_batch_id', p_load_batch_id::text,
        'records', p_records, 'variants', p_variants, 'genotypes', p_genotypes, 'samples', b.samples,
        'options', b.options, 'method', 'client', 'already_loaded', false));
END $$;
COMMENT ON FUNCTION vcf.client_finish_load(uuid, bigint, bigint, bigint, jsonb) IS 'Client load, last step: record the counts (variants checked against the rows present) and audit the load. vcf_loader.';

-- ---------------------------------------------------------------- pseudonyms
-- Envelope v1 (CONTRACT §3) checked by shape: magic, version, algorithm, length.
CREATE OR REPLACE FUNCTION phi_vault.envelope_ok(p bytea) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT p IS NOT NULL AND length(p) >= 36 AND substring(p FROM 1 FOR 4) = '\x50480101'::bytea
$$;
COMMENT ON FUNCTION phi_vault.envelope_ok(bytea) IS 'True for a bytea shaped like a ciphertext envelope v1 (magic, version, algorithm, length).';

-- Existing pseudonyms of this load's content, found by blind index (the client sends the
-- index of each of its sample names under every key of its keyring): a client learns the
-- pseudonym only of a name it already holds, for the content it claimed.
CREATE OR REPLACE FUNCTION phi_vault.client_find_pseudonyms(p_load_batch_id uuid, p_sample_index integer[],
                                                            p_blind_index bytea[])
RETURNS TABLE (sample_index integer, anonymous_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b vcf.load_batches := vcf.claimed_here(p_load_batch_id);
BEGIN
    -- As vcf_load: rotation's last pass takes SHARE ROW EXCLUSIVE, so a load waits for it.
    LOCK TABLE phi_vault.sample_id_mapping IN ROW EXCLUSIVE MODE;
    RETURN QUERY
    SELECT DISTINCT ON (u.i) u.i, m.anonymous_id
      FROM unnest(p_sample_index, p_blind_index) AS u(i, h)
      JOIN phi_vault.sample_id_mapping m ON m.original_id_hmac = u.h AND m.file_sha256 = b.file_sha256
     ORDER BY u.i, m.mapping_id;
END $$;
COMMENT ON FUNCTION phi_vault.client_find_pseudonyms(uuid, integer[], bytea[]) IS 'Client load, step 2: pseudonyms already given to these blind indexes for the claimed content. vcf_loader.';

-- New pseudonyms with their envelopes (sealed on the client, context = the pseudonym) and
-- blind indexes. Never a plaintext identifier.
CREATE OR REPLACE FUNCTION phi_vault.client_add_pseudonyms(p_load_batch_id uuid, p_source_file text,
                                                           p_anonymous_ids uuid[], p_envelopes bytea[],
                                                           p_blind_index bytea[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b vcf.load_batches := vcf.claimed_here(p_load_batch_id);
    n integer;
BEGIN
    IF cardinality(p_anonymous_ids) IS DISTINCT FROM cardinality(p_envelopes)
       OR cardinality(p_anonymous_ids) IS DISTINCT FROM cardinality(p_blind_index) THEN
        RAISE EXCEPTION 'pseudonyms, envelopes and blind indexes differ in number' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_envelopes, p_blind_index) AS u(e, h)
                WHERE NOT phi_vault.envelope_ok(u.e) OR h IS NULL OR length(h) <> 16) THEN
        RAISE EXCEPTION 'not a ciphertext envelope v1 with a 16-byte blind index' USING ERRCODE = '22023';
    END IF;
    LOCK TABLE phi_vault.sample_id_mapping IN ROW EXCLUSIVE MODE;
    INSERT INTO phi_vault.sample_id_mapping (anonymous_id, original_id_encrypted, encryption_iv, key_id,
                                             original_id_hmac, source_file, file_sha256, load_batch_id)
    SELECT u.a, u.e, substring(u.e FROM 9 FOR 12), encode(substring(u.e FROM 5 FOR 4), 'hex'), u.h,
           coalesce(p_source_file, ''), b.file_sha256, p_load_batch_id
      FROM unnest(p_anonymous_ids, p_envelopes, p_blind_index) AS u(a, e, h);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
COMMENT ON FUNCTION phi_vault.client_add_pseudonyms(uuid, text, uuid[], bytea[], bytea[]) IS 'Client load, step 2: store new pseudonyms with client-sealed envelopes and blind indexes for the claimed content. vcf_loader.';

-- ---------------------------------------------------------------- reveal, lookup (phi_admin)
CREATE OR REPLACE FUNCTION phi_vault.client_reveal(p_anonymous_id uuid, p_reason text,
                                                   OUT original_id_encrypted bytea, OUT original_id text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'a reason is required to reveal an identifier' USING ERRCODE = '22023',
            HINT = 'vcf-pg-loader phi reveal UUID --reason "…"';
    END IF;
    SELECT m.original_id_encrypted, m.original_id INTO original_id_encrypted, original_id
      FROM phi_vault.sample_id_mapping m WHERE m.anonymous_id = p_anonymous_id;
    PERFORM phi_vault.append_audit('reverse_lookup', jsonb_build_object(
        'anonymous_id', p_anonymous_id::text, 'reason', p_reason, 'found', FOUND, 'method', 'client'));
END $$;
COMMENT ON FUNCTION phi_vault.client_reveal(uuid, text) IS 'The envelope behind a pseudonym, for a stated reason, audited; the client decrypts it. phi_admin.';

CREATE OR REPLACE FUNCTION phi_vault.client_lookup(p_blind_index bytea[]) RETURNS SETOF uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ids uuid[];
BEGIN
    SELECT coalesce(array_agg(m.anonymous_id ORDER BY m.mapping_id), '{}') INTO ids
      FROM phi_vault.sample_id_mapping m WHERE m.original_id_hmac = ANY (p_blind_index);
    PERFORM phi_vault.append_audit('lookup', jsonb_build_object('matches', cardinality(ids), 'method', 'client'));
    RETURN QUERY SELECT unnest(ids);
END $$;
COMMENT ON FUNCTION phi_vault.client_lookup(bytea[]) IS 'Pseudonyms whose blind index is one of these (a name''s index under each key the client holds); audited. phi_admin.';

-- ---------------------------------------------------------------- rotation (phi_admin)
-- Up to p_limit rows not under the active key, locked (SKIP LOCKED: concurrent rotators
-- share the work), for the client to re-seal.
CREATE OR REPLACE FUNCTION phi_vault.client_rotation_rows(p_active_key_id text, p_limit integer)
RETURNS TABLE (anonymous_id uuid, key_id text, original_id_encrypted bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_active_key_id IS NULL OR p_active_key_id !~ '^[0-9a-f]{8}$' OR p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION 'invalid active key id or batch size' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT m.anonymous_id, m.key_id, m.original_id_encrypted FROM phi_vault.sample_id_mapping m
     WHERE m.original_id_encrypted IS NOT NULL AND m.key_id <> p_active_key_id
     ORDER BY m.mapping_id LIMIT p_limit FOR UPDATE SKIP LOCKED;
END $$;
COMMENT ON FUNCTION phi_vault.client_rotation_rows(text, integer) IS 'Client rotation: a batch of mapping rows not under the given active key, locked for this transaction. phi_admin.';

-- Write re-sealed rows (each only if still under the key it was read under) and audit the batch.
CREATE OR REPLACE FUNCTION phi_vault.client_rotate(p_anonymous_ids uuid[], p_old_key_ids text[],
                                                   p_envelopes bytea[], p_blind_index bytea[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    active text;
    n bigint;
BEGIN
    IF cardinality(p_anonymous_ids) IS DISTINCT FROM cardinality(p_old_key_ids)
       OR cardinality(p_anonymous_ids) IS DISTINCT FROM cardinality(p_envelopes)
       OR cardinality(p_anonymous_ids) IS DISTINCT FROM cardinality(p_blind_index) THEN
        RAISE EXCEPTION 'rotation arrays differ in number' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_envelopes, p_blind_index) AS u(e, h)
                WHERE NOT phi_vault.envelope_ok(u.e) OR h IS NULL OR length(h) <> 16) THEN
        RAISE EXCEPTION 'not a ciphertext envelope v1 with a 16-byte blind index' USING ERRCODE = '22023';
    END IF;
    SELECT min(encode(substring(e FROM 5 FOR 4), 'hex')) INTO active FROM unnest(p_envelopes) AS e;
    IF (SELECT count(DISTINCT substring(e FROM 5 FOR 4)) FROM unnest(p_envelopes) AS e) > 1 THEN
        RAISE EXCEPTION 'a rotation batch is sealed under one key' USING ERRCODE = '22023';
    END IF;
    PERFORM set_config('vcf_pg_loader.internal_rotation', 'on', true);
    UPDATE phi_vault.sample_id_mapping m
       SET original_id_encrypted = u.e, encryption_iv = substring(u.e FROM 9 FOR 12),
           key_id = encode(substring(u.e FROM 5 FOR 4), 'hex'), original_id_hmac = u.h
      FROM unnest(p_anonymous_ids, p_old_key_ids, p_envelopes, p_blind_index) AS u(a, k, e, h)
     WHERE m.anonymous_id = u.a AND m.key_id = u.k;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('vcf_pg_loader.internal_rotation', 'off', true);
    IF n > 0 THEN
        PERFORM phi_vault.append_audit('rotate_key_online_batch', jsonb_build_object(
            'active_key_id', active, 'rows_rotated', n, 'method', 'client'));
    END IF;
    RETURN n;
END $$;
COMMENT ON FUNCTION phi_vault.client_rotate(uuid[], text[], bytea[], bytea[]) IS 'Client rotation: write re-sealed envelopes and blind indexes (rows still under the key they were read under); audited per batch. phi_admin.';

-- ---------------------------------------------------------------- who may call what
DO $own$
DECLARE
    f regprocedure;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'phi_vault.append_audit(text, jsonb)', 'vcf.unload_batch(uuid)', 'vcf.claimed_here(uuid)',
        'vcf.client_claim_load(text, bigint, jsonb, boolean)',
        'vcf.client_describe_load(uuid, text, text, text, text, text, uuid[])',
        'vcf.client_finish_load(uuid, bigint, bigint, bigint, jsonb)',
        'phi_vault.client_find_pseudonyms(uuid, integer[], bytea[])',
        'phi_vault.client_add_pseudonyms(uuid, text, uuid[], bytea[], bytea[])',
        'phi_vault.client_reveal(uuid, text)', 'phi_vault.client_lookup(bytea[])',
        'phi_vault.client_rotation_rows(text, integer)', 'phi_vault.client_rotate(uuid[], text[], bytea[], bytea[])']::regprocedure[]
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO vcf_pg_loader_owner', f);
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END $own$;
GRANT EXECUTE ON FUNCTION vcf.client_claim_load(text, bigint, jsonb, boolean),
                          vcf.client_describe_load(uuid, text, text, text, text, text, uuid[]),
                          vcf.client_finish_load(uuid, bigint, bigint, bigint, jsonb),
                          phi_vault.client_find_pseudonyms(uuid, integer[], bytea[]),
                          phi_vault.client_add_pseudonyms(uuid, text, uuid[], bytea[], bytea[]) TO vcf_loader;
GRANT EXECUTE ON FUNCTION phi_vault.client_reveal(uuid, text), phi_vault.client_lookup(bytea[]),
                          phi_vault.client_rotation_rows(text, integer),
                          phi_vault.client_rotate(uuid[], text[], bytea[], bytea[]) TO phi_admin;
-- The client's binary COPY: rows of its own claimed load (vcf.client_finish_load checks them).
GRANT USAGE ON SCHEMA vcf, phi_vault TO vcf_loader;
GRANT INSERT ON vcf.variants, vcf.genotypes TO vcf_loader;
GRANT USAGE ON SEQUENCE vcf.variant_id_block_seq TO vcf_loader;
-- The membership schema.sql gave a non-superuser installer for the ownership changes ends here.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
       AND pg_catalog.pg_has_role(current_user, 'vcf_pg_loader_owner', 'MEMBER') THEN
        EXECUTE pg_catalog.format('REVOKE vcf_pg_loader_owner FROM %I', current_user);
    END IF;
END $$;
