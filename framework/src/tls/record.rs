//! TLS record protection in place (RFC 8446 §5.2, RFC 5246 §6.2.3.3,
//! RFC 5288, RFC 7905): [`open`] decrypts a whole record where it lies and
//! says where its plaintext is; [`seal`] encrypts a record whose header
//! space and plaintext were written into the buffer that will be sent.
//!
//! ```text
//! TLS 1.3     | 23 3 3 len | ciphertext of (plaintext, type, zeros) | tag |
//! TLS 1.2 GCM | typ 3 3 len | explicit nonce (8) | ciphertext | tag |
//! TLS 1.2 CC  | typ 3 3 len | ciphertext | tag |
//! ```

use std::ops::Range;

use ring::aead::{Aad, Nonce};
use rustls::AlertDescription;

use super::keys::{Keys, Proto};

/// The record header: type, legacy version, length.
pub(crate) const HEADER: usize = 5;
/// The AEAD tag (all three ciphers).
const TAG: usize = 16;
/// Largest plaintext in one record (2^14).
pub(crate) const MAX_PLAINTEXT: usize = 16 << 10;
/// Largest payload (after the header) accepted: 2^14 + 256 under TLS 1.3,
/// 2^14 + 2048 under 1.2.
pub(crate) fn max_payload(proto: Proto) -> usize {
    match proto {
        Proto::Tls13 => MAX_PLAINTEXT + 256,
        _ => MAX_PLAINTEXT + 2048,
    }
}

/// Content types.
pub(crate) const ALERT: u8 = 21;
/// Handshake messages (after the handshake: KeyUpdate, NewSessionTicket).
pub(crate) const HANDSHAKE: u8 = 22;
/// Application data.
pub(crate) const DATA: u8 = 23;

/// Why a record could not be opened: the alert to send and a message.
#[derive(Debug)]
pub(crate) struct Bad {
    pub alert: AlertDescription,
    pub msg: &'static str,
}

fn bad(alert: AlertDescription, msg: &'static str) -> Bad {
    Bad { alert, msg }
}

/// A record opened in place: its content type and where its plaintext is
/// inside the record's bytes.
#[derive(Debug)]
pub(crate) struct Opened {
    pub typ: u8,
    pub plain: Range<usize>,
}

/// Length of the record that seals `n` plaintext bytes.
pub(crate) fn sealed_len(proto: Proto, n: usize) -> usize {
    let inner_type = usize::from(proto == Proto::Tls13);
    HEADER + proto.explicit_len() + n + inner_type + TAG
}

/// Where a record's plaintext starts in the buffer given to [`seal`].
pub(crate) fn plain_at(proto: Proto) -> usize {
    HEADER + proto.explicit_len()
}

/// The TLS 1.2 additional data: seq, type, version, plaintext length.
fn aad12(seq: u64, typ: u8, n: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    a[..8].copy_from_slice(&seq.to_be_bytes());
    a[8] = typ;
    a[9] = 3;
    a[10] = 3;
    a[11..].copy_from_slice(&(n as u16).to_be_bytes());
    a
}

/// Seals `rec` (exactly [`sealed_len`] bytes, its plaintext already at
/// [`plain_at`]) as a record of content type `typ` with `keys`' next
/// sequence number: writes the header (and nonce, inner type), encrypts
/// the plaintext in place and appends the tag.
pub(crate) fn seal(keys: &mut Keys, proto: Proto, typ: u8, rec: &mut [u8]) -> Result<(), Bad> {
    let n = rec.len() - sealed_len(proto, 0);
    let seq = keys.seq;
    keys.seq += 1;
    let nonce = keys.nonce(seq);
    let len = (rec.len() - HEADER) as u16;
    rec[0] = if proto == Proto::Tls13 { DATA } else { typ };
    rec[1] = 3;
    rec[2] = 3;
    rec[3..HEADER].copy_from_slice(&len.to_be_bytes());
    let header: [u8; HEADER] = rec[..HEADER].try_into().expect("5 bytes");
    let at = plain_at(proto);
    let (body, aad) = match proto {
        Proto::Tls13 => {
            rec[at + n] = typ;
            (at..at + n + 1, aad_bytes(&header))
        }
        Proto::Tls12Gcm => {
            rec[HEADER..at].copy_from_slice(&nonce[4..]);
            (at..at + n, aad_bytes(&aad12(seq, typ, n)))
        }
        Proto::Tls12Chacha => (at..at + n, aad_bytes(&aad12(seq, typ, n))),
    };
    let tag_at = body.end;
    let tag = keys
        .key()
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), aad, &mut rec[body])
        .map_err(|_| bad(AlertDescription::InternalError, "tls: encryption failed"))?;
    rec[tag_at..tag_at + TAG].copy_from_slice(tag.as_ref());
    Ok(())
}

/// Up to 13 bytes of additional data, inline: one type for either
/// length (the header, or TLS 1.2's 13 bytes), no allocation.
pub(crate) struct AadBytes {
    buf: [u8; 13],
    len: usize,
}

