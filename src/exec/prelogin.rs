//! Reads the server's PRELOGIN answer as it passes to the driver, on the one connection that
//! logs in (no probe connection): its ENCRYPTION option tells a server that cannot encrypt
//! (refused unless `Encrypt=DANGER_PLAINTEXT`) and whether TLS covers the login only or the
//! whole session. tiberius keeps that answer to itself.
//!
//! [`Observed`] wraps the socket and copies the first TDS packet the server sends until it is
//! complete; afterwards every read passes straight through. Under `Encrypt=strict` the first
//! bytes are TLS, not a PRELOGIN packet, and nothing is recorded.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// TDS packet type of a server's PRELOGIN answer (MS-TDS 2.2.3.1.1: tabular result).
const TABULAR_RESULT: u8 = 0x04;
/// PRELOGIN option token ENCRYPTION (MS-TDS 2.2.6.5).
const ENCRYPTION: u8 = 0x01;
const TERMINATOR: u8 = 0xFF;
const HEADER_LEN: usize = 8;
/// A PRELOGIN answer is a few dozen bytes; anything longer is not one.
const MAX_PRELOGIN: usize = 4096;

/// PRELOGIN ENCRYPTION values (MS-TDS 2.2.6.5).
pub(crate) const ENCRYPT_OFF: u8 = 0;
pub(crate) const ENCRYPT_ON: u8 = 1;
pub(crate) const ENCRYPT_NOT_SUP: u8 = 2;
pub(crate) const ENCRYPT_REQ: u8 = 3;

/// The server's ENCRYPTION answer, once seen (`None` inside: no PRELOGIN answer was seen).
pub(crate) type ServerEncryption = Arc<OnceLock<Option<u8>>>;

/// A socket whose first incoming TDS packet is read as a PRELOGIN answer.
pub(crate) struct Observed<S> {
    inner: S,
    first_packet: Vec<u8>,
    answer: ServerEncryption,
}

impl<S> Observed<S> {
    pub(crate) fn new(inner: S) -> (Observed<S>, ServerEncryption) {
        let answer = ServerEncryption::default();
        let observed = Observed {
            inner,
            first_packet: Vec::new(),
            answer: Arc::clone(&answer),
        };
        (observed, answer)
    }

    fn observe(&mut self, bytes: &[u8]) {
        self.first_packet.extend_from_slice(bytes);
        if self.first_packet.len() < HEADER_LEN {
            return;
        }
        let length = usize::from(u16::from_be_bytes([
            self.first_packet[2],
            self.first_packet[3],
        ]));
        if self.first_packet[0] != TABULAR_RESULT || !(HEADER_LEN..=MAX_PRELOGIN).contains(&length)
        {
            self.finish(None);
        } else if self.first_packet.len() >= length {
            let found = encryption_option(&self.first_packet[HEADER_LEN..length]);
            self.finish(found);
        }
    }

    fn finish(&mut self, found: Option<u8>) {
        let _ = self.answer.set(found);
        self.first_packet = Vec::new();
    }
}

/// The ENCRYPTION value of a PRELOGIN payload: option entries of 5 bytes (token, offset,
/// length, both big-endian) up to a terminator, offsets counted from the payload start.
fn encryption_option(payload: &[u8]) -> Option<u8> {
    payload
        .chunks(5)
        .take_while(|entry| entry.first() != Some(&TERMINATOR) && entry.len() == 5)
        .find(|entry| entry[0] == ENCRYPTION)
        .and_then(|entry| {
            let offset = usize::from(u16::from_be_bytes([entry[1], entry[2]]));
            payload.get(offset).copied()
        })
}

impl<S: AsyncRead + Unpin> AsyncRead for Observed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if this.answer.get().is_none() {
            if let Poll::Ready(Ok(())) = poll {
                let new = &buf.filled()[before..];
                if new.is_empty() {
                    this.finish(None);
                } else {
                    this.observe(new);
                }
            }
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Observed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A PRELOGIN answer: VERSION (6 bytes) and ENCRYPTION (1 byte).
    fn answer(encryption: u8) -> Vec<u8> {
        let payload = [
            0x00, 0, 11, 0, 6, ENCRYPTION, 0, 17, 0, 1, TERMINATOR, 16, 0, 0x03, 0xE8, 0, 0,
            encryption,
        ];
        let mut packet = vec![
            TABULAR_RESULT,
            1,
            0,
            (HEADER_LEN + payload.len()) as u8,
            0,
            0,
            1,
            0,
        ];
        packet.extend_from_slice(&payload);
        packet
    }

    async fn observe_in_pieces(bytes: Vec<u8>, piece: usize) -> (Vec<u8>, Option<Option<u8>>) {
        let (client, mut server) = tokio::io::duplex(64);
        let (mut observed, seen) = Observed::new(client);
        let writer = tokio::spawn(async move {
            for chunk in bytes.chunks(piece) {
                tokio::io::AsyncWriteExt::write_all(&mut server, chunk)
                    .await
                    .unwrap();
            }
        });
        let mut read = Vec::new();
        observed.read_to_end(&mut read).await.unwrap();
        writer.await.unwrap();
        (read, seen.get().copied())
    }

    #[tokio::test]
    async fn finds_the_encryption_answer_however_the_bytes_arrive() {
        for piece in [1, 3, 8, 100] {
            let mut bytes = answer(ENCRYPT_NOT_SUP);
            bytes.extend_from_slice(b"rest of the stream");
            let (read, seen) = observe_in_pieces(bytes.clone(), piece).await;
            assert_eq!(read, bytes, "bytes pass through unchanged");
            assert_eq!(seen, Some(Some(ENCRYPT_NOT_SUP)), "piece {piece}");
        }
    }

    #[tokio::test]
    async fn a_tls_record_first_is_not_a_prelogin_answer() {
        let (_, seen) = observe_in_pieces(vec![0x16, 3, 3, 0, 40, 1, 2, 3, 4], 4).await;
        assert_eq!(seen, Some(None));
    }
}
