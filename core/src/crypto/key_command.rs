//! Running `phi_key_command` (CONTRACT §2), the pure part: the command runs like
//! `ssl_passphrase_command` (`/bin/sh -c`, stdin and stderr `/dev/null`) and its stdout is the
//! keyring text.
//!
//! * It runs in a process group of its own, and that whole group is killed with `SIGKILL` on
//!   timeout, on cancel, and when the command has finished (so nothing it started can keep
//!   holding the pipe, or linger). The kill always happens *before* the direct child is
//!   reaped, so the group id cannot have been reused by then. The direct child is always
//!   reaped — by a guard's `Drop`, so also when the caller's `interrupt` unwinds.
//! * The wait is `poll(2)` on the pipe in steps of at most [`INTERRUPT_INTERVAL`], calling
//!   `interrupt` before each step: in a backend it runs `CHECK_FOR_INTERRUPTS()`, which may
//!   unwind (query cancel, termination).
//! * Output goes into one buffer allocated up front ([`MAX_OUTPUT`] + 1 bytes) that is never
//!   regrown (regrowth would leave unzeroed copies of key text on the heap) and is zeroed on
//!   drop. Errors never carry the output.

use std::fmt;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Most bytes of output accepted (64 KiB, some 1400 keys). More is [`KeyCommandError::TooLarge`].
pub const MAX_OUTPUT: usize = 64 * 1024;

/// Longest time between two calls of `interrupt` while waiting for the command.
pub const INTERRUPT_INTERVAL: Duration = Duration::from_millis(50);

/// How long the guard waits for the direct child to go after `SIGKILL` before giving up on
/// reaping it (it can only outlive `SIGKILL` if it is not ours to kill, e.g. a set-uid program
/// the shell exec'd, or is stuck in the kernel). Giving up leaves a zombie rather than hanging
/// the backend for ever.
const REAP_GRACE: Duration = Duration::from_secs(5);

/// Signals whose disposition the child resets to the default before `exec`: a PostgreSQL
/// backend ignores some of them (`SIG_IGN` survives `exec`).
const RESET_SIGNALS: [libc::c_int; 12] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGPIPE,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGCHLD,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGXFSZ,
];

/// Why the key command gave no keyring. Never carries (any part of) its output.
#[derive(Debug)]
pub enum KeyCommandError {
    /// `/bin/sh` could not be started.
    Spawn(io::Error),
    /// Still running (or its output still open) after the timeout; the group was killed.
    TimedOut(Duration),
    /// Exited with this non-zero status.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Exited 0 but printed nothing but white space.
    Silent,
    /// Printed more than this many bytes; the group was killed.
    TooLarge(usize),
    /// Waiting for it or reading its output failed.
    Io(io::Error),
}

impl fmt::Display for KeyCommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyCommandError::Spawn(e) => write!(f, "could not be started: {e}"),
            KeyCommandError::TimedOut(t) => write!(
                f,
                "did not finish within {} s and was killed",
                t.as_secs_f64()
            ),
            KeyCommandError::Exited(code) => write!(f, "failed with exit status {code}"),
            KeyCommandError::Signaled(sig) => write!(f, "was terminated by signal {sig}"),
            KeyCommandError::Silent => write!(f, "exited 0 but printed no key"),
            KeyCommandError::TooLarge(limit) => write!(
                f,
                "printed more than {limit} bytes, more than any keyring, and was killed"
            ),
            KeyCommandError::Io(e) => write!(f, "could not be waited for: {e}"),
        }
    }
}

