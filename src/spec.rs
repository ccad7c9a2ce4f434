//! What callers describe (specs, credentials) and what the library reports (snapshots).
//! These types are also the JSON documents of the C ABI.
//!
//! CONTRACT (JSON shapes used by the C ABI, C# and PowerShell; keep field names):
//! - `LinkedServerSpec` (create input): `{"product": "SQL Server"}` or `{"product": "",
//!   "provider": "MSOLEDBSQL", "data_source": "host\\inst", "location": null,
//!   "provider_string": null, "catalog": null, "options": {"rpc out": true, "query timeout": 30}}`;
//!   unknown fields are rejected.
//! - `LinkedServer` (get/list output), see the struct.
//!
//! Validation lives here too: names and property lengths (the server would silently truncate
//! over-long values, so they are refused before anything is sent) and the `sp_serveroption`
//! whitelist with the value shape of each option.

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use crate::error::Error;

/// `sysname` is `nvarchar(128)`: at most 128 UTF-16 code units.
pub const SYSNAME_UNITS: usize = 128;
/// `@srvproduct` and `@provider` are `nvarchar(128)`.
pub const PRODUCT_UNITS: usize = 128;
/// `@datasrc`, `@location` and `@provstr` are `nvarchar(4000)`.
pub const PROPERTY_UNITS: usize = 4000;
/// `sp_serveroption @optvalue` is `nvarchar(128)` on current versions.
pub const OPTION_VALUE_UNITS: usize = 128;

/// Refuses an empty name, one over 128 UTF-16 code units or one containing U+0000 (the
/// server would truncate or reject it). Every other character is legal and sent as is.
pub fn validate_sysname(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid_argument(format!("{what} must not be empty")));
    }
    validate_text(what, value, SYSNAME_UNITS)
}

/// Refuses a value over `max_units` UTF-16 code units or containing U+0000.
pub fn validate_text(what: &str, value: &str, max_units: usize) -> Result<(), Error> {
    let units = value.encode_utf16().count();
    if units > max_units {
        return Err(Error::invalid_argument(format!(
            "{what} is {units} UTF-16 code units long; at most {max_units} are allowed"
        )));
    }
    if value.contains('\0') {
        return Err(Error::invalid_argument(format!(
            "{what} must not contain U+0000"
        )));
    }
    Ok(())
}

/// Stands in for a provider string in `Debug` output: it may hold a password.
pub(crate) struct RedactedText<'a>(pub &'a Option<String>);

impl std::fmt::Debug for RedactedText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(_) => f.write_str("Some(<redacted>)"),
            None => f.write_str("None"),
        }
    }
}

/// Deserialises from a JSON object only (see the `Deserialize` impl below). `Debug` hides the
/// provider string, in its field and in `options`.
#[derive(Clone, PartialEq, Default, Deserialize)]
// `remote = "Self"` turns the derived code into an inherent `LinkedServerSpec::deserialize`,
// so the trait impl can wrap it.
#[serde(deny_unknown_fields, remote = "Self")]
pub struct LinkedServerSpec {
    pub product: Option<String>,
    pub provider: Option<String>,
    pub data_source: Option<String>,
    pub location: Option<String>,
    pub provider_string: Option<String>,
    pub catalog: Option<String>,
    /// `sp_serveroption` name → value (bool, non-negative integer, string or null), applied
    /// after creation as part of the same all-or-nothing call.
    /// A name given twice is an error (JSON parsers usually let the last one win); the
    /// options are applied in the alphabetical order of their canonical names.
    #[serde(default, deserialize_with = "options_without_duplicates")]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// The `options` object, refusing a member name given twice.
fn options_without_duplicates<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<serde_json::Map<String, serde_json::Value>, D::Error> {
    struct UniqueNames;
    impl<'de> Visitor<'de> for UniqueNames {
        type Value = serde_json::Map<String, serde_json::Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of server options")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut options = serde_json::Map::new();
            while let Some((name, value)) = map.next_entry::<String, serde_json::Value>()? {
                if options.contains_key(&name) {
                    return Err(serde::de::Error::custom(format_args!(
                        "server option '{name}' is given more than once"
                    )));
                }
                options.insert(name, value);
            }
            Ok(options)
        }
    }
    deserializer.deserialize_map(UniqueNames)
}

