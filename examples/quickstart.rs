//! The main job in a few lines: create a linked server to the BizTalk SQL instance, map a
//! login, turn on `rpc out`, list what is there (as JSON) and drop it again (also when a step
//! in between fails).
//!
//! `cargo run --example quickstart` runs against two in-process SQL Server stand-ins (MGMT01,
//! the management instance, and BTS01, its BizTalk peer). Set `LSV_CONNECTION` to an ADO.NET
//! connection string to run it against a real instance instead; `LSV_LINKED_SERVER` (default
//! `BTS01`) names the linked server it creates there, and `LSV_REMOTE_USER` /
//! `LSV_REMOTE_PASSWORD` the remote login it maps (default: a self mapping).

use linkedsrv::spec::{LinkedServerSpec, RemoteCredentials};
use linkedsrv::Client;
use tds_standin::{spawn, InstanceConfig, StandIn};
use zeroize::Zeroizing;

const STANDIN_PASSWORD: &str = "Str0ng!Passw0rd";

fn main() {
    if let Err(error) = run() {
        eprintln!("quickstart failed: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The stand-ins live until the end of `run`; dropping them stops them.
    let (connection_string, credentials, _standins) = match std::env::var("LSV_CONNECTION") {
        Ok(text) => {
            let credentials = match std::env::var("LSV_REMOTE_USER") {
                Ok(user) => RemoteCredentials::Remote {
                    user: Some(user),
                    password: std::env::var("LSV_REMOTE_PASSWORD")
                        .ok()
                        .map(Zeroizing::new),
                },
                Err(_) => RemoteCredentials::SelfMapping,
            };
            (text, credentials, Vec::new())
        }
        Err(_) => {
            let (text, standins) = start_standins()?;
            let credentials = RemoteCredentials::Remote {
                user: Some("sa".into()),
                password: Some(Zeroizing::new(STANDIN_PASSWORD.into())),
            };
            (text, credentials, standins)
        }
    };
    let linked = std::env::var("LSV_LINKED_SERVER").unwrap_or_else(|_| "BTS01".into());

    let client = Client::connect(&connection_string)?;
    println!("1. connected");

    client.create(
        &linked,
        &LinkedServerSpec::from_json(r#"{"product": "SQL Server"}"#)?,
    )?;
    println!("2. created linked server '{linked}'");

    // Whatever happens next, the link created above is dropped again (on a real instance it
    // would otherwise be left behind); a failure of the drop is reported too.
    let outcome = use_link(&client, &linked, credentials);
    match client.drop_server(&linked, true) {
        Ok(()) => println!("7. dropped '{linked}' and its login mappings"),
        // The step's error is returned below; the drop's is reported here so neither is lost.
        Err(drop_error) if outcome.is_err() => {
            eprintln!("dropping '{linked}' after a failed step failed too: {drop_error}")
        }
        Err(drop_error) => return Err(drop_error.into()),
    }
    outcome
}

/// Steps 3-6 on the link just created.
fn use_link(
    client: &Client,
    linked: &str,
    credentials: RemoteCredentials,
) -> Result<(), Box<dyn std::error::Error>> {
    client.map_login(linked, None, credentials)?;
    println!("3. mapped every local login to the remote login");

    client.set_rpc(linked, None, Some(true))?;
    println!("4. set 'rpc out' on");

    match client.test(linked) {
        Ok(()) => println!("5. sp_testlinkedserver: reachable"),
        Err(error) => println!("5. sp_testlinkedserver: not reachable ({error})"),
    }

    let servers = client.list()?;
    println!(
        "6. linked servers:\n{}",
        serde_json::to_string_pretty(&servers)?
    );
    Ok(())
}

/// MGMT01 resolves the network name BTS01 to a second stand-in, so the link really works.
fn start_standins() -> std::io::Result<(String, Vec<StandIn>)> {
    let peer = spawn(InstanceConfig::new("BTS01"))?;
    let mgmt = spawn(InstanceConfig::new("MGMT01").with_peer("BTS01", peer.addr()))?;
    println!(
        "0. started stand-ins MGMT01 at {} and BTS01 at {}",
        mgmt.addr(),
        peer.addr()
    );
    Ok((
        mgmt.connection_string("sa", STANDIN_PASSWORD),
        vec![mgmt, peer],
    ))
}
