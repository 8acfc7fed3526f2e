//! Ciphertext format v1 (CONTRACT §3):
//!
//! ```text
//! off  len  field
//! 0    2    magic "PH"
//! 2    1    format version 0x01
//! 3    1    algorithm 0x01 = AES-256-GCM (96-bit nonce, 128-bit tag)
//! 4    4    key id, big-endian
//! 8    12   nonce
//! 20   n    ciphertext
//! 20+n 16   tag
//! ```
//!
//! Associated data = header bytes 0..8 ‖ n as big-endian u32 ‖ caller context, so a changed
//! header, a ciphertext moved to another row (other context) or any flipped byte fails.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use std::fmt;
use zeroize::Zeroize;

pub const MAGIC: [u8; 2] = *b"PH";
pub const FORMAT_V1: u8 = 0x01;
pub const ALG_AES_256_GCM: u8 = 0x01;
pub const HEADER_LEN: usize = 8;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// Bytes added to every plaintext.
pub const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

/// The 4-byte key id, shown as 8 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02x}{:02x}{:02x}{:02x}",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Why an envelope could not be opened. Carries at most the key id, never data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Not a v1 envelope: too short, wrong magic, version or algorithm. (`XX001`)
    Malformed(&'static str),
    /// Well-formed, but no configured key has this id. (`55000`)
    UnknownKeyId(KeyId),
    /// The tag does not verify: tampered bytes, another context, or a header changed. (`XX001`)
    AuthenticationFailed(KeyId),
    /// Plaintext longer than the u32 length field (4 GiB) can describe.
    TooLong,
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::Malformed(why) => write!(f, "malformed PHI ciphertext: {why}"),
            EnvelopeError::UnknownKeyId(id) => {
                write!(f, "PHI ciphertext is under key id {id}, which is not configured")
            }
            EnvelopeError::AuthenticationFailed(id) => write!(
                f,
                "PHI ciphertext under key id {id} failed authentication (tampered, or decrypted with another context)"
            ),
            EnvelopeError::TooLong => write!(f, "PHI plaintext longer than 4 GiB"),
        }
    }
}

impl std::error::Error for EnvelopeError {}

/// A parsed, not yet authenticated, envelope borrowing from its bytes.
pub struct Envelope<'a> {
    pub key_id: KeyId,
    header: &'a [u8],
    nonce: &'a [u8],
    body: &'a [u8],
    tag: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Check the framing of `bytes` (no key needed).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() < OVERHEAD {
            return Err(EnvelopeError::Malformed("shorter than the 36-byte minimum"));
        }
        if bytes[0..2] != MAGIC {
            return Err(EnvelopeError::Malformed("magic is not \"PH\""));
        }
        if bytes[2] != FORMAT_V1 {
            return Err(EnvelopeError::Malformed("unknown format version"));
        }
        if bytes[3] != ALG_AES_256_GCM {
            return Err(EnvelopeError::Malformed("unknown algorithm"));
        }
        let body_end = bytes.len() - TAG_LEN;
        if body_end - HEADER_LEN - NONCE_LEN > u32::MAX as usize {
            return Err(EnvelopeError::Malformed("longer than the format allows"));
        }
        Ok(Envelope {
            key_id: key_id_of(bytes).expect("length checked above"),
            header: &bytes[0..HEADER_LEN],
            nonce: &bytes[HEADER_LEN..HEADER_LEN + NONCE_LEN],
            body: &bytes[HEADER_LEN + NONCE_LEN..body_end],
            tag: &bytes[body_end..],
        })
    }

    /// The 12-byte nonce (kept in `sample_id_mapping.encryption_iv` for the original schema).
    pub fn nonce(&self) -> &'a [u8] {
        self.nonce
    }

    /// Authenticate and decrypt with `cipher`, which must be the key named by `key_id`.
    pub fn open(&self, cipher: &Aes256Gcm, context: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let aad = associated_data(self.header, self.body.len(), context);
        // Allocated once at its final size (no regrowth copies of the plaintext).
        let mut out = self.body.to_vec();
        if cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(self.nonce),
                &aad,
                &mut out,
                Tag::from_slice(self.tag),
            )
            .is_err()
        {
            // aes-gcm 0.10 verifies the tag before decrypting, so this is still ciphertext;
            // zeroed anyway, so that no version of the crate can leave plaintext behind.
            out.zeroize();
            return Err(EnvelopeError::AuthenticationFailed(self.key_id));
        }
        Ok(out)
    }
}

/// The key id in an envelope's header, or None if it is too short to have one.
/// Only the framing is read: this is what `phi_key_id()` (IMMUTABLE) shows.
pub fn key_id_of(bytes: &[u8]) -> Option<KeyId> {
    if bytes.len() < HEADER_LEN {
        return None;
    }
    Some(KeyId([bytes[4], bytes[5], bytes[6], bytes[7]]))
}

