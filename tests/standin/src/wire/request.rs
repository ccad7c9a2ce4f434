//! Decoding client requests: SQL batch (2.2.6.7), RPC (2.2.6.6) and transaction manager
//! requests (2.2.6.9) into `types::Request`.

use super::cursor::{utf16_to_string, Cursor, Truncated};
use crate::types::{
    datetime_from_ticks, ProcRef, Request, RpcCall, RpcParam, ServerMessage, SqlType, SqlValue,
};

/// Why a request could not be decoded; each maps to the error SQL Server reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Truncated(#[from] Truncated),
    #[error("parameter {ordinal} (\"{name}\"): data type {type_id:#04X} is unknown")]
    UnknownType {
        ordinal: usize,
        name: String,
        type_id: u8,
    },
    #[error("transaction manager request type {0} is not supported")]
    UnsupportedTransactionRequest(u16),
}

impl DecodeError {
    /// The ERROR SQL Server sends for a stream it cannot read (Msg 8009 for an unknown
    /// parameter type, Msg 4002 for a malformed stream).
    pub fn to_message(&self, server: &str) -> ServerMessage {
        let (number, text) = match self {
            DecodeError::UnknownType {
                ordinal,
                name,
                type_id,
            } => (
                8009,
                format!(
                    "The incoming tabular data stream (TDS) remote procedure call (RPC) protocol \
                     stream is incorrect. Parameter {ordinal} (\"{name}\"): Data type \
                     0x{type_id:02X} is unknown."
                ),
            ),
            DecodeError::Truncated(_) => (
                4002,
                "The incoming tabular data stream (TDS) protocol stream is incorrect. \
                 The stream ended unexpectedly."
                    .to_string(),
            ),
            DecodeError::UnsupportedTransactionRequest(_) => {
                (8522, format!("Distributed transaction aborted: {self}."))
            }
        };
        ServerMessage {
            number,
            state: 1,
            class: 16,
            text,
            server: server.to_string(),
            procedure: String::new(),
            line: 0,
        }
    }
}

/// Skips ALL_HEADERS (2.2.5.3), which TDS 7.2+ clients put before every batch, RPC and
/// transaction manager request.
fn skip_all_headers(cursor: &mut Cursor) -> Result<(), Truncated> {
    let total = cursor.u32("ALL_HEADERS TotalLength")? as usize;
    if total < 4 {
        return Err(Truncated(format!(
            "ALL_HEADERS TotalLength {total} is too short"
        )));
    }
    cursor.take(total - 4, "ALL_HEADERS")?;
    Ok(())
}

pub fn sql_batch(payload: &[u8]) -> Result<Request, DecodeError> {
    let mut cursor = Cursor::new(payload);
    skip_all_headers(&mut cursor)?;
    let text = cursor.take(cursor.remaining() & !1, "the batch text")?;
    Ok(Request::Batch(utf16_to_string(text)))
}

/// Transaction manager requests become the equivalent T-SQL so the engine keeps one
/// transaction model; others (DTC) are refused.
pub fn transaction_manager(payload: &[u8]) -> Result<Request, DecodeError> {
    const TM_BEGIN_XACT: u16 = 5;
    const TM_COMMIT_XACT: u16 = 7;
    const TM_ROLLBACK_XACT: u16 = 8;
    let mut cursor = Cursor::new(payload);
    skip_all_headers(&mut cursor)?;
    let statement = match cursor.u16("RequestType")? {
        TM_BEGIN_XACT => "BEGIN TRANSACTION",
        TM_COMMIT_XACT => "COMMIT TRANSACTION",
        TM_ROLLBACK_XACT => "ROLLBACK TRANSACTION",
        other => return Err(DecodeError::UnsupportedTransactionRequest(other)),
    };
    Ok(Request::Batch(statement.to_string()))
}

pub fn rpc(payload: &[u8]) -> Result<Request, DecodeError> {
    // 0xFF (TDS 7.2+) or 0x80 separate RPCs batched in one message.
    const BATCH_SEPARATORS: [u8; 2] = [0xFF, 0x80];
    const PROC_ID_SWITCH: u16 = 0xFFFF;
    let mut cursor = Cursor::new(payload);
    skip_all_headers(&mut cursor)?;
    let mut calls = Vec::new();
    loop {
        let name_len = cursor.u16("the procedure name length")?;
        let procedure = if name_len == PROC_ID_SWITCH {
            ProcRef::Id(cursor.u16("ProcID")?)
        } else {
            ProcRef::Name(cursor.utf16(name_len as usize, "the procedure name")?)
        };
        cursor.u16("OptionFlags")?;
        let mut params = Vec::new();
        while let Some(next) = cursor.peek_u8() {
            if BATCH_SEPARATORS.contains(&next) {
                break;
            }
            params.push(param(&mut cursor, params.len() + 1)?);
        }
        calls.push(RpcCall { procedure, params });
        match cursor.peek_u8() {
            None => return Ok(Request::Rpc(calls)),
            Some(_) => {
                cursor.u8("the batch separator")?;
                if cursor.remaining() == 0 {
                    return Ok(Request::Rpc(calls));
                }
            }
        }
    }
}

