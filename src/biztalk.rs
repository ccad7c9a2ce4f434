//! The "Backup BizTalk Server" pre-step: every SQL Server instance that holds a BizTalk
//! database gets a working linked server on the management instance.
//!
//! Requests: the catalog read (as `ensure`), the backup list (BizTalk's own
//! `<database>.dbo.sp_GetBackupDatabasesForServer`, which returns `admv_BackupDatabases`; called
//! as an RPC by its bracket-quoted name, since a database name cannot be a parameter and no SQL
//! text is built from input), one write for all servers, then per server `sp_testlinkedserver`
//! and the job's own first remote call, `[server].[database].[dbo].[sp_GetServerName]`, again an
//! RPC by name, whose OUTPUT is the remote `@@SERVERNAME`.

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use tiberius::{ColumnData, Command, CommandItem};

use crate::api::{Client, Session};
use crate::converge::{plan_server, Action, EnsureFlags, ServerPlan};
use crate::desired::{same_name, DesiredLogin, DesiredServer};
use crate::ensure::{ReportedChange, ServerReport};
use crate::error::{Error, Status};
use crate::exec::{self, messages, TdsClient};
use crate::spec::{
    hide_string_values, validate_sysname, OptionSetting, OptionValue, RemoteCredentials,
    ServerOption,
};

/// `options_json` of `lsv_biztalk_sync`; every member optional, unknown ones an error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncOptions {
    /// The management database (default `BizTalkMgmtDb`).
    #[serde(default = "default_database")]
    pub database: String,
    /// The login the backup job runs as, mapped to itself (default: the connected login).
    #[serde(default)]
    pub job_login: Option<String>,
    /// Also drop the mapping for every login (the BizTalk documentation's advice).
    #[serde(default)]
    pub drop_global_mapping: bool,
    /// Test each link and call a procedure through it (default true).
    #[serde(default = "yes")]
    pub verify: bool,
}

fn default_database() -> String {
    "BizTalkMgmtDb".into()
}

fn yes() -> bool {
    true
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            database: default_database(),
            job_login: None,
            drop_global_mapping: false,
            verify: true,
        }
    }
}

impl SyncOptions {
    /// `None` or `"{}"`: every default.
    pub fn from_json(json: Option<&str>) -> Result<SyncOptions, Error> {
        let options: SyncOptions = match json {
            None => SyncOptions::default(),
            Some(json) => serde_json::from_str(json).map_err(|e| {
                Error::invalid_argument(format!(
                    "invalid BizTalk sync options JSON: {}",
                    hide_string_values(&e.to_string())
                ))
            })?,
        };
        validate_sysname("database", &options.database)?;
        if let Some(login) = &options.job_login {
            validate_sysname("job_login", login)?;
        }
        Ok(options)
    }
}

/// Where a server's check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Planning or writing its linked server failed.
    Configure,
    /// `sp_testlinkedserver` could not reach it.
    Network,
    /// It refused the login (or no mapping covers the caller).
    Login,
    /// The remote procedure call through the link failed.
    Rpc,
}

/// One backed-up server in the report.
#[derive(Debug, Clone, Serialize)]
pub struct SyncServer {
    /// As stored in `admv_BackupDatabases`.
    pub name: String,
    /// Its databases in `admv_BackupDatabases`.
    pub databases: Vec<String>,
    /// `None` when planning it failed.
    pub action: Option<Action>,
    pub changes: Vec<ReportedChange>,
    pub sql: String,
    /// `ok`, `stage`, `number`, `message`, `remote_server_name`.
    #[serde(flatten)]
    pub probe: Probe,
}

/// Whether a link works, and where it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub ok: bool,
    pub stage: Option<Stage>,
    /// The SQL error number of the failure, if the server raised one.
    pub number: Option<i32>,
    pub message: Option<String>,
    /// `@@SERVERNAME` of the instance the link reached.
    pub remote_server_name: Option<String>,
}

impl Probe {
    fn passed() -> Probe {
        Probe {
            ok: true,
            stage: None,
            number: None,
            message: None,
            remote_server_name: None,
        }
    }

