//! The SQL Server behaviour: catalog (`sys.servers`, `sys.linked_logins`, `sys.server_principals`),
//! a small T-SQL interpreter, the linked-server system procedures and hops to peer instances.
//!
//! CONTRACT (used by `wire`; keep these signatures):
//! - `Instance::new(config) -> Result<Arc<Instance>, String>`
//! - `Instance::server_name(&self) -> &str`
//! - `Instance::login(self: &Arc<Self>, user, password, database: Option<&str>) -> Result<Session, ServerMessage>`
//!   (Err = the 18456 message the wire layer sends before closing)
//! - `Session::database(&self) -> &str` (for the login ENVCHANGE)
//! - `Session::execute(&mut self, Request) -> Reply` (async; honours the FaultPlan)
//! - `Session::attention(&mut self)` (client sent ATTENTION; engine abandons the current request)
//! - `Instance::set_faults(&self, FaultPlan)`, `Instance::connection_stats(&self) -> Vec<ConnectionStats>`

use std::sync::Arc;

use crate::config::{FaultPlan, InstanceConfig};
use crate::types::{Reply, Request, ServerMessage};

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
}

pub struct Instance {
    _config: InstanceConfig,
}

impl Instance {
    pub fn new(config: InstanceConfig) -> Result<Arc<Instance>, String> {
        Ok(Arc::new(Instance { _config: config }))
    }
    pub fn server_name(&self) -> &str {
        todo!()
    }
    pub fn login(
        self: &Arc<Self>,
        _user: &str,
        _password: &str,
        _database: Option<&str>,
    ) -> Result<Session, ServerMessage> {
        todo!()
    }
    pub fn set_faults(&self, _faults: FaultPlan) {
        todo!()
    }
    pub fn connection_stats(&self) -> Vec<ConnectionStats> {
        todo!()
    }
}

pub struct Session {}

impl Session {
    pub fn database(&self) -> &str {
        todo!()
    }
    pub async fn execute(&mut self, _request: Request) -> Reply {
        todo!()
    }
    pub fn attention(&mut self) {}
}
