//! The library API in plain Rust types. Every method blocks the calling thread on the
//! process-wide runtime; a [`Client`] may be shared between threads and its calls serialise.
//!
//! CONTRACT (the C ABI in `ffi` is written against these signatures; keep them):
//!
//! Connection handling: a client keeps one connection. A call that breaks it or times out
//! drops it and fails with `Status::Connection` / `Status::Timeout`; the next call reconnects
//! first. One deadline per call (see `deadline`): waiting for the client and all requests
//! together are bounded by `Command Timeout`, all reconnects together by `Connect Timeout`.
//!
//! Cancellation: [`Client::cancel`] interrupts every call of the client that is running or
//! waiting for the connection at that moment. The request in flight is abandoned by dropping
//! its connection (the server sees the connection close and stops the request), the call
//! returns `Status::Cancelled`, and the next call reconnects.
//!
//! Transactions: the procedures refuse to run inside a user transaction (15002). No method
//! opens one and the connection is never handed out, so none can be open when they run; the
//! guard is this construction rather than an extra `@@TRANCOUNT` round trip per call.

use std::future::Future;

use tokio::sync::{watch, Mutex, MutexGuard};

use crate::conn_string::ConnectionSettings;
use crate::deadline::CallBudget;
use crate::error::{Error, ServerMessage, Status};
use crate::exec::{self, Connection, ConnectionInfo, TdsClient};
use crate::plan::{self, Plan, Step};
use crate::runtime::block_on;
use crate::spec::{
    validate_sysname, LinkedServer, LinkedServerSpec, OptionSetting, RawOptionValue,
    RemoteCredentials,
};

const SERVER_NAME: &str = "linked server name";

/// Appended to the error of a request whose connection was given up.
const CONNECTION_DROPPED: &str = "; the connection was dropped and the next call reconnects";

/// Appended when the first step (the one that creates) broke off without an answer: the server
/// may have run it or not, so dropping the name could remove a server this call did not make.
const FIRST_STEP_UNCERTAIN: &str = "; sp_addlinkedserver may have completed on the server \
    before the call broke off: check with get (lsv_get) whether the linked server exists before \
    retrying";

/// `None` (every login) needs no check.
fn validate_local_login(local_login: Option<&str>) -> Result<(), Error> {
    local_login.map_or(Ok(()), |login| validate_sysname("local login", login))
}

/// One connection to the management instance.
pub struct Client {
    settings: ConnectionSettings,
    /// `None` after the connection was lost; the next call reconnects.
    connection: Mutex<Option<Connection>>,
    /// Bumped by [`Client::cancel`]; a call is cancelled when it changes while the call runs.
    cancel_generation: watch::Sender<u64>,
}

/// The error of a request given up before its answer: its connection is dropped, and what
/// it was changing may or may not have happened.
fn abandoned(mut error: Error) -> Error {
    error.message.push_str(CONNECTION_DROPPED);
    error.outcome_uncertain = true;
    error
}

/// The error of a call that changes nothing on the server (a read, a test).
fn read_only(mut error: Error) -> Error {
    error.outcome_uncertain = false;
    error
}

/// A linked server missing from the catalog, reported as the procedures report it (15015),
/// so that every `NotFound` carries a SQL number.
fn not_found(name: &str) -> Error {
    let message =
        format!("The server '{name}' does not exist. Use sp_helpserver to show available servers.");
    Error {
        server_messages: vec![ServerMessage {
            number: 15015,
            severity: 16,
            state: 1,
            procedure: String::new(),
            line: 0,
            server: String::new(),
            message: message.clone(),
        }],
        ..Error::new(
            Status::NotFound,
            format!("linked server '{name}' does not exist (as SQL error 15015: {message})"),
        )
    }
}

/// The error of a call interrupted by [`Client::cancel`].
fn cancelled_error(while_doing: &str) -> Error {
    Error::new(
        Status::Cancelled,
        format!("the call was cancelled {while_doing}"),
    )
}

