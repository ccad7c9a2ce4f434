//! ADO.NET connection strings, parsed here rather than by tiberius (whose parser takes ASCII
//! only, has no `Connect Timeout` and no doubled-quote escapes), then turned into a
//! `tiberius::Config`.
//!
//! Syntax (as `DbConnectionStringBuilder`): `key=value` pairs separated by `;`; keys are
//! case-insensitive and trimmed (`==` inside a key is a literal `=`); a value may be quoted with
//! `'` or `"` (then it may hold `;`, and the quote character doubled stands for itself);
//! unquoted values are trimmed; a repeated key overrides the earlier one; unknown keys are an
//! error. The password is held in `Zeroizing` and never appears in errors or `Debug`; the
//! driver's `Config` built for each connect holds its own plain copy until the login is done.

use std::path::PathBuf;
use std::time::Duration;

use tiberius::{AuthMethod, Config, EncryptionLevel};
use zeroize::Zeroizing;

use crate::error::{Error, Status};

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_APPLICATION_NAME: &str = "linkedsrv";

/// The `Encrypt` keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encrypt {
    /// `true`, `yes`, `mandatory` (the default): everything encrypted, certificate validated.
    Mandatory,
    /// `false`, `no`, `optional`: TLS at least for the login (the whole session when the
    /// server asks for it), on one connection; a server that cannot encrypt is refused
    /// (unlike SqlClient, which would send the login in clear). The certificate is validated
    /// during the login handshake.
    Optional,
    /// `strict`: TDS 8.0, TLS before any TDS traffic; the certificate is always validated
    /// (`TrustServerCertificate` does not apply, as in SqlClient; `ServerCertificate` and
    /// `HostNameInCertificate` do).
    Strict,
    /// `DANGER_PLAINTEXT` (tiberius' spelling): no TLS at all, not even for the login. The only
    /// way to reach a server that does not support encryption; the password crosses in clear.
    Plaintext,
}

/// How the management connection logs in. Debug never shows the password.
pub enum Authentication {
    SqlLogin {
        user: String,
        password: Zeroizing<String>,
    },
    /// `Integrated Security=SSPI`: the current Windows user (tiberius: NTLM via SSPI).
    Integrated,
}

impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Authentication::SqlLogin { user, .. } => f
                .debug_struct("SqlLogin")
                .field("user", user)
                .field("password", &"<redacted>")
                .finish(),
            Authentication::Integrated => f.write_str("Integrated"),
        }
    }
}

/// A parsed connection string.
#[derive(Debug)]
pub struct ConnectionSettings {
    pub host: String,
    /// `None`: 1433, or the port SQL Browser reports for a named instance.
    pub port: Option<u16>,
    pub instance: Option<String>,
    pub database: Option<String>,
    pub authentication: Authentication,
    pub encrypt: Encrypt,
    /// Always false under `Encrypt=strict`, which validates the certificate regardless.
    pub trust_server_certificate: bool,
    /// `ServerCertificate`: a PEM or DER certificate to trust in addition to the system store.
    pub server_certificate: Option<PathBuf>,
    pub host_name_in_certificate: Option<String>,
    /// Bounds TCP connect plus the TLS and login handshake; `None` = wait forever (`0`).
    pub connect_timeout: Option<Duration>,
    /// Bounds each request; `None` = wait forever (`0`).
    pub command_timeout: Option<Duration>,
    pub application_name: String,
}

/// The keywords we accept, after synonyms are folded together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Server,
    Database,
    UserId,
    Password,
    IntegratedSecurity,
    Encrypt,
    TrustServerCertificate,
    ServerCertificate,
    HostNameInCertificate,
    ConnectTimeout,
    CommandTimeout,
    ApplicationName,
}

