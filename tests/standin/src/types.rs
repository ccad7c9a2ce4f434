//! The contract between the wire layer and the engine: decoded requests in, reply items out.

use chrono::{Duration, NaiveDate, NaiveDateTime};

/// A DATETIME from its stored parts, days since 1900-01-01 and 1/300-second ticks since
/// midnight, rounded to the millisecond as SQL Server shows it (tick 2 = .007); `None` when out
/// of range.
pub fn datetime_from_ticks(days: i64, ticks: u64) -> Option<NaiveDateTime> {
    let epoch = NaiveDate::from_ymd_opt(1900, 1, 1)?.and_hms_opt(0, 0, 0)?;
    let millis = i64::try_from(ticks).ok()?.checked_mul(10)?.checked_add(1)? / 3;
    epoch
        .checked_add_signed(Duration::try_days(days)?)?
        .checked_add_signed(Duration::milliseconds(millis))
}

/// SQL types the stand-in sends in COLMETADATA and receives in RPC parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlType {
    Bit,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    /// `nvarchar(n)` with n in characters (1..=4000); `None` is `nvarchar(max)`.
    NVarChar(Option<u16>),
    /// `varchar(n)`; `None` is `varchar(max)`.
    VarChar(Option<u16>),
    /// Legacy `ntext` (SqlClient sends long sp_executesql statements this way).
    NText,
    DateTime,
}

/// A value as SQL Server would hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Bit(bool),
    Int(i64),
    /// Character data of any string type (nvarchar, varchar, ntext, char, nchar).
    String(String),
    DateTime(NaiveDateTime),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: SqlType,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResultSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<SqlValue>>,
}

/// An ERROR (class > 10) or INFO (class <= 10) token.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerMessage {
    pub number: i32,
    pub state: u8,
    pub class: u8,
    pub text: String,
    /// Server name as SQL Server puts it in the token (`@@SERVERNAME`).
    pub server: String,
    /// Procedure that raised it, e.g. `sys.sp_validname`; empty for batch-level errors.
    pub procedure: String,
    pub line: i32,
}

impl ServerMessage {
    pub fn is_error(&self) -> bool {
        self.class > 10
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneKind {
    /// DONE (0xFD): end of a batch statement or of the whole request.
    Done,
    /// DONEPROC (0xFE): end of a procedure called by RPC or EXEC.
    DoneProc,
    /// DONEINPROC (0xFF): end of a statement inside a procedure.
    DoneInProc,
}

/// DONE status bits of MS-TDS 2.2.7.6.
pub mod done_status {
    pub const FINAL: u16 = 0x00;
    pub const MORE: u16 = 0x01;
    pub const ERROR: u16 = 0x02;
    pub const INXACT: u16 = 0x04;
    pub const COUNT: u16 = 0x10;
    pub const ATTN: u16 = 0x20;
    pub const SRVERROR: u16 = 0x100;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub kind: DoneKind,
    pub status: u16,
    /// Token of the current command (MS-TDS CurCmd), e.g. 0xC1 SELECT, 0xE0 EXECUTE.
    pub cur_cmd: u16,
    pub row_count: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EnvChange {
    Database {
        new: String,
        old: String,
    },
    Language {
        new: String,
        old: String,
    },
    PacketSize {
        new: u32,
        old: u32,
    },
    /// BEGIN TRAN: the 8-byte transaction descriptor.
    BeginTransaction(u64),
    CommitTransaction(u64),
    RollbackTransaction(u64),
}

/// One item of a reply, in the order the wire layer must encode it.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyItem {
    Rows(ResultSet),
    Message(ServerMessage),
    Done(Done),
    ReturnStatus(i32),
    ReturnValue {
        ordinal: u16,
        name: String,
        value: SqlValue,
        ty: SqlType,
    },
    EnvChange(EnvChange),
}

/// What the connection does after sending a reply (fault injection and fatal errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterReply {
    #[default]
    Continue,
    /// Close the TCP connection (after sending whatever items the reply has).
    Disconnect,
    /// Never answer; keep the socket open until the client gives up or sends ATTENTION.
    Stall,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    pub items: Vec<ReplyItem>,
    pub after: AfterReply,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcRef {
    Name(String),
    /// ProcIDSwitch value: 10 sp_executesql, 11 sp_prepare, 12 sp_execute, 13 sp_prepexec, ...
    Id(u16),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RpcParam {
    /// As sent, including the leading `@` when the client sends one; may be empty (positional).
    pub name: String,
    pub output: bool,
    pub ty: SqlType,
    pub value: SqlValue,
    /// Sent as NULLTYPE (MS-TDS 2.2.5.4.1), a NULL without a type (tiberius sends every NULL
    /// so); `ty` is then `Int`. An untyped OUTPUT parameter comes back in the type the
    /// procedure gave it, as there is no client type to convert it to.
    pub untyped: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RpcCall {
    pub procedure: ProcRef,
    pub params: Vec<RpcParam>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// SQL batch text.
    Batch(String),
    /// One or more RPCs sent in one message.
    Rpc(Vec<RpcCall>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_ticks_round_to_the_millisecond() {
        let moment = |days, ticks| {
            datetime_from_ticks(days, ticks).map(|m| m.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        };
        assert_eq!(moment(0, 0).as_deref(), Some("1900-01-01 00:00:00.000"));
        assert_eq!(moment(1, 1).as_deref(), Some("1900-01-02 00:00:00.003"));
        assert_eq!(moment(1, 2).as_deref(), Some("1900-01-02 00:00:00.007"));
        assert_eq!(moment(-1, 300).as_deref(), Some("1899-12-31 00:00:01.000"));
        assert_eq!(moment(i64::MAX, 0), None);
    }
}
