//! Byte-stream layers: transforms between a connection's socket and the
//! protocol reading and writing it (TLS is one; a tap or a byte counter is
//! another).
//!
//! ```text
//!  protocol   conn.read() ─► Lease          conn.write_all(bytes)
//!                 ▲  top layer's `up` queue        │
//!  layer n    received(lease) ─ deliver ─┘    send(bytes) ─► io.send(...)
//!  ...            ▲                                │
//!  layer 0    received(lease)                 send(bytes) ─► queued on the slot
//!                 ▲                                ▼
//!  socket     kernel-filled lease            one sendmsg per turn
//! ```
//!
//! Layers are pushed onto a [`Connection`](crate::Connection) with
//! [`push_layer`](crate::Connection::push_layer), usually from a
//! [`Middleware`](crate::pipeline::Middleware)'s `on_open` (servers) or
//! right after connecting (clients); a protocol above never knows they are
//! there. They are push-style: each received buffer is handed to the
//! bottom layer, whose output (zero or more leases) feeds the next one up;
//! each write enters the top layer and leaves the bottom one as bytes
//! queued for the socket. A plain connection has no layer stack at all and
//! pays one predictable branch per operation for the possibility.
//!
//! Built-in layers (TLS) are dispatched statically through an enum; a
//! user's layer is a `Box<dyn Layer>`. Writes made in place
//! ([`write_frame`](crate::Connection::write_frame), the HTTP response
//! head) are filled straight into the TLS record being built when TLS is
//! the top layer; a user's layer gets them staged in a pooled buffer and
//! passed to its [`send`](Layer::send).

use std::collections::VecDeque;
use std::io;

use super::slot::Conns;
use super::{Lease, OutBuf};

/// A transform on a connection's byte stream.
///
/// `received` gets each buffer arriving from below (the socket, or the
/// layer under this one) and hands what the protocol should see to
/// [`LayerIo::deliver`]; `send` gets the bytes the protocol writes and
/// passes what should go out to [`LayerIo::send`]. A layer may deliver a
/// lease it was given (changed in place, or [`consume`](Lease::consume)d
/// and [`truncate`](Lease::truncate)d), a heap lease of its own
/// ([`Lease::from_vec`]), or nothing yet.
///
/// An error from any method fails the read or write that caused it; the
/// connection should then be dropped.
///
/// ```
/// use corering::{Layer, LayerIo, Lease};
///
/// /// Counts the bytes each way and passes them through unchanged.
/// #[derive(Default)]
/// struct Count { read: u64, written: u64 }
///
/// impl Layer for Count {
///     fn name(&self) -> &'static str { "count" }
///     fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> std::io::Result<()> {
///         self.read += data.len() as u64;
///         io.deliver(data);
///         Ok(())
///     }
///     fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> std::io::Result<()> {
///         self.written += data.len() as u64;
///         io.send(data)
///     }
/// }
/// ```
pub trait Layer: 'static {
    /// A short name for logs (`"tls"`).
    fn name(&self) -> &'static str;

    /// Takes one buffer received from below.
    fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> io::Result<()>;

    /// Takes bytes the layer above (or the protocol) writes.
    fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> io::Result<()>;

    /// The stream below ended. May deliver what the layer still held; an
    /// error reports a truncated stream. The default does nothing.
    fn end_of_stream(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        let _ = io;
        Ok(())
    }

    /// The protocol shuts down its sending side: send whatever marks the
    /// end (TLS sends `close_notify`). The default does nothing.
    fn shutdown(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        let _ = io;
        Ok(())
    }

    /// Takes an owned buffer the protocol writes; the default sends its
    /// bytes through [`send`](Layer::send).
    fn send_owned(&mut self, data: OutBuf, io: &mut LayerIo<'_>) -> io::Result<()> {
        self.send(data.as_slice(), io)
    }

    /// Sends down whatever the layer holds back (a layer that gathers
    /// writes into bigger units); called by
    /// [`Connection::flush`](crate::Connection::flush) before it waits.
    /// The default does nothing.
    fn flush(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        let _ = io;
        Ok(())
    }
}

/// Work a layer leaves for the end of the worker's round: run once, just
/// before the round's sends (TLS seals the record it gathered this round).
/// Registered with `runtime::before_send`.
pub(crate) trait BeforeSend {
    fn before_send(&self, conns: &mut Conns);
}

/// What a [`Layer`] reaches: the queue of bytes for the layer above, and
/// the way down to the socket.
pub struct LayerIo<'a> {
    up: &'a mut VecDeque<Lease>,
    ended: &'a mut bool,
    below: &'a mut [Entry],
    conns: &'a mut Conns,
    idx: u32,
}

