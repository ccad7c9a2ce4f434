//! Talking to SQL Server with tiberius: connecting, running planned steps and the login
//! procedures as named RPCs, and reading the catalog with one fixed, parameterised query.
//!
//! Nothing here builds SQL text from caller input: procedures are called by name with typed
//! `nvarchar` parameters (`tiberius::Command`), and the catalog read is `sp_executesql` with
//! fixed text and `@P1`. Every call checks the procedure's RETURN status as well as errors.
//! Remote passwords are bound as RPC parameters only; the driver copies them into its packet
//! buffer, which it does not zeroise (a limitation of tiberius).

use std::borrow::Cow;
use std::time::Duration;

use futures_util::TryStreamExt;
use serde::Serialize;
use tiberius::{ColumnData, Command, CommandItem, Config, Row, SqlBrowser};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::conn_string::{host_for_address, ConnectionSettings, Encrypt};
use crate::error::{Error, ServerMessage, Status};
use crate::plan::{NewLinkedServer, Step};
use crate::spec::{LinkedServer, LoginMapping, RemoteCredentials};

pub(crate) mod messages;
mod prelogin;

use prelogin::{Observed, ServerEncryption};

pub(crate) type TdsClient = tiberius::Client<Compat<Observed<TcpStream>>>;

/// Where the system procedures live; the documented examples call them in `master`.
const PROCEDURE_SCHEMA: &str = "master.sys.";

/// Maps a driver error to our status. Server errors keep every field the driver exposes.
pub(crate) fn driver_error(error: tiberius::error::Error) -> Error {
    match error {
        tiberius::error::Error::Server(token) => Error::from_server_message(ServerMessage {
            number: i32::try_from(token.code()).unwrap_or(i32::MAX),
            severity: token.class(),
            state: token.state(),
            procedure: token.procedure().to_string(),
            line: token.line(),
            server: token.server().to_string(),
            message: token.message().to_string(),
        }),
        tiberius::error::Error::Io {
            kind: std::io::ErrorKind::TimedOut,
            message,
        } => Error::new(Status::Timeout, format!("timed out: {message}")),
        tiberius::error::Error::Io { message, .. } => {
            Error::new(Status::Connection, format!("network error: {message}"))
        }
        tiberius::error::Error::Tls(message) => {
            Error::new(Status::Tls, format!("TLS failed: {message}"))
        }
        // tiberius (pinned at 0.13.0) reports a PRELOGIN encryption mismatch this way.
        tiberius::error::Error::Protocol(message)
            if message.contains("requested encryption level") =>
        {
            Error::new(
                Status::Tls,
                format!("{message} (the server offers less encryption than 'Encrypt' asks for)"),
            )
        }
        tiberius::error::Error::Protocol(message) => {
            Error::new(Status::Connection, format!("TDS protocol error: {message}"))
        }
        other => Error::new(Status::Internal, format!("driver error: {other}")),
    }
}

/// A driver error that ended a connect. A server error there ends the login: the login
/// failures (18456, 18486, 18487, 18488, 18470) are `Authentication`, any other (e.g. 4060, a
/// database it cannot open) is `Connection`, with the server's number kept.
fn login_error(mut error: Error) -> Error {
    if !error.server_messages.is_empty() && error.status != Status::Authentication {
        error.status = Status::Connection;
    }
    error
}

/// A driver error in answer to a request, after the login. An 18456 here is not our login's
/// failure but a linked server refusing the remote login (relayed by e.g. sp_testlinkedserver),
/// so it is `Sql`, not `Authentication`.
pub(crate) fn request_error(error: tiberius::error::Error) -> Error {
    let mut error = driver_error(error);
    if error.status == Status::Authentication {
        error.status = Status::Sql;
    }
    error
}

/// Severity 20 and above is fatal: the server closes the connection after sending it.
const FATAL_SEVERITY: u8 = 20;

