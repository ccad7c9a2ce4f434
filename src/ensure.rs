//! `ensure` and `export` on a [`Client`]: one catalog read, pure planning (`converge`), then
//! the planned calls of every server in one `sp_executesql` write (`batch`).
//!
//! Requests: the read is one SQL batch of fixed text (linked servers with their mappings, the
//! server principals, `@@SERVERNAME`, the login and the instance collation). The write is one
//! `sp_executesql` per group of servers whose statement stays under SQL Server's 2100
//! parameters; groups hold many servers (a fully specified server needs about 8, so about 250
//! fit in one request).

use serde::Serialize;
use tiberius::Command;

use crate::api::{Client, Session};
use crate::batch::{self, Parameters};
use crate::converge::{
    plan_recovery, plan_server, Action, CatalogState, Change, EnsureFlags, PlannedStep, ServerPlan,
    Undo,
};
use crate::desired::{parse_desired, DesiredServer};
use crate::error::{Error, Status};
use crate::exec::{self, TdsClient, LIST_SERVERS_SQL};
use crate::export;
use crate::spec::validate_sysname;

/// What `ensure` did (or, for a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct EnsureReport {
    pub dry_run: bool,
    /// Requests sent to the server by this call.
    pub requests: u32,
    pub servers: Vec<ServerReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    pub name: String,
    pub action: Action,
    pub changes: Vec<ReportedChange>,
    /// The T-SQL that ran (or would run), with values as literals and passwords as variables
    /// to fill in; "" when nothing is to be done.
    pub sql: String,
}

/// A change as the report shows it: its JSON members plus `text`, the same as one sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportedChange {
    #[serde(flatten)]
    pub change: Change,
    pub text: String,
}

impl ReportedChange {
    pub(crate) fn all(changes: &[Change]) -> Vec<ReportedChange> {
        changes
            .iter()
            .map(|change| ReportedChange {
                change: change.clone(),
                text: change.to_string(),
            })
            .collect()
    }
}

impl ServerReport {
    pub(crate) fn of(plan: &ServerPlan) -> ServerReport {
        ServerReport {
            name: plan.name.clone(),
            action: plan.action,
            changes: ReportedChange::all(&plan.changes),
            sql: batch::readable(plan),
        }
    }
}

/// What the read found besides the catalog.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    /// `@@SERVERNAME`.
    pub server_name: String,
    /// `SUSER_SNAME()`: the login this client is connected as.
    pub login: String,
}

/// After the linked servers: logins (not roles), then who and where we are. Fixed text.
const STATE_TAIL: &str = ";\nSELECT name FROM sys.server_principals WHERE type <> 'R';\n\
    SELECT @@SERVERNAME AS server_name, SUSER_SNAME() AS login_name, \
    CAST(SERVERPROPERTY('Collation') AS nvarchar(128)) AS collation_name;";

/// Parameters per write request; SQL Server allows 2100 per request.
const PARAMETERS_PER_REQUEST: usize = 2000;

async fn read_state(client: &mut TdsClient) -> Result<(CatalogState, Instance), Error> {
    let text = format!("{LIST_SERVERS_SQL}{STATE_TAIL}");
    let read = |e| exec::request_error(e).context("reading the catalog");
    let results = client
        .simple_query(text)
        .await
        .map_err(read)?
        .into_results()
        .await
        .map_err(read)?;
    let [servers, logins, instance] = results.as_slice() else {
        return Err(Error::new(
            Status::Internal,
            format!(
                "the catalog read returned {} result sets, not 3",
                results.len()
            ),
        ));
    };
    let text = |row: &tiberius::Row, index: usize| -> Option<String> {
        row.try_get::<&str, _>(index)
            .ok()
            .flatten()
            .map(str::to_string)
    };
    let instance_row = instance.first().ok_or_else(|| {
        Error::new(
            Status::Internal,
            "the catalog read returned no instance row",
        )
    })?;
    let collation = text(instance_row, 2).unwrap_or_default();
    Ok((
        CatalogState {
            servers: exec::servers_from_rows(servers)?,
            logins: logins.iter().filter_map(|row| text(row, 0)).collect(),
            case_sensitive: collation.contains("_CS") || collation.contains("_BIN"),
        },
        Instance {
            server_name: text(instance_row, 0).unwrap_or_default(),
            login: text(instance_row, 1).unwrap_or_default(),
        },
    ))
}