/// Derived struct deserialisers also take a sequence of the fields in declaration order, so
/// `[null, "MSOLEDBSQL", ...]` would be a spec; only an object with named members is accepted.
impl<'de> Deserialize<'de> for LinkedServerSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectOnly;
        impl<'de> Visitor<'de> for ObjectOnly {
            type Value = LinkedServerSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a linked server spec object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LinkedServerSpec, A::Error> {
                LinkedServerSpec::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer.deserialize_map(ObjectOnly)
    }
}

impl std::fmt::Debug for LinkedServerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Options<'a>(&'a serde_json::Map<String, serde_json::Value>);
        impl std::fmt::Debug for Options<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut map = f.debug_map();
                for (name, value) in self.0 {
                    if ServerOption::parse(name).is_ok_and(|o| o == ServerOption::ProviderString) {
                        map.entry(name, &format_args!("<redacted>"));
                    } else {
                        map.entry(name, value);
                    }
                }
                map.finish()
            }
        }
        f.debug_struct("LinkedServerSpec")
            .field("product", &self.product)
            .field("provider", &self.provider)
            .field("data_source", &self.data_source)
            .field("location", &self.location)
            .field("provider_string", &RedactedText(&self.provider_string))
            .field("catalog", &self.catalog)
            .field("options", &Options(&self.options))
            .finish()
    }
}

impl LinkedServerSpec {
    /// Parses the JSON document; bad JSON, unknown fields and wrong types are
    /// `InvalidArgument`, explained by serde with string values hidden.
    pub fn from_json(json: &str) -> Result<LinkedServerSpec, Error> {
        serde_json::from_str(json).map_err(|e| {
            Error::invalid_argument(format!(
                "invalid linked server spec JSON: {}",
                hide_string_values(&e.to_string())
            ))
        })
    }
}

/// Replaces the quoted values in a serde message (`invalid type: string "...", expected ...`)
/// because a provider string may hold a password; field names and positions stay.
pub(crate) fn hide_string_values(message: &str) -> String {
    const VALUE_START: &str = "string \"";
    let mut shown = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(VALUE_START) {
        shown.push_str(&rest[..at]);
        shown.push_str("a string");
        let value = &rest[at + VALUE_START.len()..];
        // serde prints the value Debug-escaped: it ends at the first quote not escaped.
        let mut escaped = false;
        let end = value
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })
            .map_or(value.len(), |(i, _)| i + 1);
        rest = &value[end..];
    }
    shown.push_str(rest);
    shown
}

/// How a local login reaches the linked server. Debug never shows the password.
pub enum RemoteCredentials {
    /// `@useself = 'TRUE'`: the caller's own credentials.
    SelfMapping,
    /// `@useself = 'FALSE'` with a remote login (both `None`: no security context).
    Remote {
        user: Option<String>,
        password: Option<Zeroizing<String>>,
    },
}