/// Whether an error leaves the connection unusable (broken, out of sync, never made, or closed
/// by the server after a fatal error).
pub(crate) fn loses_connection(error: &Error) -> bool {
    matches!(
        error.status,
        Status::Connection | Status::Timeout | Status::Tls | Status::Internal | Status::Cancelled
    ) || error
        .server_messages
        .iter()
        .any(|m| m.severity >= FATAL_SEVERITY)
}

/// Runs `work` within `limit` (`None`: unbounded); `Err(limit)` when the time ran out first.
pub(crate) async fn within<F: std::future::Future>(
    limit: Option<Duration>,
    work: F,
) -> Result<F::Output, Duration> {
    match limit {
        None => Ok(work.await),
        Some(limit) => tokio::time::timeout(limit, work).await.map_err(|_| limit),
    }
}

/// The `Timeout` error of `timeout` (e.g. "connect timeout") that elapsed after `limit`;
/// `missed` says what did not happen in time.
pub(crate) fn timeout_error(missed: &str, timeout: &str, limit: Duration) -> Error {
    Error::new(
        Status::Timeout,
        format!("{missed} within the {timeout} ({} s)", limit.as_secs()),
    )
}

async fn open_tcp(config: &Config, named_instance: bool) -> tiberius::Result<TcpStream> {
    // tiberius exposes host and port only joined as `host:port`, which is ambiguous for a
    // bare IPv6 host: split at the last ':'.
    let address = config.get_addr();
    let (host, port) = address
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
        .ok_or_else(|| tiberius::error::Error::Conversion("no host:port to connect to".into()))?;
    let tcp = if named_instance {
        // SQL Browser lookup: tiberius joins host and port as text, so an IPv6 literal needs
        // its brackets there (and only there: TLS checks the name without them).
        match host_for_address(host) {
            Cow::Borrowed(_) => TcpStream::connect_named(config).await?,
            Cow::Owned(bracketed) => {
                let mut browser = config.clone();
                browser.host(bracketed);
                TcpStream::connect_named(&browser).await?
            }
        }
    } else {
        TcpStream::connect((host, port)).await?
    };
    tcp.set_nodelay(true)?;
    socket2::SockRef::from(&tcp).set_tcp_keepalive(&keepalive())?;
    Ok(tcp)
}

/// TCP keepalive: a connection whose peer vanished while it sat idle is found dead within
/// about a minute and a half (30 s idle, then 6 probes 10 s apart) instead of at the next call.
fn keepalive() -> socket2::TcpKeepalive {
    socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(30))
        .with_interval(Duration::from_secs(10))
}

/// Opens one connection and logs in; the server's PRELOGIN answer is recorded on the way.
async fn open(
    config: Config,
    named_instance: bool,
) -> (tiberius::Result<TdsClient>, ServerEncryption) {
    let tcp = match open_tcp(&config, named_instance).await {
        Ok(tcp) => tcp,
        Err(error) => return (Err(error), ServerEncryption::default()),
    };
    let (observed, answer) = Observed::new(tcp);
    (
        tiberius::Client::connect(config, observed.compat_write()).await,
        answer,
    )
}

/// How the traffic of a connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// TDS 8.0 (`Encrypt=strict`): TLS before any TDS traffic.
    Strict,
    /// TLS for the whole session.
    Full,
    /// TLS for the login only (`Encrypt=false` against a server that offers no more).
    LoginOnly,
    /// No TLS at all (`Encrypt=DANGER_PLAINTEXT`).
    None,
}

impl Protection {
    fn negotiated(encrypt: Encrypt, server: Option<u8>) -> Protection {
        match encrypt {
            Encrypt::Strict => Protection::Strict,
            Encrypt::Plaintext => Protection::None,
            Encrypt::Mandatory => Protection::Full,
            Encrypt::Optional if server == Some(prelogin::ENCRYPT_OFF) => Protection::LoginOnly,
            Encrypt::Optional => Protection::Full,
        }
    }
}

