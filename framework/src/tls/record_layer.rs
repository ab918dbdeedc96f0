//! The established session on our own record layer: after the handshake,
//! rustls hands over the traffic secrets and a `KernelConnection`
//! (`dangerous_into_kernel_connection`), and records are opened and sealed
//! here (`tls::record`, ring's AEAD), in place:
//!
//! - Receiving: each record inside a received lease is decrypted where it
//!   lies, and the lease itself is handed up, narrowed to the plaintext (no
//!   copy for one record; several records' plaintexts are packed behind
//!   the first's, in the same lease). A record cut by the end of a lease
//!   is assembled in a pooled heap buffer (its bytes only) and opened
//!   there.
//! - Sending: what the protocol writes during one round of the worker is
//!   gathered into one open record (a pooled heap buffer: header room,
//!   then the plaintext; [`send_with`](RecordLayer::send_with) lets the
//!   protocol write into it in place). The record is sealed in place just
//!   before the round's sends (`BeforeSend`, registered with the worker
//!   on the first write of the round), when it reaches 16 KiB, or when the
//!   protocol flushes or shuts down, and queued as it is: sixteen
//!   pipelined responses leave as one record, not sixteen, which costs
//!   both ends one seal/open instead of sixteen. Control records (alerts,
//!   KeyUpdate) seal the open record first, so order is kept.
//! - After the handshake, TLS 1.3 KeyUpdate (answered when the peer asks,
//!   and sent on our own before AES-GCM's record limit), NewSessionTicket
//!   (clients, kept by rustls for resumption), and alerts: close_notify
//!   ends the stream; a fatal alert fails the read; anything unexpected
//!   sends an alert and fails with a `tls:` error.
//!
//! Nothing here allocates once warm: the only buffers are pooled.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use rustls::client::ClientConnectionData;
use rustls::kernel::KernelConnection;
use rustls::server::ServerConnectionData;
use rustls::{AlertDescription, ConnectionTrafficSecrets, ExtractedSecrets, ProtocolVersion};

use super::keys::{Keys, Proto};
use super::record::{self, Bad, ALERT, DATA, HANDSHAKE, HEADER, MAX_PLAINTEXT};
use crate::conn::{BeforeSend, Conns, LayerIo, Lease, OutBuf};

/// rustls' side of an established session: new traffic secrets on key
/// updates, session tickets on clients.
pub(crate) enum Kernel {
    Server(KernelConnection<ServerConnectionData>),
    Client(KernelConnection<ClientConnectionData>),
}

impl Kernel {
    fn update_rx(&mut self) -> Result<(u64, ConnectionTrafficSecrets), rustls::Error> {
        match self {
            Kernel::Server(k) => k.update_rx_secret(),
            Kernel::Client(k) => k.update_rx_secret(),
        }
    }

    fn update_tx(&mut self) -> Result<(u64, ConnectionTrafficSecrets), rustls::Error> {
        match self {
            Kernel::Server(k) => k.update_tx_secret(),
            Kernel::Client(k) => k.update_tx_secret(),
        }
    }

    fn version(&self) -> ProtocolVersion {
        match self {
            Kernel::Server(k) => k.protocol_version(),
            Kernel::Client(k) => k.protocol_version(),
        }
    }
}

/// Handshake message types seen after the handshake.
const HELLO_REQUEST: u8 = 0;
const NEW_SESSION_TICKET: u8 = 4;
const KEY_UPDATE: u8 = 24;

/// The sending side, shared with the worker so that the record gathered
/// in a round is sealed just before the round's sends.
pub(crate) struct Tx {
    proto: Proto,
    keys: Keys,
    /// The open record: room for the header (and TLS 1.2's explicit
    /// nonce), then the plaintext written this round. Empty when none is
    /// open.
    open: Vec<u8>,
    /// Registered with the worker for this round.
    queued: bool,
    /// The connection's slot (index, generation).
    slot: (u32, u32),
}

impl Tx {
    /// Seals the open record in place and returns it, if one is open.
    fn seal_open(&mut self) -> Result<Option<Vec<u8>>, Bad> {
        if self.open.is_empty() {
            return Ok(None);
        }
        let mut rec = std::mem::take(&mut self.open);
        let n = rec.len() - record::plain_at(self.proto);
        rec.resize(record::sealed_len(self.proto, n), 0);
        record::seal(&mut self.keys, self.proto, DATA, &mut rec)?;
        Ok(Some(rec))
    }

