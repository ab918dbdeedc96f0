//! `Inbound`: the one receive buffer every protocol reader sits on.
//!
//! [`FrameReader`](crate::frame::FrameReader), the HTTP server's head and
//! body readers and the HTTP client's response reader all read through an
//! `Inbound`. It sits above [`Connection::read`] (so above any byte
//! [`Layer`](crate::Layer) such as TLS) and does not care where a lease
//! came from.
//!
//! A unit (a frame, a head) inside one lease is read in place. Only a unit
//! cut by the end of a lease is assembled: the rest of that lease is copied
//! into the assembly buffer and the lease let go, then from each following
//! lease just the bytes the reader asks for. Once the unit is consumed,
//! reading goes back to the rest of the current lease, in place.
//!
//! ```text
//!  lease mode:     front = [ lease: unit | unit | un ]   read in place
//!                                              └─ cut: begin_assembly
//!  assembly mode:  front = asm [ un ] ◄── back = [ it | unit | u ]
//!                  asm [ un+it ]    assemble(n)  └─ back_pos
//!  unit consumed:  asm released;  front = [ unit | u ]  lease mode again
//! ```
//!
//! The last `back_pos` bytes of the assembly buffer are always the first
//! `back_pos` bytes of the back lease, so bytes copied past a unit's end are
//! never read twice: consuming up to them moves the view back to the lease.
//!
//! A reader that keeps a unit borrowed while it reads what follows (the
//! HTTP server's `Request` borrows its head while the body is read)
//! splits the buffer (`split`, crate-internal): the front view stays as it
//! is, and a [`Tail`] reads on past it, taking new leases behind it, until
//! the next unit releases the front.

use std::io;
use std::ptr::NonNull;
use std::time::Instant;

use crate::{Connection, Lease};

/// Smallest assembly buffer allocated, so that units of similar sizes
/// reuse it instead of growing it a few bytes at a time.
const MIN_ASSEMBLY: usize = 512;
/// An assembly buffer larger than this is freed once its unit is consumed
/// (a rare large unit does not pin its memory to the connection).
const RETAIN: usize = 32 << 10;

/// Where reading stands past the front view (the lease or the assembly
/// buffer bytes are read from).
#[derive(Debug, Default)]
struct Cursor {
    /// Bytes of the front view consumed.
    pos: usize,
    /// The front view is the assembly buffer (else the lease).
    in_asm: bool,
    /// The lease after the front: in assembly, the one being copied from;
    /// once the front is used up, read in place from `back_pos`.
    back: Option<Lease>,
    back_pos: usize,
    received: u64,
}

/// Received bytes of one connection, read in place where possible: the
/// current lease, an assembly buffer for a unit that spans leases, and the
/// consumed position.
///
/// The usual loop: look at [`bytes`](Inbound::bytes), parse what is
/// there, [`consume`](Inbound::consume) what was used, and when a unit is
/// not complete ask for more with [`need`](Inbound::need) (copying only
/// that unit's bytes) or [`fill`](Inbound::fill).
///
/// ```no_run
/// use corering::{Connection, Inbound};
/// /// Reads length-prefixed messages (one length byte, then the bytes).
/// async fn messages(mut conn: Connection) -> std::io::Result<()> {
///     let mut inbound = Inbound::new();
///     loop {
///         if !inbound.need(&mut conn, 1).await? {
///             return Ok(()); // the peer closed
///         }
///         let len = 1 + inbound.bytes()[0] as usize;
///         if !inbound.need(&mut conn, len).await? {
///             return Err(std::io::ErrorKind::UnexpectedEof.into());
///         }
///         let message = &inbound.bytes()[1..len]; // in place, or assembled
///         println!("{} bytes", message.len());
///         inbound.consume(len);
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Inbound {
    /// The front view in lease mode.
    lease: Option<Lease>,
    /// The front view in assembly mode.
    asm: Vec<u8>,
    /// The front view's bytes (the lease's or `asm`'s), kept by
    /// [`refresh`](Inbound::refresh) after every change to either, so the
    /// hot path reads them without a branch.
    front_ptr: NonNull<u8>,
    front_len: usize,
    cur: Cursor,
    /// Most bytes the assembly buffer grows to ahead of need.
    limit: Option<usize>,
    copied: u64,
}

