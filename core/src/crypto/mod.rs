//! PHI cryptography (CONTRACT §2–3): keyring, key ids, the v1 envelope, the blind index and
//! the nonce generator. No PostgreSQL here; errors are typed and mapped to SQLSTATEs by the
//! SQL layer. No error or `Debug` output ever carries key bytes, plaintext or ciphertext.

pub mod blind_index;
pub mod envelope;
pub mod key_command;
pub mod key_file;
pub mod keyring;
pub mod rng;
pub mod scram;
pub mod sealed;
mod secure_mem;

pub use envelope::{EnvelopeError, KeyId};
pub use keyring::{Keyring, KeyringError};
