-- As a vcf_loader member.
\set ON_ERROR_STOP 1
-- (a) a load that is never audited: claim, rows, COMMIT without client_finish_load.
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load(repeat('b', 64), 1, '{}') \gset
SELECT vcf.client_describe_load(:'b', 'unaudited.vcf', 'VCFv4.2', 'none', NULL, '', '{}');
INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt)
     SELECT 10^12::bigint + i, :'b', '1', i, i, 'A', 'T' FROM generate_series(1, 1000) i;
COMMIT;
-- (b) an audit row whose counts are false, rows added after it, and a second audit row.
BEGIN;
SELECT load_batch_id AS c FROM vcf.client_claim_load(repeat('c', 64), 1, '{"genotypes":"none","note":"anything at all"}') \gset
SELECT vcf.client_describe_load(:'c', 'innocent.vcf', 'VCFv4.2', 'none', NULL, '', '{}');
SELECT vcf.client_finish_load(:'c', 0, 123456789, 42, '{}');   -- genotypes / records unchecked
INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref)
     SELECT 2*10^12::bigint + i, :'c', '2', i, i, 'G' FROM generate_series(1, 500) i;
INSERT INTO vcf.genotypes (variant_id, anonymous_id, gt)
     SELECT 2*10^12::bigint + i, gen_random_uuid(), '0/1' FROM generate_series(1, 500) i;
SELECT vcf.client_finish_load(:'c', 500, 7, 7, '{}');           -- audited twice, counts differ
COMMIT;
