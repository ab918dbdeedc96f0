//! Outgoing data owned by a connection slot.
//!
//! Bytes written by the application are copied into *chunks* owned by the
//! slot (or, for owned buffers, the buffer itself is queued), so the kernel
//! always sends from memory the slot owns. A future that is dropped while a
//! send is in flight cannot free what the kernel reads from.
//!
//! Chunks grow geometrically (4 KiB, 8 KiB, ... 64 KiB) while a queue is
//! busy, are never reallocated (appending only writes past the bytes already
//! handed to the kernel), and go back to a per-worker pool as soon as they are
//! sent, so a connection with nothing to send holds no chunk and a busy one
//! allocates nothing once the pool is warm.
//!
//! A *file span* (bytes of an open file, [`OutQueue::push_file`]) queues no
//! memory at all: when it reaches the front it goes out with `sendfile(2)`
//! (see `SendState::file`), straight from the page cache.

use std::collections::VecDeque;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::Arc;

/// Size classes of chunks, smallest first.
const CLASSES: [usize; 5] = [4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10];
/// Iovecs per sendmsg.
pub(crate) const MAX_IOV: usize = 64;

/// A lease queued for sending, kept as raw parts so that releasing it does
/// not re-enter the worker (see `Io::release_lease`).
#[derive(Copy, Clone, Debug)]
pub(crate) struct RawLease {
    pub ptr: *const u8,
    pub bid: u16,
    pub conn: u32,
    pub gen: u32,
}

/// An owned buffer handed to [`Connection::write_owned`](crate::Connection::write_owned).
///
/// The buffer is queued as it is (no copy) and dropped once sent.
pub enum OutBuf {
    /// A heap buffer, freed after it is sent.
    Vec(Vec<u8>),
    /// Static bytes, such as a fixed response.
    Static(&'static [u8]),
    /// A received buffer sent back out (for echo and proxies) without a copy;
    /// it returns to the buffer ring once sent.
    Lease(crate::Lease),
}

impl OutBuf {
    /// The bytes to send.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            OutBuf::Vec(v) => v,
            OutBuf::Static(s) => s,
            OutBuf::Lease(l) => l,
        }
    }
}

impl From<Vec<u8>> for OutBuf {
    fn from(v: Vec<u8>) -> OutBuf {
        OutBuf::Vec(v)
    }
}
impl From<&'static [u8]> for OutBuf {
    fn from(s: &'static [u8]) -> OutBuf {
        OutBuf::Static(s)
    }
}
impl From<&'static str> for OutBuf {
    fn from(s: &'static str) -> OutBuf {
        OutBuf::Static(s.as_bytes())
    }
}
impl From<crate::Lease> for OutBuf {
    fn from(l: crate::Lease) -> OutBuf {
        OutBuf::Lease(l)
    }
}

enum Data {
    Chunk(Box<[u8]>),
    Vec(Vec<u8>),
    Static(&'static [u8]),
    Lease(RawLease),
    /// A span of an open file; `start..end` are offsets into it.
    File(Arc<File>),
}

struct Seg {
    data: Data,
    start: usize,
    end: usize,
}

impl Seg {
    /// The segment's first byte in memory (never called for a file span).
    fn base(&self) -> *const u8 {
        match &self.data {
            Data::Chunk(b) => b.as_ptr(),
            Data::Vec(v) => v.as_ptr(),
            Data::Static(s) => s.as_ptr(),
            Data::Lease(l) => l.ptr,
            Data::File(_) => unreachable!("a file span has no memory"),
        }
    }
}

/// The front of a queue when it is a file span: `len` bytes of the file
/// `fd` from `offset`, for one `sendfile(2)`.
#[derive(Copy, Clone, Debug)]
pub(crate) struct FileSpan {
    pub fd: std::os::fd::RawFd,
    pub offset: u64,
    pub len: usize,
}

/// Per-worker pool of chunks and send states.
pub(crate) struct OutPool {
    chunks: [Vec<Box<[u8]>>; CLASSES.len()],
    pooled_bytes: usize,
    max_bytes: usize,
    // Boxed on purpose: the kernel holds pointers into a SendState while a
    // send is in flight, so each must keep its address when the Vec grows.
    #[allow(clippy::vec_box)]
    sends: Vec<Box<SendState>>,
}

impl OutPool {
    pub fn new(max_bytes: usize) -> OutPool {
        OutPool {
            chunks: Default::default(),
            pooled_bytes: 0,
            max_bytes,
            sends: Vec::new(),
        }
    }

