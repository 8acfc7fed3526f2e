//! Page-backed storage for key material: locked in RAM where the OS allows (`mlock`), kept
//! out of core dumps (`MADV_DONTDUMP`), and zeroed before the pages go back (CONTRACT §2).
//! The value lives in its own anonymous mapping, so nothing else shares those pages.
//!
//! [`SecureBox::new_with`] allocates and locks the mapping *first* and lets the caller build
//! the value in place, so a secret never has to exist as a stack value that is then moved in.

use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use zeroize::Zeroize;

/// Bytes of stack overwritten by [`wipe_stack`]: comfortably more than the frames of the key
/// set-up (AES key schedule, GHASH key, HKDF/HMAC/SHA-256 state, base64 decoder).
pub(crate) const STACK_WIPE_LEN: usize = 16 * 1024;

/// Overwrite [`STACK_WIPE_LEN`] bytes of the stack below the caller's frame with zeros.
///
/// Call it right after an `#[inline(never)]` function that handled key bytes has returned:
/// that function's frame, and its callees' frames, lay in the region this frame now covers, so
/// the copies the constructors left there (moved values, spilled registers) are overwritten.
///
/// Best effort, stated honestly: Rust gives no guarantee about where temporaries live — a
/// compiler may keep a copy in the caller's own frame, in a register that is spilled later, or
/// in a frame deeper than this one reaches — so this narrows the window, it does not close it.
#[inline(never)]
pub(crate) fn wipe_stack() {
    let mut area = [0u8; STACK_WIPE_LEN];
    // Volatile writes (zeroize) plus black_box: neither the array nor the writes are elided.
    area.zeroize();
    std::hint::black_box(&mut area);
}

/// Zeroed, locked memory for exactly one `T` (or uninitialised storage for one, while
/// [`SecureBox::new_with`] runs). Releasing it zeroes every byte first.
struct Region {
    ptr: NonNull<u8>,
    /// Bytes mapped (a whole number of pages) or allocated on the heap (`size_of::<T>()`).
    len: usize,
    align: usize,
    mapped: bool,
}

impl Region {
    fn for_type<T>() -> Region {
        let size = std::mem::size_of::<T>();
        let align = std::mem::align_of::<T>();
        let page = page_size();
        if align <= page {
            let len = size.max(1).div_ceil(page) * page;
            // SAFETY: anonymous private mapping, checked for MAP_FAILED below.
            let raw = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if raw != libc::MAP_FAILED {
                // SAFETY: raw is a fresh mapping of len bytes that we own.
                unsafe {
                    // Best effort: RLIMIT_MEMLOCK may refuse mlock; the dump exclusion still
                    // applies. Both happen before anything secret is written.
                    libc::mlock(raw, len);
                    #[cfg(target_os = "linux")]
                    libc::madvise(raw, len, libc::MADV_DONTDUMP);
                }
                return Region {
                    // SAFETY: mmap never returns null on success.
                    ptr: unsafe { NonNull::new_unchecked(raw as *mut u8) },
                    len,
                    align,
                    mapped: true,
                };
            }
        }
        // No mapping available: fall back to the heap (zeroed now, zeroed again on release).
        if size == 0 {
            return Region {
                // A dangling, well-aligned pointer is a valid place for a zero-sized value.
                ptr: NonNull::new(align as *mut u8).expect("alignment is never 0"),
                len: 0,
                align,
                mapped: false,
            };
        }
        let layout = std::alloc::Layout::from_size_align(size, align).expect("layout of a type");
        // SAFETY: layout has a non-zero size.
        let raw = unsafe { std::alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout)
        };
        Region {
            ptr,
            len: size,
            align,
            mapped: false,
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        if self.len == 0 {
            return; // dangling zero-sized heap fallback: nothing allocated
        }
        // SAFETY: ptr..ptr+len is memory we own; no value lives in it any more.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len).zeroize();
            let raw = self.ptr.as_ptr() as *mut libc::c_void;
            if self.mapped {
                libc::munlock(raw, self.len);
                libc::munmap(raw, self.len);
            } else {
                let layout = std::alloc::Layout::from_size_align_unchecked(self.len, self.align);
                std::alloc::dealloc(self.ptr.as_ptr(), layout);
            }
        }
    }
}

pub(crate) struct SecureBox<T> {
    region: Region,
    _owns: PhantomData<T>,
}

// SAFETY: SecureBox owns its T exclusively, like Box<T>.
unsafe impl<T: Send> Send for SecureBox<T> {}
unsafe impl<T: Sync> Sync for SecureBox<T> {}

impl<T> SecureBox<T> {
    /// Move `value` into locked memory. For values that are not secret yet (buffers about to
    /// be filled); secrets should be built in place with [`SecureBox::new_with`].
    pub(crate) fn new(value: T) -> Self {
        // SAFETY: the closure initialises the whole slot.
        unsafe {
            Self::new_with(|slot| {
                slot.write(value);
            })
        }
    }

