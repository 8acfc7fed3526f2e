-- Keys come from a key file (owned by the server user, mode 0600); never SQL text.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';
SELECT enabled, algorithm, key_source, active_key_id ~ '^[0-9a-f]{8}$' AS key_id_is_8_hex FROM phi_encryption_status();

-- phi_decrypt is a reveal: it needs a reason set in this session, and every statement that
-- reveals leaves one audit row with it (a role or database default does not count).
SELECT phi_decrypt(phi_encrypt('NA12878'));
SET vcf_pg_loader.reveal_reason = 'regression test: envelope round trip';

-- Round trip: empty, ASCII, non-ASCII, 4 kB; 36 bytes of overhead each.
SELECT phi_decrypt(phi_encrypt('')) = '' AS empty_ok,
       length(phi_encrypt('')) AS empty_len,
       phi_decrypt(phi_encrypt('NA12878')) AS ascii,
       phi_decrypt(phi_encrypt('Zoë Łukasz 患者')) AS non_ascii,
       phi_decrypt(phi_encrypt(repeat('x', 4096))) = repeat('x', 4096) AS four_kb_ok,
       length(phi_encrypt(repeat('x', 4096))) AS four_kb_len;

-- Header layout: "PH", version 1, algorithm 1, key id, nonce.
SELECT encode(substr(phi_encrypt('x'), 1, 4), 'hex') AS magic_version_alg,
       phi_key_id(phi_encrypt('x')) = (SELECT active_key_id FROM phi_encryption_status()) AS key_id_matches;
-- Fresh nonce each time: two encryptions of one value differ.
SELECT phi_encrypt('same') <> phi_encrypt('same') AS nonces_differ;
SELECT phi_encrypt(NULL) IS NULL AS strict_on_null;
SELECT phi_key_id('\x00'::bytea) IS NULL AS not_an_envelope;

-- Context binds a ciphertext to its row.
SELECT phi_decrypt(phi_encrypt('NA12878', 'row-1'), 'row-1') AS right_context;
SELECT phi_decrypt(phi_encrypt('NA12878', 'row-1'), 'row-2');

-- Any flipped byte fails: XX001 (framing or authentication), or 55000 when the flip lands
-- in the key id (bytes 4-7: no such key). Never garbage.
CREATE TEMP TABLE ct AS SELECT phi_encrypt('NA12878') AS c;
DO $$
DECLARE
    c bytea := (SELECT c FROM ct);
    i int; bad bytea; corrupted int := 0; unknown_key int := 0; decrypted int := 0;
BEGIN
    FOR i IN 0 .. length(c) - 1 LOOP
        bad := set_byte(c, i, get_byte(c, i) # 1);
        BEGIN
            PERFORM phi_decrypt(bad);
            decrypted := decrypted + 1;
        EXCEPTION
            WHEN data_corrupted THEN corrupted := corrupted + 1;
            WHEN object_not_in_prerequisite_state THEN unknown_key := unknown_key + 1;
        END;
    END LOOP;
    RAISE NOTICE '% bytes: % XX001, % 55000 (key id bytes), % decrypted', length(c), corrupted, unknown_key, decrypted;
END $$;
SELECT phi_decrypt(substr((SELECT c FROM ct), 1, 30));

-- A ciphertext under a key that is not configured: 55000, naming the key id.
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/b.keys';
SELECT phi_decrypt((SELECT c FROM ct)) IS NULL;
SET vcf_pg_loader.phi_key_file = '/tmp/vcf_pg_loader_regress/keys/a.keys';

-- Blind index: 16 bytes, deterministic, differs per value.
SELECT length(phi_blind_index('NA12878')) AS len,
       phi_blind_index('NA12878') = phi_blind_index('NA12878') AS deterministic,
       phi_blind_index('NA12878') <> phi_blind_index('NA12879') AS distinct_values;
SELECT length(decode(phi_generate_key(), 'base64')) AS generated_key_bytes;
