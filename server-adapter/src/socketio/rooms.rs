//! The sockets of a namespace and the rooms they joined (the in-memory adapter).

use std::collections::{HashMap, HashSet};

use socketio_core::SocketId;

use super::socket::SocketRef;

/// A room name.
pub type Room = String;

/// Who to deliver to: rooms (none means everyone), minus rooms and one socket.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub(crate) rooms: Vec<Room>,
    pub(crate) except_rooms: Vec<Room>,
    pub(crate) except_socket: Option<SocketId>,
}

/// The sockets of one namespace and their rooms.
///
/// Every socket is also reachable as the room named by its id (as in the
/// reference server), without that room being stored.
#[derive(Debug, Default)]
pub(crate) struct Members {
    sockets: HashMap<SocketId, SocketRef>,
    rooms: HashMap<Room, HashSet<SocketId>>,
    /// The rooms each socket joined (only sockets that joined any).
    joined: HashMap<SocketId, HashSet<Room>>,
}

impl Members {
    pub(crate) fn insert(&mut self, socket: SocketRef) {
        self.sockets.insert(socket.id(), socket);
    }

    /// Removes a socket and takes it out of every room.
    pub(crate) fn remove(&mut self, id: SocketId) {
        self.sockets.remove(&id);
        if let Some(rooms) = self.joined.remove(&id) {
            for room in rooms {
                self.leave_room(id, &room);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.sockets.len()
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
            }
        }
        self.leave_room(id, room);
    }

    fn leave_room(&mut self, id: SocketId, room: &str) {
        if let Some(members) = self.rooms.get_mut(room) {
            members.remove(&id);
            if members.is_empty() {
                self.rooms.remove(room);
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
        let mut seen: HashSet<SocketId> = HashSet::new();
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

    fn in_room(&self, id: SocketId, room: &str) -> bool {
        room == id.as_str() || self.rooms.get(room).is_some_and(|m| m.contains(&id))
    }
}
