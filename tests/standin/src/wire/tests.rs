//! The wire layer against real clients (tiberius) and a raw TDS client, with a scripted
//! backend instead of the engine, so wire behaviour is tested on its own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::connection::{Backend, BackendSession, Listener};
use super::cursor::{string_to_utf16, Cursor};
use super::packet::{self, packet_type, MessageReader};
use super::prelogin::{ENCRYPT_NOT_SUP, ENCRYPT_ON, ENCRYPT_REQ};
use super::server::spawn_listener;
use super::tls::ServerIdentity;
use crate::config::EncryptMode;
use crate::types::*;

const SERVER: &str = "WIRETEST";
const PASSWORD: &str = "Pa:ss wörd;1";
/// The one database the scripted backend cannot open at login.
const MISSING_DATABASE: &str = "NoSuchDb";

struct Scripted {
    attentions: Arc<AtomicUsize>,
}

struct ScriptedSession {
    database: String,
    attentions: Arc<AtomicUsize>,
    resets: Arc<AtomicUsize>,
}

impl Backend for Scripted {
    type Session = ScriptedSession;
    fn server_name(&self) -> &str {
        SERVER
    }
    fn login(
        &self,
        user: &str,
        password: &str,
        database: Option<&str>,
    ) -> Result<ScriptedSession, Vec<ServerMessage>> {
        let login_failed = message(18456, 14, &format!("Login failed for user '{user}'."));
        if user != "sa" || password != PASSWORD {
            return Err(vec![login_failed]);
        }
        if database == Some(MISSING_DATABASE) {
            let cannot_open = message(
                4060,
                11,
                &format!(
                    "Cannot open database \"{MISSING_DATABASE}\" requested by the login. \
                     The login failed."
                ),
            );
            return Err(vec![cannot_open, login_failed]);
        }
        Ok(ScriptedSession {
            database: database.unwrap_or("master").to_string(),
            attentions: self.attentions.clone(),
            resets: Arc::new(AtomicUsize::new(0)),
        })
    }
}

fn message(number: i32, class: u8, text: &str) -> ServerMessage {
    ServerMessage {
        number,
        state: 1,
        class,
        text: text.into(),
        server: SERVER.into(),
        procedure: String::new(),
        line: 1,
    }
}

fn done(kind: DoneKind, status: u16, count: u64) -> ReplyItem {
    ReplyItem::Done(Done {
        kind,
        status,
        cur_cmd: 0xC1,
        row_count: count,
    })
}

fn column(name: &str, ty: SqlType) -> Column {
    Column {
        name: name.into(),
        ty,
        nullable: true,
    }
}

fn rows(columns: Vec<Column>, rows: Vec<Vec<SqlValue>>) -> Reply {
    let count = rows.len() as u64;
    Reply {
        items: vec![
            ReplyItem::Rows(ResultSet { columns, rows }),
            done(DoneKind::Done, done_status::COUNT, count),
        ],
        after: AfterReply::Continue,
    }
}

impl BackendSession for ScriptedSession {
    fn database(&self) -> &str {
        &self.database
    }

