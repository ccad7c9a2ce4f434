//! One client connection: PRELOGIN → (TLS) → LOGIN7 → requests, with ATTENTION and the
//! engine's fault-injection outcomes (disconnect, stall).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::login7;
use super::packet::{
    self, invalid, packet_type, Message, MessageReader, Reset, DEFAULT_PACKET_SIZE,
};
use super::prelogin::{self, Security};
use super::request;
use super::tls::PreloginFramed;
use super::tokens;
use crate::config::EncryptMode;
use crate::engine::{Instance, Session};
use crate::types::{done_status, AfterReply, Done, DoneKind, Reply, Request, ServerMessage};

/// What the connection loop needs from the engine; the engine implements it, and wire tests
/// can plug in a scripted one.
pub trait Backend: Send + Sync + 'static {
    type Session: BackendSession;
    fn server_name(&self) -> &str;
    /// Err: the messages to send, in order, before closing (SQL Server sends 4060 then 18456
    /// for a database it cannot open).
    fn login(
        &self,
        user: &str,
        password: &str,
        database: Option<&str>,
    ) -> Result<Self::Session, Vec<ServerMessage>>;
}

pub trait BackendSession: Send + 'static {
    fn database(&self) -> &str;
    fn execute(&mut self, request: Request) -> impl Future<Output = Reply> + Send;
    fn attention(&mut self);
    /// The request carried RESETCONNECTION: back to the state right after login (the open
    /// transaction rolled back unless `keep_transaction`), as `sp_reset_connection` does.
    fn reset(&mut self, keep_transaction: bool);
}

impl Backend for Arc<Instance> {
    type Session = Session;
    fn server_name(&self) -> &str {
        Instance::server_name(self)
    }
    fn login(
        &self,
        user: &str,
        password: &str,
        database: Option<&str>,
    ) -> Result<Session, Vec<ServerMessage>> {
        Instance::login(self, user, password, database)
    }
}

impl BackendSession for Session {
    fn database(&self) -> &str {
        Session::database(self)
    }
    fn execute(&mut self, request: Request) -> impl Future<Output = Reply> + Send {
        Session::execute(self, request)
    }
    fn attention(&mut self) {
        Session::attention(self)
    }
    fn reset(&mut self, keep_transaction: bool) {
        Session::reset(self, keep_transaction)
    }
}

/// Settings shared by every connection of one listener.
pub struct Listener<B> {
    pub backend: B,
    pub encrypt: EncryptMode,
    /// For TLS negotiated in PRELOGIN (TDS 7.x).
    pub tls: Arc<ServerConfig>,
    /// For TDS 8.0 strict (advertises ALPN "tds/8.0").
    pub strict_tls: Arc<ServerConfig>,
}

enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<PreloginFramed<TcpStream>>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Transport::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Transport::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Transport::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Transport::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// First byte of a TLS handshake record: a TDS 8.0 client starts with its ClientHello.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

async fn accept_tls(
    config: &Arc<ServerConfig>,
    tcp: TcpStream,
    framing: bool,
) -> io::Result<Transport> {
    let mut tls = TlsAcceptor::from(config.clone())
        .accept(PreloginFramed::new(tcp, framing))
        .await?;
    tls.get_mut().0.stop_framing()?;
    Ok(Transport::Tls(Box::new(tls)))
}