impl std::error::Error for KeyCommandError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyCommandError::Spawn(e) | KeyCommandError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Run `cmd` with `/bin/sh -c` and return its standard output (zeroed on drop), or why not.
///
/// `interrupt` is called before every wait step, at least every [`INTERRUPT_INTERVAL`]; it may
/// panic (unwind) to cancel, and the command's process group is then killed and its direct
/// child reaped before the unwinding continues.
pub fn run(
    cmd: &str,
    timeout: Duration,
    mut interrupt: impl FnMut(),
) -> Result<Zeroizing<Vec<u8>>, KeyCommandError> {
    let deadline = Instant::now() + timeout;
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    // SAFETY: the hook runs between fork and exec and calls only async-signal-safe functions
    // (sigemptyset, sigprocmask, signal); it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(reset_signals_in_child);
    }
    let mut group = Group::spawn(&mut command)?;
    let mut stdout = group.take_stdout();
    // Allocated once, never regrown; the extra byte detects output over the limit.
    let mut out = Zeroizing::new(vec![0u8; MAX_OUTPUT + 1]);
    let mut len = 0usize;
    let mut eof = false;
    loop {
        interrupt();
        match group.peek_exit()? {
            // A failure is reported at once, even if something it started still holds stdout.
            Some(false) => break,
            Some(true) if eof => break,
            _ => {}
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(KeyCommandError::TimedOut(timeout));
        }
        let step = (deadline - now).min(INTERRUPT_INTERVAL);
        if eof {
            // Output closed, process not gone yet: wait for it in short steps.
            std::thread::sleep(step.min(Duration::from_millis(5)));
            continue;
        }
        if !wait_readable(&stdout, step)? {
            continue;
        }
        match stdout.read(&mut out[len..]) {
            Ok(0) => eof = true,
            Ok(n) => {
                len += n;
                if len > MAX_OUTPUT {
                    return Err(KeyCommandError::TooLarge(MAX_OUTPUT));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(KeyCommandError::Io(e)),
        }
    }
    let status = group.finish()?;
    if let Some(code) = status.code() {
        if code != 0 {
            return Err(KeyCommandError::Exited(code));
        }
    } else {
        return Err(KeyCommandError::Signaled(status.signal().unwrap_or(0)));
    }
    out.truncate(len); // keeps the allocation; Zeroizing<Vec> zeroes the spare capacity too
    if out.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(KeyCommandError::Silent);
    }
    Ok(out)
}

/// The command's process group and its leader (our direct child). Dropping it kills the group
/// and reaps the leader, unless [`Group::finish`] already did.
struct Group {
    child: Child,
    pgid: libc::pid_t,
    reaped: bool,
}

impl Group {
    fn spawn(command: &mut Command) -> Result<Group, KeyCommandError> {
        let child = command.spawn().map_err(KeyCommandError::Spawn)?;
        // process_group(0): the child's pid is its group id.
        let pgid = child.id() as libc::pid_t;
        Ok(Group {
            child,
            pgid,
            reaped: false,
        })
    }

    fn take_stdout(&mut self) -> ChildStdout {
        self.child.stdout.take().expect("stdout is piped")
    }

    /// Has the leader exited, and did it succeed? Leaves it unreaped (`WNOWAIT`), so its pid,
    /// the group id, stays reserved until we have killed the group.
    fn peek_exit(&self) -> Result<Option<bool>, KeyCommandError> {
        // SAFETY: siginfo_t is plain data; waitid fills it in.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child with a valid out pointer.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                self.pgid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if rc == -1 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(None);
            }
            return Err(KeyCommandError::Io(e));
        }
        // SAFETY: after a successful waitid the pid and status fields are initialised (zero
        // pid: no state change yet).
        let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
        if pid == 0 {
            return Ok(None);
        }
        Ok(Some(info.si_code == libc::CLD_EXITED && status == 0))
    }

    fn kill_group(&self) {
        // SAFETY: plain syscall. ESRCH (nothing left) and EPERM (nothing we may kill) are fine.
        unsafe {
            libc::kill(-self.pgid, libc::SIGKILL);
        }
    }

    /// The leader has exited (seen by `peek_exit`): kill what is left of its group, then reap.
    fn finish(&mut self) -> Result<ExitStatus, KeyCommandError> {
        self.kill_group();
        let status = self.child.wait().map_err(KeyCommandError::Io)?;
        self.reaped = true;
        Ok(status)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        self.kill_group();
        // Never blocks for ever, and never calls back into the caller (we may be unwinding).
        let start = Instant::now();
        let mut pause = Duration::from_micros(200);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if start.elapsed() >= REAP_GRACE => break,
                Ok(None) => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
        }
        self.reaped = true;
    }
}

/// Wait up to `timeout` for `stdout` to be readable (data, end of file or an error to read).
fn wait_readable(stdout: &ChildStdout, timeout: Duration) -> Result<bool, KeyCommandError> {
    let mut pfd = libc::pollfd {
        fd: stdout.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // Round up, so a short remaining time does not spin with a 0 ms timeout.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false); // a signal (e.g. a cancel request): back to `interrupt`
        }
        return Err(KeyCommandError::Io(e));
    }
    Ok(rc > 0)
}

