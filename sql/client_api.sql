-- vcf_pg_loader schema, the client API (portable; after sql/schema.sql): what the
-- `vcf-pg-loader` client calls, in both kinds of install (CONTRACT §9–10, docs/cli.md).
--
-- Clients never write phi_vault tables or vcf.load_batches / vcf.samples themselves: these
-- SECURITY DEFINER functions, owned by the NOLOGIN owner role with a pinned search_path, do,
-- after checking that the load they touch was claimed in the caller's own transaction by the
-- caller's login role. Audit rows are written by them and name session_user: a client cannot
-- forge an audit time, a user, or an entry of its own choosing. The bulk rows (vcf.variants,
-- vcf.genotypes) arrive by the client's binary COPY, so vcf_loader may INSERT into those two
-- tables — and a statement trigger refuses any row that is not of a load claimed in that very
-- transaction (variant ids of the blocks it reserved, its own samples).
--
-- Every statement here may run again (CREATE OR REPLACE): scripts/gen-update-script.sh makes
-- the update script from this file, so it is the one copy.

-- Handing functions to the owner needs membership in it (PostgreSQL 15) for a non-superuser
-- installer: held only while this file runs (revoked at its end), also when it runs again.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
       AND NOT pg_catalog.pg_has_role(current_user, 'vcf_pg_loader_owner', 'MEMBER') THEN
        EXECUTE pg_catalog.format('GRANT vcf_pg_loader_owner TO %I', current_user);
    END IF;
END $$;

-- ---------------------------------------------------------------- audit, without the library
-- An audit row of the client API: stamped by the chain trigger (id, time, users, address) and
-- left pending, like the library's rows until their commit. Nothing here waits on the chain
-- head, so no open transaction of any role holds up another's audited work. Not callable by
-- clients.
-- ---------------------------------------------------------------- Citus fence
-- On a Citus cluster (vcf_distribute), called first by everything that acts as the owner:
-- - the vault, the audit log and loads live on the coordinator: refuse on a worker;
-- - Citus opens the owner's worker connections inside the caller's transaction and, with
--   citus.propagate_set_commands = 'local' (a user setting), replays the caller's SET LOCAL
--   commands there first — a SET LOCAL search_path would make the owner's worker sessions
--   resolve Citus' own unqualified calls to the caller's functions. So the owner's
--   search_path is propagated through Citus here, after the caller's, to every connection of
--   the transaction and every one it opens later. (Without Citus: nothing to do.)
CREATE OR REPLACE FUNCTION vcf.citus_fence() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION 'vcf_pg_loader works on the Citus coordinator only, and this node is a worker'
            USING ERRCODE = '0A000', HINT = 'Connect to the coordinator: keys, the vault, the audit log and loads live there.';
    END IF;
    SET LOCAL citus.propagate_set_commands TO 'local';
    SET LOCAL search_path TO pg_catalog, pg_temp;
END $$;
COMMENT ON FUNCTION vcf.citus_fence() IS 'On Citus: refuses on a worker, and pins the owner''s search_path on its worker connections (after any SET LOCAL a caller propagated). Owner only; a no-op without Citus.';