impl Keyword {
    fn from_key(key: &str) -> Option<Keyword> {
        Some(match key {
            "server" | "data source" | "address" | "addr" | "network address" => Keyword::Server,
            "database" | "initial catalog" => Keyword::Database,
            "user id" | "uid" | "user" => Keyword::UserId,
            "password" | "pwd" => Keyword::Password,
            "integrated security" | "trusted_connection" => Keyword::IntegratedSecurity,
            "encrypt" => Keyword::Encrypt,
            "trustservercertificate" | "trust server certificate" => {
                Keyword::TrustServerCertificate
            }
            "servercertificate" | "server certificate" => Keyword::ServerCertificate,
            "hostnameincertificate" | "host name in certificate" => Keyword::HostNameInCertificate,
            "connect timeout" | "connection timeout" | "timeout" => Keyword::ConnectTimeout,
            "command timeout" => Keyword::CommandTimeout,
            "application name" | "app" => Keyword::ApplicationName,
            _ => return None,
        })
    }
}

/// One `key=value` pair; the value may be the password (and a "key" may be the part of an
/// unquoted password after a `;`), so both are zeroised on drop.
struct Pair {
    key: Zeroizing<String>,
    value: Zeroizing<String>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_argument(message)
}

/// Splits the string into pairs. Errors name positions and keys, never values.
fn split_pairs(text: &str) -> Result<Vec<Pair>, Error> {
    // Copies of the text are wiped on drop. Each buffer gets its final capacity up front (a
    // byte count is at least the char count) because growing one would free the old
    // allocation without wiping it.
    let mut chars = Zeroizing::new(Vec::with_capacity(text.len()));
    chars.extend(text.chars());
    let mut pairs = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && (chars[i] == ';' || chars[i].is_whitespace()) {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut key = Zeroizing::new(String::with_capacity(text.len()));
        loop {
            match chars.get(i) {
                None | Some(';') => {
                    return Err(invalid(format!(
                        "connection string: expected 'keyword=value' at character {}{}",
                        i,
                        after_password_hint(&pairs)
                    )))
                }
                Some('=') if chars.get(i + 1) == Some(&'=') => {
                    key.push('=');
                    i += 2;
                }
                Some('=') => {
                    i += 1;
                    break;
                }
                Some(c) => {
                    key.push(*c);
                    i += 1;
                }
            }
        }
        let joined = Zeroizing::new(key.split_whitespace().collect::<Vec<_>>().join(" "));
        let key = Zeroizing::new(joined.to_lowercase());
        if key.is_empty() {
            return Err(invalid(format!(
                "connection string: empty keyword at character {i}"
            )));
        }
        while i < chars.len() && chars[i].is_whitespace() && chars[i] != ';' {
            i += 1;
        }
        let mut value = Zeroizing::new(String::with_capacity(text.len()));
        match chars.get(i) {
            Some(&quote) if quote == '"' || quote == '\'' => {
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(invalid(format!(
                            "connection string: the quoted value of '{}' has no closing {quote}",
                            key.as_str()
                        )))
                        }
                        Some(&c) if c == quote && chars.get(i + 1) == Some(&quote) => {
                            value.push(quote);
                            i += 2;
                        }
                        Some(&c) if c == quote => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            value.push(c);
                            i += 1;
                        }
                    }
                }
                while i < chars.len() && chars[i].is_whitespace() {
                    i += 1;
                }
                if i < chars.len() && chars[i] != ';' {
                    return Err(invalid(format!(
                        "connection string: unexpected text after the quoted value of '{}'",
                        key.as_str()
                    )));
                }
            }
            _ => {
                while i < chars.len() && chars[i] != ';' {
                    value.push(chars[i]);
                    i += 1;
                }
                let trimmed_len = value.trim_end().len();
                value.truncate(trimmed_len);
            }
        }
        pairs.push(Pair { key, value });
    }
    Ok(pairs)
}

/// An unexpected token right after a password usually means an unquoted `;` inside it; say
/// so instead of echoing what may be the rest of the password.
fn after_password_hint(pairs: &[Pair]) -> &'static str {
    match pairs.last() {
        Some(pair) if Keyword::from_key(&pair.key) == Some(Keyword::Password) => {
            " (after the password: a password containing ';' must be quoted)"
        }
        _ => "",
    }
}

fn parse_bool(key: &str, value: &str) -> Result<bool, Error> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err(invalid(format!(
            "connection string: '{key}' must be true or false, not '{value}'"
        ))),
    }
}

