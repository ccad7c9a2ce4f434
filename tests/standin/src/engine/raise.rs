//! The messages THROW and RAISERROR raise (reference: tsql-error-handling.md, the THROW and
//! RAISERROR pages): argument checks, severities, states and RAISERROR's printf formatting.

use super::exec::Frame;
use super::parser::{Expr, RaisError, ThrowArgs};
use super::value::{convert, is_string_type, to_text, truncate_utf16, Typed};
use super::Session;
use crate::config::ServerRole;
use crate::types::{ServerMessage, SqlType, SqlValue};

/// What a RAISERROR statement raised.
pub struct Raised {
    pub message: ServerMessage,
    /// Severity 20 or more: the connection ends after the message.
    pub fatal: bool,
    /// WITH SETERROR: @@ERROR takes the message number whatever the severity.
    pub set_error: Option<i32>,
}

impl Session {
    /// `THROW number, message, state`: severity 16; the number must be 50000 or more (else Msg
    /// 35100, state 10, checked first) and the state not negative (else Msg 2756); a state above
    /// 255 keeps its low byte; a NULL variable reads as 0 or the empty message; `%%` is `%`.
    pub(super) fn throw_message(
        &self,
        args: &ThrowArgs,
        frame: &Frame,
        line: i32,
    ) -> Result<ServerMessage, ServerMessage> {
        let number = self.int_argument(frame, &args.number, line)?.unwrap_or(0);
        if number < 50_000 {
            return Err(self.msg_with_state(35100, 10, &[&number.to_string()], "", line));
        }
        let number =
            i32::try_from(number).map_err(|_| self.msg(8115, &["expression", "int"], "", line))?;
        let text = self
            .eval_scalar(frame, &args.message, line)
            .map(|v| to_text(&v.value).unwrap_or_default())?;
        let state = self.int_argument(frame, &args.state, line)?.unwrap_or(0);
        if state < 0 {
            return Err(self.msg(2756, &[&state.to_string()], "", line));
        }
        let text = truncate_utf16(&text, 2048).replace("%%", "%");
        Ok(self.batch_message(number, 16, (state & 0xFF) as u8, text, line))
    }

    /// `RAISERROR (msg_id | msg_str | @v, severity, state [, args]) [WITH LOG, NOWAIT, SETERROR]`.
    /// A string raises 50000 with the arguments substituted printf-style; a number raises that
    /// catalogued message (13000 or more and not 50000, else Msg 2732; unknown: Msg 18054).
    /// Severity below 0 is 0 and above 25 is 25; above 18 needs WITH LOG and sysadmin (else Msg
    /// 2754); 10 reaches the client as 0. A negative state is 1, above 255 its low byte.
    pub(super) fn raiserror_message(
        &self,
        raise: &RaisError,
        frame: &Frame,
        line: i32,
    ) -> Result<Raised, ServerMessage> {
        let first = self.eval_scalar(frame, &raise.message, line)?;
        let severity = self
            .int_argument(frame, &raise.severity, line)?
            .unwrap_or(0)
            .clamp(0, 25);
        let state = match self.int_argument(frame, &raise.state, line)?.unwrap_or(0) {
            s if s < 0 => 1,
            s => s & 0xFF,
        };
        if severity > 18 && !(raise.log && self.role == ServerRole::Sysadmin) {
            return Err(self.msg(2754, &[], "", line));
        }
        let args = raise
            .args
            .iter()
            .map(|a| self.eval_scalar(frame, a, line))
            .collect::<Result<Vec<_>, _>>()?;
        let (number, template) = match &first.value {
            SqlValue::Int(id) if !is_string_type(&first.ty) => {
                let id = *id;
                if !(13_000..=i32::MAX as i64).contains(&id) || id == 50_000 {
                    let (low, high) = ("13000", "2147483647");
                    return Err(self.msg(2732, &[&id.to_string(), low, high], "", line));
                }
                match super::messages::template(id as i32) {
                    Some((_, template)) => (id as i32, template.to_string()),
                    None => {
                        let shown = [id.to_string(), severity.to_string(), state.to_string()];
                        let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
                        return Err(self.msg(18054, &shown, "", line));
                    }
                }
            }
            _ => (50_000, to_text(&first.value).unwrap_or_default()),
        };
        let text = printf(&template, &args)
            .map_err(|param| self.msg(2786, &[&param.to_string()], "", line))?;
        let class = if severity == 10 { 0 } else { severity as u8 };
        let text = truncate_utf16(&text, 2047);
        Ok(Raised {
            message: self.batch_message(number, class, state as u8, text, line),
            fatal: severity >= 20,
            set_error: raise.set_error.then_some(number),
        })
    }

    /// An integer argument: `None` for NULL; a value that does not convert is Msg 8114.
    fn int_argument(
        &self,
        frame: &Frame,
        expr: &Expr,
        line: i32,
    ) -> Result<Option<i64>, ServerMessage> {
        let value = self.eval_scalar(frame, expr, line)?;
        let converted = convert(&value, &SqlType::BigInt)
            .map_err(|(from, to)| self.msg(8114, &[&from, &to], "", line))?;
        Ok(match converted.value {
            SqlValue::Int(n) => Some(n),
            _ => None,
        })
    }
}