/// Runs one connection to its end. Errors are protocol violations or I/O failures; the caller
/// logs them.
pub async fn run<B: Backend>(
    listener: Arc<Listener<B>>,
    tcp: TcpStream,
    spid: u16,
) -> io::Result<()> {
    tcp.set_nodelay(true)?;
    let mut reader = MessageReader::new();
    let mut transport = if listener.encrypt == EncryptMode::Strict {
        let mut first = [0u8; 1];
        if tcp.peek(&mut first).await? == 0 {
            return Ok(());
        }
        if first[0] != TLS_HANDSHAKE_RECORD {
            return Err(invalid(
                "TDS 8.0 strict: the client did not start with TLS".into(),
            ));
        }
        accept_tls(&listener.strict_tls, tcp, false).await?
    } else {
        Transport::Plain(tcp)
    };

    let hello = packet::read_one(&mut reader, &mut transport).await?;
    expect_type(&hello, packet_type::PRELOGIN)?;
    let client = prelogin::parse(&hello.payload).map_err(invalid)?;
    let (answer, security) = prelogin::negotiate(listener.encrypt, client.encryption);
    let reply = prelogin::reply(answer, &client);
    packet::write_message(
        &mut transport,
        packet_type::TABULAR_RESULT,
        &reply,
        DEFAULT_PACKET_SIZE,
        spid,
    )
    .await?;

    match security {
        Security::Refuse => return Ok(()),
        Security::Plaintext | Security::AlreadyEncrypted => {}
        Security::LoginOnly | Security::Full => {
            if reader.has_buffered_bytes() {
                return Err(invalid(
                    "data after PRELOGIN before the TLS handshake".into(),
                ));
            }
            let Transport::Plain(tcp) = transport else {
                return Err(invalid("TLS negotiated twice".into()));
            };
            transport = accept_tls(&listener.tls, tcp, true).await?;
        }
    }

    let login_message = packet::read_one(&mut reader, &mut transport).await?;
    expect_type(&login_message, packet_type::LOGIN7)?;
    let login = login7::parse(&login_message.payload).map_err(|e| invalid(e.0))?;
    if security == Security::LoginOnly {
        // TLS protected LOGIN7 only; the rest of the connection is plaintext (2.2.6.5).
        let Transport::Tls(tls) = transport else {
            return Err(invalid("login-only TLS without TLS".into()));
        };
        transport = Transport::Plain(tls.into_inner().0.into_inner());
    }

    let database = Some(login.database.as_str()).filter(|name| !name.is_empty());
    let session = match listener
        .backend
        .login(&login.user_name, &login.password, database)
    {
        Ok(session) => session,
        Err(refusal) => {
            let reply = login7::failure_response(&refusal);
            packet::write_message(
                &mut transport,
                packet_type::TABULAR_RESULT,
                &reply,
                DEFAULT_PACKET_SIZE,
                spid,
            )
            .await?;
            return Ok(());
        }
    };
    let response =
        login7::success_response(&login, session.database(), listener.backend.server_name());
    packet::write_message(
        &mut transport,
        packet_type::TABULAR_RESULT,
        &response,
        DEFAULT_PACKET_SIZE,
        spid,
    )
    .await?;

    let mut connection = Connection {
        transport,
        reader,
        session,
        packet_size: login.negotiated_packet_size(),
        spid,
        server_name: listener.backend.server_name().to_string(),
        pending_reset_ack: false,
    };
    connection.serve_requests().await
}

fn expect_type(message: &Message, ty: u8) -> io::Result<()> {
    if message.ty == ty {
        Ok(())
    } else {
        Err(invalid(format!(
            "expected packet type {ty:#04x}, got {:#04x}",
            message.ty
        )))
    }
}

struct Connection<S> {
    transport: Transport,
    reader: MessageReader,
    session: S,
    packet_size: usize,
    spid: u16,
    server_name: String,
    /// A reset was done and its ENVCHANGE (type 18) not yet sent.
    pending_reset_ack: bool,
}

enum Outcome {
    Answered(Reply),
    Attention,
    ClientGone,
}

const ATTENTION_ACK: Done = Done {
    kind: DoneKind::Done,
    status: done_status::ATTN,
    cur_cmd: 0,
    row_count: 0,
};

impl<S: BackendSession> Connection<S> {
    async fn serve_requests(&mut self) -> io::Result<()> {
        while let Some(message) = self.reader.next_message(&mut self.transport).await? {
            let reset = message.reset();
            if reset != Reset::None && message.ty != packet_type::ATTENTION {
                self.session.reset(reset == Reset::KeepTransaction);
                // The acknowledgement opens the reply of the request that asked for it.
                self.pending_reset_ack = true;
            }
            let request = match message.ty {
                packet_type::SQL_BATCH => request::sql_batch(&message.payload),
                packet_type::RPC => request::rpc(&message.payload),
                packet_type::TRANSACTION_MANAGER => request::transaction_manager(&message.payload),
                // Nothing is running: acknowledge, as the server does for a late attention.
                packet_type::ATTENTION => {
                    self.send_done(ATTENTION_ACK).await?;
                    continue;
                }
                other => return Err(invalid(format!("unexpected packet type {other:#04x}"))),
            };
            match request {
                Ok(request) => {
                    if !self.run(request).await? {
                        return Ok(());
                    }
                }
                Err(error) => self.send_error(error.to_message(&self.server_name)).await?,
            }
        }
        Ok(())
    }

