//! Memory soak: the resident set size after 1,000, 10,000 and 100,000 operations through the
//! C ABI (set an option, read the server back as JSON, fail on a missing server and free the
//! error). Flat figures are the goal; the process also holds the in-process stand-in, whose
//! share is included. Prints figures, asserts nothing: `cargo bench --bench soak`.

use std::ffi::CString;
use std::ptr;
use std::time::Instant;

use linkedsrv::ffi::*;

const PASSWORD: &str = "Str0ng!Passw0rd";
const CHECKPOINTS: [u64; 3] = [1_000, 10_000, 100_000];

/// VmRSS of this process in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let standin = tds_standin::spawn(tds_standin::InstanceConfig::new("MGMT")).unwrap();
    let connection = CString::new(standin.connection_string("sa", PASSWORD)).unwrap();
    let mut client = ptr::null_mut();
    unsafe {
        assert_eq!(
            lsv_connect(connection.as_ptr(), &mut client, ptr::null_mut()),
            LSV_OK
        );
        assert_eq!(
            lsv_create(
                client,
                c"SOAK".as_ptr(),
                c"{\"product\":\"SQL Server\"}".as_ptr(),
                ptr::null_mut()
            ),
            LSV_OK
        );
    }
    println!("soak: RSS before the first operation {} KiB", rss_kib());
    let started = Instant::now();
    let mut done = 0u64;
    for checkpoint in CHECKPOINTS {
        while done < checkpoint {
            unsafe {
                match done % 4 {
                    0 => {
                        let value = CString::new((done % 1000).to_string()).unwrap();
                        let status = lsv_set_option(
                            client,
                            c"SOAK".as_ptr(),
                            c"query timeout".as_ptr(),
                            value.as_ptr(),
                            ptr::null_mut(),
                        );
                        assert_eq!(status, LSV_OK);
                    }
                    1 => {
                        let mut json = ptr::null_mut();
                        assert_eq!(
                            lsv_get(client, c"SOAK".as_ptr(), &mut json, ptr::null_mut()),
                            LSV_OK
                        );
                        lsv_string_free(json);
                    }
                    2 => {
                        let mut err = ptr::null_mut();
                        let status = lsv_drop(client, c"MISSING".as_ptr(), 0, &mut err);
                        assert_eq!(status, LSV_ERR_NOT_FOUND);
                        lsv_error_free(err);
                    }
                    _ => {
                        let status = lsv_set_rpc(client, c"SOAK".as_ptr(), 1, -1, ptr::null_mut());
                        assert_eq!(status, LSV_OK);
                    }
                }
            }
            done += 1;
        }
        println!(
            "soak: RSS after {checkpoint:>7} operations {:>7} KiB ({:.1} s)",
            rss_kib(),
            started.elapsed().as_secs_f64()
        );
    }
    unsafe { lsv_client_free(client) };
}
