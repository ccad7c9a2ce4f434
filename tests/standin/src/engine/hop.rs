//! Linked-server hops: four-part EXEC, `EXEC (…) AT`, four-part SELECT and sp_testlinkedserver
//! connect over TDS (tiberius) to the peer instance the link resolves to, with the caller's
//! mapped credentials, and relay results, the first remote error and the return status.
//!
//! Shapes chosen (crate README): a remote login failure is relayed as the peer's own Msg 18456
//! (class 14, server = the peer); an unreachable peer gives 7412 (class 0) with the provider's
//! text, then Msg 7303.

use std::net::SocketAddr;
use std::time::Duration;

use tiberius::{
    AuthMethod, Client, ColumnData, ColumnType, Command, CommandItem, Config, EncryptionLevel,
    QueryItem,
};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::catalog::{Secret, ServerRow};
use super::exec::{cur_cmd, done, Outcome};
use super::parser::ObjectName;
use super::procedures::{CallArg, CallResult};
use super::select::{SelectFailure, Table};
use super::value::{Typed, NAME_COLLATION, NVARCHAR_4000};
use super::Session;
use crate::types::{
    datetime_from_ticks, done_status, Column, DoneKind, ReplyItem, ResultSet, ServerMessage,
    SqlType, SqlValue,
};

type Peer = Client<Compat<TcpStream>>;

/// The default of the `remote login timeout (s)` server setting.
const REMOTE_LOGIN_TIMEOUT: u64 = 10;
/// The default of the `remote query timeout (s)` server setting.
const REMOTE_QUERY_TIMEOUT: u64 = 600;

/// What a link is used for, which decides the option it needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Remote procedure calls and `EXEC … AT`: `rpc out`.
    Rpc,
    /// Four-part queries: `data access`.
    Query,
    /// sp_testlinkedserver: `data access`, but its 7411 is an ordinary procedure error.
    Test,
}

/// A link that cannot be used: the message, and whether it ends the batch and rolls back an
/// open transaction (this instance's 7411 for a call or query, as the simulator probed on SQL
/// Server 2025).
pub(super) struct Refusal {
    message: ServerMessage,
    ends_transaction: bool,
}

/// A resolved link: where to connect and as whom.
struct Link {
    name: String,
    provider: String,
    address: Option<SocketAddr>,
    user: String,
    password: Secret,
    database: Option<String>,
    connect_timeout: Duration,
    query_timeout: Duration,
}