impl AsRef<[u8]> for AadBytes {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

fn aad_bytes(b: &[u8]) -> Aad<AadBytes> {
    let mut buf = [0u8; 13];
    buf[..b.len()].copy_from_slice(b);
    Aad::from(AadBytes { buf, len: b.len() })
}

/// Opens the whole record `rec` (header included) in place with `keys`'
/// next sequence number. The content type is the record's (TLS 1.2) or
/// the inner one, padding stripped (TLS 1.3).
pub(crate) fn open(keys: &mut Keys, proto: Proto, rec: &mut [u8]) -> Result<Opened, Bad> {
    let outer = rec[0];
    let payload = rec.len() - HEADER;
    if payload > max_payload(proto) {
        return Err(bad(
            AlertDescription::RecordOverflow,
            "tls: record larger than the protocol allows",
        ));
    }
    if rec[1] != 3 {
        return Err(bad(
            AlertDescription::DecodeError,
            "tls: record with a bad version",
        ));
    }
    let seq = keys.seq;
    let at = HEADER + proto.explicit_len();
    if payload < proto.explicit_len() + TAG {
        return Err(bad(
            AlertDescription::BadRecordMac,
            "tls: record too short to be authentic",
        ));
    }
    let n = rec.len() - at - TAG;
    let (nonce, aad) = match proto {
        Proto::Tls13 => {
            if outer != DATA {
                return Err(bad(
                    AlertDescription::UnexpectedMessage,
                    "tls: unencrypted record after the handshake",
                ));
            }
            let header: [u8; HEADER] = rec[..HEADER].try_into().expect("5 bytes");
            (keys.nonce(seq), aad_bytes(&header))
        }
        Proto::Tls12Gcm => (
            keys.salted(&rec[HEADER..at]),
            aad_bytes(&aad12(seq, outer, n)),
        ),
        Proto::Tls12Chacha => (keys.nonce(seq), aad_bytes(&aad12(seq, outer, n))),
    };
    let plain_len = keys
        .key()
        .open_in_place(Nonce::assume_unique_for_key(nonce), aad, &mut rec[at..])
        .map_err(|_| {
            bad(
                AlertDescription::BadRecordMac,
                "tls: record failed authentication (bad_record_mac)",
            )
        })?
        .len();
    keys.seq += 1;
    let mut end = at + plain_len;
    let typ = if proto == Proto::Tls13 {
        // The real type is the last non-zero byte; zeros after it pad.
        loop {
            if end == at {
                return Err(bad(
                    AlertDescription::UnexpectedMessage,
                    "tls: record without a content type",
                ));
            }
            end -= 1;
            if rec[end] != 0 {
                break rec[end];
            }
        }
    } else {
        outer
    };
    if end - at > MAX_PLAINTEXT {
        return Err(bad(
            AlertDescription::RecordOverflow,
            "tls: record plaintext larger than 16 KiB",
        ));
    }
    Ok(Opened {
        typ,
        plain: at..end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::ConnectionTrafficSecrets;

    fn keys(tls13: bool, chacha: bool) -> (Keys, Proto) {
        let key = rustls::crypto::cipher::AeadKey::from([9u8; 32]);
        let iv = rustls::crypto::cipher::Iv::new([3; 12]);
        let s = if chacha {
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv }
        } else {
            ConnectionTrafficSecrets::Aes256Gcm { key, iv }
        };
        Keys::new(5, s, tls13).unwrap()
    }

    fn roundtrip(tls13: bool, chacha: bool) {
        let (mut tx, proto) = keys(tls13, chacha);
        let (mut rx, _) = keys(tls13, chacha);
        for msg in [&b"hello"[..], b"", &[0u8; 100][..]] {
            let mut rec = vec![0u8; sealed_len(proto, msg.len())];
            let at = plain_at(proto);
            rec[at..at + msg.len()].copy_from_slice(msg);
            seal(&mut tx, proto, DATA, &mut rec).unwrap();
            assert_eq!(rec[0], DATA);
            if !msg.is_empty() {
                assert_ne!(&rec[at..at + msg.len()], msg, "encrypted");
            }
            let o = open(&mut rx, proto, &mut rec).unwrap();
            assert_eq!(o.typ, DATA);
            assert_eq!(&rec[o.plain], msg);
        }
        assert_eq!(tx.seq, 8);
        assert_eq!(rx.seq, 8);
    }

    #[test]
    fn seal_then_open_in_every_protection() {
        roundtrip(true, false);
        roundtrip(true, true);
        roundtrip(false, false);
        roundtrip(false, true);
    }

    #[test]
    fn a_changed_byte_fails_authentication() {
        let (mut tx, proto) = keys(true, false);
        let (mut rx, _) = keys(true, false);
        let mut rec = vec![0u8; sealed_len(proto, 4)];
        seal(&mut tx, proto, ALERT, &mut rec).unwrap();
        rec[7] ^= 1;
        let e = open(&mut rx, proto, &mut rec).unwrap_err();
        assert_eq!(e.alert, AlertDescription::BadRecordMac);
        assert_eq!(rx.seq, 5, "a failed record does not advance the sequence");
    }
}