    async fn execute(&mut self, request: Request) -> Reply {
        match request {
            Request::Batch(text) => match text.as_str() {
                "SELECT types" => {
                    let moment = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
                        .and_then(|d| d.and_hms_milli_opt(13, 14, 15, 100))
                        .expect("valid literal");
                    rows(
                        vec![
                            column("bit", SqlType::Bit),
                            column("tiny", SqlType::TinyInt),
                            column("small", SqlType::SmallInt),
                            column("int", SqlType::Int),
                            column("big", SqlType::BigInt),
                            column("nv", SqlType::NVarChar(Some(128))),
                            column("nvmax", SqlType::NVarChar(None)),
                            column("v", SqlType::VarChar(Some(20))),
                            column("when", SqlType::DateTime),
                        ],
                        vec![
                            vec![
                                SqlValue::Bit(true),
                                SqlValue::Int(255),
                                SqlValue::Int(-32768),
                                SqlValue::Int(2_147_483_647),
                                SqlValue::Int(-9_000_000_000),
                                SqlValue::String("Grüße".into()),
                                SqlValue::String("x".repeat(5000)),
                                SqlValue::String("café".into()),
                                SqlValue::DateTime(moment),
                            ],
                            vec![SqlValue::Null; 9],
                        ],
                    )
                }
                "SELECT db" => rows(
                    vec![column("db", SqlType::NVarChar(Some(128)))],
                    vec![vec![SqlValue::String(self.database.clone())]],
                ),
                "RAISERROR" => Reply {
                    items: vec![
                        ReplyItem::Message(message(15015, 16, "The server 'nope' does not exist.")),
                        done(DoneKind::Done, done_status::ERROR, 0),
                    ],
                    after: AfterReply::Continue,
                },
                "DROP" => Reply {
                    items: vec![ReplyItem::Message(message(0, 0, "bye"))],
                    after: AfterReply::Disconnect,
                },
                "STALL" => Reply {
                    items: Vec::new(),
                    after: AfterReply::Stall,
                },
                "SLEEP" => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    rows(Vec::new(), Vec::new())
                }
                "BAD VALUE" => rows(
                    vec![column("t", SqlType::TinyInt)],
                    vec![vec![SqlValue::String("x".into())]],
                ),
                _ => Reply {
                    items: vec![
                        ReplyItem::Message(message(2812, 16, "Could not find stored procedure.")),
                        done(DoneKind::Done, done_status::ERROR, 0),
                    ],
                    after: AfterReply::Continue,
                },
            },
            // Echo each parameter back as (name, type, value) text so tests see the decoding.
            Request::Rpc(calls) => {
                let params = calls.iter().flat_map(|call| call.params.iter());
                let echoed = params
                    .map(|p| {
                        vec![
                            SqlValue::String(p.name.clone()),
                            SqlValue::String(format!("{:?}", p.ty)),
                            SqlValue::String(format!("{:?}", p.value)),
                        ]
                    })
                    .collect();
                let mut reply = rows(
                    vec![
                        column("name", SqlType::NVarChar(Some(128))),
                        column("type", SqlType::NVarChar(Some(128))),
                        column("value", SqlType::NVarChar(None)),
                    ],
                    echoed,
                );
                reply.items.pop();
                reply.items.push(done(
                    DoneKind::DoneInProc,
                    done_status::MORE | done_status::COUNT,
                    1,
                ));
                reply.items.push(ReplyItem::ReturnStatus(0));
                reply.items.push(ReplyItem::Done(Done {
                    kind: DoneKind::DoneProc,
                    status: 0,
                    cur_cmd: 0xE0,
                    row_count: 0,
                }));
                reply
            }
        }
    }

    fn attention(&mut self) {
        self.attentions.fetch_add(1, Ordering::SeqCst);
    }

    /// Records the reset where `SELECT db` shows it: its number and whether the transaction stays.
    fn reset(&mut self, keep_transaction: bool) {
        let number = self.resets.fetch_add(1, Ordering::SeqCst) + 1;
        self.database = format!("reset {number} keep {keep_transaction}");
    }
}

struct Running {
    addr: SocketAddr,
    cert_path: PathBuf,
    attentions: Arc<AtomicUsize>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.cert_path);
    }
}

