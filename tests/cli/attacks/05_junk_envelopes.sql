-- As a vcf_loader member, holding no key at all: claim made-up content and store
-- "envelopes" that are only the 4-byte magic plus 32 arbitrary bytes, with an arbitrary
-- 16-byte "blind index". The rows can never be deleted (mapping rows are immutable), and
-- cannot be decrypted: reveal fails, and security rotate-key stops at the first such row on
-- every run (rows are read in mapping_id order), so the key can never be rotated again.
\set ON_ERROR_STOP 1
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load(repeat('d', 64), 1, '{}') \gset
SELECT phi_vault.client_add_pseudonyms(:'b', 'junk',
         ARRAY[gen_random_uuid(), gen_random_uuid()],
         ARRAY['\x50480101deadbeef'::bytea || decode(repeat('00', 28), 'hex'),
               '\x504801017905f468'::bytea || decode(repeat('41', 28), 'hex')],  -- claims the active key id
         ARRAY[decode(repeat('11', 16), 'hex'), decode(repeat('22', 16), 'hex')]);
SELECT vcf.client_finish_load(:'b', 0, 0, 0, '{}');
COMMIT;
