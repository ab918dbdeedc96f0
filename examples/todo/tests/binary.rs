//! The `todo` binary as a user runs it: the command line, then CRUD with
//! curl on SQLite, then SIGTERM (exit 0).

mod common;

use std::process::Command;

use common::api::{self, Client};
use common::binary::{run, Running};
use common::tempdir::TempDir;
use serde_json::{json, Value};

/// Runs curl with `args` against the server; the body and the status.
fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let (body, code) = text.rsplit_once('\n').expect("status line");
    (code.parse().expect("a status"), body.to_owned())
}

fn curl_installed() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn crud_with_curl_then_sigterm() {
    let dir = TempDir::new("bin-sqlite");
    let db = format!("sqlite://{}", dir.path().join("todo.db").display());
    let server = Running::start(&["--database", &db]);
    let base = format!("http://{}", server.addr);
    if !curl_installed() {
        eprintln!("SKIP: curl not found; the binary is checked with ureq only");
        api::crud_round(&Client::new(server.addr));
        server.stop();
        return;
    }
    let todos = format!("{base}/todos");
    let json_ct = "content-type: application/json";
    let (code, body) = curl(&["-H", json_ct, "-d", r#"{"title":"from curl"}"#, &todos]);
    assert_eq!(code, 201, "{body}");
    let made: Value = serde_json::from_str(&body).unwrap();
    let id = made["id"].as_i64().unwrap();
    assert_eq!(
        made,
        json!({ "id": id, "title": "from curl", "done": false })
    );
    let one = format!("{todos}/{id}");
    let (code, body) = curl(&["-X", "PATCH", "-H", json_ct, "-d", r#"{"done":true}"#, &one]);
    assert_eq!(
        (
            code,
            serde_json::from_str::<Value>(&body).unwrap()["done"].clone()
        ),
        (200, json!(true))
    );
    let (code, body) = curl(&[&todos]);
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!([{ "id": id, "title": "from curl", "done": true }])
    );
    // Bad input: curl's default form content type, and broken JSON.
    let (code, body) = curl(&["-d", "title=x", &todos]);
    assert_eq!(code, 415, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "unsupported media type"
    );
    let (code, _) = curl(&["-H", json_ct, "-d", "{oops", &todos]);
    assert_eq!(code, 400);
    let (code, body) = curl(&["-X", "DELETE", &one]);
    assert_eq!((code, body.as_str()), (204, ""));
    let (code, body) = curl(&[&one]);
    assert_eq!(code, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "not found"
    );
    let (code, body) = curl(&[&format!("{base}/")]);
    assert_eq!(code, 200);
    assert!(body.contains("<title>corering todo</title>"));
    server.stop();
    assert!(
        dir.path().join("todo.db").is_file(),
        "the database file is where --database said"
    );
}

#[test]
fn help_lists_the_flags() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    for flag in [
        "--addr",
        "--workers",
        "--database",
        "sqlite://todo.db",
        "--static",
    ] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}: {help}"
        );
    }
}

#[test]
fn bad_command_lines_are_refused() {
    let out = run(&["--no-such-flag"]);
    assert!(!out.status.success(), "an unknown flag is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));

    let out = run(&["--addr", "127.0.0.1:0", "--database", "mysql://localhost/x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL"), "{err}");

    let out = run(&[
        "--addr",
        "127.0.0.1:0",
        "--database",
        "sqlite:///nonexistent-dir/x/todo.db",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));

    let out = run(&[
        "--addr",
        "127.0.0.1:0",
        "--static",
        "/nonexistent-dir/static",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a directory"));
}

#[test]
fn the_page_is_found_whatever_the_working_directory() {
    // Started from a directory with no `static/` in it: the default is
    // the package's own `static/`, found through CARGO_MANIFEST_DIR.
    let dir = TempDir::new("bin-cwd");
    let db = format!("sqlite://{}", dir.path().join("todo.db").display());
    let server = Running::start_in(dir.path(), &["--database", &db]);
    let page = Client::new(server.addr).get("/");
    assert_eq!(page.status, 200, "{page:?}");
    let html = page.body.as_str().expect("HTML text");
    assert!(html.contains("<title>corering todo</title>"), "{html}");
    server.stop();
}

#[test]
fn static_files_come_from_the_static_dir_on_disk() {
    let dir = TempDir::new("bin-static");
    let db = format!("sqlite://{}", dir.path().join("todo.db").display());
    let files = dir.path().join("www");
    std::fs::create_dir(&files).unwrap();
    std::fs::write(files.join("app.js"), "console.log('on disk');\n").unwrap();
    let www = files.display().to_string();
    let server = Running::start(&["--database", &db, "--static", &www]);
    let c = Client::new(server.addr);
    let js = c.get("/app.js");
    assert_eq!(js.status, 200, "{js:?}");
    assert_eq!(js.body.as_str(), Some("console.log('on disk');\n"));
    // A file written after the start is served too: nothing is compiled in.
    std::fs::write(files.join("late.txt"), "late").unwrap();
    assert_eq!(c.get("/late.txt").body.as_str(), Some("late"));
    // No index.html in this directory: `/` is the JSON 404, like any miss.
    for miss in ["/", "/nothing.css", "/todos/1/extra"] {
        let a = c.get(miss);
        assert_eq!((a.status, a.error()), (404, "not found"), "{miss}: {a:?}");
    }
    // The database file next to the directory is out of reach.
    let a = c.get("/../todo.db");
    assert!(a.status >= 400, "{a:?}");
    api::crud_round(&c);
    server.stop();
}
