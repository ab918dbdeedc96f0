//! WebSocket (RFC 6455) and its permessage-deflate extension (RFC 7692).

pub mod deflate;
