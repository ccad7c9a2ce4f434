//! Requests and wall time per operation, ours next to a baseline, against an in-process
//! stand-in (`cargo bench --bench round_trips`). Prints figures; asserts nothing about speed.
//!
//! Part 2, `ensure`: one fully specified server from scratch, the converged no-op and twenty
//! servers at once, against two baselines reaching the same end state: one procedure call per
//! request on one connection, reading each server's state first (SMO / dbatools style), and a
//! new connection per statement (Invoke-Sqlcmd style); median wall time at 0 and 10 ms added
//! per request.
//!
//! The baseline reads the way SMO does: the list of names, then `sys.servers` and
//! `sys.linked_logins` once each per server, and it writes every option it sets. Requests are
//! counted by the stand-in (`connection_stats`), so they are exact; times are means over
//! `ROUNDS` and only meaningful side by side on the same machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use linkedsrv::converge::EnsureFlags;
use linkedsrv::spec::{LinkedServerSpec, RemoteCredentials};
use linkedsrv::Client;
use tds_standin::config::{FaultPlan, ServerRole};
use tds_standin::engine::Instance;
use tds_standin::{spawn, InstanceConfig, StandIn};
use tiberius::{AuthMethod, Config, EncryptionLevel, Query};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};
use zeroize::Zeroizing;

const PASSWORD: &str = "Str0ng!Passw0rd";
/// Linked servers present while reading.
const SERVERS: usize = 20;
/// Repetitions of each measured operation.
const ROUNDS: u32 = 20;

type Baseline = tiberius::Client<Compat<TcpStream>>;

/// What one operation cost on average.
struct Cost {
    requests: f64,
    time: Duration,
}

fn requests_seen(instance: &Arc<Instance>) -> u64 {
    instance.connection_stats().iter().map(|c| c.requests).sum()
}

/// Runs `operation` `ROUNDS` times; mean requests (counted by the stand-in) and mean time.
fn measure(instance: &Arc<Instance>, mut operation: impl FnMut()) -> Cost {
    let requests_before = requests_seen(instance);
    let started = Instant::now();
    for _ in 0..ROUNDS {
        operation();
    }
    Cost {
        time: started.elapsed() / ROUNDS,
        requests: (requests_seen(instance) - requests_before) as f64 / f64::from(ROUNDS),
    }
}

fn print_row(operation: &str, ours: &Cost, baseline: &Cost) {
    println!(
        "{operation:<34} {:>8.1} {:>10.1} {:>7.1}x {:>10.0} {:>12.0} {:>7.1}x",
        ours.requests,
        baseline.requests,
        baseline.requests / ours.requests,
        ours.time.as_secs_f64() * 1e6,
        baseline.time.as_secs_f64() * 1e6,
        baseline.time.as_secs_f64() / ours.time.as_secs_f64(),
    );
}

/// The baseline's own connection, made with the driver directly.
fn baseline_connection(runtime: &Runtime, standin: &StandIn) -> Baseline {
    let mut config = Config::new();
    config.host(standin.addr().ip().to_string());
    config.port(standin.addr().port());
    config.authentication(AuthMethod::sql_server("sa", PASSWORD));
    config.encryption(EncryptionLevel::Required);
    config.trust_cert_ca(standin.cert_path().display());
    runtime.block_on(async {
        let tcp = TcpStream::connect(config.get_addr()).await.expect("tcp");
        tcp.set_nodelay(true).expect("nodelay");
        tiberius::Client::connect(config, tcp.compat_write())
            .await
            .expect("baseline login")
    })
}

/// SMO-style read of one server: its `sys.servers` row, then its `sys.linked_logins` rows; the
/// number of mappings, `None` when the server does not exist.
async fn baseline_get(connection: &mut Baseline, name: &str) -> Option<usize> {
    let mut query = Query::new("SELECT server_id, name, product, provider, data_source, is_rpc_out_enabled FROM sys.servers WHERE name = @P1");
    query.bind(name);
    let row = query
        .query(connection)
        .await
        .expect("server row")
        .into_row()
        .await
        .expect("server row read")?;
    let server_id: i32 = row.get(0).expect("server_id");
    let mut query = Query::new("SELECT local_principal_id, uses_self_credential, remote_name FROM sys.linked_logins WHERE server_id = @P1");
    query.bind(server_id);
    let logins = query
        .query(connection)
        .await
        .expect("logins")
        .into_first_result()
        .await
        .expect("logins read");
    Some(logins.len())
}

