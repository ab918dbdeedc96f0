//! permessage-deflate (RFC 7692) for the load client, on flate2: the client offers the
//! extension with no parameters (both sides keep their compression context, 32 KiB
//! windows), compresses every message it sends and inflates every compressed echo.
//!
//! A message is compressed as raw deflate ended by a sync flush, whose trailing
//! `00 00 ff ff` is dropped (§7.2.1); inflating puts it back (§7.2.2).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The sync flush's empty stored block, dropped from every compressed message.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The extension offer this client makes.
pub const OFFER: &str = "permessage-deflate";

/// What the server's answer accepted; an error for a parameter the client cannot honour.
pub fn check_answer(extensions: &str) -> Result<Params, String> {
    let mut params = Params::default();
    let mut accepted = false;
    for extension in extensions.split(',') {
        let mut parts = extension.split(';').map(str::trim);
        if parts.next() != Some("permessage-deflate") {
            return Err(format!("unexpected extension in {extensions:?}"));
        }
        accepted = true;
        for param in parts.filter(|p| !p.is_empty()) {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            match (name.trim(), value.trim().trim_matches('"')) {
                ("server_no_context_takeover", "") => {}
                ("client_no_context_takeover", "") => params.client_no_context_takeover = true,
                ("server_max_window_bits", bits)
                    if (8..=15).contains(&bits.parse().unwrap_or(0)) => {}
                _ => {
                    return Err(format!(
                        "unsupported permessage-deflate parameter {param:?}"
                    ))
                }
            }
        }
    }
    if !accepted {
        return Err("the server did not accept permessage-deflate".into());
    }
    Ok(params)
}

/// The negotiated parameters that bind the client.
#[derive(Clone, Copy, Default, Debug)]
pub struct Params {
    /// The client must compress every message from a fresh context.
    pub client_no_context_takeover: bool,
}

/// One connection's compressor and decompressor.
pub struct Deflate {
    params: Params,
    compress: Compress,
    decompress: Decompress,
}

impl Deflate {
    pub fn new(params: Params) -> Deflate {
        Deflate {
            params,
            compress: Compress::new(Compression::fast(), false),
            decompress: Decompress::new(false),
        }
    }

    /// Compresses `payload` into `out` (cleared first), as one message.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        if self.params.client_no_context_takeover {
            self.compress.reset();
        }
        out.clear();
        out.reserve(payload.len() + 64);
        let start_in = self.compress.total_in();
        loop {
            let consumed = (self.compress.total_in() - start_in) as usize;
            self.compress
                .compress_vec(&payload[consumed..], out, FlushCompress::Sync)
                .map_err(|e| format!("deflate: {e}"))?;
            let done = (self.compress.total_in() - start_in) as usize == payload.len();
            // A full output buffer may hide more: grow it and go on until the flush is out.
            if done && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity().max(64));
        }
        if !out.ends_with(&TAIL) {
            return Err("deflate output does not end with a sync flush".into());
        }
        out.truncate(out.len() - TAIL.len());
        Ok(())
    }

    /// Inflates the compressed message `data` into `out` (cleared first), up to `limit`
    /// bytes (more is an error).
    pub fn decompress(
        &mut self,
        data: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), String> {
        out.clear();
        // Room beyond the limit, so that a full buffer means too much.
        out.reserve(limit + 64);
        for input in [data, &TAIL[..]] {
            let start = self.decompress.total_in();
            loop {
                let consumed = (self.decompress.total_in() - start) as usize;
                let produced = out.len();
                let status = self
                    .decompress
                    .decompress_vec(&input[consumed..], out, FlushDecompress::Sync)
                    .map_err(|e| format!("inflate: {e}"))?;
                if out.len() > limit {
                    return Err(format!("echo inflates to more than {limit} bytes"));
                }
                let now = (self.decompress.total_in() - start) as usize;
                if now == input.len() && out.len() < out.capacity() {
                    break;
                }
                if status == Status::StreamEnd {
                    return Err("a final deflate block inside a message".into());
                }
                if now == consumed && out.len() == produced {
                    return Err("inflate made no progress".into());
                }
            }
        }
        Ok(())
    }
}
