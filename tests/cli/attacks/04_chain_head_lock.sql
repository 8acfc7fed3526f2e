-- As a vcf_loader member: any content hash already loaded (by anyone) makes the claim write
-- an audit row through phi_vault.append_audit, which keeps phi_vault.audit_chain_head locked
-- FOR UPDATE until this transaction ends. Stay idle: every audited operation of every other
-- role (loads' finish, phi reveal / lookup, rotation batches) now waits.
-- client_min_messages = log also shows the audit LOG line: the other load's source_file.
SET client_min_messages = log;
SET idle_in_transaction_session_timeout = 0;
BEGIN;
SELECT * FROM vcf.client_claim_load('9eda97a1bf49155db878cae2e4f231305a56df95b2de8ff433b8e91ba5207b7b', 0, NULL);
SELECT pg_sleep(:hold);
COMMIT;
