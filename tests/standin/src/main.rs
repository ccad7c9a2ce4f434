//! `tds-standin`: runs one SQL Server stand-in until killed. The first stdout line is
//! `listening on HOST:PORT`.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;

use tds_standin::config::{Behaviour, FaultPlan, LoginSpec, ServerRole};
use tds_standin::wire::server::serve;
use tds_standin::{EncryptMode, InstanceConfig};

const HELP: &str = "\
tds-standin: a SQL Server stand-in speaking TDS 7.4 / 8.0 (test use only)

USAGE:
  tds-standin --listen ADDR --server-name NAME --login USER:PASSWORD[:ROLE] [options]

REQUIRED:
  --listen HOST:PORT          address to listen on (port 0 picks a free port)
  --server-name NAME          @@SERVERNAME and the local row of sys.servers
  --login USER:PASSWORD[:ROLE]
                              a SQL login; repeatable; ROLE is sysadmin, setupadmin,
                              securityadmin or none (default none)

OPTIONS:
  --encrypt off|login|on|strict
                              off: no TLS (ENCRYPT_NOT_SUP); login: TLS for LOGIN7 only unless the
                              client asks for more (ENCRYPT_OFF); on: everything encrypted
                              (ENCRYPT_REQ, default); strict: TDS 8.0, TLS before PRELOGIN
  --peer NETNAME=HOST:PORT    where a linked server's network name points; repeatable
  --biztalk FILE              JSON rows for BizTalkMgmtDb.dbo.admv_BackupDatabases
  --latency-ms N              delay every answer by N milliseconds
  --state FILE                load the catalog from FILE at start, save it after every change
  --cert-out FILE             write the generated self-signed certificate (PEM) to FILE
  --case-sensitive            compare server and login names as a _CS_ collation does
  --drop-at-request N         close the connection instead of answering its N-th request
  --drop-at-procedure NAME    close the connection when a request calls NAME
  --stall-at-request N        never answer the N-th request of a connection
  --stall-at-procedure NAME   never answer a request that calls NAME
  --fail-request N:ERRNO      answer the N-th request with error ERRNO
  --drop-at-call N            close the connection when its N-th procedure call starts
  --stall-at-call N           the N-th procedure call of a connection never returns
  --fail-call N:ERRNO         the N-th procedure call raises ERRNO instead of running
  --behaviour SWITCH          answer an open question of the reference the other way
                              (repeatable; see the README): login-procs-need-alter-any-linked-server,
                              drop-missing-mapping-is-error, serveroption-refused-in-transaction,
                              addlinkedserver-permission-first, linux-providers-only
  --help                      this text

The first line on stdout is `listening on HOST:PORT`; the server runs until killed
(SIGTERM or Ctrl-C end it cleanly, removing a temporary certificate file).
";

enum Parsed {
    Help,
    Run(Box<InstanceConfig>),
}

