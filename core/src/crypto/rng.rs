//! Nonce and key randomness. A ChaCha20 CSPRNG seeded from the OS per *process*: the seed is
//! taken lazily on first use and taken again in every child after `fork` (a `pthread_atfork`
//! child handler bumps a generation counter), so a generator that existed in the postmaster
//! before `fork` is never reused by a backend (CONTRACT §2, "Nonces"). After seeding, a nonce
//! costs no syscall: the per-call check is one atomic load, not `getpid()`.

use rand_chacha::ChaCha20Rng;
use rand_core::{OsRng, RngCore, SeedableRng};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// Bumped in the child of every `fork()`.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTER_ATFORK: Once = Once::new();

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

thread_local! {
    static PROCESS_RNG: RefCell<Option<(u64, ChaCha20Rng)>> = const { RefCell::new(None) };
}

/// Fill `out` from the per-process generator.
pub fn fill_random(out: &mut [u8]) {
    REGISTER_ATFORK.call_once(|| {
        // SAFETY: registers a handler that only touches an atomic (async-signal-safe).
        let rc = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        assert_eq!(rc, 0, "pthread_atfork failed");
    });
    let generation = FORK_GENERATION.load(Ordering::SeqCst);
    PROCESS_RNG.with(|cell| {
        let mut slot = cell.borrow_mut();
        let stale = !matches!(&*slot, Some((g, _)) if *g == generation);
        if stale {
            *slot = Some((
                generation,
                ChaCha20Rng::from_rng(OsRng).expect("the OS random source failed"),
            ));
        }
        if let Some((_, rng)) = slot.as_mut() {
            rng.fill_bytes(out);
        }
    });
}

/// Bytes straight from the OS CSPRNG, for long-lived secrets (`phi_generate_key`).
pub fn os_random(out: &mut [u8]) {
    OsRng.fill_bytes(out);
}

/// A random (version 4, RFC 9562) UUID as 16 bytes: used for pseudonyms and load batches.
pub fn uuid_v4() -> [u8; 16] {
    let mut b = [0u8; 16];
    fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn nonces_do_not_repeat() {
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let mut n = [0u8; 12];
            fill_random(&mut n);
            assert!(seen.insert(n));
        }
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = uuid_v4();
        assert_eq!(u[6] >> 4, 4);
        assert_eq!(u[8] >> 6, 0b10);
        assert_ne!(uuid_v4(), u);
    }

    #[test]
    fn forked_child_gets_a_fresh_stream() {
        // Warm the parent's generator, then fork: the child must reseed (fork generation differs) and so
        // draw different bytes from what the parent draws next.
        let mut warm = [0u8; 12];
        fill_random(&mut warm);
        let mut fds = [0i32; 2];
        // SAFETY: plain pipe/fork/read/write/_exit; the child only touches its own copy.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                let mut n = [0u8; 12];
                fill_random(&mut n);
                libc::write(fds[1], n.as_ptr() as *const libc::c_void, 12);
                libc::_exit(0);
            }
            let mut parent = [0u8; 12];
            fill_random(&mut parent);
            let mut child = [0u8; 12];
            assert_eq!(
                libc::read(fds[0], child.as_mut_ptr() as *mut libc::c_void, 12),
                12
            );
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            assert_ne!(parent, child, "child reused the parent's nonce stream");
        }
    }
}
