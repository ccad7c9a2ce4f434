//! TDS on the wire: packets, PRELOGIN, TLS framing, LOGIN7, tokens and the connection loop.

pub mod server;
