//! What keeps `serve` up and bounded under load and hostile clients:
//!
//! - a cap on open connections (each one a task, a socket and its buffers); when it is
//!   reached, the connection that has waited longest without a request in progress (a
//!   slowloris, an idle keep-alive) is closed to make room, so held connections never
//!   lock a new client out, and only when every connection is answering does a new
//!   client wait in the listen backlog;
//! - a deadline for a request's headers (hyper's, which runs whenever a connection waits
//!   for a head, so it is also the keep-alive idle timeout);
//! - a deadline for a response nobody reads: its buffers are freed instead of waiting on
//!   the client forever;
//! - a cap on requests being answered at once, held until the response is written (each
//!   builds its response in memory), so memory is bounded by the cap, not by the clients;
//! - a cap on watches, which are long-running and answered 429 beyond it, as the API
//!   server's max-in-flight filter answers.

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::rt::TokioIo;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The limits of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most.
    pub connections: usize,
    /// Requests being answered at once (watches aside); the others wait for a turn.
    pub in_flight: usize,
    /// Watches open at once; more are answered 429.
    pub watches: usize,
    /// How long a client may take to send a request's headers, counted from when the
    /// connection starts waiting for them (so it is also the keep-alive idle timeout).
    pub headers: Duration,
    /// How long a response may wait on a client that does not read it.
    pub stalled: Duration,
}

impl Default for Limits {
    /// Generous for kubectl and ktriage (which send headers at once and read as fast as
    /// the loopback allows), tight enough that file descriptors and memory cannot be
    /// exhausted by clients that hold connections or never read: 64 responses of the
    /// largest list a snapshot holds at once, 512 sockets.
    fn default() -> Limits {
        Limits {
            connections: 512,
            in_flight: 64,
            watches: 128,
            headers: Duration::from_secs(15),
            stalled: Duration::from_secs(30),
        }
    }
}

/// Every open connection, and the turns for requests and watches.
pub struct Pool {
    limits: Limits,
    origin: Instant,
    next: AtomicU64,
    open: Mutex<Vec<Arc<Slot>>>,
    room: Arc<Semaphore>,
    in_flight: Arc<Semaphore>,
    watches: Arc<Semaphore>,
}

/// One connection as the pool sees it.
pub struct Slot {
    id: u64,
    origin: Instant,
    /// Milliseconds after `origin` of the last byte read (or of the accept).
    last_read: AtomicU64,
    /// Milliseconds after `origin` since which writes have made no progress, or 0.
    blocked_since: AtomicU64,
    /// Responses of this connection not yet written out.
    answering: AtomicUsize,
    close: Notify,
}

/// A connection's hold on the pool: its room, and its place in the list.
pub struct Admitted {
    pool: Arc<Pool>,
    pub slot: Arc<Slot>,
    _room: OwnedSemaphorePermit,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self
            .pool
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        open.retain(|s| s.id != self.slot.id);
    }
}

