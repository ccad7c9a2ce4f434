//! Every server message of a failed request, not only the first error.
//!
//! tiberius 0.13 hands back the first ERROR token of a reply as `Error::Server` and drops the
//! later ones and every INFO token, but it emits a `tracing` event as it decodes each of them,
//! on the thread that polls the request (it spawns no tasks). [`collect`] makes a recorder the
//! thread's default dispatcher for each poll of one request, so only that request's events
//! reach it, and folds what it recorded into the request's error.
//!
//! Only those two decode events are recorded; every other event (login, TLS, packets, rows,
//! which could carry a password) is refused before it is formatted. While a request is being
//! polled, tiberius' events go to the recorder instead of the host's `tracing` subscriber;
//! outside requests the host's subscriber is untouched.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::future::Future;

use once_cell::sync::Lazy;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::{Interest, NoSubscriber};
use tracing::{span, Dispatch, Event, Level, Metadata, Subscriber};

use crate::error::{Error, ServerMessage};

/// Where tiberius decodes tokens (`src/tds/stream/token.rs`); the events' target.
const TOKEN_MODULE: &str = "tiberius::tds::stream::token";
/// The line of `get_info`'s DEBUG event in tiberius =0.13.0 (pinned). ENVCHANGE and LOGINACK
/// events share its level and field layout, so the call site is what tells INFO apart; the
/// stand-in tests fail if an upgrade moves it.
const INFO_EVENT_LINE: u32 = 405;

/// A server message as the driver's events describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Recorded {
    /// An INFO token: the event carries the text only.
    Info { message: String },
    /// An ERROR token: the event carries the number and the text.
    Error { number: i32, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Info,
    Error,
}

fn kind_of(metadata: &Metadata<'_>) -> Option<Kind> {
    if metadata.target() != TOKEN_MODULE || !metadata.is_event() {
        return None;
    }
    let fields = metadata.fields();
    let has = |name: &str| fields.field(name).is_some();
    match *metadata.level() {
        Level::ERROR if has("message") && has("code") && fields.len() == 2 => Some(Kind::Error),
        Level::DEBUG
            if metadata.line() == Some(INFO_EVENT_LINE) && has("message") && fields.len() == 1 =>
        {
            Some(Kind::Info)
        }
        _ => None,
    }
}

thread_local! {
    /// The messages of the request being polled on this thread, if one is.
    static RECORDING: RefCell<Option<Vec<Recorded>>> = const { RefCell::new(None) };
}

/// The recorder's `Dispatch`, created once and kept so that tracing asks it about every call
/// site: call sites cache whether anyone is interested in them.
struct Registered {
    recorder: Dispatch,
    /// tracing-core asks only the *current thread's* dispatcher about a new call site while at
    /// most one `Dispatch` is registered; a call site first reached outside a request (at login)
    /// would then be cached as unwanted for good. A second, inert one makes it ask them all.
    _companion: Dispatch,
}

static REGISTERED: Lazy<Registered> = Lazy::new(|| Registered {
    _companion: Dispatch::new(NoSubscriber::default()),
    recorder: Dispatch::new(Recorder),
});

struct Recorder;

impl Subscriber for Recorder {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // "Sometimes", not "always": outside a request another dispatcher decides.
        match kind_of(metadata) {
            Some(_) => Interest::sometimes(),
            None => Interest::never(),
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        kind_of(metadata).is_some()
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::DEBUG)
    }

    fn event(&self, event: &Event<'_>) {
        let Some(kind) = kind_of(event.metadata()) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let recorded = match kind {
            Kind::Info => Recorded::Info {
                message: fields.message,
            },
            Kind::Error => Recorded::Error {
                number: fields.code.and_then(|c| i32::try_from(c).ok()).unwrap_or(0),
                message: fields.message,
            },
        };
        RECORDING.with(|slot| {
            if let Some(messages) = slot.borrow_mut().as_mut() {
                messages.push(recorded);
            }
        });
    }

    // Spans are never enabled (`enabled` accepts events only), so these are never called.
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

#[derive(Default)]
struct Fields {
    message: String,
    code: Option<u64>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "code" {
            self.code = Some(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "code" {
            self.code = u64::try_from(value).ok();
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            // `%` and format-string messages print their text through Debug unquoted.
            let _ = write!(self.message, "{value:?}");
        }
    }
}

/// Runs `request`, recording the server messages decoded while it is polled; on failure they
/// replace the error's `server_messages`, in arrival order (see [`fold`]).
pub(crate) async fn collect<T>(
    request: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let mut request = std::pin::pin!(request);
    let mut recorded = Vec::new();
    let outcome =
        std::future::poll_fn(|cx| recording_into(&mut recorded, || request.as_mut().poll(cx)))
            .await;
    outcome.map_err(|error| fold(error, recorded))
}

/// Runs `work` with the recorder as this thread's dispatcher, appending to `recorded`.
fn recording_into<R>(recorded: &mut Vec<Recorded>, work: impl FnOnce() -> R) -> R {
    let outer = RECORDING.with(|slot| slot.replace(Some(std::mem::take(recorded))));
    let _restore = Restore { outer, recorded };
    tracing::dispatcher::with_default(&REGISTERED.recorder, work)
}

/// Hands the messages back and reinstates an enclosing recording, also when `work` panics.
struct Restore<'a> {
    outer: Option<Vec<Recorded>>,
    recorded: &'a mut Vec<Recorded>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let mine = RECORDING.with(|slot| slot.replace(self.outer.take()));
        *self.recorded = mine.unwrap_or_default();
    }
}

