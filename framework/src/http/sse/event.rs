//! `Event`: one Server-Sent Event and its wire form (the
//! `text/event-stream` format of the HTML standard).

use std::time::Duration;

/// One event: data (any text; line breaks become several `data:` lines)
/// and optionally an id, an event type and a reconnection delay.
///
/// ```
/// use std::time::Duration;
/// use corering::http::sse::Event;
///
/// let e = Event::new("line one\nline two").id("7").event("update");
/// assert_eq!(
///     e.to_bytes(),
///     b"id: 7\nevent: update\ndata: line one\ndata: line two\n\n"
/// );
/// let r = Event::new("").retry(Duration::from_millis(1500));
/// assert_eq!(r.to_bytes(), b"retry: 1500\ndata: \n\n");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    id: Option<String>,
    event: Option<String>,
    data: String,
    retry: Option<Duration>,
}

impl Event {
    /// An event carrying `data`.
    pub fn new(data: impl Into<String>) -> Event {
        Event {
            data: data.into(),
            ..Event::default()
        }
    }

    /// Sets the id (what the client sends back in `Last-Event-ID` when it
    /// reconnects).
    ///
    /// # Panics
    /// If `id` contains CR, LF or NUL (they would end the field or, for
    /// NUL, make the client ignore it).
    pub fn id(mut self, id: impl Into<String>) -> Event {
        let id = id.into();
        assert!(
            !id.contains(['\r', '\n', '\0']),
            "invalid SSE event id {id:?}"
        );
        self.id = Some(id);
        self
    }

    /// Sets the event type (the client's `addEventListener` name; without
    /// one it is `message`).
    ///
    /// # Panics
    /// If `name` contains CR or LF.
    pub fn event(mut self, name: impl Into<String>) -> Event {
        let name = name.into();
        assert!(
            !name.contains(['\r', '\n']),
            "invalid SSE event type {name:?}"
        );
        self.event = Some(name);
        self
    }

    /// Sets the delay the client waits before reconnecting (whole
    /// milliseconds).
    pub fn retry(mut self, after: Duration) -> Event {
        self.retry = Some(after);
        self
    }

    /// The event's data.
    pub fn data_str(&self) -> &str {
        &self.data
    }

    /// Appends the event's wire form to `out`: its fields, one `data:`
    /// line per line of data (split at CRLF, CR or LF), and the empty line
    /// that dispatches it.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut field = |name: &[u8], value: &[u8]| {
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.push(b'\n');
        };
        if let Some(id) = &self.id {
            field(b"id", id.as_bytes());
        }
        if let Some(e) = &self.event {
            field(b"event", e.as_bytes());
        }
        if let Some(r) = self.retry {
            field(b"retry", r.as_millis().to_string().as_bytes());
        }
        let mut rest = self.data.as_str();
        loop {
            match rest.find(['\r', '\n']) {
                Some(i) => {
                    field(b"data", &rest.as_bytes()[..i]);
                    let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                    rest = &rest[i + skip..];
                }
                None => {
                    field(b"data", rest.as_bytes());
                    break;
                }
            }
        }
        out.push(b'\n');
    }

    /// The event's wire form (see [`encode`](Event::encode)).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

impl From<String> for Event {
    fn from(data: String) -> Event {
        Event::new(data)
    }
}

impl From<&str> for Event {
    fn from(data: &str) -> Event {
        Event::new(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_of_every_kind_split_data() {
        let e = Event::new("a\r\nb\rc\nd\n");
        assert_eq!(
            e.to_bytes(),
            b"data: a\ndata: b\ndata: c\ndata: d\ndata: \n\n"
        );
    }

    #[test]
    #[should_panic]
    fn id_with_newline_panics() {
        let _ = Event::new("x").id("1\n2");
    }

    #[test]
    #[should_panic]
    fn event_with_cr_panics() {
        let _ = Event::new("x").event("a\rdata: evil");
    }
}