/// Runs one statement through `sp_executesql` with its typed parameters.
async fn run_statement(
    client: &mut TdsClient,
    text: &str,
    parameters: &Parameters,
) -> Result<(), Error> {
    let mut command = Command::new("sp_executesql");
    command.bind_param("stmt", text);
    command.bind_param("params", parameters.declaration_list());
    for (index, value) in parameters.values.iter().enumerate() {
        command.bind_param(format!("@p{}", index + 1), value.as_str());
    }
    exec::call(client, "sp_executesql", command).await
}

impl Session<'_> {
    pub(crate) async fn read_state(&mut self) -> Result<(CatalogState, Instance), Error> {
        self.request(|mut client| async move {
            let outcome = read_state(&mut client).await;
            (client, outcome)
        })
        .await
        // A read changes nothing, whatever became of it.
        .map_err(|mut error| {
            error.outcome_uncertain = false;
            error
        })
    }

    /// Sends the plans' steps, one request per group; returns the requests made. A write that
    /// breaks off (lost connection, timeout) ran no CATCH block and may have stopped part-way,
    /// so the catalog is read again and what ran is undone (or, if only steps that cannot be
    /// undone were left, completed).
    pub(crate) async fn write_plans(&mut self, plans: &[ServerPlan]) -> Result<u32, Error> {
        let mut requests = 0;
        let mut done: Vec<&str> = Vec::new();
        for group in groups(plans) {
            let order = batch::run_order(group.iter().copied());
            let mut parameters = Parameters::default();
            let text = batch::render(&order, &mut parameters);
            let outcome = self.run_statement(&text, &parameters).await;
            requests += 1;
            if let Err(mut error) = outcome {
                if error.outcome_uncertain {
                    let (recovery, recovered) = self.recover(&order).await;
                    error.message.push_str(&recovery);
                    error.outcome_uncertain = !recovered;
                    error.undo_failed = !recovered;
                } else if error
                    .server_messages
                    .iter()
                    .filter(|m| m.severity > 10)
                    .count()
                    > 1
                {
                    // A caught error is not sent; more than the one re-raised means a call of
                    // the CATCH block's undo failed too.
                    error.message.push_str(
                        "; undoing the write failed too (see the server messages), so some \
                         servers may be left part-way: run ensure again, it converges",
                    );
                    error.outcome_uncertain = true;
                    error.undo_failed = true;
                } else {
                    error
                        .message
                        .push_str("; the write was undone, so these servers are as they were");
                }
                if !done.is_empty() {
                    error.message.push_str(&format!(
                        " (an earlier request of this call already converged {})",
                        done.join(", ")
                    ));
                }
                return Err(error);
            }
            done.extend(group.iter().map(|p| p.name.as_str()));
        }
        Ok(requests)
    }

    async fn run_statement(&mut self, text: &str, parameters: &Parameters) -> Result<(), Error> {
        self.request(|mut client| async move {
            let outcome = run_statement(&mut client, text, parameters).await;
            (client, outcome)
        })
        .await
    }

    /// Reads the catalog and undoes (or completes) a write that broke off; says what happened,
    /// for the error message, and whether every server is now as it was or as desired.
    async fn recover(&mut self, order: &[&PlannedStep]) -> (String, bool) {
        self.renew_budget_for_undo();
        let state = match self.read_state().await {
            Ok((state, _)) => state,
            Err(error) => {
                return (
                    format!(
                        "; the write broke off and the catalog could not be read to check how far \
                     it got ({error}): run ensure again, it converges from whatever state it \
                     finds"
                    ),
                    false,
                )
            }
        };
        let recovery = plan_recovery(&state, order);
        if recovery.calls.is_empty() {
            let outcome = if recovery.completes {
                "; the write broke off after it had run completely"
            } else {
                "; the write broke off before it changed anything"
            };
            return (outcome.to_string(), true);
        }
        let steps: Vec<PlannedStep> = recovery
            .calls
            .iter()
            .map(|call| PlannedStep {
                call: call.clone(),
                undo: Undo::Covered,
            })
            .collect();
        let mut parameters = Parameters::default();
        let text = batch::render(&steps.iter().collect::<Vec<_>>(), &mut parameters);
        let outcome = self.run_statement(&text, &parameters).await;
        let what = if recovery.completes {
            "completed the calls left (they cannot be undone)"
        } else {
            "undid the calls that had run"
        };
        match outcome {
            Ok(()) => (
                format!(
                    "; the write broke off after {} of {} undoable calls; a second request \
                     {what}",
                    recovery.ran,
                    order.iter().filter(|s| s.undo != Undo::Impossible).count()
                ),
                true,
            ),
            Err(error) => (
                format!(
                    "; the write broke off part-way and recovering failed too ({error}): run \
                     ensure again, it converges from whatever state it finds"
                ),
                false,
            ),
        }
    }
}