fn millis(origin: Instant) -> u64 {
    // At least 1, since 0 means "never" for `blocked_since`.
    u64::try_from(origin.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl Pool {
    pub fn new(limits: Limits) -> Arc<Pool> {
        Arc::new(Pool {
            limits,
            origin: Instant::now(),
            next: AtomicU64::new(0),
            open: Mutex::new(Vec::new()),
            room: Arc::new(Semaphore::new(limits.connections.max(1))),
            in_flight: Arc::new(Semaphore::new(limits.in_flight.max(1))),
            watches: Arc::new(Semaphore::new(limits.watches)),
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Connections open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Room for one more connection: at once if there is some, else by closing the
    /// connection idle longest, else (every connection answering) once one ends.
    pub async fn admit(self: &Arc<Pool>) -> Admitted {
        let room = match self.room.clone().try_acquire_owned() {
            Ok(room) => room,
            Err(_) => {
                if let Some(idle) = self.idlest() {
                    tracing::debug!(
                        connection = idle.id,
                        "closing the connection idle longest to make room"
                    );
                    idle.close.notify_one();
                }
                self.room
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the pool's semaphore is never closed")
            }
        };
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            id,
            origin: self.origin,
            last_read: AtomicU64::new(millis(self.origin)),
            blocked_since: AtomicU64::new(0),
            answering: AtomicUsize::new(0),
            close: Notify::new(),
        });
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(slot.clone());
        Admitted {
            pool: self.clone(),
            slot,
            _room: room,
        }
    }

    /// The connection with no response in progress that read its last byte longest ago,
    /// and at least `IDLE` ago: a client that connected a moment ago and is sending its
    /// request is not idle, however busy the server.
    fn idlest(&self) -> Option<Arc<Slot>> {
        const IDLE: u64 = 1000;
        let now = millis(self.origin);
        let open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        open.iter()
            .filter(|s| s.answering.load(Ordering::Relaxed) == 0)
            .filter(|s| now.saturating_sub(s.last_read.load(Ordering::Relaxed)) >= IDLE)
            .min_by_key(|s| s.last_read.load(Ordering::Relaxed))
            .cloned()
    }

    /// A turn to answer a request, held until its response is written out.
    pub async fn turn(&self, slot: &Arc<Slot>) -> Turn {
        let answering = Answering::new(slot);
        let permit = self
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("the pool's semaphore is never closed");
        Turn {
            _permit: permit,
            _answering: answering,
        }
    }

    /// A place for a watch, if one is free.
    pub fn watch(&self, slot: &Arc<Slot>) -> Option<Turn> {
        let permit = self.watches.clone().try_acquire_owned().ok()?;
        Some(Turn {
            _permit: permit,
            _answering: Answering::new(slot),
        })
    }
}

/// A response's hold on its turn and on its connection's "answering" count.
pub struct Turn {
    _permit: OwnedSemaphorePermit,
    _answering: Answering,
}

struct Answering(Arc<Slot>);

impl Answering {
    fn new(slot: &Arc<Slot>) -> Answering {
        slot.answering.fetch_add(1, Ordering::Relaxed);
        Answering(slot.clone())
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.answering.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Slot {
    /// How long writes have been blocked, if they are.
    pub fn blocked_for(&self) -> Option<Duration> {
        match self.blocked_since.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(
                self.origin
                    .elapsed()
                    .saturating_sub(Duration::from_millis(ms)),
            ),
        }
    }

    /// Resolves when the pool closes this connection to make room.
    pub async fn closed(&self) {
        self.close.notified().await;
    }

    /// Resolves once writes have been blocked for longer than `limit`: the client
    /// stopped reading (or went away without closing), so its response is dropped.
    pub async fn stalled(&self, limit: Duration) {
        let every = (limit / 4).max(Duration::from_millis(50));
        loop {
            tokio::time::sleep(every).await;
            if self.blocked_for().is_some_and(|d| d >= limit) {
                return;
            }
        }
    }

    /// The connection was accepted (its room is taken before, so that a full pool
    /// leaves the client in the backlog): idle from now.
    pub fn accepted(&self) {
        self.read_some();
    }

    fn read_some(&self) {
        self.last_read.store(millis(self.origin), Ordering::Relaxed);
    }

    fn blocked(&self) {
        if self.blocked_since.load(Ordering::Relaxed) == 0 {
            self.blocked_since
                .store(millis(self.origin), Ordering::Relaxed);
        }
    }

    fn unblocked(&self) {
        self.blocked_since.store(0, Ordering::Relaxed);
    }
}

/// A response body that holds its turn until hyper has written it out (or the
/// connection is dropped). It hands its data over in pieces: hyper takes a body's next
/// frame whenever its write buffer has room, so a whole response given at once would
/// sit in hyper's buffer after the turn was given back, once per client that does not
/// read; in pieces, hyper buffers a few of them and the rest waits here, under the turn.
pub struct Held {
    body: crate::serve::Body,
    pending: Bytes,
    _turn: Turn,
}

/// Large enough that a fast reader costs few polls, small enough that hyper's buffer
/// (about 400 KiB before it stops asking) holds only a few.
const PIECE: usize = 64 * 1024;

impl Held {
    pub fn new(body: crate::serve::Body, turn: Turn) -> Held {
        Held {
            body,
            pending: Bytes::new(),
            _turn: turn,
        }
    }
}

impl HttpBody for Held {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.pending.is_empty() {
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => self.pending = data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                other => return other,
            }
        }
        let n = self.pending.len().min(PIECE);
        let piece = self.pending.split_to(n);
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_empty() && self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        // hyper reads this before the first frame, for Content-Length: then nothing is
        // pending and the inner body's hint (exact for a whole response) is passed on.
        let inner = self.body.size_hint();
        let pending = self.pending.len() as u64;
        let mut hint = SizeHint::new();
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(pending));
        }
        hint.set_lower(inner.lower().saturating_add(pending));
        hint
    }
}

