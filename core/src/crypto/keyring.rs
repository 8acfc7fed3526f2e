//! The keyring (CONTRACT §2): base64 keys of 32 bytes, the first *active* (encrypts), the
//! others decrypt only. Text form: entries separated by newlines or commas, `#` starts a
//! comment, blank entries ignored — one parser for the key file, the setting and the output
//! of `phi_key_command`.
//!
//! Key material sits in [`SecureBox`]es (mlocked, excluded from core dumps, zeroed on drop);
//! the AES key schedule and the blind-index key are derived once here, never per row.
//!
//! The raw key bytes take this path only: base64 text → a locked scratch buffer (decoded in
//! place, no heap `Vec`) → AES key schedule and HKDF output written in place into the locked
//! mapping of the key → scratch zeroed. Afterwards the stack the constructors used is wiped
//! (best effort, see [`wipe_stack`]).

use super::blind_index::BlindIndexKey;
use super::envelope::{self, Envelope, EnvelopeError, KeyId, NONCE_LEN};
use super::rng;
use super::secure_mem::{wipe_stack, SecureBox};
use aes_gcm::{Aes256Gcm, Key as AesKey, KeyInit};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Read};
use std::mem::MaybeUninit;
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
    let text = encode_fresh_key();
    wipe_stack();
    text
}

#[inline(never)]
fn encode_fresh_key() -> Zeroizing<String> {
    // The raw key exists only in locked memory; `encode` allocates the String once, at its
    // final size (no regrowth copies), and it is zeroed on drop.
    let mut k = SecureBox::new(Scratch::new());
    rng::os_random(&mut k.0[..KEY_LEN]);
    Zeroizing::new(BASE64.encode(&k.0[..KEY_LEN]))
}

/// Longest base64 run decoded at once: 64 characters decode to at most 48 bytes, the size of
/// the scratch buffer. Longer entries (never a valid key) are decoded 64 characters at a time,
/// only to count their bytes for the error.
const B64_CHUNK: usize = 64;
const SCRATCH_LEN: usize = B64_CHUNK / 4 * 3;

/// Decoded key bytes on their way into a key's locked mapping. Lives in a [`SecureBox`];
/// zeroed after every key and when dropped (on every path, errors included).
struct Scratch([u8; SCRATCH_LEN]);

impl Scratch {
    fn new() -> Self {
        Scratch([0u8; SCRATCH_LEN])
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        #[cfg(test)]
        let clean_before = self.0.iter().all(|&b| b == 0);
        self.0.zeroize();
        #[cfg(test)]
        test_hook::record(test_hook::ScratchAtDrop {
            clean_before,
            clean_after: self.0.iter().all(|&b| b == 0),
        });
    }
}

/// Decode one keyring entry into `out`, returning the number of bytes it decodes to. Same
/// acceptance as decoding the whole entry at once: chunks before the last are whole 4-character
/// groups and must not contain padding.
fn decode_entry(item: &[u8], out: &mut [u8; SCRATCH_LEN]) -> Result<usize, ()> {
    let mut total = 0usize;
    let mut chunks = item.chunks(B64_CHUNK).peekable();
    while let Some(chunk) = chunks.next() {
        if chunks.peek().is_some() && chunk.contains(&b'=') {
            return Err(());
        }
        total += BASE64.decode_slice(chunk, &mut out[..]).map_err(|_| ())?;
    }
    Ok(total)
}

struct KeyMaterial {
    cipher: Aes256Gcm,
    blind: BlindIndexKey,
}

