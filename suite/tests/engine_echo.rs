//! Echo round trips through a real server: both accept modes, Unix sockets,
//! IPv6 loopback, and the different write paths.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use corering::{AcceptMode, Address, Connection};

/// Echoes through `conns` connections and returns the set of workers that
/// served them (each handler reports its worker index first).
fn echo_and_collect_workers(mode: AcceptMode, conns: usize) -> HashSet<usize> {
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let seen2 = seen.clone();
    let server = builder()
        .accept_mode(mode)
        .build()
        .unwrap()
        .start(move |conn: Connection| {
            seen2.lock().unwrap().insert(corering::worker_index());
            echo(conn)
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(20), "echo round trips", move || {
        for i in 0..conns {
            let data = random_bytes(i as u64, 1000 + i * 997);
            check_echo_tcp(addr, &data);
        }
    });
    server.shutdown().unwrap();
    let s = seen.lock().unwrap().clone();
    s
}

#[test]
fn echo_reuseport_two_workers() {
    // The kernel spreads connections over the SO_REUSEPORT group by a hash
    // of the 4-tuple; 32 connections all landing on one of two workers has
    // probability 2^-31.
    let workers = echo_and_collect_workers(AcceptMode::ReusePort, 32);
    assert_eq!(workers, HashSet::from([0, 1]), "both workers should accept");
}

#[test]
fn echo_acceptor_two_workers() {
    // The acceptor hands connections out round-robin.
    let workers = echo_and_collect_workers(AcceptMode::Acceptor, 4);
    assert_eq!(workers, HashSet::from([0, 1]), "both workers should serve");
}

#[test]
fn echo_copy_handler_large_message() {
    let server = builder().build().unwrap().start(echo_copy).unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(20), "large echo", move || {
        let data = random_bytes(7, 8 << 20);
        check_echo_tcp(addr, &data);
    });
    server.shutdown().unwrap();
}

fn unix_echo(zero_copy_disabled: bool) {
    for mode in [AcceptMode::ReusePort, AcceptMode::Acceptor] {
        let path = unix_path("echo");
        let mut b = corering::Server::builder()
            .bind_unix(&path)
            .workers(2)
            .pin_workers(false)
            .accept_mode(mode);
        if zero_copy_disabled {
            b = b.zero_copy_threshold(None);
        }
        let server = start_echo(b);
        assert_eq!(server.local_addrs(), &[Address::Unix(Some(path.clone()))]);
        assert!(server.tcp_addr().is_none());
        let p = path.clone();
        within(Duration::from_secs(20), "unix echo", move || {
            for i in 0..8 {
                check_echo_unix(&p, &random_bytes(100 + i, 300_000));
            }
        });
        server.shutdown().unwrap();
        assert!(
            !path.exists(),
            "socket file is removed at shutdown ({mode:?})"
        );
    }
}

/// Default settings: once 64 KiB or more are queued, the send path uses
/// `sendmsg_zc`, which AF_UNIX sockets reject with EOPNOTSUPP.
#[test]
fn echo_unix_socket() {
    unix_echo(false);
}

#[test]
fn echo_unix_socket_zero_copy_disabled() {
    unix_echo(true);
}

/// Small messages never reach the zero-copy threshold.
#[test]
fn echo_unix_socket_small_messages() {
    let path = unix_path("small");
    let server = start_echo(
        corering::Server::builder()
            .bind_unix(&path)
            .workers(2)
            .pin_workers(false),
    );
    let p = path.clone();
    within(Duration::from_secs(20), "unix ping-pong", move || {
        use std::io::{Read, Write};
        let mut s = std::os::unix::net::UnixStream::connect(&p).unwrap();
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut buf = [0u8; 64];
        for i in 0..500u32 {
            let msg = format!("ping {i}");
            s.write_all(msg.as_bytes()).unwrap();
            let mut got = 0;
            while got < msg.len() {
                let n = s.read(&mut buf[got..]).unwrap();
                assert!(n > 0, "EOF in the middle of exchange {i}");
                got += n;
            }
            assert_eq!(&buf[..got], msg.as_bytes());
        }
    });
    server.shutdown().unwrap();
}

#[test]
fn echo_tcp_and_unix_on_one_server() {
    let path = unix_path("both");
    // Zero copy off: see `echo_unix_socket`.
    let server = start_echo(builder().bind_unix(&path).zero_copy_threshold(None));
    let addr = tcp_addr(&server);
    assert_eq!(server.local_addrs().len(), 2);
    let p = path.clone();
    within(Duration::from_secs(20), "mixed echo", move || {
        check_echo_tcp(addr, &random_bytes(1, 100_000));
        check_echo_unix(&p, &random_bytes(2, 100_000));
    });
    server.shutdown().unwrap();
}

#[test]
fn echo_unix_replaces_stale_socket_file() {
    let path = unix_path("stale");
    // A socket file whose listener is gone, as a crashed server leaves it.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let server = start_echo(
        corering::Server::builder()
            .bind_unix(&path)
            .workers(1)
            .pin_workers(false),
    );
    let p = path.clone();
    within(Duration::from_secs(10), "echo", move || {
        check_echo_unix(&p, b"after a stale file")
    });
    server.shutdown().unwrap();
}

