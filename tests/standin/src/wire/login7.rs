//! LOGIN7 (MS-TDS 2.2.6.4) and the login response token stream (2.2.2.2).

use super::cursor::{utf16_to_string, Cursor, Truncated};
use super::packet::{DEFAULT_PACKET_SIZE, MAX_PACKET_SIZE, MIN_PACKET_SIZE};
use super::prelogin::SERVER_VERSION;
use super::tokens;
use crate::types::{Done, DoneKind, EnvChange, ServerMessage};

/// TDS 7.4, the version the stand-in speaks unless the client asks for 7.2 or 7.3.
pub const TDS_7_4: u32 = 0x7400_0004;
/// TDS versions older than 7.4 that we can honour (all use the 7.2+ token formats).
const OLDER_SUPPORTED: [u32; 3] = [0x7209_0002, 0x730A_0003, 0x730B_0003];

const FIXED_PART_LEN: usize = 94;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login7 {
    pub tds_version: u32,
    /// As requested; 0 means "server default".
    pub packet_size: u32,
    pub host_name: String,
    pub user_name: String,
    pub password: String,
    pub app_name: String,
    pub server_name: String,
    pub language: String,
    pub database: String,
}

impl Login7 {
    /// The TDS version we answer in LOGINACK.
    pub fn answered_tds_version(&self) -> u32 {
        if OLDER_SUPPORTED.contains(&self.tds_version) {
            self.tds_version
        } else {
            TDS_7_4
        }
    }

    /// The packet size both sides use after login (the server default when the client asks 0).
    pub fn negotiated_packet_size(&self) -> usize {
        match self.packet_size as usize {
            0 => DEFAULT_PACKET_SIZE,
            size => size.clamp(MIN_PACKET_SIZE, MAX_PACKET_SIZE),
        }
    }
}

/// Passwords travel with each byte's nibbles swapped and then XORed with 0xA5 (2.2.6.4).
pub fn deobfuscate_password(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|byte| (byte ^ 0xA5).rotate_left(4))
        .collect()
}

pub fn parse(payload: &[u8]) -> Result<Login7, Truncated> {
    let mut fixed = Cursor::new(payload);
    let declared_len = fixed.u32("LOGIN7 Length")? as usize;
    if declared_len > payload.len() || declared_len < FIXED_PART_LEN {
        return Err(Truncated(format!(
            "LOGIN7 declares {declared_len} bytes but {} arrived",
            payload.len()
        )));
    }
    let tds_version = fixed.u32("TDSVersion")?;
    let packet_size = fixed.u32("PacketSize")?;
    fixed.take(12, "ClientProgVer, ClientPID, ConnectionID")?;
    fixed.take(4, "OptionFlags1, OptionFlags2, TypeFlags, OptionFlags3")?;
    fixed.take(8, "ClientTimeZone, ClientLCID")?;

    let mut field = |what: &str| -> Result<(usize, usize), Truncated> {
        Ok((fixed.u16(what)? as usize, fixed.u16(what)? as usize))
    };
    let host = field("HostName")?;
    let user = field("UserName")?;
    let password = field("Password")?;
    let app = field("AppName")?;
    let server = field("ServerName")?;
    let _extension = field("Extension")?;
    let _client_interface = field("CltIntName")?;
    let language = field("Language")?;
    let database = field("Database")?;

    let text = |(offset, chars): (usize, usize), what: &str| -> Result<Vec<u8>, Truncated> {
        payload
            .get(offset..offset + chars * 2)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| Truncated(format!("LOGIN7 {what} points outside the message")))
    };
    let string = |range, what| text(range, what).map(|bytes| utf16_to_string(&bytes));
    Ok(Login7 {
        tds_version,
        packet_size,
        host_name: string(host, "HostName")?,
        user_name: string(user, "UserName")?,
        password: utf16_to_string(&deobfuscate_password(&text(password, "Password")?)),
        app_name: string(app, "AppName")?,
        server_name: string(server, "ServerName")?,
        language: string(language, "Language")?,
        database: string(database, "Database")?,
    })
}

fn info(number: i32, state: u8, text: String, server: &str) -> ServerMessage {
    ServerMessage {
        number,
        state,
        class: 0,
        text,
        server: server.to_string(),
        procedure: String::new(),
        line: 0,
    }
}

