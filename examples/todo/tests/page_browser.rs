//! The page in a real browser: headless Chromium opens `/` on a server
//! with an SQLite store, and a user adds, completes and deletes todos with
//! real mouse and keyboard input; each step is checked through the API
//! (ureq), not just on the page. A screenshot goes to
//! `target/artifacts/todo.png`.
//!
//! Skips with `SKIP: chromium not found` where Chromium is missing (CI
//! installs it and fails instead).

#[path = "../../../suite/tests/common/chromium.rs"]
mod chromium;
mod common;

use std::time::{Duration, Instant};

use chromium::{artifact_path, Browser};
use common::api::{self, Client};
use common::open_store;
use common::tempdir::TempDir;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

/// Polls the API until `check` holds for the list of todos.
fn wait_for_list(c: &Client, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let list = c.get("/todos").body;
        if check(&list) {
            return list;
        }
        assert!(Instant::now() < deadline, "{what}: the list is {list}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_user_adds_completes_and_deletes_todos_on_the_page() {
    let Some(browser) = Browser::launch() else {
        return;
    };
    let dir = TempDir::new("browser");
    let url = format!("sqlite://{}", dir.path().join("todo.db").display());
    let app = common::serve(open_store(&url).expect("open SQLite"));
    let c = Client::new(app.addr);
    let first = api::create(&c, "made with ureq");

    let page = browser.open(&format!("http://{}/", app.addr));
    page.wait_for("document.querySelectorAll('#todos li').length === 1", WAIT)
        .expect("the page lists the todo made with ureq");
    let shown = page
        .eval("document.querySelector('#todos li span').textContent")
        .unwrap();
    assert_eq!(shown.as_str().map(str::trim), Some("made with ureq"));

    // Add: type a title, press Enter.
    page.type_into("#title", "made on the page").unwrap();
    page.press_enter().unwrap();
    let list = wait_for_list(&c, "the page's todo is stored", |l| {
        l.as_array().is_some_and(|a| a.len() == 2)
    });
    let second = list[1]["id"].as_i64().unwrap();
    assert_eq!(
        list[1],
        json!({ "id": second, "title": "made on the page", "done": false })
    );
    page.wait_for("document.querySelectorAll('#todos li').length === 2", WAIT)
        .expect("the page shows both");
    assert_eq!(
        page.eval("document.getElementById('title').value").unwrap(),
        ""
    );

    // Complete: tick the second todo's box.
    page.click("#todos li:nth-child(2) input[type=checkbox]")
        .unwrap();
    wait_for_list(&c, "ticked on the page", |l| l[1]["done"] == json!(true));
    page.wait_for(
        "document.querySelector('#todos li:nth-child(2)').className === 'done'",
        WAIT,
    )
    .expect("the page shows it done");

    // Delete: the first todo's button.
    page.click("#todos li:nth-child(1) button").unwrap();
    wait_for_list(&c, "deleted on the page", |l| {
        l.as_array().is_some_and(|a| a.len() == 1) && l[0]["id"] == json!(second)
    });
    assert_eq!(c.get(&format!("/todos/{first}")).status, 404);
    page.wait_for("document.querySelectorAll('#todos li').length === 1", WAIT)
        .expect("the page drops it");

    // An error from the API shows on the page: a title over 500 characters
    // (the input's maxlength stops typing, so set it as a script would).
    page.eval(&format!(
        "document.getElementById('title').value = '{}'",
        "x".repeat(501)
    ))
    .unwrap();
    page.type_into("#title", "").ok();
    page.press_enter().unwrap();
    page.wait_for(
        "document.getElementById('error').textContent.includes('500')",
        WAIT,
    )
    .expect("the API's error detail shows on the page");

    page.screenshot(&artifact_path("todo.png")).unwrap();
    let console = page.console();
    assert!(
        !console.iter().any(|l| l.starts_with("uncaught")),
        "the page threw: {console:?}"
    );
}
