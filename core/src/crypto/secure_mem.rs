//! Page-backed storage for key material: locked in RAM where the OS allows (`mlock`), kept
//! out of core dumps (`MADV_DONTDUMP`), and zeroed before the pages go back (CONTRACT §2).
//! The value lives in its own anonymous mapping, so nothing else shares those pages.

use std::ptr::NonNull;

pub(crate) struct SecureBox<T> {
    ptr: NonNull<T>,
    len: usize,
    mapped: bool,
}

// SAFETY: SecureBox owns its T exclusively, like Box<T>.
unsafe impl<T: Send> Send for SecureBox<T> {}
unsafe impl<T: Sync> Sync for SecureBox<T> {}

impl<T> SecureBox<T> {
    pub(crate) fn new(value: T) -> Self {
        let page = page_size();
        let len = std::mem::size_of::<T>().max(1).div_ceil(page) * page;
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
        if raw == libc::MAP_FAILED || std::mem::align_of::<T>() > page {
            // No mapping available: fall back to the heap; still zeroed on drop.
            let b = Box::new(value);
            return SecureBox {
                ptr: NonNull::from(Box::leak(b)),
                len: std::mem::size_of::<T>(),
                mapped: false,
            };
        }
        // SAFETY: raw is a fresh, page-aligned, writable mapping of len >= size_of::<T>() bytes.
        unsafe {
            // Best effort: RLIMIT_MEMLOCK may refuse mlock; the dump exclusion still applies.
            libc::mlock(raw, len);
            #[cfg(target_os = "linux")]
            libc::madvise(raw, len, libc::MADV_DONTDUMP);
            let ptr = raw as *mut T;
            ptr.write(value);
            SecureBox {
                ptr: NonNull::new_unchecked(ptr),
                len,
                mapped: true,
            }
        }
    }
}

impl<T> std::ops::Deref for SecureBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: ptr is valid and initialised for the lifetime of self.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Drop for SecureBox<T> {
    fn drop(&mut self) {
        let raw = self.ptr.as_ptr();
        // SAFETY: we own the value; after drop_in_place we only touch the bytes.
        unsafe {
            std::ptr::drop_in_place(raw);
            let bytes = raw as *mut u8;
            let n = if self.mapped {
                self.len
            } else {
                std::mem::size_of::<T>()
            };
            for i in 0..n {
                std::ptr::write_volatile(bytes.add(i), 0);
            }
            std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
            if self.mapped {
                libc::munlock(raw as *mut libc::c_void, self.len);
                libc::munmap(raw as *mut libc::c_void, self.len);
            } else {
                std::alloc::dealloc(bytes, std::alloc::Layout::new::<T>());
            }
        }
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
    }
}
