//! linkedsrv: create, drop, map logins on and set options of SQL Server linked servers.
//!
//! Layers, outermost first:
//! - [`ffi`]: the stable C ABI (all `unsafe`, argument checks, handles, strings, error objects);
//! - [`api`]: the library API in plain Rust types ([`api::Client`]);
//! - [`plan`]: pure functions turning a desired state and the current one into steps;
//!   [`desired`] and [`converge`] do the same for `ensure` (whole servers, many at once);
//! - [`exec`]: running steps and catalog reads over TDS with tiberius.

pub mod api;
pub mod batch;
pub mod biztalk;
pub mod conn_string;
pub mod converge;
mod deadline;
pub mod desired;
pub mod ensure;
pub mod error;
pub mod exec;
pub mod export;
pub mod ffi;
pub mod plan;
mod runtime;
pub mod spec;

pub use api::Client;
pub use error::{Error, ServerMessage, Status};
pub use exec::{ConnectionInfo, Protection};
