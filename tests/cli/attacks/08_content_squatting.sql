-- As a vcf_loader member who knows only the SHA-256 of a file someone else will load
-- (a public reference file, a file shared by a collaborator): claim it first with made-up
-- rows. The real loader's `load` then answers "already loaded" with the attacker's data,
-- and its `--force` is refused (not its load). Only a superuser can repair it.
\set ON_ERROR_STOP 1
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load(:'sha', 1, '{}') \gset
SELECT vcf.client_describe_load(:'b', 'gnomad_subset.vcf.gz', 'VCFv4.2', 'bgzf', 'GRCh38', '##fileformat=VCFv4.2', '{}');
INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt, af)
     VALUES (3*10^12::bigint, :'b', '1', 1000, 1000, 'A', 'G', 0.5);
SELECT vcf.client_finish_load(:'b', 1, 0, 1, '{}');
COMMIT;