fn parse_args(args: &[String]) -> Result<Parsed, String> {
    let mut listen = None;
    let mut server_name = None;
    let mut logins = Vec::new();
    let mut config = InstanceConfig::new("unused");
    let mut faults = FaultPlan::default();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--help" | "-h" => return Ok(Parsed::Help),
            "--listen" => listen = Some(parse_addr(flag, value()?)?),
            "--server-name" => server_name = Some(non_empty(flag, value()?)?),
            "--login" => logins.push(parse_login(value()?)?),
            "--encrypt" => config.encrypt = parse_encrypt(value()?)?,
            "--peer" => {
                let text = value()?;
                let (name, addr) = text
                    .split_once('=')
                    .ok_or_else(|| format!("--peer {text}: expected NETNAME=HOST:PORT"))?;
                config
                    .peers
                    .push((non_empty(flag, name)?, parse_addr(flag, addr)?));
            }
            "--biztalk" => config.biztalk = Some(PathBuf::from(value()?)),
            "--state" => config.state_file = Some(PathBuf::from(value()?)),
            "--cert-out" => config.cert_out = Some(PathBuf::from(value()?)),
            "--case-sensitive" => config.case_sensitive = true,
            "--latency-ms"
            | "--drop-at-request"
            | "--drop-at-procedure"
            | "--stall-at-request"
            | "--stall-at-procedure"
            | "--fail-request"
            | "--drop-at-call"
            | "--stall-at-call"
            | "--fail-call" => {
                let fault = flag.trim_start_matches('-').replace('-', "_");
                faults
                    .set(&fault, Some(value()?))
                    .map_err(|error| format!("{flag}: {error}"))?
            }
            "--behaviour" => switch_behaviour(&mut config.behaviour, value()?)?,
            other => return Err(format!("unknown flag {other} (see --help)")),
        }
    }
    config.listen = listen.ok_or("--listen is required")?;
    config.server_name = server_name.ok_or("--server-name is required")?;
    if logins.is_empty() {
        return Err("at least one --login is required".into());
    }
    config.logins = logins;
    config.faults = faults;
    Ok(Parsed::Run(Box::new(config)))
}

/// `--behaviour SWITCH`: flips one default of `config::Behaviour`.
fn switch_behaviour(behaviour: &mut Behaviour, switch: &str) -> Result<(), String> {
    match switch {
        "login-procs-need-alter-any-linked-server" => {
            behaviour.login_procs_need_alter_any_login = false
        }
        "drop-missing-mapping-is-error" => behaviour.drop_missing_mapping_is_error = true,
        "serveroption-refused-in-transaction" => {
            behaviour.serveroption_refused_in_transaction = true
        }
        "addlinkedserver-permission-first" => behaviour.addlinkedserver_permission_first = true,
        "linux-providers-only" => behaviour.linux_providers_only = true,
        other => return Err(format!("--behaviour {other}: unknown switch (see --help)")),
    }
    Ok(())
}

fn non_empty(flag: &str, text: &str) -> Result<String, String> {
    if text.is_empty() {
        Err(format!("{flag} needs a non-empty value"))
    } else {
        Ok(text.to_string())
    }
}

fn parse_addr(flag: &str, text: &str) -> Result<SocketAddr, String> {
    text.to_socket_addrs()
        .map_err(|error| format!("{flag} {text}: {error}"))?
        .next()
        .ok_or_else(|| format!("{flag} {text}: no address"))
}

/// USER:PASSWORD[:ROLE]; the password may itself contain ':' (a trailing known role wins).
fn parse_login(text: &str) -> Result<LoginSpec, String> {
    let (name, rest) = text
        .split_once(':')
        .ok_or_else(|| "--login: expected USER:PASSWORD[:ROLE]".to_string())?;
    let (password, role) = match rest.rsplit_once(':') {
        Some((password, role)) if ServerRole::parse(role).is_some() => {
            (password, ServerRole::parse(role))
        }
        _ => (rest, None),
    };
    if name.is_empty() {
        return Err("--login: the user name is empty".into());
    }
    Ok(LoginSpec {
        name: name.to_string(),
        password: password.to_string(),
        role: role.unwrap_or_default(),
    })
}

fn parse_encrypt(text: &str) -> Result<EncryptMode, String> {
    match text {
        "off" => Ok(EncryptMode::Off),
        "login" => Ok(EncryptMode::Login),
        "on" => Ok(EncryptMode::On),
        "strict" => Ok(EncryptMode::Strict),
        other => Err(format!(
            "--encrypt {other}: expected off, login, on or strict"
        )),
    }
}

