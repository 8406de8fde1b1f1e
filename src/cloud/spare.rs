//! Spare request buffers, per thread: what a request reads its parameters and headers into is
//! given back when it is dropped and lent to the thread's next request, instead of a fresh
//! allocation each (issue 16). Each list is short, and what is too big is freed, not kept.

use std::cell::RefCell;
use std::thread::LocalKey;

/// Spare buffers a thread keeps in each list.
const KEPT: usize = 8;

/// A list of one kind of spare buffers (a `thread_local!` of the caller's).
pub(crate) type List<T> = LocalKey<RefCell<Vec<T>>>;

/// A spare buffer from `list` (emptied when it was given back), else a new empty one.
pub(crate) fn take<T: Default + 'static>(list: &'static List<T>) -> T {
    list.try_with(|spare| spare.try_borrow_mut().ok().and_then(|mut spare| spare.pop())).ok().flatten().unwrap_or_default()
}

/// Keeps `buffer` (already emptied) for the thread's next request, when the list has room.
fn give<T: 'static>(list: &'static List<T>, buffer: T) {
    // A thread being torn down has no list any more: the buffer is simply freed.
    let _ = list.try_with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut() {
            if spare.len() < KEPT {
                spare.push(buffer);
            }
        }
    });
}

/// Gives back a text buffer and its spans, emptied, unless one was never used or grew past its
/// bound (a huge request's buffers are freed, not kept).
pub(crate) fn give_text<S: 'static>(list: &'static List<(String, Vec<S>)>, mut text: String, mut spans: Vec<S>, largest_text: usize, largest_spans: usize) {
    if text.capacity() == 0 || text.capacity() > largest_text || spans.capacity() > largest_spans {
        return;
    }
    text.clear();
    spans.clear();
    give(list, (text, spans));
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static LIST: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn a_given_buffer_is_taken_again_and_the_list_is_bounded() {
        assert!(take(&LIST).is_empty());
        let buffer = Vec::with_capacity(64);
        let address = buffer.as_ptr();
        give(&LIST, buffer);
        let taken = take(&LIST);
        assert_eq!(taken.as_ptr(), address);
        for _ in 0..KEPT + 3 {
            give(&LIST, Vec::with_capacity(8));
        }
        assert_eq!(LIST.with(|list| list.borrow().len()), KEPT);
    }
}
