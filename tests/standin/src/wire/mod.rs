//! TDS on the wire: packets, PRELOGIN, TLS framing, LOGIN7, tokens and the connection loop.

pub mod connection;
mod cursor;
pub mod login7;
pub mod packet;
pub mod prelogin;
pub mod request;
pub mod server;
mod tls;
pub mod tokens;

#[cfg(test)]
mod tests;
