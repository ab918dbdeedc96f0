//! The headless-Chromium harness of `tests/common/chromium.rs`, checked
//! against a real Chromium: it loads a page from a small HTTP server in this
//! test, runs the page's own script (which fetches from the server), reads
//! what the script wrote, reports exceptions, writes a screenshot, and leaves
//! no browser process behind. Skips with `SKIP: chromium not found` where
//! Chromium is not installed (fails instead with `CI` set).

#[path = "common/chromium.rs"]
mod chromium;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromium::{artifact_path, Browser, WINDOW};

/// The page: its script sets the title, fetches `/data` and shows the
/// answer (a value this test's server makes up per request) in `#out`.
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>loading</title></head>
<body style="background:#2a6">
<h1>browser harness</h1><p id="out">waiting</p>
<script>
document.title = "script ran";
fetch("/data").then(r => r.text()).then(t => {
  document.getElementById("out").textContent = t;
});
</script>
</body></html>"#;

/// A form: typing into `#msg` and clicking `#send` (or pressing Enter) adds an item
/// to `#list`; it logs once it is ready and throws one uncaught exception.
const FORM: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>form</title></head>
<body>
<input id="msg" autocomplete="off"> <button id="send">Send</button>
<ul id="list"></ul>
<script>
const msg = document.getElementById("msg");
function add() {
  const li = document.createElement("li");
  li.textContent = msg.value;
  document.getElementById("list").appendChild(li);
  msg.value = "";
}
document.getElementById("send").addEventListener("click", add);
msg.addEventListener("keydown", e => { if (e.key === "Enter") add(); });
console.log("form ready", 3);
setTimeout(() => { throw new Error("late boom"); }, 0);
</script>
</body></html>"#;

/// What the test server saw: the first line and `User-Agent` of each request.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// Serves [`PAGE`] on `/`, [`FORM`] on `/form` and `data-N` (N counting requests) on `/data`,
/// one thread per connection, `Connection: close`.
fn serve(seen: Seen) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || answer(stream, &seen));
        }
    });
    addr
}

fn answer(mut stream: TcpStream, seen: &Seen) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).unwrap_or(0) == 0 {
        return; // a preconnect that never sent anything
    }
    let mut agent = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("user-agent") {
                agent = value.trim().to_string();
            }
        }
    }
    let first = first.trim().to_string();
    // Numbered and recorded under one lock, so the number is the request's place in `seen`.
    let n = {
        let mut seen = seen.lock().unwrap();
        seen.push((first.clone(), agent));
        seen.len() - 1
    };
    let (status, kind, body) = if first.starts_with("GET / ") {
        ("200 OK", "text/html; charset=utf-8", PAGE.to_string())
    } else if first.starts_with("GET /form ") {
        ("200 OK", "text/html; charset=utf-8", FORM.to_string())
    } else if first.starts_with("GET /data ") {
        ("200 OK", "text/plain", format!("data-{n}"))
    } else {
        ("404 Not Found", "text/plain", String::new())
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The processes of group `pgid` that are still alive (not zombies).
fn live_processes(pgid: i32) -> Vec<i32> {
    let mut live = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            live.push(pid);
        }
    }
    live
}

