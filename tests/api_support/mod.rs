//! Shared setup of the `api_*` integration tests: a real stand-in instance per test (never a
//! mock of our own code) and a client connected to it.
#![allow(dead_code)] // each test crate uses a different part of this module

use std::sync::Arc;

use linkedsrv::{Client, Error, Status};
use tds_standin::config::FaultPlan;
use tds_standin::engine::Instance;
use tds_standin::{spawn, InstanceConfig, StandIn};

pub const SA_PASSWORD: &str = "Str0ng!Passw0rd";

pub fn start(config: InstanceConfig) -> StandIn {
    spawn(config).expect("the stand-in starts")
}

/// A management instance `MGMT01` with the default sysadmin login.
pub fn start_mgmt() -> StandIn {
    start(InstanceConfig::new("MGMT01"))
}

pub fn connection_string(standin: &StandIn) -> String {
    standin.connection_string("sa", SA_PASSWORD)
}

pub fn connect(standin: &StandIn) -> Client {
    Client::connect(&connection_string(standin)).expect("connects to the stand-in")
}

pub fn connect_with(standin: &StandIn, extra: &str) -> Client {
    Client::connect(&format!("{};{extra}", connection_string(standin)))
        .expect("connects to the stand-in")
}

/// The status of a failed call, with the whole error in the panic message otherwise.
pub fn status_of<T: std::fmt::Debug>(result: Result<T, Error>) -> Status {
    match result {
        Ok(value) => panic!("expected an error, got Ok({value:?})"),
        Err(error) => error.status,
    }
}

pub fn requests_seen(instance: &Arc<Instance>) -> u64 {
    instance.connection_stats().iter().map(|c| c.requests).sum()
}

pub fn connections_seen(instance: &Arc<Instance>) -> usize {
    instance.connection_stats().len()
}

pub fn clear_faults(standin: &StandIn) {
    standin.instance().set_faults(FaultPlan::default());
}

pub fn sql_server_spec() -> linkedsrv::spec::LinkedServerSpec {
    linkedsrv::spec::LinkedServerSpec::from_json(r#"{"product": "SQL Server"}"#).unwrap()
}

pub fn names(client: &Client) -> Vec<String> {
    client
        .list()
        .expect("list")
        .into_iter()
        .map(|s| s.name)
        .collect()
}

/// Linked servers as JSON without what differs between instances and runs by nature
/// (`server_id`, `modify_date`), to compare catalogs.
pub fn comparable(servers: Vec<linkedsrv::spec::LinkedServer>) -> serde_json::Value {
    let mut json = serde_json::to_value(servers).unwrap();
    for server in json.as_array_mut().unwrap() {
        let object = server.as_object_mut().unwrap();
        object.remove("server_id");
        object.remove("modify_date");
    }
    json
}
