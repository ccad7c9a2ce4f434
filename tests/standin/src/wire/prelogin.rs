//! PRELOGIN (MS-TDS 2.2.6.5): the client's options and the server's answer, including the
//! encryption negotiation table.

use crate::config::EncryptMode;

const OPTION_VERSION: u8 = 0x00;
const OPTION_ENCRYPTION: u8 = 0x01;
const OPTION_INSTOPT: u8 = 0x02;
const OPTION_THREADID: u8 = 0x03;
const OPTION_MARS: u8 = 0x04;
const OPTION_FEDAUTHREQUIRED: u8 = 0x06;
const OPTION_TERMINATOR: u8 = 0xFF;

/// ENCRYPTION option values.
pub const ENCRYPT_OFF: u8 = 0x00;
pub const ENCRYPT_ON: u8 = 0x01;
pub const ENCRYPT_NOT_SUP: u8 = 0x02;
pub const ENCRYPT_REQ: u8 = 0x03;

/// Product version announced in PRELOGIN and LOGINACK: SQL Server 2022 RTM (16.0.1000).
pub const SERVER_VERSION: [u8; 4] = [16, 0, 0x03, 0xE8];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientPrelogin {
    /// ENCRYPTION as sent; clients that omit it are treated as ENCRYPT_OFF.
    pub encryption: u8,
    pub fed_auth_required: bool,
}

pub fn parse(payload: &[u8]) -> Result<ClientPrelogin, String> {
    let mut options = ClientPrelogin {
        encryption: ENCRYPT_OFF,
        fed_auth_required: false,
    };
    let mut pos = 0;
    loop {
        let token = *payload
            .get(pos)
            .ok_or("PRELOGIN option list has no terminator")?;
        if token == OPTION_TERMINATOR {
            return Ok(options);
        }
        let entry = payload
            .get(pos + 1..pos + 5)
            .ok_or("PRELOGIN option entry is truncated")?;
        let offset = u16::from_be_bytes([entry[0], entry[1]]) as usize;
        let length = u16::from_be_bytes([entry[2], entry[3]]) as usize;
        let data = payload
            .get(offset..offset + length)
            .ok_or_else(|| format!("PRELOGIN option {token:#04x} points outside the message"))?;
        match token {
            OPTION_ENCRYPTION => {
                options.encryption = *data.first().ok_or("PRELOGIN ENCRYPTION is empty")?;
            }
            OPTION_FEDAUTHREQUIRED => options.fed_auth_required = true,
            _ => {}
        }
        pos += 5;
    }
}

/// What happens after the PRELOGIN answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Plaintext,
    /// TLS carries LOGIN7 only, then the connection continues in plaintext.
    LoginOnly,
    /// Everything after PRELOGIN is encrypted.
    Full,
    /// The answer is sent, then the connection ends (the two sides cannot agree).
    Refuse,
    /// TDS 8.0: TLS is already up, PRELOGIN travels inside it.
    AlreadyEncrypted,
}

/// The server's ENCRYPTION answer and the resulting security, per the table of 2.2.6.5.
pub fn negotiate(mode: EncryptMode, client: u8) -> (u8, Security) {
    let client_wants_tls = matches!(client, ENCRYPT_ON | ENCRYPT_REQ);
    match mode {
        EncryptMode::Off if client_wants_tls => (ENCRYPT_NOT_SUP, Security::Refuse),
        EncryptMode::Off => (ENCRYPT_NOT_SUP, Security::Plaintext),
        EncryptMode::Login if client_wants_tls => (ENCRYPT_ON, Security::Full),
        EncryptMode::Login if client == ENCRYPT_NOT_SUP => (ENCRYPT_NOT_SUP, Security::Plaintext),
        EncryptMode::Login => (ENCRYPT_OFF, Security::LoginOnly),
        EncryptMode::On if client == ENCRYPT_ON => (ENCRYPT_ON, Security::Full),
        EncryptMode::On if client == ENCRYPT_NOT_SUP => (ENCRYPT_REQ, Security::Refuse),
        EncryptMode::On => (ENCRYPT_REQ, Security::Full),
        // The PRELOGIN encryption option is not used for negotiation under TDS 8.0.
        EncryptMode::Strict => (ENCRYPT_NOT_SUP, Security::AlreadyEncrypted),
    }
}

