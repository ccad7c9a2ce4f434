//! Pure planning of `ensure`: the catalog as one read found it, plus the desired state and the
//! flags, become per server an action, the list of changes and the ordered procedure calls,
//! each with the call that undoes it. No I/O; every check that the read makes possible happens
//! here, so a refused request changes nothing.
//!
//! Undo: a step on a server this call creates is undone by dropping that server
//! ([`Undo::Covered`]); an option change by setting the old value; a mapping change by
//! restoring the old mapping, except that a mapping with a stored password cannot be restored
//! (SQL Server never reveals it), so replacing or removing one is [`Undo::Impossible`] and the
//! batch runs such steps after all others. A re-create renames the old server out of the way
//! first (its mappings and passwords follow the rename), builds the new one and drops the
//! renamed old one last, so undoing it means dropping the new server and renaming back.

use serde::Serialize;
use zeroize::Zeroizing;

use crate::desired::{same_name, DesiredServer};
use crate::error::{Error, Status};
use crate::plan::{is_sql_server_product, plan_create, NewLinkedServer, Step};
use crate::spec::{
    LinkedServer, LinkedServerSpec, LoginMapping, OptionSetting, OptionValue, RemoteCredentials,
    ServerOption,
};

/// The `flags` of `lsv_ensure`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnsureFlags {
    /// Plan and report only.
    pub dry_run: bool,
    /// Also remove mappings the desired state does not list (the global one included).
    pub exact_logins: bool,
    /// Converge immutable fields by re-creating the server.
    pub allow_recreate: bool,
    /// Re-send the password of listed remote-user mappings.
    pub set_passwords: bool,
}

impl EnsureFlags {
    pub const DRY_RUN: u32 = 1;
    pub const EXACT_LOGINS: u32 = 2;
    pub const ALLOW_RECREATE: u32 = 4;
    pub const SET_PASSWORDS: u32 = 8;

    /// Unknown bits are an error, so a flag of a later version is never silently ignored.
    pub fn from_bits(bits: u32) -> Result<EnsureFlags, Error> {
        let known = Self::DRY_RUN | Self::EXACT_LOGINS | Self::ALLOW_RECREATE | Self::SET_PASSWORDS;
        if bits & !known != 0 {
            return Err(Error::invalid_argument(format!(
                "flags has unknown bits 0x{:x}",
                bits & !known
            )));
        }
        Ok(EnsureFlags {
            dry_run: bits & Self::DRY_RUN != 0,
            exact_logins: bits & Self::EXACT_LOGINS != 0,
            allow_recreate: bits & Self::ALLOW_RECREATE != 0,
            set_passwords: bits & Self::SET_PASSWORDS != 0,
        })
    }
}

/// What the catalog read found: every linked server, the server principals, and whether the
/// instance compares names case-sensitively.
#[derive(Debug, Clone, Default)]
pub struct CatalogState {
    pub servers: Vec<LinkedServer>,
    pub logins: Vec<String>,
    pub case_sensitive: bool,
}

impl CatalogState {
    pub fn names_equal(&self, a: &str, b: &str) -> bool {
        if self.case_sensitive {
            a.trim_end_matches(' ') == b.trim_end_matches(' ')
        } else {
            same_name(a, b)
        }
    }

    pub fn find_server(&self, name: &str) -> Option<&LinkedServer> {
        self.servers.iter().find(|s| s.name == name).or_else(|| {
            self.servers
                .iter()
                .find(|s| self.names_equal(&s.name, name))
        })
    }

    fn login_exists(&self, login: &str) -> bool {
        self.logins.iter().any(|l| self.names_equal(l, login))
    }
}

/// The per-server outcome in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    Recreated,
    Unchanged,
}

/// How a local login reaches the linked server after a mapping step. `Debug` hides the
/// password.
#[derive(Clone, PartialEq, Eq)]
pub struct MappingTarget {
    pub uses_self_credential: bool,
    pub remote_user: Option<String>,
    pub password: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for MappingTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappingTarget")
            .field("uses_self_credential", &self.uses_self_credential)
            .field("remote_user", &self.remote_user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl MappingTarget {
    fn self_mapping() -> MappingTarget {
        MappingTarget {
            uses_self_credential: true,
            remote_user: None,
            password: None,
        }
    }

    fn of(mapping: &LoginMapping) -> MappingTarget {
        MappingTarget {
            uses_self_credential: mapping.uses_self_credential,
            remote_user: mapping.remote_user.clone(),
            password: None,
        }
    }

    fn of_credentials(credentials: &RemoteCredentials) -> MappingTarget {
        match credentials {
            RemoteCredentials::SelfMapping => MappingTarget::self_mapping(),
            RemoteCredentials::Remote { user, password } => MappingTarget {
                uses_self_credential: false,
                remote_user: user.clone(),
                password: password.clone(),
            },
        }
    }

    /// Whether SQL Server holds a password for this mapping (one that cannot be read back).
    fn has_stored_password(&self) -> bool {
        !self.uses_self_credential && self.remote_user.is_some()
    }

    fn same_login_as(&self, other: &MappingTarget) -> bool {
        self.uses_self_credential == other.uses_self_credential
            && self.remote_user == other.remote_user
    }

    fn shown(&self, local_login: &Option<String>) -> LoginMapping {
        LoginMapping {
            local_login: local_login.clone(),
            uses_self_credential: self.uses_self_credential,
            remote_user: self.remote_user.clone(),
        }
    }
}

/// One procedure call of a plan. Values are sent as typed parameters (see `batch`). `Debug`
/// hides provider strings and passwords.
#[derive(Clone, PartialEq, Eq)]
pub enum Call {
    AddServer(NewLinkedServer),
    DropServer {
        server: String,
        drop_logins: bool,
    },
    SetOption {
        server: String,
        option: ServerOption,
        value: Option<String>,
    },
    AddLogin {
        server: String,
        local_login: Option<String>,
        target: MappingTarget,
    },
    DropLogin {
        server: String,
        local_login: Option<String>,
    },
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Call::AddServer(add) => f.debug_tuple("AddServer").field(add).finish(),
            Call::DropServer {
                server,
                drop_logins,
            } => f
                .debug_struct("DropServer")
                .field("server", server)
                .field("drop_logins", drop_logins)
                .finish(),
            Call::SetOption {
                server,
                option,
                value,
            } => {
                let shown = if *option == ServerOption::ProviderString {
                    value.as_ref().map(|_| HIDDEN.to_string())
                } else {
                    value.clone()
                };
                f.debug_struct("SetOption")
                    .field("server", server)
                    .field("option", option)
                    .field("value", &shown)
                    .finish()
            }
            Call::AddLogin {
                server,
                local_login,
                target,
            } => f
                .debug_struct("AddLogin")
                .field("server", server)
                .field("local_login", local_login)
                .field("target", target)
                .finish(),
            Call::DropLogin {
                server,
                local_login,
            } => f
                .debug_struct("DropLogin")
                .field("server", server)
                .field("local_login", local_login)
                .finish(),
        }
    }
}

