//! Envelope parsing and decryption of arbitrary bytes under a fixed keyring: must return an
//! error (never panic) unless the bytes are a real envelope; and every plaintext round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vcf_pg_loader_core::crypto::envelope;
use vcf_pg_loader_core::crypto::Keyring;

// Two fixed test keys (base64 of 32 bytes 0x01.. and 0x02..); they protect nothing.
const KEYS: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n";

fuzz_target!(|data: &[u8]| {
    let ring = Keyring::parse(KEYS).expect("fixed keyring parses");
    let (ctx, body) = data.split_at(data.len().min(8));
    // Arbitrary bytes as a ciphertext: an error, never a panic, never a plaintext.
    let _ = envelope::key_id_of(body);
    if let Ok(e) = envelope::Envelope::parse(body) {
        let _ = e.nonce();
    }
    assert!(ring.decrypt(body, ctx).is_err(), "arbitrary bytes must not authenticate");
    // Any plaintext round-trips under its context and fails under another.
    let sealed = ring.encrypt(body, ctx).expect("encrypt");
    assert_eq!(ring.decrypt(&sealed, ctx).expect("decrypt"), body);
    let mut other = ctx.to_vec();
    other.push(0);
    assert!(ring.decrypt(&sealed, &other).is_err());
    // Flipping any one byte is detected.
    if !sealed.is_empty() {
        let mut t = sealed.clone();
        let i = data.first().map_or(0, |&b| b as usize) % t.len();
        t[i] ^= 0x80;
        assert!(ring.decrypt(&t, ctx).is_err());
    }
});
