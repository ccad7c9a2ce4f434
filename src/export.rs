//! `export`: a T-SQL script that re-creates linked servers as the catalog has them. Pure.
//!
//! The script is one batch a DBA can read and run anywhere: each statement is guarded by a
//! check of the catalog, so running it again changes nothing, and run against an instance
//! without the servers it reproduces them with their options and login mappings. Passwords are
//! never written (SQL Server cannot reveal them anyway) and neither are provider strings (they
//! may hold one): each is a variable declared at the top, NULL until filled in. No name appears
//! in a comment, where a line break in it could end the comment.

use std::fmt::Write;

use crate::batch::{exec_statement, literal, Literals};
use crate::converge::{current_value, value_after_create, Call, MappingTarget};
use crate::plan::{is_sql_server_product, NewLinkedServer, SQL_SERVER_PRODUCT};
use crate::spec::{LinkedServer, OptionValue, ServerOption};

/// The `sys.servers` column an option drives.
fn column(option: ServerOption) -> Option<&'static str> {
    Some(match option {
        ServerOption::CollationCompatible => "is_collation_compatible",
        ServerOption::CollationName => "collation_name",
        ServerOption::ConnectTimeout => "connect_timeout",
        ServerOption::DataAccess => "is_data_access_enabled",
        ServerOption::Dist => "is_distributor",
        ServerOption::LazySchemaValidation => "lazy_schema_validation",
        ServerOption::Pub => "is_publisher",
        ServerOption::QueryTimeout => "query_timeout",
        ServerOption::RemoteProcTransactionPromotion => {
            "is_remote_proc_transaction_promotion_enabled"
        }
        ServerOption::Rpc => "is_remote_login_enabled",
        ServerOption::RpcOut => "is_rpc_out_enabled",
        ServerOption::Sub => "is_subscriber",
        ServerOption::System => "is_system",
        ServerOption::UseRemoteCollation => "uses_remote_collation",
        ServerOption::Name | ServerOption::ProviderString => return None,
    })
}

/// `column = value` (or `IS NULL`) for the option's current value.
fn holds(column: &str, value: &OptionValue) -> String {
    match value {
        OptionValue::Flag(flag) => format!("{column} = {}", u8::from(*flag)),
        OptionValue::Seconds(seconds) => format!("{column} = {seconds}"),
        OptionValue::Text(Some(text)) => format!("{column} = {}", literal(text)),
        OptionValue::Text(None) => format!("{column} IS NULL"),
    }
}

/// The definition as `sp_addlinkedserver` takes it: a SQL Server link by its product alone.
fn definition(server: &LinkedServer) -> NewLinkedServer {
    if is_sql_server_product(&server.product) {
        return NewLinkedServer {
            name: server.name.clone(),
            product: SQL_SERVER_PRODUCT.into(),
            provider: None,
            data_source: None,
            location: None,
            provider_string: None,
            catalog: None,
        };
    }
    NewLinkedServer {
        name: server.name.clone(),
        product: server.product.clone(),
        provider: Some(server.provider.clone()),
        data_source: server.data_source.clone(),
        location: server.location.clone(),
        provider_string: server.provider_string.clone(),
        catalog: server.catalog.clone(),
    }
}

const MAPPING_ROWS: &str = "SELECT 1 FROM sys.linked_logins AS ll \
    INNER JOIN sys.servers AS s ON s.server_id = ll.server_id \
    LEFT JOIN sys.server_principals AS p ON p.principal_id = ll.local_principal_id WHERE s.name = ";