/// SMO-style list: the names, then one `baseline_get` per server.
async fn baseline_list(connection: &mut Baseline) -> usize {
    let names: Vec<String> = connection
        .simple_query("SELECT name FROM sys.servers WHERE server_id <> 0")
        .await
        .expect("names")
        .into_first_result()
        .await
        .expect("names read")
        .iter()
        .map(|row| row.get::<&str, _>(0).expect("name").to_owned())
        .collect();
    let mut logins = 0;
    for name in &names {
        logins += baseline_get(connection, name).await.expect("server exists");
    }
    logins
}

/// One system procedure call with named `nvarchar` parameters (`None`: NULL).
async fn call_procedure(
    connection: &mut Baseline,
    procedure: &str,
    parameters: &[(&str, Option<&str>)],
) {
    let mut command = tiberius::Command::new(format!("master.sys.{procedure}"));
    for (name, value) in parameters {
        command.bind_param(*name, *value);
    }
    let mut stream = command.exec(connection).await.expect(procedure);
    while futures_util::TryStreamExt::try_next(&mut stream)
        .await
        .expect(procedure)
        .is_some()
    {}
}

/// The baseline's create → map → rpc → get → drop: both RPC options written, reads as above.
async fn baseline_cycle(connection: &mut Baseline, name: &str) {
    let option = |option, value| {
        [
            ("@server", Some(name)),
            ("@optname", Some(option)),
            ("@optvalue", Some(value)),
        ]
    };
    call_procedure(
        connection,
        "sp_addlinkedserver",
        &[("@server", Some(name)), ("@srvproduct", Some("SQL Server"))],
    )
    .await;
    call_procedure(
        connection,
        "sp_addlinkedsrvlogin",
        &[
            ("@rmtsrvname", Some(name)),
            ("@useself", Some("FALSE")),
            ("@locallogin", Some("sa")),
            ("@rmtuser", Some("remote")),
            ("@rmtpassword", Some("Rem0te!Pw")),
        ],
    )
    .await;
    call_procedure(connection, "sp_serveroption", &option("rpc", "true")).await;
    call_procedure(connection, "sp_serveroption", &option("rpc out", "true")).await;
    baseline_get(connection, name).await.expect("server exists");
    call_procedure(
        connection,
        "sp_dropserver",
        &[("@server", Some(name)), ("@droplogins", Some("droplogins"))],
    )
    .await;
}

fn remote_login() -> RemoteCredentials {
    RemoteCredentials::Remote {
        user: Some("remote".into()),
        password: Some(Zeroizing::new("Rem0te!Pw".into())),
    }
}

