//! Sealing one vault row (CONTRACT §3–4): the envelope under the active key, its nonce and
//! key id as the original schema's columns want them, and the blind index — one call, used by
//! loads and rotation alike, so the SQL layer never slices envelope bytes.

use super::envelope::{EnvelopeError, KeyId, HEADER_LEN, NONCE_LEN};
use super::keyring::Keyring;

/// What a `phi_vault.sample_id_mapping` row stores for one identifier.
pub struct SealedRow {
    envelope: Vec<u8>,
    key_id: KeyId,
    blind_index: [u8; 16],
}

impl SealedRow {
    /// The envelope (`original_id_encrypted`).
    pub fn envelope(&self) -> &[u8] {
        &self.envelope
    }
    pub fn into_envelope(self) -> Vec<u8> {
        self.envelope
    }
    /// The 12-byte nonce inside the envelope (`encryption_iv`).
    pub fn nonce(&self) -> &[u8] {
        &self.envelope[HEADER_LEN..HEADER_LEN + NONCE_LEN]
    }
    /// The key that sealed it (`key_id`).
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
    /// HMAC pseudonym under the active key's derived key (`original_id_hmac`).
    pub fn blind_index(&self) -> [u8; 16] {
        self.blind_index
    }
}

impl Keyring {
    /// Seal `plaintext` bound to `context` and compute its blind index, under the active key.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<SealedRow, EnvelopeError> {
        Ok(SealedRow {
            envelope: self.encrypt(plaintext, context)?,
            key_id: self.active_key_id(),
            blind_index: self.blind_index(plaintext),
        })
    }

    /// Rotation: seal again under the active key what `envelope` holds (decrypted with
    /// whichever key of the ring sealed it) or, for a row never encrypted, `plaintext`.
    /// The decrypted bytes are zeroized when done.
    pub fn reseal(
        &self,
        envelope: Option<&[u8]>,
        plaintext: Option<&str>,
        context: &[u8],
    ) -> Result<SealedRow, EnvelopeError> {
        match envelope {
            Some(ct) => {
                let pt = zeroize::Zeroizing::new(self.decrypt(ct, context)?);
                self.seal(&pt, context)
            }
            None => self.seal(plaintext.unwrap_or_default().as_bytes(), context),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::envelope::{key_id_of, Envelope};
    use base64::Engine;

    fn keyring() -> Keyring {
        let k = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        Keyring::parse(&k).unwrap()
    }

    #[test]
    fn reseal_moves_a_row_to_the_active_key_and_keeps_what_it_holds() {
        let old = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let new = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        let before = Keyring::parse(&old).unwrap();
        let after = Keyring::parse(&format!("{new}\n{old}")).unwrap();
        let sealed = before.seal(b"NA12878", b"ctx").unwrap();
        let moved = after.reseal(Some(sealed.envelope()), None, b"ctx").unwrap();
        assert_eq!(moved.key_id(), after.active_key_id());
        assert_ne!(moved.key_id(), sealed.key_id());
        assert_eq!(after.decrypt(moved.envelope(), b"ctx").unwrap(), b"NA12878");
        assert_eq!(moved.blind_index(), after.blind_index(b"NA12878"));
        // A row stored before encryption existed is sealed from its plaintext column.
        let legacy = after.reseal(None, Some("HG00096"), b"ctx").unwrap();
        assert_eq!(
            after.decrypt(legacy.envelope(), b"ctx").unwrap(),
            b"HG00096"
        );
        // The context binds: another row's pseudonym cannot open it.
        assert!(after
            .reseal(Some(sealed.envelope()), None, b"other")
            .is_err());
        // A key the ring lacks is an error, not a silent copy.
        assert!(Keyring::parse(&new)
            .unwrap()
            .reseal(Some(sealed.envelope()), None, b"ctx")
            .is_err());
    }

    #[test]
    fn sealed_row_columns_agree_with_the_envelope() {
        let k = keyring();
        let row = k.seal(b"NA12878", b"ctx").unwrap();
        let env = Envelope::parse(row.envelope()).unwrap();
        assert_eq!(row.key_id(), k.active_key_id());
        assert_eq!(key_id_of(row.envelope()), Some(row.key_id()));
        assert_eq!(row.nonce(), env.nonce());
        assert_eq!(row.blind_index(), k.blind_index(b"NA12878"));
        assert_eq!(k.decrypt(row.envelope(), b"ctx").unwrap(), b"NA12878");
        assert!(k.decrypt(row.envelope(), b"other").is_err());
    }

    #[test]
    fn every_seal_has_a_fresh_nonce() {
        let k = keyring();
        let a = k.seal(b"x", b"c").unwrap();
        let b = k.seal(b"x", b"c").unwrap();
        assert_ne!(a.nonce(), b.nonce());
        assert_eq!(a.blind_index(), b.blind_index());
    }
}