/// RAISERROR's printf: `%[-+0 #][width|*][.precision|*][h|l]{d,i,u,o,x,X,s}` and `%%`. Err: the
/// 1-based number of an argument whose type does not fit its specification (Msg 2786).
pub fn printf(template: &str, args: &[Typed]) -> Result<String, usize> {
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::with_capacity(template.len());
    let mut next = 0usize;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let mut flags = String::new();
        while let Some(c) = chars.get(i).filter(|c| "-+0 #".contains(**c)) {
            flags.push(*c);
            i += 1;
        }
        let mut take_number = |i: &mut usize| -> Result<Option<usize>, usize> {
            if chars.get(*i) == Some(&'*') {
                *i += 1;
                next += 1;
                return match args.get(next - 1).map(|a| &a.value) {
                    Some(SqlValue::Int(n)) => Ok(Some((*n).max(0) as usize)),
                    Some(SqlValue::Null) | None => Ok(None),
                    Some(_) => Err(next),
                };
            }
            let digits: String = chars[*i..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            *i += digits.len();
            Ok(digits.parse().ok())
        };
        let width = take_number(&mut i)?;
        let precision = if chars.get(i) == Some(&'.') {
            i += 1;
            Some(take_number(&mut i)?.unwrap_or(0))
        } else {
            None
        };
        while chars.get(i).is_some_and(|c| *c == 'h' || *c == 'l') {
            i += 1;
        }
        let Some(kind) = chars.get(i).copied().filter(|c| "diuoxXs".contains(*c)) else {
            // Not a specification: the text stays as written.
            out.extend(&chars[start..i.min(chars.len())]);
            continue;
        };
        i += 1;
        next += 1;
        let arg = args.get(next - 1);
        let body = match (kind, arg) {
            (_, None) => "(null)".to_string(),
            (_, Some(a)) if a.is_null() => "(null)".to_string(),
            ('s', Some(a)) if is_string_type(&a.ty) => {
                let text = a.as_str().unwrap_or_default();
                match precision {
                    Some(p) => text.chars().take(p).collect(),
                    None => text.to_string(),
                }
            }
            (
                _,
                Some(Typed {
                    value: SqlValue::Int(n),
                    ty,
                }),
            ) if kind != 's' && !is_string_type(ty) => integer(kind, *n, &flags, precision),
            _ => return Err(next),
        };
        let width = width.unwrap_or(0);
        let pad = width.saturating_sub(body.chars().count());
        if flags.contains('-') {
            out.push_str(&body);
            out.extend(std::iter::repeat_n(' ', pad));
        } else if flags.contains('0') && kind != 's' {
            let (sign, digits) = match body.strip_prefix(['-', '+']) {
                Some(rest) => (&body[..1], rest),
                None => ("", body.as_str()),
            };
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', pad));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&body);
        }
    }
    Ok(out)
}

fn integer(kind: char, n: i64, flags: &str, precision: Option<usize>) -> String {
    // Unsigned, octal and hex forms show the 32-bit pattern of a negative int.
    let unsigned = n as i32 as u32;
    let (sign, digits) = match kind {
        'd' | 'i' if n < 0 => ("-", n.unsigned_abs().to_string()),
        'd' | 'i' if flags.contains('+') => ("+", n.to_string()),
        'd' | 'i' if flags.contains(' ') => (" ", n.to_string()),
        'd' | 'i' => ("", n.to_string()),
        'u' => ("", unsigned.to_string()),
        'o' => (
            if flags.contains('#') { "0" } else { "" },
            format!("{unsigned:o}"),
        ),
        'x' => (
            if flags.contains('#') { "0x" } else { "" },
            format!("{unsigned:x}"),
        ),
        _ => (
            if flags.contains('#') { "0X" } else { "" },
            format!("{unsigned:X}"),
        ),
    };
    let zeros = precision.unwrap_or(0).saturating_sub(digits.len());
    format!("{sign}{}{digits}", "0".repeat(zeros))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Typed {
        Typed::nvarchar(text)
    }

    #[test]
    fn printf_substitutes_in_order() {
        assert_eq!(
            printf(
                "%s has %d rows (%5.2s|%-4d|%04d|%x|%%)",
                &[
                    s("t"),
                    Typed::int(3),
                    s("abc"),
                    Typed::int(7),
                    Typed::int(-5),
                    Typed::int(255)
                ]
            ),
            Ok("t has 3 rows (   ab|7   |-005|ff|%)".to_string())
        );
        assert_eq!(
            printf("%s and %d", &[s("only")]),
            Ok("only and (null)".into())
        );
        assert_eq!(printf("%u", &[Typed::int(-1)]), Ok("4294967295".into()));
    }

    #[test]
    fn printf_refuses_a_mismatched_argument() {
        assert_eq!(printf("%d", &[s("x")]), Err(1));
        assert_eq!(printf("%s %s", &[s("x"), Typed::int(1)]), Err(2));
    }
}
