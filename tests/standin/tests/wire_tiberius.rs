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
        .expect("the batch is accepted")
        .into_first_result()
        .await
        .expect("the batch answers");
    assert_eq!(rows.len(), 1);
    rows[0].get::<&str, _>(0).map(str::to_string)
}

/// A server ERROR as tiberius reports it: number, state, class, text, server, line.
fn server_error(error: &tiberius::error::Error) -> (u32, u8, u8, &str, &str, u32) {
    match error {
        tiberius::error::Error::Server(token) => (
            token.code(),
            token.state(),
            token.class(),
            token.message(),
            token.server(),
            token.line(),
        ),
        other => panic!("expected the server's ERROR token, got {other:?}"),
    }
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
    let error = connect(config, &standin)
        .await
        .expect_err("the certificate is not trusted");
    // native-tls (OpenSSL) refuses the handshake; the text names the failed verification.
    match &error {
        tiberius::error::Error::Tls(text) => {
            assert!(text.contains("certificate verify failed"), "{text}")
        }
        other => panic!("expected a TLS verification error, got {other:?}"),
    }
    // The stand-in is unharmed: a client trusting the right certificate gets in.
    let mut client = connect(
        client_config(&standin, EncryptionLevel::Required, SA_PASSWORD),
        &standin,
    )
    .await
    .unwrap();
    assert_eq!(server_name(&mut client).await.as_deref(), Some(SERVER_NAME));
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
    assert_eq!(
        server_error(&error),
        (18456, 1, 14, "Login failed for user 'sa'.", SERVER_NAME, 1)
    );
}

#[tokio::test]
async fn unknown_login_database_is_4060() {
    let standin = spawn(InstanceConfig::new(SERVER_NAME)).unwrap();
    let mut config = client_config(&standin, EncryptionLevel::Required, SA_PASSWORD);
    config.database("NoSuchDb");
    let error = connect(config, &standin)
        .await
        .expect_err("the database does not exist");
    // ENGINE: SQL Server sends 4060 then 18456 and closes; tiberius reports the first ERROR.
    assert_eq!(
        server_error(&error),
        (
            4060,
            1,
            11,
            "Cannot open database \"NoSuchDb\" requested by the login. The login failed.",
            SERVER_NAME,
            1
        )
    );
    // The same login into an existing database (named in another case) works.
    let mut config = client_config(&standin, EncryptionLevel::Required, SA_PASSWORD);
    config.database("MASTER");
    let mut client = connect(config, &standin).await.unwrap();
    assert_eq!(server_name(&mut client).await.as_deref(), Some(SERVER_NAME));
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
    let refused = std::net::TcpStream::connect(addr).expect_err("nothing listens any more");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}