    /// Plaintext bytes the open record (or a new one) can still take.
    fn room(&self) -> usize {
        match self.open.len() {
            0 => MAX_PLAINTEXT,
            len => MAX_PLAINTEXT - (len - record::plain_at(self.proto)),
        }
    }

    /// Opens a record if none is open and appends `n` bytes that `fill`
    /// writes; `false` (nothing written) if they do not fit.
    fn append(&mut self, n: usize, fill: impl FnOnce(&mut [u8])) -> bool {
        if n > self.room() {
            return false;
        }
        if self.open.is_empty() {
            self.open = Lease::heap_buffer(record::sealed_len(self.proto, MAX_PLAINTEXT));
            self.open.resize(record::plain_at(self.proto), 0);
        }
        let len = self.open.len();
        self.open.resize(len + n, 0);
        fill(&mut self.open[len..]);
        true
    }
}

impl BeforeSend for RefCell<Tx> {
    fn before_send(&self, conns: &mut Conns) {
        let mut tx = self.borrow_mut();
        tx.queued = false;
        let (idx, gen) = tx.slot;
        if conns.get(idx, gen).is_none_or(|s| s.write_err != 0) {
            // The connection is gone or failed: nothing can be sent.
            crate::conn::recycle_heap(std::mem::take(&mut tx.open));
            return;
        }
        match tx.seal_open() {
            Ok(Some(rec)) => conns.queue_owned(idx, OutBuf::Lease(Lease::from_vec(rec))),
            Ok(None) => {}
            Err(b) => log::debug!("{}", b.msg),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        crate::conn::recycle_heap(std::mem::take(&mut self.open));
    }
}

/// TLS on a connection after its handshake, on our record layer.
pub(crate) struct RecordLayer {
    proto: Proto,
    rx: Keys,
    tx: Rc<RefCell<Tx>>,
    kernel: Kernel,
    /// The bytes so far of a record cut by the end of a lease (a pooled
    /// heap buffer, empty when none).
    cut: Vec<u8>,
    /// A post-handshake message spread over records (rare; empty when
    /// none).
    hs: Vec<u8>,
    /// The peer sent close_notify: what follows is ignored.
    peer_closed: bool,
    /// We sent close_notify: nothing more may be sent.
    closed_sent: bool,
    /// The session failed (an alert went out): it is over.
    failed: bool,
}

impl RecordLayer {
    /// The layer for the secrets and rustls state taken from an
    /// established session.
    /// `slot` is the connection's (index, generation).
    pub(crate) fn new(
        secrets: ExtractedSecrets,
        kernel: Kernel,
        peer_closed: bool,
        slot: (u32, u32),
    ) -> io::Result<RecordLayer> {
        let tls13 = kernel.version() == ProtocolVersion::TLSv1_3;
        let (rx, proto) = Keys::new(secrets.rx.0, secrets.rx.1, tls13)?;
        let (keys, _) = Keys::new(secrets.tx.0, secrets.tx.1, tls13)?;
        let tx = Rc::new(RefCell::new(Tx {
            proto,
            keys,
            open: Vec::new(),
            queued: false,
            slot,
        }));
        Ok(RecordLayer {
            proto,
            rx,
            tx,
            kernel,
            cut: Vec::new(),
            hs: Vec::new(),
            peer_closed,
            closed_sent: false,
            failed: false,
        })
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

    pub(crate) fn received(&mut self, data: Lease, io: &mut LayerIo<'_>) -> io::Result<()> {
        self.check()?;
        if self.peer_closed {
            return Ok(());
        }
        let r = self.receive(data, io);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn receive(&mut self, mut data: Lease, io: &mut LayerIo<'_>) -> io::Result<()> {
        if !self.cut.is_empty() {
            // Complete the record the previous lease cut, from this one.
            loop {
                let need = self.missing(io)?;
                if need == 0 {
                    break;
                }
                let take = need.min(data.len());
                self.cut.extend_from_slice(&data[..take]);
                data.consume(take);
                if take < need {
                    return Ok(());
                }
            }
            let mut buf = std::mem::take(&mut self.cut);
            match self.open_one(&mut buf, io)? {
                Some(plain) => {
                    let mut l = Lease::from_vec(buf);
                    l.consume(plain.start);
                    l.truncate(plain.len());
                    io.deliver(l);
                }
                None => crate::conn::recycle_heap(buf),
            }
        }
        if data.is_empty() || self.peer_closed {
            return Ok(());
        }
        let buf = data.as_mut_slice();
        let mut pos = 0;
        // The plaintext gathered so far, in this lease.
        let mut out: Option<(usize, usize)> = None;
        while buf.len() - pos >= HEADER {
            let len = HEADER + u16::from_be_bytes([buf[pos + 3], buf[pos + 4]]) as usize;
            if len - HEADER > record::max_payload(self.proto) {
                return Err(self.fatal(overflow(), io));
            }
            if buf.len() - pos < len {
                break;
            }
            if let Some(p) = self.open_one(&mut buf[pos..pos + len], io)? {
                let (a, b) = (pos + p.start, pos + p.end);
                out = Some(match out {
                    None => (a, b),
                    Some((s, e)) => {
                        // Behind the plaintext before it: over bytes
                        // already opened (a record's header and tag).
                        buf.copy_within(a..b, e);
                        (s, e + (b - a))
                    }
                });
            }
            pos += len;
            if self.peer_closed {
                break;
            }
        }
        if pos < buf.len() && !self.peer_closed {
            self.cut = Lease::heap_buffer(HEADER + record::max_payload(self.proto));
            self.cut.extend_from_slice(&buf[pos..]);
        }
        if let Some((s, e)) = out {
            data.consume(s);
            data.truncate(e - s);
            io.deliver(data);
        }
        Ok(())
    }

    /// Bytes still missing from the record in `cut`: the rest of its
    /// header, or of its payload.
    fn missing(&mut self, io: &mut LayerIo<'_>) -> io::Result<usize> {
        let have = self.cut.len();
        if have < HEADER {
            return Ok(HEADER - have);
        }
        let len = u16::from_be_bytes([self.cut[3], self.cut[4]]) as usize;
        if len > record::max_payload(self.proto) {
            self.cut.clear();
            return Err(self.fatal(overflow(), io));
        }
        Ok(HEADER + len - have)
    }

    /// Opens one whole record in place and acts on it: the range of its
    /// plaintext for application data, `None` for alerts and handshake
    /// messages (handled here).
    fn open_one(
        &mut self,
        rec: &mut [u8],
        io: &mut LayerIo<'_>,
    ) -> io::Result<Option<std::ops::Range<usize>>> {
        let o = match record::open(&mut self.rx, self.proto, rec) {
            Ok(o) => o,
            Err(b) => return Err(self.fatal(b, io)),
        };
        match o.typ {
            DATA => Ok(Some(o.plain)),
            ALERT => {
                self.alert(&rec[o.plain], io)?;
                Ok(None)
            }
            HANDSHAKE => {
                self.handshake(&rec[o.plain], io)?;
                Ok(None)
            }
            _ => Err(self.fatal(
                Bad {
                    alert: AlertDescription::UnexpectedMessage,
                    msg: "tls: unexpected record type after the handshake",
                },
                io,
            )),
        }
    }

    /// An alert from the peer.
    fn alert(&mut self, body: &[u8], io: &mut LayerIo<'_>) -> io::Result<()> {
        let &[level, desc] = body else {
            return Err(self.fatal(
                Bad {
                    alert: AlertDescription::DecodeError,
                    msg: "tls: malformed alert",
                },
                io,
            ));
        };
        let desc = AlertDescription::from(desc);
        if desc == AlertDescription::CloseNotify {
            self.peer_closed = true;
            crate::conn::recycle_heap(std::mem::take(&mut self.cut));
            io.end();
            return Ok(());
        }
        // user_canceled is followed by close_notify; TLS 1.2 warnings are
        // informational.
        if desc == AlertDescription::UserCanceled || (self.proto != Proto::Tls13 && level == 1) {
            log::debug!("tls: peer sent a warning alert: {desc:?}");
            return Ok(());
        }
        // No alert back: the peer has ended the session.
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            format!("tls: received fatal alert: {desc:?}"),
        ))
    }

