//! [`Deflater`] and [`Inflater`]: one message at a time through raw DEFLATE
//! (RFC 1951) as RFC 7692 §7.2 frames it. The sender flushes each message
//! with a sync flush and drops the `00 00 ff ff` that ends it; the receiver
//! puts it back before inflating.
//!
//! Both keep their zlib state (and, with context takeover, the window of
//! earlier messages) for the connection's life and write into the caller's
//! `Vec`: once that `Vec` has grown to the messages' size, a message costs
//! no allocation.

use zlib_rs::{Deflate, DeflateConfig as ZlibConfig, DeflateFlush, Inflate, InflateFlush, Status};

use super::error::DeflateError;
use super::params::Agreed;

/// The end of a sync flush: an empty stored block's LEN and NLEN.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// zlib has no raw 256-byte window; at 9 bits it refers back at most
/// 250 bytes, so 9 is what both directions use for an agreed 8.
fn zlib_bits(bits: u8) -> u8 {
    bits.clamp(9, 15)
}

/// Compresses messages for one connection (one direction).
///
/// ```
/// use corering::ws::deflate::{Deflater, Inflater};
/// let mut d = Deflater::new(1, 15, false);
/// let mut i = Inflater::new(15);
/// let (mut wire, mut back) = (Vec::new(), Vec::new());
/// d.compress_message(b"hello hello hello hello", &mut wire);
/// i.decompress(&wire, &mut back, 1 << 20).unwrap();
/// assert_eq!(back, b"hello hello hello hello");
/// ```
pub struct Deflater {
    c: Deflate,
    no_context_takeover: bool,
    min_size: usize,
}

impl Deflater {
    /// A compressor at zlib `level` (0..=9) with a window of `window_bits`
    /// (8..=15; 8 compresses with 9, which stays within 256 bytes);
    /// `no_context_takeover` forgets the window after every message. Its
    /// memory level is [`DEFAULT_MEM_LEVEL`](super::DEFAULT_MEM_LEVEL).
    pub fn new(level: u8, window_bits: u8, no_context_takeover: bool) -> Deflater {
        Deflater::with_mem_level(
            level,
            window_bits,
            no_context_takeover,
            super::DEFAULT_MEM_LEVEL,
        )
    }

    /// [`new`](Deflater::new) with zlib's `memLevel` (1..=9, clamped): the
    /// symbol buffer holds `2^(mem_level + 6)` symbols, 4.5 bytes each
    /// (8: 72 KiB, 5: 9 KiB); a smaller one ends DEFLATE blocks sooner.
    pub fn with_mem_level(
        level: u8,
        window_bits: u8,
        no_context_takeover: bool,
        mem_level: u8,
    ) -> Deflater {
        Deflater {
            c: Deflate::new_with_config(ZlibConfig {
                level: i32::from(level.min(9)),
                // Negative: raw deflate, no zlib header or trailer.
                window_bits: -i32::from(zlib_bits(window_bits)),
                mem_level: i32::from(mem_level.clamp(1, 9)),
                ..ZlibConfig::default()
            }),
            no_context_takeover,
            min_size: 0,
        }
    }

    /// The compressor this side of `agreed` sends with.
    pub fn for_agreed(agreed: &Agreed) -> Deflater {
        let mut d = Deflater::with_mem_level(
            agreed.level(),
            agreed.compress_window_bits(),
            agreed.compress_no_context_takeover(),
            agreed.mem_level(),
        );
        d.min_size = agreed.compress_min_size();
        d
    }

    /// Whether a message of `len` bytes is worth compressing (at least the
    /// agreed [`compress_min_size`](super::DeflateConfig::compress_min_size);
    /// 0 for a `Deflater` made with [`new`](Deflater::new)). Smaller ones are
    /// sent as they are, RSV1 clear.
    pub fn should_compress(&self, len: usize) -> bool {
        len >= self.min_size
    }

