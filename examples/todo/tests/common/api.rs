//! The API as a client sees it, through ureq, and the checks every
//! database must pass.

use std::net::SocketAddr;

use serde_json::{json, Value};

use super::HTTP_TIMEOUT;

/// One answer: status, `Content-Type`, `Location`, and the body (JSON
/// when it parses, else a string).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Value,
}

impl Answer {
    /// The JSON error's `error` field (panics if the body is not one).
    pub fn error(&self) -> &str {
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("not a JSON error: {self:?}"))
    }
}

/// A client of the API at `addr`.
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for `http://addr`; 4xx and 5xx are answers, not errors.
    pub fn new(addr: SocketAddr) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(HTTP_TIMEOUT))
            .build()
            .into();
        Client {
            base: format!("http://{addr}"),
            agent,
        }
    }

    fn answer(res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut res = res.expect("an HTTP answer");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().expect("ASCII header").to_owned())
        };
        let content_type = header("content-type");
        let location = header("location");
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().expect("read the body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            content_type,
            location,
            body,
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Answer {
        Self::answer(self.agent.get(format!("{}{path}", self.base)).call())
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Answer {
        Self::answer(self.agent.delete(format!("{}{path}", self.base)).call())
    }

    /// `method path` with `body` as `content_type`.
    pub fn send(&self, method: &str, path: &str, content_type: &str, body: &str) -> Answer {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "POST" => self.agent.post(url),
            "PATCH" => self.agent.patch(url),
            "PUT" => self.agent.put(url),
            other => panic!("no body method {other}"),
        };
        Self::answer(req.header("content-type", content_type).send(body))
    }

    /// `method path` with a JSON body.
    pub fn json(&self, method: &str, path: &str, body: &Value) -> Answer {
        self.send(method, path, "application/json", &body.to_string())
    }
}

/// Creates a todo and checks the `201` answer; returns its id.
pub fn create(c: &Client, title: &str) -> i64 {
    let a = c.json("POST", "/todos", &json!({ "title": title }));
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(a.content_type.as_deref(), Some("application/json"));
    let id = a.body["id"].as_i64().expect("an id");
    assert!(id > 0, "{a:?}");
    assert_eq!(a.body, json!({ "id": id, "title": title, "done": false }));
    assert_eq!(a.location, Some(format!("/todos/{id}")));
    id
}

/// The full CRUD round, on an empty table, as any client would do it.
pub fn crud_round(c: &Client) {
    let list = c.get("/todos");
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(list.body, json!([]));

    let milk = create(c, "buy milk");
    let bread = create(c, "bake bread ünïcödé 🍞");
    assert!(bread > milk, "ids grow: {milk} then {bread}");

    // Parameters on the content type are fine.
    let a = c.send(
        "POST",
        "/todos",
        "Application/JSON; charset=utf-8",
        r#"{"title":"with charset"}"#,
    );
    assert_eq!(a.status, 201, "{a:?}");
    let charset = a.body["id"].as_i64().unwrap();
    assert_eq!(c.delete(&format!("/todos/{charset}")).status, 204);

    let one = c.get(&format!("/todos/{milk}"));
    assert_eq!(one.status, 200);
    assert_eq!(
        one.body,
        json!({ "id": milk, "title": "buy milk", "done": false })
    );

    // PATCH: only the fields given change.
    let done = c.json("PATCH", &format!("/todos/{milk}"), &json!({ "done": true }));
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(
        done.body,
        json!({ "id": milk, "title": "buy milk", "done": true })
    );
    let renamed = c.json(
        "PATCH",
        &format!("/todos/{milk}"),
        &json!({ "title": "buy oat milk" }),
    );
    assert_eq!(
        renamed.body,
        json!({ "id": milk, "title": "buy oat milk", "done": true })
    );
    let both = c.json(
        "PATCH",
        &format!("/todos/{bread}"),
        &json!({ "title": "bake rye", "done": true }),
    );
    assert_eq!(
        both.body,
        json!({ "id": bread, "title": "bake rye", "done": true })
    );
    let nothing = c.json("PATCH", &format!("/todos/{bread}"), &json!({}));
    assert_eq!(nothing.body, both.body, "an empty patch changes nothing");

    let list = c.get("/todos");
    assert_eq!(
        list.body,
        json!([
            { "id": milk, "title": "buy oat milk", "done": true },
            { "id": bread, "title": "bake rye", "done": true },
        ])
    );

    let gone = c.delete(&format!("/todos/{milk}"));
    assert_eq!(gone.status, 204, "{gone:?}");
    assert_eq!(gone.body, json!(""), "no body");
    assert_eq!(c.get(&format!("/todos/{milk}")).status, 404);
    assert_eq!(c.delete(&format!("/todos/{milk}")).status, 404);
    let list = c.get("/todos");
    assert_eq!(list.body.as_array().map(Vec::len), Some(1), "{list:?}");
}