impl RemoteCredentials {
    /// Checks lengths (`@rmtuser` and `@rmtpassword` are `sysname`) without echoing the password.
    pub fn validate(&self) -> Result<(), Error> {
        if let RemoteCredentials::Remote { user, password } = self {
            if let Some(user) = user {
                validate_sysname("remote user", user)?;
            }
            // Not validate_text: its message would give away the password's length.
            if let Some(password) = password {
                if password.encode_utf16().count() > SYSNAME_UNITS || password.contains('\0') {
                    return Err(Error::invalid_argument(format!(
                        "remote password must be at most {SYSNAME_UNITS} UTF-16 code units and \
                         contain no U+0000"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for RemoteCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemoteCredentials::SelfMapping => f.write_str("SelfMapping"),
            RemoteCredentials::Remote { user, password } => f
                .debug_struct("Remote")
                .field("user", user)
                .field("password", &password.as_ref().map(|_| "<redacted>"))
                .finish(),
        }
    }
}

/// One row of `sys.linked_logins`, as the caller sees it (never a password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginMapping {
    /// `null` = the mapping for every login (principal 0).
    pub local_login: Option<String>,
    pub uses_self_credential: bool,
    pub remote_user: Option<String>,
}

/// A snapshot of one `sys.servers` row and its mappings. The JSON shows the provider string as
/// the catalog holds it (as SQL Server shows it to administrators); `Debug` hides it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedServer {
    pub server_id: i32,
    pub name: String,
    pub product: String,
    pub provider: String,
    pub data_source: Option<String>,
    pub location: Option<String>,
    pub provider_string: Option<String>,
    pub catalog: Option<String>,
    pub connect_timeout: i32,
    pub query_timeout: i32,
    pub rpc: bool,
    pub rpc_out: bool,
    pub data_access: bool,
    pub collation_compatible: bool,
    pub use_remote_collation: bool,
    pub collation_name: Option<String>,
    pub lazy_schema_validation: bool,
    pub is_system: bool,
    pub is_publisher: bool,
    pub is_subscriber: bool,
    pub is_distributor: bool,
    pub is_nonsql_subscriber: bool,
    pub remote_proc_transaction_promotion: bool,
    /// ISO 8601, as the server reported it.
    pub modify_date: Option<String>,
    pub logins: Vec<LoginMapping>,
}

impl std::fmt::Debug for LinkedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedServer")
            .field("server_id", &self.server_id)
            .field("name", &self.name)
            .field("product", &self.product)
            .field("provider", &self.provider)
            .field("data_source", &self.data_source)
            .field("location", &self.location)
            .field("provider_string", &RedactedText(&self.provider_string))
            .field("catalog", &self.catalog)
            .field("connect_timeout", &self.connect_timeout)
            .field("query_timeout", &self.query_timeout)
            .field("rpc", &self.rpc)
            .field("rpc_out", &self.rpc_out)
            .field("data_access", &self.data_access)
            .field("collation_compatible", &self.collation_compatible)
            .field("use_remote_collation", &self.use_remote_collation)
            .field("collation_name", &self.collation_name)
            .field("lazy_schema_validation", &self.lazy_schema_validation)
            .field("is_system", &self.is_system)
            .field("is_publisher", &self.is_publisher)
            .field("is_subscriber", &self.is_subscriber)
            .field("is_distributor", &self.is_distributor)
            .field("is_nonsql_subscriber", &self.is_nonsql_subscriber)
            .field(
                "remote_proc_transaction_promotion",
                &self.remote_proc_transaction_promotion,
            )
            .field("modify_date", &self.modify_date)
            .field("logins", &self.logins)
            .finish()
    }
}

impl LinkedServer {
    /// A SQL Server link as `sp_addlinkedserver` leaves it (reference §2), for tests.
    #[cfg(test)]
    pub(crate) fn created(name: &str) -> LinkedServer {
        LinkedServer {
            server_id: 3,
            name: name.into(),
            product: "SQL Server".into(),
            provider: "SQLNCLI".into(),
            data_source: Some(name.into()),
            location: None,
            provider_string: None,
            catalog: None,
            connect_timeout: 0,
            query_timeout: 0,
            rpc: true,
            rpc_out: true,
            data_access: true,
            collation_compatible: false,
            use_remote_collation: true,
            collation_name: None,
            lazy_schema_validation: false,
            is_system: false,
            is_publisher: false,
            is_subscriber: false,
            is_distributor: false,
            is_nonsql_subscriber: false,
            remote_proc_transaction_promotion: true,
            modify_date: None,
            logins: vec![LoginMapping {
                local_login: None,
                uses_self_credential: true,
                remote_user: None,
            }],
        }
    }
}

/// Every `sp_serveroption` option (reference §8.1); `name()` is the exact `@optname` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServerOption {
    CollationCompatible,
    CollationName,
    ConnectTimeout,
    DataAccess,
    Dist,
    LazySchemaValidation,
    Name,
    ProviderString,
    Pub,
    QueryTimeout,
    RemoteProcTransactionPromotion,
    Rpc,
    RpcOut,
    Sub,
    System,
    UseRemoteCollation,
}

