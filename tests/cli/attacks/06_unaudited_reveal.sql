-- As a phi_admin member who holds the PHI keyring (the client decrypts: that is the design).
-- Every route below hands over envelopes, and leaves no row in phi_vault.audit_log.
SELECT count(*) AS audit_rows_before FROM phi_vault.audit_log;
-- (a) the audited function, rolled back: the client already has the envelope
BEGIN;
SELECT anonymous_id, encode(original_id_encrypted, 'base64') FROM phi_vault.client_reveal('372f9a43-2251-4e6d-88a3-53efb5b1042c', 'x'),
       (SELECT '372f9a43-2251-4e6d-88a3-53efb5b1042c'::uuid AS anonymous_id) u;
ROLLBACK;
-- (b) the table itself: every envelope of every sample, no audit at all
SELECT anonymous_id, encode(original_id_encrypted, 'base64') FROM phi_vault.sample_id_mapping LIMIT 3;
-- (c) the rotation reader: every envelope, audited only if client_rotate later writes rows
BEGIN;
SELECT anonymous_id, encode(original_id_encrypted, 'base64') FROM phi_vault.client_rotation_rows('00000000', 1000000) LIMIT 3;
ROLLBACK;
SELECT count(*) AS audit_rows_after FROM phi_vault.audit_log;
SELECT * FROM phi_vault.verify_audit_chain();