/// Resolves when [`Client::cancel`] is called (never, if the client is gone).
async fn cancel_requested(generation: &mut watch::Receiver<u64>) {
    if generation.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // In a child forked after the runtime started, the connection belongs to the parent's
        // runtime: closing it would take that runtime's locks (perhaps held by a thread the
        // child does not have) and deregister the socket from the epoll set the parent shares.
        if crate::runtime::in_forked_child() {
            std::mem::forget(self.connection.get_mut().take());
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.settings.address())
            .finish_non_exhaustive()
    }
}

/// `Session::request` with an `exec` function that borrows the connection:
/// `on_connection!(session, exec::test_server, name)`.
macro_rules! on_connection {
    ($session:expr, $call:path $(, $arg:expr)*) => {
        $session.request(|mut client| async move {
            let outcome = $call(&mut client $(, $arg)*).await;
            (client, outcome)
        })
    };
}

/// Exclusive use of the client's connection for the length of one API call.
pub(crate) struct Session<'a> {
    settings: &'a ConnectionSettings,
    slot: MutexGuard<'a, Option<Connection>>,
    cancel: watch::Receiver<u64>,
    budget: CallBudget,
}

impl Session<'_> {
    /// Runs one request on the connection (reconnecting first if it was lost) within the
    /// call's budget. `work` gets the connection by value and hands it back; when the request
    /// times out, breaks the connection or is cancelled, the connection is dropped instead of
    /// kept.
    pub(crate) async fn request<T, Fut>(
        &mut self,
        work: impl FnOnce(TdsClient) -> Fut,
    ) -> Result<T, Error>
    where
        Fut: Future<Output = (TdsClient, Result<T, Error>)>,
    {
        let settings = self.settings;
        let kept = self.slot.take();
        let budget = &mut self.budget;
        // The connection to keep (if any) and the outcome.
        let attempt = async move {
            let connection = match kept {
                Some(connection) => connection,
                None => {
                    let started = tokio::time::Instant::now();
                    let connected = exec::connect(settings, budget.connect_limit()).await;
                    budget.charge_connect(started.elapsed());
                    match connected {
                        Ok(connection) => connection,
                        Err(error) => return (None, Err(error)),
                    }
                }
            };
            let protection = connection.protection;
            match budget
                .command("waiting for the server's answer", work(connection.tds))
                .await
            {
                Err(timeout) => (None, Err(abandoned(timeout))),
                Ok((tds, outcome)) => match outcome {
                    Err(error) if exec::loses_connection(&error) => (None, Err(abandoned(error))),
                    kept => (Some(Connection { tds, protection }), kept),
                },
            }
        };
        let (kept, outcome) = tokio::select! {
            finished = attempt => finished,
            () = cancel_requested(&mut self.cancel) => {
                (None, Err(abandoned(cancelled_error("while a request was running"))))
            }
        };
        *self.slot = kept;
        outcome
    }

    /// Gives the undo of a write that failed part-way a whole Command Timeout of its own (for
    /// a write whose undo the caller runs itself).
    pub(crate) fn renew_budget_for_undo(&mut self) {
        self.budget.renew_for_undo();
    }

    async fn run_step(&mut self, step: &Step) -> Result<(), Error> {
        on_connection!(self, exec::run_step, step).await
    }

    /// Runs the steps in order; when one after the first fails, runs the compensation (on a
    /// fresh connection if needed) and reports the original error and how the undo went. When
    /// the first step itself breaks off (timeout, lost connection), its outcome is unknown: the
    /// error says so and nothing is undone.
    async fn run_plan(&mut self, plan: &Plan) -> Result<(), Error> {
        for (index, step) in plan.steps.iter().enumerate() {
            let Err(mut error) = self.run_step(step).await else {
                continue;
            };
            if index == 0 {
                if error.outcome_uncertain {
                    error.message.push_str(FIRST_STEP_UNCERTAIN);
                }
            } else {
                self.renew_budget_for_undo();
                let undo_failure = self.undo(&plan.compensation).await.err();
                match undo_failure {
                    None => {
                        error.message.push_str("; the partial change was undone");
                        error.outcome_uncertain = false;
                    }
                    Some(undo_error) => {
                        error.message.push_str(&format!(
                            "; undoing the partial change failed too ({undo_error}), so it may \
                             be left behind"
                        ));
                        error.outcome_uncertain = true;
                        error.undo_failed = true;
                    }
                }
            }
            return Err(error);
        }
        Ok(())
    }

    async fn undo(&mut self, steps: &[Step]) -> Result<(), Error> {
        for step in steps {
            self.run_step(step).await?;
        }
        Ok(())
    }

    async fn read_servers(&mut self, name: Option<&str>) -> Result<Vec<LinkedServer>, Error> {
        on_connection!(self, exec::read_servers, name)
            .await
            .map_err(read_only)
    }

    async fn read_server(&mut self, name: &str) -> Result<LinkedServer, Error> {
        self.read_servers(Some(name))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| not_found(name))
    }

    /// Sets the options. One setting is sent straight away (reading the catalog first could
    /// save no request); for several, the catalog is read once and only those that differ from
    /// the server's current values are sent.
    async fn apply_options(
        &mut self,
        server: &str,
        settings: &[OptionSetting],
    ) -> Result<(), Error> {
        let steps = match settings {
            [setting] => vec![Step::SetOption {
                server: server.to_string(),
                setting: setting.clone(),
            }],
            _ => plan::plan_options(&self.read_server(server).await?, settings),
        };
        for step in steps {
            self.run_step(&step).await?;
        }
        Ok(())
    }
}