/// How a client is connected (`Client::connection_info`, `lsv_connection_info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionInfo {
    /// `host:port` or `host\instance` as the connection string gave it.
    pub address: String,
    /// What TLS covers: `strict`, `full`, `login_only` or `none`.
    pub encryption: Protection,
    /// Whether everything after the login is encrypted (`strict` or `full`).
    pub encrypted: bool,
    /// Whether the server's certificate was validated (false under
    /// `TrustServerCertificate=true` and without TLS).
    pub certificate_validated: bool,
    /// The TDS version the driver speaks: `8.0` under `Encrypt=strict`, else `7.4` (tiberius
    /// does not expose the version of the server's LOGINACK).
    pub tds_version: &'static str,
    /// `SERVERPROPERTY('ServerName')`, e.g. `MGMT01` or `SQL01\BTS`.
    pub server_name: String,
    /// `SERVERPROPERTY('ProductVersion')`, e.g. `16.0.1000.6`.
    pub server_version: String,
}

impl ConnectionInfo {
    pub(crate) fn new(
        settings: &ConnectionSettings,
        protection: Protection,
        (server_name, server_version): (String, String),
    ) -> ConnectionInfo {
        ConnectionInfo {
            address: settings.address(),
            encryption: protection,
            encrypted: matches!(protection, Protection::Strict | Protection::Full),
            certificate_validated: protection != Protection::None
                && !settings.trust_server_certificate,
            tds_version: if protection == Protection::Strict {
                "8.0"
            } else {
                "7.4"
            },
            server_name,
            server_version,
        }
    }
}

/// The server's name and version: one fixed query, no input.
pub(crate) async fn server_identity(client: &mut TdsClient) -> Result<(String, String), Error> {
    const SQL: &str = "SELECT CAST(SERVERPROPERTY('ServerName') AS nvarchar(128)), \
                       CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128))";
    let context = "reading the server's name and version";
    let row = client
        .simple_query(SQL)
        .await
        .map_err(|e| request_error(e).context(context))?
        .into_row()
        .await
        .map_err(|e| request_error(e).context(context))?
        .ok_or_else(|| Error::new(Status::Internal, format!("{context}: no row")))?;
    let cells = Cells(row.cells().map(|(_, data)| data).collect());
    Ok((
        cells.opt_string(0)?.unwrap_or_default(),
        cells.opt_string(1)?.unwrap_or_default(),
    ))
}

/// A logged-in connection and how it is protected.
pub(crate) struct Connection {
    pub(crate) tds: TdsClient,
    pub(crate) protection: Protection,
}

/// The TLS error of a connect that failed because the server's PRELOGIN answer and the
/// `Encrypt` mode cannot meet; `None` when the answer does not explain the failure.
fn encryption_refused(encrypt: Encrypt, server: Option<u8>) -> Option<Error> {
    match (encrypt, server) {
        (Encrypt::Plaintext, Some(prelogin::ENCRYPT_ON | prelogin::ENCRYPT_REQ)) => {
            Some(Error::new(
                Status::Tls,
                "the server requires encryption, which Encrypt=DANGER_PLAINTEXT turns off",
            ))
        }
        (Encrypt::Plaintext, _) => None,
        (_, Some(prelogin::ENCRYPT_NOT_SUP)) => Some(Error::new(
            Status::Tls,
            "the server cannot encrypt (its PRELOGIN answer is ENCRYPT_NOT_SUP); every Encrypt \
             mode but DANGER_PLAINTEXT encrypts at least the login, and the connection is \
             refused rather than sending the password in clear",
        )),
        _ => None,
    }
}

