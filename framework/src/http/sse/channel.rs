//! A bounded channel of events from any thread or task to one SSE
//! response.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use super::Event;

/// Makes a channel holding at most `capacity` undelivered events (at
/// least 1): give the [`EventReceiver`] to [`Sse::new`](super::Sse::new),
/// keep the [`EventSender`] (cloneable, `Send`) wherever events come from.
///
/// ```
/// use corering::http::sse::{channel, Event};
/// let (tx, rx) = channel(16);
/// tx.send(Event::new("hello")).unwrap();
/// drop(rx);
/// assert!(tx.is_closed());
/// assert!(tx.send(Event::new("lost")).is_err());
/// ```
pub fn channel(capacity: usize) -> (EventSender, EventReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            waker: None,
            senders: 1,
            receiver: true,
        }),
        capacity: capacity.max(1),
    });
    (
        EventSender {
            shared: Arc::clone(&shared),
        },
        EventReceiver { shared },
    )
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
}

struct State {
    queue: VecDeque<Event>,
    waker: Option<Waker>,
    senders: usize,
    receiver: bool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves a consistent queue.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why [`EventSender::send`] did not queue an event (which it gives back).
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// The response ended (the client went away, or the server shuts
    /// down): stop producing.
    Closed(Event),
    /// `capacity` events wait already: the client reads too slowly.
    Full(Event),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Closed(_) => f.write_str("the event stream is closed"),
            SendError::Full(_) => f.write_str("the event stream's queue is full"),
        }
    }
}

impl std::error::Error for SendError {}

/// The sending half of [`channel`].
pub struct EventSender {
    shared: Arc<Shared>,
}

impl fmt::Debug for EventSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl EventSender {
    /// Queues `event` for the client, without waiting.
    pub fn send(&self, event: impl Into<Event>) -> Result<(), SendError> {
        let event = event.into();
        let mut st = self.shared.lock();
        if !st.receiver {
            return Err(SendError::Closed(event));
        }
        if st.queue.len() >= self.shared.capacity {
            return Err(SendError::Full(event));
        }
        st.queue.push_back(event);
        let waker = st.waker.take();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// True once the response has ended: nothing sent will be delivered.
    pub fn is_closed(&self) -> bool {
        !self.shared.lock().receiver
    }
}

impl Clone for EventSender {
    fn clone(&self) -> EventSender {
        self.shared.lock().senders += 1;
        EventSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.senders -= 1;
        let waker = if st.senders == 0 {
            st.waker.take()
        } else {
            None
        };
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The receiving half of [`channel`]; the stream ends once every sender is
/// gone and the queue is empty.
pub struct EventReceiver {
    shared: Arc<Shared>,
}

impl fmt::Debug for EventReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventReceiver").finish_non_exhaustive()
    }
}

impl EventReceiver {
    /// The next event; `None` once every sender is dropped and nothing is
    /// queued. Cancel-safe: dropping the future loses nothing.
    pub async fn recv(&mut self) -> Option<Event> {
        poll_fn(|cx| {
            let mut st = self.shared.lock();
            if let Some(e) = st.queue.pop_front() {
                return Poll::Ready(Some(e));
            }
            if st.senders == 0 {
                return Poll::Ready(None);
            }
            st.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl Drop for EventReceiver {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.receiver = false;
        st.queue.clear();
    }
}