impl Client {
    /// Connects with an ADO.NET connection string (see `conn_string`).
    pub fn connect(connection_string: &str) -> Result<Client, Error> {
        let settings = ConnectionSettings::parse(connection_string)?;
        let connection = block_on(exec::connect(&settings, settings.connect_timeout))??;
        Ok(Client {
            settings,
            connection: Mutex::new(Some(connection)),
            cancel_generation: watch::channel(0).0,
        })
    }

    /// Runs `call` with exclusive use of the connection, on the caller's thread.
    pub(crate) fn run<'a, T, Fut>(
        &'a self,
        call: impl FnOnce(Session<'a>) -> Fut + Send,
    ) -> Result<T, Error>
    where
        T: Send,
        Fut: Future<Output = Result<T, Error>> + Send + 'a,
    {
        // Subscribing marks the current generation seen: only a cancel from now on counts.
        let mut cancel = self.cancel_generation.subscribe();
        block_on(async move {
            let budget = CallBudget::start(&self.settings);
            let waiting = "waiting for the client's previous call to finish";
            let slot = tokio::select! {
                slot = budget.command(waiting, self.connection.lock()) => slot?,
                () = cancel_requested(&mut cancel) => {
                    return Err(cancelled_error(&format!("while {waiting}")));
                }
            };
            call(Session {
                settings: &self.settings,
                slot,
                cancel,
                budget,
            })
            .await
        })?
    }

