//! Unit tests of `examples/kv`'s modules without a server: the RESP
//! `Command` frame (complete, incomplete and malformed input), the reply
//! encoders, glob patterns and the store's expiry.

#[allow(dead_code)]
#[path = "../../templates/kv/src/resp.rs"]
mod resp;

#[allow(dead_code)]
#[path = "../../templates/kv/src/glob.rs"]
mod glob;

#[allow(dead_code)]
#[path = "../../templates/kv/src/hash.rs"]
mod hash;

#[allow(dead_code)]
#[path = "../../templates/kv/src/store.rs"]
mod store;

use corering::frame::{DecodeErrorKind, Decoded, Frame};
use resp::Command;

/// Decodes a complete command; returns its arguments and the bytes consumed.
#[track_caller]
fn complete(buf: &[u8]) -> (Vec<Vec<u8>>, usize) {
    match Command::decode(buf) {
        Ok(Decoded::Complete { frame, consumed }) => {
            let args: Vec<Vec<u8>> = frame.args().map(<[u8]>::to_vec).collect();
            assert_eq!(args.len(), frame.argc());
            for (i, a) in args.iter().enumerate() {
                assert_eq!(frame.arg(i), Some(&a[..]), "arg({i})");
            }
            assert_eq!(frame.arg(args.len()), None);
            (args, consumed)
        }
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
    }
}

/// The protocol error text for `buf`.
#[track_caller]
fn malformed(buf: &[u8]) -> String {
    match Command::decode(buf) {
        Err(e) => resp::protocol_error(&e),
        Ok(other) => panic!(
            "{:?}: expected an error, got {other:?}",
            String::from_utf8_lossy(buf)
        ),
    }
}

fn args(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|a| a.as_bytes().to_vec()).collect()
}

#[test]
fn multibulk_commands_decode_in_place() {
    let buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\n";
    let (a, n) = complete(buf);
    assert_eq!(a, args(&["SET", "k", "value"]));
    assert_eq!(n, 31);
    let (a, n) = complete(&buf[n..]);
    assert_eq!(a, args(&["PING"]));
    assert_eq!(n, 14);
    // Binary-safe arguments, empty ones included.
    let (a, _) = complete(b"*2\r\n$4\r\na\r\nb\r\n$0\r\n\r\n");
    assert_eq!(a, vec![b"a\r\nb".to_vec(), vec![]]);
    // Empty requests decode to no arguments.
    assert_eq!(complete(b"*0\r\n").0.len(), 0);
    assert_eq!(complete(b"*-1\r\n").0.len(), 0);
}

#[test]
fn more_than_head_args_are_reached_through_the_iterator() {
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let mut buf = format!("*{}\r\n", words.len()).into_bytes();
    for w in &words {
        buf.extend(format!("${}\r\n{w}\r\n", w.len()).bytes());
    }
    let (a, n) = complete(&buf);
    assert_eq!(a, args(&refs));
    assert_eq!(n, buf.len());
    match Command::decode(&buf).unwrap() {
        Decoded::Complete { frame, .. } => {
            assert!(frame.head(&mut [&[][..]; resp::HEAD_ARGS]).is_none());
            assert_eq!(frame.arg(39), Some(&b"w39"[..]));
        }
        Decoded::Incomplete { .. } => unreachable!(),
    }
    // Inline too.
    let line = format!("{}\r\n", refs.join(" "));
    assert_eq!(complete(line.as_bytes()).0, args(&refs));
}

#[test]
fn inline_commands() {
    let (a, n) = complete(b"PING\r\nrest");
    assert_eq!((a, n), (args(&["PING"]), 6));
    let (a, n) = complete(b"  set \t k  v\n");
    assert_eq!((a, n), (args(&["set", "k", "v"]), 13));
    assert_eq!(complete(b"\r\n").0.len(), 0);
    assert_eq!(complete(b"\n").0.len(), 0);
}

