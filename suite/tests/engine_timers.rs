//! Timers: `sleep`, `sleep_until`, `timeout` and `Sleep::reset` never fire
//! early, fire within generous bounds, survive cancellation in bulk, and
//! work inside server handlers on every worker.

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use common::*;
use corering::time::{sleep, sleep_until, timeout};
use corering::{Connection, Runtime};

/// Upper bound for "the timer fired": generous, only catches lost wakeups.
const SLACK: Duration = Duration::from_secs(2);

fn run<T: Send + 'static, F: std::future::Future<Output = T> + 'static>(
    make: impl FnOnce() -> F + Send + 'static,
) -> T {
    within(Duration::from_secs(20), "timer runtime", move || {
        Runtime::new().unwrap().block_on(make())
    })
}

#[track_caller]
fn assert_not_early(took: Duration, want: Duration, what: &str) {
    assert!(
        took >= want,
        "{what}: fired after {took:?}, before {want:?}"
    );
    assert!(
        took < want + SLACK,
        "{what}: fired only after {took:?} (wanted {want:?})"
    );
}

#[test]
fn sleep_is_never_early() {
    let results = run(|| async {
        let mut out = Vec::new();
        for ms in [0u64, 1, 2, 3, 5, 10, 25, 50, 100, 250] {
            let d = Duration::from_millis(ms);
            let t0 = Instant::now();
            sleep(d).await;
            out.push((d, t0.elapsed()));
        }
        // Sub-millisecond durations round up, never down.
        for us in [1u64, 300, 999, 1001, 1500] {
            let d = Duration::from_micros(us);
            let t0 = Instant::now();
            sleep(d).await;
            out.push((d, t0.elapsed()));
        }
        out
    });
    for (want, took) in results {
        assert_not_early(took, want, &format!("sleep({want:?})"));
    }
}

#[test]
fn concurrent_sleeps_each_wait_their_own_duration() {
    let results = run(|| async {
        let mut rng = Rng::new(99);
        let handles: Vec<_> = (0..300)
            .map(|_| {
                let d = Duration::from_millis(rng.range(0, 400));
                corering::spawn_local(async move {
                    let t0 = Instant::now();
                    sleep(d).await;
                    (d, t0.elapsed())
                })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await);
        }
        out
    });
    assert_eq!(results.len(), 300);
    for (want, took) in results {
        assert_not_early(took, want, &format!("concurrent sleep({want:?})"));
    }
}

/// Deadlines more than one turn of the wheel away (it has 1024 one-ms
/// slots) share slots with near deadlines; they must not fire with them.
#[test]
fn long_sleeps_do_not_fire_a_wheel_turn_early() {
    let results = run(|| async {
        let durations = [76u64, 1100, 1024, 1025, 2100, 1500, 500];
        let handles: Vec<_> = durations
            .iter()
            .map(|&ms| {
                let d = Duration::from_millis(ms);
                corering::spawn_local(async move {
                    let t0 = Instant::now();
                    sleep(d).await;
                    (d, t0.elapsed())
                })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await);
        }
        out
    });
    for (want, took) in results {
        assert_not_early(took, want, &format!("sleep({want:?})"));
    }
}

#[test]
fn sleep_until_is_never_early() {
    let (want, took) = run(|| async {
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_millis(120);
        sleep_until(deadline).await;
        (Duration::from_millis(120), t0.elapsed())
    });
    assert_not_early(took, want, "sleep_until");
    // A deadline in the past completes at once.
    let took = run(|| async {
        let t0 = Instant::now();
        let past = t0.checked_sub(Duration::from_millis(5)).unwrap_or(t0);
        sleep_until(past).await;
        t0.elapsed()
    });
    assert!(took < SLACK);
}

#[test]
fn timeout_elapses_not_early_and_passes_results_through() {
    let (r1, t1, r2, r3, t3) = run(|| async {
        let t0 = Instant::now();
        let r1 = timeout(Duration::from_millis(50), sleep(Duration::from_secs(10))).await;
        let t1 = t0.elapsed();
        let r2 = timeout(Duration::from_secs(1), async { 7 }).await;
        let t0 = Instant::now();
        let r3 = timeout(Duration::from_secs(5), async {
            sleep(Duration::from_millis(20)).await;
            "inner"
        })
        .await;
        (r1.is_err(), t1, r2, r3, t0.elapsed())
    });
    assert!(r1, "a 10 s sleep under a 50 ms timeout must time out");
    assert_not_early(t1, Duration::from_millis(50), "timeout(50ms)");
    assert_eq!(r2, Ok(7));
    assert_eq!(r3, Ok("inner"));
    assert_not_early(t3, Duration::from_millis(20), "inner sleep");
    let kind = run(|| async {
        let e = timeout(Duration::ZERO, std::future::pending::<()>())
            .await
            .expect_err("a zero timeout around a pending future elapses");
        std::io::Error::from(e).kind()
    });
    assert_eq!(kind, std::io::ErrorKind::TimedOut);
}