/// The bytes of `front` and `cur` not yet consumed, contiguous.
#[inline]
fn view<'a>(front: &'a [u8], cur: &'a Cursor) -> &'a [u8] {
    if cur.pos < front.len() {
        // SAFETY: just checked `pos < front.len()`.
        unsafe { front.get_unchecked(cur.pos..) }
    } else {
        back_view(cur)
    }
}

/// The unconsumed bytes of the back lease.
#[inline]
fn back_view(cur: &Cursor) -> &[u8] {
    match &cur.back {
        Some(b) => b.get(cur.back_pos..).unwrap_or_default(),
        None => &[],
    }
}

/// Marks `n` bytes consumed. In assembly, once only bytes copied from the
/// back lease are left in the front, reading moves to that lease.
#[inline]
fn advance(front_len: usize, cur: &mut Cursor, n: usize) {
    let rest = front_len.saturating_sub(cur.pos);
    if rest > 0 {
        assert!(n <= rest, "consume past the buffered bytes");
        cur.pos += n;
        let left = rest - n;
        if cur.in_asm && left > 0 && left <= cur.back_pos && cur.back.is_some() {
            cur.pos = front_len;
            cur.back_pos -= left;
        }
    } else if n > 0 {
        let back = cur.back.as_ref().map_or(0, |b| b.len());
        assert!(
            n <= back.saturating_sub(cur.back_pos),
            "consume past the buffered bytes"
        );
        cur.back_pos += n;
    }
}

/// Reads one lease, by `deadline` if there is one.
async fn read_lease(conn: &mut Connection, deadline: Option<Instant>) -> io::Result<Option<Lease>> {
    match deadline {
        None => conn.read().await,
        Some(t) => {
            let left = t.saturating_duration_since(Instant::now());
            match crate::time::timeout(left, conn.read()).await {
                Ok(r) => r,
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "no data in time")),
            }
        }
    }
}

impl Default for Inbound {
    fn default() -> Inbound {
        Inbound {
            lease: None,
            asm: Vec::new(),
            front_ptr: NonNull::dangling(),
            front_len: 0,
            cur: Cursor::default(),
            limit: None,
            copied: 0,
        }
    }
}

impl Inbound {
    /// An empty buffer.
    pub fn new() -> Inbound {
        Inbound::default()
    }

    /// Records where the front view's bytes are, after a change to the
    /// lease, the assembly buffer or the mode.
    fn refresh(&mut self) {
        let front: &[u8] = if self.cur.in_asm {
            &self.asm
        } else {
            self.lease.as_deref().unwrap_or_default()
        };
        // A slice's pointer is never null (dangling when empty).
        self.front_ptr = NonNull::new(front.as_ptr() as *mut u8).unwrap_or(NonNull::dangling());
        self.front_len = front.len();
    }

    /// An empty buffer whose assembly buffer grows ahead of need to at
    /// most `bytes` (it still holds a longer unit when asked to).
    pub fn max_assembly(mut self, bytes: usize) -> Inbound {
        self.limit = Some(bytes);
        self
    }

    /// The front view whole, consumed bytes included (a head split off
    /// with [`split`](Inbound::split) stays there until released).
    #[inline]
    pub(crate) fn front(&self) -> &[u8] {
        // SAFETY: `refresh` runs after every change to `lease`, `asm` and
        // `in_asm`, so these describe the live bytes of the lease or the
        // assembly buffer, which `self` owns; `&self` keeps both unchanged
        // while the slice lives.
        unsafe { std::slice::from_raw_parts(self.front_ptr.as_ptr(), self.front_len) }
    }

