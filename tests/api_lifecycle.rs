//! Every API function against a real stand-in: create, get, list, map/unmap logins, options,
//! test, drop, and the statuses the server's errors map to.

mod api_support;

use api_support::*;
use linkedsrv::spec::{
    LinkedServerSpec, LoginMapping, OptionSetting, RawOptionValue, RemoteCredentials, ServerOption,
};
use linkedsrv::{Client, Status};
use tds_standin::{InstanceConfig, ServerRole};
use zeroize::Zeroizing;

fn remote(user: &str, password: &str) -> RemoteCredentials {
    RemoteCredentials::Remote {
        user: Some(user.to_string()),
        password: Some(Zeroizing::new(password.to_string())),
    }
}

#[test]
fn sql_server_link_has_the_documented_defaults_and_default_mapping() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("BTS01", &sql_server_spec()).unwrap();

    let server = client.get("BTS01").unwrap();
    assert_eq!(server.name, "BTS01");
    assert_eq!(server.product, "SQL Server");
    assert_eq!(server.provider, "SQLNCLI");
    assert_eq!(server.data_source.as_deref(), Some("BTS01"));
    assert!(server.server_id > 0);
    assert!(server.rpc && server.rpc_out && server.data_access);
    assert!(server.modify_date.is_some());
    assert_eq!(
        server.logins,
        vec![LoginMapping {
            local_login: None,
            uses_self_credential: true,
            remote_user: None
        }]
    );
    assert_eq!(client.list().unwrap(), vec![server]);
}

#[test]
fn provider_link_keeps_its_properties_and_applies_options() {
    let standin = start_mgmt();
    let client = connect(&standin);
    let spec = LinkedServerSpec::from_json(
        r#"{"product": "", "provider": "MSOLEDBSQL", "data_source": "sql02\\biztalk",
            "catalog": "BizTalkMgmtDb",
            "options": {"rpc out": true, "query timeout": 45, "lazy schema validation": "on"}}"#,
    )
    .unwrap();
    client.create("BizTalkAlias", &spec).unwrap();

    let server = client.get("BizTalkAlias").unwrap();
    assert_eq!(server.product, "");
    assert_eq!(server.provider, "MSOLEDBSQL");
    assert_eq!(server.data_source.as_deref(), Some("sql02\\biztalk"));
    assert_eq!(server.catalog.as_deref(), Some("BizTalkMgmtDb"));
    assert!(server.rpc_out, "option applied after creation");
    assert!(!server.rpc, "a provider link starts with rpc off");
    assert_eq!(server.query_timeout, 45);
    assert!(server.lazy_schema_validation);
}

#[test]
fn create_refuses_an_existing_name_in_any_case() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("BTS01", &sql_server_spec()).unwrap();
    let error = client.create("bts01", &sql_server_spec()).unwrap_err();
    assert_eq!(error.status, Status::AlreadyExists);
    let message = &error.server_messages[0];
    assert_eq!(message.number, 15028);
    assert_eq!(message.server, "MGMT01");
    assert!(message.message.contains("bts01"), "{message:?}");
    assert_eq!(names(&client), ["BTS01"]);
    // The local row counts as existing too.
    assert_eq!(
        status_of(client.create("MGMT01", &sql_server_spec())),
        Status::AlreadyExists
    );
}

#[test]
fn missing_servers_are_not_found_everywhere() {
    let standin = start_mgmt();
    let client = connect(&standin);
    assert_eq!(status_of(client.get("nope")), Status::NotFound);
    assert_eq!(
        status_of(client.drop_server("nope", false)),
        Status::NotFound
    );
    assert_eq!(
        status_of(client.set_rpc("nope", Some(true), None)),
        Status::NotFound
    );
    assert_eq!(
        status_of(client.set_option("nope", "query timeout", Some("5"))),
        Status::NotFound
    );
    assert_eq!(
        status_of(client.map_login("nope", None, RemoteCredentials::SelfMapping)),
        Status::NotFound
    );
    assert_eq!(
        status_of(client.unmap_login("nope", None)),
        Status::NotFound
    );
    let error = client.test("nope").unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::NotFound, Some(7202))
    );
}

