//! tiberius (the product's client) against the real stand-in — wire and engine together — in
//! every encryption mode, validating the stand-in's certificate.
//!
//! Engine-dependent assertions are marked `ENGINE:`; the handshake itself only needs the wire.

use std::path::Path;

use tds_standin::{spawn, EncryptMode, InstanceConfig, StandIn};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

const SERVER_NAME: &str = "LABSQL01";
const SA_PASSWORD: &str = "Str0ng!Passw0rd";

async fn connect(config: Config, standin: &StandIn) -> tiberius::Result<Client<Compat<TcpStream>>> {
    let tcp = TcpStream::connect(standin.addr()).await?;
    tcp.set_nodelay(true)?;
    Client::connect(config, tcp.compat_write()).await
}

fn client_config(standin: &StandIn, level: EncryptionLevel, password: &str) -> Config {
    trusting(standin, standin.cert_path(), level, password)
}

/// tiberius adds every `trust_cert_ca` path to the trusted set, so each config trusts one file.
fn trusting(standin: &StandIn, ca: &Path, level: EncryptionLevel, password: &str) -> Config {
    let mut config = Config::new();
    config.host("localhost");
    config.port(standin.addr().port());
    config.authentication(AuthMethod::sql_server("sa", password));
    config.encryption(level);
    config.trust_cert_ca(ca.display().to_string());
    config
}

async fn server_name(client: &mut Client<Compat<TcpStream>>) -> Option<String> {
    let rows = client
        .simple_query("SELECT @@SERVERNAME")
        .await
        .ok()?
        .into_first_result()
        .await
        .ok()?;
    rows.first()?.get::<&str, _>(0).map(str::to_string)
}

#[tokio::test]
async fn select_servername_in_every_encryption_mode() {
    for (mode, level) in [
        (EncryptMode::Off, EncryptionLevel::NotSupported),
        (EncryptMode::Login, EncryptionLevel::Off),
        (EncryptMode::On, EncryptionLevel::Required),
        (EncryptMode::Strict, EncryptionLevel::Strict),
    ] {
        let standin = spawn(InstanceConfig::new(SERVER_NAME).with_encrypt(mode)).unwrap();
        let mut client = connect(client_config(&standin, level, SA_PASSWORD), &standin)
            .await
            .unwrap_or_else(|error| panic!("{mode:?} with {level:?}: {error}"));
        // ENGINE: @@SERVERNAME comes from the engine.
        assert_eq!(
            server_name(&mut client).await.as_deref(),
            Some(SERVER_NAME),
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn certificate_from_another_instance_is_rejected() {
    let standin = spawn(InstanceConfig::new(SERVER_NAME)).unwrap();
    let other = spawn(InstanceConfig::new("OTHER")).unwrap();
    let config = trusting(
        &standin,
        other.cert_path(),
        EncryptionLevel::Required,
        SA_PASSWORD,
    );
    assert!(connect(config, &standin).await.is_err());
}

#[tokio::test]
async fn connection_string_is_understood_by_tiberius() {
    for mode in [EncryptMode::On, EncryptMode::Strict] {
        let standin = spawn(InstanceConfig::new(SERVER_NAME).with_encrypt(mode)).unwrap();
        let text = standin.connection_string("sa", SA_PASSWORD);
        assert!(text.contains(&format!(
            "ServerCertificate={}",
            standin.cert_path().display()
        )));
        let mut config = Config::from_ado_string(&text).unwrap();
        // tiberius does not read ServerCertificate; our library maps it to trust_cert_ca.
        config.trust_cert_ca(standin.cert_path().display().to_string());
        let mut client = connect(config, &standin)
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        // ENGINE
        assert_eq!(server_name(&mut client).await.as_deref(), Some(SERVER_NAME));
    }
}

#[tokio::test]
async fn wrong_password_is_login_failed_18456() {
    let standin = spawn(InstanceConfig::new(SERVER_NAME)).unwrap();
    let error = connect(
        client_config(&standin, EncryptionLevel::Required, "wrong"),
        &standin,
    )
    .await
    .expect_err("login must fail");
    // ENGINE: the 18456 message comes from Instance::login.
    assert_eq!(error.code(), Some(18456), "{error}");
}

#[test]
fn dropping_the_stand_in_stops_it_and_removes_its_temp_certificate() {
    let standin = spawn(InstanceConfig::new(SERVER_NAME)).unwrap();
    let addr = standin.addr();
    let cert = standin.cert_path().to_path_buf();
    assert!(standin
        .cert_pem()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(std::fs::read_to_string(&cert).unwrap(), standin.cert_pem());
    drop(standin);
    assert!(!cert.exists());
    assert!(std::net::TcpStream::connect(addr).is_err());
}