/// What values an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueShape {
    OnOff,
    /// `system` accepts only true/on.
    OnOnly,
    Seconds,
    /// A collation name, or null for none.
    Collation,
    /// A new linked server name.
    Sysname,
    /// A provider string, or null for none.
    ProviderString,
}

impl ServerOption {
    pub const ALL: [ServerOption; 16] = [
        ServerOption::CollationCompatible,
        ServerOption::CollationName,
        ServerOption::ConnectTimeout,
        ServerOption::DataAccess,
        ServerOption::Dist,
        ServerOption::LazySchemaValidation,
        ServerOption::Name,
        ServerOption::ProviderString,
        ServerOption::Pub,
        ServerOption::QueryTimeout,
        ServerOption::RemoteProcTransactionPromotion,
        ServerOption::Rpc,
        ServerOption::RpcOut,
        ServerOption::Sub,
        ServerOption::System,
        ServerOption::UseRemoteCollation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServerOption::CollationCompatible => "collation compatible",
            ServerOption::CollationName => "collation name",
            ServerOption::ConnectTimeout => "connect timeout",
            ServerOption::DataAccess => "data access",
            ServerOption::Dist => "dist",
            ServerOption::LazySchemaValidation => "lazy schema validation",
            ServerOption::Name => "name",
            ServerOption::ProviderString => "provider string",
            ServerOption::Pub => "pub",
            ServerOption::QueryTimeout => "query timeout",
            ServerOption::RemoteProcTransactionPromotion => "remote proc transaction promotion",
            ServerOption::Rpc => "rpc",
            ServerOption::RpcOut => "rpc out",
            ServerOption::Sub => "sub",
            ServerOption::System => "system",
            ServerOption::UseRemoteCollation => "use remote collation",
        }
    }

    /// Case-insensitive, as the server matches them; anything else is `InvalidArgument`.
    pub fn parse(name: &str) -> Result<ServerOption, Error> {
        ServerOption::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let known: Vec<&str> = ServerOption::ALL.iter().map(|o| o.name()).collect();
                Error::invalid_argument(format!(
                    "unknown server option '{name}'; known options: {}",
                    known.join(", ")
                ))
            })
    }

    fn shape(self) -> ValueShape {
        match self {
            ServerOption::CollationName => ValueShape::Collation,
            ServerOption::ConnectTimeout | ServerOption::QueryTimeout => ValueShape::Seconds,
            ServerOption::Name => ValueShape::Sysname,
            ServerOption::ProviderString => ValueShape::ProviderString,
            ServerOption::System => ValueShape::OnOnly,
            _ => ValueShape::OnOff,
        }
    }
}

/// An option value as a caller gave it: from JSON (`options` of a spec) or from a string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawOptionValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Text(&'a str),
}