#[test]
fn login_mappings_round_trip_without_passwords() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("BTS01", &sql_server_spec()).unwrap();
    client
        .map_login("BTS01", Some("sa"), remote("bts_reader", "Rem0te;Secret'"))
        .unwrap();
    client
        .map_login("BTS01", None, remote("everyone", "An0ther"))
        .unwrap();

    let server = client.get("BTS01").unwrap();
    assert_eq!(
        server.logins,
        vec![
            LoginMapping {
                local_login: None,
                uses_self_credential: false,
                remote_user: Some("everyone".into())
            },
            LoginMapping {
                local_login: Some("sa".into()),
                uses_self_credential: false,
                remote_user: Some("bts_reader".into())
            },
        ]
    );
    let json = serde_json::to_string(&server).unwrap();
    assert!(
        !json.contains("Rem0te") && !json.contains("An0ther"),
        "{json}"
    );

    // Replacing a mapping keeps one row per login.
    client
        .map_login("BTS01", Some("sa"), RemoteCredentials::SelfMapping)
        .unwrap();
    let sa = client
        .get("BTS01")
        .unwrap()
        .logins
        .into_iter()
        .find(|l| l.local_login.is_some());
    assert_eq!(
        sa,
        Some(LoginMapping {
            local_login: Some("sa".into()),
            uses_self_credential: true,
            remote_user: None
        })
    );

    client.unmap_login("BTS01", Some("sa")).unwrap();
    client.unmap_login("BTS01", None).unwrap();
    assert!(client.get("BTS01").unwrap().logins.is_empty());

    let error = client.map_login(
        "BTS01",
        Some("no_such_login"),
        RemoteCredentials::SelfMapping,
    );
    let error = error.unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::NotFound, Some(15007))
    );
}

#[test]
fn drop_needs_droplogins_when_mappings_exist() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("Plain", &sql_server_spec()).unwrap();
    client.drop_server("Plain", false).unwrap(); // the default mapping alone does not block

    client.create("Mapped", &sql_server_spec()).unwrap();
    client
        .map_login("Mapped", Some("sa"), remote("r", "p"))
        .unwrap();
    let error = client.drop_server("Mapped", false).unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::HasLogins, Some(15190))
    );
    assert_eq!(names(&client), ["Mapped"]);
    client.drop_server("Mapped", true).unwrap();
    assert!(client.list().unwrap().is_empty());
}

#[test]
fn set_rpc_and_set_option_change_only_what_differs() {
    let standin = start_mgmt();
    let client = connect(&standin);
    let spec = LinkedServerSpec::from_json(
        r#"{"product": "", "provider": "MSOLEDBSQL", "data_source": "h"}"#,
    )
    .unwrap();
    client.create("Target", &spec).unwrap();
    let instance = standin.instance();

    client.set_rpc("Target", Some(true), Some(true)).unwrap();
    let server = client.get("Target").unwrap();
    assert!(server.rpc && server.rpc_out);

    // Already set: only the catalog read reaches the server, no sp_serveroption.
    let before = requests_seen(&instance);
    client.set_rpc("Target", Some(true), Some(true)).unwrap();
    assert_eq!(requests_seen(&instance) - before, 1);

    client.set_rpc("Target", None, Some(false)).unwrap();
    let server = client.get("Target").unwrap();
    assert!(server.rpc && !server.rpc_out);

    client
        .set_option("Target", "Query Timeout", Some("30"))
        .unwrap();
    client
        .set_option("Target", "collation name", Some("Latin1_General_CI_AS"))
        .unwrap();
    client
        .set_option("Target", "data access", Some("0"))
        .unwrap();
    let server = client.get("Target").unwrap();
    assert_eq!(server.query_timeout, 30);
    assert_eq!(
        server.collation_name.as_deref(),
        Some("Latin1_General_CI_AS")
    );
    assert!(!server.data_access);

    client.set_option("Target", "collation name", None).unwrap();
    assert_eq!(client.get("Target").unwrap().collation_name, None);

    client
        .set_option("Target", "name", Some("Renamed"))
        .unwrap();
    assert_eq!(names(&client), ["Renamed"]);
}

#[test]
fn get_and_list_read_servers_and_mappings_in_one_request() {
    let standin = start_mgmt();
    let client = connect(&standin);
    for name in ["A", "B", "C"] {
        client.create(name, &sql_server_spec()).unwrap();
        client
            .map_login(name, Some("sa"), remote("r", "p"))
            .unwrap();
    }
    let instance = standin.instance();

    let before = requests_seen(&instance);
    let one = client.get("B").unwrap();
    assert_eq!(requests_seen(&instance) - before, 1, "get is one request");
    assert_eq!(one.logins.len(), 2, "default and sa mappings");

    let before = requests_seen(&instance);
    let all = client.list().unwrap();
    assert_eq!(requests_seen(&instance) - before, 1, "list is one request");
    assert_eq!(
        all.iter().map(|s| s.logins.len()).collect::<Vec<_>>(),
        [2, 2, 2]
    );
    assert_eq!(all[1], one);
}

/// The whitelist and the server agree: every `sp_serveroption` option, set through the API
/// with a value other than the default, is accepted and reads back.
#[test]
fn every_whitelisted_option_is_accepted_by_the_server_and_reads_back() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("Opt", &sql_server_spec()).unwrap();
    let value_for = |option: ServerOption| match option {
        ServerOption::ConnectTimeout | ServerOption::QueryTimeout => "17",
        ServerOption::CollationName => "Latin1_General_CI_AS",
        ServerOption::ProviderString => "Network Library=DBMSSOCN",
        ServerOption::Name => "Opt2",
        ServerOption::Rpc
        | ServerOption::RpcOut
        | ServerOption::DataAccess
        | ServerOption::UseRemoteCollation
        | ServerOption::RemoteProcTransactionPromotion => "off",
        _ => "on",
    };
    let mut name = "Opt".to_string();
    for option in ServerOption::ALL {
        let value = value_for(option);
        client
            .set_option(&name, option.name(), Some(value))
            .unwrap_or_else(|e| panic!("{}: {e}", option.name()));
        if option == ServerOption::Name {
            name = value.to_string();
        }
        let setting = OptionSetting::parse(option.name(), RawOptionValue::Text(value)).unwrap();
        let server = client.get(&name).unwrap();
        assert!(setting.is_current(&server), "{}: {server:?}", option.name());
    }
}

