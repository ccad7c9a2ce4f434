//! A fuzz harness for the C ABI: every export called with random NULLs, garbage, stale and
//! other-type handles, invalid UTF-8, over-long names, embedded U+0000, hostile JSON and huge
//! numbers. It asserts that nothing crashes (a crash ends the test process), that every status
//! is a known one with a matching error object, and that a rejected call changed nothing on the
//! server: the catalog, read through a second connection, is compared after every rejection.
//!
//! `LSV_FUZZ_CASES` (default 1500) sets the number of cases, `LSV_FUZZ_SEED` the seed; both are
//! printed, so a failure can be replayed.

mod ffi_common;

use std::ffi::{c_char, CString};
use std::ptr;

use ffi_common::*;
use linkedsrv::ffi::*;
use linkedsrv::spec::LinkedServer;

const DEFAULT_CASES: u64 = 1500;
const PASSWORD: &str = "Str0ng!Passw0rd";

/// xorshift64*: small, deterministic, good enough to pick cases.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A `const char*` argument: NULL, or bytes with a terminating NUL (C cannot pass more).
struct Arg(Option<CString>);

impl Arg {
    fn ptr(&self) -> *const c_char {
        self.0.as_ref().map_or(ptr::null(), |s| s.as_ptr())
    }
}

fn bytes(b: &[u8]) -> Arg {
    // A NUL inside would end the C string there; keep what C would see.
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    Arg(Some(CString::new(&b[..end]).unwrap()))
}

fn text(s: &str) -> Arg {
    bytes(s.as_bytes())
}

/// Names: valid ones from a small set (so creates, drops and mappings meet each other),
/// hostile ones (quotes, brackets, comments, unicode), over-long, invalid UTF-8, NULL.
fn name(r: &mut Random) -> Arg {
    match r.below(12) {
        0 => Arg(None),
        1 => bytes(b"ab\x80cd"),
        2 => bytes(b"\xff\xfe\xfd"),
        3 => text(&"N".repeat(129)),
        4 => text(&"\u{1F600}".repeat(65)), // 130 UTF-16 units
        5 => text(""),
        6 => text(&"x".repeat(100_000)),
        7 => text(r.pick(&["a'b", "]]", "x;DROP TABLE t--", "/* c */", "名前", " "])),
        _ => text(r.pick(&["FZ1", "FZ2", "FZ3", "FZ\\INST", "fz1"])),
    }
}