impl<'a> RawOptionValue<'a> {
    /// JSON arrays, objects and fractional numbers have no meaning for any option.
    pub fn from_json(value: &'a serde_json::Value) -> Option<RawOptionValue<'a>> {
        match value {
            serde_json::Value::Null => Some(RawOptionValue::Null),
            serde_json::Value::Bool(b) => Some(RawOptionValue::Bool(*b)),
            serde_json::Value::Number(n) => n.as_i64().map(RawOptionValue::Int),
            serde_json::Value::String(s) => Some(RawOptionValue::Text(s)),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            RawOptionValue::Null => "null".into(),
            RawOptionValue::Bool(b) => b.to_string(),
            RawOptionValue::Int(i) => i.to_string(),
            RawOptionValue::Text(t) => format!("'{t}'"),
        }
    }
}

/// A checked option value, normalised to what is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// Sent as `N'true'` / `N'false'`.
    Flag(bool),
    /// Non-negative seconds, sent as decimal text.
    Seconds(i32),
    /// Sent as given; `None` is SQL NULL.
    Text(Option<String>),
}

impl OptionValue {
    /// The `@optvalue` parameter.
    pub fn to_parameter(&self) -> Option<String> {
        match self {
            OptionValue::Flag(true) => Some("true".into()),
            OptionValue::Flag(false) => Some("false".into()),
            OptionValue::Seconds(s) => Some(s.to_string()),
            OptionValue::Text(t) => t.clone(),
        }
    }
}

/// One whitelisted option with a value of the right shape. `Debug` hides a provider string.
#[derive(Clone, PartialEq, Eq)]
pub struct OptionSetting {
    pub option: ServerOption,
    pub value: OptionValue,
}

impl std::fmt::Debug for OptionSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("OptionSetting");
        debug.field("option", &self.option);
        match &self.value {
            OptionValue::Text(text) if self.option == ServerOption::ProviderString => {
                debug.field("value", &format_args!("Text({:?})", RedactedText(text)))
            }
            value => debug.field("value", value),
        };
        debug.finish()
    }
}

