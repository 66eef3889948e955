//! The Socket.IO rows.
