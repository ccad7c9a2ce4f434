//! TDS packets (MS-TDS 2.2.3): the 8-byte header, message reassembly and splitting replies at the
//! negotiated packet size.

use bytes::{Buf, BufMut, BytesMut};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const HEADER_LEN: usize = 8;

/// Packet types of MS-TDS 2.2.3.1.1.
pub mod packet_type {
    pub const SQL_BATCH: u8 = 0x01;
    pub const RPC: u8 = 0x03;
    pub const TABULAR_RESULT: u8 = 0x04;
    pub const ATTENTION: u8 = 0x06;
    pub const TRANSACTION_MANAGER: u8 = 0x0E;
    pub const LOGIN7: u8 = 0x10;
    pub const PRELOGIN: u8 = 0x12;
}

/// Status bit: last packet of a message.
pub const STATUS_END_OF_MESSAGE: u8 = 0x01;
/// Status bit (client to server, first packet of a request): reset the session before running
/// it, as `sp_reset_connection` does; a pool sets it on the first request of a reused connection.
pub const STATUS_RESET_CONNECTION: u8 = 0x08;
/// The same reset that keeps the transaction (the connection is enlisted in a distributed one).
pub const STATUS_RESET_CONNECTION_SKIP_TRAN: u8 = 0x10;

/// The packet size before LOGIN7 negotiates another (and the server's default).
pub const DEFAULT_PACKET_SIZE: usize = 4096;
/// Bounds SQL Server accepts for the `network packet size` a client asks for.
pub const MIN_PACKET_SIZE: usize = 512;
pub const MAX_PACKET_SIZE: usize = 32767;

/// Messages above this size are refused rather than buffered (no test needs more).
const MAX_MESSAGE_LEN: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub ty: u8,
    pub status: u8,
    /// Whole packet length, header included.
    pub length: usize,
}

impl Header {
    pub fn parse(bytes: &[u8]) -> io::Result<Header> {
        let length = u16::from_be_bytes([bytes[2], bytes[3]]) as usize;
        if length < HEADER_LEN {
            return Err(invalid(format!(
                "packet length {length} is shorter than its header"
            )));
        }
        Ok(Header {
            ty: bytes[0],
            status: bytes[1],
            length,
        })
    }
}

/// A whole client message (all its packets joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub ty: u8,
    /// Status byte of the message's first packet (the reset bits live there).
    pub status: u8,
    pub payload: BytesMut,
}

/// What a request asks to reset before it runs (MS-TDS 2.2.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    None,
    Connection,
    /// RESETCONNECTIONSKIPTRAN: everything but the open transaction.
    KeepTransaction,
}

impl Message {
    pub fn reset(&self) -> Reset {
        if self.status & STATUS_RESET_CONNECTION_SKIP_TRAN != 0 {
            Reset::KeepTransaction
        } else if self.status & STATUS_RESET_CONNECTION != 0 {
            Reset::Connection
        } else {
            Reset::None
        }
    }
}

/// Reads packets and joins them into messages. Cancel-safe: everything read so far stays in
/// `self`, so a pending read can be dropped (e.g. in `select!`) and resumed later.
#[derive(Default)]
pub struct MessageReader {
    raw: BytesMut,
    partial: Option<Message>,
}

impl MessageReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes already read from the socket but not yet consumed.
    pub fn has_buffered_bytes(&self) -> bool {
        !self.raw.is_empty() || self.partial.is_some()
    }

    /// The next complete message, or `None` when the peer closed the connection between messages.
    pub async fn next_message<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> io::Result<Option<Message>> {
        loop {
            while let Some((header, payload)) = self.take_packet()? {
                let message = self.partial.get_or_insert_with(|| Message {
                    ty: header.ty,
                    status: header.status,
                    payload: BytesMut::new(),
                });
                if message.ty != header.ty {
                    return Err(invalid(format!(
                        "packet type {:#04x} inside a message of type {:#04x}",
                        header.ty, message.ty
                    )));
                }
                if message.payload.len() + payload.len() > MAX_MESSAGE_LEN {
                    return Err(invalid("message too large".to_string()));
                }
                message.payload.extend_from_slice(&payload);
                if header.status & STATUS_END_OF_MESSAGE != 0 {
                    return Ok(self.partial.take());
                }
            }
            if io.read_buf(&mut self.raw).await? == 0 {
                return if self.has_buffered_bytes() {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed mid-message",
                    ))
                } else {
                    Ok(None)
                };
            }
        }
    }

    fn take_packet(&mut self) -> io::Result<Option<(Header, BytesMut)>> {
        if self.raw.len() < HEADER_LEN {
            return Ok(None);
        }
        let header = Header::parse(&self.raw[..HEADER_LEN])?;
        if self.raw.len() < header.length {
            return Ok(None);
        }
        let mut packet = self.raw.split_to(header.length);
        packet.advance(HEADER_LEN);
        Ok(Some((header, packet)))
    }
}

