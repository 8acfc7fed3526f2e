-- As a vcf_loader member: rows written with no claim, no load, no audit.
-- Variant rows inside the victim's (committed, finished) load, and genotypes for the
-- victim's patients (pseudonym from phi_vault.pseudonyms if the attacker is also phi_viewer,
-- or any uuid) attached to the victim's variant ids.
\set ON_ERROR_STOP 1
\set victim_batch '75d1fb38-4ecb-405e-ba7b-1b7d7fc25e1e'
\set victim_sample '657c82ee-3b07-428a-838a-81c7ead6642e'
INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref, alt, gene)
VALUES (999, :'victim_batch', '17', 43044295, 43044295, 'A', 'G', 'BRCA1');
INSERT INTO vcf.genotypes (variant_id, anonymous_id, gt, alt_dosage)
SELECT v, :'victim_sample', '1/1', 2 FROM (VALUES (999::bigint), (4194304), (4194305)) t(v);
-- orphan rows under a batch that does not exist
INSERT INTO vcf.variants (variant_id, load_batch_id, chrom, pos, end_pos, ref)
VALUES (-1, gen_random_uuid(), 'chrUn', 1, 1, 'N');