    /// The bytes received and not consumed that can be read as one slice:
    /// the rest of the current lease, or in assembly the bytes assembled so
    /// far. More may be buffered beyond them ([`len`](Inbound::len)).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        view(self.front(), &self.cur)
    }

    /// Runs `f` on [`bytes`](Inbound::bytes), mutably: a protocol that
    /// decodes in place (WebSocket unmasking) changes the received bytes
    /// where they lie.
    pub(crate) fn with_bytes_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let pos = self.cur.pos;
        let r = if pos < self.front_len {
            if self.cur.in_asm {
                f(&mut self.asm[pos..])
            } else {
                match &mut self.lease {
                    Some(l) => f(&mut l.as_mut_slice()[pos..]),
                    None => f(&mut []),
                }
            }
        } else {
            let at = self.cur.back_pos;
            match &mut self.cur.back {
                Some(b) => f(b.as_mut_slice().get_mut(at..).unwrap_or_default()),
                None => f(&mut []),
            }
        };
        // The bytes moved nowhere, but `front` is derived anew from the
        // buffer after this mutable use.
        self.refresh();
        r
    }

    /// All bytes received and not consumed, whether in the contiguous
    /// [`bytes`](Inbound::bytes) or still in a lease waiting to be
    /// assembled.
    pub fn len(&self) -> usize {
        let front = self.front().len().saturating_sub(self.cur.pos);
        let back = self
            .cur
            .back
            .as_ref()
            .map_or(0, |b| b.len())
            .saturating_sub(self.cur.back_pos);
        front + back
    }

    /// True if nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Marks the first `n` bytes of [`bytes`](Inbound::bytes) as used;
    /// a lease used up is released.
    ///
    /// # Panics
    /// If `n` exceeds `bytes().len()`.
    #[inline]
    pub fn consume(&mut self, n: usize) {
        let len = self.front().len();
        advance(len, &mut self.cur, n);
        self.settle();
    }

    /// True while a unit that spans leases is being assembled (the
    /// contiguous bytes are a copy).
    #[inline]
    pub fn is_assembling(&self) -> bool {
        self.cur.in_asm && self.cur.pos < self.front_len
    }

    /// True if, once `n` more bytes are consumed, the next ones are read
    /// from the assembly buffer (a unit spans leases).
    pub(crate) fn assembling_after(&self, n: usize) -> bool {
        if !self.cur.in_asm {
            return false;
        }
        let left = self.asm.len().saturating_sub(self.cur.pos + n);
        left > 0 && !(self.cur.back.is_some() && left <= self.cur.back_pos)
    }

    /// Bytes received but not yet in the contiguous view: in assembly, the
    /// rest of the lease being copied from (see
    /// [`assemble`](Inbound::assemble)).
    pub fn unassembled(&self) -> &[u8] {
        if !self.is_assembling() {
            return &[];
        }
        match &self.cur.back {
            Some(b) => b.get(self.cur.back_pos..).unwrap_or_default(),
            None => &[],
        }
    }

    /// Where the unconsumed bytes start in [`front`](Inbound::front).
    pub(crate) fn position(&self) -> usize {
        self.cur.pos.min(self.front().len())
    }

    /// Capacity of the assembly buffer: the memory held besides leases.
    /// Zero until a unit spans leases, and back to at most 32 KiB after an
    /// unusually large one.
    ///
    /// ```
    /// assert_eq!(corering::Inbound::new().capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        self.asm.capacity()
    }

    /// Total bytes received so far.
    pub fn bytes_received(&self) -> u64 {
        self.cur.received
    }

    /// Total bytes copied into the assembly buffer so far (units within
    /// one lease add nothing).
    ///
    /// ```
    /// let i = corering::Inbound::new();
    /// assert_eq!((i.bytes_received(), i.bytes_copied()), (0, 0));
    /// ```
    pub fn bytes_copied(&self) -> u64 {
        self.copied
    }

    /// Adds a lease the caller read from the connection itself (for
    /// example inside a race with a timer). If unconsumed bytes are
    /// buffered they are assembled first, and the lease's bytes wait in
    /// [`unassembled`](Inbound::unassembled) until asked for.
    pub fn push(&mut self, lease: Lease) {
        self.cur.received += lease.len() as u64;
        if lease.is_empty() {
            return;
        }
        self.settle();
        if self.front().len() <= self.cur.pos {
            self.lease = Some(lease);
            self.cur.pos = 0;
            self.refresh();
            return;
        }
        if self.cur.in_asm {
            let rest = self.unassembled().len();
            self.assemble(rest);
            self.compact();
        } else {
            self.begin_assembly();
        }
        self.cur.back = Some(lease);
        self.cur.back_pos = 0;
    }

    /// Copies the unconsumed bytes of the current lease into the assembly
    /// buffer and releases the lease, before waiting for the rest of a unit
    /// (so a slow peer does not hold a ring buffer). Nothing if assembling
    /// already or nothing is buffered.
    pub fn begin_assembly(&mut self) {
        self.settle();
        if self.cur.in_asm {
            return;
        }
        let Some(l) = self.lease.take() else {
            return;
        };
        let rest = l.get(self.cur.pos..).unwrap_or_default();
        if rest.is_empty() {
            self.cur.pos = 0;
            self.refresh();
            return;
        }
        self.asm.clear();
        self.reserve(rest.len());
        self.asm.extend_from_slice(rest);
        self.copied += rest.len() as u64;
        self.cur.in_asm = true;
        self.cur.pos = 0;
        self.refresh();
    }

    /// In assembly: copies up to `n` more bytes from the lease after the
    /// assembled ones; returns how many. A lease copied to its end is
    /// released.
    pub fn assemble(&mut self, n: usize) -> usize {
        if !self.is_assembling() {
            return 0;
        }
        let avail = self.unassembled().len();
        let n = n.min(avail);
        if n == 0 {
            return 0;
        }
        self.reserve(self.asm.len() - self.cur.pos + n);
        if let Some(b) = &self.cur.back {
            self.asm
                .extend_from_slice(&b[self.cur.back_pos..self.cur.back_pos + n]);
        }
        self.cur.back_pos += n;
        self.copied += n as u64;
        if n == avail {
            self.cur.back = None;
            self.cur.back_pos = 0;
        }
        self.refresh();
        n
    }

    /// Makes room for `total` contiguous bytes in the assembly buffer,
    /// doubling so that a buffer in use stops growing after a few units
    /// (up to the [`max_assembly`](Inbound::max_assembly) limit).
    pub(crate) fn reserve(&mut self, total: usize) {
        self.compact();
        let cap = self.asm.capacity();
        if total > cap {
            let limit = self.limit.unwrap_or(usize::MAX);
            let want = total
                .max(cap.saturating_mul(2))
                .max(MIN_ASSEMBLY)
                .min(limit.max(total));
            self.asm.reserve_exact(want - self.asm.len());
            self.refresh();
        }
    }

    /// Drops consumed bytes from the front of the assembly buffer.
    fn compact(&mut self) {
        if self.cur.in_asm && self.cur.pos > 0 && self.cur.pos < self.asm.len() {
            self.asm.drain(..self.cur.pos);
            self.cur.pos = 0;
            self.refresh();
        }
    }

    /// Once the front view is used up: releases it (the lease, or the
    /// assembly buffer's contents) and reads on from the back lease.
    #[inline]
    pub(crate) fn settle(&mut self) {
        if self.cur.pos < self.front().len() {
            return;
        }
        self.settle_slow();
    }

    fn settle_slow(&mut self) {
        if self.cur.in_asm {
            self.cur.in_asm = false;
            self.asm.clear();
            if self.asm.capacity() > RETAIN {
                self.asm = Vec::new();
            }
        }
        self.lease = self.cur.back.take();
        self.cur.pos = std::mem::take(&mut self.cur.back_pos);
        if self.lease.as_ref().is_some_and(|l| self.cur.pos >= l.len()) {
            self.lease = None;
            self.cur.pos = 0;
        }
        self.refresh();
    }

    /// Reads the next lease into the buffer; `Ok(false)` if the peer has
    /// closed. [`bytes`](Inbound::bytes) grows by what arrived (in
    /// assembly, by copying all of it: use [`need`](Inbound::need) to copy
    /// only a unit's bytes).
    pub async fn fill(&mut self, conn: &mut Connection) -> io::Result<bool> {
        self.fill_inner(conn, None).await
    }

    /// [`fill`](Inbound::fill), failing with [`io::ErrorKind::TimedOut`]
    /// once `deadline` passes.
    pub async fn fill_by(&mut self, conn: &mut Connection, deadline: Instant) -> io::Result<bool> {
        self.fill_inner(conn, Some(deadline)).await
    }

    async fn fill_inner(&mut self, conn: &mut Connection, by: Option<Instant>) -> io::Result<bool> {
        if !self.unassembled().is_empty() {
            let n = self.unassembled().len();
            self.assemble(n);
            return Ok(true);
        }
        if !self.is_empty() {
            self.begin_assembly();
        }
        match read_lease(conn, by).await? {
            Some(l) => {
                self.push(l);
                let n = self.unassembled().len();
                self.assemble(n);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Waits until at least `n` bytes are contiguous in
    /// [`bytes`](Inbound::bytes), copying (if the bytes span leases) only
    /// up to the `n`th. `Ok(false)` if the peer closed first.
    pub async fn need(&mut self, conn: &mut Connection, n: usize) -> io::Result<bool> {
        self.need_inner(conn, n, None).await
    }

    /// [`need`](Inbound::need), failing with [`io::ErrorKind::TimedOut`]
    /// once `deadline` passes.
    pub async fn need_by(
        &mut self,
        conn: &mut Connection,
        n: usize,
        deadline: Instant,
    ) -> io::Result<bool> {
        self.need_inner(conn, n, Some(deadline)).await
    }

    async fn need_inner(
        &mut self,
        conn: &mut Connection,
        n: usize,
        by: Option<Instant>,
    ) -> io::Result<bool> {
        while !self.gather(n) {
            match read_lease(conn, by).await? {
                Some(l) => self.push(l),
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Makes `n` bytes contiguous from what is buffered, copying only up
    /// to the `n`th; false if a lease more is needed (anything buffered is
    /// then assembled already, so no lease is held while waiting).
    pub(crate) fn gather(&mut self, n: usize) -> bool {
        loop {
            let have = self.bytes().len();
            if have >= n {
                return true;
            }
            if !self.unassembled().is_empty() {
                self.assemble(n - have);
                continue;
            }
            if have > 0 {
                self.reserve(n);
                self.begin_assembly();
            }
            return false;
        }
    }

    /// The front view whole (consumed bytes included) and a [`Tail`]
    /// reading on after it, for a reader that keeps borrowing a unit (an
    /// HTTP head) while it reads what follows (the body). The front is not
    /// released while split; [`Inbound::consume`] (or the next unit)
    /// releases it.
    #[inline]
    pub(crate) fn split(&mut self) -> (&[u8], Tail<'_>) {
        // SAFETY: as in `front`; the `Tail` borrows only `cur`, never the
        // lease or the assembly buffer, so the bytes stay as they are
        // while both live.
        let front: &[u8] =
            unsafe { std::slice::from_raw_parts(self.front_ptr.as_ptr(), self.front_len) };
        let tail = Tail {
            front,
            cur: &mut self.cur,
        };
        (front, tail)
    }
}

/// The reading half of a split [`Inbound`]: reads on past the front view
/// without releasing it. New leases go behind it.
pub(crate) struct Tail<'a> {
    front: &'a [u8],
    cur: &'a mut Cursor,
}

impl Tail<'_> {
    /// Where the unconsumed bytes start in the front view (its length once
    /// the front is used up).
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.cur.pos.min(self.front.len())
    }

    /// The unconsumed bytes that can be read as one slice.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        view(self.front, self.cur)
    }

    /// Marks `n` bytes of [`bytes`](Tail::bytes) as used.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        advance(self.front.len(), self.cur, n);
    }

    /// Adds a lease behind the front. Only once everything buffered is
    /// consumed (nothing is assembled here).
    #[inline]
    pub(crate) fn push(&mut self, lease: Lease) {
        debug_assert!(self.bytes().is_empty(), "push onto unread bytes");
        self.cur.received += lease.len() as u64;
        self.cur.pos = self.cur.pos.max(self.front.len());
        self.cur.back = Some(lease);
        self.cur.back_pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(bytes: &[u8]) -> Lease {
        let mut v = Lease::heap_buffer(bytes.len());
        v.extend_from_slice(bytes);
        Lease::from_vec(v)
    }

    /// A small xorshift generator.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// `[len][len bytes]` units of random sizes.
    fn units(seed: &mut u64, count: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|i| {
                let len = (rng(seed) % 40) as usize;
                (0..len).map(|j| (i * 7 + j) as u8).collect()
            })
            .collect()
    }

    /// Reads the units back from `wire` cut at `cuts`, as `need` does; with
    /// `over`, assembles that many bytes past each unit first (as a
    /// reader that copies ahead does), which must not change what is read.
    fn read_back(wire: &[u8], cuts: &[usize], over: usize) -> (Vec<Vec<u8>>, u64) {
        let mut leases = std::collections::VecDeque::new();
        let mut at = 0;
        for &c in cuts.iter().chain(std::iter::once(&wire.len())) {
            if c > at {
                leases.push_back(lease(&wire[at..c]));
                at = c;
            }
        }
        let mut input = Inbound::new();
        let mut need = |input: &mut Inbound, n: usize| loop {
            if input.gather(n) {
                return true;
            }
            match leases.pop_front() {
                Some(l) => input.push(l),
                None => return false,
            }
        };
        let mut out = Vec::new();
        while need(&mut input, 1) {
            let n = 1 + input.bytes()[0] as usize;
            assert!(need(&mut input, n), "unit cut short");
            input.assemble(over);
            out.push(input.bytes()[1..n].to_vec());
            input.consume(n);
        }
        assert!(input.is_empty());
        (out, input.bytes_copied())
    }

    #[test]
    fn any_cuts_read_the_same_units_copying_only_those_that_span() {
        let mut seed = 0x2545_f491_4f6c_dd1d;
        for round in 0..300 {
            let units = units(&mut seed, 30);
            let mut wire = Vec::new();
            let mut bounds = vec![0];
            for u in &units {
                wire.push(u.len() as u8);
                wire.extend_from_slice(u);
                bounds.push(wire.len());
            }
            let mut cuts: Vec<usize> = (0..(rng(&mut seed) % 20))
                .map(|_| (rng(&mut seed) as usize) % wire.len().max(1))
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            // Bytes of units a cut falls inside of: the most copied.
            let spanning: usize = bounds
                .windows(2)
                .filter(|w| cuts.iter().any(|&c| w[0] < c && c < w[1]))
                .map(|w| w[1] - w[0])
                .sum();
            for over in [0, 1, 5] {
                let (got, copied) = read_back(&wire, &cuts, over);
                assert_eq!(got, units, "round {round}, cuts {cuts:?}, over {over}");
                if over == 0 {
                    assert!(
                        copied <= spanning as u64,
                        "round {round}: copied {copied} > {spanning}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_split_unit_stays_while_the_tail_reads_on() {
        let mut input = Inbound::new();
        input.push(lease(b"HEAD"));
        assert!(!input.gather(6));
        input.push(lease(b"ERbody"));
        assert!(input.gather(6));
        assert_eq!(input.bytes(), b"HEADER");
        let (front, mut tail) = input.split();
        let start = tail.position();
        tail.consume(6);
        // Past the assembled unit: read on in place in the lease.
        assert_eq!(tail.bytes(), b"body");
        tail.consume(4);
        assert!(tail.bytes().is_empty());
        tail.push(lease(b"next"));
        assert_eq!(tail.bytes(), b"next");
        assert_eq!(&front[start..start + 6], b"HEADER");
        input.consume(0);
        assert_eq!(input.bytes(), b"next");
        assert!(!input.is_assembling());
        assert_eq!(input.bytes_copied(), 6);
    }
}
