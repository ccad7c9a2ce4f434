//! The SQL Server behaviour: catalog (`sys.servers`, `sys.linked_logins`, `sys.server_principals`),
//! a small T-SQL interpreter, the linked-server system procedures and hops to peer instances.
//!
//! CONTRACT (used by `wire`; keep these signatures):
//! - `Instance::new(config) -> Result<Arc<Instance>, String>`
//! - `Instance::server_name(&self) -> &str`
//! - `Instance::login(self: &Arc<Self>, user, password, database: Option<&str>) -> Result<Session, Vec<ServerMessage>>`
//!   (Err = the messages the wire layer sends, in order, before closing; the last is 18456)
//! - `Session::database(&self) -> &str` (for the login ENVCHANGE)
//! - `Session::execute(&mut self, Request) -> Reply` (async; honours the FaultPlan)
//! - `Session::attention(&mut self)` (client sent ATTENTION; engine abandons the current request)
//! - `Instance::set_faults(&self, FaultPlan)`, `Instance::connection_stats(&self) -> Vec<ConnectionStats>`

mod biztalk;
mod catalog;
mod exec;
mod faults;
mod hop;
mod lexer;
mod messages;
mod parser;
mod persist;
mod procedures;
mod raise;
mod select;
mod value;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::{FaultPlan, InstanceConfig, ServerRole};
use crate::types::{AfterReply, Reply, Request, ServerMessage};
use parser::ParamDeclarations;

/// A statement prepared by sp_prepare / sp_prepexec and its parameter declarations.
type Prepared = (String, ParamDeclarations);

use catalog::{Catalog, Permission, Secret};
pub use catalog::{LinkedLogin, ServerRow};
use value::Collation;

/// Counters of one client connection (`Session`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    pub connection_id: u64,
    pub login: String,
    /// Requests answered or faulted (SQL batches and RPC messages).
    pub requests: u64,
    /// RPC calls (a message can hold several).
    pub rpc_calls: u64,
    pub batches: u64,
    /// ATTENTION signals received.
    pub attentions: u64,
    /// Requests that carried RESETCONNECTION (a pool reusing the connection).
    pub resets: u64,
}

pub struct Instance {
    config: InstanceConfig,
    collation: Collation,
    catalog: Mutex<Catalog>,
    faults: Mutex<FaultPlan>,
    stats: Mutex<Vec<ConnectionStats>>,
    biztalk: Option<biztalk::Fixture>,
    next_connection: AtomicU64,
    next_transaction: AtomicU64,
}

impl Instance {
    pub fn new(config: InstanceConfig) -> Result<Arc<Instance>, String> {
        let collation = Collation {
            case_sensitive: config.case_sensitive,
        };
        let biztalk = match &config.biztalk {
            Some(path) => Some(biztalk::Fixture::load(path)?),
            None => None,
        };
        let stored = match &config.state_file {
            Some(path) => persist::load(path)?,
            None => None,
        };
        let catalog = persist::initial_catalog(&config, collation, stored)?;
        if let Some(path) = &config.state_file {
            persist::save_if_changed(path, &catalog)?;
        }
        Ok(Arc::new(Instance {
            faults: Mutex::new(config.faults.clone()),
            config,
            collation,
            catalog: Mutex::new(catalog),
            stats: Mutex::new(Vec::new()),
            biztalk,
            next_connection: AtomicU64::new(1),
            next_transaction: AtomicU64::new(1),
        }))
    }

    pub fn server_name(&self) -> &str {
        &self.config.server_name
    }

    /// Err: what SQL Server sends before closing the connection, in order: 18456 alone for a
    /// bad login or password; 4060 then 18456 for a database that cannot be opened.
    pub fn login(
        self: &Arc<Self>,
        user: &str,
        password: &str,
        database: Option<&str>,
    ) -> Result<Session, Vec<ServerMessage>> {
        let login_failed = || self.stamp(messages::message(18456, &[user]));
        let (name, principal_id, role) = {
            let catalog = self.lock_catalog();
            let login = catalog
                .find_login(self.collation, user)
                .ok_or_else(|| vec![login_failed()])?;
            let matches = login
                .password
                .as_ref()
                .is_some_and(|p| p.expose() == password);
            if !matches {
                return Err(vec![login_failed()]);
            }
            (login.name.clone(), login.principal_id, login.role)
        };
        let database = match database.filter(|d| !d.is_empty()) {
            Some(requested) => self.database_name(requested).ok_or_else(|| {
                let cannot_open = self.stamp(messages::message(4060, &[requested]));
                vec![cannot_open, login_failed()]
            })?,
            None => "master".to_string(),
        };
        let connection_id = self.next_connection.fetch_add(1, Ordering::Relaxed);
        self.lock_stats().push(ConnectionStats {
            connection_id,
            login: name.clone(),
            ..Default::default()
        });
        Ok(Session {
            instance: Arc::clone(self),
            connection_id,
            login: name,
            password: Secret::new(password),
            principal_id,
            role,
            login_database: database.clone(),
            database,
            trancount: 0,
            transaction: 0,
            nocount: false,
            implicit_transactions: false,
            requests: 0,
            prepared: HashMap::new(),
            try_levels: Vec::new(),
            caught: Vec::new(),
            last_error: 0,
            fatal: false,
            calls: 0,
            dropped: false,
        })
    }

