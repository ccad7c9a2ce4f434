//! The library API in plain Rust types. Every method blocks the calling thread on the
//! process-wide runtime; a [`Client`] may be shared between threads and its calls serialise.
//!
//! CONTRACT (the C ABI in `ffi` is written against these signatures; keep them):

use crate::error::Error;
use crate::spec::{LinkedServer, LinkedServerSpec, RemoteCredentials};

/// One connection to the management instance.
pub struct Client {}

impl Client {
    /// Connects with an ADO.NET connection string (see `conn_string`).
    pub fn connect(_connection_string: &str) -> Result<Client, Error> {
        todo!()
    }

    /// Creates a linked server from a spec; on any failure nothing is left behind.
    pub fn create(&self, _name: &str, _spec: &LinkedServerSpec) -> Result<(), Error> {
        todo!()
    }

    /// Drops a linked server; without `drop_logins`, mappings other than the default one
    /// make it fail with `Status::HasLogins`.
    pub fn drop_server(&self, _name: &str, _drop_logins: bool) -> Result<(), Error> {
        todo!()
    }

    /// Creates or replaces the mapping of `local_login` (`None`: every login).
    pub fn map_login(
        &self,
        _server: &str,
        _local_login: Option<&str>,
        _credentials: RemoteCredentials,
    ) -> Result<(), Error> {
        todo!()
    }

    /// Removes the mapping of `local_login` (`None`: the mapping for every login).
    pub fn unmap_login(&self, _server: &str, _local_login: Option<&str>) -> Result<(), Error> {
        todo!()
    }

    /// Sets `rpc` and/or `rpc out`; `None` leaves an option as it is.
    pub fn set_rpc(&self, _server: &str, _rpc: Option<bool>, _rpc_out: Option<bool>) -> Result<(), Error> {
        todo!()
    }

    /// Sets one `sp_serveroption` option after checking name and value shape.
    pub fn set_option(&self, _server: &str, _option: &str, _value: Option<&str>) -> Result<(), Error> {
        todo!()
    }

    /// One linked server with its options and login mappings; `Status::NotFound` if absent.
    pub fn get(&self, _server: &str) -> Result<LinkedServer, Error> {
        todo!()
    }

    /// Every linked server (not the local row), ordered by name.
    pub fn list(&self) -> Result<Vec<LinkedServer>, Error> {
        todo!()
    }

    /// `sp_testlinkedserver`: Ok when the management instance can reach the server.
    pub fn test(&self, _server: &str) -> Result<(), Error> {
        todo!()
    }
}
