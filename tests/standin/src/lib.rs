//! A SQL Server stand-in: a TDS 7.4 / 8.0 server that behaves as SQL Server does for linked
//! servers. The product never links this crate; tests and tools start it in-process
//! ([`spawn`]) or as the `tds-standin` binary.
//!
//! Layers: `wire` (packets, PRELOGIN, TLS, LOGIN7, tokens, the connection loop) turns bytes into
//! [`types::Request`]s and [`types::ReplyItem`]s back into tokens; `engine` (catalog, T-SQL,
//! system procedures, linked-server hops) answers requests. `types` is the contract between them.

pub mod config;
pub mod engine;
pub mod types;
pub mod wire;

pub use config::{EncryptMode, InstanceConfig, LoginSpec, ServerRole};
pub use wire::server::{spawn, StandIn};
