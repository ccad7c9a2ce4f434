//! 16 threads × 1,000 operations, on one shared client and on 16 clients: no crash, no
//! deadlock, every answer right, and the catalog consistent afterwards.

mod api_support;

use std::sync::Arc;
use std::thread;

use api_support::*;
use linkedsrv::{Client, Status};

const THREADS: usize = 16;
const OPERATIONS: usize = 1000;

/// The operations of thread `t`: it owns linked server `T<t>` and sets its query timeout (one
/// RPC each); every 50th operation reads it back, and now and then a missing server and the
/// whole list (catalog reads, the stand-in's slowest requests). Returns the last timeout set.
fn work(client: &Client, t: usize) -> i32 {
    let own = format!("T{t}");
    let mut timeout = 0;
    for i in 0..OPERATIONS {
        if i % 500 == 250 {
            let error = client.get(&format!("Missing{t}")).unwrap_err();
            assert_eq!(error.status, Status::NotFound, "{own} op {i}");
        } else if i % 500 == 499 {
            let names = names(client);
            assert!(names.contains(&own), "{own} op {i}: {names:?}");
        } else if i % 50 == 25 {
            let server = client
                .get(&own)
                .unwrap_or_else(|e| panic!("{own} op {i}: {e}"));
            assert_eq!(
                (server.name.as_str(), server.query_timeout),
                (own.as_str(), timeout)
            );
        } else {
            timeout = i32::try_from(i).unwrap();
            client
                .set_option(&own, "query timeout", Some(&timeout.to_string()))
                .unwrap_or_else(|e| panic!("{own} op {i}: {e}"));
        }
    }
    timeout
}

fn check_catalog(client: &Client, last_timeouts: &[i32]) {
    let servers = client.list().unwrap();
    assert_eq!(servers.len(), THREADS);
    for (t, timeout) in last_timeouts.iter().enumerate() {
        let server = servers.iter().find(|s| s.name == format!("T{t}")).unwrap();
        assert_eq!(server.query_timeout, *timeout, "T{t}");
    }
}

fn create_servers(client: &Client) {
    for t in 0..THREADS {
        client.create(&format!("T{t}"), &sql_server_spec()).unwrap();
    }
}

#[test]
fn sixteen_threads_share_one_client() {
    let standin = start_mgmt();
    let client = Arc::new(connect(&standin));
    create_servers(&client);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let client = Arc::clone(&client);
            thread::spawn(move || work(&client, t))
        })
        .collect();
    let last: Vec<i32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    check_catalog(&client, &last);
    assert_eq!(
        connections_seen(&standin.instance()),
        1,
        "one connection throughout"
    );
}

#[test]
fn sixteen_clients_in_sixteen_threads() {
    let standin = start_mgmt();
    let setup = connect(&standin);
    create_servers(&setup);
    let connection = connection_string(&standin);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let connection = connection.clone();
            thread::spawn(move || work(&Client::connect(&connection).unwrap(), t))
        })
        .collect();
    let last: Vec<i32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    check_catalog(&setup, &last);
}
