//! Blind index (CONTRACT §4 `phi_blind_index`): a 16-byte HMAC-SHA-256 pseudonym of an
//! identifier, under a key derived from the encryption key by HKDF with its own label, so the
//! HMAC key is never the AES key and a blind index reveals nothing about the encryption key.
//! It lets `phi_lookup` find rows by identifier without decrypting other rows.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::mem::MaybeUninit;
use zeroize::{Zeroize, ZeroizeOnDrop};

const HKDF_SALT: &[u8] = b"vcf_pg_loader blind index v1";
const HKDF_INFO: &[u8] = b"phi_vault.sample_id_mapping.original_id_hmac";
pub const BLIND_INDEX_LEN: usize = 16;

#[derive(Zeroize, ZeroizeOnDrop)]
pub struct BlindIndexKey([u8; 32]);

impl BlindIndexKey {
    pub fn derive(encryption_key: &[u8]) -> Self {
        let mut slot = MaybeUninit::uninit();
        Self::derive_into(&mut slot, encryption_key);
        // SAFETY: derive_into initialised the slot.
        unsafe { slot.assume_init() }
    }

    /// Derive straight into `slot` (which may sit in locked memory): the derived key is written
    /// there by HKDF-Expand and never exists as a stack value that is moved afterwards. The
    /// HKDF state (PRK) still lives on the stack while this runs; the keyring wipes the stack
    /// after key set-up (best effort).
    pub fn derive_into<'a>(
        slot: &'a mut MaybeUninit<BlindIndexKey>,
        encryption_key: &[u8],
    ) -> &'a mut BlindIndexKey {
        let key = slot.write(BlindIndexKey([0u8; 32]));
        Hkdf::<Sha256>::new(Some(HKDF_SALT), encryption_key)
            .expand(HKDF_INFO, &mut key.0)
            .expect("32 bytes is a valid HKDF-SHA-256 output length");
        key
    }

    pub fn index(&self, plaintext: &[u8]) -> [u8; BLIND_INDEX_LEN] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(plaintext);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; BLIND_INDEX_LEN];
        out.copy_from_slice(&full[..BLIND_INDEX_LEN]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_keyed_and_distinct() {
        let k1 = BlindIndexKey::derive(&[1; 32]);
        let k2 = BlindIndexKey::derive(&[2; 32]);
        assert_eq!(k1.index(b"NA12878"), k1.index(b"NA12878"));
        assert_ne!(k1.index(b"NA12878"), k1.index(b"NA12879"));
        assert_ne!(k1.index(b"NA12878"), k2.index(b"NA12878"));
        assert_eq!(k1.index(b"").len(), 16);
    }

    #[test]
    fn derive_into_matches_derive() {
        let mut slot = MaybeUninit::uninit();
        let k = BlindIndexKey::derive_into(&mut slot, &[3; 32]);
        assert_eq!(k.0, BlindIndexKey::derive(&[3; 32]).0);
    }

    #[test]
    fn derived_key_is_not_the_encryption_key() {
        let k = BlindIndexKey::derive(&[7; 32]);
        assert_ne!(k.0, [7; 32]);
        // RFC 2104 HMAC directly under the raw key must differ from ours (domain separation).
        let mut raw = <Hmac<Sha256> as Mac>::new_from_slice(&[7; 32]).unwrap();
        raw.update(b"x");
        assert_ne!(&raw.finalize().into_bytes()[..16], &k.index(b"x")[..]);
    }
}
