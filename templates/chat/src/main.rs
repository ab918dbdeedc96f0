//! chat: a WebSocket chat room on every worker, and an echo endpoint.
//!
//! ```text
//! cargo run --release --example chat -- --addr 127.0.0.1:8080 --workers 2
//! open http://127.0.0.1:8080/          # the chat page (plain HTML + JS)
//! websocat ws://127.0.0.1:8080/ws      # the room, from a terminal
//! scripts/autobahn.sh example chat     # the conformance suite against /echo
//! ```
//!
//! * `GET /` serves the page (`index.html` beside this file, compiled in).
//! * `GET /ws` joins the room: every text message a client sends reaches
//!   every client connected to any worker. The page sends JSON
//!   (`{"name": ..., "text": ...}`); the server relays text as it is and
//!   leaves its meaning to the clients, so it parses nothing.
//! * `GET /echo` sends every message back unchanged (for conformance
//!   suites and load tests).
//!
//! How the room works: each worker keeps the clients it accepted in a
//! thread-local [`Room`]. A message is queued to the local clients, and
//! handed to every other worker with [`corering::call_on`], which queues
//! it to theirs. Each client has a small outbox and a task that sends
//! from it, so one slow client never holds up the others: a client whose
//! outbox passes [`OUTBOX_LIMIT`] messages is closed with 1008 instead of
//! letting memory grow. On Ctrl-C or SIGTERM every client gets a close
//! frame with 1001 (going away) and the server exits 0.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use corering::cli::Cli;
use corering::http::{self, Http1Config, Response};
use corering::ws::{CloseCode, Message, WebSocketUpgrade, WsWriter};
use corering::{call_on, get, routes, spawn_local, worker_count, worker_index, Server};

/// The chat page.
const PAGE: &str = include_str!("index.html");

/// Largest chat message accepted (a bigger one closes the client with
/// 1009); the echo endpoint keeps the default limit (16 MiB).
const MAX_CHAT_MESSAGE: usize = 16 * 1024;

/// Messages waiting for one client before it counts as too slow.
const OUTBOX_LIMIT: usize = 256;

#[get("/")]
async fn index() -> Response {
    Response::html(PAGE)
}

/// Sends every message back as it came.
#[get("/echo")]
async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|ws| async move {
        let (mut rx, tx) = ws.split();
        while let Ok(Some(msg)) = rx.recv().await {
            if tx.send(msg).await.is_err() {
                break;
            }
        }
    })
}

/// Joins the chat room.
#[get("/ws")]
async fn chat(ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_CHAT_MESSAGE)
        .on_upgrade(|ws| async move {
            let (mut rx, tx) = ws.split();
            let outbox = Rc::new(Outbox::default());
            let id = ROOM.with(|r| r.join(outbox.clone()));
            let sender = spawn_local(send_from(outbox.clone(), tx.clone()));
            loop {
                match rx.recv().await {
                    Ok(Some(Message::Text(text))) => broadcast(text).await,
                    Ok(Some(Message::Binary(_))) => {
                        let _ = tx.close(CloseCode(1003), "text messages only").await;
                    }
                    // The client closed, broke the protocol, or the
                    // server is shutting down: the socket has said so.
                    Ok(None) | Err(_) => break,
                }
            }
            ROOM.with(|r| r.leave(id));
            outbox.close();
            let _ = sender.await;
        })
}

/// Queues `text` to every client on every worker.
async fn broadcast(text: &str) {
    let me = worker_index();
    ROOM.with(|r| r.queue(Rc::from(text)));
    for worker in (0..worker_count()).filter(|&w| w != me) {
        let text = text.to_owned();
        // In order, one worker after the other: a client's messages reach
        // everyone in the order it sent them.
        let _ = call_on(worker, move || async move {
            ROOM.with(|r| r.queue(Rc::from(text)));
        })
        .await;
    }
}

/// Sends what is queued for one client until its outbox closes.
async fn send_from(outbox: Rc<Outbox>, tx: WsWriter) {
    while let Some(text) = outbox.next().await {
        if tx.send_text(&text).await.is_err() {
            return;
        }
    }
    if outbox.too_slow.get() {
        let _ = tx
            .close(CloseCode(1008), "too far behind the conversation")
            .await;
    }
}

thread_local! {
    /// This worker's clients.
    static ROOM: Room = Room::default();
}

/// The clients connected to one worker.
#[derive(Default)]
struct Room {
    clients: RefCell<Vec<(u64, Rc<Outbox>)>>,
    next_id: Cell<u64>,
}

impl Room {
    fn join(&self, outbox: Rc<Outbox>) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.clients.borrow_mut().push((id, outbox));
        id
    }

    fn leave(&self, id: u64) {
        self.clients.borrow_mut().retain(|(i, _)| *i != id);
    }

    /// Queues one message to every client here (one shared copy).
    fn queue(&self, text: Rc<str>) {
        for (_, outbox) in self.clients.borrow().iter() {
            outbox.push(text.clone());
        }
    }
}

/// Messages waiting for one client, and the waker of its sending task.
#[derive(Default)]
struct Outbox {
    queue: RefCell<VecDeque<Rc<str>>>,
    waker: RefCell<Option<Waker>>,
    closed: Cell<bool>,
    too_slow: Cell<bool>,
}

impl Outbox {
    fn push(&self, text: Rc<str>) {
        if self.closed.get() {
            return;
        }
        let mut queue = self.queue.borrow_mut();
        if queue.len() >= OUTBOX_LIMIT {
            // The client reads slower than the room talks: drop it
            // rather than hold an ever longer backlog for it.
            queue.clear();
            drop(queue);
            self.too_slow.set(true);
            self.close();
            return;
        }
        queue.push_back(text);
        drop(queue);
        self.wake();
    }

    fn close(&self) {
        self.closed.set(true);
        self.wake();
    }

    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// The next message, or `None` once closed.
    async fn next(&self) -> Option<Rc<str>> {
        poll_fn(|cx| {
            if let Some(text) = self.queue.borrow_mut().pop_front() {
                return Poll::Ready(Some(text));
            }
            if self.closed.get() {
                return Poll::Ready(None);
            }
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// The command line: `--addr` and `--workers`.
const CLI: Cli = Cli::new("chat", "WebSocket chat and echo server", 8080);

fn main() {
    let args = CLI.parse();
    let cfg = Http1Config::new().server_name(Some("corering"));
    let result = Server::builder()
        .bind(args.addr.as_str())
        .workers(args.workers)
        .build()
        .and_then(|server| {
            let router = routes![index, echo, chat];
            server.serve(move |conn| http::serve(conn, cfg, router.clone()))
        });
    if let Err(e) = result {
        eprintln!("chat: {e}");
        std::process::exit(1);
    }
}
