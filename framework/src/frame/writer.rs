//! `FrameWriter`: encodes frames straight into a connection's outgoing
//! buffers.

use std::io;

use super::Frame;
use crate::Connection;

/// Writes frames to a connection, encoding each directly into the
/// connection's send buffers (no intermediate copy).
///
/// A thin convenience over [`Connection::write_frame`]; frames queued in one
/// scheduling round leave in one `sendmsg`.
#[derive(Debug)]
pub struct FrameWriter<'c> {
    conn: &'c mut Connection,
}

impl<'c> FrameWriter<'c> {
    /// A writer over `conn`.
    pub fn new(conn: &'c mut Connection) -> FrameWriter<'c> {
        FrameWriter { conn }
    }

    /// Queues one frame.
    pub async fn write<'a, F: Frame<'a>>(&mut self, frame: &F) -> io::Result<()> {
        self.conn.write_frame(frame).await
    }

    /// Waits until everything queued has been sent.
    pub async fn flush(&mut self) -> io::Result<()> {
        self.conn.flush().await
    }

    /// The underlying connection.
    pub fn connection(&mut self) -> &mut Connection {
        self.conn
    }
}
