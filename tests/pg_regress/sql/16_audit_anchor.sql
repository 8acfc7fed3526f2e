-- The audit chain (CONTRACT §4): each row carries the hash of the one before, linked as its
-- transaction commits (so an open transaction holds up no one); the chain head names the last
-- row; the server log carries each sealed row's anchor (audit_id, hash, xid), so a removed or
-- rewritten tail is detected. Bulk reveals leave one row per statement.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';
SELECT ok FROM phi_vault.verify_audit_chain();
-- One audit row per statement that reveals with phi_decrypt, whatever the row count.
SET vcf_pg_loader.reveal_reason = 'regress: audit of bulk reveals';
SELECT count(*) AS audit_rows_before FROM phi_vault.audit_log WHERE operation = 'decrypt' \gset
SELECT count(phi_decrypt(phi_encrypt('x' || i))) AS revealed FROM generate_series(1, 50) i;
SELECT count(phi_decrypt(phi_encrypt('y' || i))) AS revealed FROM generate_series(1, 5) i;
SELECT count(*) - :audit_rows_before AS new_audit_rows,
       (array_agg(detail->>'reason' ORDER BY audit_id DESC))[1] AS reason
  FROM phi_vault.audit_log WHERE operation = 'decrypt';
-- A reason from a role default does not count; only the session's own SET does.
RESET vcf_pg_loader.reveal_reason;
\set VERBOSITY terse
ALTER ROLE CURRENT_USER SET vcf_pg_loader.reveal_reason = 'standing reason';
SELECT phi_decrypt(phi_encrypt('x'));
\set VERBOSITY default

-- Anchors: the last row's id and hash (as its LOG line gives them) verify...
SELECT audit_id AS anchor_id, hash AS anchor_hash FROM phi_vault.audit_log ORDER BY chain_seq DESC LIMIT 1 \gset
SELECT ok FROM phi_vault.verify_audit_chain(:anchor_id, :'anchor_hash');
-- ...a wrong hash for that id does not...
SELECT ok, first_bad_audit_id = :anchor_id AS names_the_anchor FROM phi_vault.verify_audit_chain(:anchor_id, '\x00');
-- ...and an anchor from a rolled-back transaction is no anchor. (Inside its transaction a row
-- is pending: no hash, no chain position; verify skips the transaction's own pending rows.)
BEGIN;
SELECT count(*) FROM phi_lookup('nobody');
SELECT audit_id AS aborted_id, pg_current_xact_id() AS aborted_xid, hash IS NULL AND chain_seq IS NULL AS pending
  FROM phi_vault.audit_log ORDER BY audit_id DESC LIMIT 1 \gset
SELECT :'pending' AS pending_until_commit, ok AS ok_inside FROM phi_vault.verify_audit_chain();
ROLLBACK;
SET client_min_messages = warning;  -- (its NOTICE names the id)
SELECT ok FROM phi_vault.verify_audit_chain(:aborted_id, '\x00', :'aborted_xid');
RESET client_min_messages;
-- Removing the tail (only possible with triggers disabled, as a superuser) is detected
-- without an anchor (the head still names the removed row)...
-- A removed tail whose head was rewritten too takes the anchor with its xid (the LOG line has
-- all three): a committed anchor that is gone is a finding.
BEGIN;
SELECT count(*) FROM phi_lookup('nobody');
SELECT pg_current_xact_id() AS tail_xid \gset
COMMIT;
SELECT audit_id AS tail_id, hash AS tail_hash FROM phi_vault.audit_log ORDER BY chain_seq DESC LIMIT 1 \gset
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM phi_vault.audit_log WHERE audit_id = :tail_id;
SELECT ok, first_bad_audit_id = :tail_id AS names_the_tail FROM phi_vault.verify_audit_chain();
UPDATE phi_vault.audit_chain_head SET last_seq = last_seq - 1, last_hash = :'anchor_hash';
SELECT ok AS ok_without_anchor FROM phi_vault.verify_audit_chain();
SELECT ok AS ok_with_anchor FROM phi_vault.verify_audit_chain(:tail_id, :'tail_hash', :'tail_xid');
ROLLBACK;
SELECT ok FROM phi_vault.verify_audit_chain(:tail_id, :'tail_hash', :'tail_xid');
-- An open transaction that made an audited call holds no lock on the chain: another session's
-- audited call completes at once (tests/security runs that with two sessions).
-- The chain is append-only, and no role below the owner can lock its head.
DELETE FROM phi_vault.audit_log;
SELECT has_table_privilege('phi_admin', 'phi_vault.audit_chain_head', 'UPDATE') AS admin_can_lock_head,
       has_table_privilege('phi_viewer', 'phi_vault.audit_chain_head', 'SELECT') AS viewer_can_read_head;
