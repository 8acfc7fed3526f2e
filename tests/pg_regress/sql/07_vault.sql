-- Rotation, lookups, audit, privileges.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';
SET client_min_messages = warning;
SELECT samples FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf', force => true);
RESET client_min_messages;

-- Lookup by identifier (blind index) and reverse lookup (decrypts; needs a reason).
SELECT count(*) AS pseudonyms_of_patient_1 FROM phi_lookup('PATIENT_0001');
SELECT phi_reverse_lookup((SELECT * FROM phi_lookup('PATIENT_0002') LIMIT 1), 'regress: recontact check') AS revealed;
SELECT phi_reverse_lookup('00000000-0000-0000-0000-000000000000', 'regress: unknown id') IS NULL AS not_found_is_null;
SELECT phi_reverse_lookup((SELECT * FROM phi_lookup('PATIENT_0002') LIMIT 1), '');

-- Rotate from key A to key B: B first (active), A kept to decrypt.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/ba.keys';
SELECT rows_active_key, rows_other_keys FROM phi_encryption_status();
SELECT phi_rotate_key(dry_run => true) AS to_rotate;
SELECT phi_rotate_key(batch_size => 2) AS rotated;
SELECT phi_rotate_key() AS rotated_again;
SELECT rows_active_key, rows_other_keys FROM phi_encryption_status();
-- After rotation every row decrypts with key B alone, and lookups still find them.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/b.keys';
SELECT count(*) FILTER (WHERE phi_reverse_lookup(anonymous_id, 'regress: verify rotation') LIKE 'PATIENT_%') AS decrypt_ok,
       count(*) AS total
  FROM phi_vault.sample_id_mapping WHERE file_sha256 = (SELECT file_sha256 FROM vcf.load_batches WHERE source_file LIKE '%small_cohort.vcf');
SELECT count(*) AS found_after_rotation FROM phi_lookup('PATIENT_0003');
CALL phi_rotate_key_online(10);

-- Mappings are immutable; crypto columns change only through rotation.
UPDATE phi_vault.sample_id_mapping SET source_file = 'x';
UPDATE phi_vault.sample_id_mapping SET key_id = 'deadbeef';
DELETE FROM phi_vault.sample_id_mapping;

-- The audit log is append-only and hash-chained.
SELECT operation, count(*) FROM phi_vault.audit_log GROUP BY 1 ORDER BY 1;
SELECT * FROM phi_vault.verify_audit_chain();
UPDATE phi_vault.audit_log SET operation = 'x';
DELETE FROM phi_vault.audit_log;
TRUNCATE phi_vault.audit_log;
SELECT count(*) > 0 AS reveals_carry_reason FROM phi_vault.audit_log WHERE operation = 'reverse_lookup' AND detail ? 'reason';

-- Who may do what.
CREATE ROLE regress_viewer LOGIN IN ROLE phi_viewer;
CREATE ROLE regress_admin LOGIN IN ROLE phi_admin;
CREATE ROLE regress_plain LOGIN;
SET ROLE regress_plain;
SELECT * FROM vcf_load('/tmp/vcf_pg_loader_regress/local/small_cohort.vcf');
SELECT count(*) FROM phi_vault.sample_id_mapping;
SELECT phi_decrypt('\x00'::bytea);
SELECT length(phi_generate_key()) > 0 AS anyone_may_generate_keys;
RESET ROLE;
SET ROLE regress_viewer;
SELECT count(*) > 0 AS viewer_sees_pseudonyms FROM phi_vault.pseudonyms;
SELECT count(*) FROM phi_vault.sample_id_mapping;
SELECT enabled FROM phi_encryption_status();
SELECT phi_reverse_lookup((SELECT anonymous_id FROM phi_vault.pseudonyms LIMIT 1), 'curious');
SELECT count(*) > 0 AS viewer_sees_variants FROM vcf.variants;
RESET ROLE;
SET ROLE regress_admin;
SELECT phi_reverse_lookup((SELECT anonymous_id FROM phi_vault.pseudonyms ORDER BY mapping_id LIMIT 1), 'regress: admin reveal') LIKE 'PATIENT_%' AS admin_reveals;
SELECT count(*) > 0 AS admin_reads_ciphertext FROM phi_vault.sample_id_mapping;
RESET ROLE;
SELECT "current_user", operation FROM phi_vault.audit_log ORDER BY audit_id DESC LIMIT 1;
DROP ROLE regress_viewer, regress_admin, regress_plain;
