//! The T-SQL text of an `ensure` write: one statement holding every planned procedure call,
//! assembled only from the fixed fragments below. Every name, login, option value, provider
//! string and password in it is a value given to a [`Values`] sink, which stands for it either
//! with a typed `sp_executesql` parameter ([`Parameters`], what is sent) or with an `N'...'`
//! literal for a person to read and re-run ([`Literals`], where passwords and provider strings
//! become variables to fill in). Both come from the same rendering, so the report shows
//! exactly what runs.
//!
//! Atomicity: the system procedures refuse user transactions (15002), so the statement runs the
//! calls inside `BEGIN TRY`, counts completed steps in `@step`, and on any error its `CATCH`
//! undoes the completed steps in reverse order and re-raises the original error with `THROW`.

use std::fmt::Write;

use zeroize::Zeroizing;

use crate::converge::{Call, MappingTarget, PlannedStep, ServerPlan, Undo};
use crate::spec::ServerOption;

/// The declared type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    /// `sysname` values: names, logins, product, provider, catalog, option values, passwords.
    Sysname,
    /// `@datasrc`, `@location`, `@provstr`.
    Property,
}

impl SqlType {
    fn declaration(self) -> &'static str {
        match self {
            SqlType::Sysname => "nvarchar(128)",
            SqlType::Property => "nvarchar(4000)",
        }
    }
}

/// What a value is, for a reader of the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    RemotePassword,
    ProviderString,
}

/// Stands for values inside the statement text.
pub trait Values {
    fn value(&mut self, value: &str, ty: SqlType) -> String;
    fn secret(&mut self, value: &str, ty: SqlType, kind: Secret) -> String;
}

/// One `sp_executesql` parameter's value. `Debug` hides secrets.
#[derive(Clone)]
pub enum ParameterValue {
    Text(String),
    Secret(Zeroizing<String>),
}

impl ParameterValue {
    pub fn as_str(&self) -> &str {
        match self {
            ParameterValue::Text(text) => text,
            ParameterValue::Secret(secret) => secret,
        }
    }
}

impl std::fmt::Debug for ParameterValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParameterValue::Text(text) => write!(f, "{text:?}"),
            ParameterValue::Secret(_) => f.write_str("<redacted>"),
        }
    }
}

/// Typed parameters `@p1`, `@p2`, ... (one per distinct value and type).
#[derive(Debug, Default)]
pub struct Parameters {
    /// `@p1 nvarchar(128)` ...
    pub declarations: Vec<String>,
    pub values: Vec<ParameterValue>,
    types: Vec<SqlType>,
}

impl Parameters {
    fn bind(&mut self, value: ParameterValue, ty: SqlType) -> String {
        let existing = self
            .values
            .iter()
            .zip(&self.types)
            .position(|(v, t)| *t == ty && v.as_str() == value.as_str());
        let index = existing.unwrap_or_else(|| {
            self.declarations
                .push(format!("@p{} {}", self.values.len() + 1, ty.declaration()));
            self.values.push(value);
            self.types.push(ty);
            self.values.len() - 1
        });
        format!("@p{}", index + 1)
    }

    /// The `@params` argument of `sp_executesql`.
    pub fn declaration_list(&self) -> String {
        self.declarations.join(", ")
    }
}

impl Values for Parameters {
    fn value(&mut self, value: &str, ty: SqlType) -> String {
        self.bind(ParameterValue::Text(value.to_string()), ty)
    }

    fn secret(&mut self, value: &str, ty: SqlType, _kind: Secret) -> String {
        self.bind(
            ParameterValue::Secret(Zeroizing::new(value.to_string())),
            ty,
        )
    }
}

/// `N'...'` with every quote doubled: the literal T-SQL reads back as `text`.
pub fn literal(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}

/// Values written out for a person; secrets become variables declared (NULL) at the top.
#[derive(Debug, Default)]
pub struct Literals {
    header: String,
    secrets: usize,
}

