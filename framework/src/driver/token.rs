//! `user_data` encoding: every request carries the operation kind, a slot
//! index and the slot's generation, so a completion is dispatched with a
//! shift and a mask: no allocation, no hash lookup.
//!
//! ```text
//!  63      56 55              32 31                          0
//! +----------+------------------+-----------------------------+
//! |    op    | generation (24b) |        index (32 bits)      |
//! +----------+------------------+-----------------------------+
//! ```

/// What a completion belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Op {
    /// A completion nobody waits for (cancel requests, link timeouts).
    Ignore = 0,
    /// Multishot accept; index = listener number on this worker.
    Accept = 1,
    /// Multishot receive; index = connection slot.
    Recv = 2,
    /// sendmsg / sendmsg_zc; index = connection slot.
    Send = 3,
    /// close(2) of a connection's socket.
    Close = 4,
    /// shutdown(2) of a connection's write side.
    Shutdown = 5,
    /// connect(2) of a client connection.
    Connect = 6,
    /// The worker's timer-wheel timeout; generation = arm sequence.
    Timer = 7,
    /// Read of the worker's eventfd (cross-thread wake-ups).
    Remote = 8,
    /// Completion of a listener's cancel during shutdown; index = listener.
    AcceptCancel = 9,
    /// A file operation (open, statx, read) of a task; index = its entry
    /// in the worker's file-operation table.
    File = 10,
}

impl Op {
    fn from_u8(v: u8) -> Op {
        match v {
            1 => Op::Accept,
            2 => Op::Recv,
            3 => Op::Send,
            4 => Op::Close,
            5 => Op::Shutdown,
            6 => Op::Connect,
            7 => Op::Timer,
            8 => Op::Remote,
            9 => Op::AcceptCancel,
            10 => Op::File,
            _ => Op::Ignore,
        }
    }
}

/// A decoded `user_data` value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub op: Op,
    pub index: u32,
    pub gen: u32,
}

const GEN_MASK: u64 = 0x00FF_FFFF;

impl Token {
    pub fn new(op: Op, index: u32, gen: u32) -> Token {
        Token {
            op,
            index,
            gen: (gen as u64 & GEN_MASK) as u32,
        }
    }

    pub fn encode(self) -> u64 {
        (self.op as u64) << 56 | (self.gen as u64 & GEN_MASK) << 32 | self.index as u64
    }

    pub fn decode(v: u64) -> Token {
        Token {
            op: Op::from_u8((v >> 56) as u8),
            gen: ((v >> 32) & GEN_MASK) as u32,
            index: v as u32,
        }
    }
}

/// Generations are compared modulo 2^24, the width that fits in a token.
pub(crate) fn same_gen(a: u32, b: u32) -> bool {
    (a as u64 & GEN_MASK) == (b as u64 & GEN_MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for op in [Op::Accept, Op::Recv, Op::Send, Op::Timer, Op::Ignore] {
            let t = Token::new(op, u32::MAX, 0x1234_5678);
            let d = Token::decode(t.encode());
            assert_eq!(d.op, op);
            assert_eq!(d.index, u32::MAX);
            assert!(same_gen(d.gen, 0x1234_5678));
        }
    }
}
