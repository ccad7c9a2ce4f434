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
use super::cursor::string_to_utf16;
use super::packet::{self, packet_type, MessageReader};
use super::server::spawn_listener;
use super::tls::ServerIdentity;
use crate::config::EncryptMode;
use crate::types::*;

const SERVER: &str = "WIRETEST";
const PASSWORD: &str = "Pa:ss wörd;1";

struct Scripted {
    attentions: Arc<AtomicUsize>,
}

struct ScriptedSession {
    database: String,
    attentions: Arc<AtomicUsize>,
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
    ) -> Result<ScriptedSession, ServerMessage> {
        if user == "sa" && password == PASSWORD {
            Ok(ScriptedSession {
                database: database.unwrap_or("master").to_string(),
                attentions: self.attentions.clone(),
            })
        } else {
            Err(message(
                18456,
                14,
                &format!("Login failed for user '{user}'."),
            ))
        }
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

async fn tiberius_client(
    server: &Running,
    level: EncryptionLevel,
    password: &str,
) -> tiberius::Result<Client<Compat<TcpStream>>> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(server.addr.port());
    config.authentication(AuthMethod::sql_server("sa", password));
    config.encryption(level);
    config.trust_cert_ca(server.cert_path.display().to_string());
    let tcp = TcpStream::connect(server.addr).await?;
    tcp.set_nodelay(true)?;
    Client::connect(config, tcp.compat_write()).await
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
    let server = start(EncryptMode::Off);
    assert!(
        tiberius_client(&server, EncryptionLevel::Required, PASSWORD)
            .await
            .is_err()
    );
    let server = start(EncryptMode::On);
    assert!(
        tiberius_client(&server, EncryptionLevel::NotSupported, PASSWORD)
            .await
            .is_err()
    );
    // A TDS 8.0 server talks to nobody in plaintext.
    let server = start(EncryptMode::Strict);
    assert!(
        tiberius_client(&server, EncryptionLevel::NotSupported, PASSWORD)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn wrong_password_gets_18456() {
    let server = start(EncryptMode::On);
    let error = tiberius_client(&server, EncryptionLevel::Required, "wrong")
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), Some(18456), "{error}");
}

#[tokio::test]
async fn errors_and_login_database() {
    let server = start(EncryptMode::On);
    let mut client = tiberius_client(&server, EncryptionLevel::Required, PASSWORD)
        .await
        .unwrap();
    let error = first_error(client.simple_query("RAISERROR").await).await;
    assert_eq!(error.code(), Some(15015));
    // The connection stays usable after an error.
    let rows = client
        .simple_query("SELECT db")
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(rows[0].get::<&str, _>(0), Some("master"));
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
    let error = client.query("SELECT @P1", &[&1.5f64]).await.err().unwrap();
    assert_eq!(error.code(), Some(8009), "{error}");
    let rows = client
        .simple_query("SELECT db")
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn unencodable_reply_is_an_error_not_a_crash() {
    let server = start(EncryptMode::Off);
    let mut client = tiberius_client(&server, EncryptionLevel::NotSupported, PASSWORD)
        .await
        .unwrap();
    let error = first_error(client.simple_query("BAD VALUE").await).await;
    assert_eq!(error.code(), Some(50000));
}

#[tokio::test]
async fn disconnect_after_reply() {
    let server = start(EncryptMode::Off);
    let mut client = tiberius_client(&server, EncryptionLevel::NotSupported, PASSWORD)
        .await
        .unwrap();
    // Whether tiberius reports the cut on this request or the next, the connection is gone.
    if let Ok(stream) = client.simple_query("DROP").await {
        let _ = stream.into_results().await;
    }
    assert!(client.simple_query("SELECT db").await.is_err());
}

/// A minimal client for what tiberius cannot do on demand (ATTENTION, a small packet size).
struct RawClient {
    tcp: TcpStream,
    reader: MessageReader,
}

fn login7(user: &str, password: &str, packet_size: u32) -> Vec<u8> {
    let obfuscated: Vec<u8> = string_to_utf16(password)
        .iter()
        .map(|b| b.rotate_left(4) ^ 0xA5)
        .collect();
    let fields = [string_to_utf16("host"), string_to_utf16(user), obfuscated];
    let mut data: Vec<u8> = Vec::new();
    let mut offsets = Vec::new();
    let mut offset = 94u16;
    for field in &fields {
        offsets.extend(offset.to_le_bytes());
        offsets.extend(((field.len() / 2) as u16).to_le_bytes());
        data.extend(field);
        offset += field.len() as u16;
    }
    // The other nine offset/length pairs (and ClientID) point to the end with no data.
    for _ in 0..6 {
        offsets.extend(offset.to_le_bytes());
        offsets.extend(0u16.to_le_bytes());
    }
    offsets.extend([0u8; 6]);
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

impl RawClient {
    /// Plaintext login against an `EncryptMode::Off` server.
    async fn connect(server: &Running, packet_size: u32) -> RawClient {
        let tcp = TcpStream::connect(server.addr).await.unwrap();
        let mut client = RawClient {
            tcp,
            reader: MessageReader::new(),
        };
        let prelogin = [0x01, 0x00, 0x06, 0x00, 0x01, 0xFF, 0x02];
        client.send(packet_type::PRELOGIN, &prelogin).await;
        let reply = client.receive().await;
        // ENCRYPTION data follows the 26-byte option table and the 6-byte VERSION.
        assert_eq!(reply[32], super::prelogin::ENCRYPT_NOT_SUP);
        client
            .send(packet_type::LOGIN7, &login7("sa", PASSWORD, packet_size))
            .await;
        let response = client.receive().await;
        assert_eq!(&response[response.len() - 13..response.len() - 12], &[0xFD]);
        client
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
        .unwrap();
    assert_eq!(answer, DONE_ATTENTION);
    assert_eq!(server.attentions.load(Ordering::SeqCst), 1);
    // Still usable.
    client
        .send(packet_type::SQL_BATCH, &batch("SELECT db"))
        .await;
    assert_eq!(client.receive().await[0], 0x81);
}

#[tokio::test]
async fn attention_releases_a_stalled_request() {
    let server = start(EncryptMode::Off);
    let mut client = RawClient::connect(&server, 4096).await;
    client.send(packet_type::SQL_BATCH, &batch("STALL")).await;
    let nothing = tokio::time::timeout(Duration::from_millis(300), client.receive()).await;
    assert!(nothing.is_err(), "a stalled request must not be answered");
    client.send(packet_type::ATTENTION, &[]).await;
    assert_eq!(client.receive().await, DONE_ATTENTION);
    assert_eq!(server.attentions.load(Ordering::SeqCst), 1);
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
    tcp.write_all(&[0x12, 0x01, 0x00, 0x0A, 0, 0, 1, 0, 0x00, 0x00])
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .unwrap();
    assert!(matches!(read, Ok(0) | Err(_)));
}
