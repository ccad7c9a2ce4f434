//! After fork() the child has none of the runtime's threads: its calls fail at once with a
//! clear error instead of hanging, and freeing the parent's client in the child leaves the
//! parent's connection alone.
#![cfg(unix)]

mod api_support;

use std::time::{Duration, Instant};

use api_support::*;
use linkedsrv::Status;

/// Exit codes of the child.
const CHILD_OK: i32 = 0;
const CHILD_WRONG_OUTCOME: i32 = 3;

#[test]
fn a_forked_child_fails_fast_and_the_parent_keeps_working() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("BTS01", &sql_server_spec()).unwrap();

    // SAFETY: the child only runs the library call under test and leaves with _exit.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        let outcome = client.list();
        let code = match &outcome {
            Err(error)
                if error.status == Status::Unsupported && error.message.contains("forked") =>
            {
                CHILD_OK
            }
            _ => CHILD_WRONG_OUTCOME,
        };
        // Dropping the parent's client here must not close the parent's connection.
        drop(client);
        unsafe { libc::_exit(code) };
    }

    // A hanging child is the defect: give it generous time, then kill it.
    let started = Instant::now();
    let mut status = 0;
    loop {
        let done = unsafe { libc::waitpid(child, &mut status, libc::WNOHANG) };
        assert!(done >= 0, "waitpid failed");
        if done == child {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            unsafe { libc::kill(child, libc::SIGKILL) };
            unsafe { libc::waitpid(child, &mut status, 0) };
            panic!("the forked child hung in a library call");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    assert_eq!(
        libc::WEXITSTATUS(status),
        CHILD_OK,
        "the child's call did not fail as expected"
    );

    assert_eq!(names(&client), ["BTS01"], "the parent's client still works");
    assert_eq!(
        connections_seen(&standin.instance()),
        1,
        "on its first connection"
    );
}