    /// Interrupts every call of this client that is running or waiting for the connection at
    /// this moment; they return `Status::Cancelled` promptly. A request in flight is abandoned
    /// by dropping the connection (the server stops it when the connection closes); the next
    /// call reconnects. A multi-step `create` cancelled after its first step still undoes that
    /// step before returning. Does nothing when no call runs; callable from any thread.
    pub fn cancel(&self) {
        self.cancel_generation
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Creates a linked server from a spec; on any failure nothing is left behind, with one
    /// exception: when `sp_addlinkedserver` itself times out or loses the connection, it may
    /// have completed, and the error says to check with [`Client::get`] before retrying.
    pub fn create(&self, name: &str, spec: &LinkedServerSpec) -> Result<(), Error> {
        let plan = plan::plan_create(name, spec)?;
        self.run(|mut session| async move { session.run_plan(&plan).await })
    }

    /// Drops a linked server; without `drop_logins`, mappings other than the default one
    /// make it fail with `Status::HasLogins`.
    pub fn drop_server(&self, name: &str, drop_logins: bool) -> Result<(), Error> {
        validate_sysname(SERVER_NAME, name)?;
        let step = Step::DropServer {
            server: name.to_string(),
            drop_logins,
        };
        self.run(|mut session| async move { session.run_step(&step).await })
    }

    /// Creates or replaces the mapping of `local_login` (`None`: every login).
    pub fn map_login(
        &self,
        server: &str,
        local_login: Option<&str>,
        credentials: RemoteCredentials,
    ) -> Result<(), Error> {
        validate_sysname(SERVER_NAME, server)?;
        validate_local_login(local_login)?;
        credentials.validate()?;
        let credentials = &credentials;
        self.run(|mut session| async move {
            on_connection!(session, exec::add_login, server, local_login, credentials).await
        })
    }

    /// Removes the mapping of `local_login` (`None`: the mapping for every login).
    pub fn unmap_login(&self, server: &str, local_login: Option<&str>) -> Result<(), Error> {
        validate_sysname(SERVER_NAME, server)?;
        validate_local_login(local_login)?;
        self.run(|mut session| async move {
            on_connection!(session, exec::drop_login, server, local_login).await
        })
    }

    /// Sets `rpc` and/or `rpc out`; `None` leaves an option as it is.
    pub fn set_rpc(
        &self,
        server: &str,
        rpc: Option<bool>,
        rpc_out: Option<bool>,
    ) -> Result<(), Error> {
        validate_sysname(SERVER_NAME, server)?;
        let settings = plan::rpc_settings(rpc, rpc_out);
        if settings.is_empty() {
            return Ok(());
        }
        self.run(|mut session| async move { session.apply_options(server, &settings).await })
    }

    /// Sets one `sp_serveroption` option after checking name and value shape.
    pub fn set_option(&self, server: &str, option: &str, value: Option<&str>) -> Result<(), Error> {
        validate_sysname(SERVER_NAME, server)?;
        let raw = value.map_or(RawOptionValue::Null, RawOptionValue::Text);
        let setting = OptionSetting::parse(option, raw)?;
        self.run(|mut session| async move { session.apply_options(server, &[setting]).await })
    }

    /// One linked server with its options and login mappings; `Status::NotFound` if absent.
    pub fn get(&self, server: &str) -> Result<LinkedServer, Error> {
        validate_sysname(SERVER_NAME, server)?;
        self.run(|mut session| async move { session.read_server(server).await })
    }

    /// Every linked server (not the local row), ordered by name.
    pub fn list(&self) -> Result<Vec<LinkedServer>, Error> {
        self.run(|mut session| async move { session.read_servers(None).await })
    }

    /// How the client is connected: the encryption in force, the TDS version, the server's
    /// name and version (one query; reconnects first if the connection was lost).
    pub fn connection_info(&self) -> Result<ConnectionInfo, Error> {
        self.run(|mut session| async move {
            let identity = on_connection!(session, exec::server_identity)
                .await
                .map_err(read_only)?;
            let protection = session
                .slot
                .as_ref()
                .map(|connection| connection.protection)
                .ok_or_else(|| Error::new(Status::Internal, "no connection after a request"))?;
            Ok(ConnectionInfo::new(session.settings, protection, identity))
        })
    }

    /// `sp_testlinkedserver`: Ok when the management instance can reach the server.
    pub fn test(&self, server: &str) -> Result<(), Error> {
        validate_sysname(SERVER_NAME, server)?;
        self.run(|mut session| async move {
            on_connection!(session, exec::test_server, server)
                .await
                .map_err(read_only)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_connection_strings_fail_before_any_network_use() {
        let error = Client::connect("Server=tcp:127.0.0.1,1;UID=sa;PWD=x;Colour=blue").unwrap_err();
        assert_eq!(error.status, Status::InvalidArgument);
    }
}
