//! The server counts with the binary's own client mode and stops cleanly
//! on SIGTERM.

mod support;

use std::process::Command;

#[test]
fn serves_and_stops() {
    let bin = env!("CARGO_BIN_EXE_{{project-name}}");
    let server = support::Server::start(bin);
    let addr = server.addr.to_string();
    for (args, want) in [
        (&["incr", "hits", "3"][..], "hits = 3"),
        (&["get", "hits"][..], "hits = 3"),
    ] {
        let out = Command::new(bin)
            .args(["--client", "--addr", &addr])
            .args(args)
            .output()
            .expect("run the client");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want);
    }
    server.stop();
}
