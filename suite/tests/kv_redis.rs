//! `examples/kv` driven by the `redis` crate (a client nobody here wrote) and
//! by raw sockets for what a well-behaved client never sends.
//!
//! Every test starts its own server with two workers, so keys are spread
//! over two shards and cross-worker calls are exercised.

mod kv_common;

use std::io::Write;
use std::net::Shutdown;
use std::time::{Duration, Instant};

use kv_common::{exchange, read_to_close, resp_request, KvServer};
use redis::{cmd, Connection, RedisResult, Value};

/// Runs one command.
fn run(con: &mut Connection, args: &[&[u8]]) -> RedisResult<Value> {
    let mut c = cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

/// Runs one command that must succeed.
#[track_caller]
fn ok(con: &mut Connection, args: &[&str]) -> Value {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    run(con, &bytes).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Runs one command that must fail; returns the error text.
#[track_caller]
fn err(con: &mut Connection, args: &[&str]) -> String {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    match run(con, &bytes) {
        Ok(v) => panic!("{args:?}: expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn int(i: i64) -> Value {
    Value::Int(i)
}

#[test]
fn connection_and_server_commands() {
    let kv = KvServer::start(2);
    let mut c = kv.client();
    assert_eq!(ok(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
    assert_eq!(ok(&mut c, &["ping", "hi there"]), bulk("hi there"));
    assert_eq!(ok(&mut c, &["ECHO", "hello"]), bulk("hello"));
    assert_eq!(ok(&mut c, &["SELECT", "0"]), Value::Okay);
    assert!(err(&mut c, &["SELECT", "1"]).contains("DB index is out of range"));
    assert_eq!(ok(&mut c, &["CLIENT", "SETNAME", "t"]), Value::Okay);
    assert_eq!(ok(&mut c, &["COMMAND"]), Value::Array(vec![]));
    assert_eq!(ok(&mut c, &["COMMAND", "DOCS"]), Value::Array(vec![]));
    assert_eq!(
        ok(&mut c, &["CONFIG", "GET", "save"]),
        Value::Array(vec![bulk("save"), bulk("")])
    );
    assert_eq!(
        ok(&mut c, &["CONFIG", "GET", "appendonly"]),
        Value::Array(vec![bulk("appendonly"), bulk("no")])
    );
    match ok(&mut c, &["INFO"]) {
        Value::BulkString(b) => assert!(String::from_utf8_lossy(&b).contains("redis_version:")),
        v => panic!("INFO: {v:?}"),
    }
    assert!(err(&mut c, &["ECHO"]).contains("wrong number of arguments for 'echo' command"));
    assert!(err(&mut c, &["GET", "a", "b"]).contains("wrong number of arguments for 'get' command"));
    let e = err(&mut c, &["NOSUCH", "x", "y"]);
    assert!(e.contains("unknown command 'NOSUCH'"), "{e}");
    assert!(e.contains("'x' 'y'"), "{e}");
    // The connection is still fine after errors.
    assert_eq!(ok(&mut c, &["PING"]), Value::SimpleString("PONG".into()));

    // QUIT answers +OK and closes.
    let mut raw = kv.raw();
    raw.write_all(b"*1\r\n$4\r\nQUIT\r\n").unwrap();
    assert_eq!(read_to_close(&mut raw), b"+OK\r\n");
}

#[test]
fn get_set_and_set_options() {
    let kv = KvServer::start(2);
    let mut c = kv.client();
    assert_eq!(ok(&mut c, &["GET", "missing"]), Value::Nil);
    assert_eq!(ok(&mut c, &["SET", "k", "v1"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("v1"));
    // NX / XX
    assert_eq!(ok(&mut c, &["SET", "k", "v2", "NX"]), Value::Nil);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("v1"));
    assert_eq!(ok(&mut c, &["SET", "k", "v2", "xx"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("v2"));
    assert_eq!(ok(&mut c, &["SET", "new", "a", "XX"]), Value::Nil);
    assert_eq!(ok(&mut c, &["EXISTS", "new"]), int(0));
    assert_eq!(ok(&mut c, &["SET", "new", "a", "NX"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "new"]), bulk("a"));
    // GET option returns the old value.
    assert_eq!(ok(&mut c, &["SET", "k", "v3", "GET"]), bulk("v2"));
    assert_eq!(ok(&mut c, &["SET", "fresh", "x", "GET"]), Value::Nil);
    assert_eq!(ok(&mut c, &["SET", "k", "v4", "NX", "GET"]), bulk("v3"));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("v3"));
    // EX / PX set a TTL; a plain SET clears it, KEEPTTL keeps it.
    assert_eq!(ok(&mut c, &["SET", "t", "1", "EX", "100"]), Value::Okay);
    assert_eq!(ok(&mut c, &["TTL", "t"]), int(100));
    assert_eq!(ok(&mut c, &["SET", "t", "2", "KEEPTTL"]), Value::Okay);
    assert_eq!(ok(&mut c, &["TTL", "t"]), int(100));
    assert_eq!(ok(&mut c, &["SET", "t", "3"]), Value::Okay);
    assert_eq!(ok(&mut c, &["TTL", "t"]), int(-1));
    assert_eq!(ok(&mut c, &["SET", "p", "1", "PX", "50000"]), Value::Okay);
    match ok(&mut c, &["PTTL", "p"]) {
        Value::Int(ms) => assert!((49_000..=50_000).contains(&ms), "PTTL {ms}"),
        v => panic!("PTTL: {v:?}"),
    }
    // A short PX really expires.
    assert_eq!(ok(&mut c, &["SET", "short", "1", "PX", "30"]), Value::Okay);
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(ok(&mut c, &["GET", "short"]), Value::Nil);
    assert_eq!(ok(&mut c, &["TTL", "short"]), int(-2));
    // Option errors.
    assert!(err(&mut c, &["SET", "k", "v", "NX", "XX"]).contains("syntax error"));
    assert!(err(&mut c, &["SET", "k", "v", "EX"]).contains("syntax error"));
    assert!(err(&mut c, &["SET", "k", "v", "EX", "1", "PX", "1"]).contains("syntax error"));
    assert!(err(&mut c, &["SET", "k", "v", "BOGUS"]).contains("syntax error"));
    assert!(err(&mut c, &["SET", "k", "v", "EX", "0"]).contains("invalid expire time"));
    assert!(err(&mut c, &["SET", "k", "v", "PX", "-5"]).contains("invalid expire time"));
    assert!(err(&mut c, &["SET", "k", "v", "EX", "x"]).contains("not an integer"));
    assert!(err(&mut c, &["SET", "k"]).contains("wrong number of arguments"));
    assert_eq!(
        ok(&mut c, &["GET", "k"]),
        bulk("v3"),
        "failed SETs change nothing"
    );
}

#[test]
fn counters() {
    let kv = KvServer::start(2);
    let mut c = kv.client();
    assert_eq!(ok(&mut c, &["INCR", "n"]), int(1));
    assert_eq!(ok(&mut c, &["INCR", "n"]), int(2));
    assert_eq!(ok(&mut c, &["INCRBY", "n", "40"]), int(42));
    assert_eq!(ok(&mut c, &["DECR", "n"]), int(41));
    assert_eq!(ok(&mut c, &["DECRBY", "n", "50"]), int(-9));
    assert_eq!(ok(&mut c, &["GET", "n"]), bulk("-9"));
    assert_eq!(ok(&mut c, &["DECR", "fresh"]), int(-1));
    assert_eq!(ok(&mut c, &["INCRBY", "fresh2", "-7"]), int(-7));
    ok(&mut c, &["SET", "s", "abc"]);
    assert!(err(&mut c, &["INCR", "s"]).contains("not an integer"));
    ok(&mut c, &["SET", "s", " 1"]);
    assert!(err(&mut c, &["INCR", "s"]).contains("not an integer"));
    assert!(err(&mut c, &["INCRBY", "n", "1.5"]).contains("not an integer"));
    ok(&mut c, &["SET", "big", &i64::MAX.to_string()]);
    assert!(err(&mut c, &["INCR", "big"]).contains("overflow"));
    assert_eq!(ok(&mut c, &["GET", "big"]), bulk(&i64::MAX.to_string()));
    assert!(err(&mut c, &["DECRBY", "n", &i64::MIN.to_string()]).contains("overflow"));
    // INCR keeps the TTL.
    ok(&mut c, &["SET", "ttl", "5", "EX", "100"]);
    assert_eq!(ok(&mut c, &["INCR", "ttl"]), int(6));
    assert_eq!(ok(&mut c, &["TTL", "ttl"]), int(100));
}

#[test]
fn expire_ttl_and_sweep() {
    let kv = KvServer::start(2);
    let mut c = kv.client();
    assert_eq!(ok(&mut c, &["EXPIRE", "none", "10"]), int(0));
    assert_eq!(ok(&mut c, &["TTL", "none"]), int(-2));
    assert_eq!(ok(&mut c, &["PTTL", "none"]), int(-2));
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(ok(&mut c, &["TTL", "k"]), int(-1));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "100"]), int(1));
    assert_eq!(ok(&mut c, &["TTL", "k"]), int(100));
    assert_eq!(ok(&mut c, &["PEXPIRE", "k", "200000"]), int(1));
    assert_eq!(ok(&mut c, &["TTL", "k"]), int(200));
    // NX / XX / GT / LT
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "50", "NX"]), int(0));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "50", "GT"]), int(0));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "50", "LT"]), int(1));
    assert_eq!(ok(&mut c, &["TTL", "k"]), int(50));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "60", "XX", "GT"]), int(1));
    assert_eq!(ok(&mut c, &["PERSIST", "k"]), int(1));
    assert_eq!(ok(&mut c, &["PERSIST", "k"]), int(0));
    assert_eq!(ok(&mut c, &["TTL", "k"]), int(-1));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "50", "XX"]), int(0));
    assert_eq!(
        ok(&mut c, &["EXPIRE", "k", "50", "GT"]),
        int(0),
        "no TTL counts as infinite"
    );
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "50", "NX"]), int(1));
    assert!(err(&mut c, &["EXPIRE", "k", "5", "NX", "XX"]).contains("not compatible"));
    assert!(err(&mut c, &["EXPIRE", "k", "5", "GT", "LT"]).contains("not compatible"));
    assert!(err(&mut c, &["EXPIRE", "k", "5", "SOON"]).contains("Unsupported option"));
    assert!(err(&mut c, &["EXPIRE", "k", "soon"]).contains("not an integer"));
    assert!(err(&mut c, &["EXPIRE", "k", &i64::MAX.to_string()]).contains("invalid expire time"));
    // A non-positive TTL deletes the key.
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "-1"]), int(1));
    assert_eq!(ok(&mut c, &["EXISTS", "k"]), int(0));
    // Expiry happens: lazily on access...
    ok(&mut c, &["SET", "soon", "v"]);
    assert_eq!(ok(&mut c, &["PEXPIRE", "soon", "30"]), int(1));
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(ok(&mut c, &["EXISTS", "soon"]), int(0));
    // ...and actively: keys nobody touches leave DBSIZE (which counts
    // expired keys not yet removed, as in redis) within a few sweeps.
    ok(&mut c, &["FLUSHALL"]);
    for i in 0..200 {
        ok(&mut c, &["SET", &format!("tmp{i}"), "v", "PX", "20"]);
    }
    ok(&mut c, &["SET", "stays", "v"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while ok(&mut c, &["DBSIZE"]) != int(1) {
        assert!(Instant::now() < deadline, "expired keys were not swept");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn multi_key_commands_across_shards() {
    let kv = KvServer::start(2);
    let mut c = kv.client();
    let keys: Vec<String> = (0..100).map(|i| format!("key:{i}")).collect();
    let mut mset = vec!["MSET"];
    let values: Vec<String> = (0..100).map(|i| format!("value-{i}")).collect();
    for (k, v) in keys.iter().zip(&values) {
        mset.push(k);
        mset.push(v);
    }
    assert_eq!(ok(&mut c, &mset), Value::Okay);
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(100));
    // MGET answers in request order, with nil for missing keys.
    let mut mget = vec!["MGET", "nope"];
    mget.extend(keys.iter().rev().map(String::as_str));
    let mut want = vec![Value::Nil];
    want.extend(values.iter().rev().map(|v| bulk(v)));
    assert_eq!(ok(&mut c, &mget), Value::Array(want));
    // Every key is reachable by single-key commands from any worker.
    for (k, v) in keys.iter().zip(&values) {
        assert_eq!(ok(&mut c, &["GET", k]), bulk(v));
    }
    // KEYS with patterns.
    let mut want: Vec<Value> = keys.iter().map(|k| bulk(k)).collect();
    want.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(sorted_keys(&mut c, "*"), want);
    let want: Vec<Value> = (10..20).map(|i| bulk(&format!("key:{i}"))).collect();
    assert_eq!(sorted_keys(&mut c, "key:1?"), want);
    assert_eq!(
        sorted_keys(&mut c, "key:[5-6]"),
        vec![bulk("key:5"), bulk("key:6")]
    );
    assert_eq!(sorted_keys(&mut c, "nothing*"), vec![]);
    // EXISTS counts repeats; DEL counts keys removed.
    assert_eq!(
        ok(&mut c, &["EXISTS", "key:1", "key:1", "key:2", "nope"]),
        int(3)
    );
    assert_eq!(
        ok(&mut c, &["DEL", "key:1", "key:2", "key:1", "nope"]),
        int(2)
    );
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(98));
    assert_eq!(ok(&mut c, &["FLUSHALL"]), Value::Okay);
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(0));
    assert_eq!(ok(&mut c, &["KEYS", "*"]), Value::Array(vec![]));
    assert!(err(&mut c, &["MSET", "a"]).contains("wrong number of arguments for 'mset'"));
    assert!(err(&mut c, &["MSET", "a", "1", "b"]).contains("wrong number of arguments"));
    assert!(err(&mut c, &["MGET"]).contains("wrong number of arguments"));
}