impl LayerIo<'_> {
    /// True when nothing is below this layer but the socket.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn at_bottom(&self) -> bool {
        self.below.is_empty()
    }

    /// Hands `data` to the layer above (or to the protocol's next read).
    /// Empty leases are dropped.
    pub fn deliver(&mut self, data: Lease) {
        if !data.is_empty() {
            self.up.push_back(data);
        }
    }

    /// Ends the stream this layer hands up (TLS after a close_notify): once
    /// what it delivered has been read, reads return `Ok(None)`, and no
    /// more input is pulled through it.
    pub fn end(&mut self) {
        *self.ended = true;
    }

    /// Sends `data` down (through the layers below, then to the socket's
    /// send queue, copied).
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.down(
            data,
            |conns, idx, data| conns.queue_bytes(idx, data),
            |kind, data, io| kind.send(data, io),
        )
    }

    /// Hands `what` to the next layer down (`layer`), or to the slot's
    /// send queue (`socket`) when this layer is the bottom one.
    fn down<T>(
        &mut self,
        what: T,
        socket: impl FnOnce(&mut Conns, u32, T),
        layer: impl FnOnce(&mut Kind, T, &mut LayerIo<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        match self.below.split_last_mut() {
            None => {
                socket(self.conns, self.idx, what);
                Ok(())
            }
            Some((next, rest)) => layer(
                &mut next.kind,
                what,
                &mut LayerIo {
                    up: &mut next.up,
                    ended: &mut next.ended,
                    below: rest,
                    conns: self.conns,
                    idx: self.idx,
                },
            ),
        }
    }

    /// Sends `n` bytes that `fill` writes in place: straight into the
    /// socket's send buffers when no layer is below, else through a copy.
    pub fn send_with(&mut self, n: usize, fill: impl FnOnce(&mut [u8])) -> io::Result<()> {
        if self.below.is_empty() {
            self.conns.queue_fill(self.idx, n, fill);
            return Ok(());
        }
        super::lease::staged(n, fill, |b| self.send(b))
    }

    /// Sends an owned buffer down without copying when no layer is below.
    pub fn send_owned(&mut self, buf: OutBuf) -> io::Result<()> {
        self.down(
            buf,
            |conns, idx, buf| conns.queue_owned(idx, buf),
            |kind, buf, io| kind.send_owned(buf, io),
        )
    }
}

/// A layer in a connection's stack: built-in ones by value (static
/// dispatch), a user's boxed.
pub(crate) enum Kind {
    /// A user's layer.
    Dyn(Box<dyn Layer>),
    /// TLS (rustls) after its handshake.
    #[cfg(feature = "tls")]
    Tls(crate::tls::TlsLayer),
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::Dyn(l) => l.name(),
            #[cfg(feature = "tls")]
            Kind::Tls(_) => "tls",
        }
    }

    fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            Kind::Dyn(l) => l.received(data, io),
            #[cfg(feature = "tls")]
            Kind::Tls(l) => l.received(data, io),
        }
    }

    fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            Kind::Dyn(l) => l.send(data, io),
            #[cfg(feature = "tls")]
            Kind::Tls(l) => l.send(data, io),
        }
    }

    /// Sends `n` bytes `fill` writes in place: TLS seals them where they
    /// are written; other layers get them staged in a pooled buffer.
    fn send_with(
        &mut self,
        n: usize,
        fill: impl FnOnce(&mut [u8]),
        io: &mut LayerIo<'_>,
    ) -> io::Result<()> {
        match self {
            #[cfg(feature = "tls")]
            Kind::Tls(l) => l.send_with(n, fill, io),
            _ => super::lease::staged(n, fill, |b| self.send(b, io)),
        }
    }

    fn send_owned(&mut self, data: OutBuf, io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            Kind::Dyn(l) => l.send_owned(data, io),
            #[cfg(feature = "tls")]
            Kind::Tls(l) => l.send(data.as_slice(), io),
        }
    }

    fn end_of_stream(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            Kind::Dyn(l) => l.end_of_stream(io),
            #[cfg(feature = "tls")]
            Kind::Tls(l) => l.end_of_stream(io),
        }
    }

    fn shutdown(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            Kind::Dyn(l) => l.shutdown(io),
            #[cfg(feature = "tls")]
            Kind::Tls(l) => l.shutdown(io),
        }
    }

    fn flush(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            Kind::Dyn(l) => l.flush(io),
            #[cfg(feature = "tls")]
            Kind::Tls(l) => l.flush(io),
        }
    }
}

/// One level of the stack: the layer and what it has delivered upward and
/// the level above has not taken yet.
pub(crate) struct Entry {
    kind: Kind,
    up: VecDeque<Lease>,
    /// `end_of_stream` was called on this level.
    ended: bool,
}

/// A connection's layer stack, bottom (next to the socket) first.
#[derive(Default)]
pub(crate) struct Layers {
    entries: Vec<Entry>,
    /// The layers' `shutdown` ran.
    shut: bool,
}

impl Layers {
    /// Puts `kind` on top; `first`, if any, is what it hands up before
    /// anything more arrives (bytes its setup already decoded).
    pub(crate) fn push(&mut self, kind: Kind, first: Option<Lease>) {
        let mut up = VecDeque::new();
        up.extend(first.filter(|l| !l.is_empty()));
        self.entries.push(Entry {
            kind,
            up,
            ended: false,
        });
    }

