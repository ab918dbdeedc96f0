//! With the `tracing` feature (`cargo test -p corering-suite --features tracing`), each
//! server connection runs in a `connection` span and each HTTP request in
//! a `request` span inside it, with its method and target.

#![cfg(feature = "tracing")]

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use corering::http::{Http1Config, Response};
use corering::{get, routes};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

mod common;

use common::http::{start_http, ureq_agent};

/// A span as recorded: name, parent, fields.
#[derive(Debug, Clone)]
struct Seen {
    name: &'static str,
    parent: Option<u64>,
    fields: HashMap<String, String>,
}

/// Records every span (all levels) with its fields and contextual parent.
struct Recorder {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, Seen>>,
}

thread_local! {
    static STACK: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = HashMap::new();
        span.record(&mut Fields(&mut fields));
        let parent = span
            .parent()
            .map(Id::into_u64)
            .or_else(|| STACK.with(|s| s.borrow().last().copied()));
        self.spans.lock().unwrap().insert(
            id,
            Seen {
                name: span.metadata().name(),
                parent,
                fields,
            },
        );
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(s) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut s.fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, span: &Id) {
        STACK.with(|s| s.borrow_mut().push(span.into_u64()));
    }
    fn exit(&self, _: &Id) {
        STACK.with(|s| s.borrow_mut().pop());
    }
}

static RECORDER: std::sync::OnceLock<&'static Recorder> = std::sync::OnceLock::new();

#[get("/users/{id}")]
async fn user(id: corering::http::route::Path<u32>) -> Response {
    Response::text(format!("user {}", id.0))
}

#[test]
fn connection_and_request_spans() {
    let rec: &'static Recorder = Box::leak(Box::new(Recorder {
        next: AtomicU64::new(0),
        spans: Mutex::new(HashMap::new()),
    }));
    RECORDER.set(rec).ok();
    tracing::subscriber::set_global_default(Forward).expect("first subscriber");

    let (server, addr) = start_http(common::builder(), Http1Config::new(), routes![user]);
    let agent = ureq_agent(Duration::from_secs(20));
    for id in [1, 2] {
        let r = agent
            .get(format!("http://{addr}/users/{id}?q=1"))
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    drop(agent);
    drop(server);

    let spans = rec.spans.lock().unwrap().clone();
    let requests: Vec<&Seen> = spans.values().filter(|s| s.name == "request").collect();
    assert_eq!(requests.len(), 2, "{spans:?}");
    let mut targets: Vec<&str> = requests
        .iter()
        .map(|s| s.fields["target"].as_str())
        .collect();
    targets.sort();
    assert_eq!(targets, ["/users/1?q=1", "/users/2?q=1"]);
    for r in &requests {
        assert_eq!(r.fields["method"], "GET");
        let parent = &spans[&r.parent.expect("request span has a parent")];
        assert_eq!(parent.name, "connection");
        let peer: std::net::SocketAddr = parent.fields["peer"].parse().unwrap();
        assert!(peer.ip().is_loopback());
        assert!(parent.fields.contains_key("worker"));
    }
}

/// The global subscriber: forwards to the leaked recorder.
struct Forward;

impl Subscriber for Forward {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        RECORDER.get().unwrap().enabled(m)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        RECORDER.get().unwrap().new_span(span)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        RECORDER.get().unwrap().record(span, values)
    }
    fn record_follows_from(&self, a: &Id, b: &Id) {
        RECORDER.get().unwrap().record_follows_from(a, b)
    }
    fn event(&self, e: &Event<'_>) {
        RECORDER.get().unwrap().event(e)
    }
    fn enter(&self, span: &Id) {
        RECORDER.get().unwrap().enter(span)
    }
    fn exit(&self, span: &Id) {
        RECORDER.get().unwrap().exit(span)
    }
}