/// How a completed step is undone when a later one fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// An earlier step's undo removes its effect (the server it changes is dropped).
    Covered,
    By(Call),
    /// The old state holds a password nobody can read back; run after every other step.
    Impossible,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub call: Call,
    pub undo: Undo,
}

/// Whether a mapping was added, changed or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingChange {
    Added,
    Changed,
    Removed,
}

/// One entry of a server's `changes` in the report. Never holds a password; a provider string
/// (which may hold one) is shown as `"<hidden>"`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Change {
    Field {
        field: &'static str,
        from: Option<String>,
        to: Option<String>,
    },
    Option {
        option: &'static str,
        from: Option<serde_json::Value>,
        to: serde_json::Value,
    },
    Mapping {
        mapping: MappingChange,
        local_login: Option<String>,
        from: Option<LoginMapping>,
        to: Option<LoginMapping>,
        /// A password is sent with the new mapping.
        sets_password: bool,
    },
}

/// One line for a person: `option 'rpc out': false -> true`, `mapping of login 'sa' added:
/// self`, `field data_source: 'a' -> 'b'`.
impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn mapping(m: &LoginMapping) -> String {
            match (&m.uses_self_credential, &m.remote_user) {
                (true, _) => "its own credentials".into(),
                (false, Some(user)) => format!("remote login '{user}'"),
                (false, None) => "no security context".into(),
            }
        }
        fn value(v: &Option<String>) -> String {
            v.as_ref().map_or("NULL".into(), |v| format!("'{v}'"))
        }
        match self {
            Change::Field { field, from, to } => {
                write!(f, "{field}: {} -> {}", value(from), value(to))
            }
            Change::Option { option, from, to } => match from {
                Some(from) => write!(f, "option '{option}': {from} -> {to}"),
                None => write!(f, "option '{option}': {to}"),
            },
            Change::Mapping {
                mapping: kind,
                local_login,
                from,
                to,
                sets_password,
            } => {
                let who = local_login
                    .as_ref()
                    .map_or("every login".into(), |l| format!("login '{l}'"));
                let password = if *sets_password {
                    " (password sent)"
                } else {
                    ""
                };
                match (kind, from, to) {
                    (MappingChange::Removed, Some(from), _) => {
                        write!(f, "mapping of {who} removed (was {})", mapping(from))
                    }
                    (MappingChange::Changed, Some(from), Some(to)) => write!(
                        f,
                        "mapping of {who}: {} -> {}{password}",
                        mapping(from),
                        mapping(to)
                    ),
                    (_, _, Some(to)) => {
                        write!(f, "mapping of {who} added: {}{password}", mapping(to))
                    }
                    _ => write!(f, "mapping of {who} {kind:?}"),
                }
            }
        }
    }
}

/// Everything `ensure` will do to one server.
#[derive(Debug, Clone)]
pub struct ServerPlan {
    pub name: String,
    pub action: Action,
    pub changes: Vec<Change>,
    pub steps: Vec<PlannedStep>,
}

const HIDDEN: &str = "<hidden>";

/// Plans one server; an error names the server and means nothing may be sent.
pub fn plan_server(
    state: &CatalogState,
    desired: &DesiredServer,
    flags: EnsureFlags,
) -> Result<ServerPlan, Error> {
    plan_checked(state, desired, flags)
        .map_err(|e| e.context(format!("linked server '{}'", desired.name)))
}

fn plan_checked(
    state: &CatalogState,
    desired: &DesiredServer,
    flags: EnsureFlags,
) -> Result<ServerPlan, Error> {
    for login in &desired.logins {
        if let Some(local) = &login.local_login {
            if !state.login_exists(local) {
                return Err(Error::new(
                    Status::NotFound,
                    format!(
                        "local login '{local}' does not exist on this instance (SQL Server would \
                         refuse the mapping with error 15007)"
                    ),
                ));
            }
        }
        if flags.set_passwords && login.remote_user().is_some() && login.password().is_none() {
            return Err(Error::invalid_argument(format!(
                "SET_PASSWORDS: the mapping of {} lists remote_user but no remote_password",
                describe_login(&login.local_login)
            )));
        }
    }
    match state.find_server(&desired.name) {
        None => plan_new(state, desired, flags),
        Some(current) => {
            if let Some(wanted) = desired.nonsql_subscriber {
                if wanted != current.is_nonsql_subscriber {
                    return Err(Error::invalid_argument(
                        "is_nonsql_subscriber differs and no sp_serveroption option sets it",
                    ));
                }
            }
            let differences = immutable_differences(current, desired);
            if differences.is_empty() {
                plan_update(state, current, desired, flags)
            } else if flags.allow_recreate {
                plan_recreate(state, current, desired, flags, differences)
            } else {
                let fields: Vec<&str> = differences.iter().map(|(field, _, _)| *field).collect();
                Err(Error::invalid_argument(format!(
                    "{} differ from the existing server and can only change by dropping and \
                     re-creating it: pass ALLOW_RECREATE (LSV_ENSURE_ALLOW_RECREATE) to allow that",
                    fields.join(", ")
                )))
            }
        }
    }
}

fn describe_login(local_login: &Option<String>) -> String {
    local_login
        .as_deref()
        .map_or("every login (local_login null)".into(), |l| {
            format!("local login '{l}'")
        })
}

/// Provider names as the server stores them: any case, and `SQLOLEDB` is kept as `SQLNCLI`.
fn same_provider(a: &str, b: &str) -> bool {
    let canonical = |p: &str| {
        let p = p.trim_end_matches(' ').to_ascii_uppercase();
        if p == "SQLOLEDB" {
            "SQLNCLI".to_string()
        } else {
            p
        }
    };
    canonical(a) == canonical(b)
}