fn start(encrypt: EncryptMode) -> Running {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let identity = ServerIdentity::generate(SERVER).unwrap();
    let cert_path = std::env::temp_dir().join(format!(
        "wire-test-{}-{}.pem",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&cert_path, &identity.cert_pem).unwrap();
    let attentions = Arc::new(AtomicUsize::new(0));
    let listener = Arc::new(Listener {
        backend: Scripted {
            attentions: attentions.clone(),
        },
        encrypt,
        tls: identity.server_config(false).unwrap(),
        strict_tls: identity.server_config(true).unwrap(),
    });
    let (addr, stop, _thread) = spawn_listener("127.0.0.1:0".parse().unwrap(), listener).unwrap();
    Running {
        addr,
        cert_path,
        attentions,
        _stop: stop,
    }
}

fn tiberius_config(server: &Running, level: EncryptionLevel, password: &str) -> Config {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(server.addr.port());
    config.authentication(AuthMethod::sql_server("sa", password));
    config.encryption(level);
    config.trust_cert_ca(server.cert_path.display().to_string());
    config
}

async fn connect(server: &Running, config: Config) -> tiberius::Result<Client<Compat<TcpStream>>> {
    let tcp = TcpStream::connect(server.addr).await?;
    tcp.set_nodelay(true)?;
    Client::connect(config, tcp.compat_write()).await
}

async fn tiberius_client(
    server: &Running,
    level: EncryptionLevel,
    password: &str,
) -> tiberius::Result<Client<Compat<TcpStream>>> {
    connect(server, tiberius_config(server, level, password)).await
}

/// A server ERROR as tiberius reports it: number, state, class, text, server, line.
fn server_error(error: &tiberius::error::Error) -> (u32, u8, u8, &str, &str, u32) {
    match error {
        tiberius::error::Error::Server(token) => (
            token.code(),
            token.state(),
            token.class(),
            token.message(),
            token.server(),
            token.line(),
        ),
        other => panic!("expected the server's ERROR token, got {other:?}"),
    }
}

/// The database the session is in, proving the connection still answers.
async fn current_database(client: &mut Client<Compat<TcpStream>>) -> String {
    let rows = client
        .simple_query("SELECT db")
        .await
        .expect("the connection still accepts requests")
        .into_first_result()
        .await
        .expect("the connection still answers");
    assert_eq!(rows.len(), 1);
    rows[0]
        .get::<&str, _>(0)
        .expect("a database name")
        .to_string()
}

/// tiberius reports a server error either when sending or when reading the results.
async fn first_error(sent: tiberius::Result<tiberius::QueryStream<'_>>) -> tiberius::error::Error {
    match sent {
        Ok(stream) => stream
            .into_results()
            .await
            .expect_err("the server sent an error"),
        Err(error) => error,
    }
}

async fn all_types_round_trip(client: &mut Client<Compat<TcpStream>>) {
    let rows = client
        .simple_query("SELECT types")
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let row = &rows[0];
    assert_eq!(row.get::<bool, _>("bit"), Some(true));
    assert_eq!(row.get::<u8, _>("tiny"), Some(255));
    assert_eq!(row.get::<i16, _>("small"), Some(-32768));
    assert_eq!(row.get::<i32, _>("int"), Some(2_147_483_647));
    assert_eq!(row.get::<i64, _>("big"), Some(-9_000_000_000));
    assert_eq!(row.get::<&str, _>("nv"), Some("Grüße"));
    assert_eq!(row.get::<&str, _>("nvmax").map(str::len), Some(5000));
    assert_eq!(row.get::<&str, _>("v"), Some("café"));
    let days = (chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        - chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap())
    .num_days() as i32;
    match row.cells().nth(8).map(|(_, data)| data) {
        Some(tiberius::ColumnData::DateTime(Some(when))) => {
            assert_eq!(
                (when.days(), when.seconds_fragments()),
                (days, (13 * 3600 + 14 * 60 + 15) * 300 + 30)
            );
        }
        other => panic!("datetime column decoded as {other:?}"),
    }
    let nulls = &rows[1];
    assert_eq!(nulls.get::<bool, _>("bit"), None);
    assert_eq!(nulls.get::<i32, _>("int"), None);
    assert_eq!(nulls.get::<&str, _>("nvmax"), None);
    assert!(matches!(
        nulls.cells().nth(8),
        Some((_, tiberius::ColumnData::DateTime(None)))
    ));
}

#[tokio::test]
async fn tiberius_in_every_encryption_mode() {
    for (mode, level) in [
        (EncryptMode::Off, EncryptionLevel::NotSupported),
        (EncryptMode::Login, EncryptionLevel::Off),
        (EncryptMode::Login, EncryptionLevel::Required),
        (EncryptMode::On, EncryptionLevel::Required),
        (EncryptMode::Strict, EncryptionLevel::Strict),
    ] {
        let server = start(mode);
        let mut client = tiberius_client(&server, level, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{mode:?}/{level:?}: {e}"));
        all_types_round_trip(&mut client).await;
    }
}

#[tokio::test]
async fn refused_encryption_ends_the_connection() {
    // Server without TLS, client requiring it: tiberius refuses on the PRELOGIN answer.
    let server = start(EncryptMode::Off);
    let error = tiberius_client(&server, EncryptionLevel::Required, PASSWORD)
        .await
        .expect_err("no TLS to offer");
    assert_eq!(
        error,
        tiberius::error::Error::Protocol(
            "Server does not allow the requested encryption level.".into()
        )
    );
    // Server requiring TLS, client without it: the server answers REQ and closes, so the
    // TLS handshake tiberius then tries finds the connection gone.
    let server = start(EncryptMode::On);
    let error = tiberius_client(&server, EncryptionLevel::NotSupported, PASSWORD)
        .await
        .expect_err("TLS is required");
    assert_eq!(error, tiberius::error::Error::Tls("unexpected EOF".into()));
    // A TDS 8.0 server talks to nobody in plaintext: it drops the socket with the unread
    // PRELOGIN still queued, which the kernel turns into a reset.
    let server = start(EncryptMode::Strict);
    let error = tiberius_client(&server, EncryptionLevel::NotSupported, PASSWORD)
        .await
        .expect_err("strict needs TLS first");
    assert!(
        matches!(
            error,
            tiberius::error::Error::Io {
                kind: tiberius::error::IoErrorKind::ConnectionReset,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn wrong_password_gets_18456() {
    let server = start(EncryptMode::On);
    let error = tiberius_client(&server, EncryptionLevel::Required, "wrong")
        .await
        .expect_err("wrong password");
    assert_eq!(
        server_error(&error),
        (18456, 1, 14, "Login failed for user 'sa'.", SERVER, 1)
    );
}

#[tokio::test]
async fn unknown_login_database_reports_4060_first() {
    let server = start(EncryptMode::On);
    let mut config = tiberius_config(&server, EncryptionLevel::Required, PASSWORD);
    config.database(MISSING_DATABASE);
    let error = connect(&server, config)
        .await
        .expect_err("the database cannot be opened");
    // tiberius keeps the first ERROR of the login response; 18456 follows it on the wire.
    assert_eq!(
        server_error(&error),
        (
            4060,
            1,
            11,
            "Cannot open database \"NoSuchDb\" requested by the login. The login failed.",
            SERVER,
            1
        )
    );
}

#[tokio::test]
async fn errors_and_login_database() {
    let server = start(EncryptMode::On);
    let mut client = tiberius_client(&server, EncryptionLevel::Required, PASSWORD)
        .await
        .unwrap();
    let error = first_error(client.simple_query("RAISERROR").await).await;
    assert_eq!(
        server_error(&error),
        (15015, 1, 16, "The server 'nope' does not exist.", SERVER, 1)
    );
    // The connection stays usable after an error; no database in LOGIN7 means master.
    assert_eq!(current_database(&mut client).await, "master");
    // The LOGIN7 database reaches the backend.
    let mut config = tiberius_config(&server, EncryptionLevel::Required, PASSWORD);
    config.database("BizTalkMgmtDb");
    let mut client = connect(&server, config).await.unwrap();
    assert_eq!(current_database(&mut client).await, "BizTalkMgmtDb");
}

#[tokio::test]
async fn rpc_parameters_are_decoded() {
    let server = start(EncryptMode::On);
    let mut client = tiberius_client(&server, EncryptionLevel::Required, PASSWORD)
        .await
        .unwrap();
    let long = "y".repeat(4500);
    let rows = client
        .query(
            "SELECT @P1, @P2, @P3, @P4",
            &[&"short", &42i32, &true, &long.as_str()],
        )
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    let echoed: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let text = |i: usize| r.get::<&str, _>(i).unwrap().to_string();
            (text(0), text(1), text(2))
        })
        .collect();
    assert_eq!(echoed.len(), 6);
    assert_eq!(echoed[0].0, "stmt");
    assert_eq!(echoed[0].2, "String(\"SELECT @P1, @P2, @P3, @P4\")");
    assert_eq!(echoed[1].0, "params");
    assert_eq!(
        echoed[2],
        (
            "@P1".into(),
            "NVarChar(Some(4000))".into(),
            "String(\"short\")".into()
        )
    );
    assert_eq!(echoed[3], ("@P2".into(), "Int".into(), "Int(42)".into()));
    assert_eq!(echoed[4], ("@P3".into(), "Bit".into(), "Bit(true)".into()));
    assert_eq!(echoed[5].1, "NVarChar(None)");
    assert_eq!(echoed[5].2, format!("String({long:?})"));
}

#[tokio::test]
async fn unknown_parameter_type_is_8009_and_the_connection_survives() {
    let server = start(EncryptMode::On);
    let mut client = tiberius_client(&server, EncryptionLevel::Required, PASSWORD)
        .await
        .unwrap();
    // tiberius sends an f64 as FLTN (0x6D), the third parameter after stmt and params.
    let error = first_error(client.query("SELECT @P1", &[&1.5f64]).await).await;
    assert_eq!(
        server_error(&error),
        (
            8009,
            1,
            16,
            "The incoming tabular data stream (TDS) remote procedure call (RPC) protocol stream \
             is incorrect. Parameter 3 (\"@P1\"): Data type 0x6D is unknown.",
            SERVER,
            0
        )
    );
    assert_eq!(current_database(&mut client).await, "master");
}

#[tokio::test]
async fn unencodable_reply_is_an_error_not_a_crash() {
    let server = start(EncryptMode::Off);
    let mut client = tiberius_client(&server, EncryptionLevel::NotSupported, PASSWORD)
        .await
        .unwrap();
    let error = first_error(client.simple_query("BAD VALUE").await).await;
    assert_eq!(
        server_error(&error),
        (
            50000,
            1,
            16,
            "The stand-in could not encode its reply: cannot encode String(\"x\") as TinyInt.",
            SERVER,
            0
        )
    );
    assert_eq!(current_database(&mut client).await, "master");
}

#[tokio::test]
async fn disconnect_after_reply() {
    let server = start(EncryptMode::Off);
    let mut client = tiberius_client(&server, EncryptionLevel::NotSupported, PASSWORD)
        .await
        .unwrap();
    // The reply (one INFO, no DONE) ends with the end of the stream, which tiberius takes
    // as the end of the results; the next request then finds the connection closed.
    let results = client
        .simple_query("DROP")
        .await
        .expect("the reply arrives before the close")
        .into_results()
        .await
        .expect("an INFO is not an error");
    assert!(results.is_empty(), "{results:?}");
    let error = client
        .simple_query("SELECT db")
        .await
        .expect_err("the server has closed the connection");
    // The request reaches a socket the server closed: tiberius reads the end of the stream,
    // or, when the kernel has already answered the request with a reset, a broken pipe.
    use tiberius::error::IoErrorKind::{BrokenPipe, UnexpectedEof};
    assert!(
        matches!(
            error,
            tiberius::error::Error::Io {
                kind: UnexpectedEof | BrokenPipe,
                ..
            }
        ),
        "{error:?}"
    );
}

/// A minimal client for what tiberius cannot do on demand (ATTENTION, a small packet size) or
/// does not show (every token of a reply, the connection closing).
struct RawClient {
    tcp: TcpStream,
    reader: MessageReader,
}

/// LOGIN7 of TDS 7.4 with the host, user, password and database fields set.
fn login7(user: &str, password: &str, database: &str, packet_size: u32) -> Vec<u8> {
    let obfuscated: Vec<u8> = string_to_utf16(password)
        .iter()
        .map(|b| b.rotate_left(4) ^ 0xA5)
        .collect();
    let empty = Vec::new();
    // HostName, UserName, Password, AppName, ServerName, Extension, CltIntName, Language,
    // Database.
    let fields = [
        string_to_utf16("host"),
        string_to_utf16(user),
        obfuscated,
        empty.clone(),
        empty.clone(),
        empty.clone(),
        empty.clone(),
        empty,
        string_to_utf16(database),
    ];
    let mut data: Vec<u8> = Vec::new();
    let mut offsets = Vec::new();
    let mut offset = 94u16;
    for field in &fields {
        offsets.extend(offset.to_le_bytes());
        offsets.extend(((field.len() / 2) as u16).to_le_bytes());
        data.extend(field);
        offset += field.len() as u16;
    }
    offsets.extend([0u8; 6]); // ClientID
                              // SSPI, AtchDBFile and ChangePassword point to the end with no data.
    for _ in 0..3 {
        offsets.extend(offset.to_le_bytes());
        offsets.extend(0u16.to_le_bytes());
    }
    offsets.extend(0u32.to_le_bytes());
    let mut out = Vec::new();
    out.extend((94 + data.len() as u32).to_le_bytes());
    out.extend(0x7400_0004u32.to_le_bytes());
    out.extend(packet_size.to_le_bytes());
    out.extend([0u8; 12 + 4 + 8]);
    out.extend(offsets);
    assert_eq!(out.len(), 94);
    out.extend(data);
    out
}

fn batch(text: &str) -> Vec<u8> {
    let mut out = vec![
        0x16, 0, 0, 0, 0x12, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
    ];
    out.extend(string_to_utf16(text));
    out
}

const ERROR: u8 = 0xAA;
const INFO: u8 = 0xAB;
const DONE: u8 = 0xFD;

/// A reply token as a client decodes it (MS-TDS 2.2.7), for the kinds these tests meet.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Message {
        /// ERROR or INFO.
        token: u8,
        number: i32,
        state: u8,
        class: u8,
        text: String,
        server: String,
        procedure: String,
        line: i32,
    },
    /// ENVCHANGE with its type (1 database, 2 language, 4 packet size, 7 collation).
    EnvChange(u8),
    LoginAck {
        tds_version: u32,
    },
    Done {
        token: u8,
        status: u16,
        cur_cmd: u16,
        row_count: u64,
    },
}

/// Decodes a whole reply; any other token kind, or a token cut short, fails the test.
fn decode(payload: &[u8]) -> Vec<Token> {
    let mut cursor = Cursor::new(payload);
    let mut tokens = Vec::new();
    while cursor.remaining() > 0 {
        let token = cursor.u8("token").unwrap();
        let decoded = match token {
            ERROR | INFO => {
                let length = cursor.u16("length").unwrap() as usize;
                let mut body = Cursor::new(cursor.take(length, "message").unwrap());
                let number = body.u32("Number").unwrap() as i32;
                let state = body.u8("State").unwrap();
                let class = body.u8("Class").unwrap();
                let chars = body.u16("MsgText length").unwrap() as usize;
                let text = body.utf16(chars, "MsgText").unwrap();
                let chars = body.u8("ServerName length").unwrap() as usize;
                let server = body.utf16(chars, "ServerName").unwrap();
                let chars = body.u8("ProcName length").unwrap() as usize;
                let procedure = body.utf16(chars, "ProcName").unwrap();
                let line = body.u32("LineNumber").unwrap() as i32;
                assert_eq!(body.remaining(), 0, "bytes after LineNumber");
                Token::Message {
                    token,
                    number,
                    state,
                    class,
                    text,
                    server,
                    procedure,
                    line,
                }
            }
            0xE3 => {
                let length = cursor.u16("length").unwrap() as usize;
                Token::EnvChange(cursor.take(length, "ENVCHANGE").unwrap()[0])
            }
            0xAD => {
                let length = cursor.u16("length").unwrap() as usize;
                let body = cursor.take(length, "LOGINACK").unwrap();
                Token::LoginAck {
                    tds_version: u32::from_be_bytes(body[1..5].try_into().unwrap()),
                }
            }
            0xFD..=0xFF => Token::Done {
                token,
                status: cursor.u16("Status").unwrap(),
                cur_cmd: cursor.u16("CurCmd").unwrap(),
                row_count: cursor.u64("DoneRowCount").unwrap(),
            },
            other => panic!("unexpected token {other:#04x} in {payload:02X?}"),
        };
        tokens.push(decoded);
    }
    tokens
}

/// An ERROR or INFO as the scripted backend and the login response build them.
fn message_token(token: u8, number: i32, state: u8, class: u8, text: &str, line: i32) -> Token {
    Token::Message {
        token,
        number,
        state,
        class,
        text: text.into(),
        server: SERVER.into(),
        procedure: String::new(),
        line,
    }
}

fn done_token(status: u16) -> Token {
    Token::Done {
        token: DONE,
        status,
        cur_cmd: 0,
        row_count: 0,
    }
}

impl RawClient {
    /// Connects and sends PRELOGIN with the given ENCRYPTION; returns the server's answer.
    async fn prelogin(server: &Running, encryption: u8) -> (RawClient, u8) {
        let tcp = TcpStream::connect(server.addr).await.unwrap();
        let mut client = RawClient {
            tcp,
            reader: MessageReader::new(),
        };
        let prelogin = [0x01, 0x00, 0x06, 0x00, 0x01, 0xFF, encryption];
        client.send(packet_type::PRELOGIN, &prelogin).await;
        let reply = client.receive().await;
        // ENCRYPTION data follows the 26-byte option table and the 6-byte VERSION.
        (client, reply[32])
    }

    /// Plaintext login as sa against an `EncryptMode::Off` server.
    async fn connect(server: &Running, packet_size: u32) -> RawClient {
        let (mut client, answer) = RawClient::prelogin(server, ENCRYPT_NOT_SUP).await;
        assert_eq!(answer, ENCRYPT_NOT_SUP);
        let response = client.login("sa", PASSWORD, "", packet_size).await;
        assert_eq!(
            response,
            vec![
                Token::EnvChange(1),
                message_token(INFO, 5701, 2, 0, "Changed database context to 'master'.", 0),
                Token::EnvChange(7),
                Token::EnvChange(2),
                Token::EnvChange(4),
                message_token(
                    INFO,
                    5703,
                    1,
                    0,
                    "Changed language setting to us_english.",
                    0
                ),
                Token::LoginAck {
                    tds_version: 0x7400_0004
                },
                done_token(0),
            ]
        );
        client
    }

    async fn login(
        &mut self,
        user: &str,
        password: &str,
        database: &str,
        packet_size: u32,
    ) -> Vec<Token> {
        self.send(
            packet_type::LOGIN7,
            &login7(user, password, database, packet_size),
        )
        .await;
        decode(&self.receive().await)
    }

    async fn send(&mut self, ty: u8, payload: &[u8]) {
        packet::write_message(&mut self.tcp, ty, payload, 4096, 0)
            .await
            .unwrap();
    }

    /// The next whole message, checking it arrived as type 0x04.
    async fn receive(&mut self) -> Vec<u8> {
        let message = packet::read_one(&mut self.reader, &mut self.tcp)
            .await
            .unwrap();
        assert_eq!(message.ty, packet_type::TABULAR_RESULT);
        message.payload.to_vec()
    }

    /// The server closed the connection (FIN) and sent nothing more.
    async fn assert_closed_by_server(&mut self) {
        assert!(!self.reader.has_buffered_bytes(), "bytes after the reply");
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), self.tcp.read_to_end(&mut rest))
            .await
            .expect("the server closes the connection");
        assert_eq!(
            read.map_err(|e| e.kind()),
            Ok(0),
            "sent after the reply: {rest:02X?}"
        );
    }

    /// RAISERROR answers the scripted 15015 and DONE_ERROR: the connection still works.
    async fn assert_usable(&mut self) {
        self.send(packet_type::SQL_BATCH, &batch("RAISERROR")).await;
        assert_eq!(
            decode(&self.receive().await),
            vec![
                message_token(ERROR, 15015, 1, 16, "The server 'nope' does not exist.", 1),
                Token::Done {
                    token: DONE,
                    status: done_status::ERROR,
                    cur_cmd: 0xC1,
                    row_count: 0,
                },
            ]
        );
    }
}