mod type_id {
    /// NULLTYPE (MS-TDS 2.2.5.4.1): a value-less NULL; tiberius sends every NULL parameter so.
    pub const NULL: u8 = 0x1F;
    pub const INT1: u8 = 0x30;
    pub const BIT: u8 = 0x32;
    pub const INT2: u8 = 0x34;
    pub const INT4: u8 = 0x38;
    pub const SMALLDATETIME: u8 = 0x3A;
    pub const DATETIME: u8 = 0x3D;
    pub const INT8: u8 = 0x7F;
    pub const TEXT: u8 = 0x23;
    pub const INTN: u8 = 0x26;
    pub const NTEXT: u8 = 0x63;
    pub const BITN: u8 = 0x68;
    pub const DATETIMEN: u8 = 0x6F;
    pub const BIGVARCHAR: u8 = 0xA7;
    pub const BIGCHAR: u8 = 0xAF;
    pub const NVARCHAR: u8 = 0xE7;
    pub const NCHAR: u8 = 0xEF;
}

const PARAM_STATUS_BY_REF: u8 = 0x01;
const NULL_U16: u16 = 0xFFFF;
const NULL_U32: u32 = 0xFFFF_FFFF;
const PLP_NULL: u64 = u64::MAX;
const PLP_MAX_LEN: u16 = 0xFFFF;

fn param(cursor: &mut Cursor, ordinal: usize) -> Result<RpcParam, DecodeError> {
    let name_chars = cursor.u8("the parameter name length")? as usize;
    let name = cursor.utf16(name_chars, "the parameter name")?;
    let status = cursor.u8("the parameter status flags")?;
    let type_id = cursor.u8("the parameter TYPE_INFO")?;
    let (ty, value) = match type_id {
        type_id::INTN => {
            let width = cursor.u8("the INTN length")?;
            let ty = int_type(width).ok_or(DecodeError::UnknownType {
                ordinal,
                name: name.clone(),
                type_id,
            })?;
            let len = cursor.u8("the INTN value length")?;
            (
                ty,
                if len == 0 {
                    SqlValue::Null
                } else {
                    int_value(cursor, len)?
                },
            )
        }
        // SQL Server types an untyped NULL as int.
        type_id::NULL => (SqlType::Int, SqlValue::Null),
        type_id::INT1 => (SqlType::TinyInt, int_value(cursor, 1)?),
        type_id::INT2 => (SqlType::SmallInt, int_value(cursor, 2)?),
        type_id::INT4 => (SqlType::Int, int_value(cursor, 4)?),
        type_id::INT8 => (SqlType::BigInt, int_value(cursor, 8)?),
        type_id::BITN => {
            cursor.u8("the BITN length")?;
            let value = match cursor.u8("the BITN value length")? {
                0 => SqlValue::Null,
                len => SqlValue::Bit(cursor.take(len as usize, "a bit")?.iter().any(|b| *b != 0)),
            };
            (SqlType::Bit, value)
        }
        type_id::BIT => (SqlType::Bit, SqlValue::Bit(cursor.u8("a bit")? != 0)),
        type_id::DATETIMEN => {
            cursor.u8("the DATETIMEN length")?;
            let value = match cursor.u8("the DATETIMEN value length")? {
                0 => SqlValue::Null,
                len => datetime_value(cursor, len)?,
            };
            (SqlType::DateTime, value)
        }
        type_id::DATETIME => (SqlType::DateTime, datetime_value(cursor, 8)?),
        type_id::SMALLDATETIME => (SqlType::DateTime, datetime_value(cursor, 4)?),
        type_id::NVARCHAR | type_id::NCHAR => {
            let max = cursor.u16("the NVARCHAR max length")?;
            cursor.take(5, "the collation")?;
            let bytes = sized_or_plp(cursor, max)?;
            let chars = (max != PLP_MAX_LEN).then_some(max / 2);
            (
                SqlType::NVarChar(chars),
                bytes.map_or(SqlValue::Null, |b| SqlValue::String(utf16_to_string(&b))),
            )
        }
        type_id::BIGVARCHAR | type_id::BIGCHAR => {
            let max = cursor.u16("the VARCHAR max length")?;
            cursor.take(5, "the collation")?;
            let bytes = sized_or_plp(cursor, max)?;
            let chars = (max != PLP_MAX_LEN).then_some(max);
            (
                SqlType::VarChar(chars),
                bytes.map_or(SqlValue::Null, |b| SqlValue::String(latin1(&b))),
            )
        }
        type_id::NTEXT | type_id::TEXT => {
            cursor.u32("the text max length")?;
            cursor.take(5, "the collation")?;
            let len = cursor.u32("the text length")?;
            let value = if len == NULL_U32 {
                SqlValue::Null
            } else {
                let bytes = cursor.take(len as usize, "the text value")?;
                SqlValue::String(if type_id == type_id::NTEXT {
                    utf16_to_string(bytes)
                } else {
                    latin1(bytes)
                })
            };
            let ty = if type_id == type_id::NTEXT {
                SqlType::NText
            } else {
                SqlType::VarChar(None)
            };
            (ty, value)
        }
        _ => {
            return Err(DecodeError::UnknownType {
                ordinal,
                name,
                type_id,
            })
        }
    };
    Ok(RpcParam {
        name,
        output: status & PARAM_STATUS_BY_REF != 0,
        untyped: type_id == type_id::NULL,
        ty,
        value,
    })
}