/// What a successful login answers, in the order of the spec's example (4.4): database, 5701,
/// collation, language, packet size, 5703, LOGINACK, DONE. No FEATUREEXTACK: the feature
/// extensions clients request are all optional, and ODBC Driver 18, pytds, FreeTDS and tiberius
/// log in without one.
pub fn success_response(login: &Login7, database: &str, server_name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    tokens::env_change(
        &mut out,
        &EnvChange::Database {
            new: database.to_string(),
            old: "master".to_string(),
        },
    );
    tokens::message(
        &mut out,
        &info(
            5701,
            2,
            format!("Changed database context to '{database}'."),
            server_name,
        ),
    );
    tokens::collation_change(&mut out);
    tokens::env_change(
        &mut out,
        &EnvChange::Language {
            new: "us_english".to_string(),
            old: String::new(),
        },
    );
    tokens::env_change(
        &mut out,
        &EnvChange::PacketSize {
            new: login.negotiated_packet_size() as u32,
            old: DEFAULT_PACKET_SIZE as u32,
        },
    );
    tokens::message(
        &mut out,
        &info(
            5703,
            1,
            "Changed language setting to us_english.".to_string(),
            server_name,
        ),
    );
    tokens::login_ack(&mut out, login.answered_tds_version(), SERVER_VERSION);
    tokens::done(
        &mut out,
        &Done {
            kind: DoneKind::Done,
            status: 0,
            cur_cmd: 0,
            row_count: 0,
        },
    );
    out
}