/// The error with every recorded message, in arrival order. The driver's own record of the
/// first error (all fields) stands in for that error's event; the others keep what their
/// event carries, the fields it lacks zero or empty: an INFO has number 0 and severity 0
/// (its real number and its severity 0..10 are unknown), a later ERROR its number and text.
fn fold(mut error: Error, recorded: Vec<Recorded>) -> Error {
    if recorded.is_empty() {
        return error;
    }
    let mut from_driver: Vec<Option<ServerMessage>> = std::mem::take(&mut error.server_messages)
        .into_iter()
        .map(Some)
        .collect();
    let mut messages = Vec::with_capacity(recorded.len() + from_driver.len());
    for record in recorded {
        let (number, message) = match record {
            Recorded::Info { message } => (0, message),
            Recorded::Error { number, message } => {
                let complete = from_driver.iter_mut().find(|known| {
                    known
                        .as_ref()
                        .is_some_and(|k| k.number == number && k.message == message)
                });
                if let Some(known) = complete.and_then(Option::take) {
                    messages.push(known);
                    continue;
                }
                (number, message)
            }
        };
        messages.push(ServerMessage {
            number,
            severity: 0,
            state: 0,
            procedure: String::new(),
            line: 0,
            server: String::new(),
            message,
        });
    }
    messages.extend(from_driver.into_iter().flatten());
    error.server_messages = messages;
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    fn driver_message(number: i32, message: &str) -> ServerMessage {
        ServerMessage {
            number,
            severity: 16,
            state: 1,
            procedure: "sp_testlinkedserver".into(),
            line: 1,
            server: "MGMT01".into(),
            message: message.into(),
        }
    }

    fn partial(number: i32, message: &str) -> ServerMessage {
        ServerMessage {
            number,
            severity: 0,
            state: 0,
            procedure: String::new(),
            line: 0,
            server: String::new(),
            message: message.into(),
        }
    }

    /// What tiberius' `get_error` emits, from a call site with the driver's target.
    fn emit_server_error(code: u32, message: &str) {
        tracing::event!(target: "tiberius::tds::stream::token", Level::ERROR, message = %message, code = code);
    }

    fn run<T>(request: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        futures_util::FutureExt::now_or_never(collect(request)).expect("no await point")
    }

    #[test]
    fn records_driver_error_events_in_order_and_merges_the_first() {
        let error = run(async {
            emit_server_error(7303, "Cannot initialize");
            emit_server_error(3621, "The statement has been terminated.");
            Err::<(), _>(Error::from_server_message(driver_message(
                7303,
                "Cannot initialize",
            )))
        })
        .unwrap_err();
        assert_eq!(
            error.server_messages,
            vec![
                driver_message(7303, "Cannot initialize"),
                partial(3621, "The statement has been terminated."),
            ]
        );
        assert_eq!(error.status, Status::Sql);
        assert_eq!(error.sql_number(), Some(7303));
    }

    #[test]
    fn ignores_other_events_and_events_outside_a_request() {
        emit_server_error(50000, "before the request");
        let error = run(async {
            tracing::event!(target: "tiberius::client::connection", Level::ERROR, message = "password=secret", code = 1u32);
            tracing::event!(target: "tiberius::tds::stream::token", Level::DEBUG, "password=secret");
            tracing::event!(target: "tiberius::tds::stream::token", Level::TRACE, message = "row");
            Err::<(), _>(Error::new(Status::Connection, "broken"))
        })
        .unwrap_err();
        assert!(error.server_messages.is_empty(), "{error:?}");
        emit_server_error(50000, "after the request");
    }

    #[test]
    fn success_discards_the_messages_and_nested_requests_keep_their_own() {
        let outer = run(async {
            emit_server_error(1, "outer first");
            let inner = run(async {
                emit_server_error(2, "inner");
                Err::<(), _>(Error::new(Status::Sql, "inner failed"))
            })
            .unwrap_err();
            assert_eq!(inner.server_messages, vec![partial(2, "inner")]);
            let succeeded = run(async {
                emit_server_error(3, "ok");
                Ok::<_, Error>(())
            });
            assert_eq!(succeeded, Ok(()));
            emit_server_error(4, "outer second");
            Err::<(), _>(Error::new(Status::Sql, "outer failed"))
        })
        .unwrap_err();
        assert_eq!(
            outer.server_messages,
            vec![partial(1, "outer first"), partial(4, "outer second")]
        );
    }

    #[test]
    fn a_call_site_first_reached_outside_a_request_still_records_inside_one() {
        fn emit_late_error() {
            tracing::event!(target: TOKEN_MODULE, Level::ERROR, message = "late", code = 9u32);
        }
        Lazy::force(&REGISTERED);
        // First reached here, with no recorder current: its cached interest must not be "never".
        emit_late_error();
        let error = run(async {
            emit_late_error();
            Err::<(), _>(Error::new(Status::Sql, "failed"))
        })
        .unwrap_err();
        assert_eq!(error.server_messages, vec![partial(9, "late")]);
    }

    #[test]
    fn fold_keeps_a_driver_message_that_no_event_matched() {
        let error = fold(
            Error::from_server_message(driver_message(15015, "no such server")),
            vec![Recorded::Info {
                message: "note".into(),
            }],
        );
        assert_eq!(
            error.server_messages,
            vec![partial(0, "note"), driver_message(15015, "no such server")]
        );
    }
}
