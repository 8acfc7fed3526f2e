-- require_ssl: functions that reveal identifiers refuse TCP connections without TLS.
-- pg_regress connects over TCP to a cluster with ssl = on and the self-signed certificate that
-- scripts/test.sh made for localhost; first check that a client can verify it (verify-full).
\connect "sslmode=verify-full sslrootcert=/tmp/vcf_pg_loader_regress/tls/server.crt host=localhost dbname=vcf_regress"
SELECT ssl, version LIKE 'TLSv1.%' AS tls_version FROM pg_stat_ssl WHERE pid = pg_backend_pid();
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/b.keys';
SET vcf_pg_loader.require_ssl = on;
SELECT inet_client_addr() IS NOT NULL AS tcp, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls;
SELECT phi_reverse_lookup((SELECT * FROM phi_lookup('PATIENT_0001') LIMIT 1), 'regress: over TLS') AS revealed_over_tls;
-- The same over a connection without TLS: refused, and nothing revealed.
\connect "sslmode=disable dbname=vcf_regress"
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/b.keys';
SET vcf_pg_loader.require_ssl = on;
SELECT inet_client_addr() IS NOT NULL AS tcp, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls;
SELECT phi_reverse_lookup('00000000-0000-0000-0000-000000000000', 'regress: plain TCP');
SELECT phi_decrypt(phi_encrypt('x'));
SELECT * FROM phi_lookup('PATIENT_0001');
-- Encrypting is not a reveal: it works without TLS.
SELECT length(phi_encrypt('x')) AS encrypts_without_tls;
RESET vcf_pg_loader.require_ssl;
SELECT count(*) AS found_with_require_ssl_off FROM phi_lookup('PATIENT_0001');