impl KeyMaterial {
    /// Build the AES-256-GCM key schedule and the blind-index key directly in a fresh locked
    /// mapping. Never inlined, so its frame (and its callees') lie in the region the caller's
    /// [`wipe_stack`] overwrites.
    #[inline(never)]
    fn build_locked(raw: &[u8; KEY_LEN]) -> SecureBox<KeyMaterial> {
        // SAFETY: both fields are written before the closure returns. If a constructor panics,
        // new_with zeroes and releases the mapping without dropping anything (neither field
        // owns heap memory, so nothing leaks but zeroed pages).
        unsafe {
            SecureBox::new_with(|slot: &mut MaybeUninit<KeyMaterial>| {
                let p = slot.as_mut_ptr();
                std::ptr::addr_of_mut!((*p).cipher)
                    .write(Aes256Gcm::new(AesKey::<Aes256Gcm>::from_slice(&raw[..])));
                let blind =
                    &mut *std::ptr::addr_of_mut!((*p).blind).cast::<MaybeUninit<BlindIndexKey>>();
                BlindIndexKey::derive_into(blind, &raw[..]);
            })
        }
    }
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
        let parsed = Self::parse_locked(text);
        // Best effort: overwrite what the decoder, SHA-256 and the key constructors left on
        // the stack below this frame (see wipe_stack for what this cannot promise).
        wipe_stack();
        parsed
    }

    #[inline(never)]
    fn parse_locked(text: &str) -> Result<Self, KeyringError> {
        let mut scratch = SecureBox::new(Scratch::new());
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
                // On every early return below, dropping `scratch` zeroes it.
                let bytes = decode_entry(item.as_bytes(), &mut scratch.0)
                    .map_err(|_| KeyringError::BadBase64 { line, entry })?;
                if bytes != KEY_LEN {
                    return Err(KeyringError::WrongLength { line, entry, bytes });
                }
                let raw: &[u8; KEY_LEN] = scratch.0[..KEY_LEN].try_into().expect("32 of 48");
                let id = key_id(raw);
                if let Some(pos) = keys.iter().position(|k| k.id == id) {
                    return Err(KeyringError::DuplicateKeyId {
                        id,
                        first: pos + 1,
                        second: entry,
                    });
                }
                let material = KeyMaterial::build_locked(raw);
                // Zeroed before it is reused for the next entry.
                scratch.0.zeroize();
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
    ///
    /// The plaintext is a plain `Vec` (it becomes a `String` in the SQL layer); callers that
    /// keep it should wrap it in `Zeroizing`.
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

/// Read at most `limit` bytes of keyring text from `reader` into a buffer allocated once
/// (`limit + 1` bytes, zero-filled, never regrown: regrowth would leave unzeroed copies of
/// key text on the heap) and zeroed on drop. More than `limit` bytes is an
/// [`io::ErrorKind::InvalidData`] error naming the limit, never the content.
pub fn read_text(reader: &mut impl Read, limit: usize) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; limit.saturating_add(1)]);
    let mut len = 0usize;
    loop {
        match reader.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if len > limit {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("longer than {limit} bytes"),
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    // Shortening keeps the allocation; Zeroizing<Vec> zeroes the spare capacity too.
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod test_hook {
    use std::cell::RefCell;

    /// The state of a keyring parse's scratch buffer when it was dropped.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ScratchAtDrop {
        /// Already zero before Drop ran (the per-key zeroing happened).
        pub clean_before: bool,
        /// Zero after Drop's own zeroing, just before the locked page is released.
        pub clean_after: bool,
    }

    thread_local! {
        static LAST: RefCell<Vec<ScratchAtDrop>> = const { RefCell::new(Vec::new()) };
    }

    pub fn record(s: ScratchAtDrop) {
        LAST.with(|l| l.borrow_mut().push(s));
    }

    pub fn take() -> Vec<ScratchAtDrop> {
        LAST.with(|l| std::mem::take(&mut *l.borrow_mut()))
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

    #[test]
    fn scratch_is_zeroed_after_every_parse() {
        use test_hook::{take, ScratchAtDrop};
        take();
        Keyring::parse(&format!("{},{}", b64(1), b64(2))).unwrap();
        assert_eq!(
            take(),
            vec![ScratchAtDrop {
                clean_before: true,
                clean_after: true
            }]
        );
        // Error after a full decode: the scratch still held bytes, Drop zeroed them.
        Keyring::parse(&BASE64.encode([7u8; 40])).unwrap_err();
        assert_eq!(
            take(),
            vec![ScratchAtDrop {
                clean_before: false,
                clean_after: true
            }]
        );
        Keyring::parse(&format!("{}\n!!", b64(3))).unwrap_err();
        assert!(take().iter().all(|s| s.clean_after));
        generate_key_base64();
        assert_eq!(take().len(), 1, "the generator's scratch went through Drop");
    }

    #[test]
    fn long_entries_report_their_decoded_length() {
        for n in [0usize, 1, 31, 33, 47, 48, 49, 64, 100, 1000] {
            let bytes = vec![0xa5u8; n];
            for text in [
                BASE64.encode(&bytes),
                BASE64.encode(&bytes).trim_end_matches('=').to_string(),
            ] {
                if n == 0 {
                    assert_eq!(Keyring::parse(&text).unwrap_err(), KeyringError::Empty);
                    continue;
                }
                assert_eq!(
                    Keyring::parse(&text).unwrap_err(),
                    KeyringError::WrongLength {
                        line: 1,
                        entry: 1,
                        bytes: n
                    },
                    "{n} bytes: {text}"
                );
            }
        }
        // Padding inside a long entry is refused, as a whole-entry decode would refuse it.
        let bad = format!("{}{}", BASE64.encode([1u8; 47]), BASE64.encode([2u8; 40]));
        assert!(bad[..64].contains('='));
        assert_eq!(
            Keyring::parse(&bad).unwrap_err(),
            KeyringError::BadBase64 { line: 1, entry: 1 }
        );
        // Equivalence with a whole-entry decode, over lengths around the chunk boundary.
        for n in 40..140usize {
            let text: String = "QUJD".repeat(n / 4) + &"A".repeat(n % 4);
            let whole = BASE64.decode(text.as_bytes()).map(|v| v.len()).ok();
            let mut out = [0u8; SCRATCH_LEN];
            assert_eq!(decode_entry(text.as_bytes(), &mut out).ok(), whole, "{n}");
        }
    }

    #[test]
    fn in_place_material_matches_the_plain_constructors() {
        let raw = [0x42u8; KEY_LEN];
        let m = KeyMaterial::build_locked(&raw);
        let plain = Aes256Gcm::new_from_slice(&raw).unwrap();
        let env = envelope::seal(&plain, KeyId([0; 4]), &[1; 12], b"abc", b"c").unwrap();
        assert_eq!(
            envelope::seal(&m.cipher, KeyId([0; 4]), &[1; 12], b"abc", b"c").unwrap(),
            env
        );
        assert_eq!(
            m.blind.index(b"NA12878"),
            BlindIndexKey::derive(&raw).index(b"NA12878")
        );
    }

    #[test]
    fn read_text_is_bounded_and_never_regrows() {
        let text = b"key one\nkey two\n";
        let got = read_text(&mut &text[..], 64).unwrap();
        assert_eq!(&got[..], &text[..]);
        assert_eq!(got.capacity(), 65);
        assert_eq!(
            &read_text(&mut &text[..], text.len()).unwrap()[..],
            &text[..]
        );
        let e = read_text(&mut &text[..], text.len() - 1).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(!e.to_string().contains("key"), "{e}");
        assert!(read_text(&mut &b""[..], 0).unwrap().is_empty());
    }
}
