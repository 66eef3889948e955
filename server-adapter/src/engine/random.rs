//! Random bytes for session and socket ids: from the operating system's CSPRNG, fetched a
//! block at a time.
//!
//! Ids are credentials, so their bytes come from `getrandom`. One call per id made two of a
//! new connection's ten or so system calls; a block of [`BLOCK`] bytes now serves 32 ids.
//! Every byte of a block is handed out once, and a block is only ever in this process's
//! memory, as the ids made from it are.

use std::sync::{Mutex, PoisonError};

/// Bytes fetched per call: 32 ids of 15 bytes.
const BLOCK: usize = 480;

struct Pool {
    block: [u8; BLOCK],
    /// Bytes of `block` already handed out (all of them at the start).
    used: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    block: [0; BLOCK],
    used: BLOCK,
});

/// Fills `buf` with unpredictable bytes.
///
/// # Panics
/// If the operating system's random source fails: without it no safe id can be made, and
/// that is not a condition a server can run on.
pub(crate) fn fill(buf: &mut [u8]) {
    if buf.len() > BLOCK {
        fill_from_os(buf);
        return;
    }
    // A panic elsewhere cannot leave the pool half-updated in a way that matters: `used`
    // only grows past bytes already copied out.
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if BLOCK - pool.used < buf.len() {
        fill_from_os(&mut pool.block);
        pool.used = 0;
    }
    let start = pool.used;
    buf.copy_from_slice(&pool.block[start..start + buf.len()]);
    pool.used += buf.len();
}

fn fill_from_os(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random source is available");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_not_handed_out_twice() {
        // Enough ids to cross several blocks; any repeat would show as a duplicate id.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let mut id = [0u8; 15];
            fill(&mut id);
            assert!(seen.insert(id), "an id came out twice");
        }
        let mut big = [0u8; BLOCK + 1];
        fill(&mut big);
        assert!(big.iter().any(|&b| b != 0));
    }
}
