//! futures-util's io helpers (code nobody here wrote) over corering
//! connections through `corering::IoStream`: `io::copy` echo, line reading
//! through `AsyncBufRead`, the same over a layered connection, and handing
//! the connection back with its unread bytes. The clients are std sockets
//! on loopback.

use std::io::{Read, Write};
use std::net::Shutdown;

use corering::{Connection, IoStream};
use corering_interop::{
    builder, connect, echo_plain, echo_xor, random_bytes, send_in_two, start, XorStack, XorStream,
    IO_TIMEOUT,
};
use futures_util::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// Echo with `futures_util::io::copy` between the two halves of the
/// stream, then a half-close (`poll_close`).
async fn copy_echo(conn: Connection) {
    let (mut rd, mut wr) = IoStream::new(conn).split();
    if futures_util::io::copy(&mut rd, &mut wr).await.is_ok() {
        let _ = wr.close().await;
    }
}

#[test]
fn futures_io_copy_echoes_one_mebibyte_exactly() {
    let server = start(builder(), copy_echo);
    let s = connect(server.tcp_addr().unwrap());
    let data = random_bytes(1, 1 << 20);
    let got = echo_plain(s, &data);
    assert_eq!(got.len(), data.len());
    assert!(got == data, "echo differs");
    server.shutdown().unwrap();
}

#[test]
fn futures_io_copy_runs_over_a_layered_connection() {
    let server = start(builder().middleware(XorStack), copy_echo);
    let s = connect(server.tcp_addr().unwrap());
    let data = random_bytes(2, 1 << 20);
    // The client speaks XOR on the wire; the server's copy loop must have
    // seen plaintext (it echoes what it read, encoded again on the way out).
    let got = echo_xor(s, &data);
    assert!(got == data, "echo through the layer differs");
    server.shutdown().unwrap();
}

#[test]
fn lines_are_read_in_place_through_async_buf_read() {
    // `read_line` uses `poll_fill_buf`/`consume`: the lease's bytes are
    // searched in place.
    let server = start(builder(), |conn: Connection| async move {
        let mut io = IoStream::new(conn);
        let mut line = String::new();
        let mut n = 0;
        loop {
            line.clear();
            match io.read_line(&mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            n += 1;
            let reply = format!("{n}: {}\n", line.trim_end().to_uppercase());
            if io.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = io.close().await;
    });
    let s = connect(server.tcp_addr().unwrap());
    let got = send_in_two(s, b"alpha\nbe", b"ta\ngamma\nno newline at the end");
    assert_eq!(
        got,
        "1: ALPHA\n2: BETA\n3: GAMMA\n4: NO NEWLINE AT THE END\n"
    );
    server.shutdown().unwrap();
}

#[test]
fn into_inner_gives_back_the_connection_and_its_unread_bytes() {
    // One line through the adapter, then back to the native API: the bytes
    // after the line that were already received are handed back as a
    // lease, and the rest of the stream follows on the connection.
    let server = start(
        builder().middleware(XorStack),
        |conn: Connection| async move {
            let mut io = IoStream::new(conn);
            let mut first = String::new();
            if io.read_line(&mut first).await.is_err() {
                return;
            }
            let (mut conn, rest) = io.into_inner();
            let mut out = format!("line {first}");
            // The handed-back bytes, marked.
            if let Some(rest) = rest {
                out.push('<');
                out.push_str(&String::from_utf8_lossy(&rest));
                out.push('>');
            }
            while let Ok(Some(b)) = conn.read().await {
                out.push_str(&String::from_utf8_lossy(&b));
            }
            let _ = conn.write_all(out.as_bytes()).await;
            let _ = conn.shutdown_write().await;
        },
    );
    let s = connect(server.tcp_addr().unwrap());
    let mut x = XorStream(s.try_clone().unwrap());
    // One write: the line and what follows it arrive in the same buffer.
    x.write_all(b"first\nsecond part, ").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    x.write_all(b"third part").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    x.read_to_end(&mut got).unwrap();
    let got = String::from_utf8_lossy(&got);
    // What followed the line in the same buffer came back with the
    // connection (and, if the second write was coalesced, that too).
    assert!(got.starts_with("line first\n<second part, "), "{got}");
    assert_eq!(
        got.replace(['<', '>'], ""),
        "line first\nsecond part, third part"
    );
    server.shutdown().unwrap();
}

#[test]
fn close_half_closes_and_reading_goes_on() {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let server = start(builder(), move |conn: Connection| {
        let tx = tx.clone();
        async move {
            let mut io = IoStream::new(conn);
            let wrote = io.write_all(b"bye").await.is_ok();
            let closed = io.close().await.is_ok();
            let write_after_close = io.write_all(b"more").await.map_err(|e| e.kind());
            // Our side is closed; the peer's is not.
            let mut heard = Vec::new();
            let read = io.read_to_end(&mut heard).await.is_ok();
            let _ = tx.send((wrote, closed, write_after_close, read, heard));
        }
    });
    let mut s = connect(server.tcp_addr().unwrap());
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"bye", "the peer reads end-of-stream after the bytes");
    s.write_all(b"ping").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let (wrote, closed, after, read, heard) = rx.recv_timeout(IO_TIMEOUT).unwrap();
    assert!(wrote && closed && read);
    assert_eq!(after, Err(std::io::ErrorKind::BrokenPipe));
    assert_eq!(heard, b"ping");
    server.shutdown().unwrap();
}
