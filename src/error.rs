//! Errors of the library: a [`Status`] that the C ABI returns unchanged, a message, and every
//! server message (errors and infos) the failed call received.

use serde::Serialize;

/// Status codes. These numbers are part of the C ABI: never renumber, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[repr(i32)]
pub enum Status {
    Ok = 0,
    /// A NULL, non-UTF-8, empty, over-long or otherwise invalid argument; bad JSON; unknown option.
    InvalidArgument = 1,
    /// The linked server (or login) does not exist (15015, 7202, 15007).
    NotFound = 2,
    /// A linked server of that name already exists (15028).
    AlreadyExists = 3,
    /// The server still has login mappings and logins were not to be dropped (15190).
    HasLogins = 4,
    /// The login lacks the permission (15247).
    PermissionDenied = 5,
    /// Any other error raised by SQL Server; see the SQL number.
    Sql = 6,
    /// Could not connect, or the connection broke; the next call reconnects.
    Connection = 7,
    /// TLS negotiation or certificate validation failed.
    Tls = 8,
    /// The server refused the login (18456).
    Authentication = 9,
    /// Connect or command timeout elapsed; the connection was reset.
    Timeout = 10,
    /// A bug in the library (including a caught panic).
    Internal = 11,
    /// A NULL, freed or unknown client handle.
    InvalidHandle = 12,
    /// Not available on this platform or build (e.g. Integrated Security off Windows).
    Unsupported = 13,
}

/// An ERROR or INFO token as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerMessage {
    pub number: i32,
    pub severity: u8,
    pub state: u8,
    pub procedure: String,
    pub line: u32,
    pub server: String,
    pub message: String,
}

/// A failed call. Never holds a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
    /// Every server error and info message of the failed call, in arrival order.
    pub server_messages: Vec<ServerMessage>,
}
