//! The established-session layer: decrypts received records into the
//! protocol's reads and encrypts its writes, under an unchanged protocol.
//!
//! [`TlsLayer`] is one of two: our own record layer
//! (`record_layer::RecordLayer`, zero-copy and
//! allocation-free; used whenever the configuration allows rustls to hand
//! over the session's secrets), or rustls' unbuffered API
//! ([`RustlsLayer`], below; the fallback for a configuration without
//! `enable_secret_extraction`).
//!
//! The fallback path. Receiving: records that lie whole inside one received lease are
//! decrypted in that lease and their plaintexts packed at its front (each
//! written over bytes already consumed), so the protocol reads the same
//! lease, narrowed: one lease of records in, one lease of plaintext out,
//! several records included. Only a record cut by the end of a lease is
//! assembled: its bytes (and no more) are copied into a pooled heap buffer,
//! decrypted there and handed up as a heap lease.
//!
//! Sending: each write is cut into records of at most 16 KiB of plaintext,
//! each encrypted straight into the socket's send buffers.
//!
//! A received close_notify ends the stream (reads return `Ok(None)`); so
//! does a TCP end of stream without one (logged at debug level: HTTP's own
//! framing tells a truncated message). Alerts and bad records fail the read
//! with an `io::Error` starting with `tls:`.

use std::io;

use super::record_layer::RecordLayer;
use super::session::{Processed, Session, Sink, MAX_PLAINTEXT};
use crate::conn::{LayerIo, Lease};

/// TLS on a connection, after its handshake.
pub(crate) enum TlsLayer {
    /// Our record layer on the secrets rustls handed over.
    Records(Box<RecordLayer>),
    /// rustls' unbuffered API (secret extraction off).
    Rustls(RustlsLayer),
}

impl TlsLayer {
    pub(crate) fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            TlsLayer::Records(l) => l.received(data, io),
            TlsLayer::Rustls(l) => l.received(data, io),
        }
    }

    pub(crate) fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            TlsLayer::Records(l) => l.send(data, io),
            TlsLayer::Rustls(l) => l.send(data, io),
        }
    }

    /// Sends `n` plaintext bytes `fill` writes in place (into the record
    /// being built, on our record layer).
    pub(crate) fn send_with(
        &mut self,
        n: usize,
        fill: impl FnOnce(&mut [u8]),
        io: &mut LayerIo<'_>,
    ) -> io::Result<()> {
        match self {
            TlsLayer::Records(l) => l.send_with(n, fill, io),
            TlsLayer::Rustls(l) => crate::conn::staged(n, fill, |b| l.send(b, io)),
        }
    }

    pub(crate) fn shutdown(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            TlsLayer::Records(l) => l.shutdown(io),
            TlsLayer::Rustls(l) => l.shutdown(io),
        }
    }

    pub(crate) fn flush(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            TlsLayer::Records(l) => l.flush(io),
            TlsLayer::Rustls(_) => Ok(()),
        }
    }

    pub(crate) fn end_of_stream(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        match self {
            TlsLayer::Records(l) => l.end_of_stream(io),
            TlsLayer::Rustls(l) => l.end_of_stream(io),
        }
    }
}

/// TLS through rustls' unbuffered API, after the handshake.
pub(crate) struct RustlsLayer {
    sess: Session,
    /// Received bytes rustls has not consumed yet: the start of a record
    /// cut by the end of a lease (or a handshake message spread over
    /// records, which rustls keeps until it is whole).
    pending: Vec<u8>,
    /// The peer sent close_notify: what follows is ignored.
    peer_closed: bool,
    /// rustls reported an error (and sent its alert): the session is over.
    failed: bool,
}

/// Encoded records go to the layer below (the socket's send buffers).
struct Down<'a, 'b>(&'a mut LayerIo<'b>);

impl Sink for Down<'_, '_> {
    fn put(&mut self, n: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()> {
        self.0.send_with(n, |b| fill(b))
    }
}

impl RustlsLayer {
    /// The layer for an established session; `pending` holds received
    /// bytes the handshake left unconsumed.
    pub(crate) fn new(sess: Session, pending: &[u8], peer_closed: bool) -> RustlsLayer {
        let mut l = RustlsLayer {
            sess,
            pending: Vec::new(),
            peer_closed,
            failed: false,
        };
        l.keep(pending);
        l
    }

    pub(crate) fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> io::Result<()> {
        self.check()?;
        let r = self.receive(data, io);
        self.failed = r.is_err();
        r
    }

