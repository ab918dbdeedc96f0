//! corering's WebSocket client under Autobahn|Testsuite's fuzzingserver:
//! an `#[ignore]`d test that `scripts/autobahn.sh server` runs (it needs
//! the suite's Python 2.7 environment and takes minutes):
//!
//! ```text
//! scripts/autobahn.sh server 1-10 -- \
//!     cargo test --release --test ws_autobahn_client -- --ignored --nocapture
//! ```
//!
//! The script starts `wstest -m fuzzingserver` and puts its URL in
//! `AUTOBAHN_URL`; this client asks `/getCaseCount`, runs every case on
//! `/runCase?case=N&agent=corering` (echoing each message it receives,
//! as the suite expects) and asks for the report with `/updateReports`.
//! The script then reads the report and fails on any case that is not OK.

use std::time::Duration;

use corering::ws::{self, Message, WsConfig};

const AGENT: &str = "corering";

/// Runs one case: echoes every message until the suite closes (or the
/// connection fails, as some cases expect).
async fn run_case(base: &str, case: u32) {
    // Group 9 sends messages of up to 16 MiB; groups 12 and 13 need
    // permessage-deflate (on by default, said here explicitly: in 13.x the
    // suite answers our offer with its various parameter sets, each
    // checked by the handshake).
    let client = ws::Client::new()
        .config(
            WsConfig::new()
                .max_message_size(64 << 20)
                .max_frame_size(64 << 20)
                .idle_timeout(Some(Duration::from_secs(60)))
                .compression(true),
        )
        .connect_timeout(Duration::from_secs(10));
    let url = format!("{base}/runCase?case={case}&agent={AGENT}");
    let ws = match client.connect(&url).await {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("case {case}: {e}");
            return;
        }
    };
    let (mut rx, tx) = ws.split();
    loop {
        match rx.recv().await {
            Ok(Some(msg)) => {
                if tx.send(msg).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(_) => break,
        }
    }
}

#[test]
#[ignore = "run by scripts/autobahn.sh server (needs the Autobahn fuzzingserver)"]
fn autobahn_fuzzingserver() {
    let base = std::env::var("AUTOBAHN_URL")
        .expect("AUTOBAHN_URL: run through scripts/autobahn.sh server")
        .trim_end_matches('/')
        .to_owned();
    corering::Runtime::new().unwrap().block_on(async {
        let mut ws = ws::connect(&format!("{base}/getCaseCount"))
            .await
            .expect("the fuzzingserver answers");
        let count: u32 = match ws.recv().await.expect("the case count") {
            Some(Message::Text(t)) => t.trim().parse().expect("a number"),
            other => panic!("expected the case count, got {other:?}"),
        };
        drop(ws);
        eprintln!("autobahn: {count} cases");
        for case in 1..=count {
            run_case(&base, case).await;
        }
        let mut ws = ws::connect(&format!("{base}/updateReports?agent={AGENT}"))
            .await
            .expect("report request");
        while let Ok(Some(_)) = ws.recv().await {}
    });
}