#[test]
fn sleep_reset_moves_the_deadline() {
    let (took_earlier, took_later, elapsed_flag) = run(|| async {
        let t0 = Instant::now();
        let mut s = sleep(Duration::from_secs(10));
        // Register it with the wheel, then move the deadline closer.
        let _ = timeout(Duration::from_millis(5), &mut s).await;
        s.reset(Duration::from_millis(40));
        (&mut s).await;
        let took_earlier = t0.elapsed();
        let flag = s.is_elapsed();
        let t0 = Instant::now();
        s.reset(Duration::from_millis(60));
        assert!(!s.is_elapsed(), "reset clears the elapsed flag");
        (&mut s).await;
        (took_earlier, t0.elapsed(), flag)
    });
    assert_not_early(
        took_earlier,
        Duration::from_millis(45),
        "reset to 40 ms after 5 ms",
    );
    assert_not_early(
        took_later,
        Duration::from_millis(60),
        "reset after completion",
    );
    assert!(elapsed_flag);
}

/// Thousands of sleeps cancelled before their deadline (dropped by a
/// shorter timeout) leave the wheel working; the runtime still returns.
#[test]
fn cancelled_sleeps_leave_the_wheel_working() {
    let (cancelled, took) = run(|| async {
        let mut cancelled = 0;
        for i in 0..2000u64 {
            let r = timeout(
                Duration::from_millis(i % 3),
                sleep(Duration::from_millis(50 + i % 200)),
            )
            .await;
            if r.is_err() {
                cancelled += 1;
            }
            if i % 500 == 0 {
                // Interleave with sleeps that must complete.
                let t0 = Instant::now();
                sleep(Duration::from_millis(7)).await;
                assert!(t0.elapsed() >= Duration::from_millis(7));
            }
        }
        let t0 = Instant::now();
        sleep(Duration::from_millis(100)).await;
        (cancelled, t0.elapsed())
    });
    assert_eq!(cancelled, 2000);
    assert_not_early(
        took,
        Duration::from_millis(100),
        "sleep after cancellations",
    );
}

/// Timers inside server handlers, on both workers: the handler sleeps the
/// number of milliseconds the client asks for and reports how long it slept.
#[test]
fn timers_in_server_handlers() {
    let server = builder()
        .accept_mode(corering::AcceptMode::Acceptor)
        .build()
        .unwrap()
        .start(|mut conn: Connection| async move {
            let Ok(Some(req)) = conn.read().await else {
                return;
            };
            let ms: u64 = std::str::from_utf8(&req).unwrap().trim().parse().unwrap();
            drop(req);
            let t0 = Instant::now();
            sleep(Duration::from_millis(ms)).await;
            let reply = format!("{} {}", corering::worker_index(), t0.elapsed().as_micros());
            let _ = conn.write_all(reply.as_bytes()).await;
            let _ = conn.close().await;
        })
        .unwrap();
    let addr = tcp_addr(&server);
    let results = within(Duration::from_secs(20), "clients", move || {
        use std::io::Write;
        let clients: Vec<_> = (0..16u64)
            .map(|i| {
                std::thread::spawn(move || {
                    let ms = 10 + i * 23;
                    let t0 = Instant::now();
                    let mut s = connect(addr);
                    s.write_all(ms.to_string().as_bytes()).unwrap();
                    let reply = String::from_utf8(read_all(&mut s).unwrap()).unwrap();
                    (ms, reply, t0.elapsed())
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().unwrap())
            .collect::<Vec<_>>()
    });
    let mut workers = std::collections::HashSet::new();
    for (ms, reply, client_took) in results {
        let want = Duration::from_millis(ms);
        let mut parts = reply.split(' ');
        workers.insert(parts.next().unwrap().to_string());
        let slept = Duration::from_micros(parts.next().unwrap().parse().unwrap());
        assert_not_early(slept, want, &format!("handler sleep({want:?})"));
        assert!(
            client_took >= want,
            "client saw the reply after {client_took:?} < {want:?}"
        );
    }
    assert_eq!(workers.len(), 2, "both workers ran timers");
    server.shutdown().unwrap();
}

/// A timer moved earlier is re-armed in place, so nothing stale stays in the
/// kernel: dropping a long sleep does not hold up the runtime's teardown
/// (which waits until the kernel holds no operation of ours).
#[test]
fn dropped_long_timer_does_not_hold_up_teardown() {
    let t0 = Instant::now();
    run(|| async {
        let mut long = std::pin::pin!(sleep(Duration::from_secs(30)));
        std::future::poll_fn(|cx| {
            assert!(long.as_mut().poll(cx).is_pending());
            std::task::Poll::Ready(())
        })
        .await;
        // Once this fires, the worker's one kernel timeout is armed for the
        // 30 s sleep; the next sleep moves it earlier.
        sleep(Duration::from_millis(1)).await;
        sleep(Duration::from_millis(2)).await;
        // `long` is dropped unfired here.
    });
    let took = t0.elapsed();
    // With a stale timeout in the kernel, teardown waits ~300 ms before it
    // cancels what is left; without one it takes a few milliseconds.
    assert!(took < Duration::from_millis(200), "block_on took {took:?}");
}
