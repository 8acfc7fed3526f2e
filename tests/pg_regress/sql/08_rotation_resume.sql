-- Rotation over 10,000 rows, interrupted and resumed: the cursor is each row's key id, so
-- partial progress is kept and a later call just continues.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';
SET client_min_messages = warning;
-- 10,000 mapping rows under key A (a superuser may insert directly; loaders go through vcf_load).
INSERT INTO phi_vault.sample_id_mapping (anonymous_id, original_id_encrypted, encryption_iv, key_id, original_id_hmac, source_file, file_sha256)
SELECT u, c, substr(c, 9, 12), phi_key_id(c), phi_blind_index('RESUME_' || i), 'synthetic', 'resume-test'
  FROM (SELECT i, u, phi_encrypt('RESUME_' || i, convert_to(u::text, 'UTF8')) AS c
          FROM (SELECT i, gen_random_uuid() AS u FROM generate_series(1, 10000) i) s) t;
RESET client_min_messages;

SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/ba.keys';
SELECT phi_rotate_key(dry_run => true) AS stale_before;
-- Three committed batches, as phi_rotate_key_online does between COMMITs...
SELECT phi_rotate_key_batch(1000) AS batch FROM generate_series(1, 3);
-- ...then a whole-transaction rotation that is cancelled (rolled back): nothing of it stays.
BEGIN;
SELECT phi_rotate_key(500) AS rotated_then_cancelled;
ROLLBACK;
SELECT rows_other_keys AS still_stale FROM phi_encryption_status();
-- A real cancel (statement_timeout) of the online rotation: batches it committed stay rotated,
-- the one in flight rolls back; however far it got, nothing is lost or half-written.
\set VERBOSITY terse
SET statement_timeout = '20ms';
CALL phi_rotate_key_online(100);
RESET statement_timeout;
\set VERBOSITY default
SELECT rows_other_keys BETWEEN 0 AND 7000 AS progress_kept, rows_active_key + rows_other_keys AS all_rows_keyed
  FROM phi_encryption_status();
-- Resume: only the remaining rows are rotated.
SET client_min_messages = warning;
CALL phi_rotate_key_online(1000);
RESET client_min_messages;
SELECT rows_other_keys, phi_rotate_key(dry_run => true) AS stale_after FROM phi_encryption_status();
-- Every row decrypts with the new key alone and carries its new blind index.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/b.keys';
SET vcf_pg_loader.reveal_reason = 'regression test: rotation check';
SELECT count(*) FILTER (WHERE phi_decrypt(original_id_encrypted, convert_to(anonymous_id::text, 'UTF8')) LIKE 'RESUME_%') AS decrypts,
       count(*) FILTER (WHERE original_id_hmac = phi_blind_index(phi_decrypt(original_id_encrypted, convert_to(anonymous_id::text, 'UTF8')))) AS reindexed
  FROM phi_vault.sample_id_mapping WHERE file_sha256 = 'resume-test';
SELECT ok FROM phi_vault.verify_audit_chain();