#[test]
fn echo_ipv6_loopback() {
    if !ipv6_loopback_available() {
        eprintln!("skipping: cannot listen on [::1] here");
        return;
    }
    for mode in [AcceptMode::ReusePort, AcceptMode::Acceptor] {
        let server = match corering::Server::builder()
            .bind("[::1]:0")
            .workers(2)
            .pin_workers(false)
            .accept_mode(mode)
            .build()
        {
            Ok(s) => s.start(echo).unwrap(),
            Err(e) => {
                eprintln!("skipping: corering cannot bind [::1]: {e}");
                return;
            }
        };
        let addr = tcp_addr(&server);
        assert!(addr.is_ipv6(), "{addr}");
        within(Duration::from_secs(20), "ipv6 echo", move || {
            for i in 0..4 {
                check_echo_tcp(addr, &random_bytes(50 + i, 200_000));
            }
        });
        server.shutdown().unwrap();
    }
}

/// Replies to each message with a framed answer built from several writes:
/// `write_all`, `write_all_vectored`, `write_owned` of a Vec and of static
/// bytes, in a fixed order the client checks.
#[test]
fn echo_mixed_write_paths_keep_order() {
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let mut n = 0u32;
            while let Ok(Some(buf)) = conn.read().await {
                for &b in buf.iter() {
                    n += 1;
                    let head = format!("<{n}:");
                    let r = async {
                        conn.write_all(head.as_bytes()).await?;
                        conn.write_all_vectored(&[&[b], b"|", &[b]]).await?;
                        conn.write_owned(vec![b'#'; (n % 7) as usize]).await?;
                        conn.write_owned(&b">"[..]).await
                    }
                    .await;
                    if r.is_err() {
                        return;
                    }
                }
            }
            let _ = conn.close().await;
        })
        .unwrap();
    let addr = tcp_addr(&server);
    let input: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut want = Vec::new();
    for (i, &b) in input.iter().enumerate() {
        let n = i as u32 + 1;
        want.extend_from_slice(format!("<{n}:").as_bytes());
        want.extend_from_slice(&[b, b'|', b]);
        want.extend(std::iter::repeat_n(b'#', (n % 7) as usize));
        want.push(b'>');
    }
    let got = within(Duration::from_secs(20), "mixed writes", move || {
        echo_through(connect(addr), input, 333).unwrap()
    });
    assert_bytes_eq(&got, &want, "framed replies");
    server.shutdown().unwrap();
}

/// Many short request/response exchanges on one connection (latency path:
/// one small write, wait for the answer, repeat).
#[test]
fn echo_ping_pong() {
    let server = start_echo(builder());
    let addr = tcp_addr(&server);
    within(Duration::from_secs(20), "ping-pong", move || {
        use std::io::{Read, Write};
        let mut s = connect(addr);
        let mut buf = [0u8; 64];
        for i in 0..2000u32 {
            let msg = format!("ping {i}");
            s.write_all(msg.as_bytes()).unwrap();
            let mut got = 0;
            while got < msg.len() {
                let n = s.read(&mut buf[got..]).unwrap();
                assert!(n > 0, "EOF in the middle of exchange {i}");
                got += n;
            }
            assert_eq!(&buf[..got], msg.as_bytes());
        }
    });
    server.shutdown().unwrap();
}

#[test]
fn server_reports_addresses() {
    let server = start_echo(builder());
    let addr = tcp_addr(&server);
    assert_eq!(addr.ip(), std::net::Ipv4Addr::LOCALHOST);
    assert_ne!(addr.port(), 0, "port 0 is replaced by the real port");
    assert_eq!(server.local_addrs(), &[Address::Tcp(addr)]);
    assert_eq!(server.workers(), 2);
    let summary = server.summary();
    assert!(summary.contains(&addr.to_string()), "{summary}");
    server.shutdown().unwrap();
}

/// The handler sees the peer and local addresses the client sees, swapped.
#[test]
fn connection_addresses_match_client_view() {
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let line = format!(
                "{} {}\n",
                conn.peer_addr().unwrap(),
                conn.local_addr().unwrap()
            );
            let _ = conn.write_all(line.as_bytes()).await;
            let _ = conn.close().await;
        })
        .unwrap();
    let addr = tcp_addr(&server);
    let (line, client_local) = within(Duration::from_secs(10), "addresses", move || {
        let mut s = connect(addr);
        let local = s.local_addr().unwrap();
        (String::from_utf8(read_all(&mut s).unwrap()).unwrap(), local)
    });
    assert_eq!(line, format!("{client_local} {addr}\n"));
    server.shutdown().unwrap();
}

/// Starting a server must not leave io_uring task work aimed at the
/// caller's thread: the kernel delivers it like a signal, and a blocking
/// socket read with a timeout on that thread would fail with `EINTR`.
#[test]
fn starting_a_server_does_not_interrupt_the_callers_blocking_io() {
    use std::io::{ErrorKind, Read};
    for _ in 0..4 {
        let server = start_echo(builder());
        let mut s = connect(tcp_addr(&server));
        s.set_read_timeout(Some(Duration::from_millis(250)))
            .unwrap();
        let mut buf = [0u8; 16];
        // Nothing was sent, so nothing comes back: the read must time out.
        let err = s.read(&mut buf).expect_err("no data expected");
        assert!(
            matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "a quiet read should time out, got {err:?}"
        );
        drop(s);
        server.shutdown().unwrap();
    }
}
