//! What callers describe (specs, credentials) and what the library reports (snapshots).
//! These types are also the JSON documents of the C ABI.
//!
//! CONTRACT (JSON shapes used by the C ABI, C# and PowerShell; keep field names):
//! - `LinkedServerSpec` (create input): `{"product": "SQL Server"}` or `{"product": "",
//!   "provider": "MSOLEDBSQL", "data_source": "host\\inst", "location": null,
//!   "provider_string": null, "catalog": null, "options": {"rpc out": true, "query timeout": 30}}`;
//!   unknown fields are rejected.
//! - `LinkedServer` (get/list output), see the struct.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkedServerSpec {
    pub product: Option<String>,
    pub provider: Option<String>,
    pub data_source: Option<String>,
    pub location: Option<String>,
    pub provider_string: Option<String>,
    pub catalog: Option<String>,
    /// `sp_serveroption` name → value (bool, non-negative integer, string or null), applied
    /// after creation as part of the same all-or-nothing call.
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// How a local login reaches the linked server. Debug never shows the password.
pub enum RemoteCredentials {
    /// `@useself = 'TRUE'`: the caller's own credentials.
    SelfMapping,
    /// `@useself = 'FALSE'` with a remote login (both `None`: no security context).
    Remote { user: Option<String>, password: Option<Zeroizing<String>> },
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

/// A snapshot of one `sys.servers` row and its mappings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
