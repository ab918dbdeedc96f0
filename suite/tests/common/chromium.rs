//! A real browser for tests: headless Chromium driven over the DevTools
//! protocol (CDP), with `tungstenite` as a small synchronous CDP client.
//!
//! [`Browser::launch`] finds the binary (`CORERING_CHROMIUM`, else
//! `chromium`, `chromium-browser`, `google-chrome`, `google-chrome-stable` on
//! `PATH`), starts it headless in its own process group with a fresh profile
//! in the temp directory, `--no-sandbox` (tests run as root in containers)
//! and `--remote-debugging-port=0`, reads the DevTools address from its
//! stderr and connects to the browser's endpoint. [`Browser::open`] opens a
//! tab on a URL and waits until its document has loaded; on the [`Page`] it
//! returns, [`Page::eval`] runs JavaScript (awaiting promises) and returns
//! the value as JSON, [`Page::wait_for`] polls a JavaScript condition until
//! it holds or a timeout passes, [`Page::click`], [`Page::type_into`] and
//! [`Page::press_enter`] act as a user would (real input events),
//! [`Page::console`] gives what the page logged or threw, and
//! [`Page::screenshot`] writes a PNG.
//! Dropping the `Browser` kills the whole process group (browser, renderers,
//! GPU and utility processes), reaps the browser and deletes the profile.
//!
//! Where no Chromium is installed, `launch` prints `SKIP: chromium not
//! found` and returns `None`, so the test returns early; with `CI` or
//! `CORERING_REQUIRE_CHROMIUM` set it panics instead (`.ci/run` installs
//! Debian's `chromium` package).
//!
//! Self-contained: a test includes it with
//! `#[path = "common/chromium.rs"] mod chromium;`.
//!
//! ```ignore
//! let Some(browser) = chromium::Browser::launch() else { return };
//! let page = browser.open(&format!("http://{addr}/"));
//! page.type_into("#msg", "hi").unwrap();
//! page.press_enter().unwrap();
//! page.wait_for("document.querySelectorAll('li').length == 1", Duration::from_secs(10))
//!     .unwrap();
//! page.screenshot(&chromium::artifact_path("chat.png")).unwrap();
//! ```

#![allow(dead_code)]

use std::cell::RefCell;
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// How long Chromium may take to print its DevTools address (it starts in
/// about a second; a loaded 2-core machine can take many times that).
const START_LIMIT: Duration = Duration::from_secs(60);

/// How long one CDP command may take to be answered.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// How long [`Browser::open`] waits for the page to finish loading.
const LOAD_LIMIT: Duration = Duration::from_secs(30);

/// How often [`Page::wait_for`] evaluates its condition.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Viewport of every page, so screenshots have a known size.
pub const WINDOW: (u32, u32) = (1024, 768);

/// The Chromium binary: `CORERING_CHROMIUM` if set, else the first of the
/// usual names found on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CORERING_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let paths = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&paths).map(move |dir| dir.join(name)))
    .find(|path| path.is_file())
}

/// Where a test writes an artifact (a screenshot): `target/artifacts/NAME`
/// of this workspace (made if missing).
pub fn artifact_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test binary>
    let target = exe
        .ancestors()
        .nth(3)
        .expect("test binary lives in target/<profile>/deps");
    let dir = target.join("artifacts");
    std::fs::create_dir_all(&dir).expect("creating target/artifacts");
    dir.join(name)
}

/// A headless Chromium and the CDP connection to it. Killed (with every
/// process it started) when dropped.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    cdp: RefCell<Cdp>,
}

impl Browser {
    /// Starts Chromium and connects to it; `None` after printing `SKIP:
    /// chromium not found` if there is none (a panic instead with `CI` or
    /// `CORERING_REQUIRE_CHROMIUM` set). Panics if it is found but does not
    /// start.
    pub fn launch() -> Option<Browser> {
        let Some(binary) = find_chromium() else {
            let required = std::env::var_os("CI").is_some()
                || std::env::var_os("CORERING_REQUIRE_CHROMIUM").is_some();
            assert!(
                !required,
                "chromium not found (apt-get install chromium, or set CORERING_CHROMIUM)"
            );
            eprintln!("SKIP: chromium not found (apt-get install chromium)");
            return None;
        };
        Some(Browser::launch_binary(&binary))
    }

