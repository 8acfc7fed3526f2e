//! SCRAM-SHA-256 secrets (RFC 5802 / 7677, PostgreSQL's `rolpassword` format) for the
//! credential `vcf_distribute()` gives the owner role on Citus workers: the workers are told
//! only the verifier, never the password, so no worker's statement log can carry it.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// PostgreSQL's default iteration count (`scram_iterations`).
pub const ITERATIONS: u32 = 4096;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` of `password`.
pub fn verifier(password: &[u8], salt: &[u8; 16], iterations: u32) -> String {
    // PBKDF2-HMAC-SHA-256, one output block (Hi() of RFC 5802).
    let mut u = Zeroizing::new(hmac(password, &[salt, &1u32.to_be_bytes()]));
    let mut salted = Zeroizing::new(*u);
    for _ in 1..iterations {
        *u = hmac(password, &[&u[..]]);
        salted.iter_mut().zip(u.iter()).for_each(|(s, x)| *s ^= x);
    }
    let client_key = Zeroizing::new(hmac(&salted[..], &[b"Client Key"]));
    let stored_key = Sha256::digest(&client_key[..]);
    let server_key = hmac(&salted[..], &[b"Server Key"]);
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        B64.encode(salt),
        B64.encode(stored_key),
        B64.encode(server_key)
    )
}

/// A fresh random password (32 random bytes, base64: no quoting issues in a conninfo) and
/// its verifier under a fresh salt.
pub fn new_credential() -> (Zeroizing<String>, String) {
    let mut raw = Zeroizing::new([0u8; 32]);
    super::rng::fill_random(&mut raw[..]);
    let password = Zeroizing::new(B64.encode(&raw[..]));
    let mut salt = [0u8; 16];
    super::rng::fill_random(&mut salt);
    let v = verifier(password.as_bytes(), &salt, ITERATIONS);
    (password, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_an_independent_implementation() {
        // Python: hashlib.pbkdf2_hmac + hmac, the RFC 5802 formulas.
        let salt: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(
            verifier(b"vcf test password", &salt, 4096),
            "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$V/h5umnrlay1c+eVgc1yNSBDAivwaq2MO3/qea1hkx0=:+8OkPDQhJiT1KKD/P+sANUp8no011cZ/CMVQMC2FaDU="
        );
    }

    #[test]
    fn fresh_credentials_differ_and_never_contain_the_password() {
        let (p1, v1) = new_credential();
        let (p2, v2) = new_credential();
        assert_ne!(*p1, *p2);
        assert_ne!(v1, v2);
        assert!(!v1.contains(p1.as_str()));
        assert!(v1.starts_with("SCRAM-SHA-256$4096:"));
    }
}