impl Literals {
    /// The variable declarations to put before the text, or "" when there are none.
    pub fn header(&self) -> &str {
        &self.header
    }
}

impl Values for Literals {
    fn value(&mut self, value: &str, _ty: SqlType) -> String {
        literal(value)
    }

    fn secret(&mut self, _value: &str, ty: SqlType, kind: Secret) -> String {
        self.secrets += 1;
        let (variable, what) = match kind {
            Secret::RemotePassword => ("rmtpassword", "the remote login's password"),
            Secret::ProviderString => ("provstr", "the provider string (it may hold a password)"),
        };
        let name = format!("@{variable}_{}", self.secrets);
        let _ = writeln!(
            self.header,
            "DECLARE {name} {} = NULL; -- FILL IN {what}: linkedsrv never writes it out",
            ty.declaration()
        );
        name
    }
}

const PROCEDURES: &str = "master.sys.";

/// `@name = value` arguments, `NULL` for no value.
struct Arguments<'v, V: Values> {
    values: &'v mut V,
    text: String,
}

impl<V: Values> Arguments<'_, V> {
    fn separator(&mut self) {
        if !self.text.is_empty() {
            self.text.push_str(", ");
        }
    }

    fn fixed(&mut self, name: &str, fragment: &str) {
        self.separator();
        let _ = write!(self.text, "{name} = {fragment}");
    }

    fn value(&mut self, name: &str, value: Option<&str>, ty: SqlType) {
        let fragment = value.map_or_else(|| "NULL".to_string(), |v| self.values.value(v, ty));
        self.fixed(name, &fragment);
    }

    fn optional(&mut self, name: &str, value: Option<&str>, ty: SqlType) {
        if value.is_some() {
            self.value(name, value, ty);
        }
    }

    fn secret(&mut self, name: &str, value: Option<&str>, ty: SqlType, kind: Secret) {
        let fragment =
            value.map_or_else(|| "NULL".to_string(), |v| self.values.secret(v, ty, kind));
        self.fixed(name, &fragment);
    }
}

/// The procedure and its arguments of one call.
fn procedure_call<V: Values>(call: &Call, values: &mut V) -> (&'static str, String) {
    let mut args = Arguments {
        values,
        text: String::new(),
    };
    let procedure = match call {
        Call::AddServer(add) => {
            args.value("@server", Some(&add.name), SqlType::Sysname);
            args.value("@srvproduct", Some(&add.product), SqlType::Sysname);
            args.optional("@provider", add.provider.as_deref(), SqlType::Sysname);
            args.optional("@datasrc", add.data_source.as_deref(), SqlType::Property);
            args.optional("@location", add.location.as_deref(), SqlType::Property);
            if add.provider_string.is_some() {
                args.secret(
                    "@provstr",
                    add.provider_string.as_deref(),
                    SqlType::Property,
                    Secret::ProviderString,
                );
            }
            args.optional("@catalog", add.catalog.as_deref(), SqlType::Sysname);
            "sp_addlinkedserver"
        }
        Call::DropServer {
            server,
            drop_logins,
        } => {
            args.value("@server", Some(server), SqlType::Sysname);
            args.fixed(
                "@droplogins",
                if *drop_logins {
                    "N'droplogins'"
                } else {
                    "NULL"
                },
            );
            "sp_dropserver"
        }
        Call::SetOption {
            server,
            option,
            value,
        } => {
            args.value("@server", Some(server), SqlType::Sysname);
            // The option name comes from the whitelist: a fixed fragment.
            args.fixed("@optname", &literal(option.name()));
            if *option == ServerOption::ProviderString {
                args.secret(
                    "@optvalue",
                    value.as_deref(),
                    SqlType::Sysname,
                    Secret::ProviderString,
                );
            } else {
                args.value("@optvalue", value.as_deref(), SqlType::Sysname);
            }
            "sp_serveroption"
        }
        Call::AddLogin {
            server,
            local_login,
            target:
                MappingTarget {
                    uses_self_credential,
                    remote_user,
                    password,
                },
        } => {
            args.value("@rmtsrvname", Some(server), SqlType::Sysname);
            args.fixed(
                "@useself",
                if *uses_self_credential {
                    "N'TRUE'"
                } else {
                    "N'FALSE'"
                },
            );
            args.value("@locallogin", local_login.as_deref(), SqlType::Sysname);
            if !uses_self_credential {
                args.value("@rmtuser", remote_user.as_deref(), SqlType::Sysname);
                args.secret(
                    "@rmtpassword",
                    password.as_ref().map(|p| p.as_str()),
                    SqlType::Sysname,
                    Secret::RemotePassword,
                );
            }
            "sp_addlinkedsrvlogin"
        }
        Call::DropLogin {
            server,
            local_login,
        } => {
            args.value("@rmtsrvname", Some(server), SqlType::Sysname);
            args.value("@locallogin", local_login.as_deref(), SqlType::Sysname);
            "sp_droplinkedsrvlogin"
        }
    };
    (procedure, args.text)
}

