//! The sockets of a namespace and the rooms they joined (the in-memory adapter).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use socketio_core::SocketId;

use super::socket::SocketRef;
use crate::sparse::{shrink_map, shrink_set};

/// A room name.
pub type Room = String;

/// Who to deliver to: rooms (none means everyone), minus rooms and one socket.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub(crate) rooms: Vec<Room>,
    pub(crate) except_rooms: Vec<Room>,
    pub(crate) except_socket: Option<SocketId>,
}

/// Hashes socket ids, which the server draws itself (120 random bits; a client never
/// chooses one that is stored), so the flood resistance of the default keyed hash buys
/// nothing for them. With SipHash, hashing ids was an eighth of a broadcast's
/// instructions (each member is looked up once or twice). Room names, which clients choose,
/// keep the default hasher.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(23) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type IdMap<V> = HashMap<SocketId, V, BuildHasherDefault<IdHasher>>;
type IdSet = HashSet<SocketId, BuildHasherDefault<IdHasher>>;

/// The sockets of one namespace and their rooms. Its tables shrink when three quarters
/// empty (see `sparse.rs`).
///
/// Every socket is also reachable as the room named by its id (as in the
/// reference server), without that room being stored.
#[derive(Debug, Default)]
pub(crate) struct Members {
    sockets: IdMap<SocketRef>,
    rooms: HashMap<Room, IdSet>,
    /// The rooms each socket joined (only sockets that joined any).
    joined: IdMap<HashSet<Room>>,
}

impl Members {
    pub(crate) fn insert(&mut self, socket: SocketRef) {
        self.sockets.insert(socket.id(), socket);
    }