    /// Starts the Chromium at `binary` and connects to it. Panics if it does
    /// not start.
    pub fn launch_binary(binary: &Path) -> Browser {
        let profile = std::env::temp_dir().join(format!(
            "corering-chromium-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&profile).expect("creating the Chromium profile directory");
        let mut cmd = Command::new(binary);
        cmd.arg("--headless")
            .arg("--no-sandbox")
            .arg("--disable-gpu")
            .arg("--disable-dev-shm-usage")
            .arg("--no-first-run")
            .arg("--no-default-browser-check")
            .arg("--disable-extensions")
            .arg("--disable-background-networking")
            .arg("--disable-component-update")
            .arg("--disable-sync")
            .arg("--mute-audio")
            .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own process group, so that Drop can kill every process it starts.
            .process_group(0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        // Reads stderr to its end (so Chromium never blocks on a full pipe),
        // handing over the DevTools address and keeping the last lines.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(url) = line.strip_prefix("DevTools listening on ") {
                        let _ = tx.send(Ok(url.trim().to_string()));
                        sent = true;
                    } else {
                        let _ = tx.send(Err(line));
                    }
                }
            }
        });
        let mut browser = Browser {
            child,
            profile,
            cdp: RefCell::new(Cdp::placeholder()),
        };
        let url = browser.devtools_url(&rx);
        *browser.cdp.borrow_mut() = Cdp::connect(&url);
        browser
    }

    /// Waits for the browser's DevTools WebSocket address on stderr.
    fn devtools_url(&mut self, lines: &mpsc::Receiver<Result<String, String>>) -> String {
        let deadline = Instant::now() + START_LIMIT;
        let mut said = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(Ok(url)) => return url,
                Ok(Err(line)) => said.push(line),
                Err(_) => panic!(
                    "Chromium printed no DevTools address within {START_LIMIT:?} (exit: {:?}); \
                     its stderr:\n{}",
                    self.child.try_wait(),
                    said.join("\n")
                ),
            }
        }
    }

    /// Opens a new tab on `url` and waits (up to 30 s) until its document has
    /// loaded. Panics on a CDP error or if it does not load.
    pub fn open(&self, url: &str) -> Page<'_> {
        let mut cdp = self.cdp.borrow_mut();
        let target = cdp
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .unwrap_or_else(|e| panic!("Target.createTarget: {e}"));
        let target = target["targetId"].as_str().expect("targetId").to_string();
        let attached = cdp
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target, "flatten": true }),
            )
            .unwrap_or_else(|e| panic!("Target.attachToTarget: {e}"));
        let session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        for (method, params) in [
            ("Page.enable", json!({})),
            ("Runtime.enable", json!({})),
            (
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": WINDOW.0, "height": WINDOW.1,
                        "deviceScaleFactor": 1, "mobile": false }),
            ),
            ("Page.navigate", json!({ "url": url })),
        ] {
            let answer = cdp
                .call(Some(&session), method, params)
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            if let Some(error) = answer.get("errorText") {
                panic!("opening {url}: {error}");
            }
        }
        drop(cdp);
        let page = Page {
            browser: self,
            session,
            target,
        };
        page.wait_for(
            "location.href != 'about:blank' && document.readyState == 'complete'",
            LOAD_LIMIT,
        )
        .unwrap_or_else(|e| panic!("{url} did not load: {e}"));
        page
    }

    /// Chromium's own version string (`Browser.getVersion`), e.g.
    /// `HeadlessChrome/139.0.7258.154`.
    pub fn version(&self) -> String {
        let version = self
            .cdp
            .borrow_mut()
            .call(None, "Browser.getVersion", json!({}))
            .unwrap_or_else(|e| panic!("Browser.getVersion: {e}"));
        version["product"].as_str().unwrap_or_default().to_string()
    }

    /// The process group of the browser and everything it started.
    pub fn process_group(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.cdp.borrow_mut().ws.take().map(|mut ws| ws.close(None));
        // SAFETY: kill(2) on our child's process group (it was made its leader
        // with process_group(0)); no memory is involved.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One tab of a [`Browser`].
pub struct Page<'b> {
    browser: &'b Browser,
    session: String,
    target: String,
}