/// Bad requests: each a 4xx with a JSON error body, and nothing stored.
pub fn bad_requests(c: &Client) {
    let before = c.get("/todos").body;

    let missing = c.get("/todos/999999");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error(), "not found");
    let missing = c.json("PATCH", "/todos/999999", &json!({ "done": true }));
    assert_eq!((missing.status, missing.error()), (404, "not found"));

    for id in ["abc", "0", "-1", "1.5", "99999999999999999999"] {
        for a in [
            c.get(&format!("/todos/{id}")),
            c.delete(&format!("/todos/{id}")),
            c.json("PATCH", &format!("/todos/{id}"), &json!({ "done": true })),
        ] {
            assert_eq!((a.status, a.error()), (400, "invalid id"), "id {id}: {a:?}");
        }
    }

    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "text/plain",
            r#"{"title":"x"}"#,
            415,
            "unsupported media type",
        ),
        (
            "application/x-www-form-urlencoded",
            "title=x",
            415,
            "unsupported media type",
        ),
        ("application/json", "{\"title\": ", 400, "invalid JSON"),
        ("application/json", "", 400, "invalid JSON"),
        ("application/json", "[1, 2]", 422, "invalid todo"),
        ("application/json", "{}", 422, "invalid todo"),
        ("application/json", r#"{"title": 5}"#, 422, "invalid todo"),
        (
            "application/json",
            r#"{"title": "x", "owner": "me"}"#,
            422,
            "invalid todo",
        ),
        ("application/json", r#"{"title": ""}"#, 400, "invalid title"),
        (
            "application/json",
            r#"{"title": "   "}"#,
            400,
            "invalid title",
        ),
    ];
    for (ct, body, status, error) in cases {
        let a = c.send("POST", "/todos", ct, body);
        assert_eq!(
            (a.status, a.error()),
            (*status, *error),
            "{ct} {body:?}: {a:?}"
        );
        assert_eq!(a.content_type.as_deref(), Some("application/json"));
    }
    // The limit is 500 characters (not bytes): 500 'é's pass, 501 do not.
    let long = "é".repeat(501);
    let a = c.json("POST", "/todos", &json!({ "title": long }));
    assert_eq!((a.status, a.error()), (400, "invalid title"));
    let id = create(c, &"é".repeat(500));
    assert_eq!(c.delete(&format!("/todos/{id}")).status, 204);

    let a = c.json("PATCH", "/todos/1", &json!({ "done": "yes" }));
    assert_eq!((a.status, a.error()), (422, "invalid todo"));
    let a = c.json("PATCH", "/todos/1", &json!({ "title": "" }));
    assert_eq!((a.status, a.error()), (400, "invalid title"));

    // Methods the API does not have: the router's 405 as a JSON error,
    // nothing changed.
    for method in ["PUT", "POST"] {
        let a = c.send(method, "/todos/1", "application/json", r#"{"title":"x"}"#);
        assert_eq!((a.status, a.error()), (405, "method not allowed"), "{a:?}");
        assert_eq!(a.content_type.as_deref(), Some("application/json"));
    }
    // Paths with no route and no file: a JSON 404 whatever the method.
    for a in [
        c.get("/nope"),
        c.send("POST", "/todo", "application/json", "{}"),
        c.delete("/todos/1/x"),
    ] {
        assert_eq!((a.status, a.error()), (404, "not found"), "{a:?}");
    }

    assert_eq!(
        c.get("/todos").body,
        before,
        "nothing stored by bad requests"
    );
}

/// Clients creating todos at once on several connections: every todo
/// stored once, each with its own id.
pub fn concurrent_creates(addr: SocketAddr) {
    let threads: Vec<_> = (0..6)
        .map(|t| {
            std::thread::spawn(move || {
                let c = Client::new(addr);
                (0..5)
                    .map(|i| create(&c, &format!("job {t}.{i}")))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("a client thread"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 30, "30 distinct ids");
    let listed: Vec<i64> = Client::new(addr)
        .get("/todos")
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .filter(|id| ids.binary_search(id).is_ok())
        .collect();
    assert_eq!(listed, ids, "listed once each, ordered by id");
}