fn parse_seconds(key: &str, value: &str) -> Result<Option<Duration>, Error> {
    let seconds: u32 = value.parse().map_err(|_| {
        invalid(format!(
            "connection string: '{key}' must be a whole number of seconds, not '{value}'"
        ))
    })?;
    Ok((seconds > 0).then(|| Duration::from_secs(seconds.into())))
}

fn parse_encrypt(value: &str) -> Result<Encrypt, Error> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "mandatory" => Ok(Encrypt::Mandatory),
        "false" | "no" | "optional" => Ok(Encrypt::Optional),
        "strict" => Ok(Encrypt::Strict),
        "danger_plaintext" => Ok(Encrypt::Plaintext),
        _ => Err(invalid(format!(
            "connection string: 'Encrypt' must be true/mandatory/yes, false/optional/no, strict or \
             DANGER_PLAINTEXT, not '{value}'"
        ))),
    }
}

/// `tcp:host,port`, `host\instance`, `host`; `.` and `(local)` mean localhost.
fn parse_server(value: &str) -> Result<(String, Option<u16>, Option<String>), Error> {
    let mut rest = value.trim();
    if let Some((protocol, address)) = rest.split_once(':') {
        // A bare IPv6 address also contains ':', but never a known protocol prefix.
        match protocol.trim().to_ascii_lowercase().as_str() {
            "tcp" => rest = address.trim(),
            "np" | "lpc" | "admin" => {
                return Err(Error::new(
                    Status::Unsupported,
                    format!("connection string: protocol '{protocol}:' is not supported; use tcp:"),
                ))
            }
            _ => {}
        }
    }
    let (address, port) = match rest.rsplit_once(',') {
        Some((address, port)) => {
            let port = port
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| {
                    invalid(format!(
                        "connection string: '{}' is not a valid TCP port",
                        port.trim()
                    ))
                })?;
            (address.trim(), Some(port))
        }
        None => (rest, None),
    };
    let (host, instance) = match address.split_once('\\') {
        Some((host, instance)) if !instance.trim().is_empty() => {
            (host.trim(), Some(instance.trim().to_string()))
        }
        Some(_) => return Err(invalid("connection string: empty instance name after '\\'")),
        None => (address, None),
    };
    let host = match host {
        "" => return Err(invalid("connection string: 'Server' names no host")),
        "." | "(local)" => "localhost",
        host => unbracketed(host)?,
    };
    Ok((host.to_string(), port, instance))
}

/// `[::1]` → `::1`: an IPv6 literal is kept without brackets (the form TLS name checks and
/// socket addresses are built from). A bare `::1` is taken as it is.
fn unbracketed(host: &str) -> Result<&str, Error> {
    match host.strip_prefix('[') {
        None if !host.contains(']') => Ok(host),
        Some(inner) => match inner.strip_suffix(']') {
            Some(address) if address.parse::<std::net::Ipv6Addr>().is_ok() => Ok(address),
            _ => Err(invalid(format!(
                "connection string: '{host}' is not a bracketed IPv6 address"
            ))),
        },
        None => Err(invalid(format!(
            "connection string: '{host}' is not a bracketed IPv6 address"
        ))),
    }
}

/// `host` ready to be followed by `:port`: an IPv6 literal in brackets.
pub(crate) fn host_for_address(host: &str) -> std::borrow::Cow<'_, str> {
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{host}]").into()
    } else {
        host.into()
    }
}