/// Consecutive groups of plans with changes, each within the parameter limit of one request
/// (counted per plan, so values shared between servers are counted once per server).
fn groups(plans: &[ServerPlan]) -> Vec<Vec<&ServerPlan>> {
    let mut groups: Vec<Vec<&ServerPlan>> = Vec::new();
    let mut used = 0;
    for plan in plans.iter().filter(|p| !p.steps.is_empty()) {
        let mut parameters = Parameters::default();
        batch::render(&batch::run_order([plan]), &mut parameters);
        let needs = parameters.values.len();
        if groups.is_empty() || used + needs > PARAMETERS_PER_REQUEST {
            groups.push(Vec::new());
            used = 0;
        }
        used += needs;
        groups.last_mut().expect("pushed above").push(plan);
    }
    groups
}

impl Client {
    /// Brings linked servers to the desired state given as JSON (see `desired`); see
    /// [`Client::ensure_servers`].
    pub fn ensure(&self, desired_json: &str, flags: EnsureFlags) -> Result<EnsureReport, Error> {
        let desired = parse_desired(desired_json)?;
        self.ensure_servers(&desired, flags)
    }

    /// Reads the catalog once, plans every server (any refusal fails the call before a write),
    /// then sends the calls of all servers in one request (more only past 2100 parameters),
    /// undone as a whole by the batch itself if any call fails. A dry run stops after the read.
    pub fn ensure_servers(
        &self,
        desired: &[DesiredServer],
        flags: EnsureFlags,
    ) -> Result<EnsureReport, Error> {
        if desired.is_empty() {
            return Ok(EnsureReport {
                dry_run: flags.dry_run,
                requests: 0,
                servers: Vec::new(),
            });
        }
        self.run(|mut session| async move {
            let (state, _) = session.read_state().await?;
            let plans = desired
                .iter()
                .map(|d| plan_server(&state, d, flags))
                .collect::<Result<Vec<_>, _>>()?;
            let mut requests = 1;
            if !flags.dry_run {
                requests += session.write_plans(&plans).await?;
            }
            Ok(EnsureReport {
                dry_run: flags.dry_run,
                requests,
                servers: plans.iter().map(ServerReport::of).collect(),
            })
        })
    }

    /// The login this client is connected as (`SUSER_SNAME()`), e.g. to map it to itself.
    pub fn login_name(&self) -> Result<String, Error> {
        self.run(|mut session| async move {
            session
                .request(|mut client| async move {
                    let outcome = async {
                        let read = |e| exec::request_error(e).context("reading SUSER_SNAME()");
                        let row = client
                            .simple_query("SELECT SUSER_SNAME() AS login_name;")
                            .await
                            .map_err(read)?
                            .into_row()
                            .await
                            .map_err(read)?;
                        row.and_then(|r| r.try_get::<&str, _>(0).ok().flatten().map(str::to_string))
                            .ok_or_else(|| {
                                Error::new(Status::Internal, "SUSER_SNAME() returned no login")
                            })
                    }
                    .await;
                    (client, outcome)
                })
                .await
        })
    }

    /// A T-SQL script that re-creates one linked server (`Some(name)`, `Status::NotFound` if
    /// absent) or all of them with their options and login mappings; see `export`.
    pub fn export(&self, name: Option<&str>) -> Result<String, Error> {
        if let Some(name) = name {
            validate_sysname("linked server name", name)?;
        }
        let servers = match name {
            Some(name) => vec![self.get(name)?],
            None => self.list()?,
        };
        Ok(export::script(&servers))
    }
}