/// `EXEC master.sys.<procedure> <arguments>` for one call (no `;`).
pub fn exec_statement<V: Values>(call: &Call, values: &mut V) -> String {
    let (procedure, args) = procedure_call(call, values);
    format!("EXEC {PROCEDURES}{procedure} {args}")
}

/// The steps in the order they run: every undoable step first, then those whose undo is
/// impossible (so a failure before them needs no undo of them).
pub fn run_order<'p>(plans: impl IntoIterator<Item = &'p ServerPlan>) -> Vec<&'p PlannedStep> {
    let steps: Vec<&PlannedStep> = plans.into_iter().flat_map(|p| &p.steps).collect();
    let (last, first): (Vec<_>, Vec<_>) =
        steps.into_iter().partition(|s| s.undo == Undo::Impossible);
    first.into_iter().chain(last).collect()
}

/// The whole statement for `steps` (in run order).
pub fn render<V: Values>(steps: &[&PlannedStep], values: &mut V) -> String {
    let mut text = String::from("SET NOCOUNT ON;\nDECLARE @step int = 0, @rc int;\nBEGIN TRY\n");
    for (index, step) in steps.iter().enumerate() {
        let (procedure, args) = procedure_call(&step.call, values);
        let _ = write!(
            text,
            "    EXEC @rc = {PROCEDURES}{procedure} {args};\n    IF @rc <> 0 THROW 50000, \
             N'{procedure} returned a failure status', 1;\n    SET @step = {};\n",
            index + 1
        );
    }
    text.push_str("END TRY\nBEGIN CATCH\n");
    for (index, step) in steps.iter().enumerate().rev() {
        if let Undo::By(undo) = &step.undo {
            let _ = writeln!(
                text,
                "    IF @step >= {} {};",
                index + 1,
                exec_statement(undo, values)
            );
        }
    }
    text.push_str("    THROW;\nEND CATCH;\n");
    text
}