impl Session {
    /// The server part of a four-part name unless it names this instance (which runs locally).
    pub(super) fn remote_server<'a>(&self, name: &'a ObjectName) -> Option<&'a str> {
        name.server().filter(|server| {
            !self
                .instance
                .collation
                .eq(server, self.instance.server_name())
        })
    }

    /// Checks 7202 / 7411 / 7416 for `server` and resolves the peer and credentials.
    fn link(&self, server: &str, usage: Use, procedure: &str, line: i32) -> Result<Link, Refusal> {
        let refused = |message| Refusal {
            message,
            ends_transaction: false,
        };
        let catalog = self.instance.lock_catalog();
        // Execution resolves the name whatever sys.servers shows the caller; a missing mapping
        // is reported as 7416 below.
        let Some(row) = catalog.find_server(self.instance.collation, server) else {
            return Err(refused(self.msg_with_state(
                7202,
                2,
                &[server],
                procedure,
                line,
            )));
        };
        let missing_option = match usage {
            Use::Rpc if !row.rpc_out => Some("RPC"),
            Use::Query | Use::Test if !row.data_access => Some("DATA ACCESS"),
            _ => None,
        };
        if let Some(option) = missing_option {
            return Err(Refusal {
                message: self.msg(7411, &[&row.name, option], procedure, line),
                ends_transaction: usage != Use::Test,
            });
        }
        let Some(mapping) = catalog.effective_mapping(row.server_id, self.principal_id) else {
            return Err(refused(self.msg(7416, &[], procedure, line)));
        };
        let (user, password) = if mapping.uses_self_credential {
            (self.login.clone(), self.password.clone())
        } else {
            (
                mapping.remote_name.clone().unwrap_or_default(),
                mapping
                    .remote_password
                    .clone()
                    .unwrap_or_else(|| Secret::new("")),
            )
        };
        let seconds = |configured: i32, default: u64| {
            Duration::from_secs(if configured > 0 {
                configured as u64
            } else {
                default
            })
        };
        Ok(Link {
            name: row.name.clone(),
            provider: row.effective_provider(),
            address: self.peer_address(row),
            user,
            password,
            database: row.catalog.clone(),
            connect_timeout: seconds(row.connect_timeout, REMOTE_LOGIN_TIMEOUT),
            query_timeout: seconds(row.query_timeout, REMOTE_QUERY_TIMEOUT),
        })
    }

    /// The peer a link's network name resolves to (`--peer NAME=ADDR`): its data source, which
    /// a `SQL Server` link takes from the name it was created with (a later rename through
    /// `sp_serveroption 'name'` is local only, reference 8.1); providers other than
    /// MSOLEDBSQL/SQLNCLI/SQLOLEDB cannot hop.
    fn peer_address(&self, row: &ServerRow) -> Option<SocketAddr> {
        if !row.uses_sql_server_provider() {
            return None;
        }
        let network_name = row.data_source.as_deref()?;
        self.instance
            .config
            .peers
            .iter()
            .find(|(name, _)| self.instance.collation.eq(name, network_name))
            .map(|(_, addr)| *addr)
    }

    /// Connects to the peer. Failures come back as the messages SQL Server shows.
    async fn connect(&self, link: &Link, line: i32) -> Result<Peer, Vec<ServerMessage>> {
        let unreachable = |reason: &str| {
            vec![
                self.msg(7412, &[&link.provider, &link.name, reason], "", line),
                self.msg(7303, &[&link.provider, &link.name], "", line),
            ]
        };
        let Some(address) = link.address else {
            return Err(unreachable("Login timeout expired"));
        };
        // The peer's certificate is self-signed; try full encryption, then the modes a peer
        // configured otherwise accepts, but only while it refuses the encryption level: any
        // other failure (a timeout above all) would only repeat.
        let mut last_error = String::new();
        for level in [
            EncryptionLevel::Required,
            EncryptionLevel::NotSupported,
            EncryptionLevel::Strict,
        ] {
            match tokio::time::timeout(
                link.connect_timeout,
                self.connect_with(link, address, level),
            )
            .await
            {
                Ok(Ok(client)) => return Ok(client),
                Ok(Err(tiberius::error::Error::Server(token))) => {
                    return Err(vec![relayed(&token)])
                }
                Ok(Err(other)) => {
                    let retry = refuses_encryption_level(&other);
                    if last_error.is_empty() || !retry {
                        last_error = other.to_string();
                    }
                    if !retry {
                        break;
                    }
                }
                Err(_) => {
                    last_error = "Login timeout expired".to_string();
                    break;
                }
            }
        }
        Err(unreachable(&last_error))
    }

    async fn connect_with(
        &self,
        link: &Link,
        address: SocketAddr,
        level: EncryptionLevel,
    ) -> tiberius::Result<Peer> {
        let mut config = Config::new();
        config.host(address.ip().to_string());
        config.port(address.port());
        config.authentication(AuthMethod::sql_server(&link.user, link.password.expose()));
        config.trust_cert();
        config.encryption(level);
        if let Some(db) = &link.database {
            config.database(db);
        }
        let tcp = TcpStream::connect(address).await?;
        tcp.set_nodelay(true)?;
        Client::connect(config, tcp.compat_write()).await
    }

    /// `EXEC [server].db.schema.proc args`.
    pub(super) async fn remote_exec(
        &mut self,
        server: &str,
        name: &ObjectName,
        args: Vec<CallArg>,
        line: i32,
        out: &mut Vec<ReplyItem>,
    ) -> CallResult {
        let link = match self.link(server, Use::Rpc, "", line) {
            Ok(link) => link,
            Err(refusal) => {
                out.push(ReplyItem::Message(refusal.message));
                return CallResult {
                    ends_transaction: refusal.ends_transaction,
                    ..CallResult::failed()
                };
            }
        };
        let mut client = match self.connect(&link, line).await {
            Ok(client) => client,
            Err(messages) => return failed(out, messages),
        };
        let mut command = Command::new(quoted_name(&name.parts));
        for arg in &args {
            match (&arg.name, &arg.value) {
                // A named DEFAULT is the same as leaving the parameter out.
                (Some(_), None) => {}
                (name, value) => bind(
                    &mut command,
                    name.clone().unwrap_or_default(),
                    value.clone().unwrap_or_else(Typed::null),
                    arg.output,
                ),
            }
        }
        let outcome =
            tokio::time::timeout(link.query_timeout, run_command(&mut client, command)).await;
        let _ = client.close().await;
        let Ok(remote) = outcome else {
            return failed(out, self.query_timeout_messages(&link, line));
        };
        for result in remote.results {
            push_rows(out, result, self.nocount);
        }
        let error = remote.error.is_some();
        if let Some(err) = remote.error {
            out.push(ReplyItem::Message(self.remote_error(&link, err, line)));
        }
        // OUTPUT values come back by parameter name (or position for unnamed arguments).
        let mut outputs = Vec::new();
        let output_args = args.iter().enumerate().filter(|(_, a)| a.output);
        for (position, (index, arg)) in output_args.enumerate() {
            let found = remote
                .outputs
                .iter()
                .find(|(n, _)| arg.name.as_deref().is_some_and(|a| NAME_COLLATION.eq(a, n)))
                .or_else(|| remote.outputs.get(position));
            if let Some((_, value)) = found {
                outputs.push((index, value.clone()));
            }
        }
        CallResult {
            status: remote.status,
            outputs,
            error,
            ends_transaction: false,
            ends_batch: false,
        }
    }

    /// `EXEC ('text') AT server`.
    pub(super) async fn exec_at(
        &mut self,
        server: &str,
        text: &str,
        line: i32,
        out: &mut Vec<ReplyItem>,
    ) -> Outcome {
        let mut outcome = Outcome::cmd(cur_cmd::EXECUTE);
        let link = match self.link(server, Use::Rpc, "", line) {
            Ok(link) => link,
            Err(refusal) => {
                out.push(ReplyItem::Message(refusal.message));
                outcome.error = true;
                outcome.ends_transaction = refusal.ends_transaction;
                return outcome;
            }
        };
        let (results, messages) = self.remote_batch(&link, text, line).await;
        for result in results {
            push_rows(out, result, self.nocount);
        }
        outcome.error = !messages.is_empty();
        out.extend(messages.into_iter().map(ReplyItem::Message));
        outcome
    }

    /// Runs a batch on the peer: its result sets and the messages of a failure.
    async fn remote_batch(
        &self,
        link: &Link,
        text: &str,
        line: i32,
    ) -> (Vec<ResultSet>, Vec<ServerMessage>) {
        let mut client = match self.connect(link, line).await {
            Ok(client) => client,
            Err(messages) => return (Vec::new(), messages),
        };
        let outcome = tokio::time::timeout(link.query_timeout, run_batch(&mut client, text)).await;
        let _ = client.close().await;
        match outcome {
            Ok(remote) => {
                let messages = remote
                    .error
                    .map(|err| vec![self.remote_error(link, err, line)])
                    .unwrap_or_default();
                (remote.results, messages)
            }
            Err(_) => (Vec::new(), self.query_timeout_messages(link, line)),
        }
    }

    /// A remote error as SQL Server relays it: the peer's own message, or 7399 for a provider
    /// (transport) failure.
    fn remote_error(&self, link: &Link, err: tiberius::error::Error, line: i32) -> ServerMessage {
        match err {
            tiberius::error::Error::Server(token) => relayed(&token),
            other => self.msg(
                7399,
                &[&link.provider, &link.name, &other.to_string()],
                "",
                line,
            ),
        }
    }

    fn query_timeout_messages(&self, link: &Link, line: i32) -> Vec<ServerMessage> {
        vec![
            self.msg(
                7412,
                &[&link.provider, &link.name, "Query timeout expired"],
                "",
                line,
            ),
            self.msg(7399, &[&link.provider, &link.name, ""], "", line),
        ]
    }

    /// A four-part table in FROM: fetched whole from the peer, filtered locally.
    pub(super) async fn remote_table(
        &self,
        name: &ObjectName,
        line: i32,
    ) -> Result<Table, SelectFailure> {
        let failure = |messages| SelectFailure {
            messages,
            abort: true,
            ends_transaction: false,
        };
        let link = self
            .link(&name.parts[0], Use::Query, "", line)
            .map_err(|refusal| SelectFailure {
                ends_transaction: refusal.ends_transaction,
                ..failure(vec![refusal.message])
            })?;
        let query = format!("SELECT * FROM {}", quoted_name(&name.parts[1..]));
        let (mut results, messages) = self.remote_batch(&link, &query, line).await;
        if !messages.is_empty() {
            return Err(failure(messages));
        }
        let result = results.pop().unwrap_or(ResultSet {
            columns: Vec::new(),
            rows: Vec::new(),
        });
        Ok(Table {
            columns: result.columns,
            rows: result.rows,
        })
    }

    /// sp_testlinkedserver: 7202 → 7411 (data access) → 7416 → connect and log in.
    pub(super) async fn test_linked_server(
        &mut self,
        server: &str,
        out: &mut Vec<ReplyItem>,
    ) -> i32 {
        const PROC: &str = "sp_testlinkedserver";
        let link = match self.link(server, Use::Test, PROC, 1) {
            Ok(link) => link,
            Err(refusal) => {
                out.push(ReplyItem::Message(refusal.message));
                return 1;
            }
        };
        match self.connect(&link, 1).await {
            Ok(client) => {
                let _ = client.close().await;
                0
            }
            Err(messages) => {
                out.extend(messages.into_iter().map(ReplyItem::Message));
                1
            }
        }
    }
}