    /// Removes a socket and takes it out of every room.
    pub(crate) fn remove(&mut self, id: SocketId) {
        self.sockets.remove(&id);
        shrink_map(&mut self.sockets);
        if let Some(rooms) = self.joined.remove(&id) {
            shrink_map(&mut self.joined);
            for room in rooms {
                self.leave_room(id, &room);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.sockets.len()
    }

    /// How many rooms have members (the rooms named by socket ids not counted).
    pub(crate) fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// Adds `id` to `room`; a socket that is not a member joins nothing.
    pub(crate) fn join(&mut self, id: SocketId, room: &str) {
        if !self.sockets.contains_key(&id) {
            return;
        }
        self.rooms.entry(room.to_owned()).or_default().insert(id);
        self.joined.entry(id).or_default().insert(room.to_owned());
    }

    pub(crate) fn leave(&mut self, id: SocketId, room: &str) {
        if let Some(rooms) = self.joined.get_mut(&id) {
            rooms.remove(room);
            if rooms.is_empty() {
                self.joined.remove(&id);
                shrink_map(&mut self.joined);
            }
        }
        self.leave_room(id, room);
    }

    fn leave_room(&mut self, id: SocketId, room: &str) {
        if let Some(members) = self.rooms.get_mut(room) {
            members.remove(&id);
            if members.is_empty() {
                self.rooms.remove(room);
                shrink_map(&mut self.rooms);
            } else {
                shrink_set(members);
            }
        }
    }

    /// The rooms `id` joined, its own id first.
    pub(crate) fn rooms_of(&self, id: SocketId) -> Vec<Room> {
        let mut rooms = vec![id.to_string()];
        if let Some(joined) = self.joined.get(&id) {
            let mut joined: Vec<Room> = joined.iter().cloned().collect();
            joined.sort();
            rooms.extend(joined);
        }
        rooms
    }

    /// Calls `f` once for every socket the selection names.
    pub(crate) fn for_each(&self, selection: &Selection, mut f: impl FnMut(&SocketRef)) {
        let excluded = |id: &SocketId| {
            selection.except_socket == Some(*id)
                || selection
                    .except_rooms
                    .iter()
                    .any(|room| self.in_room(*id, room))
        };
        if selection.rooms.is_empty() {
            for (id, socket) in &self.sockets {
                if !excluded(id) {
                    f(socket);
                }
            }
            return;
        }
        if let [room] = selection.rooms.as_slice() {
            // One room: its members are distinct, and only the socket its name may be the id
            // of could come twice, so no set of the sockets seen is needed.
            let members = self.rooms.get(room);
            for id in members.into_iter().flatten() {
                if !excluded(id) {
                    if let Some(socket) = self.sockets.get(id) {
                        f(socket);
                    }
                }
            }
            let direct = SocketId::parse(room)
                .filter(|id| !members.is_some_and(|m| m.contains(id)) && !excluded(id));
            if let Some(socket) = direct.and_then(|id| self.sockets.get(&id)) {
                f(socket);
            }
            return;
        }
        let mut seen = IdSet::default();
        for room in &selection.rooms {
            let direct = SocketId::parse(room).filter(|id| self.sockets.contains_key(id));
            let members = self
                .rooms
                .get(room)
                .into_iter()
                .flatten()
                .copied()
                .chain(direct);
            for id in members {
                if !excluded(&id) && seen.insert(id) {
                    if let Some(socket) = self.sockets.get(&id) {
                        f(socket);
                    }
                }
            }
        }
    }

    /// Whether `room` has a member here (a socket id names the room of that socket).
    pub(crate) fn has_room(&self, room: &str) -> bool {
        self.rooms.contains_key(room)
            || SocketId::parse(room).is_some_and(|id| self.sockets.contains_key(&id))
    }

    /// Every room with a member, each socket's own id among them (as the Node server
    /// lists them).
    pub(crate) fn room_names(&self) -> Vec<Room> {
        let mut names: Vec<Room> = self.sockets.keys().map(|id| id.to_string()).collect();
        names.extend(self.rooms.keys().cloned());
        names
    }

    fn in_room(&self, id: SocketId, room: &str) -> bool {
        room == id.as_str() || self.rooms.get(room).is_some_and(|m| m.contains(&id))
    }
}

#[cfg(test)]
mod tests {
    use socketio_parser::Namespace;

    use super::*;
    use crate::socketio::namespace::Registry;

    fn members(n: u8) -> (Members, Vec<SocketId>) {
        let ns = Registry::default().of(Namespace::main());
        let mut m = Members::default();
        let mut ids = Vec::new();
        for i in 0..n {
            let id = SocketId::from_random_bytes([i; 15]);
            m.insert(SocketRef::for_test(id, ns.clone()));
            ids.push(id);
        }
        (m, ids)
    }

    fn selected(m: &Members, selection: &Selection) -> Vec<SocketId> {
        let mut out = Vec::new();
        m.for_each(selection, |s| out.push(s.id()));
        out.sort();
        out
    }

    fn sorted(mut ids: Vec<SocketId>) -> Vec<SocketId> {
        ids.sort();
        ids
    }

    fn to(rooms: &[&str]) -> Selection {
        Selection {
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            ..Selection::default()
        }
    }

    #[test]
    fn one_room_reaches_its_members_once() {
        let (mut m, ids) = members(4);
        m.join(ids[0], "r");
        m.join(ids[1], "r");
        m.join(ids[2], "other");
        assert_eq!(selected(&m, &to(&["r"])), sorted(vec![ids[0], ids[1]]));
        let mut except = to(&["r"]);
        except.except_socket = Some(ids[0]);
        assert_eq!(selected(&m, &except), vec![ids[1]]);
        let mut except = to(&["r"]);
        except.except_rooms = vec!["r".into()];
        assert!(selected(&m, &except).is_empty());
        assert!(selected(&m, &to(&["nobody"])).is_empty());
    }

    #[test]
    fn a_socket_is_the_room_of_its_id_and_is_reached_once() {
        let (mut m, ids) = members(3);
        let own = ids[1].to_string();
        assert_eq!(selected(&m, &to(&[&own])), vec![ids[1]]);
        // Someone joined a room that happens to be named by that id: still once each.
        m.join(ids[1], &own);
        m.join(ids[2], &own);
        assert_eq!(selected(&m, &to(&[&own])), sorted(vec![ids[1], ids[2]]));
        let mut except = to(&[&own]);
        except.except_socket = Some(ids[1]);
        assert_eq!(selected(&m, &except), vec![ids[2]]);
    }

    #[test]
    fn several_rooms_reach_each_socket_once() {
        let (mut m, ids) = members(4);
        m.join(ids[0], "a");
        m.join(ids[0], "b");
        m.join(ids[1], "b");
        let own = ids[3].to_string();
        assert_eq!(
            selected(&m, &to(&["a", "b", &own])),
            sorted(vec![ids[0], ids[1], ids[3]])
        );
        assert_eq!(selected(&m, &Selection::default()), sorted(ids.clone()));
        m.remove(ids[0]);
        assert_eq!(selected(&m, &to(&["a", "b"])), vec![ids[1]]);
    }
}