    /// Runs one request; `false` when the connection must end.
    async fn run(&mut self, request: Request) -> io::Result<bool> {
        let Connection {
            transport,
            reader,
            session,
            ..
        } = self;
        let outcome = {
            let execution = session.execute(request);
            tokio::pin!(execution);
            tokio::select! {
                reply = &mut execution => Outcome::Answered(reply),
                incoming = reader.next_message(transport) => match incoming? {
                    Some(message) if message.ty == packet_type::ATTENTION => Outcome::Attention,
                    Some(message) => {
                        return Err(invalid(format!(
                            "packet type {:#04x} while a request is running",
                            message.ty
                        )))
                    }
                    None => Outcome::ClientGone,
                },
            }
        };
        match outcome {
            Outcome::ClientGone => Ok(false),
            Outcome::Attention => self.acknowledge_attention().await.map(|()| true),
            Outcome::Answered(reply) => match reply.after {
                AfterReply::Continue => self.send_items(&reply).await.map(|()| true),
                AfterReply::Disconnect => self.send_items(&reply).await.map(|()| false),
                AfterReply::Stall => self.stall().await,
            },
        }
    }

    /// A stalled request answers nothing until the client gives up (closes) or sends ATTENTION.
    async fn stall(&mut self) -> io::Result<bool> {
        match self.reader.next_message(&mut self.transport).await? {
            Some(message) if message.ty == packet_type::ATTENTION => {
                self.acknowledge_attention().await.map(|()| true)
            }
            Some(message) => Err(invalid(format!(
                "packet type {:#04x} while a request is stalled",
                message.ty
            ))),
            None => Ok(false),
        }
    }

    async fn acknowledge_attention(&mut self) -> io::Result<()> {
        self.session.attention();
        self.send_done(ATTENTION_ACK).await
    }

    async fn send_items(&mut self, reply: &Reply) -> io::Result<()> {
        match tokens::items(&reply.items) {
            Ok(bytes) => self.send(&bytes).await,
            Err(error) => {
                eprintln!("tds-standin: engine reply not encodable: {error}");
                self.send_error(ServerMessage {
                    number: 50000,
                    state: 1,
                    class: 16,
                    text: format!("The stand-in could not encode its reply: {error}."),
                    server: self.server_name.clone(),
                    procedure: String::new(),
                    line: 0,
                })
                .await
            }
        }
    }

    async fn send_error(&mut self, message: ServerMessage) -> io::Result<()> {
        let mut bytes = Vec::new();
        tokens::message(&mut bytes, &message);
        tokens::done(
            &mut bytes,
            &Done {
                kind: DoneKind::Done,
                status: done_status::ERROR,
                cur_cmd: 0,
                row_count: 0,
            },
        );
        self.send(&bytes).await
    }

    async fn send_done(&mut self, done: Done) -> io::Result<()> {
        let mut bytes = Vec::new();
        tokens::done(&mut bytes, &done);
        self.send(&bytes).await
    }

    async fn send(&mut self, tokens: &[u8]) -> io::Result<()> {
        let mut acknowledged;
        let tokens = if std::mem::take(&mut self.pending_reset_ack) {
            acknowledged = Vec::with_capacity(tokens.len() + 6);
            tokens::reset_connection_ack(&mut acknowledged);
            acknowledged.extend_from_slice(tokens);
            &acknowledged[..]
        } else {
            tokens
        };
        packet::write_message(
            &mut self.transport,
            packet_type::TABULAR_RESULT,
            tokens,
            self.packet_size,
            self.spid,
        )
        .await
    }
}
