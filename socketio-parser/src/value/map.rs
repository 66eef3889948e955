//! [`Map`]: the members of an object [`Value`], in the order they arrived.

use std::fmt;
use std::ops::{Index, IndexMut};

use indexmap::IndexMap;

use super::{Str, Value};

/// Up to this many members an object is a list searched from the start: cheaper to build
/// (no hashing) and to look up (a few short comparisons) than a hash table. Past it, the
/// members move to a hash table, so that objects with many keys, which a peer may send,
/// stay linear to build and constant-time to look up.
const LISTED_UP_TO: usize = 16;

/// An object's members: keys in the order they arrived, each key once.
///
/// As in JavaScript, inserting a key that is already there replaces its value and keeps its
/// place; removing one keeps the others in order. Two maps are equal when they hold the same
/// keys with equal values, whatever the order (as two JavaScript objects are deeply equal).
///
/// ```
/// use socketio_parser::{Map, Value};
///
/// let mut m = Map::new();
/// m.insert("b", Value::from(1));
/// m.insert("a", Value::from(2));
/// m.insert("b", Value::from(3));
/// let keys: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
/// assert_eq!(keys, ["b", "a"]);
/// assert_eq!(m["b"], Value::from(3));
/// ```
#[derive(Clone, Default)]
pub struct Map(Members);

#[derive(Clone)]
enum Members {
    Listed(Vec<(Str, Value)>),
    Hashed(Box<IndexMap<Str, Value>>),
}

impl Default for Members {
    fn default() -> Self {
        Members::Listed(Vec::new())
    }
}

impl Map {
    /// An empty map.
    pub fn new() -> Self {
        Map::default()
    }

    /// An empty map with room for `capacity` members.
    #[inline]
    pub fn with_capacity(capacity: usize) -> Self {
        if capacity <= LISTED_UP_TO {
            Map(Members::Listed(Vec::with_capacity(capacity)))
        } else {
            Map(Members::Hashed(Box::new(IndexMap::with_capacity(capacity))))
        }
    }

    /// How many members.
    pub fn len(&self) -> usize {
        match &self.0 {
            Members::Listed(list) => list.len(),
            Members::Hashed(table) => table.len(),
        }
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.0 {
            Members::Listed(list) => list.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Members::Hashed(table) => table.get(key),
        }
    }

    /// The value under `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match &mut self.0 {
            Members::Listed(list) => list.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            Members::Hashed(table) => table.get_mut(key),
        }
    }

    /// Whether `key` is a member.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The member at `position` in order.
    pub fn get_index(&self, position: usize) -> Option<(&Str, &Value)> {
        match &self.0 {
            Members::Listed(list) => list.get(position).map(|(k, v)| (k, v)),
            Members::Hashed(table) => table.get_index(position),
        }
    }

    /// Sets `key` to `value`. A new key goes last; a key already there keeps its place and
    /// its old value is returned.
    #[inline]
    pub fn insert(&mut self, key: impl Into<Str>, value: Value) -> Option<Value> {
        let key = key.into();
        match &mut self.0 {
            Members::Listed(list) => {
                if let Some((_, old)) = list.iter_mut().find(|(k, _)| *k == key) {
                    return Some(std::mem::replace(old, value));
                }
                if list.len() < LISTED_UP_TO {
                    list.push((key, value));
                    None
                } else {
                    self.move_to_table(key, value);
                    None
                }
            }
            Members::Hashed(table) => table.insert(key, value),
        }
    }

    /// Moves a full list into a hash table, with `key` (not a member yet) added last.
    #[cold]
    fn move_to_table(&mut self, key: Str, value: Value) {
        let Members::Listed(list) = &mut self.0 else {
            return;
        };
        let mut table = IndexMap::with_capacity(list.len() * 2);
        table.extend(list.drain(..));
        table.insert(key, value);
        self.0 = Members::Hashed(Box::new(table));
    }

    /// Takes `key` out, keeping the other members in order.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        match &mut self.0 {
            Members::Listed(list) => {
                let at = list.iter().position(|(k, _)| k == key)?;
                Some(list.remove(at).1)
            }
            Members::Hashed(table) => table.shift_remove(key),
        }
    }

    /// Keeps only the members for which `keep` says so, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &mut Value) -> bool) {
        match &mut self.0 {
            Members::Listed(list) => list.retain_mut(|(k, v)| keep(k, v)),
            Members::Hashed(table) => table.retain(|k, v| keep(k, v)),
        }
    }

    /// Removes every member.
    pub fn clear(&mut self) {
        self.0 = Members::default();
    }

    /// The members in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(match &self.0 {
            Members::Listed(list) => IterInner::Listed(list.iter()),
            Members::Hashed(table) => IterInner::Hashed(table.iter()),
        })
    }

    /// The members in order, values changeable.
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        IterMut(match &mut self.0 {
            Members::Listed(list) => IterMutInner::Listed(list.iter_mut()),
            Members::Hashed(table) => IterMutInner::Hashed(table.iter_mut()),
        })
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str> + ExactSizeIterator + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// The values in key order, changeable.
    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator + '_ {
        self.iter_mut().map(|(_, v)| v)
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Index<&str> for Map {
    type Output = Value;

    /// The value under `key`; panics when there is none (use [`get`](Map::get) to ask).
    fn index(&self, key: &str) -> &Value {
        self.get(key).expect("the key is a member of the map")
    }
}