/// Connects and logs in, TCP connect and handshake together bounded by `limit` (`Connect
/// Timeout`, or what a call has left of it). Follows one routing redirect (Azure gateways send
/// one).
pub(crate) async fn connect(
    settings: &ConnectionSettings,
    limit: Option<Duration>,
) -> Result<Connection, Error> {
    let named_instance = settings.instance.is_some() && settings.port.is_none();
    let attempt = async {
        // Built for this connect only and dropped with it: it holds a plain copy of the
        // password that tiberius needs for LOGIN7.
        let config = settings.tiberius_config()?;
        let (outcome, answer) = match open(config.clone(), named_instance).await {
            (Err(tiberius::error::Error::Routing { host, port }), _) => {
                let mut redirected = config;
                redirected.host(host);
                redirected.port(port);
                open(redirected, false).await
            }
            other => other,
        };
        let server = answer.get().copied().flatten();
        match outcome {
            Ok(tds) => Ok(Connection {
                tds,
                protection: Protection::negotiated(settings.encrypt, server),
            }),
            Err(error) => Err(encryption_refused(settings.encrypt, server)
                .unwrap_or_else(|| login_error(driver_error(error)))),
        }
    };
    let outcome = within(limit, attempt)
        .await
        .unwrap_or_else(|limit| Err(timeout_error("no connection", "connect timeout", limit)));
    outcome.map_err(|e| e.context(format!("cannot connect to {}", settings.address())))
}

/// Sends one procedure call and reads its whole answer; Ok only for RETURN 0 (or none) and no
/// error. A failure carries every server message of the answer.
pub(crate) async fn call(
    client: &mut TdsClient,
    procedure: &str,
    command: Command<'_>,
) -> Result<(), Error> {
    messages::collect(send_call(client, procedure, command)).await
}

async fn send_call(
    client: &mut TdsClient,
    procedure: &str,
    command: Command<'_>,
) -> Result<(), Error> {
    let mut stream = command
        .exec(client)
        .await
        .map_err(|e| request_error(e).context(procedure))?;
    let mut return_status = None;
    // The driver reports the first server error after the answer's last token, so the
    // connection is in sync again when it surfaces.
    while let Some(item) = stream
        .try_next()
        .await
        .map_err(|e| request_error(e).context(procedure))?
    {
        if let CommandItem::ReturnStatus(status) = item {
            return_status = Some(status);
        }
    }
    match return_status {
        None | Some(0) => Ok(()),
        Some(status) => Err(Error::new(
            Status::Sql,
            format!("{procedure}: returned {status} without an error message"),
        )),
    }
}

/// Leaves out a parameter whose default is NULL instead of sending NULL: tiberius can only send
/// an untyped NULL (TDS NULLTYPE), which parameters that must be NULL explicitly still get.
fn bind_unless_null<'a>(command: &mut Command<'a>, name: &'static str, value: Option<&'a str>) {
    if let Some(value) = value {
        command.bind_param(name, value);
    }
}

fn procedure(name: &str) -> String {
    format!("{PROCEDURE_SCHEMA}{name}")
}

/// Runs one planned step.
pub(crate) async fn run_step(client: &mut TdsClient, step: &Step) -> Result<(), Error> {
    match step {
        Step::AddLinkedServer(NewLinkedServer {
            name,
            product,
            provider,
            data_source,
            location,
            provider_string,
            catalog,
        }) => {
            let mut command = Command::new(procedure("sp_addlinkedserver"));
            command.bind_param("@server", name.as_str());
            command.bind_param("@srvproduct", product.as_str());
            bind_unless_null(&mut command, "@provider", provider.as_deref());
            bind_unless_null(&mut command, "@datasrc", data_source.as_deref());
            bind_unless_null(&mut command, "@location", location.as_deref());
            bind_unless_null(&mut command, "@provstr", provider_string.as_deref());
            bind_unless_null(&mut command, "@catalog", catalog.as_deref());
            call(client, "sp_addlinkedserver", command).await
        }
        Step::SetOption { server, setting } => {
            let mut command = Command::new(procedure("sp_serveroption"));
            command.bind_param("@server", server.as_str());
            command.bind_param("@optname", setting.option.name());
            command.bind_param(
                "@optvalue",
                setting.value.to_parameter().map(Cow::<str>::Owned),
            );
            call(client, "sp_serveroption", command)
                .await
                .map_err(|e| e.context(format!("option '{}'", setting.option.name())))
        }
        Step::DropServer {
            server,
            drop_logins,
        } => {
            let mut command = Command::new(procedure("sp_dropserver"));
            command.bind_param("@server", server.as_str());
            bind_unless_null(
                &mut command,
                "@droplogins",
                drop_logins.then_some("droplogins"),
            );
            call(client, "sp_dropserver", command).await
        }
    }
}

