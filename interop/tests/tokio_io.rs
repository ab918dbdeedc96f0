//! tokio's io helpers (code nobody here wrote) over `corering::IoStream`'s
//! tokio traits (feature `tokio-io`), with no tokio runtime: `copy` between
//! the halves of `tokio::io::split` echoing a mebibyte over a layered
//! connection, `read_line` (in place, through `AsyncBufRead`), and
//! `shutdown` as a half-close.

use corering::{Connection, IoStream};
use corering_interop::{builder, connect, echo_xor, random_bytes, send_in_two, start, XorStack};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

#[test]
fn tokio_copy_echoes_a_mebibyte_over_a_layered_connection() {
    let server = start(
        builder().middleware(XorStack),
        |conn: Connection| async move {
            let io = IoStream::new(conn);
            let (mut rd, mut wr) = tokio::io::split(io);
            if tokio::io::copy(&mut rd, &mut wr).await.is_ok() {
                let _ = wr.shutdown().await;
            }
        },
    );
    let s = connect(server.tcp_addr().unwrap());
    let data = random_bytes(5, 1 << 20);
    let got = echo_xor(s, &data);
    assert_eq!(got.len(), data.len());
    assert!(got == data, "echo differs");
    server.shutdown().unwrap();
}

#[test]
fn tokio_read_line_reads_in_place_and_shutdown_half_closes() {
    let server = start(builder(), |conn: Connection| async move {
        let mut io = IoStream::new(conn);
        let mut line = String::new();
        let mut out = String::new();
        while let Ok(n) = io.read_line(&mut line).await {
            if n == 0 {
                break;
            }
            out.push_str(&format!("[{}]", line.trim_end()));
            line.clear();
        }
        let _ = io.write_all(out.as_bytes()).await;
        let _ = io.shutdown().await;
    });
    let s = connect(server.tcp_addr().unwrap());
    let got = send_in_two(s, b"one\ntw", b"o\nthree");
    assert_eq!(got, "[one][two][three]");
    server.shutdown().unwrap();
}