    /// Appends `payload` compressed as one message to `out` (the payload of
    /// a frame with RSV1 set). An empty payload becomes the single byte
    /// `00` (§7.2.3.6).
    pub fn compress_message(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        if payload.is_empty() {
            // An empty stored block's header; the receiver's 00 00 ff ff
            // completes it. (zlib emits nothing for a second sync flush in
            // a row with no input.)
            out.push(0);
            return;
        }
        let start_in = self.c.total_in();
        out.reserve(payload.len() / 2 + 64);
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(256));
            }
            let done = (self.c.total_in() - start_in) as usize;
            let out0 = self.c.total_out();
            let spare = out.spare_capacity_mut();
            let room = spare.len();
            let r = self
                .c
                .compress_uninit(&payload[done..], spare, DeflateFlush::SyncFlush);
            let made = (self.c.total_out() - out0) as usize;
            let len = out.len();
            // SAFETY: `compress_uninit` wrote the first `made` bytes of the
            // spare capacity it was given (`made <= room`), so they are
            // initialised.
            unsafe { out.set_len(len + made) };
            if let Err(e) = r {
                // Only a corrupted zlib state fails here; start afresh (the
                // peer then fails on this message rather than on all later).
                log::debug!("deflate: {}", e.as_str());
                self.c.reset();
            }
            let done = (self.c.total_in() - start_in) as usize;
            // A sync flush is complete when zlib returned with output
            // space to spare.
            if done == payload.len() && made < room {
                break;
            }
        }
        debug_assert!(out.ends_with(&TAIL));
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.no_context_takeover {
            self.c.reset();
        }
    }

    /// Forgets the window (the next message refers to nothing before it).
    pub fn reset(&mut self) {
        self.c.reset();
    }
}

/// Decompresses messages for one connection (one direction), never
/// producing more than a limit per message.
///
/// A message can be given whole ([`decompress`](Inflater::decompress)) or
/// frame by frame as it arrives ([`push`](Inflater::push) each fragment's
/// payload, then [`finish`](Inflater::finish)).
///
/// A message that ends with a final block (BFINAL set, §7.2.3.3) ends the
/// DEFLATE stream: the next message starts a new one with an empty window.
/// A message cut short inside a block is not always detectable (zlib sees
/// the appended `00 00 ff ff` as more codes); it then yields wrong bytes or
/// fails, never more than the limit.
pub struct Inflater {
    d: Inflate,
    /// zlib's window bits (9..=15), to start afresh with.
    bits: u8,
    /// Bytes produced for the current message.
    produced: usize,
    /// The current message ended the DEFLATE stream.
    ended: bool,
    /// The current message has had compressed bytes.
    started: bool,
}

impl Inflater {
    /// A decompressor for a peer that compresses with a window of
    /// `window_bits` (8..=15): that much of earlier messages is kept, and
    /// a message that refers back further into them fails.
    ///
    /// The same inflater serves a peer with or without context takeover:
    /// one that starts every message afresh never refers to the window, so
    /// it is kept rather than reset (a reset allocates, and a message
    /// should cost no allocation).
    pub fn new(window_bits: u8) -> Inflater {
        Inflater {
            d: Inflate::new(false, zlib_bits(window_bits)),
            bits: zlib_bits(window_bits),
            produced: 0,
            ended: false,
            started: false,
        }
    }

    /// The decompressor for what the peer of `agreed` sends.
    pub fn for_agreed(agreed: &Agreed) -> Inflater {
        Inflater::new(agreed.decompress_window_bits())
    }

