//! The traffic keys of one direction of an established session, made from
//! the secrets rustls hands over after the handshake
//! (`dangerous_into_kernel_connection`): an AEAD key (ring), the 12-byte
//! IV, the record sequence number, and how nonces and additional data are
//! built for the negotiated protocol version.

use std::io;

use ring::aead::{self, LessSafeKey, UnboundKey};
use rustls::ConnectionTrafficSecrets;

/// Which record protection a session uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Proto {
    /// TLS 1.3: nonce = IV ^ seq, additional data = the record header, the
    /// real content type inside the encrypted payload.
    Tls13,
    /// TLS 1.2 AES-GCM: an 8-byte explicit nonce leads each record's
    /// payload; additional data = seq, type, version, plaintext length.
    Tls12Gcm,
    /// TLS 1.2 ChaCha20-Poly1305 (RFC 7905): nonce = IV ^ seq, the TLS 1.2
    /// additional data, no explicit nonce.
    Tls12Chacha,
}

impl Proto {
    /// Bytes a record adds in front of its plaintext after the 5-byte
    /// header (TLS 1.2 GCM's explicit nonce).
    pub(crate) fn explicit_len(self) -> usize {
        match self {
            Proto::Tls12Gcm => 8,
            _ => 0,
        }
    }
}

/// The keys of one direction (send or receive).
pub(crate) struct Keys {
    key: LessSafeKey,
    iv: [u8; aead::NONCE_LEN],
    /// The sequence number of the next record.
    pub(crate) seq: u64,
    /// Records this key may protect before it must be replaced (AES-GCM's
    /// confidentiality limit; unbounded for ChaCha20-Poly1305).
    pub(crate) limit: u64,
}

/// AES-GCM's record limit, as rustls sets it (2^24.5 full-size records,
/// RFC 8446 §5.5), rounded down.
const AES_GCM_LIMIT: u64 = 23_726_566;

impl Keys {
    /// The keys for `secrets`, starting at sequence number `seq`, and the
    /// record protection they imply under TLS 1.3 (`tls13`) or 1.2.
    pub(crate) fn new(
        seq: u64,
        secrets: ConnectionTrafficSecrets,
        tls13: bool,
    ) -> io::Result<(Keys, Proto)> {
        let (alg, key, iv, gcm) = match &secrets {
            ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (&aead::AES_128_GCM, key, iv, true),
            ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (&aead::AES_256_GCM, key, iv, true),
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
                (&aead::CHACHA20_POLY1305, key, iv, false)
            }
            _ => return Err(io::Error::other("tls: unsupported cipher for own records")),
        };
        let unbound = UnboundKey::new(alg, key.as_ref())
            .map_err(|_| io::Error::other("tls: bad traffic key length"))?;
        let iv: [u8; aead::NONCE_LEN] = iv
            .as_ref()
            .try_into()
            .map_err(|_| io::Error::other("tls: bad IV length"))?;
        let proto = match (tls13, gcm) {
            (true, _) => Proto::Tls13,
            (false, true) => Proto::Tls12Gcm,
            (false, false) => Proto::Tls12Chacha,
        };
        let keys = Keys {
            key: LessSafeKey::new(unbound),
            iv,
            seq,
            limit: if gcm { AES_GCM_LIMIT } else { u64::MAX },
        };
        Ok((keys, proto))
    }

    /// The per-record nonce for sequence number `seq`: IV ^ seq (big-endian
    /// in the last 8 bytes). TLS 1.2 GCM sends bytes 4.. of it as the
    /// explicit nonce, so it is this same construction (as rustls does).
    pub(crate) fn nonce(&self, seq: u64) -> [u8; aead::NONCE_LEN] {
        let mut n = self.iv;
        for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    /// The nonce of a received TLS 1.2 GCM record: the 4-byte salt (the
    /// IV's first bytes) followed by the record's explicit nonce.
    pub(crate) fn salted(&self, explicit: &[u8]) -> [u8; aead::NONCE_LEN] {
        let mut n = self.iv;
        n[4..].copy_from_slice(&explicit[..8]);
        n
    }

    /// The AEAD key.
    pub(crate) fn key(&self) -> &LessSafeKey {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> ConnectionTrafficSecrets {
        ConnectionTrafficSecrets::Aes256Gcm {
            key: rustls::crypto::cipher::AeadKey::from([7u8; 32]),
            iv: rustls::crypto::cipher::Iv::new([1; 12]),
        }
    }

    #[test]
    fn nonce_is_iv_xor_sequence() {
        let (k, p) = Keys::new(0, secrets(), true).unwrap();
        assert_eq!(p, Proto::Tls13);
        let n = k.nonce(0x0102);
        assert_eq!(&n[..10], &[1; 10]);
        assert_eq!(&n[10..], &[1 ^ 1, 1 ^ 2]);
    }
}
