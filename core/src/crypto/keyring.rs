//! The keyring (CONTRACT §2): base64 keys of 32 bytes, the first *active* (encrypts), the
//! others decrypt only. Text form: entries separated by newlines or commas, `#` starts a
//! comment, blank entries ignored — one parser for the key file, the setting and the output
//! of `phi_key_command`.
//!
//! Key material sits in [`SecureBox`]es (mlocked, excluded from core dumps, zeroed on drop);
//! the AES key schedule and the blind-index key are derived once here, never per row.

use super::blind_index::BlindIndexKey;
use super::envelope::{self, Envelope, EnvelopeError, KeyId, NONCE_LEN};
use super::rng;
use super::secure_mem::SecureBox;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

pub const KEY_LEN: usize = 32;
const KEY_ID_DOMAIN: &[u8] = b"vcf_pg_loader key id v1";

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a keyring text was refused. Positions only — never the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringError {
    Empty,
    BadBase64 {
        line: usize,
        entry: usize,
    },
    WrongLength {
        line: usize,
        entry: usize,
        bytes: usize,
    },
    DuplicateKeyId {
        id: KeyId,
        first: usize,
        second: usize,
    },
}

impl fmt::Display for KeyringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyringError::Empty => write!(f, "the keyring holds no key"),
            KeyringError::BadBase64 { line, entry } => {
                write!(f, "key #{entry} (line {line}) is not valid base64")
            }
            KeyringError::WrongLength { line, entry, bytes } => write!(
                f,
                "key #{entry} (line {line}) decodes to {bytes} bytes; AES-256 keys are 32 bytes"
            ),
            KeyringError::DuplicateKeyId { id, first, second } => {
                write!(f, "keys #{first} and #{second} have the same key id {id}")
            }
        }
    }
}

impl std::error::Error for KeyringError {}

/// The key id of raw key bytes: first 4 bytes of SHA-256("vcf_pg_loader key id v1" ‖ key).
pub fn key_id(key: &[u8]) -> KeyId {
    let mut h = Sha256::new();
    h.update(KEY_ID_DOMAIN);
    h.update(key);
    let d = h.finalize();
    KeyId([d[0], d[1], d[2], d[3]])
}

/// A fresh random key, base64 encoded (`phi_generate_key`).
pub fn generate_key_base64() -> Zeroizing<String> {
    let mut k = Zeroizing::new([0u8; KEY_LEN]);
    rng::os_random(&mut k[..]);
    Zeroizing::new(BASE64.encode(&k[..]))
}

struct KeyMaterial {
    cipher: Aes256Gcm,
    blind: BlindIndexKey,
}

struct Key {
    id: KeyId,
    material: SecureBox<KeyMaterial>,
}

pub struct Keyring {
    keys: Vec<Key>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}

impl Keyring {
    /// Parse keyring text. The text itself is not kept; callers should zeroize it.
    pub fn parse(text: &str) -> Result<Self, KeyringError> {
        let mut keys: Vec<Key> = Vec::new();
        let mut entry = 0usize;
        for (lineno, line) in text.lines().enumerate() {
            let content = line.split('#').next().unwrap_or("");
            for item in content.split(',') {
                let item = item.trim();
                if item.is_empty() {
                    continue;
                }
                entry += 1;
                let line = lineno + 1;
                let mut raw = Zeroizing::new(Vec::with_capacity(48));
                BASE64
                    .decode_vec(item.as_bytes(), &mut raw)
                    .map_err(|_| KeyringError::BadBase64 { line, entry })?;
                if raw.len() != KEY_LEN {
                    return Err(KeyringError::WrongLength {
                        line,
                        entry,
                        bytes: raw.len(),
                    });
                }
                let id = key_id(&raw);
                if let Some(pos) = keys.iter().position(|k| k.id == id) {
                    return Err(KeyringError::DuplicateKeyId {
                        id,
                        first: pos + 1,
                        second: entry,
                    });
                }
                let material = SecureBox::new(KeyMaterial {
                    cipher: Aes256Gcm::new_from_slice(&raw).expect("length checked"),
                    blind: BlindIndexKey::derive(&raw),
                });
                raw.zeroize();
                keys.push(Key { id, material });
            }
        }
        if keys.is_empty() {
            return Err(KeyringError::Empty);
        }
        Ok(Keyring { keys })
    }

    pub fn active_key_id(&self) -> KeyId {
        self.keys[0].id
    }