    /// Allocate the locked, dump-excluded storage first, then let `init` build the value in
    /// place (`MaybeUninit::write`, or `ptr::write` into its fields). The slot starts zeroed.
    ///
    /// If `init` panics, the storage is zeroed and released and nothing is dropped.
    ///
    /// # Safety
    /// When `init` returns normally, it must have fully initialised the slot.
    pub(crate) unsafe fn new_with(init: impl FnOnce(&mut MaybeUninit<T>)) -> Self {
        let region = Region::for_type::<T>();
        // SAFETY: the region is at least size_of::<T>() bytes, aligned for T, and ours; a
        // `MaybeUninit<T>` has no validity requirement. On unwind `region` is dropped: zeroed
        // and released, no T dropped.
        let slot = unsafe { &mut *(region.ptr.as_ptr() as *mut MaybeUninit<T>) };
        init(slot);
        SecureBox {
            region,
            _owns: PhantomData,
        }
    }

    fn value_ptr(&self) -> *mut T {
        self.region.ptr.as_ptr() as *mut T
    }
}

impl<T> std::ops::Deref for SecureBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: initialised for the lifetime of self (new_with's contract).
        unsafe { &*self.value_ptr() }
    }
}

impl<T> std::ops::DerefMut for SecureBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for Deref; &mut self gives exclusive access.
        unsafe { &mut *self.value_ptr() }
    }
}

impl<T> Drop for SecureBox<T> {
    fn drop(&mut self) {
        // SAFETY: we own the initialised value and drop it exactly once; the region (a field)
        // is zeroed and released afterwards, also if T's drop panics.
        unsafe { std::ptr::drop_in_place(self.value_ptr()) }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Counted([u8; 64]);
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    static IN_PLACE_DROPS: AtomicUsize = AtomicUsize::new(0);
    struct InPlace {
        a: [u8; 32],
        b: u64,
    }
    impl Drop for InPlace {
        fn drop(&mut self) {
            IN_PLACE_DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    static PANIC_INIT_DROPS: AtomicUsize = AtomicUsize::new(0);
    struct PanicInit([u8; 32]);
    impl Drop for PanicInit {
        fn drop(&mut self) {
            PANIC_INIT_DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn holds_value_and_drops_it_once() {
        let b = SecureBox::new(Counted([7u8; 64]));
        assert_eq!(b.0[63], 7);
        let before = DROPS.load(Ordering::SeqCst);
        drop(b);
        assert_eq!(DROPS.load(Ordering::SeqCst), before + 1);
    }

    #[test]
    fn zero_sized_and_large_values() {
        let z = SecureBox::new(());
        let _: &() = &z;
        let big = SecureBox::new([1u8; 10000]);
        assert!(big.iter().all(|&x| x == 1));
        assert!(big.region.len >= 10000 && big.region.len % page_size() == 0);
    }

    #[test]
    fn built_in_place_in_a_fresh_page_aligned_mapping() {
        // SAFETY: both fields are written.
        let mut b = unsafe {
            SecureBox::<InPlace>::new_with(|slot| {
                // The slot is the mapping itself: page-aligned and zeroed before init runs.
                let at = slot.as_mut_ptr() as usize;
                assert_eq!(at % page_size(), 0);
                assert!(slot_bytes(slot).iter().all(|&x| x == 0));
                let p = slot.as_mut_ptr();
                std::ptr::addr_of_mut!((*p).a).write([5u8; 32]);
                std::ptr::addr_of_mut!((*p).b).write(42);
            })
        };
        assert!(b.region.mapped, "mmap is available in tests");
        assert_eq!(b.region.ptr.as_ptr() as usize % page_size(), 0);
        assert_eq!(b.region.len % page_size(), 0);
        assert_eq!(b.value_ptr() as usize, b.region.ptr.as_ptr() as usize);
        assert_eq!(b.a, [5u8; 32]);
        assert_eq!(b.b, 42);
        b.b = 43;
        assert_eq!(b.b, 43);
        let before = IN_PLACE_DROPS.load(Ordering::SeqCst);
        drop(b);
        assert_eq!(IN_PLACE_DROPS.load(Ordering::SeqCst), before + 1);
    }

    #[test]
    fn panicking_init_releases_without_dropping() {
        let r = std::panic::catch_unwind(|| {
            // SAFETY: init panics before returning, so no value is claimed.
            unsafe {
                SecureBox::<PanicInit>::new_with(|slot| {
                    let p = slot.as_mut_ptr();
                    std::ptr::addr_of_mut!((*p).0).write([9u8; 32]);
                    panic!("init failed");
                })
            }
        });
        assert!(r.is_err());
        assert_eq!(PANIC_INIT_DROPS.load(Ordering::SeqCst), 0);
    }

    fn slot_bytes<T>(slot: &MaybeUninit<T>) -> &[u8] {
        // SAFETY: the slot is inside a zero-filled mapping, so every byte is initialised.
        unsafe { std::slice::from_raw_parts(slot.as_ptr() as *const u8, std::mem::size_of::<T>()) }
    }

    #[test]
    fn stack_wipe_runs() {
        wipe_stack();
    }
}