#[test]
fn every_strict_prefix_is_incomplete() {
    let frames: [&[u8]; 4] = [
        b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n",
        b"*1\r\n$0\r\n\r\n",
        b"*0\r\n",
        b"GET key\r\n",
    ];
    for f in frames {
        for cut in 0..f.len() {
            match Command::decode(&f[..cut]) {
                Ok(Decoded::Incomplete { needed }) => {
                    assert!(needed >= 1);
                    assert!(
                        cut + needed <= f.len(),
                        "needed {needed} past the end at {cut} of {f:?}"
                    );
                }
                other => panic!(
                    "prefix {cut} of {:?}: {other:?}",
                    String::from_utf8_lossy(f)
                ),
            }
        }
        assert_eq!(complete(f).1, f.len());
    }
    // A known bulk length asks for all of it at once.
    match Command::decode(b"*1\r\n$100\r\nab") {
        Ok(Decoded::Incomplete { needed }) => assert_eq!(needed, 100),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_requests_are_errors() {
    assert_eq!(malformed(b"*1\r\n+PING\r\n"), "expected '$', got '+'");
    assert_eq!(malformed(b"*1\r\n\x01"), "expected '$', got byte 1");
    assert_eq!(malformed(b"*x\r\n"), "invalid multibulk length");
    assert_eq!(malformed(b"*\r\n"), "invalid multibulk length");
    assert_eq!(malformed(b"*01\r\n"), "invalid multibulk length");
    assert_eq!(malformed(b"*1\n"), "invalid multibulk length");
    assert_eq!(malformed(b"*1\rx"), "invalid multibulk length");
    assert_eq!(malformed(b"*2000000\r\n"), "invalid multibulk length");
    assert_eq!(malformed(b"*99999999999\r\n"), "invalid multibulk length");
    assert_eq!(malformed(b"*1\r\n$-1\r\n"), "invalid bulk length");
    assert_eq!(malformed(b"*1\r\n$abc\r\n"), "invalid bulk length");
    assert_eq!(malformed(b"*1\r\n$536870913\r\n"), "invalid bulk length");
    assert_eq!(
        malformed(b"*1\r\n$99999999999999999999\r\n"),
        "invalid bulk length"
    );
    assert_eq!(
        malformed(b"*1\r\n$3\r\nabcd"),
        "expected CRLF after bulk data"
    );
    assert_eq!(
        malformed(&vec![b'x'; resp::MAX_LINE + 1]),
        "too big inline request"
    );
    // The largest allowed bulk length is fine (and incomplete).
    assert!(matches!(
        Command::decode(format!("*1\r\n${}\r\n", resp::MAX_BULK).as_bytes()),
        Ok(Decoded::Incomplete { .. })
    ));
    // Errors carry the field and the offset.
    let e = Command::decode(b"*2\r\n$1\r\na\r\n!").unwrap_err();
    assert_eq!(e.path(), "Command.arg");
    assert_eq!(e.offset(), 11);
    assert_eq!(e.kind(), &DecodeErrorKind::BadTag(b'!' as u64));
}

#[test]
fn encode_round_trips_as_multibulk() {
    for input in [
        &b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..],
        b"SET k v\r\n",
        b"*1\r\n$0\r\n\r\n",
        b"*0\r\n",
    ] {
        let Ok(Decoded::Complete { frame, .. }) = Command::decode(input) else {
            panic!("decode {input:?}");
        };
        let mut out = vec![0u8; frame.encoded_len()];
        frame.encode(&mut out);
        let (again, n) = complete(&out);
        assert_eq!(n, out.len());
        assert_eq!(again, frame.args().map(<[u8]>::to_vec).collect::<Vec<_>>());
    }
}

#[test]
fn integers_parse_and_format_like_redis() {
    for (s, v) in [("0", Some(0)), ("-1", Some(-1)), ("42", Some(42))] {
        assert_eq!(resp::parse_i64(s.as_bytes()), v, "{s}");
    }
    let max = i64::MAX.to_string();
    let min = i64::MIN.to_string();
    assert_eq!(resp::parse_i64(max.as_bytes()), Some(i64::MAX));
    assert_eq!(resp::parse_i64(min.as_bytes()), Some(i64::MIN));
    for bad in [
        "",
        "-",
        "+1",
        " 1",
        "1 ",
        "01",
        "-0",
        "1.0",
        "9223372036854775808",
        "1e3",
    ] {
        assert_eq!(resp::parse_i64(bad.as_bytes()), None, "{bad:?}");
    }
    let mut buf = [0u8; 21];
    for v in [0, 7, -7, 1234567890, i64::MAX, i64::MIN] {
        assert_eq!(resp::fmt_i64(v, &mut buf), v.to_string().as_bytes());
    }
}

#[test]
fn reply_encoders() {
    let mut out = Vec::new();
    resp::int(&mut out, -12);
    resp::bulk(&mut out, b"hi");
    resp::opt_bulk(&mut out, None);
    resp::array(&mut out, 3);
    resp::error(&mut out, b"ERR bad\r\nthing");
    assert_eq!(out, b":-12\r\n$2\r\nhi\r\n$-1\r\n*3\r\n-ERR bad  thing\r\n");
}

#[test]
fn glob_patterns() {
    let cases: &[(&str, &str, bool)] = &[
        ("*", "", true),
        ("*", "anything", true),
        ("a*", "abc", true),
        ("a*", "bac", false),
        ("*c", "abc", true),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXbYY", false),
        ("h?llo", "hello", true),
        ("h?llo", "hllo", false),
        ("h[ae]llo", "hallo", true),
        ("h[ae]llo", "hillo", false),
        ("h[^e]llo", "hallo", true),
        ("h[^e]llo", "hello", false),
        ("h[a-c]llo", "hbllo", true),
        ("h[c-a]llo", "hbllo", true),
        ("h[a-c]llo", "hdllo", false),
        ("h\\*llo", "h*llo", true),
        ("h\\*llo", "hello", false),
        ("[\\]]", "]", true),
        ("key:1?", "key:10", true),
        ("key:1?", "key:1", false),
        ("**a", "a", true),
        ("a[", "a", false),
        (
            "*a*a*a*a*a*a*a*b",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            false,
        ),
    ];
    for (p, t, want) in cases {
        assert_eq!(
            glob::matches(p.as_bytes(), t.as_bytes()),
            *want,
            "{p:?} vs {t:?}"
        );
    }
}

#[test]
fn store_expiry_lazy_and_swept() {
    let mut s = store::Store::new();
    let mut clock = store::Clock::default();
    let now = clock.now();
    s.set(b"plain", b"1", 0);
    s.set(b"later", b"2", now + 60_000);
    s.set(b"gone", b"3", now.saturating_sub(1).max(1));
    assert_eq!(s.get(b"plain", &mut clock), Some(&b"1"[..]));
    assert_eq!(s.get(b"later", &mut clock), Some(&b"2"[..]));
    assert_eq!(s.key_count(), 3);
    // Lazily: touching an expired key removes it.
    assert_eq!(s.get(b"gone", &mut clock), None);
    assert_eq!(s.key_count(), 2);
    // Actively: the sweep removes due keys and skips stale deadlines.
    s.set(b"a", b"x", now + 10);
    s.set(b"b", b"x", now + 10);
    s.set(b"b", b"y", 0); // deadline cleared: its heap entry is stale
    assert!(s.has_deadlines());
    s.sweep(now + 11, 100);
    assert_eq!(s.key_count(), 3, "a swept; b kept; plain and later kept");
    assert_eq!(s.get(b"b", &mut store::Clock::default()), Some(&b"y"[..]));
    s.sweep(now + 120_000, 100);
    assert_eq!(s.key_count(), 2, "later swept");
    assert!(!s.has_deadlines());
    // A same-length overwrite reuses the value; a different length replaces it.
    s.set(b"plain", b"9", 0);
    s.set(b"plain", b"longer", 0);
    assert_eq!(s.get(b"plain", &mut clock), Some(&b"longer"[..]));
    assert!(s.remove(b"plain", &mut clock));
    assert!(!s.remove(b"plain", &mut clock));
    s.clear();
    assert_eq!(s.key_count(), 0);
}

#[test]
fn shards_spread_keys() {
    let mut counts = [0usize; 4];
    for i in 0..4000 {
        counts[hash::shard_of(format!("key:{i}").as_bytes(), 4)] += 1;
    }
    for c in counts {
        assert!((800..1200).contains(&c), "uneven shards: {counts:?}");
    }
    assert_eq!(hash::shard_of(b"anything", 1), 0);
}