/// `sp_addlinkedsrvlogin`; the password goes only into the RPC parameter.
pub(crate) async fn add_login(
    client: &mut TdsClient,
    server: &str,
    local_login: Option<&str>,
    credentials: &RemoteCredentials,
) -> Result<(), Error> {
    let mut command = Command::new(procedure("sp_addlinkedsrvlogin"));
    command.bind_param("@rmtsrvname", server);
    match credentials {
        RemoteCredentials::SelfMapping => {
            command.bind_param("@useself", "TRUE");
            bind_unless_null(&mut command, "@locallogin", local_login);
        }
        RemoteCredentials::Remote { user, password } => {
            command.bind_param("@useself", "FALSE");
            bind_unless_null(&mut command, "@locallogin", local_login);
            bind_unless_null(&mut command, "@rmtuser", user.as_deref());
            bind_unless_null(
                &mut command,
                "@rmtpassword",
                password.as_ref().map(|p| p.as_str()),
            );
        }
    }
    call(client, "sp_addlinkedsrvlogin", command).await
}

/// `sp_droplinkedsrvlogin`; `@locallogin` is always sent (NULL = the mapping for every login).
pub(crate) async fn drop_login(
    client: &mut TdsClient,
    server: &str,
    local_login: Option<&str>,
) -> Result<(), Error> {
    let mut command = Command::new(procedure("sp_droplinkedsrvlogin"));
    command.bind_param("@rmtsrvname", server);
    command.bind_param("@locallogin", local_login);
    call(client, "sp_droplinkedsrvlogin", command).await
}

/// `sp_testlinkedserver` (its one parameter in documented position, as `nvarchar`).
pub(crate) async fn test_server(client: &mut TdsClient, server: &str) -> Result<(), Error> {
    let mut command = Command::new(procedure("sp_testlinkedserver"));
    command.bind_param("@servername", server);
    call(client, "sp_testlinkedserver", command).await
}

/// The catalog read shared by `get` and `list`: each server with its login mappings, one row
/// per mapping (or one row with NULL mapping columns), the local row excluded.
macro_rules! servers_query {
    ($filter:literal) => {
        concat!(
            "SELECT s.server_id, s.name, s.product, s.provider, s.data_source, s.location, ",
            "s.provider_string, s.catalog, s.connect_timeout, s.query_timeout, ",
            "s.is_remote_login_enabled, s.is_rpc_out_enabled, s.is_data_access_enabled, ",
            "s.is_collation_compatible, s.uses_remote_collation, s.collation_name, ",
            "s.lazy_schema_validation, s.is_system, s.is_publisher, s.is_subscriber, ",
            "s.is_distributor, s.is_nonsql_subscriber, ",
            "s.is_remote_proc_transaction_promotion_enabled, s.modify_date, ",
            "ll.local_principal_id, p.name AS local_login, ll.uses_self_credential, ll.remote_name ",
            "FROM sys.servers AS s ",
            "LEFT JOIN sys.linked_logins AS ll ON ll.server_id = s.server_id ",
            "LEFT JOIN sys.server_principals AS p ON p.principal_id = ll.local_principal_id ",
            "WHERE s.server_id <> 0",
            $filter,
            " ORDER BY s.name, s.server_id, ll.local_principal_id"
        )
    };
}

