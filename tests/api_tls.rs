//! Encryption without silent downgrades: `Encrypt=false` encrypts at least the login on one
//! connection and refuses a server that cannot encrypt; only `DANGER_PLAINTEXT` logs in in
//! clear; `Encrypt=strict` validates the certificate even with `TrustServerCertificate=true`;
//! `connection_info` reports what was negotiated.

mod api_support;

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use api_support::*;
use linkedsrv::{Client, Protection, Status};
use tds_standin::{EncryptMode, InstanceConfig, StandIn};

/// A TCP relay in front of a stand-in that counts the connections the client opens.
struct CountingRelay {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl CountingRelay {
    fn to(standin: &StandIn) -> CountingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let target = standin.addr();
        let counter = Arc::clone(&accepted);
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        CountingRelay { port, accepted }
    }

    /// The stand-in's connection string, pointed at the relay, with `Encrypt=<encrypt>`.
    fn connection_string(&self, standin: &StandIn, encrypt: &str) -> String {
        let direct = connection_string(standin);
        let address = standin.addr();
        format!(
            "{};Encrypt={encrypt}",
            direct.replace(
                &format!("tcp:{},{}", address.ip(), address.port()),
                &format!("tcp:127.0.0.1,{}", self.port),
            )
        )
    }

    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

#[test]
fn encrypt_false_refuses_a_server_that_cannot_encrypt_on_one_connection() {
    let standin = start(InstanceConfig::new("MGMT01").with_encrypt(EncryptMode::Off));
    let relay = CountingRelay::to(&standin);
    for encrypt in ["false", "optional", "true"] {
        let error = Client::connect(&relay.connection_string(&standin, encrypt)).unwrap_err();
        assert_eq!(error.status, Status::Tls, "Encrypt={encrypt}: {error:?}");
        assert!(
            error.message.contains("cannot encrypt"),
            "{}",
            error.message
        );
    }
    assert_eq!(
        relay.connections(),
        3,
        "one connection per connect, no probe"
    );
    assert!(
        standin.instance().connection_stats().is_empty(),
        "no login reached the server"
    );
}

#[test]
fn only_danger_plaintext_logs_in_without_tls() {
    let standin = start(InstanceConfig::new("MGMT01").with_encrypt(EncryptMode::Off));
    let relay = CountingRelay::to(&standin);
    let client = Client::connect(&relay.connection_string(&standin, "DANGER_PLAINTEXT")).unwrap();
    let info = client.connection_info().unwrap();
    assert_eq!(info.encryption, Protection::None);
    assert!(!info.encrypted && !info.certificate_validated, "{info:?}");
    assert_eq!(relay.connections(), 1);
}

#[test]
fn encrypt_false_against_a_login_only_server_encrypts_the_login_on_one_connection() {
    let standin = start(InstanceConfig::new("MGMT01").with_encrypt(EncryptMode::Login));
    let relay = CountingRelay::to(&standin);
    let client = Client::connect(&relay.connection_string(&standin, "false")).unwrap();
    assert_eq!(relay.connections(), 1, "no probe connection");
    let info = client.connection_info().unwrap();
    assert_eq!(info.encryption, Protection::LoginOnly, "{info:?}");
    assert!(!info.encrypted && info.certificate_validated, "{info:?}");
    assert_eq!(
        (info.server_name.as_str(), info.tds_version),
        ("MGMT01", "7.4")
    );
    assert!(info.server_version.starts_with("16."), "{info:?}");

    let full = Client::connect(&relay.connection_string(&standin, "true")).unwrap();
    assert_eq!(full.connection_info().unwrap().encryption, Protection::Full);
}

#[test]
fn strict_validates_the_certificate_even_with_trust_server_certificate() {
    let standin = start(InstanceConfig::new("MGMT01").with_encrypt(EncryptMode::Strict));
    let address = standin.addr();
    let base = format!(
        "Server=tcp:{},{};User ID=sa;Password={SA_PASSWORD};Encrypt=strict",
        address.ip(),
        address.port()
    );
    let error = Client::connect(&format!("{base};TrustServerCertificate=true")).unwrap_err();
    assert_eq!(error.status, Status::Tls, "{error:?}");

    // ServerCertificate still works, and wins over the ignored TrustServerCertificate.
    let certificate = standin.cert_path().display().to_string();
    let client = Client::connect(&format!(
        "{base};TrustServerCertificate=true;ServerCertificate={certificate}"
    ))
    .unwrap();
    let info = client.connection_info().unwrap();
    assert_eq!(info.encryption, Protection::Strict);
    assert!(info.encrypted && info.certificate_validated, "{info:?}");
    assert_eq!(info.tds_version, "8.0");

    // HostNameInCertificate is checked: the certificate names localhost, not this name.
    let error = Client::connect(&format!(
        "{base};ServerCertificate={certificate};HostNameInCertificate=elsewhere.example"
    ))
    .unwrap_err();
    assert_eq!(error.status, Status::Tls, "{error:?}");
    Client::connect(&format!(
        "{base};ServerCertificate={certificate};HostNameInCertificate=localhost"
    ))
    .unwrap();
}

#[test]
fn trust_server_certificate_is_reported_as_unvalidated() {
    let standin = start_mgmt();
    let client = connect_with(&standin, "TrustServerCertificate=true;ServerCertificate=");
    let info = client.connection_info().unwrap();
    assert_eq!(info.encryption, Protection::Full);
    assert!(info.encrypted && !info.certificate_validated, "{info:?}");
}
