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
-- Every INFO key of every record is in that record's rows (read from the files by awk,
-- matched by line number).
CREATE TEMP TABLE info_src (file text, line bigint, info text);
\copy info_src FROM PROGRAM 'cd /tmp/vcf_pg_loader_regress/data && for f in *vcf*; do zcat -f "$f" | awk -F"\t" -v f="$f" "!/^#/ { print f \"\t\" NR \"\t\" \$8 }"; done'
SELECT count(DISTINCT (s.file, s.line)) AS records_checked, count(*) AS info_keys_checked,
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM vcf.variants v
            WHERE v.load_batch_id = b.load_batch_id AND v.source_line = s.line
              AND v.info ? split_part(kv, '=', 1))) AS info_keys_missing
  FROM info_src s
  JOIN vcf.load_batches b ON b.source_file = '/tmp/vcf_pg_loader_regress/data/' || s.file
  CROSS JOIN LATERAL regexp_split_to_table(s.info, ';') AS kv
 WHERE s.info <> '.' AND kv <> '';
-- No sample name of a file appears as a token in anything stored from that file under vcf.*
-- — outside structural header lines, which are kept byte for byte (sample "test" of
-- sarscov2.vcf.gz stays in "Mann-Whitney U test" of an INFO description).
CREATE TEMP TABLE sample_names (file text, name text);
\copy sample_names FROM PROGRAM 'cd /tmp/vcf_pg_loader_regress/data && for f in *vcf*; do zcat -f "$f" | grep -m1 "^#CHROM" | cut -f10- | tr "\t" "\n" | sed "s|^|$f\t|"; done'
SELECT count(*) AS sample_names,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM regexp_split_to_table(b.header, E'\n') l
                                       WHERE l ~ t.re AND l !~ '^##(fileformat|INFO|FORMAT|FILTER|ALT|contig|reference|assembly|META|phasing|fileDate)[=<]')) AS in_header,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM vcf.variants v
                                       WHERE v.load_batch_id = b.load_batch_id AND v.info::text ~ t.re)) AS in_info,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM vcf.variants v JOIN vcf.genotypes g USING (variant_id)
                                       WHERE v.load_batch_id = b.load_batch_id AND g.format::text ~ t.re)) AS in_format
  FROM sample_names n
  JOIN vcf.load_batches b ON b.source_file = '/tmp/vcf_pg_loader_regress/data/' || n.file
  CROSS JOIN LATERAL (SELECT '(^|[^A-Za-z0-9_.-])' || n.name || '([^A-Za-z0-9_.-]|$)' AS re) t
 WHERE n.name <> '';  -- sites-only files have no sample column