impl OptionSetting {
    /// Checks the option name against the whitelist and the value against the option's shape.
    /// On/off options take true/false/on/off/yes/no/1/0 (any case) or a JSON bool or 0/1.
    pub fn parse(option_name: &str, raw: RawOptionValue<'_>) -> Result<OptionSetting, Error> {
        let option = ServerOption::parse(option_name)?;
        let bad = |expected: &str| {
            Error::invalid_argument(format!(
                "server option '{}' takes {expected}, not {}",
                option.name(),
                raw.describe()
            ))
        };
        let value = match option.shape() {
            ValueShape::OnOff | ValueShape::OnOnly => {
                let flag = match raw {
                    RawOptionValue::Bool(b) => Some(b),
                    RawOptionValue::Int(1) => Some(true),
                    RawOptionValue::Int(0) => Some(false),
                    RawOptionValue::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                        "true" | "on" | "yes" | "1" => Some(true),
                        "false" | "off" | "no" | "0" => Some(false),
                        _ => None,
                    },
                    _ => None,
                };
                match (option.shape(), flag) {
                    (ValueShape::OnOnly, Some(true)) => OptionValue::Flag(true),
                    (ValueShape::OnOnly, _) => return Err(bad("only true (on)")),
                    (_, Some(flag)) => OptionValue::Flag(flag),
                    (_, None) => return Err(bad("true/false, on/off or 1/0")),
                }
            }
            ValueShape::Seconds => {
                let seconds = match raw {
                    RawOptionValue::Int(i) => Some(i),
                    RawOptionValue::Text(t) if t.trim().bytes().all(|b| b.is_ascii_digit()) => {
                        t.trim().parse::<i64>().ok()
                    }
                    _ => None,
                };
                match seconds
                    .and_then(|s| i32::try_from(s).ok())
                    .filter(|s| *s >= 0)
                {
                    Some(s) => OptionValue::Seconds(s),
                    None => return Err(bad("a whole number of seconds from 0 to 2147483647")),
                }
            }
            ValueShape::Collation => match raw {
                RawOptionValue::Null => OptionValue::Text(None),
                RawOptionValue::Text(t)
                    if !t.is_empty()
                        && t.len() <= SYSNAME_UNITS
                        && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    OptionValue::Text(Some(t.to_string()))
                }
                _ => return Err(bad("a collation name (letters, digits, '_') or null")),
            },
            ValueShape::Sysname => match raw {
                RawOptionValue::Text(t) => {
                    validate_sysname("new linked server name", t)?;
                    OptionValue::Text(Some(t.to_string()))
                }
                _ => return Err(bad("a name")),
            },
            ValueShape::ProviderString => match raw {
                RawOptionValue::Null => OptionValue::Text(None),
                RawOptionValue::Text(t) => {
                    validate_text("provider string option value", t, OPTION_VALUE_UNITS)?;
                    OptionValue::Text(Some(t.to_string()))
                }
                _ => return Err(bad("a string or null")),
            },
        };
        Ok(OptionSetting { option, value })
    }

    /// Whether `server` already has this value (so setting it would change nothing).
    pub fn is_current(&self, server: &LinkedServer) -> bool {
        let flag = |current: bool| self.value == OptionValue::Flag(current);
        let text = |current: Option<&str>| match &self.value {
            OptionValue::Text(t) => t.as_deref() == current,
            _ => false,
        };
        match self.option {
            ServerOption::CollationCompatible => flag(server.collation_compatible),
            ServerOption::CollationName => text(server.collation_name.as_deref()),
            ServerOption::ConnectTimeout => {
                self.value == OptionValue::Seconds(server.connect_timeout)
            }
            ServerOption::DataAccess => flag(server.data_access),
            ServerOption::Dist => flag(server.is_distributor),
            ServerOption::LazySchemaValidation => flag(server.lazy_schema_validation),
            ServerOption::Name => text(Some(&server.name)),
            ServerOption::ProviderString => text(server.provider_string.as_deref()),
            ServerOption::Pub => flag(server.is_publisher),
            ServerOption::QueryTimeout => self.value == OptionValue::Seconds(server.query_timeout),
            ServerOption::RemoteProcTransactionPromotion => {
                flag(server.remote_proc_transaction_promotion)
            }
            ServerOption::Rpc => flag(server.rpc),
            ServerOption::RpcOut => flag(server.rpc_out),
            ServerOption::Sub => flag(server.is_subscriber),
            ServerOption::System => flag(server.is_system),
            ServerOption::UseRemoteCollation => flag(server.use_remote_collation),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(name: &str, raw: RawOptionValue<'_>) -> Result<OptionSetting, Error> {
        OptionSetting::parse(name, raw)
    }

    #[test]
    fn names_are_checked_in_utf16_units() {
        assert!(validate_sysname("name", "").is_err());
        assert!(validate_sysname("name", &"x".repeat(128)).is_ok());
        assert!(validate_sysname("name", &"x".repeat(129)).is_err());
        // 64 astral characters are 128 UTF-16 code units; one more is too many.
        assert!(validate_sysname("name", &"😀".repeat(64)).is_ok());
        assert!(validate_sysname("name", &"😀".repeat(65)).is_err());
        assert!(validate_sysname("name", "a\0b").is_err());
        assert!(validate_sysname("name", "x'];--/**/ Zürich 東京").is_ok());
    }

    #[test]
    fn on_off_values_normalise_to_true_false() {
        for (raw, expected) in [
            (RawOptionValue::Bool(true), "true"),
            (RawOptionValue::Int(0), "false"),
            (RawOptionValue::Text("ON"), "true"),
            (RawOptionValue::Text("off"), "false"),
            (RawOptionValue::Text("1"), "true"),
            (RawOptionValue::Text("False"), "false"),
        ] {
            let s = setting("RPC Out", raw).unwrap();
            assert_eq!(s.option, ServerOption::RpcOut);
            assert_eq!(s.value.to_parameter().as_deref(), Some(expected), "{raw:?}");
        }
        for raw in [
            RawOptionValue::Null,
            RawOptionValue::Int(2),
            RawOptionValue::Text("maybe"),
        ] {
            assert!(setting("rpc", raw).is_err(), "{raw:?}");
        }
        assert!(setting("system", RawOptionValue::Bool(false)).is_err());
        assert!(setting("system", RawOptionValue::Text("on")).is_ok());
    }

    #[test]
    fn timeouts_are_non_negative_integers() {
        let s = setting("query timeout", RawOptionValue::Int(30)).unwrap();
        assert_eq!(s.value, OptionValue::Seconds(30));
        assert_eq!(
            setting("connect timeout", RawOptionValue::Text("0"))
                .unwrap()
                .value,
            OptionValue::Seconds(0)
        );
        for raw in [
            RawOptionValue::Int(-1),
            RawOptionValue::Int(i64::from(i32::MAX) + 1),
            RawOptionValue::Text("-1"),
            RawOptionValue::Text("1e3"),
            RawOptionValue::Bool(true),
            RawOptionValue::Null,
        ] {
            assert!(setting("query timeout", raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn strings_collations_and_unknown_options() {
        assert_eq!(
            setting("collation name", RawOptionValue::Null)
                .unwrap()
                .value
                .to_parameter(),
            None
        );
        assert!(setting(
            "collation name",
            RawOptionValue::Text("Latin1_General_CI_AS")
        )
        .is_ok());
        assert!(setting("collation name", RawOptionValue::Text("x'; drop")).is_err());
        assert!(setting("name", RawOptionValue::Text("")).is_err());
        assert!(setting("name", RawOptionValue::Null).is_err());
        assert!(setting("provider string", RawOptionValue::Text(&"p".repeat(129))).is_err());
        let e = setting("rpcout", RawOptionValue::Bool(true)).unwrap_err();
        assert!(
            e.message.contains("unknown server option 'rpcout'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn spec_json_rejects_unknown_fields_and_bad_json() {
        assert!(LinkedServerSpec::from_json(r#"{"product":"SQL Server","colour":1}"#).is_err());
        assert!(LinkedServerSpec::from_json("{").is_err());
        let spec =
            LinkedServerSpec::from_json(r#"{"product":"SQL Server","options":{"rpc out":true}}"#)
                .unwrap();
        assert_eq!(
            spec.options.get("rpc out"),
            Some(&serde_json::Value::Bool(true))
        );
    }

    #[test]
    fn spec_json_must_be_an_object_not_an_array_of_the_fields() {
        // Every field in declaration order: a derived deserialiser would accept this.
        let array = r#"[null, "MSOLEDBSQL", "h", null, null, null, {}]"#;
        let error = LinkedServerSpec::from_json(array).unwrap_err();
        assert!(
            error
                .message
                .contains("expected a linked server spec object"),
            "{}",
            error.message
        );
        let value: serde_json::Value = serde_json::from_str(array).unwrap();
        assert!(serde_json::from_value::<LinkedServerSpec>(value).is_err());
        assert!(LinkedServerSpec::from_json(r#"{"provider":"P","product":""}"#).is_ok());
    }

    #[test]
    fn spec_json_errors_hide_string_values() {
        let wrong_type = LinkedServerSpec::from_json(r#"{"options":"Pwd=s\"ecret;"}"#).unwrap_err();
        assert!(
            wrong_type
                .message
                .contains("invalid type: a string, expected an object of server options")
                && !wrong_type.message.contains("ecret"),
            "{}",
            wrong_type.message
        );
        let message = "expected `,` or `}` at line 1 column 9";
        assert_eq!(hide_string_values(message), message);
    }

    #[test]
    fn credentials_debug_and_errors_hide_the_password() {
        let long = RemoteCredentials::Remote {
            user: Some("u".into()),
            password: Some(Zeroizing::new("s3cr3t".repeat(30))),
        };
        let e = long.validate().unwrap_err();
        assert!(!e.message.contains("s3cr3t"));
        assert!(!format!("{long:?}").contains("s3cr3t"));
    }
}
