//! A first-in first-out queue that costs no heap memory while it holds at
//! most one item.
//!
//! The output queues of a session (and of the layers above it) hold one item
//! most of the time, drained in the same turn, and nothing at all while the
//! connection is idle. A `VecDeque` allocates room for several items on its
//! first push and keeps it: a few hundred bytes for every idle connection,
//! and an allocation on the busy path. [`Fifo`] keeps its oldest item inline
//! and spills to a boxed `VecDeque` only while two or more are waiting; once
//! that overflow is drained it is freed. Empty, a queue is its inline slot
//! plus one pointer (a `VecDeque` inline would add 24 bytes to each of the
//! half-dozen queues every connection holds).

use std::collections::VecDeque;

/// A FIFO queue whose first item is stored inline. See the module docs.
///
/// ```
/// use engineio::fifo::Fifo;
///
/// let mut queue = Fifo::new();
/// queue.push_back("a");
/// queue.push_back("b");
/// assert_eq!(queue.len(), 2);
/// assert_eq!(queue.pop_front(), Some("a"));
/// assert_eq!(queue.pop_front(), Some("b"));
/// assert!(queue.is_empty());
/// ```
#[derive(Clone)]
pub struct Fifo<T> {
    /// The oldest item. `None` only when the queue is empty.
    head: Option<T>,
    /// The items after `head`, oldest first; `None` while there are none.
    #[allow(clippy::box_collection)] // on purpose: one pointer inline, see the module docs
    rest: Option<Box<VecDeque<T>>>,
}

impl<T> Fifo<T> {
    /// An empty queue; allocates nothing.
    pub const fn new() -> Self {
        Fifo {
            head: None,
            rest: None,
        }
    }

    /// Appends `item` at the back.
    pub fn push_back(&mut self, item: T) {
        if self.head.is_none() {
            self.head = Some(item);
        } else {
            self.rest.get_or_insert_with(Box::default).push_back(item);
        }
    }

    /// Removes and returns the oldest item.
    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        // Most calls find the queue empty (drain loops stop on `None`): that check is
        // inlined at the caller, and `take` does not move the whole slot to find out.
        self.head.as_ref()?;
        self.pop_occupied()
    }

    fn pop_occupied(&mut self) -> Option<T> {
        let out = self.head.take()?;
        if let Some(rest) = &mut self.rest {
            self.head = rest.pop_front();
            if rest.is_empty() {
                // Drained: give the overflow back.
                self.rest = None;
            }
        }
        Some(out)
    }

    /// The oldest item, left in place.
    pub fn front(&self) -> Option<&T> {
        self.head.as_ref()
    }

    /// How many items are queued.
    pub fn len(&self) -> usize {
        usize::from(self.head.is_some()) + self.rest.as_ref().map_or(0, |r| r.len())
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Drops every item and frees the overflow's buffer.
    pub fn clear(&mut self) {
        self.head = None;
        self.rest = None;
    }

    /// The items, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.head
            .iter()
            .chain(self.rest.iter().flat_map(|r| r.iter()))
    }
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo::new()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Fifo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> IntoIterator for Fifo<T> {
    type Item = T;
    type IntoIter =
        std::iter::Chain<std::option::IntoIter<T>, std::collections::vec_deque::IntoIter<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.head
            .into_iter()
            .chain(self.rest.map(|r| *r).unwrap_or_default())
    }
}

impl<T> Extend<T> for Fifo<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.push_back(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_item_needs_no_heap() {
        let mut q = Fifo::new();
        q.push_back(1u32);
        assert!(q.rest.is_none());
        assert_eq!(q.front(), Some(&1));
        assert_eq!(q.pop_front(), Some(1));
        assert_eq!(q.pop_front(), None);
    }

    #[test]
    fn an_empty_queue_is_its_slot_and_a_pointer() {
        assert_eq!(
            std::mem::size_of::<Fifo<u64>>(),
            std::mem::size_of::<Option<u64>>() + std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn a_drained_overflow_is_freed() {
        let mut q = Fifo::new();
        q.extend([1u32, 2, 3]);
        assert!(q.rest.is_some());
        assert_eq!(q.pop_front(), Some(1));
        assert_eq!(q.pop_front(), Some(2));
        assert!(q.rest.is_none(), "freed once only the head is left");
        assert_eq!(q.pop_front(), Some(3));
        assert!(q.is_empty());
    }

    proptest! {
        /// Any mix of pushes and pops behaves as a `VecDeque` does.
        #[test]
        fn behaves_as_a_vecdeque(ops in proptest::collection::vec(any::<Option<u8>>(), 0..200)) {
            let mut ours = Fifo::new();
            let mut model = VecDeque::new();
            for op in ops {
                match op {
                    Some(v) => { ours.push_back(v); model.push_back(v); }
                    None => prop_assert_eq!(ours.pop_front(), model.pop_front()),
                }
                prop_assert_eq!(ours.len(), model.len());
                prop_assert_eq!(ours.is_empty(), model.is_empty());
                prop_assert_eq!(ours.front(), model.front());
                prop_assert!(ours.iter().eq(model.iter()));
            }
            prop_assert!(ours.into_iter().eq(model));
        }
    }
}