/// `KEYS pattern`, sorted.
fn sorted_keys(c: &mut Connection, pattern: &str) -> Vec<Value> {
    let mut got = match ok(c, &["KEYS", pattern]) {
        Value::Array(v) => v,
        v => panic!("KEYS: {v:?}"),
    };
    got.sort_by_key(|v| format!("{v:?}"));
    got
}

#[test]
fn pipelining_answers_in_order() {
    let kv = KvServer::start(2);
    let mut c = kv.client();
    let mut p = redis::pipe();
    for i in 0..500i64 {
        let k = format!("p{}", i % 37);
        p.cmd("SET").arg(&k).arg(i);
        p.cmd("GET").arg(&k);
        p.cmd("INCR").arg(&k);
    }
    let replies: Vec<Value> = p.query(&mut c).unwrap();
    assert_eq!(replies.len(), 1500);
    for (i, r) in replies.chunks(3).enumerate() {
        assert_eq!(r[0], Value::Okay);
        assert_eq!(r[1], bulk(&i.to_string()));
        assert_eq!(r[2], int(i as i64 + 1));
    }
    // Raw pipelined burst with an error and an inline command in the middle,
    // sent in small pieces so requests straddle receive buffers.
    let mut raw = kv.raw();
    let mut burst = Vec::new();
    let mut want = Vec::new();
    for i in 0..300 {
        let k = format!("r{i}");
        burst.extend(resp_request(&[b"SET", k.as_bytes(), b"x"]));
        want.extend_from_slice(b"+OK\r\n");
        if i % 100 == 50 {
            burst.extend_from_slice(b"BOGUS 1\r\n");
            want.extend_from_slice(
                b"-ERR unknown command 'BOGUS', with args beginning with: '1' \r\n",
            );
        }
        burst.extend(resp_request(&[b"GET", k.as_bytes()]));
        want.extend_from_slice(b"$1\r\nx\r\n");
    }
    let writer = {
        let mut w = raw.try_clone().unwrap();
        std::thread::spawn(move || {
            for piece in burst.chunks(7) {
                w.write_all(piece).unwrap();
            }
        })
    };
    exchange(&mut raw, b"", &want);
    writer.join().unwrap();
}