/// Whether a failed connection attempt is the peer refusing the encryption level offered: it
/// answers PRELOGIN with a level this client cannot use, or closes the connection (a TDS 8.0
/// peer given a plaintext PRELOGIN, a TDS 7 peer given a TLS handshake).
fn refuses_encryption_level(err: &tiberius::error::Error) -> bool {
    use std::io::ErrorKind;
    match err {
        tiberius::error::Error::Protocol(_) => true,
        tiberius::error::Error::Io { kind, .. } => matches!(
            kind,
            ErrorKind::UnexpectedEof
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
        ),
        _ => false,
    }
}

/// What a remote call or batch returned: everything that arrived, and the first remote error
/// (tiberius reports it after the stream, so the results before and the status are kept).
#[derive(Default)]
struct RemoteOutcome {
    results: Vec<ResultSet>,
    status: Option<i32>,
    outputs: Vec<(String, Typed)>,
    error: Option<tiberius::error::Error>,
}

impl RemoteOutcome {
    fn start_result(&mut self, columns: &[tiberius::Column]) {
        self.results.push(ResultSet {
            columns: columns.iter().map(column_of).collect(),
            rows: Vec::new(),
        });
    }

    fn add_row(&mut self, row: tiberius::Row) {
        if let Some(result) = self.results.last_mut() {
            result
                .rows
                .push(row.into_iter().map(|cell| value_of(&cell).value).collect());
        }
    }
}