#[cfg(unix)]
async fn termination_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn termination_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(Parsed::Help) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Run(config)) => *config,
        Err(message) => {
            eprintln!("tds-standin: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tds-standin: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let announce = |addr| {
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "listening on {addr}");
        let _ = stdout.flush();
    };
    // Ending on a signal drops `serve`, which removes a temporary certificate file.
    let served = runtime.block_on(async {
        tokio::select! {
            served = serve(config, announce) => served,
            () = termination_signal() => Ok(()),
        }
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tds-standin: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn full_command_line() {
        let Ok(Parsed::Run(config)) = parse_args(&args(
            "--listen 127.0.0.1:0 --server-name SQL01 --login sa:p:w:sysadmin --login app:pw \
             --encrypt strict --peer REMOTE=127.0.0.1:1500 --latency-ms 5 --case-sensitive \
             --drop-at-request 3 --stall-at-procedure sp_who --fail-request 2:50000 \
             --biztalk bt.json --state st.json --cert-out c.pem --drop-at-procedure sp_x \
             --stall-at-request 4 --behaviour linux-providers-only \
             --behaviour login-procs-need-alter-any-linked-server --drop-at-call 6 \
             --stall-at-call 7 --fail-call 8:15007",
        )) else {
            panic!("rejected a valid command line")
        };
        assert_eq!(config.server_name, "SQL01");
        assert_eq!(config.logins[0].password, "p:w");
        assert_eq!(config.logins[0].role, ServerRole::Sysadmin);
        assert_eq!(config.logins[1].role, ServerRole::None);
        assert_eq!(config.encrypt, EncryptMode::Strict);
        assert_eq!(
            config.peers,
            vec![("REMOTE".to_string(), "127.0.0.1:1500".parse().unwrap())]
        );
        assert!(config.case_sensitive);
        assert_eq!(config.faults.latency_ms, 5);
        assert_eq!(config.faults.drop_at_request, Some(3));
        assert_eq!(config.faults.stall_at_procedure.as_deref(), Some("sp_who"));
        assert_eq!(config.faults.fail_request, Some((2, 50000)));
        assert_eq!(config.biztalk, Some(PathBuf::from("bt.json")));
        assert_eq!(config.state_file, Some(PathBuf::from("st.json")));
        assert_eq!(config.cert_out, Some(PathBuf::from("c.pem")));
        assert_eq!(config.faults.drop_at_procedure.as_deref(), Some("sp_x"));
        assert_eq!(config.faults.stall_at_request, Some(4));
        assert_eq!(
            (
                config.faults.drop_at_call,
                config.faults.stall_at_call,
                config.faults.fail_call
            ),
            (Some(6), Some(7), Some((8, 15007)))
        );
        assert_eq!(
            config.behaviour,
            Behaviour {
                linux_providers_only: true,
                login_procs_need_alter_any_login: false,
                ..Behaviour::default()
            }
        );
    }

    /// Every flag the parser knows is in `--help` and in the README's command line.
    #[test]
    fn every_flag_is_documented() {
        let readme = include_str!("../README.md");
        let source = include_str!("main.rs");
        let flags: Vec<&str> = source
            .split('"')
            .filter(|text| text.starts_with("--") && text.len() > 2 && !text.contains(' '))
            .collect();
        assert!(flags.len() >= 17, "flags found: {flags:?}");
        for flag in flags {
            assert!(HELP.contains(flag), "{flag} missing from --help");
            assert!(readme.contains(flag), "{flag} missing from the README");
        }
    }

    #[test]
    fn bad_flags_are_reported() {
        for bad in [
            "--server-name S --login sa:x",
            "--listen 127.0.0.1:0 --login sa:x",
            "--listen 127.0.0.1:0 --server-name S",
            "--listen 127.0.0.1:0 --server-name S --login sa:x --encrypt maybe",
            "--listen 127.0.0.1:0 --server-name S --login sa:x --fail-request 0:1",
            "--listen 127.0.0.1:0 --server-name S --login sa:x --bogus",
            "--listen 127.0.0.1:0 --server-name S --login sa:x --latency-ms",
            "--listen 127.0.0.1:0 --server-name S --login sa:x --behaviour maybe",
        ] {
            assert!(parse_args(&args(bad)).is_err(), "accepted {bad}");
        }
    }
}
