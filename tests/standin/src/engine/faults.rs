//! Fault injection: what a request gets instead of its answer when the FaultPlan says so.

use super::messages;
use super::parser::{parse_batch, parse_object_name, parse_param_declarations, Stmt};
use crate::config::FaultPlan;
use crate::types::{
    done_status, AfterReply, Done, DoneKind, ProcRef, Reply, ReplyItem, Request, ServerMessage,
    SqlValue,
};

/// The faulted reply for request number `request_no`, or `None` to run the request normally.
pub fn intercept(
    plan: &FaultPlan,
    request_no: u64,
    request: &Request,
    stamp: impl Fn(ServerMessage) -> ServerMessage,
) -> Option<Reply> {
    let calls = |name: &Option<String>| {
        name.as_deref()
            .is_some_and(|proc| request_calls(request, proc))
    };
    if plan.drop_at_request == Some(request_no) || calls(&plan.drop_at_procedure) {
        return Some(Reply {
            items: Vec::new(),
            after: AfterReply::Disconnect,
        });
    }
    if plan.stall_at_request == Some(request_no) || calls(&plan.stall_at_procedure) {
        return Some(Reply {
            items: Vec::new(),
            after: AfterReply::Stall,
        });
    }
    match plan.fail_request {
        Some((n, number)) if n == request_no => {
            let args: Vec<&str> = Vec::new();
            let msg = stamp(messages::message(number, &args));
            let done = Done {
                kind: DoneKind::Done,
                status: done_status::ERROR,
                cur_cmd: 0,
                row_count: 0,
            };
            Some(Reply {
                items: vec![ReplyItem::Message(msg), ReplyItem::Done(done)],
                after: AfterReply::Continue,
            })
        }
        _ => None,
    }
}

/// Whether the request calls procedure `proc` (last name part, case-insensitive): as an RPC by
/// name, or through EXEC in a batch or in an sp_executesql statement.
fn request_calls(request: &Request, proc: &str) -> bool {
    match request {
        Request::Batch(text) => batch_calls(text, &[], proc),
        Request::Rpc(calls) => calls.iter().any(|call| match &call.procedure {
            ProcRef::Name(name) => {
                let last = parse_object_name(name)
                    .map(|n| n.last().to_string())
                    .unwrap_or_else(|| name.clone());
                last.eq_ignore_ascii_case(proc)
                    || (last.eq_ignore_ascii_case("sp_executesql")
                        && statement_param_calls(call, proc))
            }
            ProcRef::Id(10) => statement_param_calls(call, proc),
            ProcRef::Id(_) => false,
        }),
    }
}

fn statement_param_calls(call: &crate::types::RpcCall, proc: &str) -> bool {
    let text = |index: usize| match call.params.get(index).map(|p| &p.value) {
        Some(SqlValue::String(text)) => Some(text.as_str()),
        _ => None,
    };
    let declared: Vec<String> = text(1)
        .and_then(|d| parse_param_declarations(d).ok())
        .map(|d| d.into_iter().map(|(name, _, _)| name).collect())
        .unwrap_or_default();
    text(0).is_some_and(|statement| batch_calls(statement, &declared, proc))
}

/// True when an EXEC of `proc` appears anywhere in the batch (blocks, IF, TRY and CATCH too).
fn batch_calls(text: &str, declared: &[String], proc: &str) -> bool {
    // A statement whose variables are unknown here is scanned with them replaced by NULL.
    let Ok(statements) = parse_batch(text, declared).or_else(|_| parse_batch(&relaxed(text), &[]))
    else {
        return false;
    };
    let mut calls = false;
    for statement in &statements {
        statement.walk(&mut |stmt| {
            calls |=
                matches!(stmt, Stmt::Exec(exec) if exec.name.last().eq_ignore_ascii_case(proc));
        });
    }
    calls
}

/// The batch with every variable reference replaced by NULL, so it parses without declarations.
fn relaxed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            in_string = !in_string;
        }
        if c == '@'
            && !in_string
            && chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '_')
        {
            while chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '_')
            {
                chars.next();
            }
            out.push_str("NULL");
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{RpcCall, RpcParam, SqlType};

    #[test]
    fn procedure_is_found_in_batches_and_rpcs() {
        assert!(request_calls(
            &Request::Batch("select 1; exec master.dbo.sp_dropserver N'x'".into()),
            "SP_DROPSERVER"
        ));
        assert!(!request_calls(
            &Request::Batch("select 'sp_dropserver'".into()),
            "sp_dropserver"
        ));
        let rpc = Request::Rpc(vec![RpcCall {
            procedure: ProcRef::Id(10),
            params: vec![RpcParam {
                name: "stmt".into(),
                output: false,
                untyped: false,
                ty: SqlType::NVarChar(None),
                value: SqlValue::String("EXEC sp_testlinkedserver @P1".into()),
            }],
        }]);
        assert!(request_calls(&rpc, "sp_testlinkedserver"));
    }

    #[test]
    fn procedure_is_found_inside_try_catch_with_declared_parameters() {
        let statement = "DECLARE @step int = 0; BEGIN TRY IF @step = 0 BEGIN EXEC sp_serveroption @s, N'rpc', N'true' END END TRY BEGIN CATCH EXEC sp_dropserver @s; THROW; END CATCH";
        let rpc = |statement: &str| {
            Request::Rpc(vec![RpcCall {
                procedure: ProcRef::Id(10),
                params: [statement, "@s sysname"]
                    .into_iter()
                    .map(|text| RpcParam {
                        name: String::new(),
                        output: false,
                        ty: SqlType::NVarChar(None),
                        value: SqlValue::String(text.into()),
                        untyped: false,
                    })
                    .collect(),
            }])
        };
        assert!(request_calls(&rpc(statement), "sp_serveroption"));
        assert!(request_calls(&rpc(statement), "sp_dropserver"));
        assert!(!request_calls(&rpc(statement), "sp_addlinkedserver"));
    }
}
