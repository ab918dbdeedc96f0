//! The handshake driver: runs rustls over a connection's plain reads and
//! writes until the session is established, then puts the TLS layer on the
//! connection and its [`TlsInfo`] in the connection's features.

use std::io;
use std::time::Duration;

use super::info::{TlsInfo, TlsMode};
use super::layer::TlsLayer;
use super::session::{Session, Sink};
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
/// `sni`, which is called after each step).
pub(crate) async fn run(
    conn: &mut Connection,
    sess: Session,
    timeout: Duration,
    server_name: Option<String>,
    sni: impl FnMut() -> Option<String>,
) -> io::Result<()> {
    match crate::time::timeout(timeout, drive(conn, sess, server_name, sni)).await {
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
) -> io::Result<()> {
    let mut input: Vec<u8> = Vec::new();
    let mut out: Vec<u8> = Vec::new();
    loop {
        let step = sess.process(&mut input, &mut Flight(&mut out));
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
            // kTLS install: with Ktls::Auto/Require and a kernel that has
            // the tls ULP, this is where the session's keys would go to the
            // kernel (rustls' dangerous_into_kernel_connection, then
            // setsockopt(SOL_TLS, TLS_TX/TLS_RX)) instead of pushing the
            // userspace layer.
            let first = (p.plain > 0).then(|| {
                let mut v = Lease::heap_buffer(p.plain);
                v.extend_from_slice(&input[..p.plain]);
                Lease::from_vec(v)
            });
            let layer = TlsLayer::new(sess, &input[p.consumed..], p.peer_closed);
            conn.features_mut().insert(info);
            conn.push_layer_first(LayerKind::Tls(layer), first);
            return Ok(());
        }
        input.drain(..p.consumed);
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