async fn run_command(client: &mut Peer, command: Command<'static>) -> RemoteOutcome {
    use futures_util::StreamExt;
    let mut outcome = RemoteOutcome::default();
    let mut stream = match command.exec(client).await {
        Ok(stream) => stream,
        Err(err) => {
            outcome.error = Some(err);
            return outcome;
        }
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(CommandItem::Metadata(meta)) => outcome.start_result(meta.columns()),
            Ok(CommandItem::Row(row)) => outcome.add_row(row),
            Ok(CommandItem::ReturnStatus(status)) => outcome.status = Some(status as i32),
            Ok(CommandItem::ReturnValue(value)) => outcome
                .outputs
                .push((value.name().to_string(), value_of(value.data()))),
            Ok(CommandItem::RowsAffected(_)) => {}
            Err(err) => {
                outcome.error = Some(err);
                break;
            }
        }
    }
    outcome
}

async fn run_batch(client: &mut Peer, text: &str) -> RemoteOutcome {
    use futures_util::StreamExt;
    let mut outcome = RemoteOutcome::default();
    let mut stream = match client.simple_query(text).await {
        Ok(stream) => stream,
        Err(err) => {
            outcome.error = Some(err);
            return outcome;
        }
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(QueryItem::Metadata(meta)) => outcome.start_result(meta.columns()),
            Ok(QueryItem::Row(row)) => outcome.add_row(row),
            Err(err) => {
                outcome.error = Some(err);
                break;
            }
        }
    }
    outcome
}

fn push_rows(out: &mut Vec<ReplyItem>, result: ResultSet, nocount: bool) {
    let count = result.rows.len() as u64;
    let status = if nocount {
        done_status::MORE
    } else {
        done_status::MORE | done_status::COUNT
    };
    out.push(ReplyItem::Rows(result));
    out.push(done(DoneKind::DoneInProc, status, cur_cmd::SELECT, count));
}