#[test]
fn large_and_binary_values() {
    let kv = KvServer::start(2);
    let mut c = kv.client();
    let big: Vec<u8> = (0..(1 << 20))
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for key in [&b"big"[..], b"big2"] {
        assert_eq!(run(&mut c, &[b"SET", key, &big]).unwrap(), Value::Okay);
        assert_eq!(
            run(&mut c, &[b"GET", key]).unwrap(),
            Value::BulkString(big.clone())
        );
    }
    // Binary-safe keys and values: NUL, CR LF, high bytes, empty.
    let keys: [&[u8]; 4] = [b"a\0b", b"line\r\nbreak", &[0xff, 0xfe, 0x80], b""];
    for (i, k) in keys.iter().enumerate() {
        let v = [k, &b"\r\n$-1\r\n"[..], &[i as u8, 0]].concat();
        assert_eq!(run(&mut c, &[b"SET", k, &v]).unwrap(), Value::Okay);
        assert_eq!(run(&mut c, &[b"GET", k]).unwrap(), Value::BulkString(v));
    }
    assert_eq!(run(&mut c, &[b"SET", b"empty", b""]).unwrap(), Value::Okay);
    assert_eq!(
        run(&mut c, &[b"GET", b"empty"]).unwrap(),
        Value::BulkString(vec![])
    );
    assert_eq!(run(&mut c, &[b"EXISTS", b"", b"a\0b"]).unwrap(), int(2));
    // A large MSET spanning many receive buffers (20,000 arguments).
    let mut args: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
    for i in 0..10_000 {
        args.push(format!("m{i}").into_bytes());
        args.push(format!("{i:0>20}").into_bytes());
    }
    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    assert_eq!(run(&mut c, &refs).unwrap(), Value::Okay);
    assert_eq!(
        ok(&mut c, &["GET", "m9999"]),
        bulk(&format!("{:0>20}", 9999))
    );
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(10_000 + 2 + 4 + 1));
}