/// Every linked server; the texts are fixed, the name travels as `@P1`.
pub(crate) const LIST_SERVERS_SQL: &str = servers_query!("");
/// One linked server, compared by the server under its collation.
pub(crate) const GET_SERVER_SQL: &str = servers_query!(" AND s.name = @P1");

/// Reads one server (`Some(name)`) or all of them, in one query; a failure carries every
/// server message of the answer.
pub(crate) async fn read_servers(
    client: &mut TdsClient,
    name: Option<&str>,
) -> Result<Vec<LinkedServer>, Error> {
    messages::collect(query_servers(client, name)).await
}

async fn query_servers(
    client: &mut TdsClient,
    name: Option<&str>,
) -> Result<Vec<LinkedServer>, Error> {
    let stream = match name {
        Some(name) => client.query(GET_SERVER_SQL, &[&name]).await,
        None => client.query(LIST_SERVERS_SQL, &[]).await,
    }
    .map_err(|e| request_error(e).context("reading sys.servers"))?;
    let rows = stream
        .into_first_result()
        .await
        .map_err(|e| request_error(e).context("reading sys.servers"))?;
    servers_from_rows(&rows).map_err(|e| e.context("reading sys.servers"))
}

pub(crate) fn servers_from_rows(rows: &[Row]) -> Result<Vec<LinkedServer>, Error> {
    let mut servers: Vec<LinkedServer> = Vec::new();
    for row in rows {
        let cells = Cells(row.cells().map(|(_, data)| data).collect());
        let server_id = cells.int(0)?;
        if servers.last().map(|s| s.server_id) != Some(server_id) {
            servers.push(LinkedServer {
                server_id,
                name: cells.string(1)?,
                product: cells.string(2)?,
                provider: cells.string(3)?,
                data_source: cells.opt_string(4)?,
                location: cells.opt_string(5)?,
                provider_string: cells.opt_string(6)?,
                catalog: cells.opt_string(7)?,
                connect_timeout: cells.int(8)?,
                query_timeout: cells.int(9)?,
                rpc: cells.flag(10)?,
                rpc_out: cells.flag(11)?,
                data_access: cells.flag(12)?,
                collation_compatible: cells.flag(13)?,
                use_remote_collation: cells.flag(14)?,
                collation_name: cells.opt_string(15)?,
                lazy_schema_validation: cells.flag(16)?,
                is_system: cells.flag(17)?,
                is_publisher: cells.flag(18)?,
                is_subscriber: cells.flag(19)?,
                is_distributor: cells.flag(20)?,
                is_nonsql_subscriber: cells.flag(21)?,
                remote_proc_transaction_promotion: cells.flag(22)?,
                modify_date: cells.timestamp(23)?,
                logins: Vec::new(),
            });
        }
        if let Some(principal_id) = cells.opt_int(24)? {
            let server = servers.last_mut().expect("pushed above");
            server.logins.push(LoginMapping {
                local_login: if principal_id == 0 {
                    None
                } else {
                    cells.opt_string(25)?
                },
                uses_self_credential: cells.flag(26)?,
                remote_user: cells.opt_string(27)?,
            });
        }
    }
    Ok(servers)
}

/// One row's values, read by position with the column types SQL Server uses.
struct Cells<'a>(Vec<&'a ColumnData<'static>>);

