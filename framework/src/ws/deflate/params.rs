//! Negotiating permessage-deflate on the `Sec-WebSocket-Extensions` header
//! (RFC 7692 §5, §7.1): [`DeflateConfig`], what this endpoint wants, and
//! [`Agreed`], what both sides settled on.
//!
//! The server takes the first `permessage-deflate` offer it can accept and
//! declines offers with unknown, repeated or invalid parameters (§5.1). The
//! client offers what its config asks for and fails the handshake if the
//! answer is not a valid answer to that offer (§5.1, §7.1).

use super::error::DeflateError;
use super::header::{parse_extensions, Extension};

/// The extension's registered name.
const NAME: &str = "permessage-deflate";

/// What this endpoint asks for, and the limits it keeps, when it uses
/// permessage-deflate. Plain data (`Copy`); one value serves every
/// connection.
///
/// Window bits are the base-2 logarithm of the LZ77 window (8..=15; other
/// values are clamped). zlib's raw deflate has no 256-byte window, so a
/// side that agreed to 8 compresses with 9: zlib never refers back more
/// than 512 − 262 = 250 bytes at 9 bits, which a 256-byte window holds.
///
/// ```
/// use corering::ws::deflate::DeflateConfig;
/// let cfg = DeflateConfig::new()
///     .server_no_context_takeover(true)
///     .max_message_size(1 << 20)
///     .level(6);
/// assert_eq!(cfg.max_message_bytes(), 1 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    pub(crate) enabled: bool,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
    pub(crate) max_message_size: usize,
    pub(crate) compress_min_size: usize,
    pub(crate) level: u8,
    pub(crate) mem_level: u8,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig::new()
    }
}

/// Clamps window bits to 8..=15.
const fn clamp_bits(bits: u8) -> u8 {
    if bits < 8 {
        8
    } else if bits > 15 {
        15
    } else {
        bits
    }
}

impl DeflateConfig {
    /// The defaults: enabled, context takeover both ways, 15-bit windows
    /// both ways (32 KiB), 16 MiB largest decompressed message, messages
    /// under 64 bytes sent uncompressed, compression level 1 (zlib's
    /// fastest: on 512-byte JSON it costs about a twentieth of level 6's CPU
    /// for output about a fifth larger).
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// let d = DeflateConfig::new();
    /// assert!(d.is_enabled() || !cfg!(feature = "ws-deflate"));
    /// assert_eq!(d.max_message_bytes(), 16 << 20);
    /// ```
    pub const fn new() -> DeflateConfig {
        DeflateConfig {
            enabled: true,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            max_message_size: 16 << 20,
            compress_min_size: 64,
            level: 1,
            mem_level: super::DEFAULT_MEM_LEVEL,
        }
    }