/// In the child, before `exec`: an empty signal mask (a backend may have signals blocked, and
/// the mask survives `exec`) and default dispositions for the signals a backend may ignore.
/// std resets the mask too; this does not rely on it.
fn reset_signals_in_child() -> io::Result<()> {
    // SAFETY: async-signal-safe calls on a local sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        if libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
        for sig in RESET_SIGNALS {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Once;

    const LONG: Duration = Duration::from_secs(10);

    fn never() {}

    /// Make the test process the reaper of orphans (the killed grandchildren), so that a group
    /// we killed really disappears even where pid 1 does not reap orphans (some containers).
    fn become_subreaper() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            #[cfg(target_os = "linux")]
            // SAFETY: plain prctl.
            unsafe {
                libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            }
        });
    }

    fn pid_file() -> std::path::PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        std::env::temp_dir().join(format!(
            "vcf_pg_loader_keycmd_test_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ))
    }

    fn read_pgid(path: &std::path::Path) -> libc::pid_t {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            if let Ok(s) = std::fs::read_to_string(path) {
                if let Ok(p) = s.trim().parse() {
                    let _ = std::fs::remove_file(path);
                    return p;
                }
            }
            assert!(Instant::now() < deadline, "the command never wrote its pid");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The direct child is already reaped, and no process of its group is left (after
    /// reaping the orphans that were re-parented to us).
    fn assert_group_gone(pgid: libc::pid_t) {
        // SAFETY: plain syscalls on a pid/group we started.
        unsafe {
            let mut status = 0;
            let r = libc::waitpid(pgid, &mut status, libc::WNOHANG);
            assert_eq!(r, -1, "the direct child {pgid} was not reaped");
            assert_eq!(
                io::Error::last_os_error().raw_os_error(),
                Some(libc::ECHILD)
            );
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                while libc::waitpid(-pgid, &mut status, libc::WNOHANG) > 0 {}
                if libc::kill(-pgid, 0) == -1 {
                    assert_eq!(io::Error::last_os_error().raw_os_error(), Some(libc::ESRCH));
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "process group {pgid} is still alive"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    #[test]
    fn prints_the_keyring() {
        let out = run("echo key1; printf 'key2\\n'", LONG, never).unwrap();
        assert_eq!(&out[..], b"key1\nkey2\n");
        let out = run("exec cat", LONG, never).unwrap_err();
        assert!(matches!(out, KeyCommandError::Silent), "{out}");
    }

    #[test]
    fn failures_name_the_status_never_the_output() {
        let e = run("echo SECRET-CANARY; exit 3", LONG, never).unwrap_err();
        assert!(matches!(e, KeyCommandError::Exited(3)), "{e:?}");
        assert_eq!(e.to_string(), "failed with exit status 3");
        assert!(!format!("{e:?}").contains("CANARY"));
        let e = run("echo SECRET-CANARY; kill -9 $$", LONG, never).unwrap_err();
        assert!(matches!(e, KeyCommandError::Signaled(9)), "{e:?}");
        let e = run("printf ' \\n\\t '", LONG, never).unwrap_err();
        assert!(matches!(e, KeyCommandError::Silent), "{e:?}");
        assert_eq!(e.to_string(), "exited 0 but printed no key");
        let e = run("true", LONG, never).unwrap_err();
        assert!(matches!(e, KeyCommandError::Silent), "{e:?}");
        // Stderr goes nowhere, stdin is empty.
        let out = run("echo noise >&2; read x || echo eof", LONG, never).unwrap();
        assert_eq!(&out[..], b"eof\n");
    }

    #[test]
    fn a_failure_is_reported_without_waiting_for_the_pipe() {
        become_subreaper();
        let t = Instant::now();
        let e = run("sleep 40 & exit 4", LONG, never).unwrap_err();
        assert!(matches!(e, KeyCommandError::Exited(4)), "{e:?}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    }

    #[test]
    fn times_out_and_kills() {
        become_subreaper();
        let path = pid_file();
        let t = Instant::now();
        let e = run(
            &format!("echo $$ > {}; sleep 40; echo x", path.display()),
            Duration::from_secs(1),
            never,
        )
        .unwrap_err();
        assert!(matches!(e, KeyCommandError::TimedOut(_)), "{e:?}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        assert_eq!(e.to_string(), "did not finish within 1 s and was killed");
        assert_eq!(
            KeyCommandError::TimedOut(Duration::from_secs(10)).to_string(),
            "did not finish within 10 s and was killed"
        );
        assert_group_gone(read_pgid(&path));
    }

    #[test]
    fn a_grandchild_holding_the_pipe_is_killed_too() {
        become_subreaper();
        for cmd in [
            // The shell waits too.
            "(sleep 40; echo x) & sleep 40",
            // The shell is gone; only the grandchild holds stdout.
            "(sleep 40; echo x) & echo partial",
        ] {
            let path = pid_file();
            let t = Instant::now();
            let e = run(
                &format!("echo $$ > {}; {cmd}", path.display()),
                Duration::from_secs(1),
                never,
            )
            .unwrap_err();
            assert!(matches!(e, KeyCommandError::TimedOut(_)), "{cmd}: {e:?}");
            assert!(
                t.elapsed() < Duration::from_secs(3),
                "{cmd}: {:?}",
                t.elapsed()
            );
            assert_group_gone(read_pgid(&path));
        }
    }

    #[test]
    fn leftovers_are_killed_after_success() {
        become_subreaper();
        let path = pid_file();
        let out = run(
            &format!(
                "echo $$ > {}; sleep 40 >/dev/null & echo key",
                path.display()
            ),
            LONG,
            never,
        )
        .unwrap();
        assert_eq!(&out[..], b"key\n");
        assert_group_gone(read_pgid(&path));
    }

    #[test]
    fn a_panicking_interrupt_unwinds_and_kills_the_group() {
        become_subreaper();
        let path = pid_file();
        let cmd = format!(
            "echo $$ > {}; (sleep 40; echo x) & sleep 40",
            path.display()
        );
        let t = Instant::now();
        let mut calls = 0u32;
        let mut last: Option<Instant> = None;
        let mut longest_gap = Duration::ZERO;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(&cmd, LONG, || {
                calls += 1;
                if let Some(l) = last {
                    longest_gap = longest_gap.max(l.elapsed());
                }
                last = Some(Instant::now());
                if t.elapsed() > Duration::from_millis(200) {
                    panic!("query cancelled");
                }
            })
        }));
        assert!(r.is_err(), "the interrupt's panic did not propagate");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert!(calls >= 3, "interrupt called {calls} times");
        // 50 ms steps; the slack is for a loaded test machine, not for the code.
        assert!(
            longest_gap < INTERRUPT_INTERVAL + Duration::from_millis(100),
            "{longest_gap:?}"
        );
        assert_group_gone(read_pgid(&path));
    }

    #[test]
    fn output_over_the_cap_is_refused() {
        become_subreaper();
        let t = Instant::now();
        let e = run(
            &format!("head -c {} /dev/zero; sleep 40", MAX_OUTPUT + 1),
            LONG,
            never,
        )
        .unwrap_err();
        assert!(matches!(e, KeyCommandError::TooLarge(MAX_OUTPUT)), "{e:?}");
        assert!(e.to_string().contains("65536 bytes"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        let e = run("yes key", LONG, never).unwrap_err();
        assert!(matches!(e, KeyCommandError::TooLarge(_)), "{e:?}");
        // Exactly the cap is fine, and the buffer was not regrown.
        let out = run(&format!("head -c {MAX_OUTPUT} /dev/zero"), LONG, never).unwrap();
        assert_eq!(out.len(), MAX_OUTPUT);
        assert_eq!(out.capacity(), MAX_OUTPUT + 1);
    }

    #[test]
    fn signals_blocked_in_the_caller_are_unblocked_in_the_command() {
        // SAFETY: blocks SIGTERM in this test thread only, restored below.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            // With SIGTERM blocked the shell would survive `kill -TERM $$` and print "alive".
            let r = run("kill -TERM $$; echo alive", LONG, never);
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            let e = r.unwrap_err();
            assert!(
                matches!(e, KeyCommandError::Signaled(libc::SIGTERM)),
                "{e:?}"
            );
        }
    }

    #[test]
    fn spawn_failure_and_display() {
        let e = KeyCommandError::Spawn(io::Error::from_raw_os_error(libc::ENOENT));
        assert!(e.to_string().starts_with("could not be started: "), "{e}");
        assert!(KeyCommandError::Io(io::Error::from_raw_os_error(libc::EIO))
            .to_string()
            .starts_with("could not be waited for: "));
    }
}
