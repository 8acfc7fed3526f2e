-- Broken input: SQLSTATE 22P04 naming file, line and field; nothing is left behind.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';
-- try_load shows the SQLSTATE with the message.
CREATE FUNCTION pg_temp.try_load(f text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM * FROM vcf_load(f);
    RETURN 'loaded';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || replace(SQLERRM, '/tmp/vcf_pg_loader_regress/local/', '');
END $$;
SELECT f AS file, pg_temp.try_load('/tmp/vcf_pg_loader_regress/local/' || f) AS result
  FROM unnest(ARRAY['broken_middle.vcf', 'duplicate_samples.vcf', 'missing_chrom_line.vcf', 'empty.vcf',
                    'bad_gt.vcf', 'wrong_columns.vcf', 'truncated.vcf.gz', 'no_such_file.vcf', '.']) AS f;
-- Cancel mid-load (here statement_timeout; Ctrl-C is the same interrupt): nothing is left.
\set VERBOSITY terse
SET statement_timeout = '500ms';
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/big_generated.vcf');
RESET statement_timeout;
\set VERBOSITY default
-- Nothing of any failed load exists, and the session still works.
SELECT (SELECT count(*) FROM vcf.load_batches) AS batches, (SELECT count(*) FROM vcf.variants) AS variants,
       (SELECT count(*) FROM vcf.genotypes) AS genotypes;
-- A header-only file loads as zero rows.
SELECT variants, genotypes, samples FROM vcf_load('/tmp/vcf_pg_loader_regress/local/header_only.vcf');
-- Without a key, sample identifiers are refused (require_encryption is on by default).
RESET vcf_pg_loader.phi_key_file;
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf', force => true);