/// The script for `servers` (in the given order).
pub fn script(servers: &[LinkedServer]) -> String {
    let mut literals = Literals::default();
    let mut body = String::new();
    for (index, server) in servers.iter().enumerate() {
        let name = literal(&server.name);
        let _ = writeln!(
            body,
            "\n-- Linked server {} of {}",
            index + 1,
            servers.len()
        );
        let _ = writeln!(
            body,
            "IF NOT EXISTS (SELECT 1 FROM sys.servers WHERE server_id <> 0 AND name = {name})\n    \
             {};",
            exec_statement(&Call::AddServer(definition(server)), &mut literals)
        );
        for option in ServerOption::ALL {
            let Some(column) = column(option) else {
                continue;
            };
            let value = current_value(server, option);
            let is_default = value_after_create(option).as_ref() == Some(&value);
            if is_default && option != ServerOption::Rpc && option != ServerOption::RpcOut {
                continue;
            }
            let set = Call::SetOption {
                server: server.name.clone(),
                option,
                value: value.to_parameter(),
            };
            let _ = writeln!(
                body,
                "IF NOT EXISTS (SELECT 1 FROM sys.servers WHERE server_id <> 0 AND name = {name} \
                 AND {})\n    {};",
                holds(column, &value),
                exec_statement(&set, &mut literals)
            );
        }
        if !server.logins.iter().any(|m| m.local_login.is_none()) {
            let drop = Call::DropLogin {
                server: server.name.clone(),
                local_login: None,
            };
            let _ = writeln!(
                body,
                "IF EXISTS ({MAPPING_ROWS}{name} AND ll.local_principal_id = 0)\n    {};",
                exec_statement(&drop, &mut literals)
            );
        }
        for mapping in &server.logins {
            let principal = mapping.local_login.as_ref().map_or_else(
                || "ll.local_principal_id = 0".to_string(),
                |login| format!("p.name = {}", literal(login)),
            );
            let remote = mapping.remote_user.as_ref().map_or_else(
                || "ll.remote_name IS NULL".to_string(),
                |user| format!("ll.remote_name = {}", literal(user)),
            );
            let target = MappingTarget {
                uses_self_credential: mapping.uses_self_credential,
                remote_user: mapping.remote_user.clone(),
                // Stands for the password the catalog holds, which nobody can read: the script
                // gets a variable to fill in instead.
                password: mapping
                    .remote_user
                    .as_ref()
                    .filter(|_| !mapping.uses_self_credential)
                    .map(|_| zeroize::Zeroizing::new(String::new())),
            };
            let add = Call::AddLogin {
                server: server.name.clone(),
                local_login: mapping.local_login.clone(),
                target,
            };
            let _ = writeln!(
                body,
                "IF NOT EXISTS ({MAPPING_ROWS}{name} AND {principal} AND \
                 ll.uses_self_credential = {} AND {remote})\n    {};",
                u8::from(mapping.uses_self_credential),
                exec_statement(&add, &mut literals)
            );
        }
    }
    format!(
        "-- Linked servers exported by linkedsrv {}. Running this script again changes nothing;\n\
         -- on another instance it creates the servers with their options and login mappings.\n\
         -- Passwords and provider strings are never exported: fill in the variables below\n\
         -- (left NULL, a mapping gets no password and a server no provider string).\n\
         SET NOCOUNT ON;\n{}{body}",
        env!("CARGO_PKG_VERSION"),
        literals.header()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::LoginMapping;

    fn server() -> LinkedServer {
        LinkedServer {
            server_id: 5,
            query_timeout: 600,
            rpc_out: false,
            logins: vec![LoginMapping {
                local_login: Some("app".into()),
                uses_self_credential: false,
                remote_user: Some("remote".into()),
            }],
            ..LinkedServer::created("Q'uote")
        }
    }

    #[test]
    fn every_statement_is_guarded_and_values_are_quoted() {
        let script = script(&[server()]);
        assert!(script.contains(
            "IF NOT EXISTS (SELECT 1 FROM sys.servers WHERE server_id <> 0 AND name = N'Q''uote')\n    \
             EXEC master.sys.sp_addlinkedserver @server = N'Q''uote', @srvproduct = N'SQL Server';"
        ), "{script}");
        assert!(script.contains("AND query_timeout = 600)\n    EXEC master.sys.sp_serveroption @server = N'Q''uote', @optname = N'query timeout', @optvalue = N'600';"));
        assert!(script.contains("AND is_rpc_out_enabled = 0)"));
        assert!(!script.contains("connect_timeout"), "defaults are left out");
        assert!(script.contains("AND ll.local_principal_id = 0)\n    EXEC master.sys.sp_droplinkedsrvlogin @rmtsrvname = N'Q''uote', @locallogin = NULL;"));
        assert!(script.contains("@rmtuser = N'remote', @rmtpassword = @rmtpassword_1;"));
        assert!(script.contains("DECLARE @rmtpassword_1 nvarchar(128) = NULL; -- FILL IN"));
        let statements = script.matches("EXEC ").count();
        let guards = script.matches("IF NOT EXISTS").count() + script.matches("IF EXISTS").count();
        assert_eq!(statements, guards);
    }

    #[test]
    fn provider_strings_are_variables_too() {
        let mut alias = server();
        alias.product = String::new();
        alias.provider = "MSOLEDBSQL".into();
        alias.data_source = Some("host\\inst".into());
        alias.provider_string = Some("Pwd=s3cret".into());
        let script = script(&[alias]);
        assert!(!script.contains("s3cret"), "{script}");
        assert!(script.contains(
            "@provider = N'MSOLEDBSQL', @datasrc = N'host\\inst', @provstr = @provstr_1"
        ));
    }
}