#[test]
fn inline_commands() {
    let kv = KvServer::start(2);
    let mut s = kv.raw();
    exchange(&mut s, b"PING\r\n", b"+PONG\r\n");
    exchange(&mut s, b"SET  inline\tvalue\r\n", b"+OK\r\n");
    exchange(&mut s, b"GET inline\n", b"$5\r\nvalue\r\n");
    exchange(&mut s, b"\r\n\nPING\r\n", b"+PONG\r\n");
    exchange(&mut s, b"*0\r\n*-1\r\nECHO hi\r\n", b"$2\r\nhi\r\n");
    exchange(
        &mut s,
        b"incr counter\r\nincrby counter 9\r\n",
        b":1\r\n:10\r\n",
    );
}

/// Sends `request` on a fresh connection and expects `-ERR Protocol error: <what>`
/// followed by the server closing the connection.
#[track_caller]
fn protocol_error(kv: &KvServer, request: &[u8], what: &str) {
    let mut s = kv.raw();
    s.write_all(request).unwrap();
    let got = read_to_close(&mut s);
    let want = format!("-ERR Protocol error: {what}\r\n");
    assert_eq!(
        String::from_utf8_lossy(&got),
        want,
        "reply to {:?}",
        String::from_utf8_lossy(request)
    );
}