    fn fail(&mut self, stage: Stage, error: &Error) {
        self.ok = false;
        self.stage = Some(stage);
        self.number = error.sql_number();
        self.message = Some(error.message.clone());
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// Every server configured and (unless `verify` was off or a dry run) verified.
    pub ok: bool,
    pub dry_run: bool,
    pub requests: u32,
    pub database: String,
    pub job_login: String,
    /// `@@SERVERNAME` of this instance, left out of the list.
    pub instance: String,
    pub servers: Vec<SyncServer>,
}

/// The linked server the job needs for `name` (a `SQL Server` link when it is created).
fn desired_link(name: &str, job_login: &str, drop_global_mapping: bool) -> DesiredServer {
    let on = |option| OptionSetting {
        option,
        value: OptionValue::Flag(true),
    };
    DesiredServer {
        name: name.to_string(),
        product: Some(crate::plan::SQL_SERVER_PRODUCT.into()),
        options: vec![on(ServerOption::Rpc), on(ServerOption::RpcOut)],
        logins: vec![DesiredLogin {
            local_login: Some(job_login.to_string()),
            credentials: RemoteCredentials::SelfMapping,
        }],
        drop_global_mapping,
        ..DesiredServer::default()
    }
}

/// `[part]` with `]` doubled: an identifier in a procedure name, never SQL text.
fn quoted(part: &str) -> String {
    format!("[{}]", part.replace(']', "]]"))
}

/// The rows of `admv_BackupDatabases`: (server, database).
async fn backup_databases(
    client: &mut TdsClient,
    database: &str,
) -> Result<Vec<(String, String)>, Error> {
    let procedure = format!(
        "{}.[dbo].[sp_GetBackupDatabasesForServer]",
        quoted(database)
    );
    let command = Command::new(procedure);
    messages::collect(async {
        let mut rows = Vec::new();
        let mut stream = command.exec(client).await.map_err(exec::request_error)?;
        while let Some(item) = stream.try_next().await.map_err(exec::request_error)? {
            if let CommandItem::Row(row) = item {
                let text = |index| {
                    row.try_get::<&str, _>(index)
                        .ok()
                        .flatten()
                        .map(str::to_string)
                };
                if let (Some(server), Some(db)) = (text(0), text(1)) {
                    rows.push((server, db));
                }
            }
        }
        Ok(rows)
    })
    .await
    .map_err(|e| e.context(format!("reading the backup list of database '{database}'")))
}

/// A procedure call through the link that returns the remote `@@SERVERNAME`: in a BizTalk
/// database the job's own first remote call, `sp_GetServerName`; otherwise `sp_executesql`
/// in the remote `master` with a fixed statement.
async fn remote_server_name(
    client: &mut TdsClient,
    server: &str,
    database: Option<&str>,
) -> Result<Option<String>, Error> {
    let command = match database {
        Some(database) => {
            let mut command = Command::new(format!(
                "{}.{}.[dbo].[sp_GetServerName]",
                quoted(server),
                quoted(database)
            ));
            command.bind_out_param("@ServerName", "");
            command
        }
        None => {
            let mut command =
                Command::new(format!("{}.[master].[sys].[sp_executesql]", quoted(server)));
            command.bind_param("stmt", "SET @ServerName = @@SERVERNAME;");
            command.bind_param("params", "@ServerName nvarchar(128) OUTPUT");
            command.bind_out_param("@ServerName", "");
            command
        }
    };
    messages::collect(async {
        let mut name = None;
        let mut stream = command.exec(client).await.map_err(exec::request_error)?;
        while let Some(item) = stream.try_next().await.map_err(exec::request_error)? {
            if let CommandItem::ReturnValue(value) = item {
                if let ColumnData::String(Some(text)) = value.data() {
                    name = Some(text.to_string());
                }
            }
        }
        Ok(name)
    })
    .await
}

impl Session<'_> {
    /// `sp_testlinkedserver`, then the remote call; the requests made. `Err` when the
    /// connection to this instance was lost (the next request reconnects) or the link does not
    /// exist (7202).
    async fn probe(&mut self, server: &str, database: Option<&str>) -> Result<(Probe, u32), Error> {
        let mut probe = Probe::passed();
        let tested = self
            .request(|mut client| async move {
                let outcome = exec::test_server(&mut client, server).await;
                (client, outcome)
            })
            .await;
        if let Err(error) = tested {
            if exec::loses_connection(&error) || error.status == Status::NotFound {
                return Err(error);
            }
            probe.fail(test_stage(&error), &error);
            return Ok((probe, 1));
        }
        let called = self
            .request(|mut client| async move {
                let outcome = remote_server_name(&mut client, server, database).await;
                (client, outcome)
            })
            .await;
        match called {
            Ok(remote) => probe.remote_server_name = remote,
            Err(error) if exec::loses_connection(&error) => return Err(error),
            Err(error) => probe.fail(Stage::Rpc, &error),
        }
        Ok((probe, 2))
    }
}

/// Where `sp_testlinkedserver` failed: a refused or unmapped login, else the network.
fn test_stage(error: &Error) -> Stage {
    match error.sql_number() {
        Some(18456 | 18452 | 7416 | 18470 | 18486 | 18487 | 18488) => Stage::Login,
        _ => Stage::Network,
    }
}