CREATE OR REPLACE FUNCTION phi_vault.append_audit(p_operation text, p_detail jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    id bigint;
BEGIN
    PERFORM vcf.citus_fence();
    -- The caller's current_user is gone inside SECURITY DEFINER: the trigger names the login.
    INSERT INTO phi_vault.audit_log ("current_user", operation, detail)
    VALUES (session_user, p_operation, coalesce(p_detail, '{}'::jsonb))
    RETURNING audit_id INTO id;
    RETURN id;
END $$;
COMMENT ON FUNCTION phi_vault.audit_log_chain() IS 'Trigger: stamps a new audit row (id, time, users, address) and writes a LOG line; the row joins the chain as its transaction commits (sealed by the library), or at the next phi_vault.seal_audit().';
COMMENT ON FUNCTION phi_vault.append_audit(text, jsonb) IS 'Append one pending audit row (stamped by the chain trigger, naming the login role); phi_vault.seal_audit() links it into the chain once its transaction has committed. Owner only.';

-- Link every committed pending row into the chain, in audit_id order, and log each row's anchor.
-- Never waits: if another transaction holds the chain head, this one returns 0 and a later
-- seal (the next one by the client, the library or anyone) links the rows. Rows of this
-- transaction are linked too: they commit or vanish with it.
CREATE OR REPLACE FUNCTION phi_vault.seal_audit() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    head record;
    r record;
    prev bytea;
    seq bigint;
    top bigint;
    h bytea;
    n bigint := 0;
BEGIN
    PERFORM vcf.citus_fence();
    SELECT last_seq, max_id, last_hash INTO head FROM phi_vault.audit_chain_head FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    prev := head.last_hash; seq := head.last_seq; top := head.max_id;
    FOR r IN SELECT a.audit_id, a.at, a."session_user" AS su, a."current_user" AS cu, a.client_addr, a.operation, a.detail
               FROM phi_vault.audit_log a WHERE a.hash IS NULL AND a.chain_seq IS NULL
              ORDER BY a.audit_id FOR UPDATE SKIP LOCKED LOOP
        seq := seq + 1;
        h := phi_vault.audit_row_hash(prev, r.audit_id, r.at, r.su, r.cu, r.client_addr, r.operation, r.detail);
        UPDATE phi_vault.audit_log SET prev_hash = prev, hash = h, chain_seq = seq WHERE audit_id = r.audit_id;
        RAISE LOG 'vcf_pg_loader audit: audit_id=% hash=% xid=% chain_seq=% operation=% detail=%',
            r.audit_id, encode(h, 'hex'), pg_current_xact_id(), seq, r.operation, r.detail::text;
        prev := h; top := greatest(top, r.audit_id); n := n + 1;
    END LOOP;
    IF n > 0 THEN
        UPDATE phi_vault.audit_chain_head SET last_seq = seq, max_id = top, last_hash = prev;
    END IF;
    RETURN n;
END $$;
COMMENT ON FUNCTION phi_vault.seal_audit() IS 'Link committed pending audit rows into the hash chain (never waits; 0 when another transaction holds the head). The CLI calls it after each commit; vcf_loader and phi_admin members may.';

-- Recomputes the chain in chain order and checks its head and, if given, an anchor.
CREATE OR REPLACE FUNCTION phi_vault.verify_audit_chain(anchor_id bigint DEFAULT NULL, anchor_hash bytea DEFAULT NULL,
                                             anchor_xid xid8 DEFAULT NULL,
                                             OUT ok boolean, OUT rows_checked bigint, OUT first_bad_audit_id bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    prev bytea := NULL;
    seq bigint := 0;
    head record;
    pending bigint;
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
    -- Rows outside the chain are pending: this transaction's own, or committed rows the next
    -- seal links (a commit that found the head held, or the client API's rows).
    SELECT count(*) INTO pending FROM phi_vault.audit_log a
     WHERE a.chain_seq IS NULL AND a.xmin::text IS DISTINCT FROM mine;
    IF pending > 0 THEN
        RAISE NOTICE '% committed audit row(s) await sealing into the chain', pending
            USING HINT = 'SELECT phi_vault.seal_audit() links them now.';
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

-- ---------------------------------------------------------------- the vault's guard
-- Mappings are immutable but for their crypto columns, which only rotation changes (with
-- vcf_pg_loader.internal_rotation on, in the owner's context): phi_vault.sample_id_mapping_guard
-- refuses everything else. For an UPDATE that changes only crypto columns during rotation the
-- guard would pass, so its trigger's WHEN (evaluated in C) skips the PL/pgSQL call for those
-- rows: one call per row made rotation 0.7x a plain UPDATE of the same columns.
DROP TRIGGER IF EXISTS sample_id_mapping_immutable ON phi_vault.sample_id_mapping;
CREATE TRIGGER sample_id_mapping_immutable BEFORE DELETE ON phi_vault.sample_id_mapping
    FOR EACH ROW EXECUTE FUNCTION phi_vault.sample_id_mapping_guard();
DROP TRIGGER IF EXISTS sample_id_mapping_immutable_update ON phi_vault.sample_id_mapping;
CREATE TRIGGER sample_id_mapping_immutable_update BEFORE UPDATE ON phi_vault.sample_id_mapping
    FOR EACH ROW WHEN (NEW.mapping_id IS DISTINCT FROM OLD.mapping_id
                       OR NEW.anonymous_id IS DISTINCT FROM OLD.anonymous_id
                       OR NEW.source_file IS DISTINCT FROM OLD.source_file
                       OR NEW.file_sha256 IS DISTINCT FROM OLD.file_sha256
                       OR NEW.load_batch_id IS DISTINCT FROM OLD.load_batch_id
                       OR NEW.created_at IS DISTINCT FROM OLD.created_at
                       OR NEW.created_by IS DISTINCT FROM OLD.created_by
                       OR NEW.original_id IS DISTINCT FROM OLD.original_id
                       OR coalesce(pg_catalog.current_setting('vcf_pg_loader.internal_rotation', true), '') OPERATOR(pg_catalog.<>) 'on')
    EXECUTE FUNCTION phi_vault.sample_id_mapping_guard();

-- ---------------------------------------------------------------- loads
-- Which load reserved which block of 2^20 variant ids (vcf.variant_id_block_seq): unloads
-- delete genotypes by the load's own blocks (no join that another load's ids could reach),
-- and client rows must lie in blocks their load reserved in the same transaction.
CREATE TABLE IF NOT EXISTS vcf.load_blocks (
    block         bigint PRIMARY KEY,
    load_batch_id uuid NOT NULL REFERENCES vcf.load_batches ON DELETE CASCADE,
    reserved_xid  xid8 NOT NULL,
    finished      boolean NOT NULL DEFAULT false,
    variant_rows  bigint NOT NULL DEFAULT 0,
    genotype_rows bigint NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS load_blocks_batch_idx ON vcf.load_blocks (load_batch_id);
-- The heap pages of vcf.genotypes whose BRIN summaries an unload forgot, by transaction
-- (vcf.forget_genotype_pages): a summary taken later in the same transaction (a force
-- reload's finish, a second unload) would still see the deleted rows, so it passes them over.
-- Unlogged: a crash loses nothing worth keeping. Rows of ended transactions are removed by
-- the next forget. Owner only.
CREATE UNLOGGED TABLE IF NOT EXISTS vcf.forgotten_genotype_pages (
    xact  xid8 NOT NULL,
    pages int8range NOT NULL
);
COMMENT ON TABLE vcf.forgotten_genotype_pages IS 'Heap pages of vcf.genotypes whose BRIN summaries an unload forgot, by the transaction that forgot them (not summarized again in that transaction). Owner only.';
-- Where vcf.variants/genotypes cannot carry the client row guard (distributed by Citus, after
-- vcf_distribute()), client COPY goes to these local tables, guarded the same way, and
-- vcf.client_finish_load moves the rows as the owner (vcf.client_copy_targets() says which).
-- They hold rows only inside a client load's transaction.
CREATE TABLE IF NOT EXISTS vcf.client_variants (LIKE vcf.variants INCLUDING DEFAULTS);
CREATE TABLE IF NOT EXISTS vcf.client_genotypes (LIKE vcf.genotypes INCLUDING DEFAULTS);
COMMENT ON TABLE vcf.client_variants IS 'Staging for client (vcf-pg-loader) variant rows where vcf.variants is distributed by Citus; empty outside a client load''s transaction.';
COMMENT ON TABLE vcf.client_genotypes IS 'Staging for client (vcf-pg-loader) genotype rows where vcf.genotypes is distributed by Citus; empty outside a client load''s transaction.';
-- In the extension their rows are dumped like the other tables' (docs/operations.md; the
-- staging tables are empty outside a load); only an extension script may mark them, and only
-- there are the tables extension members.
DO $$
DECLARE
    t regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['vcf.load_blocks', 'vcf.client_variants', 'vcf.client_genotypes']::pg_catalog.regclass[] LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_depend WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND objid = t AND deptype = 'e') THEN
            PERFORM pg_catalog.pg_extension_config_dump(t, '');
        END IF;
    END LOOP;
END $$;
COMMENT ON TABLE vcf.load_blocks IS 'Blocks of 2^20 variant ids reserved by each load (variant_id >> 20 = block), the transaction that reserved them, whether the load is finished, and the client rows the row guard admitted into each block';

-- A new block of variant ids for a load (the library and the client API call it). Owner only.
CREATE OR REPLACE FUNCTION vcf.reserve_block(p_load_batch_id uuid) RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO vcf.load_blocks (block, load_batch_id, reserved_xid)
    VALUES (nextval('vcf.variant_id_block_seq'::regclass), p_load_batch_id, pg_current_xact_id())
    RETURNING block
$$;
COMMENT ON FUNCTION vcf.reserve_block(uuid) IS 'Reserve the next block of 2^20 variant ids for a load (variant_id = block * 2^20 + i). Owner only.';

-- Citus: after vcf_distribute the shards' pages are the workers' (their VACUUM summarizes them).
CREATE OR REPLACE FUNCTION vcf.genotypes_distributed() RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d boolean := false;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = ''vcf.genotypes''::pg_catalog.regclass)'
           INTO d;
    END IF;
    RETURN d;
END $$;
COMMENT ON FUNCTION vcf.genotypes_distributed() IS 'True when vcf.genotypes is a Citus distributed table (vcf_distribute ran). Owner only.';

-- The pages this transaction's unloads emptied (vcf.forgotten_genotype_pages).
CREATE OR REPLACE FUNCTION vcf.forgotten_pages() RETURNS int8multirange
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(range_agg(pages), '{}') FROM vcf.forgotten_genotype_pages WHERE xact = pg_current_xact_id_if_assigned()
$$;
COMMENT ON FUNCTION vcf.forgotten_pages() IS 'Heap pages of vcf.genotypes whose BRIN summaries an unload forgot in this transaction. Owner only.';

-- A load appends genotype pages whose BRIN ranges stay unsummarized until a VACUUM, and every
-- unsummarized range is visited by every delete of an id block: an unload right after loads
-- read the whole table once per block of the load (docs/performance.md, 0.5.0). So each load
-- summarizes the ranges at its finish, and an unload first summarizes any left. Summarizing
-- takes SHARE UPDATE EXCLUSIVE on vcf.genotypes until the transaction ends: readers and loads
-- go on; a VACUUM, an ANALYZE or another load's summary waits. It waits itself at most 2 s (an
-- autovacuum in its way is cancelled after deadlock_timeout) and gives up on a deadlock (a
-- session that holds the lock and waits on this load's claim must not make the load fail),
-- then leaves the ranges to the next load, unload or VACUUM (all correct, only slower).
-- Returns the ranges summarized, NULL when it did not get the lock, 0 on Citus.
CREATE OR REPLACE FUNCTION vcf.summarize_genotypes() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    idx regclass := 'vcf.genotypes_variant_id_brin'::regclass;
    forgotten int8multirange := vcf.forgotten_pages();
    n integer := 0;
    r bigint;
BEGIN
    IF vcf.genotypes_distributed() THEN
        RETURN 0;
    END IF;
    BEGIN
        LOCK TABLE vcf.genotypes IN SHARE UPDATE EXCLUSIVE MODE;
    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
        RETURN NULL;
    END;
    IF isempty(forgotten) THEN
        RETURN brin_summarize_new_values(idx);
    END IF;
    FOR r IN SELECT generate_series(0, pg_relation_size('vcf.genotypes') / 8192 - 1, 128) LOOP
        IF NOT forgotten && int8range(r, r + 128) THEN
            n := n + brin_summarize_range(idx, r);
        END IF;
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION vcf.summarize_genotypes() IS 'Summarize the BRIN ranges of vcf.genotypes that loads appended (an unload then visits only its own pages), except those an unload of this transaction forgot; waits at most 2 s for the lock, else leaves them to the next load or VACUUM. Owner only.';

-- The heap pages a block's genotype rows lie on, from the rows of its first and last ids (a
-- load writes them in id order; a few BRIN-served lookups, not a scan of the block). A window
-- of ids, widened until it holds rows: in carriers mode most variants have none.
CREATE OR REPLACE FUNCTION vcf.genotype_pages(p_block bigint) RETURNS int8range
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET enable_seqscan = off
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    lo bigint;
    hi bigint;
    w bigint;
    first_page bigint;
    last_page bigint;
BEGIN
    SELECT min(variant_id), max(variant_id) INTO lo, hi FROM vcf.variants
     WHERE variant_id >= p_block * 1048576 AND variant_id < (p_block + 1) * 1048576;
    IF lo IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH w IN ARRAY ARRAY[64, 4096, 1048576] LOOP
        SELECT min((ctid::text::point)[0]) INTO first_page FROM vcf.genotypes
         WHERE variant_id >= lo AND variant_id < lo + w;
        EXIT WHEN first_page IS NOT NULL;
    END LOOP;
    FOREACH w IN ARRAY ARRAY[64, 4096, 1048576] LOOP
        SELECT max((ctid::text::point)[0]) INTO last_page FROM vcf.genotypes
         WHERE variant_id > hi - w AND variant_id <= hi;
        EXIT WHEN last_page IS NOT NULL;
    END LOOP;
    IF first_page IS NULL OR last_page IS NULL THEN   -- variant rows without genotype rows
        RETURN NULL;
    END IF;
    RETURN int8range(least(first_page, last_page), greatest(first_page, last_page), '[]');
END $$;
COMMENT ON FUNCTION vcf.genotype_pages(bigint) IS 'Heap pages of vcf.genotypes from the first to the last genotype row of a block (by its lowest and highest ids; NULL without genotype rows). Owner only.';

-- An unload empties pages whose BRIN summaries keep its ids; a later load that fills them
-- (after a VACUUM) would widen those summaries over every block between, and each later
-- unload would visit them. So the unload forgets their summaries: the next summary (a load's
-- finish, an unload, a VACUUM) sees only what lives there then. Same lock and wait as
-- vcf.summarize_genotypes; false when it did not wait. 128: the index's pages_per_range.
CREATE OR REPLACE FUNCTION vcf.forget_genotype_pages(p_pages int8range) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET lock_timeout = '2s' AS $$
BEGIN
    IF p_pages IS NULL OR isempty(p_pages) THEN
        RETURN true;
    END IF;
    BEGIN
        LOCK TABLE vcf.genotypes IN SHARE UPDATE EXCLUSIVE MODE;
    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
        RETURN false;
    END;
    PERFORM brin_desummarize_range('vcf.genotypes_variant_id_brin'::regclass, r)
       FROM generate_series(lower(p_pages) / 128 * 128, upper(p_pages) - 1, 128) r;
    -- Rows of ended transactions go; one that another session is removing is left to it.
    DELETE FROM vcf.forgotten_genotype_pages WHERE ctid IN (
        SELECT ctid FROM vcf.forgotten_genotype_pages
         WHERE xact < pg_snapshot_xmin(pg_current_snapshot()) FOR UPDATE SKIP LOCKED);
    INSERT INTO vcf.forgotten_genotype_pages VALUES (pg_current_xact_id(), int8range(lower(p_pages) / 128 * 128, upper(p_pages)));
    RETURN true;
END $$;
COMMENT ON FUNCTION vcf.forget_genotype_pages(int8range) IS 'Forget the BRIN summaries of the ranges of these heap pages of vcf.genotypes (an unload emptied them); waits at most 2 s for the lock. Owner only.';

-- Remove a load's rows (vcf_unload, force, and the client's --force): genotypes by the load's
-- blocks (a range scan of the BRIN index each), variants by load (its index). The plan must not
-- depend on statistics (right after a load they are stale, and a hash join of all genotypes
-- took 12 minutes where the ranges take seconds): sequential scans are off for this call.
-- Loads written before 0.4.0 have no blocks: their genotypes are found through their variants.
-- Owner only.
CREATE OR REPLACE FUNCTION vcf.unload_batch(p_load_batch_id uuid) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_seqscan = off AS $$
DECLARE
    g bigint := 0;
    v bigint;
    b bigint;
    k bigint;
    pages int8range;
    mode text := current_setting('citus.multi_shard_modify_mode', true);
    local boolean := NOT vcf.genotypes_distributed();   -- Citus: the shards' pages are the workers'
    forgetting boolean;