/// The readable, re-runnable script of one server's plan ("" when there is nothing to do).
pub fn readable(plan: &ServerPlan) -> String {
    if plan.steps.is_empty() {
        return String::new();
    }
    let mut literals = Literals::default();
    let body = render(&run_order([plan]), &mut literals);
    format!("{}{body}", literals.header())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converge::{plan_server, CatalogState, EnsureFlags};
    use crate::desired::parse_desired;

    fn plan(json: &str, bits: u32) -> ServerPlan {
        let state = CatalogState {
            servers: Vec::new(),
            logins: vec!["sa".into(), "app".into(), "o'brien".into()],
            case_sensitive: false,
        };
        let desired = parse_desired(json).unwrap().pop().unwrap();
        plan_server(&state, &desired, EnsureFlags::from_bits(bits).unwrap()).unwrap()
    }

    const HOSTILE: &str = r#"{"name":"x'];DROP TABLE t;--","product":"SQL Server",
        "options":{"rpc out":true,"query timeout":30},
        "logins":[{"local_login":"o'brien","uses_self_credential":false,"remote_user":"u'1",
                   "remote_password":"P'w;--d"}]}"#;

    #[test]
    fn text_holds_only_fixed_fragments_and_parameters() {
        let plan = plan(HOSTILE, EnsureFlags::EXACT_LOGINS);
        let mut parameters = Parameters::default();
        let text = render(&run_order([&plan]), &mut parameters);
        for value in ["x'];DROP", "o'brien", "u'1", "P'w;--d", "30"] {
            assert!(!text.contains(value), "{value} in\n{text}");
        }
        assert!(text.contains(
            "EXEC @rc = master.sys.sp_addlinkedserver @server = @p1, @srvproduct = @p2;"
        ));
        assert!(
            text.contains("@optname = N'rpc out', @optvalue = @p3;"),
            "{text}"
        );
        assert!(text.contains("IF @step >= 1 EXEC master.sys.sp_dropserver @server = @p1, @droplogins = N'droplogins';"));
        assert!(text.ends_with("    THROW;\nEND CATCH;\n"));
        let values: Vec<&str> = parameters.values.iter().map(|v| v.as_str()).collect();
        assert_eq!(
            values,
            [
                "x'];DROP TABLE t;--",
                "SQL Server",
                "true",
                "30",
                "o'brien",
                "u'1",
                "P'w;--d"
            ]
        );
        assert_eq!(parameters.declarations[0], "@p1 nvarchar(128)");
        assert!(!format!("{parameters:?}").contains("P'w;--d"));
    }

    #[test]
    fn readable_script_quotes_values_and_never_shows_a_password() {
        let plan = plan(HOSTILE, EnsureFlags::EXACT_LOGINS);
        let script = readable(&plan);
        assert!(!script.contains("P'w;--d"), "{script}");
        assert!(script.starts_with("DECLARE @rmtpassword_1 nvarchar(128) = NULL; -- FILL IN"));
        assert!(
            script.contains("@server = N'x''];DROP TABLE t;--'"),
            "{script}"
        );
        assert!(script.contains(
            "sp_addlinkedsrvlogin @rmtsrvname = N'x''];DROP TABLE t;--', @useself = N'FALSE', \
             @locallogin = N'o''brien', @rmtuser = N'u''1', @rmtpassword = @rmtpassword_1;"
        ));
        assert!(script.contains(
            "sp_droplinkedsrvlogin @rmtsrvname = N'x''];DROP TABLE t;--', @locallogin = NULL;"
        ));
    }

    #[test]
    fn steps_whose_undo_is_impossible_run_last_and_undo_runs_in_reverse() {
        use crate::converge::{Action, Call, PlannedStep};
        let call = |server: &str| Call::DropLogin {
            server: server.into(),
            local_login: None,
        };
        let plan = ServerPlan {
            name: "A".into(),
            action: Action::Updated,
            changes: Vec::new(),
            steps: vec![
                PlannedStep {
                    call: call("first"),
                    undo: Undo::Impossible,
                },
                PlannedStep {
                    call: call("second"),
                    undo: Undo::By(call("undo-second")),
                },
                PlannedStep {
                    call: call("third"),
                    undo: Undo::By(call("undo-third")),
                },
            ],
        };
        let order: Vec<&Call> = run_order([&plan]).into_iter().map(|s| &s.call).collect();
        assert_eq!(order, [&call("second"), &call("third"), &call("first")]);
        let script = readable(&plan);
        let third = script.find("IF @step >= 2 EXEC").unwrap();
        let second = script.find("IF @step >= 1 EXEC").unwrap();
        assert!(
            third < second && script.contains("N'undo-third'"),
            "{script}"
        );
        assert!(readable(&ServerPlan {
            steps: Vec::new(),
            ..plan
        })
        .is_empty());
    }
}