fn main() {
    let standin = spawn(InstanceConfig::new("MGMT01")).expect("the stand-in starts");
    let instance = standin.instance();
    let client = Client::connect(&standin.connection_string("sa", PASSWORD)).expect("connects");
    let spec = LinkedServerSpec::from_json(r#"{"product": "SQL Server"}"#).expect("spec");
    for index in 0..SERVERS {
        let name = format!("LS{index:02}");
        client.create(&name, &spec).expect("create");
        client
            .map_login(&name, Some("sa"), remote_login())
            .expect("map");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut baseline = baseline_connection(&runtime, &standin);

    for latency_ms in [0, 1] {
        instance.set_faults(FaultPlan {
            latency_ms,
            ..FaultPlan::default()
        });
        println!(
            "\n{SERVERS} linked servers with 2 mappings each, {latency_ms} ms added per request, \
             means over {ROUNDS} rounds"
        );
        compare(&instance, &client, &spec, &runtime, &mut baseline);
    }
    println!(
        "\nRequests are what counts against a real server (each one a network round trip); at 0 ms \
         the times mostly show the stand-in interpreting the catalog query's text."
    );
    drop(baseline);
    drop(client);
    drop(standin);
    ensure_scenarios(&runtime);
}

/// Part 2: `ensure` against the two baselines.
fn ensure_scenarios(runtime: &Runtime) {
    let standin = spawn(
        InstanceConfig::new("MGMT01")
            .with_login("BizTalkJob", "Job!Passw0rd", ServerRole::None)
            .with_login("app", "App!Passw0rd", ServerRole::None),
    )
    .expect("the stand-in starts");
    let instance = standin.instance();
    let client = Client::connect(&standin.connection_string("sa", PASSWORD)).expect("connects");
    let mut baseline = baseline_connection(runtime, &standin);
    let exact = EnsureFlags::from_bits(EnsureFlags::EXACT_LOGINS).expect("flags");
    let names = |count: usize| -> Vec<String> { (0..count).map(|i| format!("E{i:02}")).collect() };
    let desired = |names: &[String]| {
        serde_json::Value::Array(names.iter().map(|n| full_server(n)).collect()).to_string()
    };
    let cleanup = |names: &[String]| {
        for name in names {
            match client.drop_server(name, true) {
                Err(error) if error.status != linkedsrv::Status::NotFound => {
                    panic!("cleanup: {error}")
                }
                _ => {}
            }
        }
    };

    println!(
        "\nensure: create + rpc + rpc out + query timeout + global mapping dropped + 2 login \
         mappings per server; median of the rounds"
    );
    println!(
        "{:<28} {:>5} {:>6} {:>6} {:>7} {:>9} {:>9} {:>10} {:>7} {:>8}",
        "scenario",
        "ms",
        "ours",
        "smo",
        "sqlcmd",
        "ours ms",
        "smo ms",
        "sqlcmd ms",
        "smo/x",
        "sqlcmd/x"
    );
    for latency_ms in [0, 10] {
        instance.set_faults(FaultPlan {
            latency_ms,
            ..FaultPlan::default()
        });
        for (scenario, count, converged) in [
            ("one server from scratch", 1, false),
            ("one server, converged", 1, true),
            ("20 servers from scratch", 20, false),
        ] {
            let rounds = if count > 1 && latency_ms > 0 { 3 } else { 7 };
            let names = names(count);
            let json = desired(&names);
            if converged {
                client.ensure(&json, exact).expect("setup");
            }
            let reset = || {
                if !converged {
                    cleanup(&names);
                }
            };
            let ours = median(&instance, rounds, &reset, || {
                client.ensure(&json, exact).expect("ensure");
            });
            let smo = median(&instance, rounds, &reset, || {
                runtime.block_on(async {
                    for name in &names {
                        smo_style(&mut baseline, name).await;
                    }
                })
            });
            let sqlcmd = median(&instance, rounds, &reset, || {
                for name in &names {
                    sqlcmd_style(runtime, &standin, name);
                }
            });
            cleanup(&names);
            let ms = |cost: &Cost| cost.time.as_secs_f64() * 1e3;
            println!(
                "{scenario:<28} {latency_ms:>5} {:>6.0} {:>6.0} {:>7.0} {:>9.1} {:>9.1} {:>10.1} {:>6.1}x {:>7.1}x",
                ours.requests,
                smo.requests,
                sqlcmd.requests,
                ms(&ours),
                ms(&smo),
                ms(&sqlcmd),
                ms(&smo) / ms(&ours),
                ms(&sqlcmd) / ms(&ours),
            );
        }
    }
    println!(
        "smo: one procedure per request on one connection, each server's state read first \
         (sys.servers, sys.linked_logins); sqlcmd: the same statements, each on a new \
         connection (TLS login included). Ratios are baseline time / ours."
    );
}

/// The issue's fully specified server, as `ensure` takes it.
fn full_server(name: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name, "product": "SQL Server",
        "options": {"rpc": true, "rpc out": true, "query timeout": 30},
        "logins": [
            {"local_login": "BizTalkJob", "uses_self_credential": true},
            {"local_login": "app", "uses_self_credential": false, "remote_user": "remote",
             "remote_password": "Rem0te!Pw"}
        ]
    })
}

/// Runs `operation` `rounds` times, `reset` (not timed) before each; the median time and the
/// requests per round.
fn median(
    instance: &Arc<Instance>,
    rounds: usize,
    reset: &dyn Fn(),
    mut operation: impl FnMut(),
) -> Cost {
    let mut times = Vec::with_capacity(rounds);
    let mut requests = 0;
    for _ in 0..rounds {
        reset();
        let before = requests_seen(instance);
        let started = Instant::now();
        operation();
        times.push(started.elapsed());
        requests += requests_seen(instance) - before;
    }
    times.sort();
    Cost {
        time: times[rounds / 2],
        requests: requests as f64 / rounds as f64,
    }
}

