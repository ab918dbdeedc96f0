//! Cross-worker calls (`call_on`): the closure runs on the target worker's
//! thread, results come back, per-worker state stays consistent, and bad
//! targets fail cleanly.

mod common;

use std::cell::Cell;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use corering::time::{sleep, timeout};
use corering::{call_on, AcceptMode, Connection, Runtime};

thread_local! {
    static COUNTER: Cell<u64> = const { Cell::new(0) };
}

/// Where a closure ran: worker index and thread name.
fn here() -> (usize, String) {
    (
        corering::worker_index(),
        std::thread::current().name().unwrap_or("?").to_string(),
    )
}

#[test]
fn call_on_runs_on_the_target_worker() {
    type Seen = (usize, usize, usize, String, usize, String);
    let (tx, rx) = mpsc::channel::<Seen>();
    let tx = Arc::new(Mutex::new(tx));
    let server = builder()
        .accept_mode(AcceptMode::Acceptor)
        .build()
        .unwrap()
        .start(move |mut conn: Connection| {
            let tx = tx.clone();
            async move {
                let me = corering::worker_index();
                let n = corering::worker_count();
                let other = (me + 1) % n;
                let (at, thread) = call_on(other, || async { here() }).await.expect("call_on");
                let (self_at, self_thread) = call_on(me, || async { here() })
                    .await
                    .expect("call_on self");
                let _ = tx
                    .lock()
                    .unwrap()
                    .send((me, n, at, thread, self_at, self_thread));
                let _ = conn.write_all(b"done").await;
                let _ = conn.close().await;
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);
    within(Duration::from_secs(10), "clients", move || {
        for _ in 0..6 {
            let mut s = connect(addr);
            assert_eq!(read_all(&mut s).unwrap(), b"done");
        }
    });
    server.shutdown().unwrap();
    let seen: Vec<Seen> = rx.try_iter().collect();
    assert_eq!(seen.len(), 6);
    let mut callers = std::collections::HashSet::new();
    for (me, n, at, thread, self_at, self_thread) in seen {
        assert_eq!(n, 2, "worker_count");
        let other = (me + 1) % n;
        assert_eq!(at, other, "worker_index() inside the call");
        assert_eq!(thread, format!("corering-w{other}"), "thread of the call");
        assert_eq!(self_at, me, "a call to the current worker runs there");
        assert_eq!(self_thread, format!("corering-w{me}"));
        callers.insert(me);
    }
    assert_eq!(
        callers.len(),
        2,
        "both workers made calls (acceptor round-robin)"
    );
}

/// Per-worker counters updated only through `call_on` from many
/// connections at once: no update is lost or applied twice.
#[test]
fn sharded_counters_stay_consistent() {
    const CONNS: usize = 20;
    const CALLS: u64 = 200;
    let server = builder()
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let Ok(Some(cmd)) = conn.read().await else {
                return;
            };
            let n = corering::worker_count();
            let reply = if &cmd[..] == b"inc" {
                drop(cmd);
                for k in 0..CALLS {
                    let target = (k as usize) % n;
                    let r = call_on(target, || async {
                        let v = COUNTER.with(|c| c.get());
                        COUNTER.with(|c| c.set(v + 1));
                        v + 1
                    })
                    .await;
                    if r.is_err() {
                        return;
                    }
                }
                "ok".to_string()
            } else {
                drop(cmd);
                let mut counts = Vec::new();
                for w in 0..n {
                    counts.push(
                        call_on(w, || async { COUNTER.with(|c| c.get()) })
                            .await
                            .unwrap(),
                    );
                }
                format!("{counts:?}")
            };
            let _ = conn.write_all(reply.as_bytes()).await;
            let _ = conn.close().await;
        })
        .unwrap();
    let addr = tcp_addr(&server);
    let counts = within(Duration::from_secs(20), "clients", move || {
        use std::io::Write;
        let clients: Vec<_> = (0..CONNS)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut s = connect(addr);
                    s.write_all(b"inc").unwrap();
                    assert_eq!(read_all(&mut s).unwrap(), b"ok");
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        let mut s = connect(addr);
        s.write_all(b"get").unwrap();
        String::from_utf8(read_all(&mut s).unwrap()).unwrap()
    });
    let per_worker = CONNS as u64 * CALLS / 2;
    assert_eq!(counts, format!("[{per_worker}, {per_worker}]"));
    server.shutdown().unwrap();
}