#[test]
fn loads_a_page_runs_its_script_and_takes_a_screenshot() {
    let Some(browser) = Browser::launch() else {
        return;
    };
    let seen: Seen = Arc::default();
    let addr = serve(seen.clone());
    let page = browser.open(&format!("http://{addr}/"));

    // The page's script ran and its fetch came back from our server.
    let shown = page
        .wait_for(
            "document.getElementById('out').textContent.startsWith('data-') \
             && document.getElementById('out').textContent",
            Duration::from_secs(30),
        )
        .unwrap();
    assert_eq!(page.eval("document.title").unwrap(), "script ran");
    let requests = seen.lock().unwrap().clone();
    let data: Vec<_> = requests
        .iter()
        .enumerate()
        .filter(|(_, (line, _))| line.starts_with("GET /data "))
        .collect();
    assert_eq!(data.len(), 1, "requests seen: {requests:?}");
    assert_eq!(shown, format!("data-{}", data[0].0));
    assert!(
        data[0].1 .1.contains("Chrome"),
        "the fetch came from Chromium: {requests:?}"
    );
    assert!(
        browser.version().contains("Chrome"),
        "{}",
        browser.version()
    );

    // Values come back as JSON; exceptions as errors with their message.
    assert_eq!(page.eval("6 * 7").unwrap(), 42);
    assert_eq!(
        page.eval("Promise.resolve({a: [1, 'b']})").unwrap(),
        serde_json::json!({"a": [1, "b"]})
    );
    let err = page.eval("throw new Error('boom')").unwrap_err();
    assert!(err.contains("boom"), "{err}");
    let err = page
        .wait_for("document.title == 'never'", Duration::from_millis(200))
        .unwrap_err();
    assert!(
        err.contains("did not hold") && err.contains("Bool(false)"),
        "{err}"
    );

    // The screenshot is a PNG of the viewport.
    let path = artifact_path("browser_harness.png");
    let _ = std::fs::remove_file(&path);
    page.screenshot(&path).unwrap();
    let png = std::fs::read(&path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), WINDOW);
}

#[test]
fn two_tabs_are_two_clients_and_nothing_outlives_the_browser() {
    let Some(browser) = Browser::launch() else {
        return;
    };
    let seen: Seen = Arc::default();
    let addr = serve(seen.clone());
    let first = browser.open(&format!("http://{addr}/"));
    let second = browser.open(&format!("http://{addr}/"));
    let condition = "document.getElementById('out').textContent.startsWith('data-') \
                     && document.getElementById('out').textContent";
    let a = first.wait_for(condition, Duration::from_secs(30)).unwrap();
    let b = second.wait_for(condition, Duration::from_secs(30)).unwrap();
    assert_ne!(a, b, "each tab fetched on its own");
    second.close();
    assert_eq!(first.eval("1 + 1").unwrap(), 2);

    let group = browser.process_group();
    assert!(
        live_processes(group).len() > 1,
        "Chromium runs several processes in its group"
    );
    drop(browser);
    // SIGKILL is delivered at once, but the children's exit is asynchronous.
    let mut left = live_processes(group);
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        left = live_processes(group);
    }
    assert!(left.is_empty(), "Chromium processes left: {left:?}");
}

#[test]
fn types_clicks_presses_enter_and_hears_the_console() {
    let Some(browser) = Browser::launch() else {
        return;
    };
    let addr = serve(Seen::default());
    let page = browser.open(&format!("http://{addr}/form"));
    let items = "Array.from(document.querySelectorAll('#list li'), li => li.textContent)";

    page.type_into("#msg", "first, clicked").unwrap();
    page.click("#send").unwrap();
    page.wait_for(&format!("{items}.length == 1"), Duration::from_secs(10))
        .unwrap();
    page.type_into("#msg", "second, with Enter").unwrap();
    page.press_enter().unwrap();
    page.wait_for(&format!("{items}.length == 2"), Duration::from_secs(10))
        .unwrap();
    assert_eq!(
        page.eval(items).unwrap(),
        serde_json::json!(["first, clicked", "second, with Enter"])
    );
    assert!(page.click("#nothing-here").is_err());
    assert!(page.type_into("#nothing-here", "x").is_err());

    let mut console = page.console();
    for _ in 0..100 {
        if console.iter().any(|line| line.contains("late boom")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        console = page.console();
    }
    assert!(
        console
            .iter()
            .any(|line| line == "console.log: form ready 3"),
        "{console:?}"
    );
    assert!(
        console
            .iter()
            .any(|line| line.starts_with("uncaught: ") && line.contains("late boom")),
        "{console:?}"
    );
}
