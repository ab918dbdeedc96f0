//! The handshake driver: runs rustls over a connection's plain reads and
//! writes until the session is established, then puts the TLS layer on the
//! connection and its [`TlsInfo`] in the connection's features.
//!
//! The layer is our own record layer when the configuration has
//! `enable_secret_extraction` (rustls hands the traffic secrets over with
//! `dangerous_into_kernel_connection`), else rustls' unbuffered API goes
//! on carrying the session.

use std::io;
use std::time::Duration;

use super::info::{TlsInfo, TlsMode};
use super::layer::{RustlsLayer, TlsLayer};
use super::record_layer::{Kernel, RecordLayer};
use super::session::{tls_error, Session, Sink};
use crate::conn::LayerKind;
use crate::{Connection, Lease};

/// Handshake output, gathered per flight and written in one go.
struct Flight<'a>(&'a mut Vec<u8>);

impl Sink for Flight<'_> {
    fn put(&mut self, n: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()> {
        let at = self.0.len();
        self.0.resize(at + n, 0);
        fill(&mut self.0[at..]);
        Ok(())
    }
}

/// Runs the handshake of `sess` on `conn` within `timeout`; on success the
/// connection reads and writes plaintext from then on. `server_name` is
/// what a client verified (a server learns the client's SNI through
/// `sni`, which is called after each step). `extract`: the session's
/// configuration allows secret extraction (our record layer takes over).
pub(crate) async fn run(
    conn: &mut Connection,
    sess: Session,
    timeout: Duration,
    server_name: Option<String>,
    sni: impl FnMut() -> Option<String>,
    extract: bool,
) -> io::Result<()> {
    match crate::time::timeout(timeout, drive(conn, sess, server_name, sni, extract)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("tls: handshake not done within {timeout:?}"),
        )),
    }
}

async fn drive(
    conn: &mut Connection,
    mut sess: Session,
    mut server_name: Option<String>,
    mut sni: impl FnMut() -> Option<String>,
    extract: bool,
) -> io::Result<()> {
    let mut input: Vec<u8> = Vec::new();
    let mut out: Vec<u8> = Vec::new();
    // How much of `input` rustls sees. For our record layer it is shown
    // one whole record more at a time, so it stops where the handshake
    // ends: what follows (application data, a KeyUpdate) is left for the
    // record layer, not half-handled by rustls (a KeyUpdate answer rustls
    // queues would be lost when it hands the session over).
    let mut shown = 0;
    loop {
        shown = if extract {
            next_record_end(&input, shown)
        } else {
            input.len()
        };
        let step = sess.process(&mut input[..shown], &mut Flight(&mut out));
        if server_name.is_none() {
            server_name = sni();
        }
        if !out.is_empty() {
            // On failure this is rustls' alert, which the peer should see.
            let sent = conn.write_all(&out).await;
            out.clear();
            if step.is_ok() {
                sent?;
            } else {
                let _ = conn.flush().await;
            }
        }
        let p = step?;
        if !sess.is_handshaking() {
            let info = info(&sess, server_name);
            let first = (p.plain > 0).then(|| {
                let mut v = Lease::heap_buffer(p.plain);
                v.extend_from_slice(&input[..p.plain]);
                Lease::from_vec(v)
            });
            let rest = &input[p.consumed..];
            if !extract {
                let layer = RustlsLayer::new(sess, rest, p.peer_closed);
                conn.features_mut().insert(info);
                conn.push_layer_first(LayerKind::Tls(TlsLayer::Rustls(layer)), first);
                return Ok(());
            }
            let (secrets, kernel) = match sess {
                Session::Server(s) => s
                    .dangerous_into_kernel_connection()
                    .map(|(x, k)| (x, Kernel::Server(k))),
                Session::Client(c) => c
                    .dangerous_into_kernel_connection()
                    .map(|(x, k)| (x, Kernel::Client(k))),
            }
            .map_err(tls_error)?;
            // kTLS install: with Ktls::Auto/Require and a kernel that has the
            // tls ULP, this is where `secrets` would go to the kernel
            // (setsockopt TCP_ULP "tls", then SOL_TLS TLS_TX / TLS_RX with
            // tls12_crypto_info_* filled from the same key, IV (salt) and
            // sequence numbers `RecordLayer::new` takes), keeping `kernel`
            // for key updates and session tickets; `rest` (records already
            // read from the socket) would still be opened here first.
            let layer = RecordLayer::new(secrets, kernel, p.peer_closed, conn.slot())?;
            conn.features_mut().insert(info);
            conn.push_layer_first(LayerKind::Tls(TlsLayer::Records(Box::new(layer))), first);
            if !rest.is_empty() {
                // Records that came with the handshake's last flight.
                let mut v = Lease::heap_buffer(rest.len());
                v.extend_from_slice(rest);
                conn.layer_received(Lease::from_vec(v))?;
            }
            return Ok(());
        }
        input.drain(..p.consumed);
        shown -= p.consumed;
        if extract && next_record_end(&input, shown) > shown {
            continue;
        }
        match conn.read().await? {
            Some(lease) => input.extend_from_slice(&lease),
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "tls: peer closed the connection during the handshake",
                ))
            }
        }
    }
}

/// The end of the whole record starting at `from` in `buf`, or `from` if
/// no whole record starts there (yet); the end of `buf` if what starts
/// there is no TLS record at all.
fn next_record_end(buf: &[u8], from: usize) -> usize {
    let r = &buf[from..];
    if r.len() < 5 {
        return from;
    }
    let len = u16::from_be_bytes([r[3], r[4]]) as usize;
    if !(20..=24).contains(&r[0]) || r[1] != 3 || len > (16 << 10) + 2048 {
        // Not a TLS record (plain HTTP on a TLS port, garbage): show
        // rustls everything now, for its alert and error, rather than wait
        // for a "record" the bytes only seem to announce.
        return buf.len();
    }
    let end = 5 + len;
    if end <= r.len() {
        from + end
    } else {
        from
    }
}

fn info(sess: &Session, server_name: Option<String>) -> TlsInfo {
    let c = sess.common();
    TlsInfo {
        server_name,
        alpn: c.alpn_protocol().map(<[u8]>::to_vec),
        version: c
            .protocol_version()
            .unwrap_or(rustls::ProtocolVersion::Unknown(0)),
        cipher_suite: c
            .negotiated_cipher_suite()
            .map_or(rustls::CipherSuite::Unknown(0), |s| s.suite()),
        peer_certificates: c.peer_certificates().map(<[_]>::to_vec).unwrap_or_default(),
        mode: TlsMode::Userspace,
    }
}