#[test]
fn malformed_input_gets_an_error_and_closes_only_that_connection() {
    let kv = KvServer::start(2);
    let mut bystander = kv.client();
    ok(&mut bystander, &["SET", "survivor", "yes"]);
    protocol_error(&kv, b"*1\r\n+PING\r\n", "expected '$', got '+'");
    protocol_error(&kv, b"*abc\r\n", "invalid multibulk length");
    protocol_error(&kv, b"*1\r\n$-5\r\n", "invalid bulk length");
    protocol_error(&kv, b"*1\r\n$x\r\n", "invalid bulk length");
    protocol_error(&kv, b"*1\r\n$999999999999\r\n", "invalid bulk length");
    protocol_error(&kv, b"*1\r\n$600000000\r\n", "invalid bulk length");
    protocol_error(&kv, b"*2000000\r\n", "invalid multibulk length");
    protocol_error(
        &kv,
        b"*1\r\n$3\r\nGETxx\r\n",
        "expected CRLF after bulk data",
    );
    protocol_error(&kv, &vec![b'A'; 70 * 1024], "too big inline request");
    // Replies to the good requests before the bad one still come first.
    let mut s = kv.raw();
    s.write_all(b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n:1\r\n")
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&read_to_close(&mut s)),
        "+PONG\r\n+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n"
    );
    // Truncated, then closed: nothing to answer, the server just closes.
    let mut s = kv.raw();
    s.write_all(b"*2\r\n$3\r\nGET\r\n$5\r\nab").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut s), b"");
    // Everyone else is unaffected.
    assert_eq!(ok(&mut bystander, &["GET", "survivor"]), bulk("yes"));
    let mut fresh = kv.client();
    assert_eq!(ok(&mut fresh, &["GET", "survivor"]), bulk("yes"));
}

#[test]
fn sigterm_exits_cleanly_with_idle_clients() {
    let kv = KvServer::start(2);
    let mut c = kv.client();
    ok(&mut c, &["SET", "a", "b"]);
    // `Server::serve` prints where it listens before it installs its signal
    // handlers; give the main thread a moment so SIGTERM is not fatal.
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let status = kv.stop(Duration::from_secs(10));
    assert!(status.success(), "exit status {status}");
    // Idle connections are closed as soon as shutdown starts (the grace
    // period is 10 s): well under a second.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}