BEGIN
    PERFORM vcf.citus_fence();
    -- On Citus (vcf_distribute) the batch row lives in a reference table that others reference:
    -- Citus deletes from it only after the shards' deletes ran over one connection per node.
    -- (Set here, not in a SET clause: a non-superuser installer may not name an unknown setting.)
    IF mode IS NOT NULL THEN
        PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    END IF;
    -- Summarize first, else each block's delete reads unsummarized pages. Its lock is then held
    -- to the end, so forgetting never waits; when another session holds it, this unload
    -- forgets nothing (one wait of 2 s, not one per block).
    forgetting := vcf.summarize_genotypes() IS NOT NULL AND local;
    IF EXISTS (SELECT 1 FROM vcf.load_blocks WHERE load_batch_id = p_load_batch_id) THEN
        FOR b IN SELECT block FROM vcf.load_blocks WHERE load_batch_id = p_load_batch_id ORDER BY block LOOP
            pages := CASE WHEN forgetting THEN vcf.genotype_pages(b) END;
            DELETE FROM vcf.genotypes WHERE variant_id >= b * 1048576 AND variant_id < (b + 1) * 1048576;
            GET DIAGNOSTICS k = ROW_COUNT;
            g := g + k;
            PERFORM vcf.forget_genotype_pages(pages) WHERE k > 0 AND forgetting;
        END LOOP;
    ELSE
        WITH d AS (DELETE FROM vcf.genotypes g USING vcf.variants v
                    WHERE v.load_batch_id = p_load_batch_id AND g.variant_id = v.variant_id RETURNING 1)
        SELECT count(*) INTO g FROM d;
    END IF;
    DELETE FROM vcf.variants WHERE load_batch_id = p_load_batch_id;
    GET DIAGNOSTICS v = ROW_COUNT;
    -- A client load committed without its finish may have left rows in staging (Citus).
    DELETE FROM vcf.client_variants WHERE load_batch_id = p_load_batch_id;
    GET DIAGNOSTICS k = ROW_COUNT;
    v := v + k;
    FOR b IN SELECT block FROM vcf.load_blocks WHERE load_batch_id = p_load_batch_id LOOP
        DELETE FROM vcf.client_genotypes WHERE variant_id >= b * 1048576 AND variant_id < (b + 1) * 1048576;
        GET DIAGNOSTICS k = ROW_COUNT;
        g := g + k;
    END LOOP;
    DELETE FROM vcf.load_batches WHERE load_batch_id = p_load_batch_id;
    IF mode IS NOT NULL THEN
        PERFORM set_config('citus.multi_shard_modify_mode', mode, true);
    END IF;
    RETURN g + v;