/// Splits `payload` into packets of at most `packet_size` bytes (header included).
pub fn frame(ty: u8, payload: &[u8], packet_size: usize, spid: u16) -> Vec<u8> {
    let chunk_len = packet_size.max(MIN_PACKET_SIZE) - HEADER_LEN;
    let chunk_count = payload.len().div_ceil(chunk_len).max(1);
    let mut out = BytesMut::with_capacity(payload.len() + chunk_count * HEADER_LEN);
    for index in 0..chunk_count {
        let chunk = &payload[index * chunk_len..payload.len().min((index + 1) * chunk_len)];
        let last = index + 1 == chunk_count;
        out.put_u8(ty);
        out.put_u8(if last { STATUS_END_OF_MESSAGE } else { 0 });
        out.put_u16((chunk.len() + HEADER_LEN) as u16);
        out.put_u16(spid);
        // PacketID counts from 1 and wraps (MS-TDS 2.2.3.1.5).
        out.put_u8(((index + 1) % 256) as u8);
        out.put_u8(0);
        out.put_slice(chunk);
    }
    out.to_vec()
}

pub async fn write_message<W: AsyncWrite + Unpin>(
    io: &mut W,
    ty: u8,
    payload: &[u8],
    packet_size: usize,
    spid: u16,
) -> io::Result<()> {
    io.write_all(&frame(ty, payload, packet_size, spid)).await?;
    io.flush().await
}

pub fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads exactly one message; used where nothing can interleave (PRELOGIN, LOGIN7).
pub async fn read_one<R: AsyncRead + Unpin>(
    reader: &mut MessageReader,
    io: &mut R,
) -> io::Result<Message> {
    reader
        .next_message(io)
        .await?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "client closed the connection"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn joins_packets_into_one_message() {
        let mut wire = frame(packet_type::SQL_BATCH, &[7u8; 1000], 512, 0);
        wire.extend(frame(packet_type::ATTENTION, &[], 512, 0));
        let mut reader = MessageReader::new();
        let mut io = &wire[..];
        let first = read_one(&mut reader, &mut io).await.unwrap();
        assert_eq!(first.ty, packet_type::SQL_BATCH);
        assert_eq!(&first.payload[..], &[7u8; 1000][..]);
        let second = read_one(&mut reader, &mut io).await.unwrap();
        assert_eq!(second.ty, packet_type::ATTENTION);
        assert!(reader.next_message(&mut io).await.unwrap().is_none());
    }

    #[test]
    fn splits_at_packet_size_with_end_of_message_on_the_last() {
        let framed = frame(packet_type::TABULAR_RESULT, &[1u8; 1200], 512, 53);
        // 504 + 504 + 192 payload bytes.
        assert_eq!(framed.len(), 1200 + 3 * HEADER_LEN);
        assert_eq!(
            &framed[..8],
            &[0x04, 0x00, 0x02, 0x00, 0x00, 0x35, 0x01, 0x00]
        );
        assert_eq!(
            &framed[512..520],
            &[0x04, 0x00, 0x02, 0x00, 0x00, 0x35, 0x02, 0x00]
        );
        assert_eq!(
            &framed[1024..1032],
            &[0x04, 0x01, 0x00, 0xC8, 0x00, 0x35, 0x03, 0x00]
        );
    }

    #[test]
    fn empty_payload_is_one_packet() {
        assert_eq!(
            frame(packet_type::ATTENTION, &[], 4096, 0),
            vec![6, 1, 0, 8, 0, 0, 1, 0]
        );
    }

    #[tokio::test]
    async fn rejects_a_length_shorter_than_the_header() {
        let wire = [0x01u8, 0x01, 0x00, 0x04, 0, 0, 1, 0];
        let mut io = &wire[..];
        let error = MessageReader::new()
            .next_message(&mut io)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            error.to_string(),
            "packet length 4 is shorter than its header"
        );
    }
}