    fn get_chunk(&mut self, class: usize) -> Box<[u8]> {
        match self.chunks[class].pop() {
            Some(c) => {
                self.pooled_bytes -= c.len();
                c
            }
            None => vec![0u8; CLASSES[class]].into_boxed_slice(),
        }
    }

    fn put_chunk(&mut self, c: Box<[u8]>) {
        if self.pooled_bytes + c.len() > self.max_bytes {
            return;
        }
        if let Some(class) = CLASSES.iter().position(|&n| n == c.len()) {
            self.pooled_bytes += c.len();
            self.chunks[class].push(c);
        }
    }

    /// A send state for one sendmsg.
    pub fn get_send(&mut self) -> Box<SendState> {
        self.sends.pop().unwrap_or_else(|| {
            Box::new(SendState {
                // SAFETY: msghdr and iovec are plain C structs for which all
                // zero bytes is a valid (empty) value.
                msg: unsafe { std::mem::zeroed() },
                // SAFETY: as above.
                iov: unsafe { std::mem::zeroed() },
                zc: false,
                file: None,
                more: false,
                result: 0,
                notif_pending: false,
            })
        })
    }

    /// Returns a send state to the pool.
    pub fn put_send(&mut self, s: Box<SendState>) {
        if self.sends.len() < 1024 {
            self.sends.push(s);
        }
    }
}

/// The kernel-visible part of one sendmsg: it must not move while the
/// operation is in flight, hence it is always boxed.
pub(crate) struct SendState {
    pub msg: libc::msghdr,
    pub iov: [libc::iovec; MAX_IOV],
    /// Sent with sendmsg_zc: a notification completion follows.
    pub zc: bool,
    /// Instead of the iovecs: send this span of a file (`sendfile(2)`),
    /// whose descriptor the queue keeps open until the completion.
    pub file: Option<FileSpan>,
    /// A file span follows these bytes: sent with `MSG_MORE`, so a
    /// response head leaves in the same segment as its body's first bytes.
    pub more: bool,
    /// Result of a zero-copy send, kept until its notification arrives.
    pub result: i32,
    /// A zero-copy send has completed and only its notification (the
    /// kernel letting go of the pages) is outstanding.
    pub notif_pending: bool,
}

/// The queue of bytes waiting to be sent on one connection.
#[derive(Default)]
pub(crate) struct OutQueue {
    segs: VecDeque<Seg>,
    len: usize,
    /// Size class of the newest chunk, for geometric growth.
    class: usize,
}

impl OutQueue {
    /// Bytes queued and not yet sent.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `data` into slot-owned chunks.
    pub fn copy_in(&mut self, mut data: &[u8], pool: &mut OutPool) {
        self.len += data.len();
        while !data.is_empty() {
            if let Some(Seg {
                data: Data::Chunk(buf),
                end,
                ..
            }) = self.segs.back_mut()
            {
                let room = buf.len() - *end;
                if room > 0 {
                    let n = room.min(data.len());
                    buf[*end..*end + n].copy_from_slice(&data[..n]);
                    *end += n;
                    data = &data[n..];
                    continue;
                }
            }
            // Start a new chunk: twice the previous one while the queue is
            // busy, but at least big enough for what is left (up to the max).
            let class = if self.segs.is_empty() {
                0
            } else {
                (self.class + 1).min(CLASSES.len() - 1)
            };
            let class = (class..CLASSES.len())
                .find(|&c| CLASSES[c] >= data.len())
                .unwrap_or(CLASSES.len() - 1);
            self.class = class;
            let chunk = pool.get_chunk(class);
            self.segs.push_back(Seg {
                data: Data::Chunk(chunk),
                start: 0,
                end: 0,
            });
        }
    }

    /// Appends `n` bytes written in place by `fill` (which gets a slice of
    /// exactly `n` bytes inside a slot-owned chunk).
    #[inline]
    pub fn fill_in(&mut self, n: usize, pool: &mut OutPool, fill: impl FnOnce(&mut [u8])) {
        if n == 0 {
            return;
        }
        self.len += n;
        if let Some(Seg {
            data: Data::Chunk(buf),
            end,
            ..
        }) = self.segs.back_mut()
        {
            if buf.len() - *end >= n {
                fill(&mut buf[*end..*end + n]);
                *end += n;
                return;
            }
        }
        if n > CLASSES[CLASSES.len() - 1] {
            // Larger than any chunk: a buffer of its own.
            let mut v = vec![0u8; n];
            fill(&mut v);
            self.segs.push_back(Seg {
                data: Data::Vec(v),
                start: 0,
                end: n,
            });
            return;
        }
        let first = if self.segs.is_empty() {
            0
        } else {
            (self.class + 1).min(CLASSES.len() - 1)
        };
        let class = (first..CLASSES.len())
            .find(|&c| CLASSES[c] >= n)
            .unwrap_or(CLASSES.len() - 1);
        self.class = class;
        let mut chunk = pool.get_chunk(class);
        fill(&mut chunk[..n]);
        self.segs.push_back(Seg {
            data: Data::Chunk(chunk),
            start: 0,
            end: n,
        });
    }