#[tokio::test]
async fn refused_login_sends_18456_and_done_error_then_closes() {
    let server = start(EncryptMode::Off);
    let (mut client, _) = RawClient::prelogin(&server, ENCRYPT_NOT_SUP).await;
    let response = client.login("sa", "wrong", "", 4096).await;
    assert_eq!(
        response,
        vec![
            message_token(ERROR, 18456, 1, 14, "Login failed for user 'sa'.", 1),
            done_token(done_status::ERROR),
        ]
    );
    client.assert_closed_by_server().await;
}

#[tokio::test]
async fn unknown_login_database_sends_4060_then_18456_then_closes() {
    let server = start(EncryptMode::Off);
    let (mut client, _) = RawClient::prelogin(&server, ENCRYPT_NOT_SUP).await;
    let response = client.login("sa", PASSWORD, MISSING_DATABASE, 4096).await;
    assert_eq!(
        response,
        vec![
            message_token(
                ERROR,
                4060,
                1,
                11,
                "Cannot open database \"NoSuchDb\" requested by the login. The login failed.",
                1
            ),
            message_token(ERROR, 18456, 1, 14, "Login failed for user 'sa'.", 1),
            done_token(done_status::ERROR),
        ]
    );
    client.assert_closed_by_server().await;
}

#[tokio::test]
async fn refused_encryption_is_answered_then_closed() {
    // Off: NOT_SUP to a client that wants TLS.
    let server = start(EncryptMode::Off);
    let (mut client, answer) = RawClient::prelogin(&server, ENCRYPT_ON).await;
    assert_eq!(answer, ENCRYPT_NOT_SUP);
    client.assert_closed_by_server().await;
    // On: REQ to a client that cannot encrypt.
    let server = start(EncryptMode::On);
    let (mut client, answer) = RawClient::prelogin(&server, ENCRYPT_NOT_SUP).await;
    assert_eq!(answer, ENCRYPT_REQ);
    client.assert_closed_by_server().await;
}

