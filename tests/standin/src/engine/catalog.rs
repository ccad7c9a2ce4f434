//! The instance's catalog: `sys.servers`, `sys.linked_logins` and the logins
//! (`sys.server_principals`), with the permission model of the fixed server roles.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::value::Collation;
use crate::config::ServerRole;

/// The current time at `datetime` precision (SQL Server's `GETDATE()`, instance local time).
pub fn now() -> NaiveDateTime {
    use chrono::Timelike;
    let now = chrono::Local::now().naive_local();
    now.with_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(now)
}

/// Dates travel as text in the state file (chrono's serde support is not enabled here).
mod date_text {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f";

    pub fn serialize<S: Serializer>(date: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&date.format(FORMAT).to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let text = String::deserialize(d)?;
        NaiveDateTime::parse_from_str(&text, FORMAT).map_err(serde::de::Error::custom)
    }
}

/// One row of `sys.servers` (column order and meaning: reference section 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerRow {
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
    pub is_linked: bool,
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
    #[serde(with = "date_text")]
    pub modify_date: NaiveDateTime,
    pub is_rda_server: bool,
}

impl ServerRow {
    /// The row of the local instance (server_id 0), values as observed on SQL Server 2025.
    pub fn local(name: &str) -> Self {
        ServerRow {
            server_id: 0,
            name: name.to_string(),
            product: "SQL Server".into(),
            provider: "SQLNCLI".into(),
            data_source: Some(name.to_string()),
            location: None,
            provider_string: None,
            catalog: None,
            connect_timeout: 0,
            query_timeout: 0,
            is_linked: false,
            rpc: true,
            rpc_out: true,
            data_access: false,
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
            modify_date: now(),
            is_rda_server: false,
        }
    }

    /// Providers that speak TDS to another SQL Server, so the stand-in can hop through them.
    pub fn uses_sql_server_provider(&self) -> bool {
        let provider = self.provider.to_ascii_uppercase();
        ["SQLNCLI", "MSOLEDBSQL", "SQLOLEDB"]
            .iter()
            .any(|p| provider.starts_with(p))
    }

    /// The OLE DB provider a current Windows instance loads for this link (SQLNCLI maps to
    /// MSOLEDBSQL from SQL Server 2019 on); used in provider messages.
    pub fn effective_provider(&self) -> String {
        if self.provider.to_ascii_uppercase().starts_with("SQLNCLI") {
            "MSOLEDBSQL".into()
        } else {
            self.provider.clone()
        }
    }
}

/// One row of `sys.linked_logins`. The remote password is kept only in memory.
#[derive(Clone, Serialize, Deserialize)]
pub struct LinkedLogin {
    pub server_id: i32,
    pub local_principal_id: i32,
    pub uses_self_credential: bool,
    pub remote_name: Option<String>,
    /// Whether a password was given; the password itself is never written to the state file.
    pub has_password: bool,
    #[serde(skip)]
    pub remote_password: Option<Secret>,
    #[serde(with = "date_text")]
    pub modify_date: NaiveDateTime,
}

impl std::fmt::Debug for LinkedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedLogin")
            .field("server_id", &self.server_id)
            .field("local_principal_id", &self.local_principal_id)
            .field("uses_self_credential", &self.uses_self_credential)
            .field("remote_name", &self.remote_name)
            .field("has_password", &self.has_password)
            .finish()
    }
}

/// A password that never shows in Debug output and is overwritten when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: &str) -> Self {
        Secret(text.to_string())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // SAFETY: zero bytes are valid UTF-8, so the string stays well-formed.
        unsafe { self.0.as_bytes_mut() }.fill(0);
    }
}

/// A SQL login (`sys.server_principals` type `S`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Login {
    pub name: String,
    pub principal_id: i32,
    #[serde(skip)]
    pub password: Option<Secret>,
    #[serde(skip)]
    pub role: ServerRole,
    #[serde(with = "date_text")]
    pub create_date: NaiveDateTime,
}

/// Server-level permissions the procedures check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    AlterAnyLinkedServer,
    AlterAnyLogin,
}

/// What a fixed server role grants (sysadmin: everything; setupadmin: linked servers;
/// securityadmin: logins, per the server-level roles documentation).
pub fn role_grants(role: ServerRole, permission: Permission) -> bool {
    match role {
        ServerRole::Sysadmin => true,
        ServerRole::Setupadmin => permission == Permission::AlterAnyLinkedServer,
        ServerRole::Securityadmin => permission == Permission::AlterAnyLogin,
        ServerRole::None => false,
    }
}

/// Fixed server roles as `sys.server_principals` lists them (name, principal_id).
pub const FIXED_ROLES: [(&str, i32); 10] = [
    ("public", 2),
    ("sysadmin", 3),
    ("securityadmin", 4),
    ("serveradmin", 5),
    ("setupadmin", 6),
    ("processadmin", 7),
    ("diskadmin", 8),
    ("dbcreator", 9),
    ("bulkadmin", 10),
    ("##MS_ServerStateReader##", 11),
];

/// The catalog state of one instance; what the state file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub servers: Vec<ServerRow>,
    pub linked_logins: Vec<LinkedLogin>,
    pub logins: Vec<Login>,
}

impl Catalog {
    /// The server named `name` under the instance collation.
    pub fn find_server(&self, collation: Collation, name: &str) -> Option<&ServerRow> {
        self.servers.iter().find(|s| collation.eq(&s.name, name))
    }
    /// The login named `name` under the instance collation.
    pub fn find_login(&self, collation: Collation, name: &str) -> Option<&Login> {
        self.logins.iter().find(|l| collation.eq(&l.name, name))
    }
    pub fn login_by_id(&self, principal_id: i32) -> Option<&Login> {
        self.logins.iter().find(|l| l.principal_id == principal_id)
    }
    pub fn mapping(&self, server_id: i32, principal_id: i32) -> Option<&LinkedLogin> {
        self.linked_logins
            .iter()
            .find(|m| m.server_id == server_id && m.local_principal_id == principal_id)
    }
    /// The mapping a login uses for a server: its own beats the all-logins (principal 0) one.
    pub fn effective_mapping(&self, server_id: i32, principal_id: i32) -> Option<&LinkedLogin> {
        self.mapping(server_id, principal_id)
            .or_else(|| self.mapping(server_id, 0))
    }
    /// Next server_id: one above the highest present (reference open question 9).
    pub fn next_server_id(&self) -> i32 {
        self.servers.iter().map(|s| s.server_id).max().unwrap_or(0) + 1
    }
    /// Inserts or replaces the mapping of (server, principal).
    pub fn upsert_mapping(&mut self, mapping: LinkedLogin) {
        self.linked_logins.retain(|m| {
            !(m.server_id == mapping.server_id
                && m.local_principal_id == mapping.local_principal_id)
        });
        self.linked_logins.push(mapping);
        self.linked_logins
            .sort_by_key(|m| (m.server_id, m.local_principal_id));
    }
}