/// JSON for lsv_create: valid specs, mutations and hostile documents.
fn spec_json(r: &mut Random) -> Arg {
    let deep = "[".repeat(5000);
    let options = [
        r#"{"rpc out": true}"#,
        r#"{"query timeout": 18446744073709551616}"#,
        r#"{"query timeout": -1}"#,
        r#"{"query timeout": 1e400}"#,
        r#"{"connect timeout": 2147483648}"#,
        r#"{"rpc": true, "rpc": false}"#,
        r#"{"rpc": "maybe"}"#,
        r#"{"name": "other"}"#,
        r#"{"provider string": ["Pwd=x"]}"#,
        r#"{"collation name": "Latin1_General_CI_AS\u0000x"}"#,
        r#"{"unknown option": 1}"#,
        r#"{"collation compatible": true, "collation name": "Latin1_General_CI_AS"}"#,
    ];
    let document = match r.below(14) {
        0 => return Arg(None),
        1 => return bytes(b"{\"product\":\"\xc3\x28\"}"),
        2 => deep,
        3 => r#"{"product": "SQL Server", "product": "x"}"#.to_string(),
        4 => r#"{"product": "SQL Server""#.to_string(),
        5 => "[]".to_string(),
        6 => "null".to_string(),
        7 => format!(r#"{{"product": "{}"}}"#, "p".repeat(200)),
        8 => r#"{"product": "", "provider": "MSOLEDBSQL", "data_source": "h\u0000x"}"#.to_string(),
        9 => format!(
            r#"{{"product": "", "provider": "SQLNCLI", "location": "{}"}}"#,
            "l".repeat(4001)
        ),
        10 => format!(
            r#"{{"product": "SQL Server", "options": {}}}"#,
            r.pick(&options)
        ),
        _ => r#"{"product": "SQL Server"}"#.to_string(),
    };
    text(&document)
}

fn option_name(r: &mut Random) -> Arg {
    match r.below(6) {
        0 => Arg(None),
        1 => bytes(b"rpc\x80"),
        2 => text(r.pick(&["RPC OUT", "rpc", "query timeout", "name", "collation name"])),
        3 => text(r.pick(&["", "rpc out ", "xp_cmdshell", "data access; --"])),
        _ => text(r.pick(&["rpc out", "data access", "connect timeout"])),
    }
}

fn option_value(r: &mut Random) -> Arg {
    match r.below(6) {
        0 => Arg(None),
        1 => bytes(b"\xe2\x82"),
        2 => text(r.pick(&["99999999999999999999", "-5", "1e9", "", "maybe", "FZ9"])),
        _ => text(r.pick(&["true", "false", "on", "0", "30"])),
    }
}

fn flag(r: &mut Random) -> i32 {
    r.pick(&[0, 1, -1, 2, i32::MIN, i32::MAX])
}

struct Pools {
    live: *mut lsv_client,
    /// Freed clients: must be refused, also after their slots were reused.
    stale: Vec<*mut lsv_client>,
    stale_errors: Vec<*mut lsv_error>,
    connection_string: CString,
}

fn client_handle(r: &mut Random, pools: &Pools) -> *mut lsv_client {
    match r.below(10) {
        0 => ptr::null_mut(),
        1 => r.next() as usize as *mut lsv_client,
        2 => pools
            .stale
            .get(r.below(pools.stale.len().max(1)))
            .copied()
            .unwrap_or(ptr::null_mut()),
        3 => pools
            .stale_errors
            .last()
            .map_or(ptr::null_mut(), |e| e.cast()),
        _ => pools.live,
    }
}

fn error_handle(r: &mut Random, pools: &Pools) -> *const lsv_error {
    match r.below(4) {
        0 => ptr::null(),
        1 => r.next() as usize as *const lsv_error,
        2 => pools.live.cast_const().cast(),
        _ => pools
            .stale_errors
            .get(r.below(pools.stale_errors.len().max(1)))
            .copied()
            .unwrap_or(ptr::null_mut()),
    }
}

/// Calls `call` with a random `out_err` (NULL or a slot), checks the status/error contract and
/// returns the status.
fn checked(
    r: &mut Random,
    pools: &mut Pools,
    call: impl FnOnce(*mut *mut lsv_error) -> i32,
) -> i32 {
    if r.chance(4) {
        let status = call(ptr::null_mut());
        assert!((0..=14).contains(&status), "unknown status {status}");
        return status;
    }
    let mut err = ptr::null_mut();
    let status = call(&mut err);
    assert!((0..=14).contains(&status), "unknown status {status}");
    assert_eq!(
        status == LSV_OK,
        err.is_null(),
        "status {status} and out_err disagree"
    );
    if !err.is_null() {
        let code = unsafe { lsv_error_code(err) };
        assert_eq!(code, status);
        let json = ffi_common::text(unsafe { lsv_error_json(err) });
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("error JSON parses");
        assert_eq!(parsed["code"], status);
        assert!(!json.contains(PASSWORD), "the password leaked into {json}");
        unsafe { lsv_error_free(err) };
        pools.stale_errors.push(err);
        if pools.stale_errors.len() > 64 {
            pools.stale_errors.remove(0);
        }
    }
    status
}

/// Calls with a random `out_json` (NULL or a slot) and frees what came back.
fn with_out_json(r: &mut Random, call: impl FnOnce(*mut *mut c_char) -> i32) -> i32 {
    if r.chance(5) {
        return call(ptr::null_mut());
    }
    let mut json = ptr::null_mut();
    let status = call(&mut json);
    if status == LSV_OK {
        let text = ffi_common::text(json);
        serde_json::from_str::<serde_json::Value>(&text).expect("result JSON parses");
    } else {
        assert!(json.is_null(), "out_json written on failure");
    }
    unsafe { lsv_string_free(json) };
    status
}

fn catalog(observer: &linkedsrv::Client) -> Vec<LinkedServer> {
    observer.list().expect("the observer reads the catalog")
}

#[test]
fn random_calls_never_crash_and_rejected_calls_change_nothing() {
    let cases = env_number("LSV_FUZZ_CASES", DEFAULT_CASES);
    let seed = env_number("LSV_FUZZ_SEED", 0x5EED_1234_ABCD_0001).max(1);
    eprintln!("fuzz: {cases} cases, seed {seed:#x} (LSV_FUZZ_CASES, LSV_FUZZ_SEED)");
    let standin = tds_standin::spawn(tds_standin::InstanceConfig::new("MGMT")).unwrap();
    let connection = standin.connection_string("sa", PASSWORD);
    let observer = linkedsrv::Client::connect(&connection).unwrap();
    let connection_string = CString::new(connection).unwrap();
    let mut live = ptr::null_mut();
    outcome(|e| unsafe { lsv_connect(connection_string.as_ptr(), &mut live, e) }).unwrap();
    let mut pools = Pools {
        live,
        stale: Vec::new(),
        stale_errors: Vec::new(),
        connection_string,
    };
    let mut r = Random(seed);
    let mut before = catalog(&observer);
    let mut statuses = [0u64; 15];

    for case in 0..cases {
        let handle = client_handle(&mut r, &pools);
        let function = r.below(16);
        let status = match function {
            0 => {
                let conn = match r.below(6) {
                    0 => Arg(None),
                    1 => bytes(b"Server=\xff;User ID=sa"),
                    2 => text("Server=tcp:127.0.0.1,1;User ID=sa;Password=x;Connect Timeout=1"),
                    3 => text("Server=[::1;Encrypt=maybe;Colour=blue"),
                    4 => text(&format!("Server={};User ID=sa", "h".repeat(70_000))),
                    _ => Arg(Some(pools.connection_string.clone())),
                };
                let mut out = ptr::null_mut();
                let out_ptr: *mut *mut lsv_client = if r.chance(5) {
                    ptr::null_mut()
                } else {
                    &mut out
                };
                let status = checked(&mut r, &mut pools, |e| unsafe {
                    lsv_connect(conn.ptr(), out_ptr, e)
                });
                if !out.is_null() {
                    // A second client: free it at once and keep its handle as a stale one.
                    unsafe { lsv_client_free(out) };
                    pools.stale.push(out);
                }
                status
            }
            1 => {
                let (n, s) = (name(&mut r), spec_json(&mut r));
                checked(&mut r, &mut pools, |e| unsafe {
                    lsv_create(handle, n.ptr(), s.ptr(), e)
                })
            }
            2 => {
                let (n, f) = (name(&mut r), flag(&mut r));
                checked(&mut r, &mut pools, |e| unsafe {
                    lsv_drop(handle, n.ptr(), f, e)
                })
            }
            3 => {
                let (server, local, user) = (name(&mut r), name(&mut r), name(&mut r));
                let password = if r.chance(2) {
                    Arg(None)
                } else {
                    text(PASSWORD)
                };
                let self_flag = flag(&mut r);
                checked(&mut r, &mut pools, |e| unsafe {
                    lsv_map_login(
                        handle,
                        server.ptr(),
                        local.ptr(),
                        self_flag,
                        user.ptr(),
                        password.ptr(),
                        e,
                    )
                })
            }
            4 => {
                let (server, local) = (name(&mut r), name(&mut r));
                checked(&mut r, &mut pools, |e| unsafe {
                    lsv_unmap_login(handle, server.ptr(), local.ptr(), e)
                })
            }
            5 => {
                let (server, rpc, rpc_out) = (name(&mut r), flag(&mut r), flag(&mut r));
                checked(&mut r, &mut pools, |e| unsafe {
                    lsv_set_rpc(handle, server.ptr(), rpc, rpc_out, e)
                })
            }
            6 => {
                let (server, option, value) =
                    (name(&mut r), option_name(&mut r), option_value(&mut r));
                checked(&mut r, &mut pools, |e| unsafe {
                    lsv_set_option(handle, server.ptr(), option.ptr(), value.ptr(), e)
                })
            }
            7 => {
                let server = name(&mut r);
                let coin = r.chance(5);
                checked(&mut r, &mut pools, |e| {
                    let mut json = ptr::null_mut();
                    let out: *mut *mut c_char = if coin { ptr::null_mut() } else { &mut json };
                    let status = unsafe { lsv_get(handle, server.ptr(), out, e) };
                    unsafe { lsv_string_free(json) };
                    status
                })
            }
            8 => {
                let mut r2 = Random(r.next().max(1));
                checked(&mut r, &mut pools, |e| {
                    with_out_json(&mut r2, |out| unsafe { lsv_list(handle, out, e) })
                })
            }
            9 => {
                let server = name(&mut r);
                checked(&mut r, &mut pools, |e| unsafe {
                    lsv_test(handle, server.ptr(), e)
                })
            }
            10 => {
                let mut r2 = Random(r.next().max(1));
                checked(&mut r, &mut pools, |e| {
                    with_out_json(&mut r2, |out| unsafe {
                        lsv_connection_info(handle, out, e)
                    })
                })
            }
            11 => {
                let status = unsafe { lsv_cancel(handle) };
                assert!(
                    status == LSV_OK || status == LSV_ERR_INVALID_HANDLE,
                    "{status}"
                );
                status
            }
            12 => {
                // Error accessors on NULL, garbage, stale and other-type handles: neutral.
                let err = error_handle(&mut r, &pools);
                unsafe {
                    assert_eq!(lsv_error_code(err), 0);
                    assert_eq!(lsv_error_sql_number(err), 0);
                    assert_eq!(ffi_common::text(lsv_error_message(err)), "");
                    assert_eq!(ffi_common::text(lsv_error_json(err)), "");
                    assert_eq!(ffi_common::text(lsv_error_sql_procedure(err)), "");
                }
                0
            }
            13 => {
                // Frees of NULL, garbage, stale and other-type pointers are ignored.
                let garbage = r.next() as usize;
                unsafe {
                    lsv_error_free(error_handle(&mut r, &pools).cast_mut());
                    lsv_string_free(garbage as *mut c_char);
                    lsv_client_free(match r.below(3) {
                        0 => garbage as *mut lsv_client,
                        1 => pools.stale.last().copied().unwrap_or(ptr::null_mut()),
                        _ => ptr::null_mut(),
                    });
                }
                0
            }
            _ => {
                // A valid call now and then, so that the catalog has something to protect.
                let n = text(r.pick(&["FZ1", "FZ2", "FZ3"]));
                let live = pools.live;
                checked(&mut r, &mut pools, |e| unsafe {
                    lsv_create(live, n.ptr(), c"{\"product\":\"SQL Server\"}".as_ptr(), e)
                })
            }
        };
        statuses[status as usize] += 1;
        let after = catalog(&observer);
        if status != LSV_OK {
            assert!(
                after == before,
                "case {case} (function {function}, status {status}) was rejected but changed the catalog"
            );
        }
        before = after;
    }
    assert_eq!(unsafe { lsv_error_code(ptr::null()) }, 0);
    unsafe { lsv_client_free(pools.live) };
    let list: Vec<String> = statuses
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(status, n)| format!("{status}:{n}"))
        .collect();
    eprintln!(
        "fuzz: {cases} cases run, 0 crashes; statuses (status:count) {}",
        list.join(" ")
    );
}
