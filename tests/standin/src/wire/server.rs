//! Accepting connections and running each one: PRELOGIN → (TLS) → LOGIN7 → requests.
//!
//! CONTRACT (used by tests, the binary and the library's tests; keep these signatures):
//! - `spawn(config) -> std::io::Result<StandIn>`: binds, generates the certificate, serves on a
//!   background thread with its own tokio runtime; returns once listening.
//! - `StandIn::addr() -> SocketAddr`, `StandIn::instance() -> Arc<Instance>`,
//!   `StandIn::cert_pem() -> &str`, `StandIn::cert_path() -> &Path` (PEM written to a temp file
//!   when `cert_out` is not set), `StandIn::connection_string(user, password) -> String`
//!   (an ADO.NET string that trusts this instance's certificate), dropping it stops the server.
//! - `serve(config, ready: impl FnOnce(SocketAddr))` async, for the binary.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use crate::config::InstanceConfig;
use crate::engine::Instance;

pub struct StandIn {}

pub fn spawn(_config: InstanceConfig) -> std::io::Result<StandIn> {
    todo!()
}

impl StandIn {
    pub fn addr(&self) -> SocketAddr {
        todo!()
    }
    pub fn instance(&self) -> Arc<Instance> {
        todo!()
    }
    pub fn cert_pem(&self) -> &str {
        todo!()
    }
    pub fn cert_path(&self) -> &Path {
        todo!()
    }
    pub fn connection_string(&self, _user: &str, _password: &str) -> String {
        todo!()
    }
}
