//! TLS for the stand-in: a self-signed certificate made at start, rustls server configs (TLS 1.2
//! only: a TLS 1.3 server sends session tickets after the handshake, which clients would still
//! expect inside PRELOGIN packets), and the adapter that carries handshake records in PRELOGIN
//! (0x12) packets as MS-TDS 2.2.6.5 asks for TDS 7.x.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BytesMut};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::NoServerSessionStorage;
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::packet::packet_type::PRELOGIN;
use super::packet::{frame, Header, DEFAULT_PACKET_SIZE, HEADER_LEN};

/// ALPN protocol of TDS 8.0 (strict encryption).
const TDS_8_ALPN: &[u8] = b"tds/8.0";

pub struct ServerIdentity {
    pub cert_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl ServerIdentity {
    /// Self-signed for localhost, 127.0.0.1, ::1 and the host part of the server name.
    pub fn generate(server_name: &str) -> io::Result<ServerIdentity> {
        let mut names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        let host = server_name
            .split('\\')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let is_dns_name = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if is_dns_name && !names.contains(&host) {
            names.push(host);
        }
        let mut params = rcgen::CertificateParams::new(names).map_err(io::Error::other)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, server_name);
        let key = rcgen::KeyPair::generate().map_err(io::Error::other)?;
        let cert = params.self_signed(&key).map_err(io::Error::other)?;
        Ok(ServerIdentity {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// `strict` advertises the TDS 8.0 ALPN protocol.
    pub fn server_config(&self, strict: bool) -> io::Result<Arc<ServerConfig>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS12])
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], key)
            .map_err(io::Error::other)?;
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        if strict {
            config.alpn_protocols = vec![TDS_8_ALPN.to_vec()];
        }
        Ok(Arc::new(config))
    }
}

/// Wraps the socket under rustls. While `framing` is on, TLS bytes travel as the payload of
/// PRELOGIN packets (one message per flushed flight); afterwards they pass through untouched.
pub struct PreloginFramed<S> {
    inner: S,
    framing: bool,
    raw_in: BytesMut,
    tls_in: BytesMut,
    tls_out: Vec<u8>,
    framed_out: BytesMut,
}

impl<S> PreloginFramed<S> {
    pub fn new(inner: S, framing: bool) -> Self {
        PreloginFramed {
            inner,
            framing,
            raw_in: BytesMut::new(),
            tls_in: BytesMut::new(),
            tls_out: Vec::new(),
            framed_out: BytesMut::new(),
        }
    }

    /// Called once the handshake is done: records flow raw from now on.
    pub fn stop_framing(&mut self) -> io::Result<()> {
        if !self.raw_in.is_empty() || !self.tls_in.is_empty() || !self.framed_out.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "client sent data before the TLS handshake finished",
            ));
        }
        self.framing = false;
        Ok(())
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Moves complete PRELOGIN packets' payloads from `raw_in` to `tls_in`.
    fn unframe(&mut self) -> io::Result<()> {
        while self.raw_in.len() >= HEADER_LEN {
            let header = Header::parse(&self.raw_in[..HEADER_LEN])?;
            if self.raw_in.len() < header.length {
                break;
            }
            if header.ty != PRELOGIN {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("packet type {:#04x} during the TLS handshake", header.ty),
                ));
            }
            let mut packet = self.raw_in.split_to(header.length);
            packet.advance(HEADER_LEN);
            self.tls_in.extend_from_slice(&packet);
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PreloginFramed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.framing {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        loop {
            if !this.tls_in.is_empty() {
                let len = this.tls_in.len().min(buf.remaining());
                buf.put_slice(&this.tls_in.split_to(len));
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 4096];
            let mut chunk_buf = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut chunk_buf))?;
            if chunk_buf.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
            this.raw_in.extend_from_slice(chunk_buf.filled());
            this.unframe()?;
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PreloginFramed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.framing {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        this.tls_out.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.framed_out.is_empty() && !this.tls_out.is_empty() {
            let flight = std::mem::take(&mut this.tls_out);
            this.framed_out
                .extend(frame(PRELOGIN, &flight, DEFAULT_PACKET_SIZE, 0));
        }
        while !this.framed_out.is_empty() {
            let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &this.framed_out))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.framed_out.advance(written);
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