    /// An error once the session has failed.
    fn check(&self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "tls: the session failed earlier",
            ));
        }
        Ok(())
    }

    fn receive(&mut self, mut data: Lease, io: &mut LayerIo<'_>) -> io::Result<()> {
        if self.peer_closed {
            return Ok(());
        }
        if !self.pending.is_empty() {
            // Complete the record the previous lease cut, from this one.
            loop {
                let need = missing(&self.pending);
                if need == 0 {
                    break;
                }
                let take = need.min(data.len());
                self.pending.extend_from_slice(&data[..take]);
                data.consume(take);
                if take < need {
                    return Ok(());
                }
            }
            self.process_pending(io)?;
            if !self.pending.is_empty() && !data.is_empty() {
                // rustls keeps bytes back (a handshake message spread over
                // records): the new bytes must follow them.
                self.pending.extend_from_slice(&data);
                return self.process_pending(io);
            }
        }
        if data.is_empty() || self.peer_closed {
            return Ok(());
        }
        let p = self.sess.process(data.as_mut_slice(), &mut Down(io))?;
        self.keep(&data[p.consumed..]);
        data.truncate(p.plain);
        io.deliver(data);
        self.closed(p, io);
        Ok(())
    }

    /// Runs the assembled bytes in `pending` and hands up their plaintext
    /// in that same buffer.
    fn process_pending(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.pending);
        let p = self.sess.process(&mut buf, &mut Down(io))?;
        self.keep(&buf[p.consumed..]);
        buf.truncate(p.plain);
        // An empty lease is dropped, which returns the buffer to the pool.
        io.deliver(Lease::from_vec(buf));
        self.closed(p, io);
        Ok(())
    }

    /// Keeps unconsumed bytes for the next lease.
    fn keep(&mut self, rest: &[u8]) {
        if rest.is_empty() || self.peer_closed {
            return;
        }
        if self.pending.capacity() == 0 {
            self.pending = Lease::heap_buffer(rest.len().max(MAX_PLAINTEXT + 512));
        }
        self.pending.extend_from_slice(rest);
    }

    fn closed(&mut self, p: Processed, io: &mut LayerIo<'_>) {
        if p.peer_closed && !self.peer_closed {
            self.peer_closed = true;
            self.pending.clear();
            io.end();
        }
    }

    pub(crate) fn send(&mut self, data: &[u8], io: &mut LayerIo<'_>) -> io::Result<()> {
        self.check()?;
        for chunk in data.chunks(MAX_PLAINTEXT) {
            if let Err(e) = self.sess.encrypt(chunk, &mut self.pending, &mut Down(io)) {
                self.failed = true;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Sends close_notify (nothing after a failure: rustls sent its alert).
    pub(crate) fn shutdown(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        if self.failed {
            return Ok(());
        }
        self.sess.close_notify(&mut self.pending, &mut Down(io))
    }

    pub(crate) fn end_of_stream(&mut self, _io: &mut LayerIo<'_>) -> io::Result<()> {
        log_end(self.peer_closed, !self.pending.is_empty());
        Ok(())
    }
}

/// The stream below ended: fine after the peer's close_notify, else
/// logged (at debug level: for HTTP an unclean end is common and harmless;
/// a protocol that needs to know sees its own framing cut short).
pub(crate) fn log_end(peer_closed: bool, mid_record: bool) {
    if !peer_closed {
        let mid = if mid_record {
            " (in the middle of a record)"
        } else {
            ""
        };
        log::debug!("tls: peer closed the connection without close_notify{mid}");
    }
}

impl Drop for RustlsLayer {
    fn drop(&mut self) {
        crate::conn::recycle_heap(std::mem::take(&mut self.pending));
    }
}

/// Bytes still missing from the last record started in `buf` (at least
/// the rest of its 5-byte header when that is cut); 0 if `buf` ends at a
/// record boundary.
fn missing(buf: &[u8]) -> usize {
    let mut pos = 0;
    while pos + 5 <= buf.len() {
        let len = 5 + u16::from_be_bytes([buf[pos + 3], buf[pos + 4]]) as usize;
        if pos + len > buf.len() {
            return pos + len - buf.len();
        }
        pos += len;
    }
    if pos < buf.len() {
        5 - (buf.len() - pos)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::missing;

    #[test]
    fn missing_counts_to_the_end_of_the_cut_record() {
        assert_eq!(missing(&[]), 0);
        assert_eq!(missing(&[23, 3, 3]), 2);
        assert_eq!(missing(&[23, 3, 3, 0, 4, 1]), 3);
        assert_eq!(missing(&[23, 3, 3, 0, 1, 9]), 0);
        assert_eq!(missing(&[23, 3, 3, 0, 1, 9, 23, 3, 3, 0, 2]), 2);
    }
}
