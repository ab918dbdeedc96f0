//! Autobahn|Testsuite client on tokio-tungstenite: the testee that `scripts/autobahn.sh
//! server` was checked with before corering had a WebSocket client. It talks to a running
//! `wstest -m fuzzingserver`: asks `/getCaseCount`, runs every case on
//! `/runCase?case=N&agent=AGENT` by echoing each text or binary message back unchanged
//! (tungstenite answers pings and closes), then asks `/updateReports?agent=AGENT` so that
//! the server writes its report.
//!
//! `tungstenite_client --url ws://127.0.0.1:9001 [--agent NAME]` prints one line per case
//! that ended in an error of the client (most are the protocol violations the cases
//! provoke on purpose) and exits with status 0 once the reports are updated, 1 if the
//! fuzzing server cannot be reached.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{client_async, WebSocketStream};

const NAME: &str = "tungstenite_client";

/// Opens `url` (`ws://HOST:PORT/...`) over a fresh TCP connection.
async fn open(url: &str) -> Result<WebSocketStream<TcpStream>, Error> {
    let authority = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| Error::Url(tokio_tungstenite::tungstenite::error::UrlError::NoHostName))?;
    let tcp = TcpStream::connect(authority).await?;
    tcp.set_nodelay(true)?;
    let (ws, _) = client_async(url, tcp).await?;
    Ok(ws)
}

async fn case_count(base: &str) -> Result<u32, Error> {
    let mut ws = open(&format!("{base}/getCaseCount")).await?;
    while let Some(msg) = ws.next().await {
        if let Message::Text(text) = msg? {
            return text
                .trim()
                .parse()
                .map_err(|_| Error::Utf8(format!("case count {text:?}")));
        }
    }
    Err(Error::ConnectionClosed)
}

async fn run_case(base: &str, case: u32, agent: &str) -> Result<(), Error> {
    let mut ws = open(&format!("{base}/runCase?case={case}&agent={agent}")).await?;
    while let Some(msg) = ws.next().await {
        let msg = msg?;
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await?;
        }
    }
    Ok(())
}

async fn update_reports(base: &str, agent: &str) -> Result<(), Error> {
    let mut ws = open(&format!("{base}/updateReports?agent={agent}")).await?;
    ws.close(None).await?;
    while ws.next().await.is_some() {}
    Ok(())
}

async fn run(base: &str, agent: &str) -> Result<(), Error> {
    let count = case_count(base).await?;
    println!("{NAME}: {count} cases");
    for case in 1..=count {
        if let Err(e) = run_case(base, case, agent).await {
            println!("{NAME}: case {case}: {e}");
        }
    }
    update_reports(base, agent).await
}

fn main() {
    let usage = format!("usage: {NAME} --url ws://HOST:PORT [--agent NAME]");
    let mut url = None;
    let mut agent = "tungstenite".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--url", Some(v)) => url = Some(v),
            ("--agent", Some(v)) => agent = v,
            _ => corering_http_peers::fail(NAME, &format!("bad argument {arg:?}"), &usage),
        }
    }
    let Some(url) = url else {
        corering_http_peers::fail(NAME, "--url is required", &usage)
    };
    let base = url.trim_end_matches('/');
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("building the tokio runtime");
    if let Err(e) = rt.block_on(run(base, &agent)) {
        eprintln!("{NAME}: {e}");
        std::process::exit(1);
    }
}
