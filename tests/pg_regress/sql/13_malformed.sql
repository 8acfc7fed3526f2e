-- The malformed corpus (tests/malformed/make.sh, one file per defect): every file either loads
-- (where htslib would, warnings counted) or fails with a SQLSTATE and a message naming the file,
-- line and field. Either way nothing of it remains (rows_left counts every vcf.* row) and the
-- session goes on.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/ba.keys';
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.try(f text) RETURNS TABLE (result text, rows_left bigint) LANGUAGE plpgsql AS $$
DECLARE
    b uuid; v bigint; g bigint; w jsonb;
BEGIN
    BEGIN
        SELECT l.load_batch_id, l.variants, l.genotypes INTO b, v, g
          FROM vcf_load('/tmp/vcf_pg_loader_regress/malformed/' || f, force => true) l;
        SELECT warnings INTO w FROM vcf.load_batches WHERE load_batch_id = b;
        result := format('loaded: %s variants, %s genotypes, warnings %s', v, g, w);
        PERFORM vcf_unload(b);
    EXCEPTION WHEN OTHERS THEN
        result := SQLSTATE || ' ' || replace(SQLERRM, '/tmp/vcf_pg_loader_regress/malformed/', '');
        -- Messages name positions, never sample names (all of this corpus's start with MAL_).
        IF SQLERRM LIKE '%MAL\_%' THEN
            result := 'LEAKS A SAMPLE NAME: ' || result;
        END IF;
    END;
    rows_left := (SELECT count(*) FROM vcf.load_batches) + (SELECT count(*) FROM vcf.samples)
               + (SELECT count(*) FROM vcf.variants) + (SELECT count(*) FROM vcf.genotypes);
    RETURN NEXT;
END $$;
SELECT f AS file, r.result, r.rows_left
  FROM (SELECT pg_ls_dir('/tmp/vcf_pg_loader_regress/malformed') AS f UNION ALL SELECT 'no_such_file.vcf') files,
       LATERAL pg_temp.try(f) r
 ORDER BY f;
-- The 100,000-sample header made 100,000 pseudonyms, one per name, each encrypted.
SELECT count(*) AS mappings_of_wide_file FROM phi_vault.sample_id_mapping WHERE source_file LIKE '%samples_100000.vcf';
SELECT 'the session still works' AS after_the_corpus;
