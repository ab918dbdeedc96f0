//! The server parses request heads with a fast scanner of its own and
//! hands everything it does not recognise to `httparse`
//! (`framework/src/http/scan.rs`). Here both paths meet the same bytes:
//! `parse_head` (scanner first) must give exactly what
//! `parse_head_httparse` (httparse alone, a parser nobody here wrote)
//! gives: the same head, the same field positions, the same error, or the
//! same "incomplete".
//!
//! The heads are generated: common ones, odd ones (every byte class in
//! every position, bare LFs, folding, spaces, many fields), every
//! truncation of each, and random byte flips.

use corering::http::{parse_head, parse_head_httparse, HeaderSpan, Http1Config};

/// xorshift64*: repeatable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a [u8]]) -> &'a [u8] {
        items[self.below(items.len())]
    }
    /// One of `good`, or one of `odd` once in `1 / ODD` picks.
    fn mix<'a>(&mut self, good: &[&'a [u8]], odd: &[&'a [u8]]) -> &'a [u8] {
        if self.below(ODD) == 0 {
            self.pick(odd)
        } else {
            self.pick(good)
        }
    }
}

/// One piece in this many is an odd one.
const ODD: usize = 25;

const METHODS: &[&[u8]] = &[
    b"GET", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"CONNECT", b"PATCH", b"HEAD",
];
const ODD_METHODS: &[&[u8]] = &[b"BREW", b"G\xc3T", b"", b"GE T"];
const TARGETS: &[&[u8]] = &[
    b"/",
    b"/plaintext",
    b"/a/b?c=d&e=f",
    b"*",
    b"http://example.com/x?y",
    b"example.com:443",
    b"/%2e%2e/etc",
    b"/very/long/path/that/goes/on/and/on/and/on/for/a/while/0123456789",
];
const ODD_TARGETS: &[&[u8]] = &[b"/caf\xc3\xa9", b"/\xff", b"/a\tb", b""];
const VERSIONS: &[&[u8]] = &[b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"];
const ODD_VERSIONS: &[&[u8]] = &[b"HTTP/2.0", b"HTTP/1.2", b"http/1.1", b"HTTP/1."];
const EOLS: &[&[u8]] = &[b"\r\n"];
const ODD_EOLS: &[&[u8]] = &[b"\n", b"\r", b"\n\r"];
const NAMES: &[&[u8]] = &[
    b"Host",
    b"host",
    b"Content-Length",
    b"Transfer-Encoding",
    b"Connection",
    b"Upgrade",
    b"Expect",
    b"X-Custom",
    b"User-Agent",
];
const ODD_NAMES: &[&[u8]] = &[b"", b"Bad Name", b"Bad\x7fName", b"N\xc3\xa9"];
const VALUES: &[&[u8]] = &[
    b"localhost",
    b"example.com:8080",
    b"5",
    b"0",
    b"chunked",
    b"gzip, chunked",
    b"close",
    b"keep-alive, Upgrade",
    b"websocket",
    b"100-continue",
    b"",
    b"  padded  ",
    b"\ttabbed\t",
    b"a\tb c",
    b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
];
const ODD_VALUES: &[&[u8]] = &[b"caf\xc3\xa9", b"bad\x01ctl", b"del\x7f", b"a\rb"];

/// One generated head: mostly well formed, with odd pieces mixed in.
fn head(rng: &mut Rng) -> Vec<u8> {
    let mut h = Vec::new();
    if rng.below(ODD) == 0 {
        h.extend_from_slice(rng.mix(EOLS, ODD_EOLS));
    }
    h.extend_from_slice(rng.mix(METHODS, ODD_METHODS));
    h.extend_from_slice(if rng.below(ODD) == 0 { b"  " } else { b" " });
    h.extend_from_slice(rng.mix(TARGETS, ODD_TARGETS));
    h.push(b' ');
    h.extend_from_slice(rng.mix(VERSIONS, ODD_VERSIONS));
    h.extend_from_slice(rng.mix(EOLS, ODD_EOLS));
    if rng.below(ODD) != 0 {
        h.extend_from_slice(b"Host: localhost\r\n");
    }
    let fields = match rng.below(10) {
        0 => rng.below(120),
        _ => rng.below(6),
    };
    for _ in 0..fields {
        if rng.below(4 * ODD) == 0 {
            h.push(b' ');
        }
        h.extend_from_slice(rng.mix(NAMES, ODD_NAMES));
        if rng.below(4 * ODD) == 0 {
            h.push(b' ');
        }
        h.push(b':');
        h.extend_from_slice(rng.pick(&[b"", b" ", b"  ", b"\t", b" \t "]));
        h.extend_from_slice(rng.mix(VALUES, ODD_VALUES));
        h.extend_from_slice(rng.mix(EOLS, ODD_EOLS));
        if rng.below(4 * ODD) == 0 {
            h.extend_from_slice(b" folded");
            h.extend_from_slice(rng.mix(EOLS, ODD_EOLS));
        }
    }
    h.extend_from_slice(rng.mix(EOLS, ODD_EOLS));
    if rng.below(3) == 0 {
        h.extend_from_slice(b"GET /next HTTP/1.1\r\n");
    }
    h
}

/// Both parsers on `buf`, compared.
fn same(buf: &[u8], cfg: &Http1Config) -> bool {
    let (mut a, mut b): (Vec<HeaderSpan>, Vec<HeaderSpan>) = (Vec::new(), Vec::new());
    let fast = parse_head(buf, cfg, &mut a);
    let slow = parse_head_httparse(buf, cfg, &mut b);
    assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(buf));
    if let Ok(Some(_)) = fast {
        assert_eq!(a, b, "{:?}", String::from_utf8_lossy(buf));
    }
    matches!(fast, Ok(Some(_)))
}

#[test]
fn the_scanner_agrees_with_httparse() {
    let cfgs = [
        Http1Config::new(),
        Http1Config::new()
            .max_headers(3)
            .max_target(16)
            .max_head(256),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut complete, mut cases) = (0, 0);
    for round in 0..20_000 {
        let h = head(&mut rng);
        let cfg = &cfgs[round % cfgs.len()];
        complete += usize::from(same(&h, cfg));
        cases += 1;
        // Every truncation of a few of them (the incomplete heads).
        if round % 50 == 0 {
            for n in 0..h.len() {
                same(&h[..n], cfg);
                cases += 1;
            }
        }
        // Random byte flips.
        let mut m = h.clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(m.len());
            m[at] = rng.next() as u8;
        }
        same(&m, cfg);
        cases += 1;
    }
    // The generator must reach the scanner's path and the errors alike.
    assert!(
        complete > 1_000 && complete < cases / 2,
        "{complete} of {cases}"
    );
}

#[test]
fn the_common_request_parses_the_same_on_both_paths() {
    let buf = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
    assert!(same(buf, &Http1Config::new()));
}
