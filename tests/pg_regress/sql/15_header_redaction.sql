-- What is stored of a header and a path (CONTRACT §5 v2): structural lines byte for byte;
-- person fields become pseudonyms (samples) or "redacted" (anyone else); command lines
-- become <redacted>; elsewhere a name is replaced between non-alphanumeric characters.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';
SET client_min_messages = warning;
SELECT variants, samples FROM vcf_load('/tmp/vcf_pg_loader_regress/local/redaction_NA12878.vcf');
RESET client_min_messages;
-- Pseudonyms shown as S0, S1 (sample index) so the output is stable.
CREATE TEMP VIEW stored AS
SELECT regexp_replace(regexp_replace(b.header, s0.anonymous_id::text, '<S0>', 'g'), s1.anonymous_id::text, '<S1>', 'g') AS header,
       regexp_replace(b.source_file, s0.anonymous_id::text, '<S0>', 'g') AS source_file, b.load_batch_id,
       s0.anonymous_id AS a0, s1.anonymous_id AS a1
  FROM vcf.load_batches b
  JOIN vcf.samples s0 ON s0.load_batch_id = b.load_batch_id AND s0.sample_index = 0
  JOIN vcf.samples s1 ON s1.load_batch_id = b.load_batch_id AND s1.sample_index = 1
 WHERE b.source_file LIKE '%redaction_%';
SELECT source_file FROM stored;
SELECT line FROM stored, regexp_split_to_table(header, E'\n') WITH ORDINALITY AS l(line, n) WHERE line <> '' ORDER BY n;
-- INFO String items equal to a name become its pseudonym; a longer word or an annotation
-- subfield does not.
SELECT v.pos, replace(replace(v.info->>'denovo', s.a0::text, '<S0>'), s.a1::text, '<S1>') AS denovo, v.info->>'CSQ' AS csq
  FROM vcf.variants v JOIN stored s USING (load_batch_id) ORDER BY v.pos;
-- The real path is kept sealed in the vault for vcf_validate and admins.
SELECT path IS NULL AS not_in_clear, phi_key_id(path_encrypted) = (SELECT active_key_id FROM phi_encryption_status()) AS sealed
  FROM phi_vault.load_sources JOIN stored USING (load_batch_id);
SELECT "check", ok FROM vcf_validate((SELECT load_batch_id FROM stored)) ORDER BY 1;

-- Samples named 1, 2 and DP: numbers and short names are replaced only in person fields
-- and INFO items, never in free text ("version 1.16") or structural lines (Number=1).
SET client_min_messages = warning;
SELECT samples FROM vcf_load('/tmp/vcf_pg_loader_regress/local/numeric_samples.vcf');
RESET client_min_messages;
SELECT line FROM vcf.load_batches b, regexp_split_to_table(b.header, E'\n') WITH ORDINALITY AS l(line, n)
 WHERE b.source_file LIKE '%numeric_samples.vcf' AND line LIKE '##%' ORDER BY n;
SELECT (SELECT count(*) FROM regexp_split_to_table(b.header, E'\n') l
         WHERE l LIKE '#CHROM%' AND l ~ '\t1\t' ) AS name_1_left_in_chrom_line
  FROM vcf.load_batches b WHERE b.source_file LIKE '%numeric_samples.vcf';
