//! The desired state of linked servers, as `lsv_ensure` takes it: one object or an array of
//! objects in the shape `lsv_get` returns, so that get → ensure round-trips.
//!
//! CONTRACT (JSON, used by the C ABI, C# and PowerShell):
//! `{"name": "BTS01", "product": "SQL Server", "provider": ..., "data_source": ...,
//!   "location": ..., "provider_string": ..., "catalog": ...,
//!   "options": {"rpc out": true, "query timeout": 30},
//!   "logins": [{"local_login": null, "uses_self_credential": true, "remote_user": null},
//!              {"local_login": "app", "uses_self_credential": false, "remote_user": "u",
//!               "remote_password": "..."}]}`
//! plus every member `lsv_get` returns: the option columns (`rpc`, `rpc_out`, `query_timeout`,
//! `is_publisher`, ...) stand for their `sp_serveroption` option; `server_id` and
//! `modify_date` are read-only and ignored; `is_nonsql_subscriber` has no option and must match.
//! A member left out (or an option not listed) is left as it is. Unknown members, a member given
//! twice, the same option twice (also once flat and once in `options` with different values),
//! the same server or local login twice and contradictory fields are errors. Error messages
//! never repeat a string value (it may be a password).

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::spec::{
    hide_string_values, validate_sysname, OptionSetting, OptionValue, RawOptionValue, RedactedText,
    RemoteCredentials, ServerOption,
};

/// One linked server as the caller wants it. `None` fields are "leave as it is"; for the
/// nullable properties `Some(None)` asks for NULL. `Debug` hides the provider string and the
/// passwords.
#[derive(Default)]
pub struct DesiredServer {
    pub name: String,
    pub product: Option<String>,
    pub provider: Option<String>,
    pub data_source: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub provider_string: Option<Option<String>>,
    pub catalog: Option<Option<String>>,
    /// Checked settings, each option at most once (`name` is refused: no renames).
    pub options: Vec<OptionSetting>,
    pub logins: Vec<DesiredLogin>,
    /// `is_nonsql_subscriber` as given; it cannot be set, only compared.
    pub nonsql_subscriber: Option<bool>,
    /// Drop the mapping for every login even without `EXACT_LOGINS` (the BizTalk sync's
    /// `drop_global_mapping`); not a JSON member.
    pub drop_global_mapping: bool,
}

impl std::fmt::Debug for DesiredServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesiredServer")
            .field("name", &self.name)
            .field("product", &self.product)
            .field("provider", &self.provider)
            .field("data_source", &self.data_source)
            .field("location", &self.location)
            .field(
                "provider_string",
                &self.provider_string.as_ref().map(RedactedText),
            )
            .field("catalog", &self.catalog)
            .field("options", &self.options)
            .field("logins", &self.logins)
            .field("nonsql_subscriber", &self.nonsql_subscriber)
            .field("drop_global_mapping", &self.drop_global_mapping)
            .finish()
    }
}

/// One listed login mapping. `Debug` hides the password.
#[derive(Debug)]
pub struct DesiredLogin {
    /// `None`: the mapping for every login.
    pub local_login: Option<String>,
    pub credentials: RemoteCredentials,
}

impl DesiredLogin {
    pub fn remote_user(&self) -> Option<&str> {
        match &self.credentials {
            RemoteCredentials::SelfMapping => None,
            RemoteCredentials::Remote { user, .. } => user.as_deref(),
        }
    }

    pub fn password(&self) -> Option<&Zeroizing<String>> {
        match &self.credentials {
            RemoteCredentials::SelfMapping => None,
            RemoteCredentials::Remote { password, .. } => password.as_ref(),
        }
    }
}

/// Parses `desired_json` (one object or an array of them) and checks every field.
pub fn parse_desired(json: &str) -> Result<Vec<DesiredServer>, Error> {
    let raw: OneOrMany = serde_json::from_str(json).map_err(|e| {
        Error::invalid_argument(format!(
            "invalid desired state JSON: {}",
            hide_string_values(&e.to_string())
        ))
    })?;
    let servers = raw
        .0
        .into_iter()
        .map(RawServer::check)
        .collect::<Result<Vec<_>, _>>()?;
    for (index, server) in servers.iter().enumerate() {
        if servers[..index]
            .iter()
            .any(|other| same_name(&other.name, &server.name))
        {
            return Err(Error::invalid_argument(format!(
                "linked server '{}' is listed more than once",
                server.name
            )));
        }
    }
    Ok(servers)
}

