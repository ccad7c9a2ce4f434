//! How a stand-in instance is configured at start (CLI flags map one to one onto these fields).

use std::net::SocketAddr;
use std::path::PathBuf;

/// `--encrypt`: what the server answers in PRELOGIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncryptMode {
    /// ENCRYPT_NOT_SUP: plaintext only.
    Off,
    /// ENCRYPT_OFF: TLS for LOGIN7 only, unless the client asks for more.
    Login,
    /// ENCRYPT_REQ: everything encrypted.
    #[default]
    On,
    /// TDS 8.0: TLS first, before PRELOGIN.
    Strict,
}

/// Fixed server role given to a login at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerRole {
    Sysadmin,
    Setupadmin,
    Securityadmin,
    #[default]
    None,
}

impl ServerRole {
    /// A role as `--login USER:PASSWORD:ROLE` names it (any case); `none` is no role.
    pub fn parse(text: &str) -> Option<ServerRole> {
        match text.to_ascii_lowercase().as_str() {
            "sysadmin" => Some(ServerRole::Sysadmin),
            "setupadmin" => Some(ServerRole::Setupadmin),
            "securityadmin" => Some(ServerRole::Securityadmin),
            "none" => Some(ServerRole::None),
            _ => None,
        }
    }

    /// The fixed server role's name as `sys.server_principals` shows it; `None` for no role.
    pub fn name(self) -> Option<&'static str> {
        match self {
            ServerRole::Sysadmin => Some("sysadmin"),
            ServerRole::Setupadmin => Some("setupadmin"),
            ServerRole::Securityadmin => Some("securityadmin"),
            ServerRole::None => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSpec {
    pub name: String,
    pub password: String,
    pub role: ServerRole,
}

/// Faults a test can arm at start (CLI) or at run time (engine API / control procedure).
/// Request numbers count the requests (SQL batch or RPC messages) of one connection, from 1.
/// Call numbers count the procedure calls of one connection, from 1, wherever they run (an RPC,
/// an EXEC in a batch, in sp_executesql or in a CATCH block); the procedures that only run
/// statements (sp_executesql, sp_prepare, sp_execute, sp_prepexec, sp_unprepare) and the
/// stand-in's own control procedures do not count. They strike inside a request: the calls
/// before the N-th have run and their changes stay, as on SQL Server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaultPlan {
    /// Extra delay before answering every request.
    pub latency_ms: u64,
    /// Close the connection instead of answering the N-th request.
    pub drop_at_request: Option<u64>,
    /// Close the connection when a request calls this procedure (case-insensitive name).
    pub drop_at_procedure: Option<String>,
    /// Never answer the N-th request.
    pub stall_at_request: Option<u64>,
    /// Never answer a request that calls this procedure.
    pub stall_at_procedure: Option<String>,
    /// Answer the N-th request with this error number instead of running it.
    pub fail_request: Option<(u64, i32)>,
    /// Close the connection when the N-th procedure call starts (no CATCH block runs).
    pub drop_at_call: Option<u64>,
    /// The N-th procedure call never returns (until the client's attention or close).
    pub stall_at_call: Option<u64>,
    /// The N-th procedure call raises this error number instead of running (TRY catches it).
    pub fail_call: Option<(u64, i32)>,
}

impl FaultPlan {
    /// Arms one fault by the name the control procedure uses (`latency_ms`, `drop_at_request`,
    /// `stall_at_request`, `drop_at_procedure`, `stall_at_procedure`, `fail_request` as
    /// `N:ERRNO`, `drop_at_call`, `stall_at_call`, `fail_call` as `N:ERRNO`), or disarms all
    /// with `clear`. The CLI flags are the same names with dashes. Request and call numbers
    /// count from 1, so 0 is refused; so are empty procedure names.
    pub fn set(&mut self, fault: &str, value: Option<&str>) -> Result<(), String> {
        let value = value.map(str::trim);
        let text = || value.ok_or_else(|| format!("{fault} needs a value"));
        let number = |text: &str| {
            text.trim()
                .parse::<u64>()
                .map_err(|_| format!("{fault}: {text:?} is not a valid number"))
        };
        let request = |text: &str| match number(text)? {
            0 => Err(format!("{fault}: request numbers start at 1")),
            n => Ok(n),
        };
        let procedure = || match text()? {
            "" => Err(format!("{fault} needs a procedure name")),
            name => Ok(name.to_string()),
        };
        match fault.to_ascii_lowercase().as_str() {
            "clear" => *self = FaultPlan::default(),
            "latency_ms" => self.latency_ms = number(text()?)?,
            "drop_at_request" => self.drop_at_request = Some(request(text()?)?),
            "stall_at_request" => self.stall_at_request = Some(request(text()?)?),
            "drop_at_procedure" => self.drop_at_procedure = Some(procedure()?),
            "stall_at_procedure" => self.stall_at_procedure = Some(procedure()?),
            "drop_at_call" => self.drop_at_call = Some(request(text()?)?),
            "stall_at_call" => self.stall_at_call = Some(request(text()?)?),
            "fail_request" | "fail_call" => {
                let pair = text()?;
                let (at, error) = pair
                    .split_once(':')
                    .ok_or_else(|| format!("{fault} {pair}: expected N:ERRNO"))?;
                let error = error
                    .trim()
                    .parse::<i32>()
                    .map_err(|_| format!("{fault}: {error:?} is not a valid error number"))?;
                let armed = Some((request(at)?, error));
                if fault.eq_ignore_ascii_case("fail_call") {
                    self.fail_call = armed;
                } else {
                    self.fail_request = armed;
                }
            }
            other => return Err(format!("unknown fault {other}")),
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceConfig {
    /// `--listen`, e.g. 127.0.0.1:0.
    pub listen: SocketAddr,
    /// `--server-name`: `@@SERVERNAME`, the local row of sys.servers.
    pub server_name: String,
    /// `--login USER:PASSWORD[:ROLE]`.
    pub logins: Vec<LoginSpec>,
    pub encrypt: EncryptMode,
    /// `--peer NETNAME=HOST:PORT`: how this instance resolves a network name for linked-server hops.
    pub peers: Vec<(String, SocketAddr)>,
    /// `--biztalk FILE`: JSON rows for BizTalkMgmtDb.dbo.admv_BackupDatabases.
    pub biztalk: Option<PathBuf>,
    /// `--state FILE`: load the catalog from it at start (when present) and write it after every change.
    pub state_file: Option<PathBuf>,
    /// `--cert-out FILE`: write the generated self-signed certificate (PEM) there.
    pub cert_out: Option<PathBuf>,
    /// `--case-sensitive`: compare server and login names as a _CS_ collation would.
    pub case_sensitive: bool,
    /// `--latency-ms` and the other fault flags.
    pub faults: FaultPlan,
    /// Answers to the questions the reference leaves open (see the crate README).
    pub behaviour: Behaviour,
}

/// Switches for behaviour the public sources leave open; the defaults are what a current
/// Windows SQL Server most likely does (reasons in the crate README, "Open questions we decided").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behaviour {
    /// `sp_addlinkedsrvlogin` / `sp_droplinkedsrvlogin` need ALTER ANY LOGIN (docs); `false` gates
    /// them on ALTER ANY LINKED SERVER as the simulator observed.
    pub login_procs_need_alter_any_login: bool,
    /// `sp_droplinkedsrvlogin` for a mapping that does not exist raises 15007 instead of doing nothing.
    pub drop_missing_mapping_is_error: bool,
    /// `sp_serveroption` refuses to run inside a user transaction (15002).
    pub serveroption_refused_in_transaction: bool,
    /// `sp_addlinkedserver` checks permission before the product/provider rules (simulator order)
    /// instead of inside `sp_MSaddserver_internal` after them (published procedure text).
    pub addlinkedserver_permission_first: bool,
    /// Only SQL Server's own OLE DB providers are accepted (SQL Server on Linux, Msg 7222).
    pub linux_providers_only: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            login_procs_need_alter_any_login: true,
            drop_missing_mapping_is_error: false,
            serveroption_refused_in_transaction: false,
            addlinkedserver_permission_first: false,
            linux_providers_only: false,
        }
    }
}

impl InstanceConfig {
    /// A loopback instance on an ephemeral port, full encryption, one sysadmin login `sa`.
    pub fn new(server_name: &str) -> Self {
        InstanceConfig {
            listen: "127.0.0.1:0".parse().expect("literal address"),
            server_name: server_name.to_string(),
            logins: vec![LoginSpec {
                name: "sa".into(),
                password: "Str0ng!Passw0rd".into(),
                role: ServerRole::Sysadmin,
            }],
            encrypt: EncryptMode::On,
            peers: Vec::new(),
            biztalk: None,
            state_file: None,
            cert_out: None,
            case_sensitive: false,
            faults: FaultPlan::default(),
            behaviour: Behaviour::default(),
        }
    }

