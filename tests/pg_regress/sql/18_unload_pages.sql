-- vcf_unload (and force => true) deletes a load's genotype rows block by block of its variant
-- ids, through the BRIN index on vcf.genotypes(variant_id). A BRIN range that is not summarized
-- is visited by every such delete, so every load summarizes the ranges it appended when it
-- finishes, and an unload forgets the summaries of the pages it emptied (a later load that
-- fills them must not widen them over other loads' ids). The cost of an unload is its own
-- pages — right after loads, and after earlier unloads — not the size of the table.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/ba.keys';
SET client_min_messages = warning;

-- Heap pages a load's block deletes would visit (as vcf.unload_batch plans them), and the
-- pages its genotype rows lie on.
CREATE FUNCTION pg_temp.visited(b uuid) RETURNS bigint LANGUAGE plpgsql
SET enable_seqscan = off SET max_parallel_workers_per_gather = 0 AS $$
DECLARE blk bigint; plan jsonb; n bigint := 0;
BEGIN
  PERFORM vcf.summarize_genotypes();   -- as vcf.unload_batch does first
  FOR blk IN SELECT block FROM vcf.load_blocks WHERE load_batch_id = b LOOP
    EXECUTE format('EXPLAIN (ANALYZE, FORMAT JSON, TIMING OFF, COSTS OFF) SELECT count(*) FROM vcf.genotypes WHERE variant_id >= %s AND variant_id < %s',
                   blk * 1048576, (blk + 1) * 1048576) INTO plan;
    n := n + coalesce((SELECT sum(x::text::bigint) FROM jsonb_path_query(plan, 'strict $.**."Lossy Heap Blocks"') x), 0)
           + coalesce((SELECT sum(x::text::bigint) FROM jsonb_path_query(plan, 'strict $.**."Exact Heap Blocks"') x), 0);
  END LOOP;
  RETURN n;
END $$;
CREATE FUNCTION pg_temp.own_pages(b uuid) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(DISTINCT (g.ctid::text::point)[0])::bigint FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id)
   WHERE v.load_batch_id = b $$;
-- The deletes visit the load's own pages, plus per block at most a range of 128 pages at
-- either end (a range shared with the load before or after it); the table is larger than that.
CREATE FUNCTION pg_temp.report(b uuid) RETURNS TABLE (own_pages_over_1000 boolean, visits_only_its_pages boolean,
                                                       table_is_larger boolean) LANGUAGE sql AS $$
  WITH l AS (SELECT pg_temp.own_pages(b) AS own, pg_temp.visited(b) AS visited,
                    256 * (SELECT count(*) FROM vcf.load_blocks WHERE load_batch_id = b) AS ends)
  SELECT own > 1000, visited <= own + ends, pg_relation_size('vcf.genotypes') / 8192 > own + ends FROM l $$;

-- Two loads of 400,000 genotype rows each, and nothing analyzed.
SELECT load_batch_id AS a FROM vcf_load('/tmp/vcf_pg_loader_regress/local/big_generated.vcf') \gset
SELECT load_batch_id AS b FROM vcf_load('/tmp/vcf_pg_loader_regress/local/big_generated_chr2.vcf') \gset
-- Right after the loads: each one's delete visits its own pages only.
SELECT * FROM pg_temp.report(:'a');
SELECT * FROM pg_temp.report(:'b');
-- Nothing is left to summarize after a load.
SELECT vcf.summarize_genotypes() AS ranges_left;

-- Unload the first, VACUUM (its pages become free space), load it again: the new rows fill the
-- freed pages, and the other load's delete still visits its own pages only.
SELECT vcf_unload(:'a') AS rows_removed;
VACUUM vcf.genotypes;
SELECT load_batch_id AS a FROM vcf_load('/tmp/vcf_pg_loader_regress/local/big_generated.vcf') \gset
SELECT * FROM pg_temp.report(:'b');
SELECT * FROM pg_temp.report(:'a');

-- force => true of the other: the same holds for the reloaded rows.
SELECT load_batch_id AS b FROM vcf_load('/tmp/vcf_pg_loader_regress/local/big_generated_chr2.vcf', force => true) \gset
SELECT * FROM pg_temp.report(:'b');
SELECT * FROM pg_temp.report(:'a');

-- Two force reloads in one transaction (each unload's pages are still full of rows the
-- transaction deleted, so its later summaries pass them over), then a VACUUM frees them and
-- a force reload of the other fills them: each load's delete still visits its own pages only.
BEGIN;
SELECT load_batch_id AS a FROM vcf_load('/tmp/vcf_pg_loader_regress/local/big_generated.vcf', force => true) \gset
SELECT load_batch_id AS a FROM vcf_load('/tmp/vcf_pg_loader_regress/local/big_generated.vcf', force => true) \gset
COMMIT;
VACUUM vcf.genotypes;
SELECT load_batch_id AS b FROM vcf_load('/tmp/vcf_pg_loader_regress/local/big_generated_chr2.vcf', force => true) \gset
SELECT * FROM pg_temp.report(:'a');
SELECT * FROM pg_temp.report(:'b');

-- The helpers are the owner's: no one else may call them.
SELECT p::regprocedure AS function, has_function_privilege('phi_admin', p, 'EXECUTE') AS phi_admin,
       has_function_privilege('vcf_loader', p, 'EXECUTE') AS vcf_loader, has_function_privilege('phi_viewer', p, 'EXECUTE') AS phi_viewer
  FROM unnest(ARRAY['vcf.summarize_genotypes()', 'vcf.genotype_pages(bigint)', 'vcf.forget_genotype_pages(int8range)',
                    'vcf.genotypes_distributed()', 'vcf.forgotten_pages()']::regprocedure[]) AS p ORDER BY 1;
-- … and so is the table of pages an unload forgot (nothing but the owner reads or writes it).
SELECT r AS role, has_table_privilege(r, 'vcf.forgotten_genotype_pages', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') AS any_privilege
  FROM unnest(ARRAY['phi_admin', 'vcf_loader', 'phi_viewer']) AS r ORDER BY 1;

SELECT sum(vcf_unload(load_batch_id)) > 0 AS unloaded FROM vcf.load_batches WHERE load_batch_id IN (:'a', :'b');
