-- As a vcf_loader member (loader). Attempts that FAILED (expected errors), kept as regression checks.
\set VERBOSITY terse
\set victim_batch '47f224ba-6942-4100-9c07-e0a4929600f3'
SELECT phi_vault.append_audit('x', '{}');                          -- owner only
SELECT vcf.unload_batch(:'victim_batch');                          -- owner only
SELECT vcf.claimed_here(:'victim_batch');                          -- owner only
INSERT INTO phi_vault.audit_log (audit_id, operation) VALUES (1, 'x');
INSERT INTO phi_vault.sample_id_mapping (anonymous_id, original_id, source_file, file_sha256) VALUES (gen_random_uuid(), 'x', 'x', 'x');
UPDATE phi_vault.audit_chain_head SET last_seq = 0;
SELECT * FROM phi_vault.audit_chain_head FOR UPDATE;
LOCK TABLE phi_vault.audit_chain_head IN EXCLUSIVE MODE;
SELECT setval('vcf.variant_id_block_seq', 1);
SELECT * FROM vcf.load_batches;
SELECT * FROM phi_vault.pseudonyms;
-- someone else's batch through every client entry point
BEGIN; SELECT vcf.client_describe_load(:'victim_batch', 'x', 'x', 'x', 'x', 'x', '{}'); ROLLBACK;
BEGIN; SELECT vcf.client_finish_load(:'victim_batch', 174, 0, 0, '{}'); ROLLBACK;
BEGIN; SELECT * FROM phi_vault.client_find_pseudonyms(:'victim_batch', '{0}', ARRAY['\x00'::bytea]); ROLLBACK;
BEGIN; SELECT phi_vault.client_add_pseudonyms(:'victim_batch', 'x', '{}', '{}', '{}'); ROLLBACK;
BEGIN; SELECT * FROM vcf.client_claim_load('9eda97a1bf49155db878cae2e4f231305a56df95b2de8ff433b8e91ba5207b7b', 0, NULL, true); ROLLBACK;
-- search_path / temp-object shadowing against the force check (pg_roles) and rows types
SET search_path = pg_temp, public;
CREATE TEMP TABLE pg_roles (rolname name, rolsuper boolean);
INSERT INTO pg_temp.pg_roles VALUES (session_user, true);
CREATE FUNCTION pg_temp.gen_random_uuid() RETURNS uuid LANGUAGE sql AS $$ SELECT '47f224ba-6942-4100-9c07-e0a4929600f3'::uuid $$;
BEGIN; SELECT * FROM vcf.client_claim_load('9eda97a1bf49155db878cae2e4f231305a56df95b2de8ff433b8e91ba5207b7b', 0, NULL, true); ROLLBACK;
RESET search_path;
-- the rotation flag does not open the table
SET vcf_pg_loader.internal_rotation = on;
UPDATE phi_vault.sample_id_mapping SET key_id = 'x';
RESET vcf_pg_loader.internal_rotation;
-- crafted arguments
SELECT * FROM vcf.client_claim_load(NULL, 0, NULL);
SELECT * FROM vcf.client_claim_load(repeat('A', 64), 0, NULL);
SELECT * FROM vcf.client_claim_load(repeat('a', 64) || E'\n', 0, NULL);
SELECT * FROM vcf.client_claim_load(repeat('e', 64), -1, NULL);
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load(repeat('f', 64), 1, NULL) \gset
SAVEPOINT a; SELECT phi_vault.client_add_pseudonyms(:'b', 'x', ARRAY[gen_random_uuid()], '{}', '{}'); ROLLBACK TO a;
SAVEPOINT a; SELECT phi_vault.client_add_pseudonyms(:'b', 'x', ARRAY[gen_random_uuid()], ARRAY[NULL::bytea], ARRAY['\x00'::bytea]); ROLLBACK TO a;
SAVEPOINT a; SELECT phi_vault.client_add_pseudonyms(:'b', 'x', ARRAY[gen_random_uuid()], ARRAY['plaintext name'::bytea], ARRAY[decode(repeat('00',16),'hex')]); ROLLBACK TO a;
SAVEPOINT a; SELECT phi_vault.client_add_pseudonyms(:'b', 'x', NULL, ARRAY['\x5048'::bytea], NULL); ROLLBACK TO a;
SAVEPOINT a; SELECT phi_vault.client_add_pseudonyms(:'b', 'x', ARRAY['372f9a43-2251-4e6d-88a3-53efb5b1042c'::uuid], ARRAY['\x50480101'::bytea || decode(repeat('00',32),'hex')], ARRAY[decode(repeat('00',16),'hex')]); ROLLBACK TO a;
ROLLBACK;
-- a claim made in a savepoint (xmin = subxact xid) is not "claimed here"
BEGIN; SAVEPOINT s; SELECT load_batch_id AS b FROM vcf.client_claim_load(repeat('9', 64), 1, NULL) \gset
RELEASE s; SELECT vcf.client_finish_load(:'b', 0, 0, 0, '{}'); ROLLBACK;
