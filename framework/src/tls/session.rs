//! The rustls session of one connection (server or client side, rustls'
//! *unbuffered* API) and the loop that feeds it received TLS records.
//!
//! [`Session::process`] runs rustls over a buffer of received records and
//! leaves every application-data plaintext packed at the front of that same
//! buffer: rustls decrypts each record where it lies, the loop discards the
//! record, then writes its plaintext over bytes already consumed. So a lease
//! of records comes back as a (shorter) lease of plaintext.
//!
//! Where rustls 0.23 itself copies: its unbuffered `ReadTraffic` hands out
//! each decrypted record as a `Vec` of its own (`take_received_plaintext`
//! copies the in-place plaintext into a fresh vector), and its encrypter
//! builds each record in a vector before copying it into our output. Those
//! two allocations per record are rustls'; this module adds none.

use std::io;

use rustls::client::{ClientConnectionData, UnbufferedClientConnection};
use rustls::server::{ServerConnectionData, UnbufferedServerConnection};
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncryptError, UnbufferedConnectionCommon, UnbufferedStatus,
};

/// Largest plaintext in one TLS record.
pub(crate) const MAX_PLAINTEXT: usize = 16 << 10;

/// Where encoded TLS records go: `n` bytes written in place by `fill`.
pub(crate) trait Sink {
    fn put(&mut self, n: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()>;
}

/// One side of a TLS session.
pub(crate) enum Session {
    Server(Box<UnbufferedServerConnection>),
    Client(Box<UnbufferedClientConnection>),
}

/// What one [`Session::process`] call did with a buffer.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Processed {
    /// Bytes of the buffer rustls is done with (from the front); the rest
    /// must be presented again, with more appended.
    pub consumed: usize,
    /// Plaintext bytes now at the front of the buffer.
    pub plain: usize,
    /// The peer sent close_notify.
    pub peer_closed: bool,
}

/// The two rustls connection types, to one interface.
trait Records {
    type Data;
    fn records<'c, 'i>(&'c mut self, buf: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data>;
}

impl Records for UnbufferedConnectionCommon<ServerConnectionData> {
    type Data = ServerConnectionData;
    fn records<'c, 'i>(&'c mut self, buf: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(buf)
    }
}

impl Records for UnbufferedConnectionCommon<ClientConnectionData> {
    type Data = ClientConnectionData;
    fn records<'c, 'i>(&'c mut self, buf: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(buf)
    }
}

/// A rustls error as an `io::Error` that says it came from TLS.
pub(crate) fn tls_error(e: rustls::Error) -> io::Error {
    let kind = match e {
        rustls::Error::AlertReceived(_) => io::ErrorKind::ConnectionAborted,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, format!("tls: {e}"))
}

impl Session {
    /// The state rustls shares between both sides (versions, ALPN...).
    pub(crate) fn common(&self) -> &rustls::CommonState {
        match self {
            Session::Server(s) => s,
            Session::Client(c) => c,
        }
    }

    /// True until the handshake has completed.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.common().is_handshaking()
    }

    /// Runs rustls over the records in `buf`: handshake messages are
    /// answered into `out`, and the plaintext of application-data records
    /// is packed at the front of `buf` (see [`Processed`]).
    /// On an error, the alert rustls queued for the peer is encoded into
    /// `out` too.
    pub(crate) fn process(&mut self, buf: &mut [u8], out: &mut dyn Sink) -> io::Result<Processed> {
        match self {
            Session::Server(s) => process(&mut ***s, buf, out),
            Session::Client(c) => process(&mut ***c, buf, out),
        }
    }

    /// Encrypts `data` (at most [`MAX_PLAINTEXT`] bytes: one record) into
    /// `out`, after any handshake message rustls has queued (a key update).
    /// `pending` is the received input rustls has not consumed yet (it
    /// must see the same bytes on every call).
    pub(crate) fn encrypt(
        &mut self,
        data: &[u8],
        pending: &mut Vec<u8>,
        out: &mut dyn Sink,
    ) -> io::Result<()> {
        match self {
            Session::Server(s) => write(&mut ***s, Write::Data(data), pending, out),
            Session::Client(c) => write(&mut ***c, Write::Data(data), pending, out),
        }
    }

    /// Queues a close_notify alert into `out` (`pending` as in `encrypt`).
    pub(crate) fn close_notify(
        &mut self,
        pending: &mut Vec<u8>,
        out: &mut dyn Sink,
    ) -> io::Result<()> {
        match self {
            Session::Server(s) => write(&mut ***s, Write::CloseNotify, pending, out),
            Session::Client(c) => write(&mut ***c, Write::CloseNotify, pending, out),
        }
    }
}

fn process<C: Records>(conn: &mut C, buf: &mut [u8], out: &mut dyn Sink) -> io::Result<Processed> {
    let mut p = Processed::default();
    loop {
        // The state borrows `buf` and the session: it ends with this block,
        // before the plaintext is written into `buf`.
        let plaintext_ready = {
            let UnbufferedStatus { discard, state } = conn.records(&mut buf[p.consumed..]);
            // rustls is done with these bytes once the state is handled, and
            // nothing below touches `buf` before then.
            p.consumed += discard;
            let state = match state {
                Ok(s) => s,
                Err(e) => {
                    flush_alert(conn, &mut buf[p.consumed..], out);
                    return Err(tls_error(e));
                }
            };
            match state {
                ConnectionState::ReadTraffic(_) => true,
                ConnectionState::EncodeTlsData(mut enc) => {
                    encode(&mut enc, out)?;
                    false
                }
                ConnectionState::TransmitTlsData(t) => {
                    // Encoded records were queued on the connection as they
                    // were made; they leave with this scheduling round's send.
                    t.done();
                    false
                }
                ConnectionState::PeerClosed => {
                    p.peer_closed = true;
                    false
                }
                ConnectionState::Closed => {
                    p.peer_closed = true;
                    return Ok(p);
                }
                ConnectionState::WriteTraffic(_) | ConnectionState::BlockedHandshake => {
                    return Ok(p);
                }
                ConnectionState::ReadEarlyData(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "tls: early data is not accepted",
                    ))
                }
                _ => return Err(io::Error::other("tls: unexpected rustls connection state")),
            }
        };
        if plaintext_ready {
            drain_plaintext(conn, buf, &mut p)?;
        }
    }
}

