//! Helpers shared by the engine tests: run T-SQL on a session and look at the reply.
#![allow(dead_code)]

use std::sync::Arc;

use tds_standin::engine::{Instance, Session};
use tds_standin::types::{
    DoneKind, ReplyItem, Request, ResultSet, RpcParam, ServerMessage, SqlType, SqlValue,
};
use tds_standin::{InstanceConfig, ServerRole};

pub const SA_PASSWORD: &str = "Str0ng!Passw0rd";

/// Instance "LOCALSRV" with sa plus one login of each role (password "pw").
pub fn config() -> InstanceConfig {
    InstanceConfig::new("LOCALSRV")
        .with_login("setup", "pw", ServerRole::Setupadmin)
        .with_login("security", "pw", ServerRole::Securityadmin)
        .with_login("plain", "pw", ServerRole::None)
}

pub fn instance() -> Arc<Instance> {
    Instance::new(config()).expect("instance")
}

pub fn sa(instance: &Arc<Instance>) -> Session {
    instance.login("sa", SA_PASSWORD, None).expect("sa login")
}

pub fn login(instance: &Arc<Instance>, name: &str) -> Session {
    instance.login(name, "pw", None).expect("login")
}

pub struct Reply(pub Vec<ReplyItem>);

impl Reply {
    pub fn messages(&self) -> Vec<&ServerMessage> {
        self.0
            .iter()
            .filter_map(|i| {
                if let ReplyItem::Message(m) = i {
                    Some(m)
                } else {
                    None
                }
            })
            .collect()
    }
    pub fn errors(&self) -> Vec<&ServerMessage> {
        self.messages()
            .into_iter()
            .filter(|m| m.is_error())
            .collect()
    }
    pub fn error_numbers(&self) -> Vec<i32> {
        self.errors().iter().map(|m| m.number).collect()
    }
    /// The only error, asserting there is exactly one.
    pub fn error(&self) -> &ServerMessage {
        let errors = self.errors();
        assert_eq!(errors.len(), 1, "expected one error, got {:?}", self.0);
        errors[0]
    }
    pub fn no_errors(&self) -> &Self {
        assert!(
            self.errors().is_empty(),
            "unexpected errors: {:?}",
            self.errors()
        );
        self
    }
    pub fn results(&self) -> Vec<&ResultSet> {
        self.0
            .iter()
            .filter_map(|i| {
                if let ReplyItem::Rows(r) = i {
                    Some(r)
                } else {
                    None
                }
            })
            .collect()
    }
    pub fn result(&self) -> &ResultSet {
        let results = self.results();
        assert_eq!(results.len(), 1, "expected one result set: {:?}", self.0);
        results[0]
    }
    pub fn return_statuses(&self) -> Vec<i32> {
        self.0
            .iter()
            .filter_map(|i| {
                if let ReplyItem::ReturnStatus(s) = i {
                    Some(*s)
                } else {
                    None
                }
            })
            .collect()
    }
    pub fn done_kinds(&self) -> Vec<DoneKind> {
        self.0
            .iter()
            .filter_map(|i| {
                if let ReplyItem::Done(d) = i {
                    Some(d.kind)
                } else {
                    None
                }
            })
            .collect()
    }
    /// The first column of the first row of the only result set.
    pub fn scalar(&self) -> SqlValue {
        self.result().rows[0][0].clone()
    }
}

pub async fn run(session: &mut Session, sql: &str) -> Reply {
    Reply(session.execute(Request::Batch(sql.to_string())).await.items)
}

/// Runs `sql` and returns the number of its one error (asserting there is exactly one).
pub async fn error_number(session: &mut Session, sql: &str) -> i32 {
    run(session, sql).await.error().number
}

/// Runs `EXEC @rc = <call>; SELECT @rc` and returns (reply, return code or None).
pub async fn exec_rc(session: &mut Session, call: &str) -> (Reply, Option<i64>) {
    let reply = run(
        session,
        &format!("DECLARE @rc int; EXEC @rc = {call}; SELECT @rc AS rc"),
    )
    .await;
    let rc = match reply.results().last().map(|r| r.rows[0][0].clone()) {
        Some(SqlValue::Int(n)) => Some(n),
        _ => None,
    };
    (reply, rc)
}

pub fn column<'a>(result: &'a ResultSet, row: usize, name: &str) -> &'a SqlValue {
    let index = result
        .columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &result.rows[row][index]
}

pub fn s(text: &str) -> SqlValue {
    SqlValue::String(text.to_string())
}

/// An nvarchar(max) RPC parameter (`name` empty for a positional one).
pub fn nvarchar_param(name: &str, value: &str) -> RpcParam {
    RpcParam {
        name: name.into(),
        output: false,
        ty: SqlType::NVarChar(None),
        value: SqlValue::String(value.into()),
        untyped: false,
    }
}
