//! The main job: what the "Backup BizTalk Server" job needs from a management instance, in
//! three calls.
//!
//! 1. `ensure` one linked server: created with RPC and RPC Out on, the mapping for every login
//!    dropped and one login mapped to itself; then verified with a real remote procedure call
//!    through it; a second `ensure` finds nothing to do.
//! 2. `biztalk_sync`: the same for every instance BizTalkMgmtDb lists, verified per server.
//! 3. `export`: a script that re-creates the links elsewhere.
//!
//! `cargo run --example quickstart` runs against three in-process SQL Server stand-ins:
//! MGMT01 (the management instance, holding BizTalkMgmtDb) and BTS01 / BTS02 (holding the
//! MessageBox and tracking databases), so every link really crosses a second TDS hop. Set
//! `LSV_CONNECTION` to an ADO.NET connection string to run it against a real instance instead;
//! `LSV_LINKED_SERVER` (default `BTS01`) names the linked server of step 1 there. Nothing is
//! dropped at the end: running it again shows the converged state.

use std::path::PathBuf;

use linkedsrv::biztalk::SyncOptions;
use linkedsrv::converge::EnsureFlags;
use linkedsrv::Client;
use tds_standin::{spawn, InstanceConfig, StandIn};

const STANDIN_PASSWORD: &str = "Str0ng!Passw0rd";

fn main() {
    if let Err(error) = run() {
        eprintln!("quickstart failed: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The stand-ins and their fixture files live until the end of `run`.
    let (connection_string, _farm) = match std::env::var("LSV_CONNECTION") {
        Ok(text) => (text, None),
        Err(_) => {
            let farm = Farm::start()?;
            (
                farm.mgmt.connection_string("sa", STANDIN_PASSWORD),
                Some(farm),
            )
        }
    };
    let linked = std::env::var("LSV_LINKED_SERVER").unwrap_or_else(|_| "BTS01".into());
    let client = Client::connect(&connection_string)?;
    let login = client.login_name()?;
    println!("Connected to the management instance as '{login}'.\n");

    println!(
        "1. Ensure linked server '{linked}' (RPC and RPC Out on, only '{login}' mapped, to itself)"
    );
    let desired = serde_json::json!({
        "name": linked,
        "product": "SQL Server",
        "options": {"rpc": true, "rpc out": true},
        "logins": [{"local_login": login, "uses_self_credential": true}],
    })
    .to_string();
    let exact = EnsureFlags::from_bits(EnsureFlags::EXACT_LOGINS)?;
    let report = client.ensure(&desired, exact)?;
    for server in &report.servers {
        println!(
            "   {}: {:?} in {} requests",
            server.name, server.action, report.requests
        );
        for change in &server.changes {
            println!("   - {}", change.text);
        }
        println!(
            "   T-SQL that ran (values as literals):\n{}",
            indent(&server.sql)
        );
    }
    let probe = client.probe(&linked)?;
    match (&probe.remote_server_name, probe.ok) {
        (Some(remote), true) => println!(
            "   Verified: sp_testlinkedserver passed and a procedure called through the link \
             answered from @@SERVERNAME = '{remote}'."
        ),
        _ => println!(
            "   Verification failed at stage {:?}: {}",
            probe.stage,
            probe.message.as_deref().unwrap_or("")
        ),
    }
    let again = client.ensure(&desired, exact)?;
    println!(
        "   Ensuring it again: {:?} in {} request.\n",
        again.servers[0].action, again.requests
    );

    println!("2. BizTalk backup pre-step over BizTalkMgmtDb.dbo.admv_BackupDatabases");
    // The BizTalk documentation advises against the mapping for every login.
    let options = SyncOptions {
        drop_global_mapping: true,
        ..SyncOptions::default()
    };
    match client.biztalk_sync(&options, EnsureFlags::default()) {
        Ok(sync) => {
            for server in &sync.servers {
                let outcome = if server.probe.ok {
                    format!(
                        "ok, remote @@SERVERNAME '{}'",
                        server.probe.remote_server_name.as_deref().unwrap_or("?")
                    )
                } else {
                    format!(
                        "FAILED at {:?}: {}",
                        server.probe.stage,
                        server.probe.message.as_deref().unwrap_or("")
                    )
                };
                println!(
                    "   {:<10} {:<10} databases {:<40} {outcome}",
                    server.name,
                    server.action.map_or("-".into(), |a| format!("{a:?}")),
                    server.databases.join(", ")
                );
            }
            println!(
                "   all ok: {}, {} requests, job login '{}'\n",
                sync.ok, sync.requests, sync.job_login
            );
        }
        Err(error) => println!("   could not read the backup list: {error}\n"),
    }

    println!("3. Export (re-runnable T-SQL; passwords are never written out)");
    println!("{}", indent(&client.export(None)?));
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("      {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// MGMT01 holding BizTalkMgmtDb, which lists databases on BTS01 and BTS02; both reachable
/// through linked servers by their names.
struct Farm {
    mgmt: StandIn,
    _peers: [StandIn; 2],
    fixtures: [PathBuf; 2],
}

impl Farm {
    fn start() -> std::io::Result<Farm> {
        let fixture = |tag: &str, json: serde_json::Value| -> std::io::Result<PathBuf> {
            let path = std::env::temp_dir().join(format!(
                "linkedsrv-quickstart-{tag}-{}.json",
                std::process::id()
            ));
            std::fs::write(&path, json.to_string())?;
            Ok(path)
        };
        let remote_databases = fixture(
            "remote",
            serde_json::json!({"databases": ["BizTalkMsgBoxDb", "BizTalkDTADb"],
                               "backup_databases": []}),
        )?;
        let management = fixture(
            "mgmt",
            serde_json::json!({"backup_databases": [
                {"ServerName": "BTS01", "DatabaseName": "BizTalkMsgBoxDb"},
                {"ServerName": "BTS02", "DatabaseName": "BizTalkDTADb"}]}),
        )?;
        let peer = |name: &str| {
            let mut config = InstanceConfig::new(name);
            config.biztalk = Some(remote_databases.clone());
            spawn(config)
        };
        let (bts01, bts02) = (peer("BTS01")?, peer("BTS02")?);
        let mut config = InstanceConfig::new("MGMT01")
            .with_peer("BTS01", bts01.addr())
            .with_peer("BTS02", bts02.addr());
        config.biztalk = Some(management.clone());
        let mgmt = spawn(config)?;
        println!(
            "Started SQL Server stand-ins MGMT01 ({}), BTS01 ({}) and BTS02 ({}).",
            mgmt.addr(),
            bts01.addr(),
            bts02.addr()
        );
        Ok(Farm {
            mgmt,
            _peers: [bts01, bts02],
            fixtures: [remote_databases, management],
        })
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        for path in &self.fixtures {
            let _ = std::fs::remove_file(path);
        }
    }
}