/// Calls whose futures wait on the target's timers, many at once, from a
/// task spawned on the caller.
#[test]
fn concurrent_calls_with_timers_on_the_target() {
    let (tx, rx) = mpsc::channel::<Result<Vec<(usize, u64)>, String>>();
    let tx = Arc::new(Mutex::new(tx));
    let server = builder()
        .build()
        .unwrap()
        .start(move |conn: Connection| {
            let tx = tx.clone();
            async move {
                let me = corering::worker_index();
                let other = (me + 1) % corering::worker_count();
                let handles: Vec<_> = (0..100u64)
                    .map(|i| {
                        corering::spawn_local(call_on(other, move || async move {
                            let t0 = Instant::now();
                            sleep(Duration::from_millis(i % 20)).await;
                            assert!(t0.elapsed() >= Duration::from_millis(i % 20));
                            (corering::worker_index(), i * i)
                        }))
                    })
                    .collect();
                let mut out = Vec::new();
                for h in handles {
                    match h.await {
                        Ok(v) => out.push(v),
                        Err(e) => {
                            let _ = tx.lock().unwrap().send(Err(e.to_string()));
                            return;
                        }
                    }
                }
                let _ = tx
                    .lock()
                    .unwrap()
                    .send(Ok(out.into_iter().map(|(w, v)| (w ^ other, v)).collect()));
                drop(conn);
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);
    let s = connect(addr);
    let res = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("handler finished");
    let out = res.expect("calls");
    // `w ^ other` is 0 when the call ran on the target.
    let want: Vec<(usize, u64)> = (0..100u64).map(|i| (0, i * i)).collect();
    assert_eq!(out, want);
    drop(s);
    server.shutdown().unwrap();
}

#[test]
fn call_on_missing_worker_is_an_error() {
    let msg = within(Duration::from_secs(10), "runtime", || {
        Runtime::new().unwrap().block_on(async {
            assert_eq!(corering::worker_count(), 1);
            assert_eq!(corering::worker_index(), 0);
            // The only worker, i.e. this one.
            let v = call_on(0, || async { corering::worker_index() + 41 })
                .await
                .unwrap();
            assert_eq!(v, 41);
            let e = call_on(7, || async { 0 }).await.expect_err("no worker 7");
            e.to_string()
        })
    });
    assert!(msg.contains("no worker 7"), "{msg}");
}

/// A call to a worker that has already exited (the other worker of a
/// server that is shutting down) reports an error instead of hanging.
#[test]
fn call_on_exited_worker_fails() {
    let (tx, rx) = mpsc::channel::<String>();
    let tx = Arc::new(Mutex::new(tx));
    let server = builder()
        .shutdown_timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .start(move |conn: Connection| {
            let tx = tx.clone();
            async move {
                let other = (corering::worker_index() + 1) % corering::worker_count();
                corering::shutdown_requested().await;
                // The other worker has no connections: it exits at once.
                sleep(Duration::from_millis(500)).await;
                let r = timeout(Duration::from_secs(3), call_on(other, || async { 1 })).await;
                let out = match r {
                    Ok(Ok(_)) => "answered".to_string(),
                    Ok(Err(e)) => format!("error: {e}"),
                    Err(_) => "hung".to_string(),
                };
                let _ = tx.lock().unwrap().send(out);
                drop(conn);
            }
        })
        .unwrap();
    let addr = tcp_addr(&server);
    let s = connect(addr);
    // Let the handler start waiting for shutdown.
    std::thread::sleep(Duration::from_millis(100));
    let h = server.shutdown_handle();
    h.shutdown();
    let out = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("handler reported");
    drop(s);
    within(Duration::from_secs(10), "wait", move || server.wait()).unwrap();
    assert!(
        out.starts_with("error: worker"),
        "call to an exited worker: {out}"
    );
}
