//! Tables that grow with the load give their memory back when the load is gone.
//!
//! A hash table keeps its capacity when entries leave: after a spike of 50,000 sessions, the
//! tables of sessions, sockets and rooms would hold their peak size for the life of the
//! server. The tables that grow with the number of connections shrink when they are three
//! quarters empty, to twice what they hold: a table that shrinks must lose half of what it
//! then holds before it shrinks again, so the copies cost a constant per removal on average.
//! Large tables are whole pages of their own, which go back to the operating system.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

/// Below this capacity a table is left as it is: small tables cost little and churn often.
const KEPT_CAPACITY: usize = 64;

/// Whether a table of `capacity` holding `len` entries is to shrink.
fn is_sparse(len: usize, capacity: usize) -> bool {
    capacity > KEPT_CAPACITY && len < capacity / 4
}

/// Shrinks `map` when it is three quarters empty (call after removing from it).
pub(crate) fn shrink_map<K: Eq + Hash, V, S: BuildHasher>(map: &mut HashMap<K, V, S>) {
    if is_sparse(map.len(), map.capacity()) {
        map.shrink_to(map.len() * 2);
    }
}

/// Shrinks `set` when it is three quarters empty (call after removing from it).
pub(crate) fn shrink_set<T: Eq + Hash, S: BuildHasher>(set: &mut HashSet<T, S>) {
    if is_sparse(set.len(), set.capacity()) {
        set.shrink_to(set.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_emptied_after_a_peak_gives_its_capacity_back() {
        let mut map: HashMap<u32, u32> = (0..10_000).map(|i| (i, i)).collect();
        let peak = map.capacity();
        let mut shrinks = 0;
        for i in 0..10_000 {
            map.remove(&i);
            let before = map.capacity();
            shrink_map(&mut map);
            shrinks += usize::from(map.capacity() < before);
            if i == 7_999 {
                // A fifth of the peak held: a fraction of the peak's room is kept.
                assert!(map.capacity() <= peak / 2, "{} of {peak}", map.capacity());
            }
        }
        assert!(peak >= 10_000);
        assert!(map.capacity() <= KEPT_CAPACITY * 2);
        // A handful of copies for 10,000 removals, not one per removal.
        assert!(shrinks <= 12, "{shrinks}");
        let mut set: HashSet<u32> = (0..1000).collect();
        set.retain(|&i| i < 10);
        shrink_set(&mut set);
        assert!(set.capacity() < 1000);
    }
}