/// A socket that tells its slot when bytes arrive and when writes block.
pub struct Watched<S> {
    inner: S,
    slot: Arc<Slot>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, slot: Arc<Slot>) -> TokioIo<Watched<S>> {
        TokioIo::new(Watched { inner, slot })
    }

    fn note(&self, polled: &Poll<std::io::Result<usize>>) {
        match polled {
            Poll::Pending => self.slot.blocked(),
            Poll::Ready(_) => self.slot.unblocked(),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.slot.read_some();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note(&polled);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        if polled.is_ready() {
            self.slot.unblocked();
        }
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn limits(connections: usize) -> Limits {
        Limits {
            connections,
            ..Limits::default()
        }
    }

    #[tokio::test]
    async fn a_reader_that_stops_reading_stalls_the_writer() {
        // A pipe with a 1 KiB buffer nobody reads: writes block, and the watchdog fires.
        let pool = Pool::new(Limits::default());
        let admitted = pool.admit().await;
        let (client, server) = tokio::io::duplex(1024);
        let mut io = Watched::new(server, admitted.slot.clone()).into_inner();
        let writer = tokio::spawn(async move {
            let _ = io.write_all(&[0u8; 64 * 1024]).await;
        });
        tokio::time::timeout(
            Duration::from_secs(10),
            admitted.slot.stalled(Duration::from_millis(200)),
        )
        .await
        .expect("the stall is noticed");
        assert!(admitted.slot.blocked_for().is_some());
        writer.abort();
        drop(client);
    }

    #[tokio::test]
    async fn a_reader_that_keeps_reading_never_stalls() {
        let pool = Pool::new(Limits::default());
        let admitted = pool.admit().await;
        let (mut client, server) = tokio::io::duplex(1024);
        let mut io = Watched::new(server, admitted.slot.clone()).into_inner();
        let writer = tokio::spawn(async move { io.write_all(&[0u8; 256 * 1024]).await });
        let reader = tokio::spawn(async move {
            let mut sink = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut client, &mut sink)
                .await
                .map(|_| sink.len())
        });
        writer.await.unwrap().unwrap();
        assert_eq!(
            admitted.slot.blocked_for(),
            None,
            "the last write went through"
        );
        reader.abort();
    }

    #[tokio::test]
    async fn a_full_pool_closes_the_idlest_connection_never_one_answering() {
        let pool = Pool::new(limits(2));
        let busy = pool.admit().await;
        let _turn = pool.turn(&busy.slot).await;
        let idle = pool.admit().await;
        assert_eq!(pool.open(), 2);
        // Not idle yet: a moment ago it connected.
        assert!(pool.idlest().is_none());
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let idle_slot = idle.slot.clone();
        let closing = tokio::spawn(async move {
            idle_slot.closed().await;
            drop(idle);
        });
        let third = tokio::time::timeout(Duration::from_secs(10), pool.admit())
            .await
            .expect("room is made by closing the idle connection");
        closing.await.unwrap();
        assert_eq!(pool.open(), 2, "the idle one left, the new one came");
        assert_ne!(third.slot.id, busy.slot.id);
        assert!(
            !pool.open.lock().unwrap().iter().any(|s| s.id == 1),
            "the connection closed is the idle one"
        );
    }

    #[tokio::test]
    async fn a_pool_of_answering_connections_makes_the_next_wait() {
        let pool = Pool::new(limits(1));
        let busy = pool.admit().await;
        let turn = pool.turn(&busy.slot).await;
        let waiting = tokio::time::timeout(Duration::from_millis(200), pool.admit()).await;
        assert!(
            waiting.is_err(),
            "no connection was idle, so none was closed"
        );
        drop(turn);
        drop(busy);
        tokio::time::timeout(Duration::from_secs(10), pool.admit())
            .await
            .expect("room once the answering connection ended");
    }

    #[tokio::test]
    async fn watches_beyond_the_cap_are_refused_and_their_place_returns() {
        let pool = Pool::new(Limits {
            watches: 1,
            ..Limits::default()
        });
        let admitted = pool.admit().await;
        let first = pool.watch(&admitted.slot).expect("one watch fits");
        assert!(pool.watch(&admitted.slot).is_none());
        drop(first);
        assert!(pool.watch(&admitted.slot).is_some());
    }
}
