//! A password given to any call appears in no output: every error (message, Display, Debug,
//! the C ABI's JSON), every result JSON, every Debug form and every `tracing` event the
//! library and its driver emit while the calls run (a host's subscriber sees those) is
//! scanned for the canary passwords, through successes and failures alike.

mod api_support;

use std::ffi::{CStr, CString};
use std::fmt::Write as _;
use std::ptr;
use std::sync::{Arc, Mutex};

use api_support::*;
use linkedsrv::ffi::*;
use linkedsrv::spec::{LinkedServerSpec, RemoteCredentials};
use linkedsrv::Client;
use tds_standin::config::ServerRole;
use tds_standin::InstanceConfig;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use zeroize::Zeroizing;

const LOGIN_CANARY: &str = "Login-Canary-7f3a9";
const REMOTE_CANARY: &str = "Remote-Canary-c41d2";
const WRONG_CANARY: &str = "Wrong-Canary-99e10";

/// Records every event and span field as text.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut log = self.0.lock().unwrap();
        span.record(&mut Fields(&mut log));
        log.push('\n');
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut log = self.0.lock().unwrap();
        values.record(&mut Fields(&mut log));
        log.push('\n');
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut log = self.0.lock().unwrap();
        let _ = write!(log, "{}:", event.metadata().target());
        event.record(&mut Fields(&mut log));
        log.push('\n');
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Everything a caller could print about an error.
fn describe(output: &mut String, error: &linkedsrv::Error) {
    let _ = writeln!(output, "{error}\n{error:?}\n{}", error.message);
}

fn remote(user: &str, password: &str) -> RemoteCredentials {
    RemoteCredentials::Remote {
        user: Some(user.into()),
        password: Some(Zeroizing::new(password.into())),
    }
}

#[test]
fn no_password_reaches_any_output() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let peer = start(InstanceConfig::new("PEER").with_login(
        "linker",
        REMOTE_CANARY,
        ServerRole::Sysadmin,
    ));
    let mgmt = start(
        InstanceConfig::new("MGMT01")
            .with_login("admin", LOGIN_CANARY, ServerRole::Sysadmin)
            .with_peer("PEER", peer.addr()),
    );
    let mut output = String::new();

    let connection = mgmt.connection_string("admin", LOGIN_CANARY);
    let wrong = mgmt.connection_string("admin", WRONG_CANARY);
    describe(&mut output, &Client::connect(&wrong).unwrap_err());
    describe(
        &mut output,
        &Client::connect(&format!("{connection};Colour=blue")).unwrap_err(),
    );
    let client = Client::connect(&connection).unwrap();
    let _ = writeln!(output, "{client:?}");

    client.create("PEER", &sql_server_spec()).unwrap();
    client
        .map_login("PEER", None, remote("linker", REMOTE_CANARY))
        .unwrap();
    client.test("PEER").unwrap();
    client
        .map_login("PEER", Some("admin"), remote("linker", WRONG_CANARY))
        .unwrap();
    describe(&mut output, &client.test("PEER").unwrap_err());
    describe(
        &mut output,
        &client
            .map_login("NOPE", None, remote("linker", REMOTE_CANARY))
            .unwrap_err(),
    );
    let _ = writeln!(output, "{:?}", remote("linker", REMOTE_CANARY));
    let _ = writeln!(
        output,
        "{}",
        serde_json::to_string(&client.list().unwrap()).unwrap()
    );
    let _ = writeln!(output, "{:?}", client.get("PEER").unwrap());
    let _ = writeln!(output, "{:?}", client.connection_info().unwrap());
    let spec_error = LinkedServerSpec::from_json(&format!(
        r#"{{"product": "", "provider_string": ["Pwd={REMOTE_CANARY}"]}}"#
    ))
    .unwrap_err();
    describe(&mut output, &spec_error);

    // The C ABI: error objects' text and JSON, and the results.
    unsafe {
        let wrong = CString::new(wrong).unwrap();
        let mut err = ptr::null_mut();
        let mut handle = ptr::null_mut();
        lsv_connect(wrong.as_ptr(), &mut handle, &mut err);
        let _ = writeln!(
            output,
            "{}\n{}",
            CStr::from_ptr(lsv_error_message(err)).to_string_lossy(),
            CStr::from_ptr(lsv_error_json(err)).to_string_lossy()
        );
        lsv_error_free(err);
        let connection = CString::new(connection).unwrap();
        assert_eq!(
            lsv_connect(connection.as_ptr(), &mut handle, ptr::null_mut()),
            LSV_OK
        );
        let password = CString::new(REMOTE_CANARY).unwrap();
        let status = lsv_map_login(
            handle,
            c"NOPE".as_ptr(),
            ptr::null(),
            0,
            c"linker".as_ptr(),
            password.as_ptr(),
            &mut err,
        );
        assert_eq!(status, LSV_ERR_NOT_FOUND);
        let _ = writeln!(
            output,
            "{}",
            CStr::from_ptr(lsv_error_json(err)).to_string_lossy()
        );
        lsv_error_free(err);
        let mut json = ptr::null_mut();
        assert_eq!(lsv_list(handle, &mut json, ptr::null_mut()), LSV_OK);
        let _ = writeln!(output, "{}", CStr::from_ptr(json).to_string_lossy());
        lsv_string_free(json);
        lsv_client_free(handle);
    }

    let log = recorder.0.lock().unwrap().clone();
    assert!(
        log.lines().count() > 10,
        "the recorder saw the driver's events:\n{log}"
    );
    for canary in [LOGIN_CANARY, REMOTE_CANARY, WRONG_CANARY] {
        assert!(
            !output.contains(canary),
            "{canary} in the output:\n{output}"
        );
        assert!(!log.contains(canary), "{canary} in a tracing event:\n{log}");
    }
    eprintln!(
        "secrets scan: {} output lines and {} tracing events checked",
        output.lines().count(),
        log.lines().count()
    );
}