impl ConnectionSettings {
    /// Parses an ADO.NET connection string.
    pub fn parse(text: &str) -> Result<ConnectionSettings, Error> {
        let mut server = None;
        let mut database = None;
        let mut user = None;
        let mut password: Option<Zeroizing<String>> = None;
        let mut integrated = false;
        let mut encrypt = Encrypt::Mandatory;
        let mut trust_server_certificate = false;
        let mut server_certificate = None;
        let mut host_name_in_certificate = None;
        let mut connect_timeout = Some(DEFAULT_CONNECT_TIMEOUT);
        let mut command_timeout = Some(DEFAULT_COMMAND_TIMEOUT);
        let mut application_name = DEFAULT_APPLICATION_NAME.to_string();

        let pairs = split_pairs(text)?;
        for (index, pair) in pairs.iter().enumerate() {
            let keyword = Keyword::from_key(&pair.key).ok_or_else(|| {
                if after_password_hint(&pairs[..index]).is_empty() {
                    invalid(format!(
                        "connection string: unknown keyword '{}'",
                        pair.key.as_str()
                    ))
                } else {
                    invalid(format!(
                        "connection string: unknown keyword{}",
                        after_password_hint(&pairs[..index])
                    ))
                }
            })?;
            let key = pair.key.as_str();
            let value = pair.value.as_str();
            match keyword {
                Keyword::Server => server = Some(parse_server(value)?),
                Keyword::Database => database = Some(value.to_string()).filter(|d| !d.is_empty()),
                Keyword::UserId => user = Some(value.to_string()),
                Keyword::Password => password = Some(pair.value.clone()),
                Keyword::IntegratedSecurity => {
                    integrated = value.eq_ignore_ascii_case("sspi") || parse_bool(key, value)?
                }
                Keyword::Encrypt => encrypt = parse_encrypt(value)?,
                Keyword::TrustServerCertificate => {
                    trust_server_certificate = parse_bool(key, value)?
                }
                Keyword::ServerCertificate => {
                    server_certificate = (!value.is_empty()).then(|| PathBuf::from(value))
                }
                Keyword::HostNameInCertificate => {
                    host_name_in_certificate = Some(value.to_string()).filter(|h| !h.is_empty())
                }
                Keyword::ConnectTimeout => connect_timeout = parse_seconds(key, value)?,
                Keyword::CommandTimeout => command_timeout = parse_seconds(key, value)?,
                Keyword::ApplicationName => application_name = value.to_string(),
            }
        }

        let (host, port, instance) = server
            .ok_or_else(|| invalid("connection string: 'Server' (or 'Data Source') is required"))?;
        let authentication =
            match (integrated, user) {
                (true, Some(_)) => return Err(invalid(
                    "connection string: give either 'Integrated Security' or 'User ID', not both",
                )),
                (true, None) if !cfg!(windows) => {
                    return Err(Error::new(
                        Status::Unsupported,
                        "connection string: 'Integrated Security' is only supported on Windows",
                    ))
                }
                (true, None) => Authentication::Integrated,
                (false, Some(user)) if !user.is_empty() => Authentication::SqlLogin {
                    user,
                    password: password.unwrap_or_default(),
                },
                (false, _) => return Err(invalid(
                    "connection string: 'User ID' and 'Password', or 'Integrated Security=SSPI', \
                     are required",
                )),
            };
        // Strict mode always validates: TrustServerCertificate is ignored there (SqlClient).
        let trust_server_certificate = trust_server_certificate && encrypt != Encrypt::Strict;
        if trust_server_certificate && server_certificate.is_some() {
            return Err(invalid(
                "connection string: 'TrustServerCertificate=true' and 'ServerCertificate' \
                 contradict each other; give one",
            ));
        }
        Ok(ConnectionSettings {
            host,
            port,
            instance,
            database,
            authentication,
            encrypt,
            trust_server_certificate,
            server_certificate,
            host_name_in_certificate,
            connect_timeout,
            command_timeout,
            application_name,
        })
    }

    /// `host:port` or `host\instance` for messages.
    pub fn address(&self) -> String {
        let host = host_for_address(&self.host);
        match (&self.instance, self.port) {
            (_, Some(port)) => format!("{host}:{port}"),
            (Some(instance), None) => format!("{host}\\{instance}"),
            (None, None) => format!("{host}:1433"),
        }
    }

