//! The chat page in a real browser: `examples/chat` with two workers,
//! headless Chromium opening its page (the browser's own WebSocket
//! client), and a second client (tungstenite) in the same room. A message
//! typed and sent on the page reaches the second client; one from the
//! second client shows up on the page. A screenshot of the page is written
//! to `target/artifacts/chat.png`.
//!
//! Skips with `SKIP: chromium not found` where Chromium is missing (CI
//! installs it and fails instead).

#[path = "common/chromium.rs"]
mod chromium;
mod common;

use std::time::Duration;

use chromium::{artifact_path, Browser};
use common::{start_example, stop_example};
use tungstenite::Message;

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn a_message_from_the_page_reaches_another_client_and_back() {
    let Some(browser) = Browser::launch() else {
        return;
    };
    let (child, addr) = start_example("chat", &["--addr", "127.0.0.1:0", "--workers", "2"]);
    let page = browser.open(&format!("http://{addr}/"));
    page.wait_for("document.body.dataset.ready === '1'", WAIT)
        .expect("the page's WebSocket opens");

    let (mut other, _) = tungstenite::connect(format!("ws://{addr}/ws")).expect("connect");
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = other.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    }
    // Let the second client reach its room before the page talks.
    std::thread::sleep(Duration::from_millis(200));

    // The page: a name, a message, the Send button, as a user would.
    page.eval("document.getElementById('name').value = ''")
        .unwrap();
    page.type_into("#name", "browser").unwrap();
    page.type_into("#text", "hello from chromium").unwrap();
    page.click("#send").unwrap();
    let got = loop {
        match other.read().expect("the page's message") {
            Message::Text(t) => break t.to_string(),
            _ => continue,
        }
    };
    let json: serde_json::Value = serde_json::from_str(&got).expect("the page sends JSON");
    assert_eq!(json["name"], "browser", "{got}");
    assert_eq!(json["text"], "hello from chromium", "{got}");

    // The other way: the second client speaks, the page shows it.
    other
        .send(Message::text(
            r#"{"name":"tungstenite","text":"hello from rust"}"#,
        ))
        .unwrap();
    page.wait_for(
        "[...document.querySelectorAll('#log li')].some(li => li.textContent === 'tungstenitehello from rust')",
        WAIT,
    )
    .expect("the page shows the other client's message");
    // And its own message came back to it through the room.
    page.wait_for(
        "[...document.querySelectorAll('#log li')].some(li => li.textContent === 'browserhello from chromium')",
        WAIT,
    )
    .expect("the page shows its own message");

    let shot = artifact_path("chat.png");
    page.screenshot(&shot).expect("screenshot");
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
    let errors: Vec<String> = page
        .console()
        .into_iter()
        .filter(|l| l.starts_with("uncaught") || l.starts_with("console.error"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    let _ = other.close(None);
    drop(page);
    drop(browser);
    assert_eq!(stop_example(child, Duration::from_secs(15)).code(), Some(0));
}