type FieldDifference = (&'static str, Option<String>, Option<String>);

fn immutable_differences(current: &LinkedServer, desired: &DesiredServer) -> Vec<FieldDifference> {
    let mut differences = Vec::new();
    if let Some(product) = &desired.product {
        let current_sql = is_sql_server_product(&current.product);
        let same = if is_sql_server_product(product) {
            current_sql
        } else {
            !current_sql && *product == current.product
        };
        if !same {
            differences.push((
                "product",
                Some(current.product.clone()),
                Some(product.clone()),
            ));
        }
    }
    if let Some(provider) = &desired.provider {
        if !same_provider(provider, &current.provider) {
            differences.push((
                "provider",
                Some(current.provider.clone()),
                Some(provider.clone()),
            ));
        }
    }
    let properties = [
        ("data_source", &desired.data_source, &current.data_source),
        ("location", &desired.location, &current.location),
        (
            "provider_string",
            &desired.provider_string,
            &current.provider_string,
        ),
        ("catalog", &desired.catalog, &current.catalog),
    ];
    for (field, wanted, now) in properties {
        if let Some(wanted) = wanted {
            if wanted != now {
                differences.push((field, now.clone(), wanted.clone()));
            }
        }
    }
    differences
}

/// The `sp_addlinkedserver` call for a definition, checked by the create planner. A SQL Server
/// link as `lsv_get` shows it (provider `SQLNCLI`, data source = its name, no other properties)
/// is accepted and sent as just the product, which is how SQL Server makes one.
fn add_server_call(
    name: &str,
    product: Option<&str>,
    provider: Option<&str>,
    properties: [(&'static str, Option<&str>); 4],
) -> Result<NewLinkedServer, Error> {
    let sql_server_link = match (product, provider) {
        (None, None) => true,
        (Some(product), _) => is_sql_server_product(product),
        (None, Some(_)) => false,
    };
    let mut spec = LinkedServerSpec {
        product: product.map(str::to_string),
        ..LinkedServerSpec::default()
    };
    if sql_server_link {
        if provider.is_some_and(|p| !same_provider(p, "SQLNCLI")) {
            spec.provider = provider.map(str::to_string);
        }
        for (field, value) in properties {
            let implied = field == "data_source" && value.is_some_and(|v| same_name(v, name));
            if value.is_some() && !implied {
                // Left in, so that plan_create explains the rule (15426).
                match field {
                    "data_source" => spec.data_source = value.map(str::to_string),
                    "location" => spec.location = value.map(str::to_string),
                    "provider_string" => spec.provider_string = value.map(str::to_string),
                    _ => spec.catalog = value.map(str::to_string),
                }
            }
        }
    } else {
        spec.provider = provider.map(str::to_string);
        let [data_source, location, provider_string, catalog] = properties.map(|(_, v)| v);
        spec.data_source = data_source.map(str::to_string);
        spec.location = location.map(str::to_string);
        spec.provider_string = provider_string.map(str::to_string);
        spec.catalog = catalog.map(str::to_string);
    }
    let plan = plan_create(name, &spec)?;
    match plan.steps.into_iter().next() {
        Some(Step::AddLinkedServer(add)) => Ok(add),
        _ => Err(Error::new(
            Status::Internal,
            "the create plan does not start with sp_addlinkedserver",
        )),
    }
}

/// The value SQL Server gives an option at creation (reference §2), where it is certain;
/// `rpc` and `rpc out` depend on the product and version, so they are always sent.
pub(crate) fn value_after_create(option: ServerOption) -> Option<OptionValue> {
    Some(match option {
        ServerOption::CollationCompatible
        | ServerOption::Dist
        | ServerOption::LazySchemaValidation
        | ServerOption::Pub
        | ServerOption::Sub
        | ServerOption::System => OptionValue::Flag(false),
        ServerOption::DataAccess
        | ServerOption::RemoteProcTransactionPromotion
        | ServerOption::UseRemoteCollation => OptionValue::Flag(true),
        ServerOption::ConnectTimeout | ServerOption::QueryTimeout => OptionValue::Seconds(0),
        ServerOption::CollationName => OptionValue::Text(None),
        ServerOption::Rpc
        | ServerOption::RpcOut
        | ServerOption::Name
        | ServerOption::ProviderString => return None,
    })
}

/// The current value of an option, as `sys.servers` shows it.
pub fn current_value(server: &LinkedServer, option: ServerOption) -> OptionValue {
    match option {
        ServerOption::CollationCompatible => OptionValue::Flag(server.collation_compatible),
        ServerOption::CollationName => OptionValue::Text(server.collation_name.clone()),
        ServerOption::ConnectTimeout => OptionValue::Seconds(server.connect_timeout),
        ServerOption::DataAccess => OptionValue::Flag(server.data_access),
        ServerOption::Dist => OptionValue::Flag(server.is_distributor),
        ServerOption::LazySchemaValidation => OptionValue::Flag(server.lazy_schema_validation),
        ServerOption::Name => OptionValue::Text(Some(server.name.clone())),
        ServerOption::ProviderString => OptionValue::Text(server.provider_string.clone()),
        ServerOption::Pub => OptionValue::Flag(server.is_publisher),
        ServerOption::QueryTimeout => OptionValue::Seconds(server.query_timeout),
        ServerOption::RemoteProcTransactionPromotion => {
            OptionValue::Flag(server.remote_proc_transaction_promotion)
        }
        ServerOption::Rpc => OptionValue::Flag(server.rpc),
        ServerOption::RpcOut => OptionValue::Flag(server.rpc_out),
        ServerOption::Sub => OptionValue::Flag(server.is_subscriber),
        ServerOption::System => OptionValue::Flag(server.is_system),
        ServerOption::UseRemoteCollation => OptionValue::Flag(server.use_remote_collation),
    }
}

/// An option value for the report (a provider string hidden).
fn shown_value(option: ServerOption, value: &OptionValue) -> serde_json::Value {
    match value {
        OptionValue::Text(Some(_)) if option == ServerOption::ProviderString => HIDDEN.into(),
        OptionValue::Flag(flag) => (*flag).into(),
        OptionValue::Seconds(seconds) => (*seconds).into(),
        OptionValue::Text(text) => text.clone().into(),
    }
}

fn set_option(server: &str, option: ServerOption, value: &OptionValue) -> Call {
    Call::SetOption {
        server: server.to_string(),
        option,
        value: value.to_parameter(),
    }
}

fn refuse_turning_off_system(setting: &OptionSetting) -> Result<(), Error> {
    if setting.option == ServerOption::System && setting.value == OptionValue::Flag(false) {
        return Err(Error::invalid_argument(
            "option 'system' can only be turned on (sp_serveroption takes only true)",
        ));
    }
    Ok(())
}

fn plan_new(
    state: &CatalogState,
    desired: &DesiredServer,
    flags: EnsureFlags,
) -> Result<ServerPlan, Error> {
    fn flatten(field: &Option<Option<String>>) -> Option<&str> {
        field.as_ref().and_then(|v| v.as_deref())
    }
    let add = add_server_call(
        &desired.name,
        desired.product.as_deref(),
        desired.provider.as_deref(),
        [
            ("data_source", flatten(&desired.data_source)),
            ("location", flatten(&desired.location)),
            ("provider_string", flatten(&desired.provider_string)),
            ("catalog", flatten(&desired.catalog)),
        ],
    )?;
    let name = add.name.clone();
    let mut steps = vec![PlannedStep {
        call: Call::AddServer(add),
        undo: Undo::By(Call::DropServer {
            server: name.clone(),
            drop_logins: true,
        }),
    }];
    let mut changes = Vec::new();
    for setting in &desired.options {
        if value_after_create(setting.option).as_ref() == Some(&setting.value) {
            continue;
        }
        refuse_turning_off_system(setting)?;
        changes.push(Change::Option {
            option: setting.option.name(),
            from: None,
            to: shown_value(setting.option, &setting.value),
        });
        steps.push(PlannedStep {
            call: set_option(&name, setting.option, &setting.value),
            undo: Undo::Covered,
        });
    }
    let after_create = [LoginMapping {
        local_login: None,
        uses_self_credential: true,
        remote_user: None,
    }];
    let target = target_mappings(state, &after_create, desired, flags);
    for (change, call) in mapping_steps(state, &name, &after_create, &target, flags) {
        changes.push(change);
        steps.push(PlannedStep {
            call,
            undo: Undo::Covered,
        });
    }
    Ok(ServerPlan {
        name,
        action: Action::Created,
        changes,
        steps,
    })
}

fn plan_update(
    state: &CatalogState,
    current: &LinkedServer,
    desired: &DesiredServer,
    flags: EnsureFlags,
) -> Result<ServerPlan, Error> {
    let name = &current.name;
    let mut changes = Vec::new();
    let mut steps = Vec::new();
    for setting in &desired.options {
        let now = current_value(current, setting.option);
        if now == setting.value {
            continue;
        }
        refuse_turning_off_system(setting)?;
        changes.push(Change::Option {
            option: setting.option.name(),
            from: Some(shown_value(setting.option, &now)),
            to: shown_value(setting.option, &setting.value),
        });
        steps.push(PlannedStep {
            call: set_option(name, setting.option, &setting.value),
            undo: Undo::By(set_option(name, setting.option, &now)),
        });
    }
    let target = target_mappings(state, &current.logins, desired, flags);
    for (change, call) in mapping_steps(state, name, &current.logins, &target, flags) {
        let old = current
            .logins
            .iter()
            .find(|m| same_local(state, &m.local_login, call_local_login(&call)));
        let undo = match old {
            None => Undo::By(Call::DropLogin {
                server: name.clone(),
                local_login: call_local_login(&call).clone(),
            }),
            Some(old) if MappingTarget::of(old).has_stored_password() => Undo::Impossible,
            Some(old) => Undo::By(Call::AddLogin {
                server: name.clone(),
                local_login: old.local_login.clone(),
                target: MappingTarget::of(old),
            }),
        };
        changes.push(change);
        steps.push(PlannedStep { call, undo });
    }
    let action = if steps.is_empty() {
        Action::Unchanged
    } else {
        Action::Updated
    };
    Ok(ServerPlan {
        name: name.clone(),
        action,
        changes,
        steps,
    })
}

fn plan_recreate(
    state: &CatalogState,
    current: &LinkedServer,
    desired: &DesiredServer,
    flags: EnsureFlags,
    differences: Vec<FieldDifference>,
) -> Result<ServerPlan, Error> {
    let from_desired_only = desired.product.is_some() || desired.provider.is_some();
    let property = |wanted: &Option<Option<String>>, now: &Option<String>| -> Option<String> {
        match wanted {
            Some(value) => value.clone(),
            None if from_desired_only => None,
            None => now.clone(),
        }
    };
    let data_source = property(&desired.data_source, &current.data_source);
    let location = property(&desired.location, &current.location);
    let provider_string = property(&desired.provider_string, &current.provider_string);
    let catalog = property(&desired.catalog, &current.catalog);
    let (product, provider) = if from_desired_only {
        (desired.product.clone(), desired.provider.clone())
    } else {
        (
            Some(current.product.clone()),
            Some(current.provider.clone()),
        )
    };
    let add = add_server_call(
        &desired.name,
        product.as_deref(),
        provider.as_deref(),
        [
            ("data_source", data_source.as_deref()),
            ("location", location.as_deref()),
            ("provider_string", provider_string.as_deref()),
            ("catalog", catalog.as_deref()),
        ],
    )?;

    let target = target_mappings(state, &current.logins, desired, flags);
    if let Some((local, _)) = target
        .iter()
        .find(|(_, t)| t.has_stored_password() && t.password.is_none())
    {
        return Err(Error::invalid_argument(format!(
            "re-creating it would lose the stored password of the mapping of {}: list that \
             mapping with its remote_password (or remove it with EXACT_LOGINS)",
            describe_login(local)
        )));
    }
    let parked = format!("lsv_recreate_{}", current.server_id);
    if state.find_server(&parked).is_some() {
        return Err(Error::new(
            Status::AlreadyExists,
            format!(
                "a linked server named '{parked}' exists, which re-creating needs as the \
                 temporary name of the old server"
            ),
        ));
    }

    let mut changes: Vec<Change> = differences
        .into_iter()
        .map(|(field, from, to)| {
            let hide = |v: Option<String>| {
                if field == "provider_string" {
                    v.map(|_| HIDDEN.to_string())
                } else {
                    v
                }
            };
            Change::Field {
                field,
                from: hide(from),
                to: hide(to),
            }
        })
        .collect();
    let name = add.name.clone();
    let mut steps = vec![
        PlannedStep {
            call: set_option(
                &current.name,
                ServerOption::Name,
                &OptionValue::Text(Some(parked.clone())),
            ),
            undo: Undo::By(set_option(
                &parked,
                ServerOption::Name,
                &OptionValue::Text(Some(current.name.clone())),
            )),
        },
        PlannedStep {
            call: Call::AddServer(add),
            undo: Undo::By(Call::DropServer {
                server: name.clone(),
                drop_logins: true,
            }),
        },
    ];
    for option in ServerOption::ALL {
        // The name is the new server's; the provider string is part of its definition.
        if option == ServerOption::Name || option == ServerOption::ProviderString {
            continue;
        }
        let now = current_value(current, option);
        let wanted = desired
            .options
            .iter()
            .find(|s| s.option == option)
            .map_or(now.clone(), |s| s.value.clone());
        if wanted != now {
            refuse_turning_off_system(&OptionSetting {
                option,
                value: wanted.clone(),
            })?;
            changes.push(Change::Option {
                option: option.name(),
                from: Some(shown_value(option, &now)),
                to: shown_value(option, &wanted),
            });
        }
        if value_after_create(option).as_ref() != Some(&wanted) {
            steps.push(PlannedStep {
                call: set_option(&name, option, &wanted),
                undo: Undo::Covered,
            });
        }
    }
    changes.extend(
        mapping_steps(state, &name, &current.logins, &target, flags)
            .into_iter()
            .map(|(change, _)| change),
    );
    let after_create = [LoginMapping {
        local_login: None,
        uses_self_credential: true,
        remote_user: None,
    }];
    // Every mapping of the target is sent again: the new server starts with the default one.
    let resend = EnsureFlags {
        set_passwords: true,
        ..flags
    };
    for (_, call) in mapping_steps(state, &name, &after_create, &target, resend) {
        steps.push(PlannedStep {
            call,
            undo: Undo::Covered,
        });
    }
    steps.push(PlannedStep {
        call: Call::DropServer {
            server: parked,
            drop_logins: true,
        },
        undo: Undo::Impossible,
    });
    Ok(ServerPlan {
        name,
        action: Action::Recreated,
        changes,
        steps,
    })
}

/// Whether the catalog shows the effect of `call` (so it ran, given it was planned because the
/// catalog did not show it before).
fn visible(state: &CatalogState, call: &Call) -> bool {
    let server = |name: &str| state.find_server(name);
    let mapping = |name: &str, local: &Option<String>| {
        server(name).and_then(|s| {
            s.logins
                .iter()
                .find(|m| same_local(state, &m.local_login, local))
        })
    };
    match call {
        Call::AddServer(add) => server(&add.name).is_some(),
        Call::DropServer { server: name, .. } => server(name).is_none(),
        Call::SetOption {
            option: ServerOption::Name,
            value,
            ..
        } => value.as_deref().is_some_and(|to| server(to).is_some()),
        Call::SetOption {
            server: name,
            option,
            value,
        } => server(name).is_some_and(|s| current_value(s, *option).to_parameter() == *value),
        Call::AddLogin {
            server: name,
            local_login,
            target,
        } => mapping(name, local_login).is_some_and(|m| MappingTarget::of(m).same_login_as(target)),
        Call::DropLogin {
            server: name,
            local_login,
        } => server(name).is_some() && mapping(name, local_login).is_none(),
    }
}

/// How to get back to "as it was" or "as desired" after a write broke off part-way (a lost
/// connection runs no CATCH block): the calls to send, and whether they complete the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Calls in order, each to run once (no undo of their own).
    pub calls: Vec<Call>,
    /// `true`: every undoable step had run, so the rest is completed (roll forward); `false`:
    /// the steps that ran are undone (roll back).
    pub completes: bool,
    /// How many of the undoable steps had run.
    pub ran: usize,
}

/// Plans the recovery of a write of `order` (as `batch::run_order` gave it) from the catalog
/// read afterwards. Steps run in order, so the last one whose effect is visible tells how far
/// the write got. Steps whose undo is impossible run last: if the break came among them, the
/// write is completed instead of undone (what they did cannot be taken back). A re-create's
/// steps after its rename count only once the rename shows (before it, the old server still
/// carries the name).
pub fn plan_recovery(state: &CatalogState, order: &[&PlannedStep]) -> Recovery {
    let undoable: Vec<&PlannedStep> = order
        .iter()
        .copied()
        .filter(|s| s.undo != Undo::Impossible)
        .collect();
    let renames: Vec<&Call> = undoable
        .iter()
        .map(|s| &s.call)
        .filter(|c| {
            matches!(
                c,
                Call::SetOption {
                    option: ServerOption::Name,
                    ..
                }
            )
        })
        .collect();
    let parked_under = |call: &Call| -> Option<&Call> {
        let name = match call {
            Call::AddServer(add) => &add.name,
            Call::SetOption { server, .. }
            | Call::AddLogin { server, .. }
            | Call::DropLogin { server, .. }
            | Call::DropServer { server, .. } => server,
        };
        renames.iter().copied().find(|rename| {
            matches!(rename, Call::SetOption { server: old, .. }
                if *rename != call && state.names_equal(old, name))
        })
    };
    let ran = undoable
        .iter()
        .rposition(|step| {
            visible(state, &step.call)
                && parked_under(&step.call).map_or(true, |rename| visible(state, rename))
        })
        .map_or(0, |last| last + 1);
    if ran < undoable.len() {
        let calls = undoable[..ran]
            .iter()
            .rev()
            .filter_map(|step| match &step.undo {
                Undo::By(call) => Some(call.clone()),
                _ => None,
            })
            .collect();
        return Recovery {
            calls,
            completes: false,
            ran,
        };
    }
    let calls = order
        .iter()
        .filter(|s| s.undo == Undo::Impossible)
        .filter(|s| {
            // A resent password cannot be seen, so such calls are sent again.
            !matches!(s.call, Call::DropServer { .. } | Call::DropLogin { .. })
                || !visible(state, &s.call)
        })
        .map(|s| s.call.clone())
        .collect();
    Recovery {
        calls,
        completes: true,
        ran,
    }
}

fn call_local_login(call: &Call) -> &Option<String> {
    match call {
        Call::AddLogin { local_login, .. } | Call::DropLogin { local_login, .. } => local_login,
        _ => &None,
    }
}

fn same_local(state: &CatalogState, a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => state.names_equal(a, b),
        _ => false,
    }
}

/// Where each mapping should end up, starting from `current`: listed mappings replace theirs
/// (with the password given, if any); with EXACT_LOGINS unlisted ones go; the global one goes
/// with EXACT_LOGINS unless listed, or when the desired state asks to drop it.
fn target_mappings(
    state: &CatalogState,
    current: &[LoginMapping],
    desired: &DesiredServer,
    flags: EnsureFlags,
) -> Vec<(Option<String>, MappingTarget)> {
    let listed = |local: &Option<String>| {
        desired
            .logins
            .iter()
            .any(|l| same_local(state, &l.local_login, local))
    };
    let mut target: Vec<(Option<String>, MappingTarget)> = current
        .iter()
        .filter(|m| !flags.exact_logins || listed(&m.local_login))
        .filter(|m| !(desired.drop_global_mapping && m.local_login.is_none()))
        .map(|m| (m.local_login.clone(), MappingTarget::of(m)))
        .collect();
    for login in &desired.logins {
        let wanted = MappingTarget::of_credentials(&login.credentials);
        match target
            .iter_mut()
            .find(|(local, _)| same_local(state, local, &login.local_login))
        {
            Some(entry) => entry.1 = wanted,
            None => target.push((login.local_login.clone(), wanted)),
        }
    }
    target
}

/// The mapping calls from `current` to `target`, with their changes: a listed mapping that
/// already connects as the same remote user is left alone unless SET_PASSWORDS (passwords
/// cannot be compared).
fn mapping_steps(
    state: &CatalogState,
    server: &str,
    current: &[LoginMapping],
    target: &[(Option<String>, MappingTarget)],
    flags: EnsureFlags,
) -> Vec<(Change, Call)> {
    let mut steps = Vec::new();
    for old in current {
        if !target
            .iter()
            .any(|(local, _)| same_local(state, local, &old.local_login))
        {
            steps.push((
                Change::Mapping {
                    mapping: MappingChange::Removed,
                    local_login: old.local_login.clone(),
                    from: Some(old.clone()),
                    to: None,
                    sets_password: false,
                },
                Call::DropLogin {
                    server: server.to_string(),
                    local_login: old.local_login.clone(),
                },
            ));
        }
    }
    for (local, wanted) in target {
        let old = current
            .iter()
            .find(|m| same_local(state, &m.local_login, local));
        let kind = match old {
            None => MappingChange::Added,
            Some(old) => {
                let old_target = MappingTarget::of(old);
                let resend_password = flags.set_passwords && wanted.password.is_some();
                if old_target.same_login_as(wanted) && !resend_password {
                    continue;
                }
                MappingChange::Changed
            }
        };
        // The server's spelling of an existing login; the caller's for a new one.
        let local_login = old.map_or_else(|| local.clone(), |o| o.local_login.clone());
        steps.push((
            Change::Mapping {
                mapping: kind,
                local_login: local_login.clone(),
                from: old.cloned(),
                to: Some(wanted.shown(&local_login)),
                sets_password: wanted.password.is_some(),
            },
            Call::AddLogin {
                server: server.to_string(),
                local_login,
                target: wanted.clone(),
            },
        ));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::parse_desired;

    fn server(name: &str) -> LinkedServer {
        LinkedServer::created(name)
    }

    fn mapping(local: Option<&str>, self_credential: bool, user: Option<&str>) -> LoginMapping {
        LoginMapping {
            local_login: local.map(str::to_string),
            uses_self_credential: self_credential,
            remote_user: user.map(str::to_string),
        }
    }

    fn state(servers: Vec<LinkedServer>) -> CatalogState {
        CatalogState {
            servers,
            logins: vec!["sa".into(), "app".into(), "BizTalkJob".into()],
            case_sensitive: false,
        }
    }

    fn plan(state: &CatalogState, json: &str, bits: u32) -> Result<ServerPlan, Error> {
        let desired = parse_desired(json).unwrap().pop().unwrap();
        plan_server(state, &desired, EnsureFlags::from_bits(bits).unwrap())
    }

    const FULL: &str = r#"{"name":"BTS01","product":"SQL Server",
        "options":{"rpc":true,"rpc out":true,"query timeout":30},
        "logins":[{"local_login":"sa","uses_self_credential":true},
                  {"local_login":"app","uses_self_credential":false,"remote_user":"u",
                   "remote_password":"Secret1"}]}"#;

    fn calls(plan: &ServerPlan) -> Vec<&Call> {
        plan.steps.iter().map(|s| &s.call).collect()
    }

    #[test]
    fn new_server_is_created_with_options_and_mappings_all_covered_by_one_drop() {
        let plan = plan(&state(vec![]), FULL, EnsureFlags::EXACT_LOGINS).unwrap();
        assert_eq!(plan.action, Action::Created);
        let calls = calls(&plan);
        assert!(matches!(calls[0], Call::AddServer(add) if add.product == "SQL Server"));
        assert_eq!(
            plan.steps[0].undo,
            Undo::By(Call::DropServer {
                server: "BTS01".into(),
                drop_logins: true
            })
        );
        assert!(plan.steps[1..].iter().all(|s| s.undo == Undo::Covered));
        let options: Vec<_> = calls
            .iter()
            .filter_map(|c| match c {
                Call::SetOption { option, value, .. } => Some((*option, value.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            options,
            [
                (ServerOption::Rpc, Some("true".into())),
                (ServerOption::RpcOut, Some("true".into())),
                (ServerOption::QueryTimeout, Some("30".into()))
            ]
        );
        assert!(calls.contains(&&Call::DropLogin {
            server: "BTS01".into(),
            local_login: None
        }));
        let added: Vec<_> = calls
            .iter()
            .filter_map(|c| match c {
                Call::AddLogin {
                    local_login,
                    target,
                    ..
                } => Some((local_login.clone(), target.password.is_some())),
                _ => None,
            })
            .collect();
        assert_eq!(
            added,
            [(Some("sa".into()), false), (Some("app".into()), true)]
        );
        assert_eq!(plan.changes.len(), 6, "{:?}", plan.changes);
        assert!(!format!("{plan:?}").contains("Secret1"));
    }

    #[test]
    fn without_exact_logins_the_global_mapping_stays() {
        let plan = plan(&state(vec![]), FULL, 0).unwrap();
        assert!(!calls(&plan)
            .iter()
            .any(|c| matches!(c, Call::DropLogin { .. })));
    }

    #[test]
    fn converged_server_is_unchanged_and_passwords_are_not_resent_by_default() {
        let mut current = server("BTS01");
        current.query_timeout = 30;
        current.logins = vec![
            mapping(Some("app"), false, Some("u")),
            mapping(Some("sa"), true, None),
        ];
        let state = state(vec![current]);
        let plan = plan(&state, FULL, EnsureFlags::EXACT_LOGINS).unwrap();
        assert_eq!(plan.action, Action::Unchanged, "{:?}", plan.steps);
        assert!(plan.changes.is_empty());

        let resend = self::plan(
            &state,
            FULL,
            EnsureFlags::EXACT_LOGINS | EnsureFlags::SET_PASSWORDS,
        )
        .unwrap();
        assert_eq!(resend.action, Action::Updated);
        assert_eq!(resend.steps.len(), 1);
        assert_eq!(resend.steps[0].undo, Undo::Impossible);
    }

    #[test]
    fn get_output_of_a_server_ensures_to_unchanged() {
        let current = server("BTS01");
        let json = serde_json::to_string(&current).unwrap();
        let state = state(vec![current]);
        let plan = plan(&state, &json, EnsureFlags::EXACT_LOGINS).unwrap();
        assert_eq!(plan.action, Action::Unchanged, "{:?}", plan.changes);
        // The same output makes an equal server where none exists.
        let created = self::plan(&self::state(vec![]), &json, EnsureFlags::EXACT_LOGINS).unwrap();
        assert_eq!(created.action, Action::Created);
        assert!(
            matches!(&created.steps[0].call, Call::AddServer(add) if add.provider.is_none() && add.data_source.is_none())
        );
    }

    #[test]
    fn updates_record_old_values_as_undo() {
        let mut current = server("bts01");
        current.rpc_out = false;
        current.logins = vec![mapping(None, true, None), mapping(Some("sa"), false, None)];
        let state = state(vec![current]);
        let plan = plan(
            &state,
            r#"{"name":"BTS01","rpc_out":true,
               "logins":[{"local_login":"SA","uses_self_credential":true}]}"#,
            EnsureFlags::EXACT_LOGINS,
        )
        .unwrap();
        assert_eq!(plan.name, "bts01", "the server's own spelling");
        assert_eq!(plan.action, Action::Updated);
        assert_eq!(
            plan.steps[0].undo,
            Undo::By(Call::SetOption {
                server: "bts01".into(),
                option: ServerOption::RpcOut,
                value: Some("false".into())
            })
        );
        // Global dropped (undo: re-add self), sa changed from no-context to self (undo: back).
        assert_eq!(plan.steps.len(), 3);
        assert!(matches!(
            &plan.steps[1],
            PlannedStep { call: Call::DropLogin { local_login: None, .. },
                      undo: Undo::By(Call::AddLogin { target, .. }) } if target.uses_self_credential
        ));
        assert!(matches!(
            &plan.steps[2],
            PlannedStep { call: Call::AddLogin { local_login: Some(l), .. },
                      undo: Undo::By(Call::AddLogin { target, .. }) } if l == "sa" && !target.uses_self_credential
        ));
    }

    #[test]
    fn checks_that_the_read_allows_fail_before_any_step() {
        let state = state(vec![server("BTS01")]);
        let unknown = plan(
            &state,
            r#"{"name":"X","logins":[{"local_login":"ghost","uses_self_credential":true}]}"#,
            0,
        )
        .unwrap_err();
        assert_eq!(unknown.status, Status::NotFound);
        assert!(unknown.message.contains("ghost") && unknown.message.contains("'X'"));

        let immutable = plan(
            &state,
            r#"{"name":"BTS01","product":"","provider":"MSOLEDBSQL","data_source":"h"}"#,
            0,
        )
        .unwrap_err();
        assert!(
            immutable.message.contains("ALLOW_RECREATE"),
            "{}",
            immutable.message
        );
        assert!(immutable.message.contains("product, provider, data_source"));

        let system_off = plan(
            &self::state(vec![LinkedServer {
                is_system: true,
                ..server("BTS01")
            }]),
            r#"{"name":"BTS01","is_system":false}"#,
            0,
        )
        .unwrap_err();
        assert!(system_off.message.contains("system"));
        assert!(plan(&state, r#"{"name":"Y","data_source":"elsewhere"}"#, 0)
            .unwrap_err()
            .message
            .contains("15426"));
        assert!(plan(
            &state,
            r#"{"name":"BTS01","logins":[{"local_login":"app","uses_self_credential":false,
                "remote_user":"u"}]}"#,
            EnsureFlags::SET_PASSWORDS
        )
        .unwrap_err()
        .message
        .contains("remote_password"));
        assert!(EnsureFlags::from_bits(16).is_err());
    }

    #[test]
    fn recreate_parks_the_old_server_and_keeps_options_and_mappings() {
        let mut current = server("BTS01");
        current.query_timeout = 45;
        current.logins = vec![mapping(Some("sa"), true, None)];
        let state = state(vec![current]);
        let json = r#"{"name":"BTS01","product":"","provider":"MSOLEDBSQL",
                       "data_source":"sql02\\bts","options":{"rpc out":true}}"#;
        let plan = plan(&state, json, EnsureFlags::ALLOW_RECREATE).unwrap();
        assert_eq!(plan.action, Action::Recreated);
        let calls = calls(&plan);
        assert_eq!(
            calls[0],
            &Call::SetOption {
                server: "BTS01".into(),
                option: ServerOption::Name,
                value: Some("lsv_recreate_3".into())
            }
        );
        assert!(matches!(&plan.steps[0].undo,
            Undo::By(Call::SetOption { server, value, .. })
                if server == "lsv_recreate_3" && value.as_deref() == Some("BTS01")));
        assert!(
            matches!(calls[1], Call::AddServer(add) if add.provider.as_deref() == Some("MSOLEDBSQL"))
        );
        assert!(calls.contains(&&Call::SetOption {
            server: "BTS01".into(),
            option: ServerOption::QueryTimeout,
            value: Some("45".into())
        }));
        // The old server had no global mapping: the new one's default is dropped again.
        assert!(calls.contains(&&Call::DropLogin {
            server: "BTS01".into(),
            local_login: None
        }));
        assert_eq!(
            calls.last().unwrap(),
            &&Call::DropServer {
                server: "lsv_recreate_3".into(),
                drop_logins: true
            }
        );
        assert_eq!(plan.steps.last().unwrap().undo, Undo::Impossible);
        assert!(plan.changes.iter().any(|c| matches!(
            c,
            Change::Field {
                field: "product",
                ..
            }
        )));
    }

    #[test]
    fn recreate_sets_the_options_the_desired_state_turns_on() {
        let json = r#"{"name":"BTS01","product":"","provider":"MSOLEDBSQL","data_source":"h",
                       "options":{"system":true}}"#;
        let plan = plan(
            &state(vec![server("BTS01")]),
            json,
            EnsureFlags::ALLOW_RECREATE,
        )
        .unwrap();
        assert!(calls(&plan).contains(&&Call::SetOption {
            server: "BTS01".into(),
            option: ServerOption::System,
            value: Some("true".into())
        }));
    }

    #[test]
    fn recreate_refuses_to_lose_a_stored_password() {
        let mut current = server("BTS01");
        current.logins = vec![mapping(Some("app"), false, Some("u"))];
        let state = state(vec![current]);
        let json = r#"{"name":"BTS01","product":"","provider":"MSOLEDBSQL","data_source":"h"}"#;
        let error = plan(&state, json, EnsureFlags::ALLOW_RECREATE).unwrap_err();
        assert!(
            error.message.contains("stored password"),
            "{}",
            error.message
        );
        // Supplying it, or removing the mapping, makes it possible.
        let supplied = r#"{"name":"BTS01","product":"","provider":"MSOLEDBSQL","data_source":"h",
            "logins":[{"local_login":"app","uses_self_credential":false,"remote_user":"u",
                       "remote_password":"Secret1"}]}"#;
        let plan = plan(&state, supplied, EnsureFlags::ALLOW_RECREATE).unwrap();
        assert!(plan.steps.iter().any(|s| matches!(&s.call,
            Call::AddLogin { target, .. } if target.password.is_some())));
        assert!(self::plan(
            &state,
            json,
            EnsureFlags::ALLOW_RECREATE | EnsureFlags::EXACT_LOGINS
        )
        .is_ok());
    }

    #[test]
    fn debug_output_hides_provider_strings_and_passwords() {
        let mut current = server("BTS01");
        current.product = String::new();
        current.provider = "MSOLEDBSQL".into();
        current.provider_string = Some("Pwd=Old1".into());
        current.logins = vec![mapping(Some("app"), false, Some("u"))];
        let json = r#"{"name":"BTS01","product":"","provider":"MSOLEDBSQL","data_source":"BTS01",
            "provider_string":"Pwd=New1","options":{"provider string":"Pwd=New2"},
            "logins":[{"local_login":"app","uses_self_credential":false,"remote_user":"u",
                       "remote_password":"Secret1"}]}"#;
        let plan = plan(&state(vec![current]), json, EnsureFlags::ALLOW_RECREATE).unwrap();
        let shown = format!("{plan:?}");
        for secret in ["Old1", "New1", "New2", "Secret1"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("MSOLEDBSQL"));
    }

    #[test]
    fn changes_read_as_sentences() {
        let plan = plan(&state(vec![]), FULL, EnsureFlags::EXACT_LOGINS).unwrap();
        let lines: Vec<String> = plan.changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "option 'rpc': true",
                "option 'rpc out': true",
                "option 'query timeout': 30",
                "mapping of every login removed (was its own credentials)",
                "mapping of login 'sa' added: its own credentials",
                "mapping of login 'app' added: remote login 'u' (password sent)",
            ]
        );
    }

    /// The catalog after the first `ran` steps of `plan` (simulated on the plan's own effects).
    fn recovery_after(current: Vec<LinkedServer>, json: &str, bits: u32) -> Vec<Recovery> {
        let before = state(current);
        let plan = plan(&before, json, bits).unwrap();
        let order = crate::batch::run_order([&plan]);
        (0..=order.len())
            .map(|ran| {
                let mut after = before.clone();
                for step in &order[..ran] {
                    apply(&mut after, &step.call);
                }
                plan_recovery(&after, &order)
            })
            .collect()
    }

    /// What a call does to the catalog, as far as `visible` looks.
    fn apply(state: &mut CatalogState, call: &Call) {
        let find = |state: &mut CatalogState, name: &str| {
            let index = state
                .servers
                .iter()
                .position(|s| same_name(&s.name, name))
                .unwrap();
            index
        };
        match call {
            Call::AddServer(add) => state.servers.push(LinkedServer {
                logins: vec![mapping(None, true, None)],
                ..server(&add.name)
            }),
            Call::DropServer { server, .. } => {
                let i = find(state, server);
                state.servers.remove(i);
            }
            Call::SetOption {
                server,
                option: ServerOption::Name,
                value,
            } => {
                let i = find(state, server);
                state.servers[i].name = value.clone().unwrap();
            }
            Call::SetOption {
                server,
                option,
                value,
            } => {
                let i = find(state, server);
                let s = &mut state.servers[i];
                match option {
                    ServerOption::RpcOut => s.rpc_out = value.as_deref() == Some("true"),
                    ServerOption::Rpc => s.rpc = value.as_deref() == Some("true"),
                    ServerOption::QueryTimeout => {
                        s.query_timeout = value.as_deref().unwrap().parse().unwrap()
                    }
                    other => panic!("not simulated: {other:?}"),
                }
            }
            Call::AddLogin {
                server,
                local_login,
                target,
            } => {
                let i = find(state, server);
                let logins = &mut state.servers[i].logins;
                logins.retain(|m| m.local_login != *local_login);
                logins.push(target.shown(local_login));
            }
            Call::DropLogin {
                server,
                local_login,
            } => {
                let i = find(state, server);
                state.servers[i]
                    .logins
                    .retain(|m| m.local_login != *local_login);
            }
        }
    }

    #[test]
    fn recovery_undoes_what_ran_of_an_update_or_a_create() {
        let mut current = server("OLD");
        current.rpc_out = false;
        let json = r#"[{"name":"OLD","options":{"rpc out":true,"query timeout":9},
                        "logins":[{"local_login":"sa","uses_self_credential":true}]}]"#;
        let recoveries = recovery_after(vec![current], json, 0);
        assert_eq!(recoveries.len(), 4);
        assert_eq!(recoveries[0].calls, []);
        assert_eq!(recoveries[1].ran, 1);
        assert_eq!(
            recoveries[2].calls,
            [
                Call::SetOption {
                    server: "OLD".into(),
                    option: ServerOption::QueryTimeout,
                    value: Some("0".into())
                },
                Call::SetOption {
                    server: "OLD".into(),
                    option: ServerOption::RpcOut,
                    value: Some("false".into())
                }
            ]
        );
        assert!(recoveries[3].completes && recoveries[3].calls.is_empty());

        let created = recovery_after(vec![], FULL, EnsureFlags::EXACT_LOGINS);
        for partial in &created[1..created.len() - 1] {
            assert_eq!(
                partial.calls,
                [Call::DropServer {
                    server: "BTS01".into(),
                    drop_logins: true
                }],
                "{partial:?}"
            );
        }
    }

    #[test]
    fn recovery_of_a_recreate_renames_back_or_completes() {
        let mut current = server("BTS01");
        current.logins = vec![mapping(Some("sa"), true, None)];
        let json = r#"{"name":"BTS01","product":"","provider":"MSOLEDBSQL","data_source":"h"}"#;
        let recoveries = recovery_after(vec![current], json, EnsureFlags::ALLOW_RECREATE);
        assert_eq!(recoveries[0].calls, [], "the old server still has the name");
        let rename_back = Call::SetOption {
            server: "lsv_recreate_3".into(),
            option: ServerOption::Name,
            value: Some("BTS01".into()),
        };
        assert_eq!(recoveries[1].calls, std::slice::from_ref(&rename_back));
        assert_eq!(
            recoveries[2].calls,
            [
                Call::DropServer {
                    server: "BTS01".into(),
                    drop_logins: true
                },
                rename_back
            ]
        );
        let last = recoveries.len() - 1;
        assert!(recoveries[last - 1].completes);
        assert_eq!(
            recoveries[last - 1].calls,
            [Call::DropServer {
                server: "lsv_recreate_3".into(),
                drop_logins: true
            }]
        );
        assert!(recoveries[last].calls.is_empty());
    }

    #[test]
    fn names_follow_the_instance_collation() {
        let mut cs = state(vec![server("BTS01")]);
        assert!(cs.find_server("bts01 ").is_some());
        cs.case_sensitive = true;
        assert!(cs.find_server("bts01").is_none());
        assert!(cs.find_server("BTS01 ").is_some());
    }
}