impl Client {
    /// The BizTalk backup pre-step (see the module docs). Per-server failures are in the
    /// report (`ok` false); an error only when the list or this instance could not be read.
    pub fn biztalk_sync(
        &self,
        options: &SyncOptions,
        flags: EnsureFlags,
    ) -> Result<SyncReport, Error> {
        self.run(|mut session| async move {
            let (state, instance) = session.read_state().await?;
            let database = options.database.as_str();
            let rows = session
                .request(|mut client| async move {
                    let outcome = backup_databases(&mut client, database).await;
                    (client, outcome)
                })
                .await
                // Nothing was changed yet.
                .map_err(|mut error| {
                    error.outcome_uncertain = false;
                    error
                })?;
            let mut requests = 2;
            let job_login = options.job_login.clone().unwrap_or(instance.login.clone());

            let mut servers: Vec<SyncServer> = Vec::new();
            for (server, db) in rows {
                if same_name(&server, &instance.server_name) {
                    continue;
                }
                match servers
                    .iter_mut()
                    .find(|s| state.names_equal(&s.name, &server))
                {
                    Some(known) => known.databases.push(db),
                    None => servers.push(SyncServer {
                        name: server,
                        databases: vec![db],
                        action: None,
                        changes: Vec::new(),
                        sql: String::new(),
                        probe: Probe::passed(),
                    }),
                }
            }

            let mut plans: Vec<ServerPlan> = Vec::new();
            for server in &mut servers {
                let mut desired =
                    desired_link(&server.name, &job_login, options.drop_global_mapping);
                // An existing link keeps its definition (e.g. an alias through MSOLEDBSQL to a
                // port or listener) unless re-creating is allowed; the check shows if it works.
                if !flags.allow_recreate && state.find_server(&server.name).is_some() {
                    desired.product = None;
                }
                match plan_server(&state, &desired, flags) {
                    Ok(plan) => {
                        let shown = ServerReport::of(&plan);
                        server.action = Some(shown.action);
                        server.changes = shown.changes;
                        server.sql = shown.sql;
                        plans.push(plan);
                    }
                    Err(error) => server.probe.fail(Stage::Configure, &error),
                }
            }
            if !flags.dry_run {
                match session.write_plans(&plans).await {
                    Ok(sent) => requests += sent,
                    Err(error) if exec::loses_connection(&error) => return Err(error),
                    Err(error) => {
                        requests += 1;
                        for server in servers.iter_mut().filter(|s| s.probe.ok) {
                            server.probe.fail(Stage::Configure, &error);
                        }
                    }
                }
            }
            if options.verify && !flags.dry_run {
                for server in servers.iter_mut().filter(|s| s.probe.ok) {
                    // A lost connection fails this server's check; the next one reconnects.
                    match session
                        .probe(&server.name, Some(server.databases[0].as_str()))
                        .await
                    {
                        Ok((probe, sent)) => {
                            server.probe = probe;
                            requests += sent;
                        }
                        Err(error) => {
                            server.probe.fail(Stage::Network, &error);
                            requests += 1;
                        }
                    }
                }
            }
            Ok(SyncReport {
                ok: servers.iter().all(|s| s.probe.ok),
                dry_run: flags.dry_run,
                requests,
                database: options.database.clone(),
                job_login,
                instance: instance.server_name,
                servers,
            })
        })
    }
}

impl Client {
    /// Checks that linked server `server` works: `sp_testlinkedserver`, then a procedure call
    /// through it (`sp_executesql` in the remote `master`, returning its `@@SERVERNAME`). A
    /// failing link is `Ok` with the stage and error in the [`Probe`]; `Err` only when this
    /// instance could not be asked.
    pub fn probe(&self, server: &str) -> Result<Probe, Error> {
        validate_sysname("linked server name", server)?;
        self.run(|mut session| async move {
            let (probe, _) = session.probe(server, None).await?;
            Ok(probe)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_have_defaults_and_refuse_unknown_members() {
        assert_eq!(
            SyncOptions::from_json(None).unwrap(),
            SyncOptions::default()
        );
        let given = SyncOptions::from_json(Some(
            r#"{"database":"BTMgmt","job_login":"DOMAIN\\svc","drop_global_mapping":true,
                "verify":false}"#,
        ))
        .unwrap();
        assert_eq!(given.database, "BTMgmt");
        assert!(given.drop_global_mapping && !given.verify);
        assert!(SyncOptions::from_json(Some(r#"{"databse":"x"}"#)).is_err());
        assert!(SyncOptions::from_json(Some(r#"{"database":""}"#)).is_err());
        assert_eq!(
            SyncOptions::from_json(Some("{}")).unwrap(),
            SyncOptions::default()
        );
    }

    #[test]
    fn procedure_names_quote_every_part() {
        assert_eq!(quoted("SQL02\\BTS"), "[SQL02\\BTS]");
        assert_eq!(quoted("a]b"), "[a]]b]");
    }

    #[test]
    fn login_failures_are_the_login_stage() {
        let error = |number| {
            Error::from_server_message(crate::error::ServerMessage {
                number,
                severity: 16,
                state: 1,
                procedure: String::new(),
                line: 1,
                server: "X".into(),
                message: "m".into(),
            })
        };
        assert_eq!(test_stage(&error(18456)), Stage::Login);
        assert_eq!(test_stage(&error(7416)), Stage::Login);
        assert_eq!(test_stage(&error(7303)), Stage::Network);
        assert_eq!(
            test_stage(&Error::new(Status::Timeout, "t")),
            Stage::Network
        );
    }
}