impl Cells<'_> {
    fn get(&self, index: usize) -> Result<&ColumnData<'static>, Error> {
        self.0.get(index).copied().ok_or_else(|| {
            Error::new(
                Status::Internal,
                format!("the catalog query returned no column {index}"),
            )
        })
    }

    /// Names only the type found, never the value: the column may be a provider string.
    fn unexpected(&self, index: usize, wanted: &str) -> Error {
        let found = self
            .0
            .get(index)
            .map_or_else(|| "no value".to_string(), |data| column_type(data));
        Error::new(
            Status::Internal,
            format!("catalog column {index}: expected {wanted}, got {found}"),
        )
    }

    fn opt_int(&self, index: usize) -> Result<Option<i32>, Error> {
        Ok(match self.get(index)? {
            ColumnData::I32(v) => *v,
            ColumnData::I16(v) => v.map(i32::from),
            ColumnData::U8(v) => v.map(i32::from),
            ColumnData::I64(v) => match v {
                Some(v) => Some(i32::try_from(*v).map_err(|_| self.unexpected(index, "an int"))?),
                None => None,
            },
            _ => return Err(self.unexpected(index, "an int")),
        })
    }

    fn int(&self, index: usize) -> Result<i32, Error> {
        self.opt_int(index)?
            .ok_or_else(|| self.unexpected(index, "an int"))
    }

    fn flag(&self, index: usize) -> Result<bool, Error> {
        match self.get(index)? {
            ColumnData::Bit(Some(b)) => Ok(*b),
            _ => Err(self.unexpected(index, "a bit")),
        }
    }

    fn opt_string(&self, index: usize) -> Result<Option<String>, Error> {
        match self.get(index)? {
            ColumnData::String(v) => Ok(v.as_ref().map(|s| s.to_string())),
            _ => Err(self.unexpected(index, "a string")),
        }
    }

    fn string(&self, index: usize) -> Result<String, Error> {
        self.opt_string(index)?
            .ok_or_else(|| self.unexpected(index, "a string"))
    }

    fn timestamp(&self, index: usize) -> Result<Option<String>, Error> {
        Ok(match self.get(index)? {
            ColumnData::DateTime(v) => v.map(|dt| {
                // datetime: days since 1900-01-01 and 1/300 s ticks.
                let millis = (u64::from(dt.seconds_fragments()) * 10 + 1) / 3;
                iso_timestamp(i64::from(dt.days()) + DAYS_1900_TO_1970, millis)
            }),
            ColumnData::SmallDateTime(v) => v.map(|dt| {
                iso_timestamp(
                    i64::from(dt.days()) + DAYS_1900_TO_1970,
                    u64::from(dt.seconds_fragments()) * 60_000,
                )
            }),
            ColumnData::DateTime2(v) => v.map(|dt| {
                let time = dt.time();
                let nanos = u128::from(time.increments()) * 1_000_000_000
                    / 10u128.pow(u32::from(time.scale()));
                iso_timestamp(
                    i64::from(dt.date().days()) - DAYS_0001_TO_1970,
                    u64::try_from(nanos / 1_000_000).unwrap_or(0),
                )
            }),
            _ => return Err(self.unexpected(index, "a datetime")),
        })
    }
}

/// The type of a value and whether it is NULL, without the value.
fn column_type(data: &ColumnData<'_>) -> String {
    let (name, is_null) = match data {
        ColumnData::U8(v) => ("tinyint", v.is_none()),
        ColumnData::I16(v) => ("smallint", v.is_none()),
        ColumnData::I32(v) => ("int", v.is_none()),
        ColumnData::I64(v) => ("bigint", v.is_none()),
        ColumnData::F32(v) => ("real", v.is_none()),
        ColumnData::F64(v) => ("float", v.is_none()),
        ColumnData::Bit(v) => ("bit", v.is_none()),
        ColumnData::String(v) => ("a string", v.is_none()),
        ColumnData::Guid(v) => ("uniqueidentifier", v.is_none()),
        ColumnData::Binary(v) => ("binary", v.is_none()),
        ColumnData::Numeric(v) => ("numeric", v.is_none()),
        ColumnData::Xml(v) => ("xml", v.is_none()),
        ColumnData::DateTime(v) => ("datetime", v.is_none()),
        ColumnData::SmallDateTime(v) => ("smalldatetime", v.is_none()),
        ColumnData::Time(v) => ("time", v.is_none()),
        ColumnData::Date(v) => ("date", v.is_none()),
        ColumnData::DateTime2(v) => ("datetime2", v.is_none()),
        ColumnData::DateTimeOffset(v) => ("datetimeoffset", v.is_none()),
    };
    if is_null {
        format!("{name} NULL")
    } else {
        name.to_string()
    }
}

