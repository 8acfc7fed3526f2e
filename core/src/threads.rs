//! Threads inside a PostgreSQL backend. PostgreSQL's signal handlers (cancel, terminate,
//! latch wake-ups) must run on the backend thread, so every thread we start — the parser,
//! the BGZF inflaters — starts with all signals blocked. None of them calls PostgreSQL.

/// Run `f` (which spawns threads) with every signal blocked; threads started inside inherit
/// the mask. The calling thread's mask is restored afterwards.
pub fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: plain sigset manipulation of the calling thread; the old mask is restored.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let out = f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spawned_threads_block_signals_and_the_caller_does_not() {
        fn blocked(sig: i32) -> bool {
            unsafe {
                let mut cur: libc::sigset_t = std::mem::zeroed();
                libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut cur);
                libc::sigismember(&cur, sig) == 1
            }
        }
        let inner = super::with_signals_blocked(|| std::thread::spawn(|| blocked(libc::SIGINT)))
            .join()
            .unwrap();
        assert!(inner, "the spawned thread must have SIGINT blocked");
        assert!(!blocked(libc::SIGINT), "the caller's mask is restored");
    }
}
