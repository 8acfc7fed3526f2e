-- vcf_load has two ways to write rows: PostgreSQL's COPY machinery (default, load_method =
-- auto) and batched INSERT statements (the fallback). Both must store identical rows.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/ba.keys';
SET client_min_messages = warning;
SHOW vcf_pg_loader.load_method;

-- Everything a load stores, as one digest (ids excluded: they are per load).
CREATE FUNCTION pg_temp.content(b uuid) RETURNS text LANGUAGE sql AS $$
  SELECT md5(string_agg(t, E'\n' ORDER BY t)) FROM (
    SELECT concat_ws('|', chrom, pos, end_pos, ref, alt, alt_index, id, qual, filter::text, info::text,
                     gene, consequence, impact, af, source_line) AS t
      FROM vcf.variants WHERE load_batch_id = b
    UNION ALL
    SELECT concat_ws('|', v.source_line, v.alt_index, g.anonymous_id, g.gt, g.alt_dosage, g.phased,
                     g.dp, g.gq, g.ad::text, g.format::text)
      FROM vcf.genotypes g JOIN vcf.variants v USING (variant_id) WHERE v.load_batch_id = b) s $$;
CREATE FUNCTION pg_temp.load(f text, method text) RETURNS TABLE (variants bigint, genotypes bigint, digest text, used text)
LANGUAGE plpgsql AS $$
DECLARE b uuid;
BEGIN
  PERFORM set_config('vcf_pg_loader.load_method', method, true);
  SELECT l.load_batch_id, l.variants, l.genotypes INTO b, variants, genotypes
    FROM vcf_load('/tmp/vcf_pg_loader_regress/' || f, force => true) l;
  digest := pg_temp.content(b);
  SELECT detail->>'method' INTO used FROM phi_vault.audit_log WHERE operation = 'load' ORDER BY audit_id DESC LIMIT 1;
  RETURN NEXT;
END $$;

-- Every real file, and the generated 200,000-record file (it spans several COPY batches).
SELECT f, i.variants, i.genotypes, i.used AS first, c.used AS second, i.digest = c.digest AS same_rows
  FROM unnest(ARRAY['data/dbsnp_subset.vcf.gz', 'data/gnomad_subset.vcf.gz', 'data/gvcf_sample.vcf.gz',
                    'data/mills_indels.vcf.gz', 'data/multiallelic.vcf', 'data/mutect2_chr22.vcf.gz',
                    'data/sarscov2.vcf.gz', 'data/snpeff_test.ann.vcf', 'data/strelka_indels_chr22.vcf.gz',
                    'data/strelka_snvs_chr22.vcf.gz', 'data/with_annotations.vcf',
                    'local/small_cohort.vcf', 'local/big_generated.vcf']) AS f,
       LATERAL pg_temp.load(f, 'insert') i, LATERAL pg_temp.load(f, 'auto') c;
-- Variant ids stay unique across loads and link each genotype to its variant.
SELECT count(*) = count(DISTINCT variant_id) AS ids_unique FROM vcf.variants;
SELECT count(*) AS orphan_genotypes FROM vcf.genotypes g WHERE NOT EXISTS (SELECT 1 FROM vcf.variants v WHERE v.variant_id = g.variant_id);
-- Partition routing by the COPY path: every row sits in its chromosome's partition.
SELECT tableoid::regclass AS partition, count(*) FROM vcf.variants WHERE chrom IN ('chr22', '22', 'NC_045512.2') GROUP BY 1 ORDER BY 1;

-- load_method = copy insists on the COPY path (an error says why where it cannot be used:
-- row-level security that applies to the extension owner, a non-UTF8 encoding; the #[pg_test]
-- copy_path_checks_privilege_and_row_security covers those). A superuser owner bypasses RLS.
SET vcf_pg_loader.load_method = copy;
SELECT variants, used FROM pg_temp.load('data/mutect2_chr22.vcf.gz', 'copy');
RESET vcf_pg_loader.load_method;
-- Binary COPY text input is converted from the client encoding: a LATIN1 session gets the
-- INSERT path under auto, and an error under copy.
SET client_encoding = 'LATIN1';
SELECT variants, used FROM pg_temp.load('data/mutect2_chr22.vcf.gz', 'auto');
SELECT variants, used FROM pg_temp.load('data/mutect2_chr22.vcf.gz', 'copy');
RESET client_encoding;

-- Not a value of the setting.
SET vcf_pg_loader.load_method = fastest;
-- Clean up for the next file.
SELECT sum(vcf_unload(load_batch_id)) > 0 AS unloaded FROM vcf.load_batches;