    /// Offers (client) or accepts (server) permessage-deflate at all. When
    /// off, or when corering is built without the `ws-deflate` feature, the
    /// extension is simply not negotiated and messages go uncompressed.
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// let off = DeflateConfig::new().enabled(false);
    /// assert!(!off.is_enabled());
    /// ```
    pub const fn enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }

    /// The server starts each message with an empty window. A server with
    /// this set adds it to every answer; a client with it set asks for it
    /// (and fails the handshake if the server does not agree). Saves the
    /// client keeping the server's window between messages, costs ratio.
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// let d = DeflateConfig::new().server_no_context_takeover(true);
    /// # let _ = d;
    /// ```
    pub const fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// The client starts each message with an empty window. A server with
    /// this set adds it to every answer; a client with it set offers it and
    /// then keeps to it whatever the answer.
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// let d = DeflateConfig::new().client_no_context_takeover(true);
    /// # let _ = d;
    /// ```
    pub const fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// The largest window the server compresses with (8..=15). A server
    /// uses at most this, and less if the client asks for less; a client
    /// asks for this when it is under 15.
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// // 1 KiB windows: less memory per connection, a lower ratio.
    /// let d = DeflateConfig::new().server_max_window_bits(10);
    /// # let _ = d;
    /// ```
    pub const fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = clamp_bits(bits);
        self
    }

    /// The largest window the client compresses with (8..=15). A server
    /// asks clients that allow it for at most this (a client that does not
    /// offer `client_max_window_bits` cannot be limited, and keeps 15); a
    /// client uses at most this and offers it.
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// let d = DeflateConfig::new().client_max_window_bits(12);
    /// # let _ = d;
    /// ```
    pub const fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = clamp_bits(bits);
        self
    }

    /// Largest decompressed message, in bytes: decompression stops with
    /// [`DeflateError::TooLarge`] (close code 1009) one byte past it, so a
    /// small "zip bomb" costs at most this much output and the CPU to
    /// produce it.
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// let d = DeflateConfig::new().max_message_size(1 << 20);
    /// assert_eq!(d.max_message_bytes(), 1 << 20);
    /// ```
    pub const fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Messages shorter than this are sent uncompressed (RSV1 clear): for
    /// them the deflate framing costs more than it saves.
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// let d = DeflateConfig::new().compress_min_size(256);
    /// # let _ = d;
    /// ```
    pub const fn compress_min_size(mut self, bytes: usize) -> Self {
        self.compress_min_size = bytes;
        self
    }

    /// zlib compression level, 0 (stored) to 9 (smallest, slowest); larger
    /// values are clamped to 9.
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// let smallest = DeflateConfig::new().level(9);
    /// # let _ = smallest;
    /// ```
    pub const fn level(mut self, level: u8) -> Self {
        self.level = if level > 9 { 9 } else { level };
        self
    }

    /// zlib's `memLevel` for compressing, 1..=9 (clamped): the size of the
    /// compressor's symbol buffer, `2^(mem_level + 6)` symbols of 4.5 bytes
    /// (the default 5: 9 KiB; zlib's own default 8: 72 KiB). Smaller ends
    /// DEFLATE blocks sooner (slightly larger output on long messages).
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// let d = DeflateConfig::new().mem_level(8);
    /// # let _ = d;
    /// ```
    pub const fn mem_level(mut self, mem_level: u8) -> Self {
        self.mem_level = if mem_level < 1 {
            1
        } else if mem_level > 9 {
            9
        } else {
            mem_level
        };
        self
    }

    /// Whether permessage-deflate is offered / accepted (`false` also when
    /// the `ws-deflate` feature is off).
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// assert!(!DeflateConfig::new().enabled(false).is_enabled());
    /// ```
    pub const fn is_enabled(&self) -> bool {
        self.enabled && cfg!(feature = "ws-deflate")
    }

    /// The largest decompressed message, in bytes.
    ///
    /// ```
    /// use corering::ws::deflate::DeflateConfig;
    /// assert_eq!(DeflateConfig::new().max_message_size(100).max_message_bytes(), 100);
    /// ```
    pub const fn max_message_bytes(&self) -> usize {
        self.max_message_size
    }
}

/// Which end of the connection this endpoint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepted the connection; receives masked frames.
    Server,
    /// Opened the connection.
    Client,
}

/// The parameters on the wire (an answer's, or the effective values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Wire {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (only in an offer).
    client_max_window_bits: Option<Option<u8>>,
}

/// What both sides settled on for one connection, seen from this endpoint:
/// the window and context takeover this side compresses with, those the
/// peer compresses with (this side decompresses with), and this side's
/// limits from its [`DeflateConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agreed {
    role: Role,
    /// The server's answer (what [`Agreed::response_header`] writes).
    answer: Wire,
    compress_window_bits: u8,
    compress_no_context_takeover: bool,
    decompress_window_bits: u8,
    decompress_no_context_takeover: bool,
    level: u8,
    mem_level: u8,
    compress_min_size: usize,
    max_message_size: usize,
}

