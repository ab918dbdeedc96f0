//! A WebSocket split into a reader and several writers on the same
//! worker: frames from different tasks never interleave, writers that
//! wait for room in the out-queue all get to go on, and a broadcaster
//! sees how far behind a peer that does not read is.

mod ws_common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use corering::http::{Http1Config, Response};
use corering::ws::WebSocketUpgrade;
use corering::{get, routes, spawn_local, RunningServer};
use tungstenite::Message;

const TASKS: usize = 4;
const PER_TASK: usize = 50;
const SIZE: usize = 20_000;

/// Most bytes the burst route saw queued for its peer.
static MOST_QUEUED: AtomicUsize = AtomicUsize::new(0);

/// On `go`, four tasks each send PER_TASK messages of SIZE bytes
/// (`task:seq:` then filler) through clones of the writer, while the
/// reader goes on reading; then each says `done N`.
#[get("/burst")]
async fn burst(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|ws| async move {
        let (mut rx, tx) = ws.split();
        while let Ok(Some(msg)) = rx.recv().await {
            if msg.as_text() != Some("go") {
                continue;
            }
            for t in 0..TASKS {
                let tx = tx.clone();
                spawn_local(async move {
                    for i in 0..PER_TASK {
                        let mut m = format!("{t}:{i}:");
                        while m.len() < SIZE {
                            m.push(char::from(b'a' + (t as u8)));
                        }
                        MOST_QUEUED.fetch_max(tx.buffered(), Ordering::SeqCst);
                        if tx.send_text(&m).await.is_err() {
                            return;
                        }
                    }
                    let _ = tx.send_text(&format!("done {t}")).await;
                });
            }
        }
    })
}

fn start() -> (RunningServer, SocketAddr) {
    let router = routes![burst];
    let s = corering::Server::builder()
        .bind("127.0.0.1:0")
        .workers(1)
        .pin_workers(false)
        // A small out-queue limit: writers wait for room often.
        .write_buffer_limit(64 << 10)
        .build()
        .expect("build")
        .start(move |conn| corering::http::serve(conn, Http1Config::new(), router.clone()))
        .expect("start");
    let a = s.tcp_addr().unwrap();
    (s, a)
}

#[test]
fn writers_in_several_tasks_share_one_socket_whole_frames_in_order() {
    let (_s, addr) = start();
    // A small receive buffer on the client, so that the server's kernel
    // buffers fill soon and the rest waits in the out-queue.
    let stream = std::net::TcpStream::connect(addr).unwrap();
    let small: libc::c_int = 16 << 10;
    // SAFETY: a valid socket and a c_int option value of the right size.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&stream),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&small as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}/burst"), stream).unwrap();
    ws.send(Message::text("go")).unwrap();
    // Do not read for a while: the writers fill the out-queue and wait.
    std::thread::sleep(Duration::from_millis(300));
    let mut next = [0usize; TASKS];
    let mut done = 0;
    while done < TASKS {
        let text = match ws.read().unwrap() {
            Message::Text(t) => t,
            other => panic!("{other:?}"),
        };
        if let Some(t) = text.as_str().strip_prefix("done ") {
            let t: usize = t.parse().unwrap();
            assert_eq!(next[t], PER_TASK, "task {t} said done early");
            done += 1;
            continue;
        }
        let mut parts = text.as_str().splitn(3, ':');
        let t: usize = parts.next().unwrap().parse().unwrap();
        let i: usize = parts.next().unwrap().parse().unwrap();
        let fill = parts.next().unwrap();
        assert_eq!(i, next[t], "task {t}: messages out of order");
        next[t] += 1;
        assert_eq!(text.len(), SIZE);
        let c = char::from(b'a' + t as u8);
        assert!(fill.chars().all(|x| x == c), "task {t} message {i} mixed");
    }
    // While the client was not reading, the writers saw it fall behind.
    let most = MOST_QUEUED.load(Ordering::SeqCst);
    assert!(most >= 64 << 10, "most queued: {most}");
}