/// A refused login: every message the engine gave, in order (18456 last), then DONE with
/// DONE_ERROR; the caller closes.
pub fn failure_response(messages: &[ServerMessage]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        tokens::message(&mut out, message);
    }
    tokens::done(
        &mut out,
        &Done {
            kind: DoneKind::Done,
            status: crate::types::done_status::ERROR,
            cur_cmd: 0,
            row_count: 0,
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-TDS 4.2 "Login Request" payload (after the 8-byte header).
    #[rustfmt::skip]
    const SPEC_LOGIN7: [u8; 136] = [
        0x88, 0x00, 0x00, 0x00, 0x02, 0x00, 0x09, 0x72, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE0, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x09, 0x04, 0x00, 0x00, 0x5E, 0x00, 0x08, 0x00, 0x6E, 0x00, 0x02, 0x00, 0x72, 0x00, 0x00, 0x00,
        0x72, 0x00, 0x07, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x04, 0x00,
        0x88, 0x00, 0x00, 0x00, 0x88, 0x00, 0x00, 0x00, 0x00, 0x50, 0x8B, 0xE2, 0xB7, 0x8F, 0x88, 0x00,
        0x00, 0x00, 0x88, 0x00, 0x00, 0x00, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x73, 0x00,
        0x6B, 0x00, 0x6F, 0x00, 0x73, 0x00, 0x74, 0x00, 0x6F, 0x00, 0x76, 0x00, 0x31, 0x00, 0x73, 0x00,
        0x61, 0x00, 0x4F, 0x00, 0x53, 0x00, 0x51, 0x00, 0x4C, 0x00, 0x2D, 0x00, 0x33, 0x00, 0x32, 0x00,
        0x4F, 0x00, 0x44, 0x00, 0x42, 0x00, 0x43, 0x00,
    ];

    #[test]
    fn parses_the_spec_example() {
        let login = parse(&SPEC_LOGIN7).unwrap();
        assert_eq!(login.tds_version, 0x7209_0002);
        assert_eq!(login.packet_size, 4096);
        assert_eq!(login.host_name, "skostov1");
        assert_eq!(login.user_name, "sa");
        assert_eq!(login.password, "");
        assert_eq!(login.app_name, "OSQL-32");
        assert_eq!(login.database, "");
        assert_eq!(login.answered_tds_version(), 0x7209_0002);
    }

    #[test]
    fn truncated_or_out_of_range_fields_are_errors() {
        assert_eq!(
            parse(&SPEC_LOGIN7[..60]),
            Err(Truncated("LOGIN7 declares 136 bytes but 60 arrived".into()))
        );
        let mut broken = SPEC_LOGIN7;
        broken[42] = 0x40; // cchUserName far beyond the message
        assert_eq!(
            parse(&broken),
            Err(Truncated(
                "LOGIN7 UserName points outside the message".into()
            ))
        );
    }

    #[test]
    fn password_deobfuscation() {
        // "a" (0x61 0x00) obfuscated: swap nibbles (0x16, 0x00) then XOR 0xA5 (0xB3, 0xA5).
        assert_eq!(deobfuscate_password(&[0xB3, 0xA5]), vec![0x61, 0x00]);
    }

    /// MS-TDS 4.4 "Login Response", with our server name in the INFO tokens and a TDS 7.2
    /// client so the LOGINACK version matches the example's `72 09 00 02`.
    #[test]
    fn login_response_matches_the_spec_example() {
        let login = parse(&SPEC_LOGIN7).unwrap();
        let ours = success_response(&login, "master", "");
        #[rustfmt::skip]
        let spec: Vec<u8> = vec![
            0xE3, 0x1B, 0x00, 0x01, 0x06, 0x6D, 0x00, 0x61, 0x00, 0x73, 0x00, 0x74, 0x00, 0x65, 0x00,
            0x72, 0x00, 0x06, 0x6D, 0x00, 0x61, 0x00, 0x73, 0x00, 0x74, 0x00, 0x65, 0x00, 0x72, 0x00,
            0xAB, 0x58, 0x00, 0x45, 0x16, 0x00, 0x00, 0x02, 0x00, 0x25, 0x00, 0x43, 0x00, 0x68, 0x00,
            0x61, 0x00, 0x6E, 0x00, 0x67, 0x00, 0x65, 0x00, 0x64, 0x00, 0x20, 0x00, 0x64, 0x00, 0x61,
            0x00, 0x74, 0x00, 0x61, 0x00, 0x62, 0x00, 0x61, 0x00, 0x73, 0x00, 0x65, 0x00, 0x20, 0x00,
            0x63, 0x00, 0x6F, 0x00, 0x6E, 0x00, 0x74, 0x00, 0x65, 0x00, 0x78, 0x00, 0x74, 0x00, 0x20,
            0x00, 0x74, 0x00, 0x6F, 0x00, 0x20, 0x00, 0x27, 0x00, 0x6D, 0x00, 0x61, 0x00, 0x73, 0x00,
            0x74, 0x00, 0x65, 0x00, 0x72, 0x00, 0x27, 0x00, 0x2E, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0xE3, 0x08, 0x00, 0x07, 0x05, 0x09, 0x04, 0xD0, 0x00, 0x34, 0x00, 0xE3, 0x17, 0x00,
            0x02, 0x0A, 0x75, 0x00, 0x73, 0x00, 0x5F, 0x00, 0x65, 0x00, 0x6E, 0x00, 0x67, 0x00, 0x6C,
            0x00, 0x69, 0x00, 0x73, 0x00, 0x68, 0x00, 0x00, 0xE3, 0x13, 0x00, 0x04, 0x04, 0x34, 0x00,
            0x30, 0x00, 0x39, 0x00, 0x36, 0x00, 0x04, 0x34, 0x00, 0x30, 0x00, 0x39, 0x00, 0x36, 0x00,
            0xAB, 0x5C, 0x00, 0x47, 0x16, 0x00, 0x00, 0x01, 0x00, 0x27, 0x00, 0x43, 0x00, 0x68, 0x00,
            0x61, 0x00, 0x6E, 0x00, 0x67, 0x00, 0x65, 0x00, 0x64, 0x00, 0x20, 0x00, 0x6C, 0x00, 0x61,
            0x00, 0x6E, 0x00, 0x67, 0x00, 0x75, 0x00, 0x61, 0x00, 0x67, 0x00, 0x65, 0x00, 0x20, 0x00,
            0x73, 0x00, 0x65, 0x00, 0x74, 0x00, 0x74, 0x00, 0x69, 0x00, 0x6E, 0x00, 0x67, 0x00, 0x20,
            0x00, 0x74, 0x00, 0x6F, 0x00, 0x20, 0x00, 0x75, 0x00, 0x73, 0x00, 0x5F, 0x00, 0x65, 0x00,
            0x6E, 0x00, 0x67, 0x00, 0x6C, 0x00, 0x69, 0x00, 0x73, 0x00, 0x68, 0x00, 0x2E, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0xAD, 0x36, 0x00, 0x01, 0x72, 0x09, 0x00, 0x02, 0x16, 0x4D,
            0x00, 0x69, 0x00, 0x63, 0x00, 0x72, 0x00, 0x6F, 0x00, 0x73, 0x00, 0x6F, 0x00, 0x66, 0x00,
            0x74, 0x00, 0x20, 0x00, 0x53, 0x00, 0x51, 0x00, 0x4C, 0x00, 0x20, 0x00, 0x53, 0x00, 0x65,
            0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0xFD, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        // The spec's ProgName is "Microsoft SQL Server" plus two NUL characters (length 0x16)
        // and ProgVersion 0.0.0.0; ours has no padding and version 16.0.1000.
        let loginack_at = spec.iter().position(|b| *b == 0xAD).unwrap();
        assert_eq!(ours[..loginack_at], spec[..loginack_at]);
        let mut ack = Vec::new();
        tokens::login_ack(&mut ack, 0x7209_0002, SERVER_VERSION);
        assert_eq!(&ack[..8], &[0xAD, 0x32, 0x00, 0x01, 0x72, 0x09, 0x00, 0x02]);
        assert_eq!(&ours[loginack_at..loginack_at + ack.len()], &ack[..]);
        assert_eq!(&ours[loginack_at + ack.len()..], &spec[spec.len() - 13..]);
    }
}