fn bind(command: &mut Command<'static>, name: String, value: Typed, output: bool) {
    macro_rules! put {
        ($v:expr) => {
            if output {
                command.bind_out_param(name, $v)
            } else {
                command.bind_param(name, $v)
            }
        };
    }
    match (value.value, &value.ty) {
        (SqlValue::Null, SqlType::Int | SqlType::SmallInt | SqlType::TinyInt) => {
            put!(Option::<i32>::None)
        }
        (SqlValue::Null, SqlType::BigInt) => put!(Option::<i64>::None),
        (SqlValue::Null, SqlType::Bit) => put!(Option::<bool>::None),
        (SqlValue::Null, _) => put!(Option::<String>::None),
        (SqlValue::Bit(b), _) => put!(b),
        (SqlValue::Int(i), SqlType::BigInt) => put!(i),
        (SqlValue::Int(i), _) => put!(i as i32),
        (SqlValue::String(s), _) => put!(s),
        (SqlValue::DateTime(d), _) => put!(d.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()),
    }
}

/// A multi-part name with every part quoted; omitted parts (`master..x`) stay empty.
fn quoted_name(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| {
            if p.is_empty() {
                String::new()
            } else {
                quote(p)
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn failed(out: &mut Vec<ReplyItem>, messages: Vec<ServerMessage>) -> CallResult {
    out.extend(messages.into_iter().map(ReplyItem::Message));
    CallResult::failed()
}

/// `[name]` with `]` doubled, as QUOTENAME does.
fn quote(part: &str) -> String {
    format!("[{}]", part.replace(']', "]]"))
}

fn relayed(token: &tiberius::error::TokenError) -> ServerMessage {
    ServerMessage {
        number: token.code() as i32,
        state: token.state(),
        class: token.class(),
        text: token.message().to_string(),
        server: token.server().to_string(),
        procedure: token.procedure().to_string(),
        line: token.line() as i32,
    }
}

/// The stand-in's type for a remote column (character lengths are not exposed by tiberius, so
/// character columns relay as nvarchar(4000) / varchar(8000)).
fn column_of(column: &tiberius::Column) -> Column {
    let ty = match column.column_type() {
        ColumnType::Bit | ColumnType::Bitn => SqlType::Bit,
        ColumnType::Int1 => SqlType::TinyInt,
        ColumnType::Int2 => SqlType::SmallInt,
        ColumnType::Int8 => SqlType::BigInt,
        ColumnType::Int4 | ColumnType::Intn => SqlType::Int,
        ColumnType::Datetime | ColumnType::Datetimen | ColumnType::Datetime4 => SqlType::DateTime,
        ColumnType::BigVarChar | ColumnType::BigChar | ColumnType::Text => {
            SqlType::VarChar(Some(8000))
        }
        _ => NVARCHAR_4000,
    };
    Column {
        name: column.name().to_string(),
        ty,
        nullable: true,
    }
}

fn value_of(data: &ColumnData<'_>) -> Typed {
    let value = match data {
        ColumnData::U8(v) => v.map(|v| SqlValue::Int(v as i64)),
        ColumnData::I16(v) => v.map(|v| SqlValue::Int(v as i64)),
        ColumnData::I32(v) => v.map(|v| SqlValue::Int(v as i64)),
        ColumnData::I64(v) => v.map(SqlValue::Int),
        ColumnData::Bit(v) => v.map(SqlValue::Bit),
        ColumnData::String(v) => v.as_ref().map(|s| SqlValue::String(s.to_string())),
        ColumnData::DateTime(v) => v.and_then(|d| {
            datetime_from_ticks(i64::from(d.days()), u64::from(d.seconds_fragments()))
                .map(SqlValue::DateTime)
        }),
        other => Some(SqlValue::String(format!("{other:?}"))),
    };
    let ty = match data {
        ColumnData::U8(_) => SqlType::TinyInt,
        ColumnData::I16(_) => SqlType::SmallInt,
        ColumnData::I32(_) => SqlType::Int,
        ColumnData::I64(_) => SqlType::BigInt,
        ColumnData::Bit(_) => SqlType::Bit,
        ColumnData::DateTime(_) => SqlType::DateTime,
        _ => NVARCHAR_4000,
    };
    Typed::new(value.unwrap_or(SqlValue::Null), ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_datetimes_round_like_sql_server() {
        let two_ticks = ColumnData::DateTime(Some(tiberius::time::DateTime::new(1, 2)));
        let expected = datetime_from_ticks(1, 2).expect("in range");
        assert_eq!(expected.format("%H:%M:%S%.3f").to_string(), "00:00:00.007");
        assert_eq!(value_of(&two_ticks).value, SqlValue::DateTime(expected));
    }
}
