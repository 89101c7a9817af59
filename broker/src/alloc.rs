//! The process allocator: the system allocator, except that very large requests get lazily
//! committed address space (`mmap` with `MAP_NORESERVE`).
//!
//! Why: the kafka-protocol decoder calls `Vec::with_capacity(n)` with an element count read
//! from the wire before it checks that `n` elements can fit in the frame. A 30-byte frame
//! claiming 2^31 elements asks for ~150 GB; the system allocator refuses and Rust aborts the
//! whole broker. With this allocator the reservation succeeds without using memory (only
//! touched pages count), the decoder then runs out of bytes after the first element, returns
//! an error, and the connection is closed. The broker itself never needs single allocations
//! this large (frames are capped by `socket.request.max.bytes`).

use std::alloc::{GlobalAlloc, Layout, System};

/// Allocations of at least this many bytes are served by `mmap`.
const HUGE: usize = 1 << 30;

/// See the module docs.
pub struct GuardedAlloc;

fn is_huge(layout: &Layout) -> bool {
    layout.size() >= HUGE && layout.align() <= 4096
}

unsafe fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping has no preconditions; failure is MAP_FAILED.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        p.cast()
    }
}

// SAFETY: huge blocks come from mmap (page aligned, >= any alignment we accept, zeroed) and
// go back with munmap of the same size; everything else is delegated to `System` unchanged.
unsafe impl GlobalAlloc for GuardedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_huge(&layout) {
            unsafe { map(layout.size()) }
        } else {
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_huge(&layout) {
            unsafe { map(layout.size()) }
        } else {
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_huge(&layout) {
            unsafe { libc::munmap(ptr.cast(), layout.size()) };
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !is_huge(&layout) && !is_huge(&new_layout) {
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_huge_unused_reservation_does_not_abort() {
        let v: Vec<[u8; 64]> = Vec::with_capacity(1 << 31);
        assert!(v.capacity() >= 1 << 31);
        let mut small: Vec<u8> = Vec::with_capacity(10);
        small.extend_from_slice(b"still fine");
        assert_eq!(small.len(), 10);
    }
}