    /// Handshake messages after the handshake, in the plaintext `body` of
    /// one record (possibly continuing a message started earlier).
    fn handshake(&mut self, body: &[u8], io: &mut LayerIo<'_>) -> io::Result<()> {
        let mut held = std::mem::take(&mut self.hs);
        let mut msgs: &[u8] = if held.is_empty() {
            body
        } else {
            held.extend_from_slice(body);
            &held
        };
        while msgs.len() >= 4 {
            let len = u32::from_be_bytes([0, msgs[1], msgs[2], msgs[3]]) as usize;
            if len > 64 << 10 {
                return Err(self.fatal(
                    Bad {
                        alert: AlertDescription::DecodeError,
                        msg: "tls: post-handshake message too large",
                    },
                    io,
                ));
            }
            if msgs.len() < 4 + len {
                break;
            }
            let (typ, payload) = (msgs[0], &msgs[4..4 + len]);
            msgs = &msgs[4 + len..];
            self.message(typ, payload, !msgs.is_empty(), io)?;
        }
        if !msgs.is_empty() {
            // Rare: a message spread over records.
            let mut rest = Vec::with_capacity(msgs.len());
            rest.extend_from_slice(msgs);
            self.hs = rest;
        }
        Ok(())
    }

    /// One post-handshake message; `more` says bytes follow it in the
    /// same record.
    fn message(
        &mut self,
        typ: u8,
        payload: &[u8],
        more: bool,
        io: &mut LayerIo<'_>,
    ) -> io::Result<()> {
        let unexpected = |msg| Bad {
            alert: AlertDescription::UnexpectedMessage,
            msg,
        };
        let tls13 = self.proto == Proto::Tls13;
        match typ {
            KEY_UPDATE if tls13 => {
                if more {
                    return Err(self.fatal(
                        unexpected("tls: KeyUpdate not at the end of its record"),
                        io,
                    ));
                }
                let requested = match payload {
                    [0] => false,
                    [1] => true,
                    _ => {
                        return Err(self.fatal(
                            Bad {
                                alert: AlertDescription::DecodeError,
                                msg: "tls: malformed KeyUpdate",
                            },
                            io,
                        ))
                    }
                };
                let (seq, s) = self.kernel.update_rx().map_err(super::session::tls_error)?;
                self.rx = Keys::new(seq, s, true)?.0;
                if requested && !self.closed_sent {
                    self.send_key_update(io)?;
                }
                Ok(())
            }
            NEW_SESSION_TICKET if tls13 => match &mut self.kernel {
                Kernel::Client(k) => k
                    .handle_new_session_ticket(payload)
                    .map_err(super::session::tls_error),
                Kernel::Server(_) => {
                    Err(self.fatal(unexpected("tls: NewSessionTicket sent by a client"), io))
                }
            },
            HELLO_REQUEST if !tls13 && matches!(self.kernel, Kernel::Client(_)) => {
                // Renegotiation is not supported: say so, and go on.
                self.send_alert(1, AlertDescription::NoRenegotiation, io)
            }
            _ => Err(self.fatal(
                unexpected("tls: unexpected handshake message after the handshake"),
                io,
            )),
        }
    }

