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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSpec {
    pub name: String,
    pub password: String,
    pub role: ServerRole,
}

/// Faults a test can arm at start (CLI) or at run time (engine API / control procedure).
/// Request numbers count the requests (SQL batch or RPC messages) of one connection, from 1.
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