/// 1900-01-01 is 25567 days before 1970-01-01.
const DAYS_1900_TO_1970: i64 = -25_567;
/// 0001-01-01 is 719162 days before 1970-01-01.
const DAYS_0001_TO_1970: i64 = 719_162;

/// `YYYY-MM-DDTHH:MM:SS.mmm` from days since 1970-01-01 and milliseconds into the day.
fn iso_timestamp(days_since_1970: i64, millis_of_day: u64) -> String {
    // Civil-from-days (proleptic Gregorian), with eras of 400 years.
    let z = days_since_1970 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let seconds = millis_of_day / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        millis_of_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_8601() {
        assert_eq!(iso_timestamp(0, 0), "1970-01-01T00:00:00.000");
        assert_eq!(
            iso_timestamp(DAYS_1900_TO_1970, 0),
            "1900-01-01T00:00:00.000"
        );
        // 2026-11-26 is day 46350 of the datetime calendar; 13:05:07.123.
        assert_eq!(
            iso_timestamp(46_350 + DAYS_1900_TO_1970, 47_107_123),
            "2026-11-26T13:05:07.123"
        );
        assert_eq!(
            iso_timestamp(-DAYS_0001_TO_1970, 0),
            "0001-01-01T00:00:00.000"
        );
        assert_eq!(iso_timestamp(11_016, 0), "2000-02-29T00:00:00.000");
    }

    #[test]
    fn catalog_queries_are_fixed_and_parameterised() {
        assert!(GET_SERVER_SQL.contains("WHERE s.server_id <> 0 AND s.name = @P1 ORDER BY"));
        assert!(LIST_SERVERS_SQL.contains("WHERE s.server_id <> 0 ORDER BY s.name"));
        assert!(!LIST_SERVERS_SQL.contains("@P1"));
    }

    #[test]
    fn a_column_of_the_wrong_type_is_named_by_type_never_by_value() {
        let secret = ColumnData::String(Some("Pwd=s3cret".into()));
        let cells = Cells(vec![&secret]);
        let message = cells.unexpected(0, "an int").message;
        assert!(!message.contains("s3cret"), "{message}");
        assert!(message.contains("got a string"), "{message}");
    }

    #[test]
    fn a_fatal_server_error_loses_the_connection() {
        let fatal = |severity| Error {
            server_messages: vec![ServerMessage {
                number: 3624,
                severity,
                state: 1,
                procedure: String::new(),
                line: 1,
                server: "MGMT".into(),
                message: "A system assertion check has failed.".into(),
            }],
            ..Error::new(Status::Sql, "x")
        };
        assert!(loses_connection(&fatal(20)));
        assert!(!loses_connection(&fatal(16)));
    }

    #[test]
    fn connections_have_tcp_keepalive() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut config = Config::new();
        config.host("127.0.0.1");
        config.port(port);
        let tcp = crate::runtime::block_on(open_tcp(&config, false))
            .unwrap()
            .unwrap();
        assert!(socket2::SockRef::from(&tcp).keepalive().unwrap());
    }

    #[test]
    fn driver_errors_map_to_statuses() {
        let io = |kind| tiberius::error::Error::Io {
            kind,
            message: "m".into(),
        };
        assert_eq!(
            driver_error(io(std::io::ErrorKind::TimedOut)).status,
            Status::Timeout
        );
        assert_eq!(
            driver_error(io(std::io::ErrorKind::ConnectionRefused)).status,
            Status::Connection
        );
        assert_eq!(
            driver_error(tiberius::error::Error::Tls("bad cert".into())).status,
            Status::Tls
        );
        assert!(loses_connection(&driver_error(
            tiberius::error::Error::Protocol("x".into())
        )));
        assert!(!loses_connection(&Error::new(Status::Sql, "x")));
    }
}