/// After an error: encodes the alert rustls queued for the peer, if any.
/// Called once: rustls hands its queued alert out before looking at the
/// input again, and looking again would re-run the failing record. `buf`
/// is the input as rustls last saw it (its handshake deframer keeps
/// positions into it).
fn flush_alert<C: Records>(conn: &mut C, buf: &mut [u8], out: &mut dyn Sink) {
    let UnbufferedStatus { state, .. } = conn.records(buf);
    if let Ok(ConnectionState::EncodeTlsData(mut enc)) = state {
        let _ = encode(&mut enc, out);
    }
}

/// Encodes one handshake message rustls made into `out`.
fn encode<D>(
    enc: &mut rustls::unbuffered::EncodeTlsData<'_, D>,
    out: &mut dyn Sink,
) -> io::Result<()> {
    let need = match enc.encode(&mut []) {
        Err(EncodeError::InsufficientSize(s)) => s.required_size,
        Ok(_) => return Ok(()),
        Err(e) => return Err(io::Error::other(format!("tls: {e}"))),
    };
    let mut r = Ok(0);
    out.put(need, &mut |b| r = enc.encode(b))?;
    r.map(|_| ())
        .map_err(|e| io::Error::other(format!("tls: {e}")))
}

/// Moves the plaintext rustls holds into `buf` at `p.plain`, over bytes
/// already consumed. Called with an empty input, so `buf` is free to write.
fn drain_plaintext<C: Records>(conn: &mut C, buf: &mut [u8], p: &mut Processed) -> io::Result<()> {
    let UnbufferedStatus { state, .. } = conn.records(&mut []);
    let ConnectionState::ReadTraffic(mut rt) = state.map_err(tls_error)? else {
        return Ok(());
    };
    while let Some(rec) = rt.next_record() {
        let rec = rec.map_err(tls_error)?;
        let n = rec.payload.len();
        // A record's plaintext is shorter than the record (header and AEAD
        // tag), and the record was consumed: it fits in front of `consumed`.
        if p.plain + n > p.consumed {
            return Err(io::Error::other(
                "tls: decrypted record larger than the bytes it came from",
            ));
        }
        buf[p.plain..p.plain + n].copy_from_slice(rec.payload);
        p.plain += n;
    }
    Ok(())
}

enum Write<'a> {
    Data(&'a [u8]),
    CloseNotify,
}

fn write<C: Records>(
    conn: &mut C,
    what: Write<'_>,
    pending: &mut Vec<u8>,
    out: &mut dyn Sink,
) -> io::Result<()> {
    loop {
        // rustls may look at its unconsumed input again (never empty it
        // under a handshake message it is joining), so it gets `pending`.
        let (discard, done) = {
            let UnbufferedStatus { discard, state } = conn.records(pending);
            let done = match state.map_err(tls_error)? {
                ConnectionState::EncodeTlsData(mut enc) => {
                    encode(&mut enc, out)?;
                    false
                }
                ConnectionState::TransmitTlsData(t) => {
                    t.done();
                    false
                }
                ConnectionState::WriteTraffic(mut wt) => {
                    encrypt(&mut wt, &what, out)?;
                    true
                }
                // Edge-triggered, once: sending after the peer's
                // close_notify is still allowed.
                ConnectionState::PeerClosed => false,
                ConnectionState::Closed => {
                    return Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "tls: session closed (close_notify sent and received)",
                    ))
                }
                ConnectionState::ReadTraffic(_) => {
                    return Err(io::Error::other(
                        "tls: plaintext appeared while sending (unconsumed records)",
                    ))
                }
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotConnected,
                        "tls: cannot send: the session is not established",
                    ))
                }
            };
            (discard, done)
        };
        pending.drain(..discard);
        if done {
            return Ok(());
        }
    }
}

/// Encrypts `what` into `out` through an established session.
fn encrypt<D>(
    wt: &mut rustls::unbuffered::WriteTraffic<'_, D>,
    what: &Write<'_>,
    out: &mut dyn Sink,
) -> io::Result<()> {
    let need = match what {
        Write::Data(d) => wt.encrypt(d, &mut []),
        Write::CloseNotify => wt.queue_close_notify(&mut []),
    };
    let need = match need {
        Ok(_) => return Ok(()),
        Err(EncryptError::InsufficientSize(s)) => s.required_size,
        Err(e) => return Err(io::Error::other(format!("tls: {e}"))),
    };
    let mut r = Ok(0);
    out.put(need, &mut |b| {
        r = match what {
            Write::Data(d) => wt.encrypt(d, b),
            Write::CloseNotify => wt.queue_close_notify(b),
        }
    })?;
    r.map(|_| ())
        .map_err(|e| io::Error::other(format!("tls: {e}")))
}