END $$;
COMMENT ON FUNCTION vcf.unload_batch(uuid) IS 'Delete a load''s genotypes (by its blocks of variant ids), variants and batch row; returns the rows removed. Owner only (vcf_unload and force call it).';

-- Rows written by anyone but the owner (the library's writes) or a superuser are checked.
CREATE OR REPLACE FUNCTION vcf.rows_need_check() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT current_user <> 'vcf_pg_loader_owner'
       AND NOT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)
$$;
COMMENT ON FUNCTION vcf.rows_need_check() IS 'True unless the writer is the owner role (the library) or a superuser: their rows skip the client row guard.';

-- One check per COPY statement: every new row lies in a block its load reserved in this
-- transaction and that load is not finished; a genotype's pseudonym is one of its load's samples.
-- The statement's rows are first grouped by (block, load or sample) — a few thousand groups at
-- most, whatever the plan — and the admitted rows are counted into their blocks, so the load's
-- finish needs no recount.
CREATE OR REPLACE FUNCTION vcf.client_rows_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    me xid8 := pg_current_xact_id();
    bad boolean;
    bs bigint[];      -- the statement's (block, load or sample) groups ...
    ks uuid[];
    blocks bigint[];  -- ... and its rows per block
    counts bigint[];
BEGIN
    PERFORM vcf.citus_fence();
    -- The transition table is read by itself first (no temporary table: pg_temp belongs to
    -- the caller, and this runs as the owner); the checks then join arrays, not the transition
    -- table, to vcf.load_blocks and vcf.samples (reference tables on Citus, whose planner
    -- cannot join a transition table).
    IF TG_TABLE_NAME IN ('variants', 'client_variants') THEN
        SELECT array_agg(d.b), array_agg(d.k) INTO bs, ks
          FROM (SELECT variant_id >> 20 AS b, load_batch_id AS k FROM new_rows GROUP BY 1, 2) d;
        SELECT EXISTS (SELECT 1 FROM unnest(bs, ks) AS d(b, k)
                         LEFT JOIN vcf.load_blocks lb ON lb.block = d.b AND lb.load_batch_id = d.k
                                                     AND lb.reserved_xid = me AND NOT lb.finished
                        WHERE lb.block IS NULL) INTO bad;
    ELSE
        SELECT array_agg(d.b), array_agg(d.a) INTO bs, ks
          FROM (SELECT variant_id >> 20 AS b, anonymous_id AS a FROM new_rows GROUP BY 1, 2) d;
        SELECT EXISTS (SELECT 1 FROM unnest(bs, ks) AS d(b, a)
                         LEFT JOIN vcf.load_blocks lb ON lb.block = d.b AND lb.reserved_xid = me AND NOT lb.finished
                         LEFT JOIN vcf.samples s ON s.load_batch_id = lb.load_batch_id AND s.anonymous_id = d.a
                        WHERE s.anonymous_id IS NULL) INTO bad;
    END IF;
    IF bad THEN
        RAISE EXCEPTION 'rows of vcf.% must belong to an unfinished load claimed in this transaction (variant ids from its reserved blocks, its own samples)', TG_TABLE_NAME
            USING ERRCODE = '42501', HINT = 'Load with vcf-pg-loader load (or vcf_load); rows cannot be added to other loads.';
    END IF;
    -- Count the admitted rows into their blocks (a statement's rows fall in one or two blocks).
    SELECT array_agg(d.b), array_agg(d.n) INTO blocks, counts
      FROM (SELECT variant_id >> 20 AS b, count(*) AS n FROM new_rows GROUP BY 1) d;
    FOR i IN 1 .. coalesce(array_length(blocks, 1), 0) LOOP
        IF TG_TABLE_NAME IN ('variants', 'client_variants') THEN
            UPDATE vcf.load_blocks SET variant_rows = variant_rows + counts[i] WHERE block = blocks[i];
        ELSE
            UPDATE vcf.load_blocks SET genotype_rows = genotype_rows + counts[i] WHERE block = blocks[i];
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION vcf.client_rows_guard() IS 'Trigger: refuses client rows outside the blocks and samples of a load claimed in the same transaction (one check per statement).';
DROP TRIGGER IF EXISTS client_rows_guard ON vcf.variants;
CREATE TRIGGER client_rows_guard AFTER INSERT ON vcf.variants REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT WHEN (vcf.rows_need_check()) EXECUTE FUNCTION vcf.client_rows_guard();
DROP TRIGGER IF EXISTS client_rows_guard ON vcf.genotypes;
CREATE TRIGGER client_rows_guard AFTER INSERT ON vcf.genotypes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT WHEN (vcf.rows_need_check()) EXECUTE FUNCTION vcf.client_rows_guard();
DROP TRIGGER IF EXISTS client_rows_guard ON vcf.client_variants;
CREATE TRIGGER client_rows_guard AFTER INSERT ON vcf.client_variants REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT WHEN (vcf.rows_need_check()) EXECUTE FUNCTION vcf.client_rows_guard();
DROP TRIGGER IF EXISTS client_rows_guard ON vcf.client_genotypes;
CREATE TRIGGER client_rows_guard AFTER INSERT ON vcf.client_genotypes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT WHEN (vcf.rows_need_check()) EXECUTE FUNCTION vcf.client_rows_guard();

-- Where a client load's COPY goes: vcf.variants/genotypes while they carry the row guard,
-- else the guarded staging tables (a Citus coordinator).
CREATE OR REPLACE FUNCTION vcf.client_copy_targets(OUT variants text, OUT genotypes text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN staged THEN 'vcf.client_variants' ELSE 'vcf.variants' END,
           CASE WHEN staged THEN 'vcf.client_genotypes' ELSE 'vcf.genotypes' END
      FROM (SELECT (SELECT count(*) FROM pg_trigger t WHERE t.tgname = 'client_rows_guard' AND t.tgenabled <> 'D'
                       AND t.tgrelid IN ('vcf.variants'::regclass, 'vcf.genotypes'::regclass)) < 2 AS staged) s
$$;
COMMENT ON FUNCTION vcf.client_copy_targets() IS 'The tables a client load COPYs into: vcf.variants/genotypes, or the guarded staging tables where those are distributed by Citus.';

-- The load batch claimed in this very transaction by this login role, not yet finished,
-- locked; else 42501. (A claim reserves a block recording the claiming transaction: a client
-- cannot describe, fill or finish an older load, another's, or its own finished one.)
CREATE OR REPLACE FUNCTION vcf.claimed_here(p_load_batch_id uuid) RETURNS vcf.load_batches
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b vcf.load_batches;
BEGIN
    PERFORM vcf.citus_fence();
    SELECT * INTO b FROM vcf.load_batches
     WHERE load_batch_id = p_load_batch_id AND loaded_by_session = session_user
       AND EXISTS (SELECT 1 FROM vcf.load_blocks k WHERE k.load_batch_id = p_load_batch_id
                      AND k.reserved_xid = pg_current_xact_id() AND NOT k.finished)
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'load batch % is not an unfinished load claimed in this transaction by %', p_load_batch_id, session_user
            USING ERRCODE = '42501', HINT = 'Call vcf.client_claim_load() first, in the same transaction.';
    END IF;
    RETURN b;
END $$;
COMMENT ON FUNCTION vcf.claimed_here(uuid) IS 'The unfinished load batch claimed in the current transaction by the session''s login role (locked), else an error. Owner only.';

-- Claim a file's content for a new load (idempotent by SHA-256, as vcf_load): returns the new
-- batch, or the earlier load (already_loaded), or — with p_force, for its own loader or a
-- superuser — removes the earlier load (audited as an unload) and claims again. Waits for a
-- concurrent load of the same content to end, as vcf_load does (the unique index orders them).
-- Options are rebuilt from the three known ones: nothing else reaches the audit row.
CREATE OR REPLACE FUNCTION vcf.client_claim_load(p_file_sha256 text, p_file_size bigint, p_options jsonb,
                                                 p_force boolean DEFAULT false,
                                                 OUT load_batch_id uuid, OUT already_loaded boolean,
                                                 OUT variants bigint, OUT genotypes bigint, OUT samples integer,
                                                 OUT rows_replaced bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    old vcf.load_batches;
    new_id uuid := gen_random_uuid();
    opts jsonb;
    n bigint;
BEGIN
    PERFORM vcf.citus_fence();
    IF p_file_sha256 IS NULL OR p_file_sha256 !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'invalid file_sha256: 64 lower-case hex digits expected' USING ERRCODE = '22023';
    END IF;
    IF p_file_size IS NULL OR p_file_size < 0 THEN
        RAISE EXCEPTION 'invalid file_size' USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(p_options->'force') IS DISTINCT FROM 'boolean' OR jsonb_typeof(p_options->'normalize') IS DISTINCT FROM 'boolean'
       OR NOT coalesce(p_options->>'genotypes' IN ('all', 'carriers', 'none'), false) THEN
        RAISE EXCEPTION 'invalid load options: {"force": bool, "normalize": bool, "genotypes": "all"|"carriers"|"none"} expected'
            USING ERRCODE = '22023';
    END IF;
    -- Client rows are admitted by the row guard only: without it (vcf_distribute() removes it,
    -- Citus runs no such trigger on shards) no client load starts.
    IF (SELECT count(*) FROM pg_trigger t, vcf.client_copy_targets() c WHERE t.tgname = 'client_rows_guard' AND t.tgenabled <> 'D'
           AND t.tgrelid IN (c.variants::regclass, c.genotypes::regclass)) < 2 THEN
        RAISE EXCEPTION 'client loads are off here: the row guard on the tables client rows go to is missing or disabled'
            USING ERRCODE = '0A000',
                  HINT = 'Run vcf-pg-loader init-db (or ALTER EXTENSION vcf_pg_loader UPDATE) again to restore it, or load with SELECT vcf_load(...).';
    END IF;
    opts := jsonb_build_object('force', p_options->'force', 'normalize', p_options->'normalize', 'genotypes', p_options->'genotypes');
    rows_replaced := 0;
    FOR attempt IN 1..4 LOOP
        INSERT INTO vcf.load_batches (load_batch_id, source_file, file_sha256, file_size, loaded_by,
                                      loaded_by_session, options)
        VALUES (new_id, '', p_file_sha256, p_file_size, session_user, session_user, opts)
        ON CONFLICT (file_sha256) DO NOTHING;
        IF FOUND THEN
            PERFORM vcf.reserve_block(new_id);
            -- Audited at once: a claim committed without its finish still shows in the log.
            PERFORM phi_vault.append_audit('load_started', jsonb_build_object(
                'file_sha256', p_file_sha256, 'file_size', p_file_size, 'load_batch_id', new_id::text,
                'options', opts, 'method', 'client'));
            load_batch_id := new_id; already_loaded := false;
            variants := 0; genotypes := 0; samples := 0;
            RETURN;
        END IF;
        SELECT * INTO old FROM vcf.load_batches b WHERE b.file_sha256 = p_file_sha256;
        CONTINUE WHEN NOT FOUND; -- the earlier load was just removed: claim again
        IF NOT p_force THEN
            PERFORM phi_vault.append_audit('load', jsonb_build_object(
                'file_sha256', p_file_sha256, 'load_batch_id', old.load_batch_id::text,
                'already_loaded', true, 'method', 'client'));
            load_batch_id := old.load_batch_id; already_loaded := true;
            variants := old.variants; genotypes := old.genotypes; samples := old.samples;
            RETURN;
        END IF;
        IF NOT (old.loaded_by = session_user AND coalesce(old.loaded_by_session, session_user) = session_user)
           AND NOT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false) THEN
            RAISE LOG 'vcf_pg_loader audit: replace by %: refused: load batch % is not theirs', session_user, old.load_batch_id;
            RAISE EXCEPTION 'permission denied to replace load batch %', old.load_batch_id
                USING ERRCODE = '42501', HINT = 'Only its loader (or a superuser) may replace or unload a load.';
        END IF;
        n := vcf.unload_batch(old.load_batch_id);
        PERFORM phi_vault.append_audit('unload', jsonb_build_object(
            'load_batch_id', old.load_batch_id::text, 'rows', n, 'reason', 'replaced by a forced load', 'method', 'client'));
        rows_replaced := rows_replaced + n;
    END LOOP;
    RAISE EXCEPTION 'could not claim content % (a concurrent load keeps replacing it)', p_file_sha256
        USING ERRCODE = '40001', HINT = 'Retry; under REPEATABLE READ or SERIALIZABLE, use READ COMMITTED.';
END $$;
COMMENT ON FUNCTION vcf.client_claim_load(text, bigint, jsonb, boolean) IS 'Client load, step 1: claim a file content (SHA-256) for a new load, or return the earlier load, or (force) replace the caller''s own earlier load. vcf_loader.';

-- Another block of variant ids for the claimed load.
CREATE OR REPLACE FUNCTION vcf.client_reserve_block(p_load_batch_id uuid) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
BEGIN
    PERFORM vcf.claimed_here(p_load_batch_id);
    RETURN vcf.reserve_block(p_load_batch_id);
END $$;
COMMENT ON FUNCTION vcf.client_reserve_block(uuid) IS 'Client load: a block of 2^20 variant ids for the claimed load (variant_id = block * 2^20 + i). vcf_loader.';

-- Record what the header says (redacted by the client, as vcf_load redacts) and the samples:
-- each one a pseudonym of this content made by this login (so no one can attach rows to
-- another's samples).
CREATE OR REPLACE FUNCTION vcf.client_describe_load(p_load_batch_id uuid, p_source_file text, p_file_format text,
                                                    p_compression text, p_reference text, p_header text,
                                                    p_samples uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    b vcf.load_batches := vcf.claimed_here(p_load_batch_id);
BEGIN
    IF EXISTS (SELECT 1 FROM vcf.samples s WHERE s.load_batch_id = p_load_batch_id) THEN
        RAISE EXCEPTION 'load batch % is already described', p_load_batch_id USING ERRCODE = '55000';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_samples) AS u(a)
                WHERE a IS NULL OR NOT EXISTS (SELECT 1 FROM phi_vault.sample_id_mapping m
                                                WHERE m.anonymous_id = u.a AND m.file_sha256 = b.file_sha256
                                                  AND m.created_by = session_user)) THEN
        RAISE EXCEPTION 'every sample must be a pseudonym of this content made by this login' USING ERRCODE = '22023';
    END IF;
    UPDATE vcf.load_batches
       SET source_file = coalesce(p_source_file, ''), file_format = p_file_format, compression = p_compression,
           reference = p_reference, header = p_header, samples = coalesce(cardinality(p_samples), 0)
     WHERE load_batch_id = p_load_batch_id;
    INSERT INTO vcf.samples (load_batch_id, sample_index, anonymous_id)
    SELECT p_load_batch_id, u.i - 1, u.a FROM unnest(p_samples) WITH ORDINALITY AS u(a, i);
END $$;
COMMENT ON FUNCTION vcf.client_describe_load(uuid, text, text, text, text, text, uuid[]) IS 'Client load, step 3: the load''s (redacted) source, header and sample pseudonyms (each a pseudonym of this content). vcf_loader.';

-- The rows present (not the client's word: the row guard counted them into the load's blocks;
-- a superuser's, which skip the guard, are counted here through the indexes), recorded with the client's record count
-- and warnings, mark the load finished (no more rows, no second finish), and audit it. (A
-- claim committed without this shows as load_started in the audit log, with zero counts.)
CREATE OR REPLACE FUNCTION vcf.client_finish_load(p_load_batch_id uuid, p_variants bigint, p_genotypes bigint,
                                                  p_records bigint, p_warnings jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
SET enable_seqscan = off AS $$
DECLARE
    b vcf.load_batches := vcf.claimed_here(p_load_batch_id);
    nv bigint;
    ng bigint := 0;
    k bigint;
    blk bigint;
BEGIN
    IF coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false) THEN
        -- A superuser's rows skip the guard, which counts the others': count them here.
        SELECT (SELECT count(*) FROM vcf.variants WHERE load_batch_id = p_load_batch_id)
             + (SELECT count(*) FROM vcf.client_variants WHERE load_batch_id = p_load_batch_id) INTO nv;
        FOR blk IN SELECT block FROM vcf.load_blocks WHERE load_batch_id = p_load_batch_id LOOP
            SELECT (SELECT count(*) FROM vcf.genotypes WHERE variant_id >= blk * 1048576 AND variant_id < (blk + 1) * 1048576)
                 + (SELECT count(*) FROM vcf.client_genotypes WHERE variant_id >= blk * 1048576 AND variant_id < (blk + 1) * 1048576)
              INTO k;
            ng := ng + k;
        END LOOP;
    ELSE
        SELECT coalesce(sum(variant_rows), 0), coalesce(sum(genotype_rows), 0) INTO nv, ng
          FROM vcf.load_blocks WHERE load_batch_id = p_load_batch_id;
    END IF;
    IF nv IS DISTINCT FROM p_variants OR ng IS DISTINCT FROM p_genotypes THEN
        RAISE EXCEPTION 'load batch %: (%, %) variant and genotype rows reported, (%, %) present', p_load_batch_id,
            p_variants, p_genotypes, nv, ng USING ERRCODE = 'XX000';
    END IF;
    IF p_records IS NULL OR p_records < 0 OR jsonb_typeof(coalesce(p_warnings, '{}'::jsonb)) <> 'object' THEN
        RAISE EXCEPTION 'invalid record count or warnings' USING ERRCODE = '22023';
    END IF;
    -- Staged rows (a Citus coordinator) move into the distributed tables, as the owner: the
    -- load's variants, and its genotypes block by block (genotype rows may come without
    -- variant rows); none of the load's rows stays behind in staging.
    IF EXISTS (SELECT 1 FROM vcf.client_variants WHERE load_batch_id = p_load_batch_id) THEN
        INSERT INTO vcf.variants SELECT * FROM vcf.client_variants WHERE load_batch_id = p_load_batch_id;
        DELETE FROM vcf.client_variants WHERE load_batch_id = p_load_batch_id;
    END IF;
    FOR blk IN SELECT block FROM vcf.load_blocks WHERE load_batch_id = p_load_batch_id LOOP
        IF EXISTS (SELECT 1 FROM vcf.client_genotypes WHERE variant_id >= blk * 1048576 AND variant_id < (blk + 1) * 1048576) THEN
            INSERT INTO vcf.genotypes SELECT * FROM vcf.client_genotypes
             WHERE variant_id >= blk * 1048576 AND variant_id < (blk + 1) * 1048576;
            DELETE FROM vcf.client_genotypes WHERE variant_id >= blk * 1048576 AND variant_id < (blk + 1) * 1048576;
        END IF;
    END LOOP;
    UPDATE vcf.load_batches SET variants = nv, genotypes = ng, records = p_records,
                                warnings = coalesce(p_warnings, '{}'::jsonb)
     WHERE load_batch_id = p_load_batch_id;
    UPDATE vcf.load_blocks SET finished = true WHERE load_batch_id = p_load_batch_id;
    PERFORM vcf.summarize_genotypes();
    PERFORM phi_vault.append_audit('load', jsonb_build_object(
        'source_file', b.source_file, 'file_sha256', b.file_sha256, 'load_batch_id', p_load_batch_id::text,
        'records', p_records, 'variants', nv, 'genotypes', ng, 'samples', b.samples,
        'options', b.options, 'method', 'client', 'already_loaded', false));
END $$;
COMMENT ON FUNCTION vcf.client_finish_load(uuid, bigint, bigint, bigint, jsonb) IS 'Client load, last step: count the rows present (they must match the client''s counts), record them, mark the load finished and audit it. vcf_loader.';

-- ---------------------------------------------------------------- pseudonyms
-- Envelope v1 (CONTRACT §3) checked by shape: magic, version, algorithm, length.
CREATE OR REPLACE FUNCTION phi_vault.envelope_ok(p bytea) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT p IS NOT NULL AND length(p) >= 36 AND substring(p FROM 1 FOR 4) = '\x50480101'::bytea
$$;
COMMENT ON FUNCTION phi_vault.envelope_ok(bytea) IS 'True for a bytea shaped like a ciphertext envelope v1 (magic, version, algorithm, length).';

-- Existing pseudonyms of this load's content, found by blind index (the client sends the
-- index of each of its sample names under every key of its keyring): a client learns the
-- pseudonym only of a name it already holds, for the content it claimed, and only of
-- mappings its own login role made (so no one can plant pseudonyms for another's file).
CREATE OR REPLACE FUNCTION phi_vault.client_find_pseudonyms(p_load_batch_id uuid, p_sample_index integer[],
                                                            p_blind_index bytea[])
RETURNS TABLE (sample_index integer, anonymous_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    b vcf.load_batches := vcf.claimed_here(p_load_batch_id);
BEGIN
    -- As vcf_load: rotation's last pass takes SHARE ROW EXCLUSIVE, so a load waits for it.
    LOCK TABLE phi_vault.sample_id_mapping IN ROW EXCLUSIVE MODE;
    RETURN QUERY
    SELECT DISTINCT ON (u.i) u.i, m.anonymous_id
      FROM unnest(p_sample_index, p_blind_index) AS u(i, h)
      JOIN phi_vault.sample_id_mapping m ON m.original_id_hmac = u.h AND m.file_sha256 = b.file_sha256
                                         AND m.created_by = session_user
     ORDER BY u.i, m.mapping_id;
END $$;
COMMENT ON FUNCTION phi_vault.client_find_pseudonyms(uuid, integer[], bytea[]) IS 'Client load, step 2: pseudonyms already given to these blind indexes for the claimed content. vcf_loader.';

-- New pseudonyms with their envelopes (sealed on the client, context = the pseudonym) and
-- blind indexes. Never a plaintext identifier.
CREATE OR REPLACE FUNCTION phi_vault.client_add_pseudonyms(p_load_batch_id uuid, p_source_file text,
                                                           p_anonymous_ids uuid[], p_envelopes bytea[],
                                                           p_blind_index bytea[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
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
    -- Pseudonyms are random: a clash is an error that says nothing of which one exists.
    IF EXISTS (SELECT 1 FROM phi_vault.sample_id_mapping m WHERE m.anonymous_id = ANY (p_anonymous_ids))
       OR (SELECT count(DISTINCT a) FROM unnest(p_anonymous_ids) AS a) <> cardinality(p_anonymous_ids) THEN
        RAISE EXCEPTION 'pseudonyms must be new random UUIDs' USING ERRCODE = '22023';
    END IF;
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
BEGIN
    PERFORM vcf.citus_fence();
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        -- The refusal's trace survives the rollback: the server log, as phi_reverse_lookup's.
        RAISE LOG 'vcf_pg_loader audit: reverse_lookup by %: refused: no reason given', session_user;
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    ids uuid[];
BEGIN
    PERFORM vcf.citus_fence();
    SELECT coalesce(array_agg(m.anonymous_id ORDER BY m.mapping_id), '{}') INTO ids
      FROM phi_vault.sample_id_mapping m WHERE m.original_id_hmac = ANY (p_blind_index);
    PERFORM phi_vault.append_audit('lookup', jsonb_build_object('matches', cardinality(ids), 'method', 'client'));
    RETURN QUERY SELECT unnest(ids);
END $$;
COMMENT ON FUNCTION phi_vault.client_lookup(bytea[]) IS 'Pseudonyms whose blind index is one of these (a name''s index under each key the client holds); audited. phi_admin.';

-- ---------------------------------------------------------------- rotation (phi_admin)
-- Up to p_limit rows not under the active key after mapping_id p_after (a cursor: a row the
-- client cannot open is reported and passed, never retried for ever), locked (SKIP LOCKED:
-- concurrent rotators share the work), for the client to re-seal.
CREATE OR REPLACE FUNCTION phi_vault.client_rotation_rows(p_active_key_id text, p_limit integer, p_after bigint DEFAULT 0)
RETURNS TABLE (mapping_id bigint, anonymous_id uuid, key_id text, original_id_encrypted bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
BEGIN
    PERFORM vcf.citus_fence();
    IF p_active_key_id IS NULL OR p_active_key_id !~ '^[0-9a-f]{8}$' OR p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION 'invalid active key id or batch size' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT m.mapping_id, m.anonymous_id, m.key_id, m.original_id_encrypted FROM phi_vault.sample_id_mapping m
     WHERE m.original_id_encrypted IS NOT NULL AND m.key_id <> p_active_key_id AND m.mapping_id > coalesce(p_after, 0)
     ORDER BY m.mapping_id LIMIT p_limit FOR UPDATE SKIP LOCKED;
END $$;
COMMENT ON FUNCTION phi_vault.client_rotation_rows(text, integer, bigint) IS 'Client rotation: a batch of mapping rows not under the given active key (after a mapping_id cursor), locked for this transaction. phi_admin.';

-- Write re-sealed rows (each only if still under the key it was read under, and only to a
-- different key) and audit the batch: which rows (a digest of their pseudonyms), from which
-- keys, to which.
CREATE OR REPLACE FUNCTION phi_vault.client_rotate(p_anonymous_ids uuid[], p_old_key_ids text[],
                                                   p_envelopes bytea[], p_blind_index bytea[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    active text;
    n bigint;
BEGIN
    PERFORM vcf.citus_fence();
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
    IF active = ANY (p_old_key_ids) THEN
        RAISE EXCEPTION 'rotation moves rows to another key: key % is already theirs', active USING ERRCODE = '22023';
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
            'active_key_id', active, 'rows_rotated', n, 'method', 'client',
            'from_key_ids', (SELECT jsonb_agg(DISTINCT k ORDER BY k) FROM unnest(p_old_key_ids) AS k),
            'rows_digest', (SELECT md5(string_agg(a::text, ',' ORDER BY a)) FROM unnest(p_anonymous_ids) AS a)));
    END IF;
    RETURN n;
END $$;
COMMENT ON FUNCTION phi_vault.client_rotate(uuid[], text[], bytea[], bytea[]) IS 'Client rotation: write re-sealed envelopes and blind indexes (rows still under the key they were read under, moved to another key); audited per batch with a digest of the rows. phi_admin.';

-- ---------------------------------------------------------------- who may call what
-- Every function of ours is owned by the owner role (the installer cannot redefine the
-- triggers' guarantees later without the owner's rights); the client API's are callable only
-- by the roles granted below.
DO $own$
DECLARE
    f regprocedure;
BEGIN
    ALTER TABLE vcf.load_blocks OWNER TO vcf_pg_loader_owner;
    ALTER TABLE vcf.forgotten_genotype_pages OWNER TO vcf_pg_loader_owner;
    ALTER TABLE vcf.client_variants OWNER TO vcf_pg_loader_owner;
    ALTER TABLE vcf.client_genotypes OWNER TO vcf_pg_loader_owner;
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace IN ('vcf'::pg_catalog.regnamespace, 'phi_vault'::pg_catalog.regnamespace) ORDER BY p.oid LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO vcf_pg_loader_owner', f);
    END LOOP;
    FOREACH f IN ARRAY ARRAY[
        'phi_vault.append_audit(text, jsonb)', 'phi_vault.seal_audit()', 'vcf.reserve_block(uuid)',
        'vcf.unload_batch(uuid)', 'vcf.summarize_genotypes()', 'vcf.genotypes_distributed()',
        'vcf.genotype_pages(bigint)', 'vcf.forget_genotype_pages(int8range)', 'vcf.forgotten_pages()', 'vcf.claimed_here(uuid)',
        'vcf.client_claim_load(text, bigint, jsonb, boolean)', 'vcf.client_reserve_block(uuid)',
        'vcf.client_describe_load(uuid, text, text, text, text, text, uuid[])',
        'vcf.client_finish_load(uuid, bigint, bigint, bigint, jsonb)',
        'phi_vault.client_find_pseudonyms(uuid, integer[], bytea[])',
        'phi_vault.client_add_pseudonyms(uuid, text, uuid[], bytea[], bytea[])',
        'phi_vault.client_reveal(uuid, text)', 'phi_vault.client_lookup(bytea[])',
        'phi_vault.client_rotation_rows(text, integer, bigint)', 'phi_vault.client_rotate(uuid[], text[], bytea[], bytea[])',
        'vcf.client_rows_guard()', 'vcf.client_copy_targets()', 'vcf.citus_fence()']::regprocedure[]
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END $own$;
GRANT EXECUTE ON FUNCTION vcf.client_claim_load(text, bigint, jsonb, boolean), vcf.client_reserve_block(uuid),
                          vcf.client_describe_load(uuid, text, text, text, text, text, uuid[]),
                          vcf.client_finish_load(uuid, bigint, bigint, bigint, jsonb),
                          phi_vault.client_find_pseudonyms(uuid, integer[], bytea[]),
                          phi_vault.client_add_pseudonyms(uuid, text, uuid[], bytea[], bytea[]) TO vcf_loader;
GRANT EXECUTE ON FUNCTION phi_vault.client_reveal(uuid, text), phi_vault.client_lookup(bytea[]),
                          phi_vault.client_rotation_rows(text, integer, bigint),
                          phi_vault.client_rotate(uuid[], text[], bytea[], bytea[]) TO phi_admin;
-- Sealing is for the roles whose operations write audit rows (phi_viewer writes none).
GRANT EXECUTE ON FUNCTION phi_vault.seal_audit() TO vcf_loader, phi_admin;
REVOKE ALL ON FUNCTION phi_vault.verify_audit_chain(bigint, bytea, xid8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION phi_vault.verify_audit_chain(bigint, bytea, xid8) TO phi_admin;
GRANT SELECT ON vcf.load_blocks TO phi_admin, phi_viewer;
-- The client's binary COPY: rows of its own claimed load (vcf.client_rows_guard checks them).
GRANT USAGE ON SCHEMA vcf, phi_vault TO vcf_loader;
GRANT INSERT ON vcf.variants, vcf.genotypes, vcf.client_variants, vcf.client_genotypes TO vcf_loader;
GRANT EXECUTE ON FUNCTION vcf.client_copy_targets() TO vcf_loader;
-- The membership schema.sql gave a non-superuser installer for the ownership changes ends here.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
       AND pg_catalog.pg_has_role(current_user, 'vcf_pg_loader_owner', 'MEMBER') THEN
        EXECUTE pg_catalog.format('REVOKE vcf_pg_loader_owner FROM %I', current_user);
    END IF;
END $$;
