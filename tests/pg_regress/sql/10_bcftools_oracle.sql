-- Decomposition checked against an independent implementation: htslib's `bcftools norm -m-any`
-- (which splits without trimming, so we load with "normalize" => false; NORMALIZE is an SQL
-- keyword, so the named argument needs double quotes). Number=A (AF, AC),
-- Number=R (RDP, AD) and Number=G (GLX, PL) must be sliced exactly as bcftools slices them, and
-- each genotype's copies of the row's ALT must equal the 1s in bcftools' recoded GT.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/b.keys';
SET client_min_messages = warning;
SELECT variants, genotypes FROM vcf_load('/tmp/vcf_pg_loader_regress/local/multiallelic_oracle.vcf', "normalize" => false);
RESET client_min_messages;

CREATE TEMP TABLE oracle (chrom text, pos bigint, ref text, alt text, af real, ac int, rdp text, glx text,
                          sample text, gt text, ad text, pl text);
\copy oracle FROM PROGRAM 'bcftools norm -m-any /tmp/vcf_pg_loader_regress/local/multiallelic_oracle.vcf 2>/dev/null | bcftools query -f "[%CHROM\t%POS\t%REF\t%ALT\t%INFO/AF\t%INFO/AC\t%INFO/RDP\t%INFO/GLX\t%SAMPLE\t%GT\t%AD\t%PL\n]"'

CREATE TEMP VIEW theirs AS
SELECT chrom, pos, ref, alt, af, ac, rdp, glx,
       CASE sample WHEN 'S1' THEN 0 ELSE 1 END AS sample_index,
       CASE WHEN gt LIKE '%.%' THEN NULL ELSE length(gt) - length(replace(gt, '1', '')) END AS alt_dosage,
       nullif(ad, '.') AS ad, nullif(pl, '.') AS pl
  FROM oracle;

CREATE TEMP VIEW ours AS
SELECT v.chrom, v.pos, v.ref, v.alt, v.af, (v.info->>'AC')::int AS ac,
       (SELECT string_agg(x, ',') FROM jsonb_array_elements_text(v.info->'RDP') x) AS rdp,
       (SELECT string_agg(x, ',') FROM jsonb_array_elements_text(v.info->'GLX') x) AS glx,
       s.sample_index, g.alt_dosage::int AS alt_dosage,
       array_to_string(g.ad, ',') AS ad,
       (SELECT string_agg(x, ',') FROM jsonb_array_elements_text(CASE jsonb_typeof(g.format->'PL') WHEN 'array' THEN g.format->'PL' END) x) AS pl
  FROM vcf.variants v
  JOIN vcf.load_batches b USING (load_batch_id)
  JOIN vcf.genotypes g USING (variant_id)
  JOIN vcf.samples s ON s.load_batch_id = v.load_batch_id AND s.anonymous_id = g.anonymous_id
 WHERE b.source_file LIKE '%multiallelic_oracle.vcf';

SELECT (SELECT count(*) FROM theirs) AS bcftools_rows, (SELECT count(*) FROM ours) AS our_rows;
-- Rows where the two disagree (none expected), in either direction.
SELECT 'only bcftools' AS side, * FROM (SELECT * FROM theirs EXCEPT SELECT * FROM ours) d
UNION ALL
SELECT 'only ours', * FROM (SELECT * FROM ours EXCEPT SELECT * FROM theirs) d
ORDER BY 1, 2, 3, 5, 10;