    /// Decompresses one whole message (the payload of a frame with RSV1
    /// set, or of all its fragments joined), appending to `out`. Fails with
    /// [`DeflateError::TooLarge`] as soon as the message has produced more
    /// than `limit` bytes.
    pub fn decompress(
        &mut self,
        compressed: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DeflateError> {
        self.push(compressed, out, limit)?;
        self.finish(out, limit)
    }

    /// Decompresses the next piece of the current message (one fragment's
    /// payload), appending what it yields to `out`. `limit` bounds the
    /// whole message, counted across pushes whatever the caller does with
    /// `out` between them.
    pub fn push(
        &mut self,
        fragment: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DeflateError> {
        if fragment.is_empty() {
            return Ok(());
        }
        self.started = true;
        let r = self.feed(fragment, out, limit);
        if r.is_err() {
            self.reset();
        }
        r
    }

    /// Ends the current message: decompresses what the last fragment left,
    /// and gets ready for the next message. A message with no compressed
    /// bytes at all (RSV1 set on an empty payload, where a compressor would
    /// have sent `00`) is taken as empty, and leaves the stream untouched.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), DeflateError> {
        if !self.started {
            return Ok(());
        }
        self.started = false;
        let r = self.feed(&TAIL, out, limit);
        if r.is_err() || self.ended {
            self.reset();
        } else {
            self.produced = 0;
        }
        r
    }

    /// Drops the window and any message in progress. (This allocates
    /// zlib's state anew: zlib-rs's own reset would go back to a 15-bit
    /// window.)
    pub fn reset(&mut self) {
        self.d = Inflate::new(false, self.bits);
        self.produced = 0;
        self.ended = false;
        self.started = false;
    }

    fn feed(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DeflateError> {
        loop {
            if self.ended {
                // Bytes after the final block (our own tail among them).
                return Ok(());
            }
            // One byte past the limit proves the message exceeds it.
            let budget = limit.saturating_sub(self.produced).saturating_add(1);
            let want = input
                .len()
                .saturating_mul(4)
                .clamp(4096, 256 << 10)
                .min(budget);
            out.reserve(want);
            let spare = out.spare_capacity_mut();
            let n = spare.len().min(budget);
            let (in0, out0) = (self.d.total_in(), self.d.total_out());
            let status = self
                .d
                .decompress_uninit(input, &mut spare[..n], InflateFlush::SyncFlush)
                .map_err(|e| {
                    log::debug!("inflate: {}", e.as_str());
                    DeflateError::Corrupt
                })?;
            let used = (self.d.total_in() - in0) as usize;
            let made = (self.d.total_out() - out0) as usize;
            let len = out.len();
            // SAFETY: `decompress_uninit` wrote the first `made` bytes of
            // the spare capacity it was given (`made <= n`, which is within
            // the capacity), so they are initialised.
            unsafe { out.set_len(len + made) };
            self.produced += made;
            if self.produced > limit {
                return Err(DeflateError::TooLarge { limit });
            }
            input = &input[used..];
            if status == Status::StreamEnd {
                self.ended = true;
                return Ok(());
            }
            if input.is_empty() && made < n {
                // All input taken and zlib had room to spare: nothing
                // is held back.
                return Ok(());
            }
            if used == 0 && made == 0 {
                return Err(DeflateError::Corrupt);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::deflate::{client_accept, client_offer, negotiate_server, DeflateConfig};

    /// A client and a server that negotiated through their headers build
    /// codecs that understand each other, both ways, over many messages.
    #[test]
    fn negotiated_pairs_talk() {
        let configs = [
            DeflateConfig::new(),
            DeflateConfig::new()
                .server_max_window_bits(8)
                .client_max_window_bits(8)
                .server_no_context_takeover(true),
            DeflateConfig::new()
                .client_no_context_takeover(true)
                .client_max_window_bits(11)
                .level(9),
        ];
        for c in &configs {
            for s in &configs {
                let srv = negotiate_server(&client_offer(c).unwrap(), s).unwrap();
                let cli = client_accept(&srv.response_header(), c).unwrap();
                let (mut s_tx, mut s_rx) = (Deflater::for_agreed(&srv), Inflater::for_agreed(&srv));
                let (mut c_tx, mut c_rx) = (Deflater::for_agreed(&cli), Inflater::for_agreed(&cli));
                let (mut wire, mut back) = (Vec::new(), Vec::new());
                for i in 0..50u32 {
                    let msg: Vec<u8> =
                        format!("{{\"n\":{i},\"pad\":\"{}\"}}", "ab".repeat(i as usize * 7))
                            .into_bytes();
                    for (tx, rx) in [(&mut s_tx, &mut c_rx), (&mut c_tx, &mut s_rx)] {
                        wire.clear();
                        back.clear();
                        tx.compress_message(&msg, &mut wire);
                        rx.decompress(&wire, &mut back, srv.max_message_size())
                            .unwrap();
                        assert_eq!(back, msg);
                    }
                }
            }
        }
    }

    #[test]
    fn small_messages_are_not_worth_compressing() {
        let a = negotiate_server(
            "permessage-deflate",
            &DeflateConfig::new().compress_min_size(100),
        )
        .unwrap();
        let d = Deflater::for_agreed(&a);
        assert!(!d.should_compress(99));
        assert!(d.should_compress(100));
        assert!(Deflater::new(1, 15, false).should_compress(0));
    }
}