impl Agreed {
    /// This endpoint's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The window bits this side compresses with (8..=15).
    pub fn compress_window_bits(&self) -> u8 {
        self.compress_window_bits
    }

    /// Whether this side starts every message it compresses afresh.
    pub fn compress_no_context_takeover(&self) -> bool {
        self.compress_no_context_takeover
    }

    /// The window bits the peer compresses with (8..=15).
    pub fn decompress_window_bits(&self) -> u8 {
        self.decompress_window_bits
    }

    /// Whether the peer starts every message afresh.
    pub fn decompress_no_context_takeover(&self) -> bool {
        self.decompress_no_context_takeover
    }

    /// zlib level this side compresses at.
    pub fn level(&self) -> u8 {
        self.level
    }

    /// zlib `memLevel` this side compresses with.
    pub fn mem_level(&self) -> u8 {
        self.mem_level
    }

    /// Messages shorter than this go uncompressed.
    pub fn compress_min_size(&self) -> usize {
        self.compress_min_size
    }

    /// Largest decompressed message this side accepts, in bytes.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The server's `Sec-WebSocket-Extensions` value that accepts the offer,
    /// e.g. `permessage-deflate; server_max_window_bits=10`. (On the client
    /// it reconstructs the answer it accepted.)
    pub fn response_header(&self) -> String {
        let a = &self.answer;
        let mut s = String::from(NAME);
        if a.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if a.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if let Some(b) = a.server_max_window_bits {
            s.push_str("; server_max_window_bits=");
            s.push_str(bits_str(b));
        }
        if let Some(v) = a.client_max_window_bits {
            s.push_str("; client_max_window_bits");
            if let Some(b) = v {
                s.push('=');
                s.push_str(bits_str(b));
            }
        }
        s
    }
}

fn bits_str(b: u8) -> &'static str {
    ["8", "9", "10", "11", "12", "13", "14", "15"][(clamp_bits(b) - 8) as usize]
}

/// A window-bits value: a decimal 8..=15 without leading zeros (§7.1.2).
fn parse_bits(v: &str) -> Option<u8> {
    match v {
        "8" => Some(8),
        "9" => Some(9),
        "10" => Some(10),
        "11" => Some(11),
        "12" => Some(12),
        "13" => Some(13),
        "14" => Some(14),
        "15" => Some(15),
        _ => None,
    }
}