    pub fn with_login(mut self, name: &str, password: &str, role: ServerRole) -> Self {
        self.logins.push(LoginSpec {
            name: name.into(),
            password: password.into(),
            role,
        });
        self
    }

    pub fn with_encrypt(mut self, mode: EncryptMode) -> Self {
        self.encrypt = mode;
        self
    }

    pub fn with_peer(mut self, network_name: &str, addr: SocketAddr) -> Self {
        self.peers.push((network_name.into(), addr));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_plan_set_by_name() {
        let mut plan = FaultPlan::default();
        plan.set("latency_ms", Some("0")).unwrap();
        plan.set("DROP_AT_REQUEST", Some(" 3 ")).unwrap();
        plan.set("stall_at_procedure", Some("sp_who")).unwrap();
        plan.set("fail_request", Some("2:50000")).unwrap();
        assert_eq!(plan.drop_at_request, Some(3));
        assert_eq!(plan.stall_at_procedure.as_deref(), Some("sp_who"));
        assert_eq!(plan.fail_request, Some((2, 50000)));
        plan.set("drop_at_call", Some("4")).unwrap();
        plan.set("stall_at_call", Some("5")).unwrap();
        plan.set("fail_call", Some("3:15007")).unwrap();
        assert_eq!(
            (plan.drop_at_call, plan.stall_at_call, plan.fail_call),
            (Some(4), Some(5), Some((3, 15007)))
        );
        for (fault, value) in [
            ("drop_at_call", Some("0")),
            ("fail_call", Some("2")),
            ("drop_at_request", Some("0")),
            ("stall_at_request", Some("0")),
            ("fail_request", Some("0:1")),
            ("fail_request", Some("1")),
            ("latency_ms", Some("-1")),
            ("drop_at_procedure", Some("")),
            ("drop_at_procedure", None),
            ("no_such_fault", Some("1")),
        ] {
            let before = plan.clone();
            assert!(plan.set(fault, value).is_err(), "{fault} {value:?}");
            assert_eq!(plan, before, "a refused fault changes nothing");
        }
        plan.set("clear", None).unwrap();
        assert_eq!(plan, FaultPlan::default());
    }

    #[test]
    fn server_role_names_round_trip() {
        for role in [
            ServerRole::Sysadmin,
            ServerRole::Setupadmin,
            ServerRole::Securityadmin,
        ] {
            assert_eq!(role.name().and_then(ServerRole::parse), Some(role));
        }
        assert_eq!(ServerRole::parse("NONE"), Some(ServerRole::None));
        assert_eq!(ServerRole::None.name(), None);
        assert_eq!(ServerRole::parse("serveradmin"), None);
    }
}
