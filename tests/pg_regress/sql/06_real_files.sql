-- Every real caller's file in shared/data/vcf loads. Expected counts were taken from the
-- files independently (ALT alleles counted with awk; '.' counts one) — see tests/README.md.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';
SET client_min_messages = warning;
SELECT f AS file, l.variants, l.genotypes, l.samples
  FROM unnest(ARRAY['dbsnp_subset.vcf.gz', 'empty.vcf.gz', 'gnomad_subset.vcf.gz', 'gvcf_sample.vcf.gz',
                    'mills_indels.vcf.gz', 'multiallelic.vcf', 'mutect2_chr22.vcf.gz', 'sarscov2.vcf.gz',
                    'snpeff_test.ann.vcf', 'strelka_indels_chr22.vcf.gz', 'strelka_snvs_chr22.vcf.gz',
                    'with_annotations.vcf']) AS f,
       LATERAL vcf_load('/tmp/vcf_pg_loader_regress/data/' || f) AS l
 ORDER BY f;
RESET client_min_messages;
-- Each load validates against its file.
SELECT b.source_file ~ '[^/]+$' AS named, bool_and(v.ok) AS all_checks_ok, count(*) AS checks
  FROM vcf.load_batches b, LATERAL vcf_validate(b.load_batch_id) v
 GROUP BY 1;
-- Annotations for this ALT: SnpEff ANN, bcftools BCSQ.
SELECT chrom, pos, ref, alt, gene, consequence, impact FROM vcf.variants
 WHERE gene IS NOT NULL ORDER BY chrom, pos LIMIT 6;
-- Multi-allelic with a mismatched Number=A count: kept whole, counted as a warning.
SELECT pos, alt, info->'AF' AS af_kept_whole FROM vcf.variants WHERE chrom = '1' AND pos = 2049437 ORDER BY alt_index LIMIT 2;
-- Contigs land in their partitions; unknown ones in the default.
SELECT tableoid::regclass AS partition, count(*) FROM vcf.variants GROUP BY 1 ORDER BY 1;
-- gVCF reference blocks: END sets end_pos, <NON_REF> is kept.
SELECT pos, end_pos, alt FROM vcf.variants WHERE alt = '<NON_REF>' ORDER BY pos LIMIT 2;