    /// All key ids, active first.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|k| k.id).collect()
    }

    pub fn contains(&self, id: KeyId) -> bool {
        self.keys.iter().any(|k| k.id == id)
    }

    /// Seal under the active key with a fresh nonce.
    pub fn encrypt(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng::fill_random(&mut nonce);
        let k = &self.keys[0];
        envelope::seal(&k.material.cipher, k.id, &nonce, plaintext, context)
    }

    /// Open an envelope under whichever configured key its header names.
    pub fn decrypt(&self, bytes: &[u8], context: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let env = Envelope::parse(bytes)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == env.key_id)
            .ok_or(EnvelopeError::UnknownKeyId(env.key_id))?;
        env.open(&key.material.cipher, context)
    }

    /// The blind index of `plaintext` under every configured key, active first: rows not yet
    /// rotated carry the index of the key that wrote them.
    pub fn blind_indexes(&self, plaintext: &[u8]) -> Vec<[u8; 16]> {
        self.keys
            .iter()
            .map(|k| k.material.blind.index(plaintext))
            .collect()
    }

    /// 16-byte blind index of `plaintext` under the active key's derived HMAC key.
    pub fn blind_index(&self, plaintext: &[u8]) -> [u8; 16] {
        self.keys[0].material.blind.index(plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(byte: u8) -> String {
        BASE64.encode([byte; 32])
    }

    #[test]
    fn parses_file_and_setting_forms() {
        let file = format!("# keyring\n{}\n\n  {}  # old key\n", b64(1), b64(2));
        let k = Keyring::parse(&file).unwrap();
        assert_eq!(k.key_ids(), vec![key_id(&[1; 32]), key_id(&[2; 32])]);
        let setting = format!("{}, {}", b64(1), b64(2));
        assert_eq!(Keyring::parse(&setting).unwrap().key_ids(), k.key_ids());
        // Unpadded base64 is accepted too.
        let unpadded = b64(3).trim_end_matches('=').to_string();
        assert_eq!(
            Keyring::parse(&unpadded).unwrap().active_key_id(),
            key_id(&[3; 32])
        );
    }

    #[test]
    fn key_id_is_the_contract_derivation() {
        let mut h = Sha256::new();
        h.update(b"vcf_pg_loader key id v1");
        h.update([0u8; 32]);
        let d = h.finalize();
        assert_eq!(key_id(&[0u8; 32]).0, [d[0], d[1], d[2], d[3]]);
        assert_eq!(key_id(&[0u8; 32]).to_string().len(), 8);
    }

    #[test]
    fn refusals_name_position_not_content() {
        assert_eq!(
            Keyring::parse("# only a comment\n\n").unwrap_err(),
            KeyringError::Empty
        );
        assert_eq!(Keyring::parse("").unwrap_err(), KeyringError::Empty);
        let e = Keyring::parse(&format!("{}\nnot*base64\n", b64(1))).unwrap_err();
        assert_eq!(e, KeyringError::BadBase64 { line: 2, entry: 2 });
        assert!(!e.to_string().contains("not*base64"));
        let short = BASE64.encode([1u8; 16]);
        let e = Keyring::parse(&short).unwrap_err();
        assert_eq!(
            e,
            KeyringError::WrongLength {
                line: 1,
                entry: 1,
                bytes: 16
            }
        );
        assert!(!e.to_string().contains(&short));
        let e = Keyring::parse(&format!("{},{}", b64(4), b64(4))).unwrap_err();
        assert!(matches!(
            e,
            KeyringError::DuplicateKeyId {
                first: 1,
                second: 2,
                ..
            }
        ));
    }

    #[test]
    fn encrypt_with_active_decrypt_with_any() {
        let old = Keyring::parse(&b64(1)).unwrap();
        let env_old = old.encrypt(b"NA12878", b"ctx").unwrap();
        let both = Keyring::parse(&format!("{},{}", b64(2), b64(1))).unwrap();
        assert_eq!(both.decrypt(&env_old, b"ctx").unwrap(), b"NA12878");
        let env_new = both.encrypt(b"NA12878", b"ctx").unwrap();
        assert_eq!(envelope::key_id_of(&env_new), Some(key_id(&[2; 32])));
        assert_eq!(
            old.decrypt(&env_new, b"ctx"),
            Err(EnvelopeError::UnknownKeyId(key_id(&[2; 32])))
        );
        // Two encryptions of one value differ (fresh nonce).
        assert_ne!(
            both.encrypt(b"x", b"").unwrap(),
            both.encrypt(b"x", b"").unwrap()
        );
    }

    #[test]
    fn debug_shows_ids_only() {
        let k = Keyring::parse(&b64(9)).unwrap();
        let dbg = format!("{k:?}");
        assert!(dbg.contains(&key_id(&[9; 32]).to_string()));
        assert!(!dbg.contains(&b64(9)));
    }

    #[test]
    fn generated_keys_parse_and_differ() {
        let a = generate_key_base64();
        let b = generate_key_base64();
        assert_ne!(*a, *b);
        Keyring::parse(&a).unwrap();
    }
}
