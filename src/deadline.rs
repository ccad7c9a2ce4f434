//! One deadline per API call. A call returns within `Connect Timeout` (all its reconnects
//! together) + `Command Timeout` (waiting for the client and all its requests together) + a
//! small constant for the library's own work. A multi-step write that fails part-way gets one
//! more `Command Timeout` for its undo: cutting the undo short would leave a half-configured
//! linked server, which is worse than a late answer. `None` timeouts (`0` in the connection
//! string) are unbounded.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::conn_string::ConnectionSettings;
use crate::error::{Error, Status};

/// What one call may still spend.
pub(crate) struct CallBudget {
    command_timeout: Option<Duration>,
    /// When the command budget runs out; moved later by the time spent reconnecting, which the
    /// connect budget pays for.
    command_deadline: Option<Instant>,
    connect_timeout: Option<Duration>,
    /// What is left of the connect budget.
    connect_left: Option<Duration>,
}

impl CallBudget {
    /// The budget of a call starting now.
    pub(crate) fn start(settings: &ConnectionSettings) -> CallBudget {
        CallBudget {
            command_timeout: settings.command_timeout,
            command_deadline: settings.command_timeout.map(|limit| Instant::now() + limit),
            connect_timeout: settings.connect_timeout,
            connect_left: settings.connect_timeout,
        }
    }

    /// The error of a call whose command budget ran out while it was `doing` something.
    fn command_exhausted(&self, doing: &str) -> Error {
        Error::new(
            Status::Timeout,
            format!(
                "the call did not finish within the command timeout ({} s, which bounds the \
                 wait for the client and all requests of a call together) while {doing}",
                self.command_timeout.unwrap_or_default().as_secs()
            ),
        )
    }

    /// Runs `work` until the command deadline.
    pub(crate) async fn command<F: Future>(
        &self,
        doing: &str,
        work: F,
    ) -> Result<F::Output, Error> {
        match self.command_deadline {
            None => Ok(work.await),
            Some(deadline) => tokio::time::timeout_at(deadline, work)
                .await
                .map_err(|_| self.command_exhausted(doing)),
        }
    }

    /// The limit for the next (re)connect: what is left of the connect budget.
    pub(crate) fn connect_limit(&self) -> Option<Duration> {
        self.connect_left
    }

    /// Charges a (re)connect that took `spent` to the connect budget, not the command budget.
    pub(crate) fn charge_connect(&mut self, spent: Duration) {
        if let Some(left) = &mut self.connect_left {
            *left = left.saturating_sub(spent);
        }
        let credit = self.connect_timeout.map_or(spent, |limit| spent.min(limit));
        if let Some(deadline) = &mut self.command_deadline {
            *deadline += credit;
        }
    }

    /// Starts a fresh command budget for the undo of a write that failed part-way.
    pub(crate) fn renew_for_undo(&mut self) {
        self.command_deadline = self.command_timeout.map(|limit| Instant::now() + limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(extra: &str) -> ConnectionSettings {
        ConnectionSettings::parse(&format!("Server=tcp:h,1;UID=u;PWD=p;{extra}")).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn requests_share_the_command_timeout() {
        let budget = CallBudget::start(&settings("Command Timeout=2"));
        let slow = || tokio::time::sleep(Duration::from_millis(1500));
        budget.command("first", slow()).await.unwrap();
        let error = budget.command("second", slow()).await.unwrap_err();
        assert_eq!(error.status, Status::Timeout);
        assert!(error.message.contains("while second"), "{}", error.message);
    }

    #[tokio::test(start_paused = true)]
    async fn reconnects_are_paid_by_the_connect_budget() {
        let mut budget = CallBudget::start(&settings("Command Timeout=2;Connect Timeout=3"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        budget.charge_connect(Duration::from_secs(2));
        assert_eq!(budget.connect_limit(), Some(Duration::from_secs(1)));
        let started = Instant::now();
        let error = budget
            .command("waiting", std::future::pending::<()>())
            .await
            .unwrap_err();
        assert_eq!(error.status, Status::Timeout);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(2),
            "the whole command budget"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unbounded_without_timeouts() {
        let mut budget = CallBudget::start(&settings("Command Timeout=0;Connect Timeout=0"));
        assert_eq!(budget.connect_limit(), None);
        budget.renew_for_undo();
        budget.command("x", async {}).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn the_undo_gets_a_whole_command_timeout_of_its_own() {
        let mut budget = CallBudget::start(&settings("Command Timeout=2"));
        let slow = || tokio::time::sleep(Duration::from_millis(1500));
        budget.command("step", slow()).await.unwrap();
        budget.renew_for_undo();
        budget.command("undo", slow()).await.unwrap();
    }
}
