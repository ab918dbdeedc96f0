//! Every example's command line, run as a child process: `--help` lists the
//! shared flags and the example's own, an unknown flag or a flag without
//! its value exits 2 naming it, and the examples' own flags still work.

mod common;

use std::process::{Command, Output, Stdio};

use common::{example_binary, start_example};

/// Each example and the flags of its own that `--help` must list.
const EXAMPLES: &[(&str, &[&str])] = &[
    ("hello", &["--tls-cert PATH", "--tls-key PATH"]),
    ("echo", &["--unix PATH", "--acceptor", "--copy"]),
    ("kv", &["--batch-wait EVENTS:MICROS|off"]),
    ("frames", &["--client"]),
    (
        "proxy",
        &["--upstream URL", "--upstream-ca PATH", "--tls-cert PATH"],
    ),
];

/// Runs example `name` with `args` to completion (it must exit by itself).
fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example_binary(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_lists_shared_and_own_flags() {
    for &(name, own) in EXAMPLES {
        for help in ["--help", "-h"] {
            let out = run(name, &[help]);
            let stdout = text(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{name} {help}: {stdout}");
            for flag in ["--addr HOST:PORT", "--workers N", "--help"]
                .iter()
                .chain(own)
            {
                assert!(
                    stdout.contains(flag),
                    "{name} {help} does not list {flag}:\n{stdout}"
                );
            }
            assert!(stdout.contains("(default 127.0.0.1:"), "{name}: {stdout}");
        }
    }
}

#[test]
fn unknown_flag_is_an_error_naming_it() {
    for &(name, _) in EXAMPLES {
        let out = run(name, &["--bogus"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} --bogus: {stderr}");
        assert!(
            stderr.contains("error: unknown flag --bogus"),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("usage:"), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: {}", text(&out.stdout));
    }
}

#[test]
fn a_flag_without_its_value_is_an_error() {
    for &(name, _) in EXAMPLES {
        for args in [&["--workers"][..], &["--workers", "--addr", "127.0.0.1:0"]] {
            let out = run(name, args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {stderr}");
            assert!(stderr.contains("--workers"), "{name}: {stderr}");
        }
        let out = run(name, &["--workers", "many"]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
    }
}

#[test]
fn own_flags_with_values_still_work() {
    // Values are checked: a malformed one exits 2 before anything starts.
    let out = run("kv", &["--batch-wait", "soon"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--batch-wait"));
    // A switch takes no value; words need --client.
    let out = run("echo", &["--acceptor=yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = run("frames", &["get", "hits"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    // Well-formed values start the servers.
    for (name, args) in [
        ("kv", &["--batch-wait", "off"][..]),
        ("kv", &["--batch-wait=16:50"][..]),
        ("echo", &["--acceptor", "--copy"][..]),
        ("proxy", &["--upstream", "127.0.0.1:9"][..]),
    ] {
        let mut all = vec!["--addr", "127.0.0.1:0", "--workers", "1"];
        all.extend_from_slice(args);
        let (mut child, addr) = start_example(name, &all);
        assert_eq!(addr.ip().to_string(), "127.0.0.1", "{name} {args:?}");
        child.kill().expect("kill");
        child.wait().expect("wait");
    }
}