#[tokio::test]
async fn disconnect_sends_the_items_then_closes() {
    let server = start(EncryptMode::Off);
    let mut client = RawClient::connect(&server, 4096).await;
    client.send(packet_type::SQL_BATCH, &batch("DROP")).await;
    assert_eq!(
        decode(&client.receive().await),
        vec![message_token(INFO, 0, 1, 0, "bye", 1)]
    );
    client.assert_closed_by_server().await;
}

const DONE_ATTENTION: [u8; 13] = [0xFD, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

#[tokio::test]
async fn attention_abandons_a_running_request() {
    let server = start(EncryptMode::Off);
    let mut client = RawClient::connect(&server, 4096).await;
    client.send(packet_type::SQL_BATCH, &batch("SLEEP")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.send(packet_type::ATTENTION, &[]).await;
    let answer = tokio::time::timeout(Duration::from_secs(5), client.receive())
        .await
        .expect("the attention is acknowledged at once");
    assert_eq!(answer, DONE_ATTENTION);
    assert_eq!(server.attentions.load(Ordering::SeqCst), 1);
    client.assert_usable().await;
}

#[tokio::test]
async fn attention_releases_a_stalled_request() {
    let server = start(EncryptMode::Off);
    let mut client = RawClient::connect(&server, 4096).await;
    client.send(packet_type::SQL_BATCH, &batch("STALL")).await;
    let answered = tokio::time::timeout(Duration::from_millis(300), client.receive()).await;
    if let Ok(reply) = answered {
        panic!("a stalled request must not be answered, got {reply:02X?}");
    }
    client.send(packet_type::ATTENTION, &[]).await;
    assert_eq!(client.receive().await, DONE_ATTENTION);
    assert_eq!(server.attentions.load(Ordering::SeqCst), 1);
    client.assert_usable().await;
}

#[tokio::test]
async fn attention_with_nothing_running_is_acknowledged() {
    let server = start(EncryptMode::Off);
    let mut client = RawClient::connect(&server, 4096).await;
    client.send(packet_type::ATTENTION, &[]).await;
    assert_eq!(client.receive().await, DONE_ATTENTION);
    // Nothing was running, so the backend has nothing to abandon.
    assert_eq!(server.attentions.load(Ordering::SeqCst), 0);
    client.assert_usable().await;
}

/// RESETCONNECTION in the first packet's status: the session is reset before the request runs
/// (RESETCONNECTIONSKIPTRAN keeps the transaction) and the reply opens with ENVCHANGE 18; a
/// request without the bit resets nothing.
#[tokio::test]
async fn reset_connection_bit_resets_the_session_and_is_acknowledged() {
    let server = start(EncryptMode::Off);
    let mut client = RawClient::connect(&server, 4096).await;
    let shows = |reply: &[u8], text: &str| {
        let database = string_to_utf16(text);
        reply.windows(database.len()).any(|w| w == database)
    };
    for (status, expected) in [
        (0x01 | 0x08, "reset 1 keep false"),
        (0x01 | 0x10, "reset 2 keep true"),
    ] {
        let payload = batch("SELECT db");
        let mut packet = vec![packet_type::SQL_BATCH, status];
        packet.extend(((payload.len() + 8) as u16).to_be_bytes());
        packet.extend([0, 0, 1, 0]);
        packet.extend(payload);
        client.tcp.write_all(&packet).await.unwrap();
        let reply = client.receive().await;
        assert_eq!(reply[..6], [0xE3, 3, 0, 18, 0, 0], "ENVCHANGE 18 first");
        assert_eq!(reply[6], 0x81, "then the request's own reply");
        assert!(shows(&reply, expected), "{expected}");
    }
    client
        .send(packet_type::SQL_BATCH, &batch("SELECT db"))
        .await;
    let reply = client.receive().await;
    assert_eq!(reply[0], 0x81, "no acknowledgement without the bit");
    assert!(shows(&reply, "reset 2 keep true"), "no third reset");
    client.assert_usable().await;
}

#[tokio::test]
async fn replies_are_split_at_the_negotiated_packet_size() {
    let server = start(EncryptMode::Off);
    let mut client = RawClient::connect(&server, 512).await;
    client
        .send(packet_type::SQL_BATCH, &batch("SELECT types"))
        .await;
    let mut header = [0u8; 8];
    let mut packets = 0;
    loop {
        client.tcp.read_exact(&mut header).await.unwrap();
        let len = u16::from_be_bytes([header[2], header[3]]) as usize;
        assert!(len <= 512);
        let mut body = vec![0u8; len - 8];
        client.tcp.read_exact(&mut body).await.unwrap();
        packets += 1;
        if header[1] & 1 == 1 {
            break;
        }
        assert_eq!(len, 512);
    }
    assert!(packets > 20, "10 kB of rows in {packets} packets");
    client.tcp.shutdown().await.unwrap();
}

#[tokio::test]
async fn garbage_instead_of_prelogin_closes_the_connection() {
    let server = start(EncryptMode::On);
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    // A whole PRELOGIN packet whose option list has no terminator.
    tcp.write_all(&[0x12, 0x01, 0x00, 0x0A, 0, 0, 1, 0, 0x00, 0x00])
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest))
        .await
        .expect("the server closes the connection");
    assert_eq!(read.map_err(|e| e.kind()), Ok(0), "answered {rest:02X?}");
}
