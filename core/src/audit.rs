//! The audit chain's links (CONTRACT §4): each row's hash is SHA-256(previous hash || the row's
//! payload), the payload being `phi_vault.audit_row_payload(…)` — so what the library seals at
//! commit, `phi_vault.verify_audit_chain()` recomputes in SQL with `phi_vault.audit_row_hash`.

use sha2::{Digest, Sha256};

/// One sealed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub audit_id: i64,
    pub chain_seq: i64,
    /// The previous row's hash (None for the first row of the chain).
    pub prev_hash: Option<Vec<u8>>,
    pub hash: [u8; 32],
}

/// Chain `rows` — `(audit_id, payload)` in sealing order — after the head (`prev`, `last_seq`).
pub fn link<'a>(
    prev: Option<&[u8]>,
    last_seq: i64,
    rows: impl IntoIterator<Item = (i64, &'a [u8])>,
) -> Vec<Link> {
    let mut prev: Option<Vec<u8>> = prev.map(<[u8]>::to_vec);
    rows.into_iter()
        .enumerate()
        .map(|(i, (id, payload))| {
            let mut h = Sha256::new();
            h.update(prev.as_deref().unwrap_or(&[]));
            h.update(payload);
            let hash: [u8; 32] = h.finalize().into();
            Link {
                audit_id: id,
                chain_seq: last_seq + 1 + i as i64,
                prev_hash: prev.replace(hash.to_vec()),
                hash,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    #[test]
    fn each_row_hashes_the_one_before() {
        let rows: [(i64, &[u8]); 2] = [(7, b"a"), (9, b"b")];
        let l = link(None, 0, rows);
        assert_eq!(l[0].chain_seq, 1);
        assert_eq!(l[0].prev_hash, None);
        assert_eq!(
            l[0].hash,
            sha(&[b"a"]),
            "no previous hash: SHA-256 of the payload"
        );
        assert_eq!(l[1].chain_seq, 2);
        assert_eq!(l[1].prev_hash.as_deref(), Some(&l[0].hash[..]));
        assert_eq!(l[1].hash, sha(&[&l[0].hash, b"b"]));
    }

    #[test]
    fn continues_after_the_head() {
        let head = sha(&[b"x"]);
        let l = link(Some(&head), 41, [(100, &b"p"[..])]);
        assert_eq!(l[0].chain_seq, 42);
        assert_eq!(l[0].prev_hash.as_deref(), Some(&head[..]));
        assert_eq!(l[0].hash, sha(&[&head, b"p"]));
        assert!(link(Some(&head), 41, []).is_empty());
    }
}