impl IndexMut<&str> for Map {
    /// The value under `key`; panics when there is none (use [`get_mut`](Map::get_mut)).
    fn index_mut(&mut self, key: &str) -> &mut Value {
        self.get_mut(key).expect("the key is a member of the map")
    }
}

impl<K: Into<Str>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut map = Map::new();
        map.extend(iter);
        map
    }
}

impl<K: Into<Str>> Extend<(K, Value)> for Map {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// The members of a [`Map`] in order, borrowed ([`Map::iter`]).
#[derive(Debug)]
pub struct Iter<'a>(IterInner<'a>);

#[derive(Debug)]
enum IterInner<'a> {
    Listed(std::slice::Iter<'a, (Str, Value)>),
    Hashed(indexmap::map::Iter<'a, Str, Value>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterInner::Listed(it) => it.next().map(|(k, v)| (k, v)),
            IterInner::Hashed(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterInner::Listed(it) => it.size_hint(),
            IterInner::Hashed(it) => it.size_hint(),
        }
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterInner::Listed(it) => it.next_back().map(|(k, v)| (k, v)),
            IterInner::Hashed(it) => it.next_back(),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The members of a [`Map`] in order, values changeable ([`Map::iter_mut`]).
#[derive(Debug)]
pub struct IterMut<'a>(IterMutInner<'a>);

#[derive(Debug)]
enum IterMutInner<'a> {
    Listed(std::slice::IterMut<'a, (Str, Value)>),
    Hashed(indexmap::map::IterMut<'a, Str, Value>),
}

impl<'a> Iterator for IterMut<'a> {
    type Item = (&'a Str, &'a mut Value);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterMutInner::Listed(it) => it.next().map(|(k, v)| (&*k, v)),
            IterMutInner::Hashed(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterMutInner::Listed(it) => it.size_hint(),
            IterMutInner::Hashed(it) => it.size_hint(),
        }
    }
}

impl DoubleEndedIterator for IterMut<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterMutInner::Listed(it) => it.next_back().map(|(k, v)| (&*k, v)),
            IterMutInner::Hashed(it) => it.next_back(),
        }
    }
}

impl ExactSizeIterator for IterMut<'_> {}

/// The members of a [`Map`] in order, owned (`Map::into_iter`).
#[derive(Debug)]
pub struct IntoIter(IntoIterInner);

#[derive(Debug)]
enum IntoIterInner {
    Listed(std::vec::IntoIter<(Str, Value)>),
    Hashed(indexmap::map::IntoIter<Str, Value>),
}

impl Iterator for IntoIter {
    type Item = (Str, Value);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IntoIterInner::Listed(it) => it.next(),
            IntoIterInner::Hashed(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IntoIterInner::Listed(it) => it.size_hint(),
            IntoIterInner::Hashed(it) => it.size_hint(),
        }
    }
}

impl DoubleEndedIterator for IntoIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IntoIterInner::Listed(it) => it.next_back(),
            IntoIterInner::Hashed(it) => it.next_back(),
        }
    }
}

impl ExactSizeIterator for IntoIter {}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter(match self.0 {
            Members::Listed(list) => IntoIterInner::Listed(list.into_iter()),
            Members::Hashed(table) => IntoIterInner::Hashed(table.into_iter()),
        })
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a Str, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(m: &Map) -> Vec<&str> {
        m.keys().map(|k| k.as_str()).collect()
    }

    #[test]
    fn keeps_arrival_order_across_the_move_to_a_hash_table() {
        for n in [3, LISTED_UP_TO, LISTED_UP_TO + 1, 100] {
            let names: Vec<String> = (0..n).rev().map(|i| format!("k{i}")).collect();
            let mut m: Map = names.iter().map(|k| (k, Value::from(1))).collect();
            assert_eq!(keys(&m), names);
            // A repeated key keeps its first place and takes the new value.
            assert_eq!(
                m.insert(names[0].as_str(), Value::from(2)),
                Some(Value::from(1))
            );
            assert_eq!(keys(&m)[0], names[0]);
            assert_eq!(m[names[0].as_str()], Value::from(2));
            // Removing keeps the others in order.
            assert_eq!(m.remove(&names[1]), Some(Value::from(1)));
            assert_eq!(keys(&m)[1..], names[2..]);
            assert!(!m.contains_key(&names[1]));
            assert_eq!(m.len(), n - 1);
            assert_eq!(m.iter().rev().count(), n - 1);
        }
    }

    #[test]
    fn equal_whatever_the_order() {
        let a: Map = [("x", Value::from(1)), ("y", Value::Null)]
            .into_iter()
            .collect();
        let b: Map = [("y", Value::Null), ("x", Value::from(1))]
            .into_iter()
            .collect();
        let c: Map = [("y", Value::Null), ("x", Value::from(2))]
            .into_iter()
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(format!("{a:?}"), r#"{"x": Number(Number(1)), "y": Null}"#);
    }

    #[test]
    fn retain_and_change_values_in_place() {
        let mut m: Map = (0..40).map(|i| (format!("{i}"), Value::from(i))).collect();
        m.retain(|_, v| v.as_u64().is_some_and(|n| n % 2 == 0));
        for v in m.values_mut() {
            *v = Value::Null;
        }
        assert_eq!(m.len(), 20);
        assert_eq!(m.get_index(1).map(|(k, _)| k.as_str()), Some("2"));
        assert!(m.values().all(Value::is_null));
        m.clear();
        assert!(m.is_empty());
    }
}