    /// Queues an owned buffer without copying it.
    pub fn push_owned(&mut self, buf: OutBuf) {
        let (data, start, end) = match buf {
            OutBuf::Vec(v) => {
                let n = v.len();
                (Data::Vec(v), 0, n)
            }
            OutBuf::Static(s) => (Data::Static(s), 0, s.len()),
            OutBuf::Lease(l) => match l.into_raw() {
                Ok((raw, len)) => (Data::Lease(raw), 0, len as usize),
                Err((v, start, end)) => (Data::Vec(v), start, end),
            },
        };
        if end == start {
            if let Data::Lease(raw) = data {
                crate::runtime::release_lease_later(raw);
            }
            return;
        }
        self.len += end - start;
        self.segs.push_back(Seg { data, start, end });
    }

    /// Queues `len` bytes of the file `fd` from `offset`, to be sent from
    /// the page cache (`sendfile(2)`); the queue keeps `fd` open until
    /// they are.
    pub fn push_file(&mut self, fd: Arc<File>, offset: u64, len: usize) {
        if len == 0 {
            return;
        }
        let start = offset as usize;
        self.len += len;
        self.segs.push_back(Seg {
            data: Data::File(fd),
            start,
            end: start + len,
        });
    }

    /// True if a file span follows the first `n` segments (which
    /// `fill_iovecs` stopped before).
    pub fn file_after(&self, n: usize) -> bool {
        self.segs
            .get(n)
            .is_some_and(|s| matches!(s.data, Data::File(_)))
    }

    /// The front of the queue if it is a file span.
    pub fn front_file(&self) -> Option<FileSpan> {
        match self.segs.front() {
            Some(Seg {
                data: Data::File(fd),
                start,
                end,
            }) => Some(FileSpan {
                fd: fd.as_raw_fd(),
                offset: *start as u64,
                len: end - start,
            }),
            _ => None,
        }
    }

    /// Fills `iov` with the queued bytes from the front, up to the first
    /// file span; returns the count.
    pub fn fill_iovecs(&self, iov: &mut [libc::iovec]) -> usize {
        let mut n = 0;
        for seg in self.segs.iter().take(iov.len()) {
            if matches!(seg.data, Data::File(_)) {
                break;
            }
            if seg.end == seg.start {
                continue;
            }
            // SAFETY: start <= end <= capacity of the segment's memory.
            iov[n].iov_base = unsafe { seg.base().add(seg.start) } as *mut libc::c_void;
            iov[n].iov_len = seg.end - seg.start;
            n += 1;
        }
        n
    }

    /// Drops `n` sent bytes from the front, releasing finished segments:
    /// chunks to `pool`, leases into `leases` for the caller to return.
    pub fn advance(&mut self, mut n: usize, pool: &mut OutPool, leases: &mut Vec<RawLease>) {
        self.len -= n.min(self.len);
        while n > 0 {
            let Some(front) = self.segs.front_mut() else {
                break;
            };
            let avail = front.end - front.start;
            if n < avail {
                front.start += n;
                return;
            }
            n -= avail;
            let seg = self.segs.pop_front().expect("front exists");
            release(seg, pool, leases);
        }
        if self.len == 0 {
            // Nothing left: the last chunk goes back to the pool too, so an
            // idle connection holds no outgoing memory.
            while let Some(seg) = self.segs.pop_front() {
                release(seg, pool, leases);
            }
            self.class = 0;
        }
    }