/// Names as SQL Server compares them by default: any case, trailing blanks ignored.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches(' ').to_lowercase() == b.trim_end_matches(' ').to_lowercase()
}

struct OneOrMany(Vec<RawServer>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectOrArray;
        impl<'de> Visitor<'de> for ObjectOrArray {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a linked server object or an array of them")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OneOrMany, A::Error> {
                Ok(OneOrMany(vec![RawServer::deserialize(
                    MapAccessDeserializer::new(map),
                )?]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OneOrMany, A::Error> {
                Ok(OneOrMany(Vec::<RawServer>::deserialize(
                    SeqAccessDeserializer::new(seq),
                )?))
            }
        }
        deserializer.deserialize_any(ObjectOrArray)
    }
}

/// `Some(value)` when the member is present, even as null (serde leaves absent ones `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// The `options` object, keeping every member so that one given twice is an error.
#[derive(Default)]
struct OptionMembers(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OptionMembers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = OptionMembers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of sp_serveroption names and values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OptionMembers, A::Error> {
                let mut members = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, serde_json::Value>()? {
                    members.push((name, value));
                }
                Ok(OptionMembers(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    name: String,
    #[allow(dead_code)] // read-only members of lsv_get's output
    server_id: Option<serde::de::IgnoredAny>,
    #[allow(dead_code)]
    modify_date: Option<serde::de::IgnoredAny>,
    product: Option<String>,
    provider: Option<String>,
    #[serde(default, deserialize_with = "present")]
    data_source: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    location: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    provider_string: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    catalog: Option<Option<String>>,
    #[serde(default)]
    options: OptionMembers,
    connect_timeout: Option<i64>,
    query_timeout: Option<i64>,
    rpc: Option<bool>,
    rpc_out: Option<bool>,
    data_access: Option<bool>,
    collation_compatible: Option<bool>,
    use_remote_collation: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    collation_name: Option<Option<String>>,
    lazy_schema_validation: Option<bool>,
    is_system: Option<bool>,
    is_publisher: Option<bool>,
    is_subscriber: Option<bool>,
    is_distributor: Option<bool>,
    is_nonsql_subscriber: Option<bool>,
    remote_proc_transaction_promotion: Option<bool>,
    logins: Option<Vec<RawLogin>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogin {
    #[serde(default, deserialize_with = "present")]
    local_login: Option<Option<String>>,
    uses_self_credential: bool,
    #[serde(default)]
    remote_user: Option<String>,
    #[serde(default)]
    remote_password: Option<String>,
}

impl RawServer {
    fn check(self) -> Result<DesiredServer, Error> {
        validate_sysname("linked server name", &self.name)?;
        let name = self.name.clone();
        let in_server = |e: Error| e.context(format!("linked server '{name}'"));
        let mut options: Vec<OptionSetting> = Vec::new();
        for (option_name, value) in &self.options.0 {
            let raw = RawOptionValue::from_json(value).ok_or_else(|| {
                in_server(Error::invalid_argument(format!(
                    "server option '{option_name}' has a value of the wrong kind (an array, \
                     object or fraction)"
                )))
            })?;
            let setting = OptionSetting::parse(option_name, raw).map_err(in_server)?;
            if setting.option == ServerOption::Name {
                return Err(in_server(Error::invalid_argument(
                    "option 'name' renames a server, which ensure does not do; list the server \
                     under the wanted name",
                )));
            }
            if options.iter().any(|s| s.option == setting.option) {
                return Err(in_server(Error::invalid_argument(format!(
                    "server option '{}' is given more than once",
                    setting.option.name()
                ))));
            }
            options.push(setting);
        }
        for (member, setting) in self.flat_options().map_err(in_server)? {
            match options.iter().find(|s| s.option == setting.option) {
                Some(listed) if listed.value != setting.value => {
                    return Err(in_server(Error::invalid_argument(format!(
                        "conflicting fields: '{member}' and options.'{}' differ",
                        setting.option.name()
                    ))))
                }
                Some(_) => {}
                None => options.push(setting),
            }
        }
        let logins = match self.logins {
            None => Vec::new(),
            Some(raw) => raw
                .into_iter()
                .map(RawLogin::check)
                .collect::<Result<Vec<_>, _>>()
                .map_err(in_server)?,
        };
        for (index, login) in logins.iter().enumerate() {
            let twice = logins[..index].iter().any(|other| {
                match (&other.local_login, &login.local_login) {
                    (None, None) => true,
                    (Some(a), Some(b)) => same_name(a, b),
                    _ => false,
                }
            });
            if twice {
                return Err(in_server(Error::invalid_argument(format!(
                    "the mapping of {} is listed more than once",
                    login
                        .local_login
                        .as_deref()
                        .map_or("every login (local_login null)".to_string(), |l| format!(
                            "local login '{l}'"
                        ))
                ))));
            }
        }
        Ok(DesiredServer {
            name: self.name,
            product: self.product,
            provider: self.provider,
            data_source: self.data_source,
            location: self.location,
            provider_string: self.provider_string,
            catalog: self.catalog,
            options,
            logins,
            nonsql_subscriber: self.is_nonsql_subscriber,
            drop_global_mapping: false,
        })
    }

    /// The option columns of lsv_get's output as settings, with the member each came from.
    fn flat_options(&self) -> Result<Vec<(&'static str, OptionSetting)>, Error> {
        let flags = [
            ("rpc", ServerOption::Rpc, self.rpc),
            ("rpc_out", ServerOption::RpcOut, self.rpc_out),
            ("data_access", ServerOption::DataAccess, self.data_access),
            (
                "collation_compatible",
                ServerOption::CollationCompatible,
                self.collation_compatible,
            ),
            (
                "use_remote_collation",
                ServerOption::UseRemoteCollation,
                self.use_remote_collation,
            ),
            (
                "lazy_schema_validation",
                ServerOption::LazySchemaValidation,
                self.lazy_schema_validation,
            ),
            ("is_system", ServerOption::System, self.is_system),
            ("is_publisher", ServerOption::Pub, self.is_publisher),
            ("is_subscriber", ServerOption::Sub, self.is_subscriber),
            ("is_distributor", ServerOption::Dist, self.is_distributor),
            (
                "remote_proc_transaction_promotion",
                ServerOption::RemoteProcTransactionPromotion,
                self.remote_proc_transaction_promotion,
            ),
        ];
        let mut settings = Vec::new();
        for (member, option, value) in flags {
            if let Some(flag) = value {
                // `system` can only be turned on; `false` (as lsv_get reports it) is kept as a
                // value to compare, and the planner refuses to turn it off.
                settings.push((
                    member,
                    OptionSetting {
                        option,
                        value: OptionValue::Flag(flag),
                    },
                ));
            }
        }
        for (member, option, value) in [
            (
                "connect_timeout",
                ServerOption::ConnectTimeout,
                self.connect_timeout,
            ),
            (
                "query_timeout",
                ServerOption::QueryTimeout,
                self.query_timeout,
            ),
        ] {
            if let Some(seconds) = value {
                settings.push((
                    member,
                    OptionSetting::parse(option.name(), RawOptionValue::Int(seconds))?,
                ));
            }
        }
        if let Some(collation) = &self.collation_name {
            let raw = collation
                .as_deref()
                .map_or(RawOptionValue::Null, RawOptionValue::Text);
            settings.push((
                "collation_name",
                OptionSetting::parse(ServerOption::CollationName.name(), raw)?,
            ));
        }
        Ok(settings)
    }
}

impl RawLogin {
    fn check(self) -> Result<DesiredLogin, Error> {
        let Some(local_login) = self.local_login else {
            return Err(Error::invalid_argument(
                "every entry of logins needs local_login (null: the mapping for every login)",
            ));
        };
        if let Some(login) = &local_login {
            validate_sysname("local_login", login)?;
        }
        let password = self.remote_password.map(Zeroizing::new);
        let credentials = if self.uses_self_credential {
            if self.remote_user.is_some() || password.is_some() {
                return Err(Error::invalid_argument(
                    "conflicting fields: a mapping with uses_self_credential true takes no \
                     remote_user or remote_password",
                ));
            }
            RemoteCredentials::SelfMapping
        } else {
            if self.remote_user.is_none() && password.is_some() {
                return Err(Error::invalid_argument(
                    "conflicting fields: remote_password without remote_user",
                ));
            }
            RemoteCredentials::Remote {
                user: self.remote_user,
                password,
            }
        };
        credentials.validate()?;
        Ok(DesiredLogin {
            local_login,
            credentials,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(json: &str) -> String {
        parse_desired(json).unwrap_err().message
    }

    #[test]
    fn one_object_or_an_array() {
        assert_eq!(parse_desired(r#"{"name":"A"}"#).unwrap().len(), 1);
        let two = parse_desired(r#"[{"name":"A"},{"name":"B"}]"#).unwrap();
        assert_eq!(two[1].name, "B");
        assert!(parse_desired("[]").unwrap().is_empty());
        assert!(error(r#""A""#).contains("object or an array"));
    }

    #[test]
    fn get_output_round_trips() {
        let get = r#"{"server_id":1,"name":"BTS01","product":"SQL Server","provider":"SQLNCLI",
            "data_source":"BTS01","location":null,"provider_string":null,"catalog":null,
            "connect_timeout":0,"query_timeout":30,"rpc":true,"rpc_out":true,"data_access":true,
            "collation_compatible":false,"use_remote_collation":true,"collation_name":null,
            "lazy_schema_validation":false,"is_system":false,"is_publisher":false,
            "is_subscriber":false,"is_distributor":false,"is_nonsql_subscriber":false,
            "remote_proc_transaction_promotion":true,"modify_date":"2026-11-26T12:00:00.000",
            "logins":[{"local_login":null,"uses_self_credential":true,"remote_user":null}]}"#;
        let server = parse_desired(get).unwrap().pop().unwrap();
        assert_eq!(server.options.len(), 14);
        assert_eq!(server.location, Some(None));
        assert_eq!(server.data_source, Some(Some("BTS01".into())));
        assert_eq!(server.logins.len(), 1);
        assert!(server.logins[0].local_login.is_none());
        let absent = parse_desired(r#"{"name":"X"}"#).unwrap().pop().unwrap();
        assert_eq!(absent.location, None);
    }

    #[test]
    fn unknown_and_duplicate_members_are_errors() {
        assert!(error(r#"{"name":"A","colour":1}"#).contains("unknown field `colour`"));
        assert!(error(r#"{"name":"A","rpc":true,"rpc":false}"#).contains("duplicate field"));
        assert!(
            error(r#"{"name":"A","options":{"rpc":true,"rpc":true}}"#).contains("more than once")
        );
        assert!(
            error(r#"{"name":"A","options":{"rpc":true,"RPC":true}}"#).contains("more than once")
        );
        assert!(error(r#"[{"name":"A"},{"name":"a "}]"#).contains("more than once"));
        assert!(error(
            r#"{"name":"A","logins":[{"local_login":"x","uses_self_credential":true},
                                     {"local_login":"X","uses_self_credential":true}]}"#
        )
        .contains("more than once"));
        assert!(
            error(r#"{"name":"A","logins":[{"uses_self_credential":true}]}"#)
                .contains("needs local_login")
        );
        assert!(error(r#"{"name":"A","options":{"name":"B"}}"#).contains("renames"));
    }

    #[test]
    fn conflicting_fields_are_errors() {
        assert!(
            error(r#"{"name":"A","rpc_out":true,"options":{"rpc out":false}}"#)
                .contains("conflicting fields")
        );
        let same =
            parse_desired(r#"{"name":"A","rpc_out":true,"options":{"rpc out":"on"}}"#).unwrap();
        assert_eq!(same[0].options.len(), 1);
        assert!(error(
            r#"{"name":"A","logins":[{"local_login":null,"uses_self_credential":true,
                "remote_user":"u"}]}"#
        )
        .contains("conflicting fields"));
        assert!(error(
            r#"{"name":"A","logins":[{"local_login":null,"uses_self_credential":false,
                "remote_password":"Secret1"}]}"#
        )
        .contains("conflicting fields"));
    }

    #[test]
    fn errors_and_debug_never_show_a_password() {
        let wrong = error(
            r#"{"name":"A","logins":[{"local_login":null,"uses_self_credential":"Secret1"}]}"#,
        );
        assert!(!wrong.contains("Secret1"), "{wrong}");
        let parsed = parse_desired(
            r#"{"name":"A","logins":[{"local_login":"app","uses_self_credential":false,
                "remote_user":"u","remote_password":"Secret1"}]}"#,
        )
        .unwrap();
        assert!(!format!("{parsed:?}").contains("Secret1"));
        let provider = parse_desired(
            r#"{"name":"A","product":"","provider":"P","provider_string":"Pwd=Hidden2",
                "options":{"provider string":"Pwd=Hidden3"}}"#,
        )
        .unwrap();
        let shown = format!("{provider:?}");
        assert!(
            !shown.contains("Hidden2") && !shown.contains("Hidden3"),
            "{shown}"
        );
        assert_eq!(parsed[0].logins[0].password().unwrap().as_str(), "Secret1");
    }
}