/// The parameters of one `permessage-deflate` element, checked for
/// unknown names, repeats and invalid values (`Err` names the rule).
fn read_params(ext: &Extension<'_>) -> Result<Wire, &'static str> {
    let mut w = Wire::default();
    let mut seen = [false; 4];
    for (name, value) in &ext.params {
        let value = value.as_deref();
        let idx = if name.eq_ignore_ascii_case("server_no_context_takeover") {
            if value.is_some() {
                return Err("server_no_context_takeover has a value");
            }
            w.server_no_context_takeover = true;
            0
        } else if name.eq_ignore_ascii_case("client_no_context_takeover") {
            if value.is_some() {
                return Err("client_no_context_takeover has a value");
            }
            w.client_no_context_takeover = true;
            1
        } else if name.eq_ignore_ascii_case("server_max_window_bits") {
            let bits = value
                .and_then(parse_bits)
                .ok_or("server_max_window_bits is not 8..15")?;
            w.server_max_window_bits = Some(bits);
            2
        } else if name.eq_ignore_ascii_case("client_max_window_bits") {
            let bits = match value {
                None => None,
                Some(v) => Some(parse_bits(v).ok_or("client_max_window_bits is not 8..15")?),
            };
            w.client_max_window_bits = Some(bits);
            3
        } else {
            return Err("unknown parameter");
        };
        if seen[idx] {
            return Err("repeated parameter");
        }
        seen[idx] = true;
    }
    Ok(w)
}

/// The server's side: picks the first `permessage-deflate` offer in
/// `offers` (the `Sec-WebSocket-Extensions` value; several header lines
/// joined with `,`) that it can accept under `cfg`, or `None` (no
/// compression) if there is none, the header is malformed, or `cfg` is off.
pub(crate) fn negotiate_server(offers: &str, cfg: &DeflateConfig) -> Option<Agreed> {
    if !cfg.is_enabled() {
        return None;
    }
    let list = parse_extensions(offers)?;
    list.iter()
        .filter(|e| e.name.eq_ignore_ascii_case(NAME))
        .find_map(|e| accept_offer(read_params(e).ok()?, cfg))
}

/// The answer to one well-formed offer, or `None` to decline it.
fn accept_offer(offer: Wire, cfg: &DeflateConfig) -> Option<Agreed> {
    let server_bits = match offer.server_max_window_bits {
        // Same or smaller than offered (§7.1.2.1).
        Some(n) => Some(n.min(cfg.server_max_window_bits)),
        // The server may limit its own window unasked.
        None => (cfg.server_max_window_bits < 15).then_some(cfg.server_max_window_bits),
    };
    let client_bits = match offer.client_max_window_bits {
        // Not offered: the answer must not carry it (§7.1.2.2).
        None => None,
        Some(v) => {
            let lim = v.unwrap_or(15).min(cfg.client_max_window_bits);
            (lim < 15 || v.is_some()).then_some(lim)
        }
    };
    let answer = Wire {
        server_no_context_takeover: offer.server_no_context_takeover
            || cfg.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover
            || cfg.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits.map(Some),
    };
    Some(Agreed {
        role: Role::Server,
        answer,
        compress_window_bits: server_bits.unwrap_or(15),
        compress_no_context_takeover: answer.server_no_context_takeover,
        decompress_window_bits: client_bits.unwrap_or(15),
        decompress_no_context_takeover: answer.client_no_context_takeover,
        level: cfg.level,
        mem_level: cfg.mem_level,
        compress_min_size: cfg.compress_min_size,
        max_message_size: cfg.max_message_size,
    })
}

/// The client's offer for `cfg`, the value of its
/// `Sec-WebSocket-Extensions` header; `None` when compression is off.
/// It always offers `client_max_window_bits` (this side can compress with
/// any window the server asks for).
pub(crate) fn client_offer(cfg: &DeflateConfig) -> Option<String> {
    if !cfg.is_enabled() {
        return None;
    }
    let mut s = String::from(NAME);
    if cfg.server_no_context_takeover {
        s.push_str("; server_no_context_takeover");
    }
    if cfg.client_no_context_takeover {
        s.push_str("; client_no_context_takeover");
    }
    if cfg.server_max_window_bits < 15 {
        s.push_str("; server_max_window_bits=");
        s.push_str(bits_str(cfg.server_max_window_bits));
    }
    s.push_str("; client_max_window_bits");
    if cfg.client_max_window_bits < 15 {
        s.push('=');
        s.push_str(bits_str(cfg.client_max_window_bits));
    }
    Some(s)
}

/// The client's side: checks the server's `Sec-WebSocket-Extensions`
/// answer against the offer [`client_offer`] made for `cfg`. The answer
/// must be exactly one `permessage-deflate` element whose parameters keep
/// to the offer (§7.1); anything else fails the handshake.
pub(crate) fn client_accept(
    response_value: &str,
    cfg: &DeflateConfig,
) -> Result<Agreed, DeflateError> {
    use DeflateError::Negotiation as N;
    if !cfg.is_enabled() {
        return Err(N("extension answered but not offered"));
    }
    let list = parse_extensions(response_value).ok_or(N("malformed header"))?;
    let [ext] = list.as_slice() else {
        return Err(N("not exactly one extension in the answer"));
    };
    if !ext.name.eq_ignore_ascii_case(NAME) {
        return Err(N("answered an extension that was not offered"));
    }
    let a = read_params(ext).map_err(N)?;
    if cfg.server_no_context_takeover && !a.server_no_context_takeover {
        return Err(N("server_no_context_takeover offered but not accepted"));
    }
    let server_bits = match (a.server_max_window_bits, cfg.server_max_window_bits) {
        (Some(n), offered) if n <= offered => n,
        (Some(_), _) => return Err(N("server_max_window_bits above the offer")),
        (None, 15) => 15,
        (None, _) => return Err(N("server_max_window_bits offered but not accepted")),
    };
    let client_bits = match a.client_max_window_bits {
        None => cfg.client_max_window_bits,
        Some(None) => return Err(N("client_max_window_bits without a value")),
        Some(Some(n)) if n <= cfg.client_max_window_bits => n,
        Some(Some(_)) => return Err(N("client_max_window_bits above the offer")),
    };
    Ok(Agreed {
        role: Role::Client,
        answer: a,
        compress_window_bits: client_bits,
        compress_no_context_takeover: a.client_no_context_takeover
            || cfg.client_no_context_takeover,
        decompress_window_bits: server_bits,
        decompress_no_context_takeover: a.server_no_context_takeover,
        level: cfg.level,
        mem_level: cfg.mem_level,
        compress_min_size: cfg.compress_min_size,
        max_message_size: cfg.max_message_size,
    })
}

#[cfg(all(test, feature = "ws-deflate"))]
mod tests {
    use super::*;

    fn server(offers: &str) -> Option<Agreed> {
        negotiate_server(offers, &DeflateConfig::new())
    }

    fn answer(offers: &str, cfg: DeflateConfig) -> Option<String> {
        negotiate_server(offers, &cfg).map(|a| a.response_header())
    }

    #[test]
    fn plain_offer_gets_plain_answer() {
        let a = server("permessage-deflate").unwrap();
        assert_eq!(a.response_header(), "permessage-deflate");
        assert_eq!(a.role(), Role::Server);
        assert_eq!(
            (a.compress_window_bits(), a.decompress_window_bits()),
            (15, 15)
        );
        assert!(!a.compress_no_context_takeover() && !a.decompress_no_context_takeover());
        assert_eq!(a.max_message_size(), 16 << 20);
        assert_eq!(a.compress_min_size(), 64);
    }

    #[test]
    fn rfc_7692_examples() {
        // §7.1.3 style: a client that allows a client window limit.
        assert_eq!(
            answer(
                "permessage-deflate; client_max_window_bits",
                DeflateConfig::new()
            )
            .unwrap(),
            "permessage-deflate"
        );
        // §5.2: two offers, the first asking for a 10-bit server window.
        let a = server(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, \
             permessage-deflate; client_max_window_bits",
        )
        .unwrap();
        assert_eq!(
            a.response_header(),
            "permessage-deflate; server_max_window_bits=10"
        );
        assert_eq!(a.compress_window_bits(), 10);
        // A server limited below the offer answers its own limit.
        let cfg = DeflateConfig::new().server_max_window_bits(9);
        assert_eq!(
            answer("permessage-deflate; server_max_window_bits=10", cfg).unwrap(),
            "permessage-deflate; server_max_window_bits=9"
        );
        // §7.1.1: no context takeover asked for, accepted by echoing.
        let a =
            server("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
                .unwrap();
        assert_eq!(
            a.response_header(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        assert!(a.compress_no_context_takeover() && a.decompress_no_context_takeover());
    }

    #[test]
    fn server_config_shapes_the_answer() {
        let cfg = DeflateConfig::new()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true)
            .server_max_window_bits(12)
            .client_max_window_bits(10);
        // The server limits itself and the client where the offer lets it.
        let a = negotiate_server("permessage-deflate; client_max_window_bits", &cfg).unwrap();
        assert_eq!(
            a.response_header(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=12; client_max_window_bits=10"
        );
        assert_eq!(
            (a.compress_window_bits(), a.decompress_window_bits()),
            (12, 10)
        );
        // A client that did not offer client_max_window_bits cannot be
        // limited: the answer must not carry it, and the window stays 15.
        let a = negotiate_server("permessage-deflate", &cfg).unwrap();
        assert!(!a.response_header().contains("client_max_window_bits"));
        assert_eq!(a.decompress_window_bits(), 15);
        // A client's own smaller limit wins and is confirmed.
        let a = negotiate_server("permessage-deflate; client_max_window_bits=8", &cfg).unwrap();
        assert!(a.response_header().ends_with("client_max_window_bits=8"));
        assert_eq!(a.decompress_window_bits(), 8);
        // A client limit at 15 with the default config is kept as offered.
        assert_eq!(
            answer(
                "permessage-deflate; client_max_window_bits=15",
                DeflateConfig::new()
            )
            .unwrap(),
            "permessage-deflate; client_max_window_bits=15"
        );
    }

    #[test]
    fn invalid_offers_are_declined() {
        for bad in [
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=08",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; server_max_window_bits=ten",
            "permessage-deflate; client_max_window_bits=0",
            "permessage-deflate; client_max_window_bits=\"16\"",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=true",
            "permessage-deflate; unknown_param",
            "permessage-deflate; x=1",
            // Repeated parameters (§7: "MUST decline").
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            // Malformed header: nothing in it is taken.
            "permessage-deflate; server_max_window_bits=\"10",
            "permessage-deflate;; x",
            "permessage-deflate server_no_context_takeover",
            // Other extensions only.
            "x-webkit-deflate-frame",
            "",
        ] {
            assert_eq!(server(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn declined_offer_falls_through_to_the_next() {
        let a = server(
            "permessage-deflate; server_max_window_bits=16, \
             permessage-deflate; bogus, permessage-deflate; server_no_context_takeover",
        )
        .unwrap();
        assert_eq!(
            a.response_header(),
            "permessage-deflate; server_no_context_takeover"
        );
        // Unknown extensions before and between are skipped.
        let a = server("foo; bar=1, x-webkit-deflate-frame, permessage-deflate").unwrap();
        assert_eq!(a.response_header(), "permessage-deflate");
    }

    #[test]
    fn quoted_values_and_case() {
        let a = server("permessage-deflate; server_max_window_bits=\"10\"").unwrap();
        assert_eq!(a.compress_window_bits(), 10);
        let a = server("permessage-deflate; client_max_window_bits=\"1\\1\"").unwrap();
        assert_eq!(a.decompress_window_bits(), 11);
        assert!(server("PerMessage-Deflate; Server_No_Context_Takeover").is_some());
    }

    #[test]
    fn disabled_declines_and_offers_nothing() {
        let off = DeflateConfig::new().enabled(false);
        assert!(!off.is_enabled());
        assert_eq!(negotiate_server("permessage-deflate", &off), None);
        assert_eq!(client_offer(&off), None);
        assert!(client_accept("permessage-deflate", &off).is_err());
    }

    #[test]
    fn client_offers() {
        assert_eq!(
            client_offer(&DeflateConfig::new()).unwrap(),
            "permessage-deflate; client_max_window_bits"
        );
        let cfg = DeflateConfig::new()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true)
            .server_max_window_bits(10)
            .client_max_window_bits(9);
        assert_eq!(
            client_offer(&cfg).unwrap(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=9"
        );
    }

    #[test]
    fn client_accepts_valid_answers() {
        let cfg = DeflateConfig::new();
        let a = client_accept("permessage-deflate", &cfg).unwrap();
        assert_eq!(a.role(), Role::Client);
        assert_eq!(
            (a.compress_window_bits(), a.decompress_window_bits()),
            (15, 15)
        );
        // The server may limit itself, limit us, and drop context
        // takeover on either side unasked.
        let a = client_accept(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=9; client_max_window_bits=12",
            &cfg,
        )
        .unwrap();
        assert_eq!(
            (a.compress_window_bits(), a.decompress_window_bits()),
            (12, 9)
        );
        assert!(a.compress_no_context_takeover() && a.decompress_no_context_takeover());
        // Our own client_no_context_takeover holds even if not echoed.
        let a = client_accept(
            "permessage-deflate",
            &DeflateConfig::new().client_no_context_takeover(true),
        )
        .unwrap();
        assert!(a.compress_no_context_takeover());
        // A smaller server window than asked for is fine (§7.1.2.1).
        let asked = DeflateConfig::new().server_max_window_bits(12);
        let a = client_accept("permessage-deflate; server_max_window_bits=10", &asked).unwrap();
        assert_eq!(a.decompress_window_bits(), 10);
    }

    #[test]
    fn client_rejects_invalid_answers() {
        let cfg = DeflateConfig::new()
            .server_no_context_takeover(true)
            .server_max_window_bits(12)
            .client_max_window_bits(10);
        let ok = "permessage-deflate; server_no_context_takeover; server_max_window_bits=12";
        assert!(client_accept(ok, &cfg).is_ok());
        for bad in [
            // Not accepted what was asked for.
            "permessage-deflate; server_max_window_bits=12",
            "permessage-deflate; server_no_context_takeover",
            // Above the offer.
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=13",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; \
             client_max_window_bits=11",
            // client_max_window_bits needs a value in an answer.
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; \
             client_max_window_bits",
            // Unknown, repeated, invalid, malformed, more than one, other.
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; x",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover; \
             server_max_window_bits=12",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=012",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=\"12",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12, \
             permessage-deflate",
            "x-webkit-deflate-frame",
            "",
        ] {
            let e = client_accept(bad, &cfg).unwrap_err();
            assert!(matches!(e, DeflateError::Negotiation(_)), "{bad:?}: {e}");
            assert_eq!(e.close_code(), 1010);
        }
    }

    #[test]
    fn client_and_server_agree_crosswise() {
        let cfgs = [
            DeflateConfig::new(),
            DeflateConfig::new().server_no_context_takeover(true),
            DeflateConfig::new().client_no_context_takeover(true),
            DeflateConfig::new().server_max_window_bits(8),
            DeflateConfig::new().client_max_window_bits(9),
            DeflateConfig::new()
                .server_max_window_bits(11)
                .client_max_window_bits(13)
                .server_no_context_takeover(true),
        ];
        for c in &cfgs {
            for s in &cfgs {
                let offer = client_offer(c).unwrap();
                let srv = negotiate_server(&offer, s).unwrap();
                let cli = client_accept(&srv.response_header(), c)
                    .unwrap_or_else(|e| panic!("{offer} -> {}: {e}", srv.response_header()));
                assert_eq!(srv.compress_window_bits(), cli.decompress_window_bits());
                assert_eq!(srv.decompress_window_bits(), cli.compress_window_bits());
                // Where the server resets, the client must reset too, and
                // the client resets at least where it was told to.
                assert_eq!(
                    srv.compress_no_context_takeover(),
                    cli.decompress_no_context_takeover()
                );
                assert!(
                    !srv.decompress_no_context_takeover() || cli.compress_no_context_takeover()
                );
                assert!(cli.compress_window_bits() <= c.client_max_window_bits);
                assert!(srv.compress_window_bits() <= s.server_max_window_bits);
                assert!(srv.compress_window_bits() <= c.server_max_window_bits);
            }
        }
    }
}

#[cfg(all(test, not(feature = "ws-deflate")))]
mod without_feature {
    use super::*;

    /// Built without `ws-deflate`, a default config negotiates nothing.
    #[test]
    fn nothing_is_negotiated() {
        let cfg = DeflateConfig::new();
        assert!(!cfg.is_enabled());
        assert_eq!(negotiate_server("permessage-deflate", &cfg), None);
        assert_eq!(client_offer(&cfg), None);
        assert!(client_accept("permessage-deflate", &cfg).is_err());
    }
}