    /// Sends KeyUpdate(update_not_requested) under the current keys, then
    /// moves to the next sending keys.
    fn send_key_update(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        self.seal_record(
            HANDSHAKE,
            5,
            |b| b.copy_from_slice(&[KEY_UPDATE, 0, 0, 1, 0]),
            io,
        )?;
        let (seq, s) = self.kernel.update_tx().map_err(super::session::tls_error)?;
        self.tx.borrow_mut().keys = Keys::new(seq, s, true)?.0;
        Ok(())
    }

    /// Sends an alert record.
    fn send_alert(
        &mut self,
        level: u8,
        desc: AlertDescription,
        io: &mut LayerIo<'_>,
    ) -> io::Result<()> {
        let d = u8::from(desc);
        self.seal_record(ALERT, 2, |b| b.copy_from_slice(&[level, d]), io)
    }

    /// Sends the fatal alert for `b` (once) and returns its error.
    fn fatal(&mut self, b: Bad, io: &mut LayerIo<'_>) -> io::Error {
        if !self.failed && !self.closed_sent {
            let _ = self.send_alert(2, b.alert, io);
        }
        self.failed = true;
        io::Error::new(io::ErrorKind::InvalidData, b.msg)
    }

    /// Seals one record of `typ` whose `n` plaintext bytes `fill` writes in
    /// place, straight into the send buffers below.
    fn seal_record(
        &mut self,
        typ: u8,
        n: usize,
        fill: impl FnOnce(&mut [u8]),
        io: &mut LayerIo<'_>,
    ) -> io::Result<()> {
        debug_assert!(n <= MAX_PLAINTEXT);
        // What was gathered this round goes first.
        self.flush(io)?;
        let proto = self.proto;
        let tx = &mut self.tx.borrow_mut().keys;
        let mut r = Ok(());
        io.send_with(record::sealed_len(proto, n), |rec| {
            let at = record::plain_at(proto);
            fill(&mut rec[at..at + n]);
            r = record::seal(tx, proto, typ, rec);
        })?;
        r.map_err(|b| io::Error::other(b.msg))
    }

