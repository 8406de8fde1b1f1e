//! Output buffers, reused. An answer is a few kilobytes: past the sizes glibc keeps per thread,
//! so a fresh buffer per request took the shared heap's slower path, consolidation included
//! (issue 6's profile: a tenth of the handler in malloc and free). Each thread keeps a few free
//! buffers; a response body gives its buffer back when hyper has written and dropped it.

use std::cell::RefCell;

use bytes::Bytes;

/// A new buffer's size: a page of ten tasks fits.
const FRESH: usize = 4096;
/// Buffers this big or bigger (a page of a hundred tasks, an export) go back to the allocator.
const LARGEST_KEPT: usize = 256 * 1024;
/// Free buffers a thread keeps.
const KEPT: usize = 32;

thread_local! {
    static FREE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer, reused when the thread has one.
pub fn take() -> Vec<u8> {
    FREE.with(|free| free.borrow_mut().pop()).unwrap_or_else(|| Vec::with_capacity(FRESH))
}

/// The bytes of a finished answer, whose buffer comes back to the dropping thread's free list.
pub fn into_bytes(buffer: Vec<u8>) -> Bytes {
    Bytes::from_owner(Returned(buffer))
}

struct Returned(Vec<u8>);

impl AsRef<[u8]> for Returned {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Returned {
    fn drop(&mut self) {
        let mut buffer = std::mem::take(&mut self.0);
        if !(FRESH..LARGEST_KEPT).contains(&buffer.capacity()) {
            return;
        }
        buffer.clear();
        // A thread being torn down has no list any more: the buffer is simply freed.
        let _ = FREE.try_with(|free| {
            let mut free = free.borrow_mut();
            if free.len() < KEPT {
                free.push(buffer);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_answer_gives_its_buffer_back_empty_and_big_ones_are_freed() {
        let mut buffer = take();
        buffer.extend_from_slice(b"{\"a\":1}");
        let address = buffer.as_ptr();
        let bytes = into_bytes(buffer);
        assert_eq!(&bytes[..], b"{\"a\":1}");
        drop(bytes);
        let again = take();
        assert_eq!((again.as_ptr(), again.len()), (address, 0), "the same buffer, emptied");
        let free = || FREE.with(|free| free.borrow().len());
        let before = free();
        drop(into_bytes(Vec::with_capacity(LARGEST_KEPT)));
        drop(into_bytes(Vec::with_capacity(16)));
        assert_eq!(free(), before, "too big or too small to keep");
        drop(into_bytes(Vec::with_capacity(FRESH)));
        assert_eq!(free(), before + 1);
    }
}
