//! A per-thread line buffer for stderr: lines written during one loop
//! turn of a worker leave in one `write(2)`.
//!
//! The first line into an empty buffer spawns a small task that flushes
//! it; tasks run in order, so that task runs after the requests already
//! ready in this turn have added their lines. A full buffer (32 KiB) is
//! flushed at once, and whatever is left when the thread ends is flushed
//! then. Off a worker every line is written at once.

use std::cell::RefCell;
use std::io::Write;

/// Buffered bytes that trigger an immediate flush.
const FLUSH_AT: usize = 32 << 10;

struct Lines {
    buf: Vec<u8>,
    /// A flush task is queued.
    pending: bool,
}

impl Drop for Lines {
    fn drop(&mut self) {
        write_out(&self.buf);
    }
}

thread_local! {
    static LINES: RefCell<Lines> = const {
        RefCell::new(Lines { buf: Vec::new(), pending: false })
    };
}

/// Appends one line (built by `f`, which must end it with `\n`) and
/// arranges for it to reach stderr soon.
pub(crate) fn write_line(f: impl FnOnce(&mut Vec<u8>)) {
    let spawn = LINES.with(|l| {
        let Ok(mut l) = l.try_borrow_mut() else {
            return false;
        };
        f(&mut l.buf);
        if l.buf.len() >= FLUSH_AT || crate::runtime::try_with(|_| ()).is_none() {
            flush_locked(&mut l);
            return false;
        }
        !std::mem::replace(&mut l.pending, true)
    });
    if spawn {
        crate::spawn_local(async { flush() });
    }
}

/// Writes out what is buffered.
fn flush() {
    LINES.with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            flush_locked(&mut l);
            l.pending = false;
        }
    });
}

fn flush_locked(l: &mut Lines) {
    write_out(&l.buf);
    l.buf.clear();
    if l.buf.capacity() > 4 * FLUSH_AT {
        l.buf = Vec::new();
    }
}

fn write_out(bytes: &[u8]) {
    if !bytes.is_empty() {
        // A log that cannot be written is dropped; the server goes on.
        let _ = std::io::stderr().lock().write_all(bytes);
    }
}
