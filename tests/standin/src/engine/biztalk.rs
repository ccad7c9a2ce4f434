//! The BizTalk fixture: `BizTalkMgmtDb` with `dbo.admv_BackupDatabases`, plus the databases whose
//! DB-side backup procedures (`dbo.sp_GetServerName`) this instance hosts.
//!
//! File shape (JSON):
//! `{"databases": ["BizTalkMsgBoxDb"], "backup_databases": [{"ServerName": "B", "DatabaseName": "BizTalkMsgBoxDb"}]}`
//! `databases` is optional; `BizTalkMgmtDb` always exists when a fixture is loaded, and its view
//! adds this instance's own row in front of `backup_databases` as the real view does.

use std::path::Path;

use serde::Deserialize;

pub const MGMT_DB: &str = "BizTalkMgmtDb";

#[derive(Debug, Clone, Deserialize)]
pub struct BackupDatabase {
    #[serde(rename = "ServerName")]
    pub server_name: String,
    #[serde(rename = "DatabaseName")]
    pub database_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    #[serde(default)]
    pub databases: Vec<String>,
    pub backup_databases: Vec<BackupDatabase>,
}

impl Fixture {
    pub fn load(path: &Path) -> Result<Fixture, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read BizTalk fixture {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("bad BizTalk fixture {}: {e}", path.display()))
    }

    /// Every BizTalk database on this instance, the management database first.
    pub fn databases(&self) -> impl Iterator<Item = &str> {
        std::iter::once(MGMT_DB).chain(self.databases.iter().map(String::as_str))
    }
}