/// A procedure and its arguments after the server's name (`None`: NULL).
type Statement = (&'static str, Vec<(&'static str, Option<&'static str>)>);

/// The statements that bring a server to the full state, one per request; what exists is read
/// first, as SMO does, and only what differs is written.
fn full_server_statements(exists: bool) -> Vec<Statement> {
    if exists {
        return Vec::new();
    }
    let option = |name, value| {
        (
            "sp_serveroption",
            vec![("@optname", Some(name)), ("@optvalue", Some(value))],
        )
    };
    vec![
        (
            "sp_addlinkedserver",
            vec![("@srvproduct", Some("SQL Server"))],
        ),
        option("rpc", "true"),
        option("rpc out", "true"),
        option("query timeout", "30"),
        ("sp_droplinkedsrvlogin", vec![("@locallogin", None)]),
        (
            "sp_addlinkedsrvlogin",
            vec![
                ("@useself", Some("TRUE")),
                ("@locallogin", Some("BizTalkJob")),
            ],
        ),
        (
            "sp_addlinkedsrvlogin",
            vec![
                ("@useself", Some("FALSE")),
                ("@locallogin", Some("app")),
                ("@rmtuser", Some("remote")),
                ("@rmtpassword", Some("Rem0te!Pw")),
            ],
        ),
    ]
}

/// One statement of the baseline: the procedure with the server's name first.
async fn baseline_statement(connection: &mut Baseline, name: &str, statement: &Statement) {
    let (procedure, arguments) = statement;
    let server_parameter = if *procedure == "sp_addlinkedserver" || *procedure == "sp_serveroption"
    {
        "@server"
    } else {
        "@rmtsrvname"
    };
    let mut parameters = vec![(server_parameter, Some(name))];
    parameters.extend(arguments.iter().copied());
    call_procedure(connection, procedure, &parameters).await;
}

async fn smo_style(connection: &mut Baseline, name: &str) {
    let exists = baseline_get(connection, name).await.is_some();
    for statement in full_server_statements(exists) {
        baseline_statement(connection, name, &statement).await;
    }
}

/// The same statements, each on its own connection.
fn sqlcmd_style(runtime: &Runtime, standin: &StandIn, name: &str) {
    let mut connection = baseline_connection(runtime, standin);
    let exists = runtime
        .block_on(baseline_get(&mut connection, name))
        .is_some();
    drop(connection);
    for statement in full_server_statements(exists) {
        let mut connection = baseline_connection(runtime, standin);
        runtime.block_on(baseline_statement(&mut connection, name, &statement));
    }
}

/// Prints one table: get, list and the whole cycle, ours next to the baseline.
fn compare(
    instance: &Arc<Instance>,
    client: &Client,
    spec: &LinkedServerSpec,
    runtime: &Runtime,
    baseline: &mut Baseline,
) {
    println!(
        "{:<34} {:>8} {:>10} {:>8} {:>10} {:>12} {:>8}",
        "operation", "requests", "baseline", "ratio", "ours µs", "baseline µs", "ratio"
    );
    let ours = measure(instance, || {
        client.get("LS07").expect("get");
    });
    let base = measure(instance, || {
        runtime
            .block_on(baseline_get(baseline, "LS07"))
            .expect("server exists");
    });
    print_row("get (one server)", &ours, &base);

    let ours = measure(instance, || {
        assert_eq!(client.list().expect("list").len(), SERVERS);
    });
    let base = measure(instance, || {
        assert_eq!(runtime.block_on(baseline_list(baseline)), 2 * SERVERS);
    });
    print_row(&format!("list ({SERVERS} servers)"), &ours, &base);

    let ours = measure(instance, || {
        client.create("CYCLE", spec).expect("create");
        client
            .map_login("CYCLE", Some("sa"), remote_login())
            .expect("map");
        client
            .set_rpc("CYCLE", Some(true), Some(true))
            .expect("rpc");
        client.get("CYCLE").expect("get");
        client.drop_server("CYCLE", true).expect("drop");
    });
    let base = measure(instance, || {
        runtime.block_on(baseline_cycle(baseline, "CYCLE"));
    });
    print_row("create→map→rpc→get→drop", &ours, &base);
}