    pub fn set_faults(&self, faults: FaultPlan) {
        *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    pub fn faults(&self) -> FaultPlan {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The counters of every connection made since start, closed ones included: tests count
    /// the connections and requests a client made, including the ones it dropped.
    pub fn connection_stats(&self) -> Vec<ConnectionStats> {
        self.lock_stats().clone()
    }

    /// A snapshot of `sys.servers` (all rows, as a sysadmin sees them).
    pub fn servers(&self) -> Vec<ServerRow> {
        self.lock_catalog().servers.clone()
    }

    /// A snapshot of `sys.linked_logins` (passwords are not part of the Debug output).
    pub fn linked_logins(&self) -> Vec<LinkedLogin> {
        self.lock_catalog().linked_logins.clone()
    }

    fn lock_catalog(&self) -> MutexGuard<'_, Catalog> {
        self.catalog.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_stats(&self) -> MutexGuard<'_, Vec<ConnectionStats>> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the state file after a change; a failure is reported on stderr and does not fail
    /// the procedure (the in-memory catalog stays authoritative).
    fn persist(&self, catalog: &Catalog) {
        if let Some(path) = &self.config.state_file {
            if let Err(err) = persist::save(path, catalog) {
                eprintln!(
                    "tds-standin: cannot write state file {}: {err}",
                    path.display()
                );
            }
        }
    }

    /// The database's canonical name when it exists on this instance.
    fn database_name(&self, name: &str) -> Option<String> {
        if self.collation.eq(name, "master") {
            return Some("master".into());
        }
        self.biztalk
            .as_ref()?
            .databases()
            .find(|db| self.collation.eq(db, name))
            .map(str::to_string)
    }

    fn stamp(&self, mut msg: ServerMessage) -> ServerMessage {
        msg.server = self.config.server_name.clone();
        msg
    }
}

/// One client connection's state.
pub struct Session {
    instance: Arc<Instance>,
    connection_id: u64,
    login: String,
    /// Kept for linked-server hops mapped "as self"; never shown.
    password: Secret,
    principal_id: i32,
    role: ServerRole,
    /// The database of the login, where a reset returns to.
    login_database: String,
    database: String,
    trancount: u32,
    transaction: u64,
    nocount: bool,
    implicit_transactions: bool,
    requests: u64,
    /// Statements prepared by sp_prepare / sp_prepexec, by handle.
    prepared: HashMap<i32, Prepared>,
    /// The nesting levels of the TRY blocks running now, outermost first.
    try_levels: Vec<u32>,
    /// The errors of the CATCH blocks running now, innermost last (ERROR_NUMBER() & co.).
    caught: Vec<ServerMessage>,
    /// `@@ERROR`: the error number of the last statement, 0 after a success.
    last_error: i32,
    /// An error of severity 20 or more was raised: the connection ends after the reply.
    fatal: bool,
    /// Procedure calls so far (FaultPlan's call numbers).
    calls: u64,
    /// A `drop_at_call` fault struck: the connection closes without an answer.
    dropped: bool,
}

impl Session {
    pub fn database(&self) -> &str {
        &self.database
    }

    pub async fn execute(&mut self, request: Request) -> Reply {
        self.requests += 1;
        let plan = self.instance.faults();
        self.count_request(&request);
        if plan.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(plan.latency_ms)).await;
        }
        if let Some(reply) = faults::intercept(&plan, self.requests, &request, |msg| {
            self.instance.stamp(msg)
        }) {
            return reply;
        }
        // An attention abandons a request wherever it was: no TRY or CATCH block outlives it.
        self.try_levels.clear();
        self.caught.clear();
        let items = match request {
            Request::Batch(text) => self.run_batch(&text).await,
            Request::Rpc(calls) => self.run_rpcs(calls).await,
        };
        if self.dropped {
            return Reply {
                items: Vec::new(),
                after: AfterReply::Disconnect,
            };
        }
        Reply {
            items: exec::finish(items),
            after: if self.fatal {
                AfterReply::Disconnect
            } else {
                AfterReply::Continue
            },
        }
    }

    pub fn attention(&mut self) {
        self.update_stats(|s| s.attentions += 1);
    }

    /// RESETCONNECTION (what `sp_reset_connection` does for a pooled connection): the open
    /// transaction rolled back unless `keep_transaction`, the login's database, SET options
    /// back to their defaults. Prepared handles stay (the pool's client keeps using them).
    pub fn reset(&mut self, keep_transaction: bool) {
        if !keep_transaction {
            self.trancount = 0;
        }
        self.database = self.login_database.clone();
        self.nocount = false;
        self.implicit_transactions = false;
        self.update_stats(|s| s.resets += 1);
    }

    fn count_request(&self, request: &Request) {
        self.update_stats(|s| {
            s.requests += 1;
            match request {
                Request::Batch(_) => s.batches += 1,
                Request::Rpc(calls) => s.rpc_calls += calls.len() as u64,
            }
        });
    }

    fn update_stats(&self, change: impl FnOnce(&mut ConnectionStats)) {
        let mut stats = self.instance.lock_stats();
        if let Some(entry) = stats
            .iter_mut()
            .find(|s| s.connection_id == self.connection_id)
        {
            change(entry);
        }
    }

    fn prepare(&mut self, statement: String, declarations: ParamDeclarations) -> i32 {
        // SQL Server's handles start at 1 per connection.
        let handle = self.prepared.keys().max().copied().unwrap_or(0) + 1;
        self.prepared.insert(handle, (statement, declarations));
        handle
    }

    fn prepared(&self, handle: i32) -> Option<Prepared> {
        self.prepared.get(&handle).cloned()
    }

    fn unprepare(&mut self, handle: i32) {
        self.prepared.remove(&handle);
    }

    fn has_permission(&self, permission: Permission) -> bool {
        catalog::role_grants(self.role, permission)
    }
}
