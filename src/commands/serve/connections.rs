//! Which connections `serve` keeps when clients crowd it: at most a fixed number at once, and when
//! that is reached a new connection takes the place of the oldest one that has not yet sent its
//! request (a slow or idle client), so hundreds of slowloris sockets cannot keep a probe or a scrape
//! out. A connection whose request arrived is never evicted; when every slot holds one, the new
//! connection is closed (each lasts a few seconds at most).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// One open connection's entry.
struct Entry {
    /// Set once the request headers (and the TLS handshake) are through.
    requested: Arc<AtomicBool>,
    /// Dropping this tells the connection to close.
    _evict: oneshot::Sender<()>,
}

/// The open connections, oldest first (ids only grow).
pub struct Connections {
    limit: usize,
    state: Mutex<(u64, BTreeMap<u64, Entry>)>,
}

/// A connection's place; leaving it (drop) frees the slot.
pub struct Ticket {
    id: u64,
    connections: Arc<Connections>,
    pub requested: Arc<AtomicBool>,
    /// Resolves when the connection was evicted.
    pub evicted: oneshot::Receiver<()>,
}

impl Connections {
    pub fn new(limit: usize) -> Arc<Connections> {
        Arc::new(Connections {
            limit: limit.max(1),
            state: Mutex::new((0, BTreeMap::new())),
        })
    }

    /// A place for a new connection, evicting the oldest one still waiting for its request when
    /// all are taken; `None` when every connection is already being answered.
    pub fn admit(self: &Arc<Self>) -> Option<Ticket> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (next, open) = &mut *state;
        if open.len() >= self.limit {
            let oldest_waiting = open
                .iter()
                .find(|(_, e)| !e.requested.load(Ordering::Acquire))
                .map(|(id, _)| *id)?;
            // Dropping the entry drops its sender: the connection's task sees it and closes.
            open.remove(&oldest_waiting);
        }
        let id = *next;
        *next += 1;
        let requested = Arc::new(AtomicBool::new(false));
        let (evict, evicted) = oneshot::channel();
        open.insert(
            id,
            Entry {
                requested: Arc::clone(&requested),
                _evict: evict,
            },
        );
        Some(Ticket {
            id,
            connections: Arc::clone(self),
            requested,
            evicted,
        })
    }

    /// Connections open now.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1.len()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self
            .connections
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        state.1.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_waiting_connection_makes_room_and_answered_ones_stay() {
        let connections = Connections::new(2);
        let mut first = connections.admit().unwrap();
        first.requested.store(true, Ordering::Release);
        let mut second = connections.admit().unwrap();
        let mut third = connections
            .admit()
            .expect("room made by evicting the second");
        assert!(second
            .evicted
            .try_recv()
            .is_err_and(|e| e == oneshot::error::TryRecvError::Closed));
        assert!(first
            .evicted
            .try_recv()
            .is_err_and(|e| e == oneshot::error::TryRecvError::Empty));
        assert_eq!(connections.open(), 2);
        third.requested.store(true, Ordering::Release);
        assert!(connections.admit().is_none(), "both are being answered");
        drop(first);
        assert!(connections.admit().is_some());
        assert!(third
            .evicted
            .try_recv()
            .is_err_and(|e| e == oneshot::error::TryRecvError::Empty));
    }
}