/// Encrypt `plaintext` into a fresh v1 envelope.
pub fn seal(
    cipher: &Aes256Gcm,
    key_id: KeyId,
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
    context: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    if plaintext.len() > u32::MAX as usize {
        return Err(EnvelopeError::TooLong);
    }
    let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
    out.extend_from_slice(&MAGIC);
    out.push(FORMAT_V1);
    out.push(ALG_AES_256_GCM);
    out.extend_from_slice(&key_id.0);
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let aad = associated_data(&out[0..HEADER_LEN], plaintext.len(), context);
    let (head, body) = out.split_at_mut(HEADER_LEN + NONCE_LEN);
    let Ok(tag) =
        cipher.encrypt_in_place_detached(Nonce::from_slice(&head[HEADER_LEN..]), &aad, body)
    else {
        // The buffer may still hold the plaintext.
        out.zeroize();
        return Err(EnvelopeError::TooLong);
    };
    // Within the capacity reserved above: the buffer is never regrown.
    out.extend_from_slice(&tag);
    Ok(out)
}

fn associated_data(header: &[u8], len: usize, context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(HEADER_LEN + 4 + context.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(&(len as u32).to_be_bytes());
    aad.extend_from_slice(context);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::KeyInit;

    fn cipher(byte: u8) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(&[byte; 32]).unwrap()
    }
    const ID: KeyId = KeyId([0xde, 0xad, 0xbe, 0xef]);

    #[test]
    fn layout_is_the_contract() {
        let env = seal(&cipher(1), ID, &[9u8; 12], b"abc", b"").unwrap();
        assert_eq!(env.len(), 3 + OVERHEAD);
        assert_eq!(&env[0..4], &[0x50, 0x48, 0x01, 0x01]);
        assert_eq!(&env[4..8], &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(&env[8..20], &[9u8; 12]);
        assert_eq!(key_id_of(&env), Some(ID));
        assert_eq!(ID.to_string(), "deadbeef");
    }

    /// Known answer: AES-256-GCM of the NIST SP 800-38D test case 14 style input (zero key,
    /// zero nonce, 16 zero bytes), wrapped in our header. The AAD is ours, so the tag differs
    /// from NIST's; the ciphertext bytes (CTR stream) must not.
    #[test]
    fn known_answer_ciphertext_stream() {
        let c = Aes256Gcm::new_from_slice(&[0u8; 32]).unwrap();
        let env = seal(&c, KeyId([0; 4]), &[0u8; 12], &[0u8; 16], b"").unwrap();
        let expected_ct = [
            0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e, 0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3,
            0x9d, 0x18,
        ];
        assert_eq!(&env[20..36], &expected_ct);
        // Pinned tag of our AAD (header ‖ len ‖ empty context): guards the AAD layout.
        let tag_hex: String = env[36..].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tag_hex, KAT_TAG);
    }
    const KAT_TAG: &str = "8c7df3061709f07cbfcf6719218360ce";

    #[test]
    fn round_trip_sizes_and_contexts() {
        let c = cipher(3);
        for text in [&b""[..], b"x", "Zoë Ł 患者".as_bytes(), &[b'a'; 4096]] {
            for ctx in [&b""[..], b"row-1", &[0u8; 300]] {
                let env = seal(&c, ID, &[5u8; 12], text, ctx).unwrap();
                let got = Envelope::parse(&env).unwrap().open(&c, ctx).unwrap();
                assert_eq!(got, text);
            }
        }
    }

    #[test]
    fn every_byte_tampered_fails() {
        let c = cipher(4);
        let env = seal(&c, ID, &[6u8; 12], b"sample NA12878", b"ctx").unwrap();
        for i in 0..env.len() {
            for flip in [0x01u8, 0x80] {
                let mut bad = env.clone();
                bad[i] ^= flip;
                let res = Envelope::parse(&bad).and_then(|e| e.open(&c, b"ctx"));
                match res {
                    Err(EnvelopeError::Malformed(_)) => assert!(i < 4, "byte {i} gave Malformed"),
                    Err(EnvelopeError::AuthenticationFailed(_)) => assert!(i >= 4),
                    other => panic!("byte {i} flip {flip:#x}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn wrong_context_wrong_key_truncation_fail() {
        let c = cipher(5);
        let env = seal(&c, ID, &[7u8; 12], b"id", b"a").unwrap();
        let e = Envelope::parse(&env).unwrap();
        assert_eq!(
            e.open(&c, b"b"),
            Err(EnvelopeError::AuthenticationFailed(ID))
        );
        assert_eq!(
            e.open(&cipher(6), b"a"),
            Err(EnvelopeError::AuthenticationFailed(ID))
        );
        for n in 0..env.len() {
            let r = Envelope::parse(&env[..n]).and_then(|e| e.open(&c, b"a"));
            assert!(r.is_err(), "truncated to {n} bytes opened");
        }
        let mut longer = env.clone();
        longer.push(0);
        assert!(Envelope::parse(&longer).unwrap().open(&c, b"a").is_err());
    }

    #[test]
    fn errors_never_show_data() {
        let msg = EnvelopeError::AuthenticationFailed(ID).to_string();
        assert!(msg.contains("deadbeef"));
        assert!(!EnvelopeError::Malformed("x").to_string().is_empty());
    }
}