impl Page<'_> {
    /// Evaluates `js` in the page (a promise is awaited) and returns its
    /// value as JSON (`null` for `undefined`); `Err` with the exception's
    /// text if it throws.
    pub fn eval(&self, js: &str) -> Result<Value, String> {
        let answer = self.call(
            "Runtime.evaluate",
            json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(exception) = answer.get("exceptionDetails") {
            let text = exception["exception"]["description"]
                .as_str()
                .or_else(|| exception["text"].as_str())
                .unwrap_or("exception");
            return Err(format!("{js:?} threw: {text}"));
        }
        Ok(answer["result"]["value"].clone())
    }

    /// Evaluates the JavaScript condition `js` every 50 ms until it is truthy,
    /// then returns its value; `Err` with its last value (or exception) if it
    /// is not within `timeout` (one evaluation at least).
    pub fn wait_for(&self, js: &str, timeout: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = self.eval(js);
            if let Ok(value) = &last {
                if truthy(value) {
                    return Ok(value.clone());
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{js:?} did not hold within {timeout:?}; last: {last:?}"
                ));
            }
            std::thread::sleep(POLL_EVERY);
        }
    }

    /// Writes a PNG screenshot of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) -> Result<(), String> {
        let answer = self.call("Page.captureScreenshot", json!({ "format": "png" }))?;
        let data = answer["data"].as_str().ok_or("no screenshot data")?;
        let png = base64_decode(data).ok_or("screenshot data is not base64")?;
        std::fs::write(path, png).map_err(|e| format!("writing {}: {e}", path.display()))
    }

    /// Clicks the middle of the first element matching the CSS `selector` with real
    /// mouse events (moved, pressed, released), as a user would. `Err` if no element
    /// matches or it has no size.
    pub fn click(&self, selector: &str) -> Result<(), String> {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return null; \
             e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2, r.width * r.height]; }})()",
            json!(selector)
        );
        let at = self.eval(&js)?;
        let (Some(x), Some(y), Some(area)) = (at[0].as_f64(), at[1].as_f64(), at[2].as_f64())
        else {
            return Err(format!("no element matches {selector:?}"));
        };
        if area <= 0.0 {
            return Err(format!("{selector:?} has no size on the page"));
        }
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            )?;
        }
        Ok(())
    }

    /// Focuses the first element matching `selector` and types `text` into it as
    /// keyboard input would (`Input.insertText`: `input` events, no key codes).
    pub fn type_into(&self, selector: &str, text: &str) -> Result<(), String> {
        let focused = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; \
             e.focus(); return document.activeElement === e; }})()",
            json!(selector)
        ))?;
        if focused != Value::Bool(true) {
            return Err(format!("cannot focus {selector:?}"));
        }
        self.call("Input.insertText", json!({ "text": text }))?;
        Ok(())
    }

    /// Presses and releases Enter in the focused element (a form submits, a key
    /// handler sees `key == "Enter"`).
    pub fn press_enter(&self) -> Result<(), String> {
        for kind in ["keyDown", "keyUp"] {
            let mut event = json!({
                "type": kind, "key": "Enter", "code": "Enter",
                "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13
            });
            if kind == "keyDown" {
                event["text"] = json!("\r");
            }
            self.call("Input.dispatchKeyEvent", event)?;
        }
        Ok(())
    }

    /// What this tab printed on its console (`console.log: …`, `console.error: …`) and
    /// its uncaught exceptions (`uncaught: …`), in order, since it was opened: as far
    /// as CDP has delivered them by the last command (an [`eval`](Self::eval) first
    /// brings them up to date).
    pub fn console(&self) -> Vec<String> {
        let _ = self.eval("0");
        let cdp = self.browser.cdp.borrow();
        cdp.console
            .iter()
            .filter(|(session, _)| *session == self.session)
            .map(|(_, text)| text.clone())
            .collect()
    }

    /// Sends a CDP command to this tab and returns its result.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        self.browser
            .cdp
            .borrow_mut()
            .call(Some(&self.session), method, params)
    }

    /// Closes the tab.
    pub fn close(self) {
        let _ = self.browser.cdp.borrow_mut().call(
            None,
            "Target.closeTarget",
            json!({ "targetId": self.target }),
        );
    }
}

