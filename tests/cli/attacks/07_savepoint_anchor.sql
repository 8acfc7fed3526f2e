-- As a vcf_loader member: an audit row written and sealed inside a SAVEPOINT that is rolled
-- back, in a transaction that then COMMITs. The anchor LOG line names the top-level xid
-- (pg_current_xact_id()), which commits, so verify_audit_chain(anchor) reports the chain as
-- tampered although nobody touched it. (The same, ROLLBACK'd at the top, is an
-- "audited" operation whose only trace is a LOG line verify_audit_chain ignores.)
SET client_min_messages = log;
BEGIN;
SAVEPOINT s;
SELECT * FROM vcf.client_claim_load('9eda97a1bf49155db878cae2e4f231305a56df95b2de8ff433b8e91ba5207b7b', 0, NULL);
ROLLBACK TO SAVEPOINT s;
COMMIT;
