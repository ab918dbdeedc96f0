//! `examples/kv` under a long pipelined stream: 260 MB of `SET key <100
//! bytes>` to one key, written in uneven pieces without waiting for
//! replies while another thread reads every `+OK` back (so the server is
//! never blocked by this client). The server's request reader must stay
//! bounded however long the stream: its assembly buffer (reported by
//! `INFO`) stays tiny, it copies only the requests that span receive
//! buffers, and the process's peak RSS stays near its baseline (it reached
//! ~100 MB when the buffer grew with the stream).

mod kv_common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use kv_common::{resp_request, KvServer};
use redis::Value;

/// Bytes of requests in the stream.
const STREAM: usize = 260_000_000;
/// Length of each value.
const VALUE: usize = 100;
/// The reply to every SET.
const OK: &[u8] = b"+OK\r\n";

/// The value of request `i`: zeros ending in `i`'s decimal digits.
fn value(i: u64) -> Vec<u8> {
    format!("{i:0VALUE$}").into_bytes()
}

/// A field of `INFO`'s text.
fn info_field(info: &str, name: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("INFO has no {name}: {info}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("INFO {name}: {e}"))
}

fn info(con: &mut redis::Connection) -> String {
    match redis::cmd("INFO").query(con).expect("INFO") {
        Value::BulkString(b) => String::from_utf8(b).expect("INFO is text"),
        v => panic!("INFO: {v:?}"),
    }
}

/// Peak resident set size of process `pid` (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[test]
fn long_pipelined_set_stream_keeps_the_reader_bounded() {
    let kv = KvServer::start(1);
    let mut s = kv.raw();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let template = resp_request(&[b"SET", b"key", &value(0)]);
    let req_len = template.len();
    let n = (STREAM / req_len) as u64;
    let sent_bytes = n * req_len as u64;
    let digits_at = req_len - 2 - 20;

    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        // Requests are built a batch at a time and written in pieces of
        // uneven sizes, so they straddle the server's receive buffers at
        // every offset.
        let mut batch = Vec::with_capacity(1000 * template.len());
        let mut piece = 1usize;
        let mut i = 0u64;
        while i < n {
            batch.clear();
            for _ in 0..1000.min(n - i) {
                let at = batch.len() + digits_at;
                batch.extend_from_slice(&template);
                batch[at..at + 20].copy_from_slice(format!("{i:020}").as_bytes());
                i += 1;
            }
            let mut off = 0;
            while off < batch.len() {
                let end = (off + piece).min(batch.len());
                w.write_all(&batch[off..end]).expect("write requests");
                off = end;
                piece = (piece * 7 + 13) % 70_000 + 1;
            }
        }
    });

    // Every reply is read as it comes and must be `+OK`.
    let mut buf = vec![0u8; 64 << 10];
    let mut got = 0u64;
    let want = n * OK.len() as u64;
    while got < want {
        let k = s.read(&mut buf).expect("read replies");
        assert!(k > 0, "kv closed after {} replies", got / OK.len() as u64);
        for (j, &b) in buf[..k].iter().enumerate() {
            let at = got + j as u64;
            assert_eq!(
                b,
                OK[(at % OK.len() as u64) as usize],
                "byte {at} of the replies is not part of +OK"
            );
        }
        got += k as u64;
    }
    writer.join().unwrap();
    s.shutdown(Shutdown::Both).unwrap();
    drop(s);

    // The key holds the last value written: every request decoded right.
    let mut c = kv.client();
    let last: Vec<u8> = redis::cmd("GET").arg("key").query(&mut c).expect("GET");
    assert_eq!(last, value(n - 1));

    // The stream's connection has ended once its bytes are counted.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = info(&mut c);
        if info_field(&text, "reader_bytes_received") >= sent_bytes {
            break text;
        }
        assert!(Instant::now() < deadline, "stream not counted: {text}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let peak = info_field(&text, "reader_peak_capacity");
    let received = info_field(&text, "reader_bytes_received");
    let copied = info_field(&text, "reader_bytes_copied");
    eprintln!("kv reader: peak capacity {peak} B, copied {copied} of {received} B");
    assert!(
        peak <= 4096,
        "assembly buffer reached {peak} bytes for {req_len}-byte requests"
    );
    // About one request per receive buffer spans two (1.6% of the bytes
    // with full 8 KiB buffers); an assembly buffer that never empties
    // copies nearly all of them.
    assert!(
        copied * 5 < received,
        "copied {copied} of {received} bytes: requests within one buffer were copied"
    );
    let rss = peak_rss_kib(kv.pid());
    eprintln!("kv peak RSS {rss} KiB");
    assert!(rss < 40 << 10, "kv's peak RSS was {rss} KiB");
    assert!(kv.stop(Duration::from_secs(10)).success());
}
