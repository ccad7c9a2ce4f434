//! Errors of the library: a [`Status`] that the C ABI returns unchanged, a message, and the
//! server messages the failed call received.
//!
//! [`Error::server_messages`] lists every ERROR and INFO message the server sent in answer to
//! the failed request, in arrival order. tiberius 0.13 passes on only the first ERROR token
//! whole; the others are taken from the `tracing` events it emits while decoding them (see
//! `exec::messages`), which carry less: a later ERROR has its number and text, an INFO only its
//! text (number 0, severity 0: its real number and severity are unknown); the fields an event
//! lacks are 0 or empty.

use serde::Serialize;

/// Status codes. These numbers are part of the C ABI: never renumber, only add.
/// Serialised (error JSON `status`) as the lower-case name: `"not_found"`, `"sql"`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
    /// Could not connect (including a server error other than a login failure ending the
    /// login, e.g. 4060 for a database it cannot open), or the connection broke; the next call
    /// reconnects.
    Connection = 7,
    /// TLS negotiation or certificate validation failed.
    Tls = 8,
    /// The management instance refused our login: 18456, 18486 (locked out), 18487/18488
    /// (password expired / must be changed) or 18470 (disabled) ending the connect.
    Authentication = 9,
    /// Connect or command timeout elapsed; the connection was reset.
    Timeout = 10,
    /// A bug in the library (including a caught panic).
    Internal = 11,
    /// A NULL, freed or unknown client handle.
    InvalidHandle = 12,
    /// Not available on this platform or build (e.g. Integrated Security off Windows).
    Unsupported = 13,
    /// The call was interrupted by [`crate::Client::cancel`]; the client stays usable.
    Cancelled = 14,
}

impl Status {
    /// The SQL Server error numbers that have a status of their own; everything else is `Sql`.
    /// 18456 means `Authentication` only where it ends our own login: after the login it is a
    /// linked server's refusal, relayed (see `exec::request_error`), and so `Sql`.
    pub fn from_sql_number(number: i32) -> Status {
        match number {
            15015 | 7202 | 15007 => Status::NotFound,
            15028 => Status::AlreadyExists,
            15190 => Status::HasLogins,
            15247 => Status::PermissionDenied,
            18456 | 18486 | 18487 | 18488 | 18470 => Status::Authentication,
            _ => Status::Sql,
        }
    }
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
    /// The server messages of the failed request in arrival order (see the module docs for the
    /// fields known of messages after the first error).
    pub server_messages: Vec<ServerMessage>,
    /// A change the call was making may or may not have happened on the server: a request
    /// was abandoned (timeout, lost connection, cancel) before its answer and nothing undid
    /// it. Check the current state (e.g. with `get`) before retrying.
    pub outcome_uncertain: bool,
    /// A failed create could not undo its partial change: the linked server may be left
    /// behind.
    pub undo_failed: bool,
}

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
            server_messages: Vec::new(),
            outcome_uncertain: false,
            undo_failed: false,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidArgument, message)
    }

    /// The error a server message maps to (see [`Status::from_sql_number`]).
    pub fn from_server_message(server_message: ServerMessage) -> Error {
        let message = format!(
            "SQL Server error {} (severity {}, state {}{}): {}",
            server_message.number,
            server_message.severity,
            server_message.state,
            if server_message.procedure.is_empty() {
                String::new()
            } else {
                format!(
                    ", procedure {}, line {}",
                    server_message.procedure, server_message.line
                )
            },
            server_message.message
        );
        let status = Status::from_sql_number(server_message.number);
        Error {
            server_messages: vec![server_message],
            ..Error::new(status, message)
        }
    }

    /// The server message that decided the outcome: the first error (severity 11 and above),
    /// because SQL Server sends the error that stopped a procedure before any follow-up messages.
    pub fn deciding_message(&self) -> Option<&ServerMessage> {
        self.server_messages.iter().find(|m| m.severity > 10)
    }

    /// The number of the deciding server error, if the server raised one.
    pub fn sql_number(&self) -> Option<i32> {
        self.deciding_message().map(|m| m.number)
    }

    /// Same error with more context in front of the message.
    pub fn context(mut self, context: impl std::fmt::Display) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.status, self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(number: i32) -> ServerMessage {
        ServerMessage {
            number,
            severity: 16,
            state: 1,
            procedure: "sp_dropserver".into(),
            line: 56,
            server: "MGMT01".into(),
            message: "There are still remote logins or linked logins for the server 'X'.".into(),
        }
    }

    #[test]
    fn sql_numbers_map_to_their_statuses() {
        let cases = [
            (15015, Status::NotFound),
            (7202, Status::NotFound),
            (15007, Status::NotFound),
            (15028, Status::AlreadyExists),
            (15190, Status::HasLogins),
            (15247, Status::PermissionDenied),
            (18456, Status::Authentication),
            (18486, Status::Authentication),
            (18487, Status::Authentication),
            (18488, Status::Authentication),
            (18470, Status::Authentication),
            (4060, Status::Sql),
            (15600, Status::Sql),
        ];
        for (number, status) in cases {
            assert_eq!(Status::from_sql_number(number), status, "{number}");
        }
    }

    #[test]
    fn server_error_keeps_every_field_and_names_the_procedure() {
        let error = Error::from_server_message(message(15190));
        assert_eq!(error.status, Status::HasLogins);
        assert_eq!(error.sql_number(), Some(15190));
        assert_eq!(error.server_messages, vec![message(15190)]);
        assert!(error.message.contains("15190"), "{}", error.message);
        assert!(
            error.message.contains("sp_dropserver, line 56"),
            "{}",
            error.message
        );
    }
}