    /// The driver configuration. Timeouts are left to the caller (`exec` bounds connect and
    /// every request itself), so the driver's own timers are switched off.
    pub(crate) fn tiberius_config(&self) -> Result<Config, Error> {
        let mut config = Config::new();
        config.host(&self.host);
        if let Some(port) = self.port {
            config.port(port);
        }
        if let Some(instance) = &self.instance {
            config.instance_name(instance);
        }
        if let Some(database) = &self.database {
            config.database(database);
        }
        config.application_name(&self.application_name);
        config.encryption(match self.encrypt {
            Encrypt::Mandatory => EncryptionLevel::Required,
            Encrypt::Optional => EncryptionLevel::Off,
            Encrypt::Strict => EncryptionLevel::Strict,
            Encrypt::Plaintext => EncryptionLevel::NotSupported,
        });
        // Checked in `parse`: tiberius panics when both are set.
        if self.trust_server_certificate {
            config.trust_cert();
        } else if let Some(path) = &self.server_certificate {
            config.trust_cert_ca(path.display());
        }
        if let Some(host_name) = &self.host_name_in_certificate {
            config.hostname_in_certificate(host_name);
        }
        config.handshake_timeout(None);
        config.command_timeout(None);
        match &self.authentication {
            Authentication::SqlLogin { user, password } => {
                config.authentication(AuthMethod::sql_server(user, password.as_str()))
            }
            #[cfg(windows)]
            Authentication::Integrated => config.authentication(AuthMethod::Integrated),
            #[cfg(not(windows))]
            Authentication::Integrated => {
                return Err(Error::new(
                    Status::Unsupported,
                    "Integrated Security is only supported on Windows",
                ))
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ConnectionSettings {
        ConnectionSettings::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn parse_err(text: &str) -> Error {
        match ConnectionSettings::parse(text) {
            Ok(settings) => panic!("{text} parsed as {settings:?}"),
            Err(e) => e,
        }
    }

    fn password(settings: &ConnectionSettings) -> &str {
        match &settings.authentication {
            Authentication::SqlLogin { password, .. } => password.as_str(),
            Authentication::Integrated => panic!("not a SQL login"),
        }
    }

    #[test]
    fn tcp_host_and_port_with_defaults() {
        let s = parse("Server=tcp:db01,14330;User ID=sa;Password=pw");
        assert_eq!(
            (s.host.as_str(), s.port, s.instance.as_deref()),
            ("db01", Some(14330), None)
        );
        assert_eq!(s.encrypt, Encrypt::Mandatory);
        assert!(!s.trust_server_certificate);
        assert_eq!(s.connect_timeout, Some(Duration::from_secs(15)));
        assert_eq!(s.command_timeout, Some(Duration::from_secs(30)));
        assert_eq!(s.application_name, "linkedsrv");
        assert_eq!(s.address(), "db01:14330");
    }

    #[test]
    fn named_instance_and_local_aliases() {
        let s = parse(r"Data Source=SQL01\BIZTALK;UID=u;PWD=p");
        assert_eq!(
            (s.host.as_str(), s.port, s.instance.as_deref()),
            ("SQL01", None, Some("BIZTALK"))
        );
        assert_eq!(parse("Addr=.;uid=u;pwd=p").host, "localhost");
        assert_eq!(parse("Server=(local);uid=u;pwd=p").host, "localhost");
    }

    #[test]
    fn synonyms_and_case_insensitive_keys() {
        let s = parse(
            "SERVER=h;initial catalog=master;USER ID=u;pwd=p;encrypt=STRICT;\
             trust server certificate=yes;Connection Timeout=5;command timeout=0;App=tool",
        );
        assert_eq!(s.database.as_deref(), Some("master"));
        assert_eq!(s.encrypt, Encrypt::Strict);
        assert!(!s.trust_server_certificate, "strict always validates");
        assert_eq!(s.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(s.command_timeout, None);
        assert_eq!(s.application_name, "tool");
        let s = parse("Server=h;uid=u;pwd=p;TRUST SERVER CERTIFICATE=yes");
        assert!(s.trust_server_certificate);
    }

    #[test]
    fn encrypt_synonyms() {
        for (value, expected) in [
            ("true", Encrypt::Mandatory),
            ("Mandatory", Encrypt::Mandatory),
            ("yes", Encrypt::Mandatory),
            ("false", Encrypt::Optional),
            ("optional", Encrypt::Optional),
            ("No", Encrypt::Optional),
            ("strict", Encrypt::Strict),
            ("DANGER_PLAINTEXT", Encrypt::Plaintext),
        ] {
            assert_eq!(
                parse(&format!("Server=h;UID=u;PWD=p;Encrypt={value}")).encrypt,
                expected
            );
        }
        assert_eq!(
            parse_err("Server=h;UID=u;PWD=p;Encrypt=maybe").status,
            Status::InvalidArgument
        );
    }

    #[test]
    fn quoted_values_keep_semicolons_and_doubled_quotes() {
        let s = parse(r#"Server=h;UID=u;Password="a;b""c"; Application Name='it''s'"#);
        assert_eq!(password(&s), r#"a;b"c"#);
        assert_eq!(s.application_name, "it's");
        let s = parse("Server=h;UID=u;Password='  spaced  '");
        assert_eq!(password(&s), "  spaced  ");
        let s = parse("Server=h;UID=u;Password=  trimmed  ;");
        assert_eq!(password(&s), "trimmed");
    }

    #[test]
    fn doubled_equals_in_a_key_and_last_value_wins() {
        assert_eq!(
            parse_err("Server=h;a==b=c;UID=u;PWD=p").message,
            "connection string: unknown keyword 'a=b'"
        );
        assert_eq!(parse("Server=a;Server=b;UID=u;PWD=p").host, "b");
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let e = parse_err("Server=h;Pooling=false;UID=u;PWD=p");
        assert_eq!(e.status, Status::InvalidArgument);
        assert!(e.message.contains("'pooling'"), "{}", e.message);
    }

    #[test]
    fn errors_never_echo_the_password() {
        let cases = [
            "Server=h;UID=u;Password=sec;ret=1",
            "Server=h;UID=u;Password=sec;ret",
            "Server=h;UID=u;Password='secret",
            "Server=h;UID=u;Password='secret'x",
        ];
        for text in cases {
            let e = parse_err(text);
            assert!(!e.message.contains("sec"), "{text} -> {}", e.message);
            assert!(!format!("{e:?}").contains("ret"), "{text} -> {e:?}");
        }
        let s = parse("Server=h;UID=u;Password=hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        // The driver's configuration is built for every (re)connect; its Debug must not leak.
        let config = s.tiberius_config().unwrap();
        assert!(!format!("{config:?}").contains("hunter2"), "{config:?}");
    }

    #[test]
    fn missing_or_conflicting_parts() {
        assert_eq!(parse_err("UID=u;PWD=p").status, Status::InvalidArgument);
        assert_eq!(parse_err("Server=h").status, Status::InvalidArgument);
        assert_eq!(
            parse_err("Server=h;UID=u;PWD=p;Connect Timeout=-1").status,
            Status::InvalidArgument
        );
        assert_eq!(
            parse_err("Server=h,0;UID=u;PWD=p").status,
            Status::InvalidArgument
        );
        assert_eq!(
            parse_err("Server=h;UID=u;PWD=p;junk").status,
            Status::InvalidArgument
        );
        assert_eq!(
            parse_err("Server=np:h;UID=u;PWD=p").status,
            Status::Unsupported
        );
        let e =
            parse_err("Server=h;UID=u;PWD=p;TrustServerCertificate=true;ServerCertificate=/c.pem");
        assert_eq!(e.status, Status::InvalidArgument);
    }

    #[test]
    fn integrated_security_only_on_windows() {
        let result = ConnectionSettings::parse("Server=h;Integrated Security=SSPI");
        if cfg!(windows) {
            assert!(matches!(
                result.unwrap().authentication,
                Authentication::Integrated
            ));
        } else {
            assert_eq!(result.unwrap_err().status, Status::Unsupported);
        }
        let e = parse_err("Server=h;Integrated Security=true;UID=u");
        assert_eq!(e.status, Status::InvalidArgument);
    }

    #[test]
    fn builds_a_driver_config() {
        let s = parse("Server=tcp:127.0.0.1,1500;UID=sa;PWD=p;ServerCertificate=/tmp/ca.pem");
        let config = s.tiberius_config().unwrap();
        assert_eq!(config.get_addr(), "127.0.0.1:1500");
    }
}