#[test]
fn set_rpc_with_nothing_to_change_sends_nothing() {
    let standin = start_mgmt();
    let client = connect(&standin);
    let before = requests_seen(&standin.instance());
    client.set_rpc("Anything", None, None).unwrap();
    assert_eq!(requests_seen(&standin.instance()), before);
}

#[test]
fn test_reaches_a_peer_and_reports_unreachable_ones() {
    let peer = start(InstanceConfig::new("BTS01"));
    let standin = start(InstanceConfig::new("MGMT01").with_peer("BTS01", peer.addr()));
    let client = connect(&standin);
    client.create("BTS01", &sql_server_spec()).unwrap();
    client
        .map_login("BTS01", None, remote("sa", SA_PASSWORD))
        .unwrap();
    client.test("BTS01").unwrap();

    client.create("NOWHERE", &sql_server_spec()).unwrap();
    let error = client.test("NOWHERE").unwrap_err();
    assert_eq!(error.status, Status::Sql, "{error:?}");
    assert!(!error.server_messages.is_empty(), "{error:?}");
}

#[test]
fn a_remote_login_refused_by_the_linked_server_is_a_sql_error_not_ours() {
    let peer = start(InstanceConfig::new("B"));
    let standin = start(InstanceConfig::new("A").with_peer("B", peer.addr()));
    let client = connect(&standin);
    client.create("B", &sql_server_spec()).unwrap();
    client
        .map_login("B", None, remote("sa", "Wr0ng!Password"))
        .unwrap();

    let error = client.test("B").unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::Sql, Some(18456)),
        "{error:?}"
    );
    // Our own login is fine: the connection was kept.
    assert_eq!(client.get("B").unwrap().name, "B");
    assert_eq!(connections_seen(&standin.instance()), 1);
}

#[test]
fn set_option_sends_one_request() {
    let standin = start_mgmt();
    let client = connect(&standin);
    client.create("BTS01", &sql_server_spec()).unwrap();
    let instance = standin.instance();

    let before = requests_seen(&instance);
    client
        .set_option("BTS01", "query timeout", Some("30"))
        .unwrap();
    assert_eq!(requests_seen(&instance) - before, 1);
    assert_eq!(client.get("BTS01").unwrap().query_timeout, 30);

    // One rpc flag is one setting too; the server's own 15015 reports a missing server.
    let before = requests_seen(&instance);
    client.set_rpc("BTS01", Some(false), None).unwrap();
    assert_eq!(requests_seen(&instance) - before, 1);
    let error = client
        .set_option("NO_SUCH", "rpc", Some("true"))
        .unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::NotFound, Some(15015)),
        "{error:?}"
    );
}

#[test]
fn special_and_unicode_names_round_trip_exactly() {
    let standin = start_mgmt();
    let client = connect(&standin);
    let longest = "😀".repeat(64); // 128 UTF-16 code units
    let names_to_try = [
        "O'Brien",
        "a]b",
        "[X]",
        "semi;colon",
        "dash--comment",
        "/*block*/",
        "x'); DROP TABLE t; --",
        "Zürich",
        "東京",
        "with space",
        longest.as_str(),
    ];
    for name in names_to_try {
        client
            .create(name, &sql_server_spec())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let server = client.get(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(server.name, name);
        client
            .map_login(name, Some("sa"), RemoteCredentials::SelfMapping)
            .unwrap();
        client.set_rpc(name, Some(false), None).unwrap();
    }
    let mut listed = names(&client);
    let mut expected: Vec<String> = names_to_try.iter().map(|n| n.to_string()).collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
    for name in names_to_try {
        client
            .drop_server(name, true)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(client.list().unwrap().is_empty());
}

#[test]
fn a_login_without_the_permission_gets_permission_denied() {
    let standin = start(InstanceConfig::new("MGMT01").with_login(
        "operator",
        "0perator!Pw",
        ServerRole::None,
    ));
    let admin = connect(&standin);
    admin.create("BTS01", &sql_server_spec()).unwrap();
    let operator = Client::connect(&standin.connection_string("operator", "0perator!Pw")).unwrap();

    let error = operator.create("BTS02", &sql_server_spec()).unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::PermissionDenied, Some(15247))
    );
    let error = operator.drop_server("BTS01", true).unwrap_err();
    assert_eq!(
        (error.status, error.sql_number()),
        (Status::PermissionDenied, Some(15247))
    );
    assert_eq!(names(&admin), ["BTS01"]);
}
