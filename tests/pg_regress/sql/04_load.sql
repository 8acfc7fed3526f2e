-- vcf_load: one row per ALT allele, sample names replaced by pseudonyms before any row is written.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';
SELECT variants, genotypes, samples, already_loaded FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf');

-- Multi-allelic record decomposed; Number=A sliced to a scalar, R to [ref, alt], G to 3 values;
-- normalize trims shared bases (CTT>CT becomes CT>C; CTT>GTT becomes C>G).
SELECT chrom, pos, end_pos, ref, alt, alt_index, qual, filter, af, info::text
  FROM vcf.variants ORDER BY pos, alt_index;
-- Genotypes: GT as written, dosage of *this* ALT, AD sliced, PL (Number=G) sliced in format.
SELECT v.pos, v.alt_index, v.alt, s.sample_index, g.gt, g.alt_dosage, g.phased, g.dp, g.gq, g.ad, g.format::text
  FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id)
  JOIN vcf.samples s ON s.anonymous_id = g.anonymous_id AND s.load_batch_id = v.load_batch_id
 ORDER BY v.pos, v.alt_index, s.sample_index;
-- Lenient findings are counted, not fatal.
SELECT file_format, compression, records, variants, genotypes, samples, warnings FROM vcf.load_batches;

-- No sample name anywhere in vcf.*; the header keeps its lines with pseudonyms.
SELECT count(*) AS rows_naming_a_patient FROM vcf.load_batches WHERE header LIKE '%PATIENT_%';
SELECT count(*) AS info_naming_a_patient FROM vcf.variants WHERE info::text LIKE '%PATIENT_%';
SELECT key_id IS NOT NULL AS encrypted, original_id IS NULL AS no_plaintext, count(*)
  FROM phi_vault.sample_id_mapping GROUP BY 1, 2;

-- Same content again: the existing batch, with a NOTICE; force replaces it atomically.
SELECT variants, genotypes, samples, already_loaded FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf');
SELECT variants, genotypes, samples, already_loaded FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf', force => true);
SELECT count(*) AS batches, (SELECT count(*) FROM vcf.variants) AS variants FROM vcf.load_batches;
-- One pseudonym per (sample name, file content), kept across the forced reload.
SELECT count(*) AS mappings FROM phi_vault.sample_id_mapping;

-- Modes: sites only, and carriers of each row's ALT.
SELECT variants, genotypes FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf', force => true, genotypes => 'none');
SELECT variants, genotypes FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf', force => true, genotypes => 'carriers');
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf', genotypes => 'some');

-- vcf_validate re-reads the file: counts and hash.
SELECT "check", expected, actual, ok FROM vcf_validate((SELECT load_batch_id FROM vcf.load_batches));
-- vcf_unload removes the rows; the pseudonym mappings stay.
SELECT vcf_unload((SELECT load_batch_id FROM vcf.load_batches)) AS rows_removed;
SELECT (SELECT count(*) FROM vcf.variants) AS variants, (SELECT count(*) FROM phi_vault.sample_id_mapping) AS mappings;