fn int_type(width: u8) -> Option<SqlType> {
    match width {
        1 => Some(SqlType::TinyInt),
        2 => Some(SqlType::SmallInt),
        4 => Some(SqlType::Int),
        8 => Some(SqlType::BigInt),
        _ => None,
    }
}

fn int_value(cursor: &mut Cursor, width: u8) -> Result<SqlValue, DecodeError> {
    let bytes = cursor.take(width as usize, "an integer")?;
    let number = match width {
        1 => i64::from(bytes[0]),
        2 => i64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
        4 => i64::from(i32::from_le_bytes(bytes.try_into().expect("4 bytes"))),
        8 => i64::from_le_bytes(bytes.try_into().expect("8 bytes")),
        _ => return Err(Truncated(format!("an integer of {width} bytes")).into()),
    };
    Ok(SqlValue::Int(number))
}

/// DATETIME (days + 1/300 s ticks) or SMALLDATETIME (days + minutes) since 1900-01-01.
fn datetime_value(cursor: &mut Cursor, len: u8) -> Result<SqlValue, DecodeError> {
    const TICKS_PER_MINUTE: u64 = 300 * 60;
    let (days, ticks) = match len {
        4 => {
            let days = i64::from(cursor.u16("smalldatetime days")?);
            let minutes = u64::from(cursor.u16("smalldatetime minutes")?);
            (days, minutes * TICKS_PER_MINUTE)
        }
        8 => {
            let days = i64::from(cursor.u32("datetime days")? as i32);
            (days, u64::from(cursor.u32("datetime ticks")?))
        }
        _ => return Err(Truncated(format!("a datetime of {len} bytes")).into()),
    };
    datetime_from_ticks(days, ticks)
        .map(SqlValue::DateTime)
        .ok_or_else(|| Truncated("a datetime out of range".into()).into())
}