    /// Seals the record gathered so far (if any) and sends it down now.
    pub(crate) fn flush(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        let sealed = self.tx.borrow_mut().seal_open();
        match sealed {
            Ok(Some(rec)) => io.send_owned(OutBuf::Lease(Lease::from_vec(rec))),
            Ok(None) => Ok(()),
            Err(b) => {
                self.failed = true;
                Err(io::Error::other(b.msg))
            }
        }
    }

    /// Appends application data to the round's open record (opening one,
    /// and registering it to be sealed before the round's sends); a record
    /// that would pass 16 KiB is sealed and sent first.
    fn gather(
        &mut self,
        n: usize,
        fill: impl FnOnce(&mut [u8]),
        io: &mut LayerIo<'_>,
    ) -> io::Result<()> {
        if n > self.tx.borrow().room() {
            self.flush(io)?;
        }
        let mut tx = self.tx.borrow_mut();
        let appended = tx.append(n, fill);
        debug_assert!(appended, "a record with room for {n} bytes");
        if !tx.queued {
            tx.queued = true;
            drop(tx);
            crate::runtime::before_send(self.tx.clone());
        }
        Ok(())
    }

    /// Seals application data: checks the session may send and renews
    /// the sending keys before their record limit (TLS 1.3).
    fn seal_data(
        &mut self,
        n: usize,
        fill: impl FnOnce(&mut [u8]),
        io: &mut LayerIo<'_>,
    ) -> io::Result<()> {
        self.check()?;
        if self.closed_sent {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "tls: cannot send after close_notify",
            ));
        }
        let at_limit = {
            let t = self.tx.borrow();
            t.keys.seq >= t.keys.limit
        };
        if at_limit {
            if self.proto != Proto::Tls13 {
                self.failed = true;
                return Err(io::Error::other(
                    "tls: the cipher suite's record limit is reached (TLS 1.2 has no key update)",
                ));
            }
            self.send_key_update(io)?;
        }
        // Gathered into the round's record, unless a layer sits below
        // (then its own buffering decides: seal each write at once).
        let r = if io.at_bottom() {
            self.gather(n, fill, io)
        } else {
            self.seal_record(DATA, n, fill, io)
        };
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Sends `data` as records of at most 16 KiB.
    pub(crate) fn send(&mut self, mut data: &[u8], io: &mut LayerIo<'_>) -> io::Result<()> {
        // First top up the record open this round (a response head before
        // its body), then full records.
        let room = self.tx.borrow().room();
        if room > 0 && room < data.len() {
            let (first, rest) = data.split_at(room);
            self.seal_data(first.len(), |b| b.copy_from_slice(first), io)?;
            data = rest;
        }
        for chunk in data.chunks(MAX_PLAINTEXT) {
            self.seal_data(chunk.len(), |b| b.copy_from_slice(chunk), io)?;
        }
        Ok(())
    }

    /// Sends `n` plaintext bytes that `fill` writes in place: into the
    /// record being built when they fit one record; else staged in a
    /// pooled buffer and cut into records.
    pub(crate) fn send_with(
        &mut self,
        n: usize,
        fill: impl FnOnce(&mut [u8]),
        io: &mut LayerIo<'_>,
    ) -> io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        if n <= MAX_PLAINTEXT {
            return self.seal_data(n, fill, io);
        }
        crate::conn::staged(n, fill, |b| self.send(b, io))
    }

    /// Sends close_notify (once; nothing after a failure).
    pub(crate) fn shutdown(&mut self, io: &mut LayerIo<'_>) -> io::Result<()> {
        if self.failed || self.closed_sent {
            return Ok(());
        }
        // (send_alert seals the open record first.)
        self.send_alert(1, AlertDescription::CloseNotify, io)?;
        self.closed_sent = true;
        Ok(())
    }

    pub(crate) fn end_of_stream(&mut self, _io: &mut LayerIo<'_>) -> io::Result<()> {
        super::layer::log_end(self.peer_closed, !self.cut.is_empty());
        Ok(())
    }
}

fn overflow() -> Bad {
    Bad {
        alert: AlertDescription::RecordOverflow,
        msg: "tls: record larger than the protocol allows",
    }
}

impl Drop for RecordLayer {
    fn drop(&mut self) {
        crate::conn::recycle_heap(std::mem::take(&mut self.cut));
    }
}
