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
-- Progress is visible to other sessions in pg_stat_progress_copy while a load runs: start a
-- load in a second session (dblink over the Unix socket), watch it from here, then cancel it.
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('loader', format('host=/var/run/postgresql port=%s dbname=%s user=postgres',
                                       current_setting('port'), current_database()));
SELECT dblink_exec('loader', 'SET vcf_pg_loader.phi_key_file = ''/tmp/vcf_pg_loader_regress/keys/a.keys''');
SELECT dblink_exec('loader', 'BEGIN');  -- whatever happens below, that load never commits
SELECT dblink_send_query('loader', 'SELECT * FROM vcf_load(''/tmp/vcf_pg_loader_regress/local/big_generated.vcf'')');
CREATE FUNCTION pg_temp.watch_progress() RETURNS TABLE (command text, type text, bytes_total_is_file_size boolean,
                                                       bytes_processed_positive boolean, tuples_processed_positive boolean)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        RETURN QUERY SELECT p.command, p.type, p.bytes_total = 13489716, p.bytes_processed > 0, p.tuples_processed > 0
                       FROM pg_stat_progress_copy p
                      WHERE p.relid = 'vcf.variants'::regclass AND p.tuples_processed > 0;
        IF FOUND THEN RETURN; END IF;
        PERFORM pg_sleep(0.05);
        PERFORM pg_stat_clear_snapshot();  -- else the whole loop sees one snapshot of activity
    END LOOP;
END $$;
SELECT * FROM pg_temp.watch_progress();
SELECT dblink_cancel_query('loader');
SELECT dblink_disconnect('loader');  -- the open transaction is rolled back with the session
-- Nothing of any failed load exists, and the session still works.
SELECT (SELECT count(*) FROM vcf.load_batches) AS batches, (SELECT count(*) FROM vcf.variants) AS variants,
       (SELECT count(*) FROM vcf.genotypes) AS genotypes;
-- A header-only file loads as zero rows.
SELECT variants, genotypes, samples FROM vcf_load('/tmp/vcf_pg_loader_regress/local/header_only.vcf');
-- Without a key, sample identifiers are refused (require_encryption is on by default).
RESET vcf_pg_loader.phi_key_file;
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf', force => true);
