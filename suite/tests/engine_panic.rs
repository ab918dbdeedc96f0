//! A handler that panics ends only its own connection; the worker and every
//! other connection on it carry on.

use std::io::{Read, Write};
use std::net::TcpStream;

#[test]
fn panicking_handler_closes_only_its_connection() {
    let server = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        .build()
        .unwrap()
        .start(|mut conn| async move {
            while let Ok(Some(buf)) = conn.read().await {
                if buf.starts_with(b"panic") {
                    panic!("handler asked to panic (expected in this test)");
                }
                if conn.write_all(&buf).await.is_err() {
                    break;
                }
            }
        })
        .unwrap();
    let addr = server.tcp_addr().unwrap();

    let mut healthy = TcpStream::connect(addr).unwrap();
    healthy.write_all(b"one").unwrap();
    let mut buf = [0u8; 3];
    healthy.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"one");

    let mut doomed = TcpStream::connect(addr).unwrap();
    doomed.write_all(b"panic").unwrap();
    let mut rest = Vec::new();
    // The server closes the panicking connection: we read EOF.
    doomed.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());

    // The other connection, on the same (only) worker, still works.
    healthy.write_all(b"two").unwrap();
    healthy.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"two");
    // And new connections are still accepted.
    let mut fresh = TcpStream::connect(addr).unwrap();
    fresh.write_all(b"new").unwrap();
    fresh.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"new");
    drop((healthy, fresh));
    server.shutdown().unwrap();
}

#[test]
fn block_on_reraises_a_panic_after_clean_teardown() {
    let rt = corering::Runtime::new().unwrap();
    let r = std::panic::catch_unwind(|| {
        rt.block_on(async {
            corering::time::sleep(std::time::Duration::from_millis(1)).await;
            panic!("inside block_on (expected in this test)");
        })
    });
    assert!(r.is_err());
    // The thread can run another runtime afterwards.
    assert_eq!(rt.block_on(async { 5 }), 5);
}