/// A USHORT-length value, or PLP chunks when the declared max length is 0xFFFF (MAX types).
fn sized_or_plp(cursor: &mut Cursor, max_len: u16) -> Result<Option<Vec<u8>>, DecodeError> {
    if max_len != PLP_MAX_LEN {
        let len = cursor.u16("the value length")?;
        return Ok(if len == NULL_U16 {
            None
        } else {
            Some(cursor.take(len as usize, "the value")?.to_vec())
        });
    }
    if cursor.u64("the PLP total length")? == PLP_NULL {
        return Ok(None);
    }
    let mut data = Vec::new();
    loop {
        let chunk = cursor.u32("a PLP chunk length")? as usize;
        if chunk == 0 {
            return Ok(Some(data));
        }
        data.extend_from_slice(cursor.take(chunk, "a PLP chunk")?);
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const ALL_HEADERS: [u8; 22] = [
        0x16, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    ];

    fn with_headers(body: &[u8]) -> Vec<u8> {
        let mut out = ALL_HEADERS.to_vec();
        out.extend(body);
        out
    }

    fn utf16(text: &str) -> Vec<u8> {
        super::super::cursor::string_to_utf16(text)
    }

    /// MS-TDS 4.6 "SQL Batch Client Request" payload.
    #[test]
    fn batch_matches_the_spec_example() {
        let payload = with_headers(&utf16("\nselect 'foo' as 'bar'\n        "));
        assert_eq!(payload.len(), 0x5C - 8);
        assert_eq!(
            sql_batch(&payload).unwrap(),
            Request::Batch("\nselect 'foo' as 'bar'\n        ".into())
        );
    }

    /// MS-TDS 4.8 "RPC Client Request" payload: procedure foo3, one default INTN(2) NULL.
    #[test]
    fn rpc_matches_the_spec_example() {
        let payload = with_headers(&[
            0x04, 0x00, 0x66, 0x00, 0x6F, 0x00, 0x6F, 0x00, 0x33, 0x00, 0x00, 0x00, 0x00, 0x02,
            0x26, 0x02, 0x00,
        ]);
        assert_eq!(
            rpc(&payload).unwrap(),
            Request::Rpc(vec![RpcCall {
                procedure: ProcRef::Name("foo3".into()),
                params: vec![RpcParam {
                    name: String::new(),
                    output: false,
                    untyped: false,
                    ty: SqlType::SmallInt,
                    value: SqlValue::Null
                }],
            }])
        );
    }

    /// tiberius sends `None` as NULLTYPE 0x1F with no length or data bytes.
    #[test]
    fn rpc_null_type_parameter_is_an_int_null() {
        let mut body = vec![21, 0x00];
        body.extend(utf16("sp_droplinkedsrvlogin"));
        body.extend([0x00, 0x00]);
        body.push(11);
        body.extend(utf16("@locallogin"));
        body.extend([0x00, 0x1F]);
        let Request::Rpc(calls) = rpc(&with_headers(&body)).unwrap() else {
            panic!("not an RPC")
        };
        assert_eq!(
            calls[0].params,
            vec![RpcParam {
                name: "@locallogin".into(),
                output: false,
                untyped: true,
                ty: SqlType::Int,
                value: SqlValue::Null
            }]
        );
    }

    /// The shape tiberius sends for `query("... @P1 ...", &[&"x", &5i32, &true])`.
    #[test]
    fn sp_executesql_with_nvarchar_int_bit_and_plp() {
        let mut body = vec![0xFF, 0xFF, 10, 0, 0, 0];
        let mut nvarchar = |name: &str, value: &str| {
            body.push(name.encode_utf16().count() as u8);
            body.extend(utf16(name));
            body.push(0);
            body.extend([0xE7, 0x40, 0x1F, 0, 0, 0, 0, 0]);
            body.extend((value.len() as u16 * 2).to_le_bytes());
            body.extend(utf16(value));
        };
        nvarchar("stmt", "SELECT @P1");
        nvarchar("params", "@P1 int");
        body.extend([3]);
        body.extend(utf16("@P1"));
        body.extend([0x01, 0x26, 4, 4, 0xFB, 0xFF, 0xFF, 0xFF]); // OUTPUT int -5
        body.extend([0, 0, 0x68, 1, 1, 1]); // bit 1
        body.extend([0, 0, 0xE7, 0xFF, 0xFF, 0, 0, 0, 0, 0]); // nvarchar(max) "ab" in 2 chunks
        body.extend(4u64.to_le_bytes());
        body.extend([2, 0, 0, 0, b'a', 0, 2, 0, 0, 0, b'b', 0, 0, 0, 0, 0]);
        body.extend([0, 0, 0xE7, 0xFF, 0xFF, 0, 0, 0, 0, 0]); // nvarchar(max) NULL
        body.extend(u64::MAX.to_le_bytes());
        let Request::Rpc(calls) = rpc(&with_headers(&body)).unwrap() else {
            panic!("not an RPC")
        };
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].procedure, ProcRef::Id(10));
        let values: Vec<_> = calls[0]
            .params
            .iter()
            .map(|p| (p.ty.clone(), p.value.clone()))
            .collect();
        assert_eq!(
            values,
            vec![
                (
                    SqlType::NVarChar(Some(4000)),
                    SqlValue::String("SELECT @P1".into())
                ),
                (
                    SqlType::NVarChar(Some(4000)),
                    SqlValue::String("@P1 int".into())
                ),
                (SqlType::Int, SqlValue::Int(-5)),
                (SqlType::Bit, SqlValue::Bit(true)),
                (SqlType::NVarChar(None), SqlValue::String("ab".into())),
                (SqlType::NVarChar(None), SqlValue::Null),
            ]
        );
        assert!(calls[0].params[2].output);
        assert_eq!(calls[0].params[2].name, "@P1");
    }

    #[test]
    fn several_rpcs_in_one_message_and_legacy_types() {
        let mut body = Vec::new();
        body.extend([2, 0]);
        body.extend(utf16("p1"));
        body.extend([0, 0]);
        body.extend([0, 0, 0x38, 7, 0, 0, 0]); // INT4 7
        body.push(0xFF);
        body.extend([2, 0]);
        body.extend(utf16("p2"));
        body.extend([0, 0]);
        body.extend([
            0, 0, 0x63, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0, 0, 4, 0, 0, 0, b'h', 0, b'i', 0,
        ]);
        body.extend([0, 0, 0xA7, 10, 0, 0, 0, 0, 0, 0, 2, 0, b'o', b'k']);
        body.extend([0, 0, 0x6F, 8, 8, 1, 0, 0, 0, 44, 1, 0, 0]); // 1900-01-02 00:00:01
        let Request::Rpc(calls) = rpc(&with_headers(&body)).unwrap() else {
            panic!("not an RPC")
        };
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].params[0].value, SqlValue::Int(7));
        assert_eq!(calls[1].procedure, ProcRef::Name("p2".into()));
        assert_eq!(calls[1].params[0].value, SqlValue::String("hi".into()));
        assert_eq!(calls[1].params[1].value, SqlValue::String("ok".into()));
        let expected = NaiveDate::from_ymd_opt(1900, 1, 2)
            .unwrap()
            .and_hms_opt(0, 0, 1)
            .unwrap();
        assert_eq!(calls[1].params[2].value, SqlValue::DateTime(expected));
    }

    #[test]
    fn unknown_types_and_truncation_are_errors() {
        let mut body = vec![0xFF, 0xFF, 10, 0, 0, 0];
        body.extend([0, 0, 0x24, 16]); // GUID: not supported
        let error = rpc(&with_headers(&body)).unwrap_err();
        assert_eq!(
            error,
            DecodeError::UnknownType {
                ordinal: 1,
                name: String::new(),
                type_id: 0x24,
            }
        );
        // Msg 8009 with the catalogue's template "... Parameter %d (\"%.*ls\"): Data type
        // 0x%02X is unknown.", class 16, state 1, no line.
        assert_eq!(
            error.to_message("S"),
            ServerMessage {
                number: 8009,
                state: 1,
                class: 16,
                text:
                    "The incoming tabular data stream (TDS) remote procedure call (RPC) protocol \
                       stream is incorrect. Parameter 1 (\"\"): Data type 0x24 is unknown."
                        .into(),
                server: "S".into(),
                procedure: String::new(),
                line: 0,
            }
        );
        // An NVARCHAR parameter whose TYPE_INFO stops after the first length byte.
        let cut = with_headers(&[0xFF, 0xFF, 10, 0, 0, 0, 0, 0, 0xE7, 0x40]);
        let error = rpc(&cut).unwrap_err();
        assert_eq!(
            error,
            DecodeError::Truncated(Truncated(
                "the stream ended inside the NVARCHAR max length (2 bytes needed, 1 left)".into()
            ))
        );
        let message = error.to_message("S");
        assert_eq!(
            (
                message.number,
                message.class,
                message.state,
                message.text.as_str()
            ),
            (
                4002,
                16,
                1,
                "The incoming tabular data stream (TDS) protocol stream is incorrect. \
                 The stream ended unexpectedly."
            )
        );
        assert_eq!(
            sql_batch(&[0x30, 0, 0, 0]),
            Err(DecodeError::Truncated(Truncated(
                "the stream ended inside ALL_HEADERS (44 bytes needed, 0 left)".into()
            )))
        );
    }

    #[test]
    fn transaction_manager_requests() {
        let begin = with_headers(&[5, 0, 0, 0]);
        assert_eq!(
            transaction_manager(&begin).unwrap(),
            Request::Batch("BEGIN TRANSACTION".into())
        );
        let promote = with_headers(&[0x06, 0]);
        let error = transaction_manager(&promote).unwrap_err();
        assert_eq!(error, DecodeError::UnsupportedTransactionRequest(6));
        let message = error.to_message("S");
        assert_eq!(
            (
                message.number,
                message.class,
                message.state,
                message.text.as_str()
            ),
            (
                8522,
                16,
                1,
                "Distributed transaction aborted: transaction manager request type 6 is not \
                 supported."
            )
        );
    }
}