/// True for what JavaScript takes as true in a condition.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0 && !n.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// The CDP connection: one WebSocket to the browser endpoint, pages reached
/// through their session ids (flat mode).
struct Cdp {
    ws: Option<WebSocket<TcpStream>>,
    next_id: u64,
    /// What pages said on their console or threw: (session id, text), in order.
    console: Vec<(String, String)>,
}

impl Cdp {
    fn placeholder() -> Cdp {
        Cdp {
            ws: None,
            next_id: 1,
            console: Vec::new(),
        }
    }

    /// Connects to the browser's DevTools WebSocket address
    /// (`ws://127.0.0.1:PORT/devtools/browser/ID`).
    fn connect(url: &str) -> Cdp {
        let authority = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("unexpected DevTools address {url:?}"));
        let tcp = TcpStream::connect(authority)
            .unwrap_or_else(|e| panic!("connecting to DevTools at {authority}: {e}"));
        tcp.set_read_timeout(Some(COMMAND_LIMIT)).unwrap();
        tcp.set_write_timeout(Some(COMMAND_LIMIT)).unwrap();
        let (ws, _) = tungstenite::client(url, tcp)
            .unwrap_or_else(|e| panic!("DevTools handshake with {url}: {e}"));
        Cdp {
            ws: Some(ws),
            next_id: 1,
            console: Vec::new(),
        }
    }

    /// Sends `method` (to the page of `session`, or to the browser) and
    /// waits for its answer, skipping events; the result, or the error CDP
    /// gave.
    fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        let ws = self.ws.as_mut().ok_or("no DevTools connection")?;
        ws.send(Message::text(command.to_string()))
            .map_err(|e| format!("sending {method}: {e}"))?;
        let deadline = Instant::now() + COMMAND_LIMIT;
        loop {
            let msg = match ws.read() {
                Ok(msg) => msg,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    return Err(format!("{method}: no answer within {COMMAND_LIMIT:?}"));
                }
                Err(e) => return Err(format!("{method}: DevTools connection: {e}")),
            };
            let Message::Text(text) = msg else { continue };
            let answer: Value =
                serde_json::from_str(&text).map_err(|e| format!("{method}: bad JSON: {e}"))?;
            if answer["id"].as_u64() == Some(id) {
                if let Some(error) = answer.get("error") {
                    return Err(format!("{method}: {error}"));
                }
                return Ok(answer["result"].clone());
            }
            // An event, or the answer to a command given up on: not ours. Console
            // output and uncaught exceptions are kept for `Page::console`.
            keep_console(&mut self.console, &answer);
            if Instant::now() >= deadline {
                return Err(format!("{method}: no answer within {COMMAND_LIMIT:?}"));
            }
        }
    }
}

/// Keeps in `console` the text of a console call or an uncaught exception event.
fn keep_console(console: &mut Vec<(String, String)>, event: &Value) {
    let session = event["sessionId"].as_str().unwrap_or_default().to_string();
    let params = &event["params"];
    let text = match event["method"].as_str() {
        Some("Runtime.consoleAPICalled") => {
            let args: Vec<String> = params["args"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|arg| match &arg["value"] {
                    Value::String(s) => s.clone(),
                    Value::Null => arg["description"].as_str().unwrap_or("").to_string(),
                    other => other.to_string(),
                })
                .collect();
            format!(
                "console.{}: {}",
                params["type"].as_str().unwrap_or("log"),
                args.join(" ")
            )
        }
        Some("Runtime.exceptionThrown") => {
            let details = &params["exceptionDetails"];
            let text = details["exception"]["description"]
                .as_str()
                .or_else(|| details["text"].as_str())
                .unwrap_or("exception");
            format!("uncaught: {text}")
        }
        _ => return,
    };
    console.push((session, text));
}

/// A number unique within this process, for profile directory names.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Decodes standard base64 (with padding), as CDP sends binary data.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let produced = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + produced]);
    }
    Some(out)
}