/// The PRELOGIN answer: VERSION, ENCRYPTION, INSTOPT, THREADID (empty), MARS and
/// FEDAUTHREQUIRED only when the client sent it (ODBC Driver 18 disconnects otherwise).
pub fn reply(encryption: u8, client: &ClientPrelogin) -> Vec<u8> {
    let mut version = SERVER_VERSION.to_vec();
    version.extend([0, 0]); // sub-build
    let mut options: Vec<(u8, Vec<u8>)> = vec![
        (OPTION_VERSION, version),
        (OPTION_ENCRYPTION, vec![encryption]),
        (OPTION_INSTOPT, vec![0x00]),
        (OPTION_THREADID, Vec::new()),
        (OPTION_MARS, vec![0x00]),
    ];
    if client.fed_auth_required {
        options.push((OPTION_FEDAUTHREQUIRED, vec![0x00]));
    }
    let mut offset = options.len() * 5 + 1;
    let mut table = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    for (token, value) in &options {
        table.push(*token);
        table.extend((offset as u16).to_be_bytes());
        table.extend((value.len() as u16).to_be_bytes());
        data.extend(value);
        offset += value.len();
    }
    table.push(OPTION_TERMINATOR);
    table.extend(data);
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-TDS 4.1 "Pre-Login Request" payload (after the 8-byte header).
    const SPEC_PRELOGIN: [u8; 39] = [
        0x00, 0x00, 0x1A, 0x00, 0x06, 0x01, 0x00, 0x20, 0x00, 0x01, 0x02, 0x00, 0x21, 0x00, 0x01,
        0x03, 0x00, 0x22, 0x00, 0x04, 0x04, 0x00, 0x26, 0x00, 0x01, 0xFF, 0x09, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0xB8, 0x0D, 0x00, 0x00, 0x01,
    ];

    #[test]
    fn parses_the_spec_example() {
        let parsed = parse(&SPEC_PRELOGIN).unwrap();
        assert_eq!(
            parsed,
            ClientPrelogin {
                encryption: ENCRYPT_ON,
                fed_auth_required: false
            }
        );
    }

    #[test]
    fn rejects_offsets_outside_the_message() {
        let mut broken = SPEC_PRELOGIN;
        broken[8] = 0x7F; // ENCRYPTION length
        assert_eq!(
            parse(&broken),
            Err("PRELOGIN option 0x01 points outside the message".to_string())
        );
        // The VERSION entry's data lies past the cut.
        assert_eq!(
            parse(&SPEC_PRELOGIN[..12]),
            Err("PRELOGIN option 0x00 points outside the message".to_string())
        );
        assert_eq!(
            parse(&SPEC_PRELOGIN[..3]),
            Err("PRELOGIN option entry is truncated".to_string())
        );
    }

    #[test]
    fn reply_layout() {
        let reply = reply(ENCRYPT_REQ, &ClientPrelogin::default());
        #[rustfmt::skip]
        let expected = [
            0x00, 0x00, 0x1A, 0x00, 0x06,
            0x01, 0x00, 0x20, 0x00, 0x01,
            0x02, 0x00, 0x21, 0x00, 0x01,
            0x03, 0x00, 0x22, 0x00, 0x00,
            0x04, 0x00, 0x22, 0x00, 0x01,
            0xFF,
            0x10, 0x00, 0x03, 0xE8, 0x00, 0x00,
            0x03,
            0x00,
            0x00,
        ];
        assert_eq!(reply, expected);
    }

    #[test]
    fn fedauthrequired_only_when_asked() {
        let asked = ClientPrelogin {
            encryption: ENCRYPT_OFF,
            fed_auth_required: true,
        };
        let reply = reply(ENCRYPT_OFF, &asked);
        assert_eq!(reply[25], OPTION_FEDAUTHREQUIRED);
        assert_eq!(reply[30], OPTION_TERMINATOR);
    }

    #[test]
    fn negotiation_table() {
        use EncryptMode::*;
        assert_eq!(
            negotiate(Off, ENCRYPT_OFF),
            (ENCRYPT_NOT_SUP, Security::Plaintext)
        );
        assert_eq!(
            negotiate(Off, ENCRYPT_NOT_SUP),
            (ENCRYPT_NOT_SUP, Security::Plaintext)
        );
        assert_eq!(
            negotiate(Off, ENCRYPT_ON),
            (ENCRYPT_NOT_SUP, Security::Refuse)
        );
        assert_eq!(
            negotiate(Login, ENCRYPT_OFF),
            (ENCRYPT_OFF, Security::LoginOnly)
        );
        assert_eq!(negotiate(Login, ENCRYPT_ON), (ENCRYPT_ON, Security::Full));
        assert_eq!(
            negotiate(Login, ENCRYPT_NOT_SUP),
            (ENCRYPT_NOT_SUP, Security::Plaintext)
        );
        assert_eq!(negotiate(On, ENCRYPT_OFF), (ENCRYPT_REQ, Security::Full));
        assert_eq!(negotiate(On, ENCRYPT_ON), (ENCRYPT_ON, Security::Full));
        assert_eq!(
            negotiate(On, ENCRYPT_NOT_SUP),
            (ENCRYPT_REQ, Security::Refuse)
        );
    }
}
