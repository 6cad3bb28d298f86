//! The open connections and which of them are idle, so a full connection budget makes room
//! for a newcomer by closing the connection idle longest (no request in progress) instead of
//! leaving the newcomer in the accept queue behind sockets that send nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tokio::sync::Notify;
use tokio::time::Instant;

/// One connection: requests in progress, idle since when, and its eviction signal.
pub(super) struct Connection {
    busy: AtomicUsize,
    idle_since: Mutex<Instant>,
    evict: Notify,
}

impl Connection {
    /// Completes when the connection is chosen to make room; the caller then drops it.
    pub(super) async fn evicted(&self) {
        self.evict.notified().await;
    }

    fn begin(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
    }

    fn end(&self) {
        if self.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }
    }
}

/// Every open connection.
#[derive(Default)]
pub(super) struct Connections {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
}

impl Connections {
    /// A new connection, idle since now (it has sent no request yet).
    pub(super) fn register(&self) -> (u64, Arc<Connection>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            evict: Notify::new(),
        });
        self.lock().insert(id, connection.clone());
        (id, connection)
    }

    /// Forgets a closed connection.
    pub(super) fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Signals the connection idle longest to close; none when every one has a request in
    /// progress. Returns whether one was chosen.
    pub(super) fn evict_longest_idle(&self) -> bool {
        let mut open = self.lock();
        let longest = open
            .iter()
            .filter(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
            .min_by_key(|(_, c)| *c.idle_since.lock().unwrap_or_else(|e| e.into_inner()))
            .map(|(id, _)| *id);
        match longest.and_then(|id| open.remove(&id)) {
            Some(connection) => {
                // A stored permit: the signal holds even if the task is not waiting yet.
                connection.evict.notify_one();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A connection's service, marking the connection busy while a request is handled.
#[derive(Clone)]
pub(super) struct Tracked<S> {
    inner: S,
    connection: Arc<Connection>,
}

impl<S> Tracked<S> {
    pub(super) fn new(inner: S, connection: Arc<Connection>) -> Tracked<S> {
        Tracked { inner, connection }
    }
}

/// Busy from the call until the response future ends, even when it is dropped unfinished.
struct Busy(Arc<Connection>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.end();
    }
}

impl<S, R> tower::Service<R> for Tracked<S>
where
    S: tower::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.connection.begin();
        let busy = Busy(self.connection.clone());
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            drop(busy);
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_idle_connection_is_chosen_and_busy_ones_never() {
        let open = Connections::default();
        let (_, first) = open.register();
        let (_, second) = open.register();
        first.begin();
        assert!(open.evict_longest_idle(), "the idle one goes");
        assert_eq!(open.lock().len(), 1);
        assert!(
            !open.evict_longest_idle(),
            "a busy connection is never closed"
        );
        first.end();
        assert!(open.evict_longest_idle());
        drop(second);
    }
}
