//! Connecting: every encryption mode, certificate validation, refused and silent endpoints,
//! wrong passwords, and one client shared by several threads.

mod api_support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use api_support::*;
use linkedsrv::{Client, Status};
use tds_standin::{EncryptMode, InstanceConfig};

#[test]
fn every_encryption_mode_connects() {
    for mode in [
        EncryptMode::Off,
        EncryptMode::Login,
        EncryptMode::On,
        EncryptMode::Strict,
    ] {
        let standin = start(InstanceConfig::new("MGMT01").with_encrypt(mode));
        let client = Client::connect(&connection_string(&standin))
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        client
            .create("BTS01", &sql_server_spec())
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(names(&client), ["BTS01"], "{mode:?}");
    }
}

#[test]
fn full_encryption_also_works_when_the_server_offers_login_only() {
    let standin = start(InstanceConfig::new("MGMT01").with_encrypt(EncryptMode::Login));
    let text = connection_string(&standin).replace("Encrypt=false", "Encrypt=true");
    let client = Client::connect(&text).unwrap();
    assert!(client.list().unwrap().is_empty());
}

#[test]
fn an_untrusted_certificate_is_a_tls_error_unless_trusted_explicitly() {
    let standin = start_mgmt();
    let addr = standin.addr();
    let base = format!(
        "Server=tcp:{},{};User ID=sa;Password={SA_PASSWORD}",
        addr.ip(),
        addr.port()
    );
    let error = Client::connect(&base).unwrap_err();
    assert_eq!(error.status, Status::Tls, "{error:?}");
    // Login-only encryption still validates the certificate.
    let error = Client::connect(&format!("{base};Encrypt=false")).unwrap_err();
    assert_eq!(error.status, Status::Tls, "{error:?}");

    let client = Client::connect(&format!("{base};TrustServerCertificate=true")).unwrap();
    assert!(client.list().unwrap().is_empty());
}

#[test]
fn wrong_password_is_an_authentication_error_without_the_password() {
    let standin = start_mgmt();
    let text = standin.connection_string("sa", "Wr0ngPassword!");
    let error = Client::connect(&text).unwrap_err();
    assert_eq!(error.status, Status::Authentication, "{error:?}");
    assert_eq!(error.sql_number(), Some(18456));
    assert!(!format!("{error:?}").contains("Wr0ngPassword"), "{error:?}");
}

#[test]
fn refused_connection_is_a_connection_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let text = format!("Server=tcp:127.0.0.1,{port};User ID=sa;Password=x;Connect Timeout=5");
    assert_eq!(status_of(Client::connect(&text)), Status::Connection);
}

#[test]
fn a_silent_server_is_a_timeout_within_the_connect_timeout() {
    // The kernel completes the TCP handshake, but nobody ever answers PRELOGIN.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let text = format!("Server=tcp:127.0.0.1,{port};User ID=sa;Password=x;Connect Timeout=1");
    let started = Instant::now();
    assert_eq!(status_of(Client::connect(&text)), Status::Timeout);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    drop(listener);
}

#[test]
fn eight_threads_share_one_client_and_one_connection() {
    let standin = start_mgmt();
    let client = connect(&standin);
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let client = &client;
            scope.spawn(move || {
                let name = format!("T{thread}");
                for _ in 0..3 {
                    client.create(&name, &sql_server_spec()).unwrap();
                    client.set_rpc(&name, Some(false), Some(true)).unwrap();
                    let server = client.get(&name).unwrap();
                    assert!(!server.rpc && server.rpc_out);
                    client.drop_server(&name, true).unwrap();
                }
                client.create(&name, &sql_server_spec()).unwrap();
            });
        }
    });
    let mut listed = names(&client);
    listed.sort();
    assert_eq!(listed, (0..8).map(|t| format!("T{t}")).collect::<Vec<_>>());
    assert_eq!(
        connections_seen(&standin.instance()),
        1,
        "calls share the one connection"
    );
}

#[test]
fn mandatory_encryption_against_a_server_without_tls_is_a_tls_error() {
    let standin = start(InstanceConfig::new("MGMT01").with_encrypt(EncryptMode::Off));
    let text = connection_string(&standin).replace("Encrypt=DANGER_PLAINTEXT", "Encrypt=true");
    let error = Client::connect(&text).unwrap_err();
    assert_eq!(error.status, Status::Tls, "{error:?}");
}