    /// Drops everything queued (after a write error or on close).
    pub fn clear(&mut self, pool: &mut OutPool, leases: &mut Vec<RawLease>) {
        while let Some(seg) = self.segs.pop_front() {
            release(seg, pool, leases);
        }
        self.len = 0;
        self.class = 0;
    }
}

/// Shortens `iov` to its first `max` bytes (cutting the last iovec kept);
/// returns how many iovecs remain.
pub(crate) fn cap_iovecs(iov: &mut [libc::iovec], max: usize) -> usize {
    let mut left = max;
    for (i, v) in iov.iter_mut().enumerate() {
        if v.iov_len >= left {
            v.iov_len = left;
            return i + 1;
        }
        left -= v.iov_len;
    }
    iov.len()
}

fn release(seg: Seg, pool: &mut OutPool, leases: &mut Vec<RawLease>) {
    match seg.data {
        Data::Chunk(c) => pool.put_chunk(c),
        Data::Lease(raw) => leases.push(raw),
        // Heap buffers (a layer's sealed records, heap leases sent back)
        // go back to the per-thread pool they most likely came from.
        Data::Vec(v) => super::lease::recycle_heap(v),
        Data::Static(_) | Data::File(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gather(q: &OutQueue) -> Vec<u8> {
        let mut iov = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; MAX_IOV];
        let n = q.fill_iovecs(&mut iov);
        let mut out = Vec::new();
        for v in &iov[..n] {
            // SAFETY: the iovecs point into the queue's live segments.
            out.extend_from_slice(unsafe {
                std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len)
            });
        }
        out
    }

    #[test]
    fn cap_iovecs_cuts_at_the_byte_limit() {
        let mut buf = [0u8; 30];
        let mk = |off: usize, len: usize, b: &mut [u8; 30]| libc::iovec {
            iov_base: b[off..].as_mut_ptr().cast(),
            iov_len: len,
        };
        let mut iov = [
            mk(0, 10, &mut buf),
            mk(10, 10, &mut buf),
            mk(20, 10, &mut buf),
        ];
        assert_eq!(cap_iovecs(&mut iov, 15), 2);
        assert_eq!((iov[0].iov_len, iov[1].iov_len), (10, 5));
        let mut iov = [mk(0, 10, &mut buf), mk(10, 10, &mut buf)];
        assert_eq!(cap_iovecs(&mut iov, 100), 2, "under the cap: all kept");
        assert_eq!((iov[0].iov_len, iov[1].iov_len), (10, 10));
        assert_eq!(cap_iovecs(&mut iov, 10), 1, "exactly the first");
    }

    #[test]
    fn a_file_span_splits_the_bytes_around_it() {
        let mut pool = OutPool::new(1 << 20);
        let mut leases = Vec::new();
        let mut q = OutQueue::default();
        let file = Arc::new(File::open("/dev/null").unwrap());
        q.copy_in(b"head", &mut pool);
        q.push_file(Arc::clone(&file), 100, 50);
        q.copy_in(b"next", &mut pool);
        assert_eq!(q.len(), 58);
        // The bytes before the span go alone, flagged as followed by it.
        assert_eq!(gather(&q), b"head");
        assert!(q.file_after(1));
        assert!(q.front_file().is_none());
        q.advance(4, &mut pool, &mut leases);
        let span = q.front_file().expect("the span is in front");
        assert_eq!((span.offset, span.len), (100, 50));
        // A partial send moves the span's offset.
        q.advance(20, &mut pool, &mut leases);
        let span = q.front_file().unwrap();
        assert_eq!((span.offset, span.len), (120, 30));
        q.advance(30, &mut pool, &mut leases);
        assert!(q.front_file().is_none());
        assert_eq!(gather(&q), b"next");
        assert!(!q.file_after(1));
        q.advance(4, &mut pool, &mut leases);
        assert!(q.is_empty());
        // The queue let go of the file.
        assert_eq!(Arc::strong_count(&file), 1);
    }

    #[test]
    fn copy_grow_and_advance() {
        let mut pool = OutPool::new(1 << 20);
        let mut leases = Vec::new();
        let mut q = OutQueue::default();
        let data: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
        q.copy_in(&data[..100], &mut pool);
        q.copy_in(&data[100..], &mut pool);
        q.push_owned(OutBuf::Static(b"tail"));
        assert_eq!(q.len(), 50_004);
        let mut expect = data.clone();
        expect.extend_from_slice(b"tail");
        assert_eq!(gather(&q), expect);
        q.advance(30_000, &mut pool, &mut leases);
        assert_eq!(gather(&q), expect[30_000..]);
        q.advance(20_004, &mut pool, &mut leases);
        assert!(q.is_empty());
        assert_eq!(gather(&q), Vec::<u8>::new());
        // Chunks went back to the pool: a second round reuses them.
        let pooled = pool.pooled_bytes;
        assert!(pooled > 0);
        q.copy_in(&data[..10], &mut pool);
        assert!(pool.pooled_bytes < pooled);
    }
}