    /// The layers' names, bottom first.
    pub(crate) fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|e| e.kind.name())
    }

    /// The next buffer for the protocol: from the top layer's queue, or by
    /// pulling input up through the stack from `raw`.
    pub(crate) fn poll_read<R: RawRead>(
        &mut self,
        conns: &mut Conns,
        idx: u32,
        raw: &mut R,
    ) -> std::task::Poll<io::Result<Option<Lease>>> {
        pull(&mut self.entries, conns, idx, raw)
    }

    /// Sends the protocol's bytes down through every layer.
    pub(crate) fn send(&mut self, conns: &mut Conns, idx: u32, data: &[u8]) -> io::Result<()> {
        self.with_top(conns, idx, |kind, io| kind.send(data, io))
    }

    /// Hands `data` to the top layer as if it had come from below (bytes a
    /// layer's setup read before the layer was there).
    #[cfg(feature = "tls")]
    pub(crate) fn received_top(
        &mut self,
        conns: &mut Conns,
        idx: u32,
        data: Lease,
    ) -> io::Result<()> {
        self.with_top(conns, idx, |kind, io| kind.received(data, io))
    }

    /// Sends `n` bytes that `fill` writes in place down through every
    /// layer (in place into a TLS record when TLS is on top).
    pub(crate) fn send_with(
        &mut self,
        conns: &mut Conns,
        idx: u32,
        n: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> io::Result<()> {
        self.with_top(conns, idx, |kind, io| kind.send_with(n, fill, io))
    }

    /// Sends an owned buffer down through every layer.
    pub(crate) fn send_owned(
        &mut self,
        conns: &mut Conns,
        idx: u32,
        buf: OutBuf,
    ) -> io::Result<()> {
        self.with_top(conns, idx, |kind, io| kind.send_owned(buf, io))
    }

    /// Runs every layer's `shutdown`, top first, once.
    pub(crate) fn shutdown(&mut self, conns: &mut Conns, idx: u32) -> io::Result<()> {
        if std::mem::replace(&mut self.shut, true) {
            return Ok(());
        }
        self.each_top_down(conns, idx, |kind, io| kind.shutdown(io))
    }

    /// Runs every layer's `flush`, top first.
    pub(crate) fn flush(&mut self, conns: &mut Conns, idx: u32) -> io::Result<()> {
        self.each_top_down(conns, idx, |kind, io| kind.flush(io))
    }

    fn each_top_down(
        &mut self,
        conns: &mut Conns,
        idx: u32,
        mut f: impl FnMut(&mut Kind, &mut LayerIo<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        for level in (0..self.entries.len()).rev() {
            let (below, rest) = self.entries.split_at_mut(level);
            let e = &mut rest[0];
            f(
                &mut e.kind,
                &mut LayerIo {
                    up: &mut e.up,
                    ended: &mut e.ended,
                    below,
                    conns,
                    idx,
                },
            )?;
        }
        Ok(())
    }

    fn with_top<R>(
        &mut self,
        conns: &mut Conns,
        idx: u32,
        f: impl FnOnce(&mut Kind, &mut LayerIo<'_>) -> io::Result<R>,
    ) -> io::Result<R> {
        let (top, below) = self
            .entries
            .split_last_mut()
            .expect("a layer stack is never empty");
        f(
            &mut top.kind,
            &mut LayerIo {
                up: &mut top.up,
                ended: &mut top.ended,
                below,
                conns,
                idx,
            },
        )
    }
}

/// Where the bottom layer's input comes from: the connection's own read.
pub(crate) trait RawRead:
    FnMut(&mut Conns) -> std::task::Poll<io::Result<Option<Lease>>>
{
}
impl<F: FnMut(&mut Conns) -> std::task::Poll<io::Result<Option<Lease>>>> RawRead for F {}

/// Pulls the next buffer out of the top of `entries`, feeding each level
/// from the one below it (and the bottom from `raw`) until the top has
/// something to hand out or the stream ends.
fn pull<R: RawRead>(
    entries: &mut [Entry],
    conns: &mut Conns,
    idx: u32,
    raw: &mut R,
) -> std::task::Poll<io::Result<Option<Lease>>> {
    use std::task::Poll;
    let Some((top, below)) = entries.split_last_mut() else {
        return raw(conns);
    };
    loop {
        if let Some(l) = top.up.pop_front() {
            return Poll::Ready(Ok(Some(l)));
        }
        if top.ended {
            return Poll::Ready(Ok(None));
        }
        let input = match pull(below, conns, idx, raw) {
            Poll::Ready(r) => r?,
            Poll::Pending => return Poll::Pending,
        };
        let mut io = LayerIo {
            up: &mut top.up,
            ended: &mut top.ended,
            below,
            conns,
            idx,
        };
        match input {
            Some(data) => top.kind.received(data, &mut io)?,
            None => {
                *io.ended = true;
                top.kind.end_of_stream(&mut io)?;
            }
        }
    }
}
