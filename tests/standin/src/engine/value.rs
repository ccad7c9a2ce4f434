//! Typed values, implicit conversions and name comparison under the instance collation.

use chrono::NaiveDateTime;

use crate::types::{SqlType, SqlValue};

/// `sysname`: `nvarchar(128)`.
pub const SYSNAME: SqlType = SqlType::NVarChar(Some(128));
pub const NVARCHAR_4000: SqlType = SqlType::NVarChar(Some(4000));

/// A value together with its SQL type, as expressions and parameters carry them.
#[derive(Debug, Clone, PartialEq)]
pub struct Typed {
    pub value: SqlValue,
    pub ty: SqlType,
}

impl Typed {
    pub fn new(value: SqlValue, ty: SqlType) -> Self {
        Typed { value, ty }
    }
    pub fn null() -> Self {
        Typed::new(SqlValue::Null, SqlType::Int)
    }
    pub fn nvarchar(text: &str) -> Self {
        let len = utf16_len(text).clamp(1, 4000) as u16;
        Typed::new(
            SqlValue::String(text.to_string()),
            SqlType::NVarChar(Some(len)),
        )
    }
    pub fn sysname(text: Option<&str>) -> Self {
        Typed::new(
            text.map_or(SqlValue::Null, |t| SqlValue::String(t.to_string())),
            SYSNAME,
        )
    }
    pub fn int(value: i64) -> Self {
        Typed::new(SqlValue::Int(value), SqlType::Int)
    }
    pub fn bit(value: bool) -> Self {
        Typed::new(SqlValue::Bit(value), SqlType::Bit)
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, SqlValue::Null)
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            SqlValue::String(s) => Some(s),
            _ => None,
        }
    }
}

/// The type name SQL Server uses in conversion messages.
pub fn type_name(ty: &SqlType) -> &'static str {
    match ty {
        SqlType::Bit => "bit",
        SqlType::TinyInt => "tinyint",
        SqlType::SmallInt => "smallint",
        SqlType::Int => "int",
        SqlType::BigInt => "bigint",
        SqlType::NVarChar(_) => "nvarchar",
        SqlType::VarChar(_) => "varchar",
        SqlType::NText => "ntext",
        SqlType::DateTime => "datetime",
    }
}

pub fn is_string_type(ty: &SqlType) -> bool {
    matches!(
        ty,
        SqlType::NVarChar(_) | SqlType::VarChar(_) | SqlType::NText
    )
}

pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Cuts `text` to at most `max` UTF-16 code units, never splitting a character, as SQL Server
/// silently does when a longer value is assigned to a shorter parameter or variable.
pub fn truncate_utf16(text: &str, max: usize) -> String {
    let mut units = 0;
    let mut end = 0;
    for (index, ch) in text.char_indices() {
        units += ch.len_utf16();
        if units > max {
            break;
        }
        end = index + ch.len_utf8();
    }
    text[..end].to_string()
}

/// Text form of a value when converted to a character type.
pub fn to_text(value: &SqlValue) -> Option<String> {
    match value {
        SqlValue::Null => None,
        SqlValue::Bit(b) => Some(if *b { "1" } else { "0" }.to_string()),
        SqlValue::Int(i) => Some(i.to_string()),
        SqlValue::String(s) => Some(s.clone()),
        SqlValue::DateTime(d) => Some(d.format("%b %e %Y %l:%M%p").to_string()),
    }
}

fn integer_range(ty: &SqlType) -> (i64, i64) {
    match ty {
        SqlType::TinyInt => (0, 255),
        SqlType::SmallInt => (i16::MIN as i64, i16::MAX as i64),
        SqlType::Int => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    }
}

/// Implicit conversion of `from` to `to`. `Err((from, to))` carries the two type names of Msg 8114.
pub fn convert(from: &Typed, to: &SqlType) -> Result<Typed, (String, String)> {
    let fail = || Err((type_name(&from.ty).to_string(), type_name(to).to_string()));
    let value = match (&from.value, to) {
        (SqlValue::Null, _) => SqlValue::Null,
        (_, SqlType::NVarChar(max) | SqlType::VarChar(max)) => {
            let text = to_text(&from.value).unwrap_or_default();
            SqlValue::String(match max {
                Some(n) => truncate_utf16(&text, *n as usize),
                None => text,
            })
        }
        (_, SqlType::NText) => SqlValue::String(to_text(&from.value).unwrap_or_default()),
        (SqlValue::Bit(b), SqlType::Bit) => SqlValue::Bit(*b),
        (SqlValue::Int(i), SqlType::Bit) => SqlValue::Bit(*i != 0),
        (SqlValue::String(s), SqlType::Bit) => {
            let text = s.trim();
            if text.eq_ignore_ascii_case("true") {
                SqlValue::Bit(true)
            } else if text.eq_ignore_ascii_case("false") {
                SqlValue::Bit(false)
            } else {
                match text.parse::<i64>() {
                    Ok(i) => SqlValue::Bit(i != 0),
                    Err(_) => return fail(),
                }
            }
        }
        (
            SqlValue::Bit(b),
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt,
        ) => SqlValue::Int(*b as i64),
        (
            SqlValue::Int(i),
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt,
        ) => {
            let (lo, hi) = integer_range(to);
            if *i < lo || *i > hi {
                return fail();
            }
            SqlValue::Int(*i)
        }
        (
            SqlValue::String(s),
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt,
        ) => {
            let (lo, hi) = integer_range(to);
            match s.trim().parse::<i64>() {
                Ok(i) if i >= lo && i <= hi => SqlValue::Int(i),
                _ => return fail(),
            }
        }
        (SqlValue::DateTime(d), SqlType::DateTime) => SqlValue::DateTime(*d),
        (SqlValue::String(s), SqlType::DateTime) => match parse_datetime(s.trim()) {
            Some(d) => SqlValue::DateTime(d),
            None => return fail(),
        },
        _ => return fail(),
    };
    Ok(Typed::new(value, to.clone()))
}

fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y%m%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| {
        ["%Y-%m-%d", "%Y%m%d"].iter().find_map(|format| {
            chrono::NaiveDate::parse_from_str(text, format)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
    })
}

/// How the instance compares names and character data: a `_CI_` or `_CS_` collation, with
/// trailing spaces ignored either way (ANSI padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collation {
    pub case_sensitive: bool,
}

/// How variable, parameter and column names compare: case-insensitively whatever the instance
/// collation (a stand-in choice; catalog object names follow the instance collation).
pub const NAME_COLLATION: Collation = Collation {
    case_sensitive: false,
};

impl Collation {
    /// The comparison key of `text`: what two equal strings have in common.
    pub fn key(&self, text: &str) -> String {
        let trimmed = text.trim_end_matches(' ');
        if self.case_sensitive {
            trimmed.to_string()
        } else {
            trimmed.to_lowercase()
        }
    }
    /// Compares without building keys: name lookups run for every column of every joined row.
    pub fn eq(&self, a: &str, b: &str) -> bool {
        self.cmp(a, b).is_eq()
    }
    pub fn cmp(&self, a: &str, b: &str) -> std::cmp::Ordering {
        let (a, b) = (a.trim_end_matches(' '), b.trim_end_matches(' '));
        if self.case_sensitive {
            a.cmp(b)
        } else if a.is_ascii() && b.is_ascii() {
            a.bytes()
                .map(|c| c.to_ascii_lowercase())
                .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
        } else {
            a.chars()
                .flat_map(char::to_lowercase)
                .cmp(b.chars().flat_map(char::to_lowercase))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collation_compares_like_its_keys_without_building_them() {
        let ci = Collation {
            case_sensitive: false,
        };
        let cs = Collation {
            case_sensitive: true,
        };
        assert!(ci.eq("Server_ID", "server_id  "));
        assert!(ci.eq("ZÜRICH", "zürich"));
        assert!(!ci.eq("zürich", "zurich"));
        assert!(!cs.eq("Server_ID", "server_id"));
        assert!(cs.eq("X ", "X"));
        for (a, b) in [
            ("a", "B"),
            ("Zürich", "zurich"),
            ("東京", "Tokyo"),
            ("b ", "A"),
        ] {
            assert_eq!(ci.cmp(a, b), ci.key(a).cmp(&ci.key(b)), "{a} vs {b}");
            assert_eq!(cs.cmp(a, b), cs.key(a).cmp(&cs.key(b)), "{a} vs {b}");
        }
    }

    #[test]
    fn truncation_counts_utf16_units_and_keeps_characters_whole() {
        assert_eq!(truncate_utf16("abcdef", 4), "abcd");
        // U+1F600 takes two UTF-16 units: it does not fit in the last single unit.
        assert_eq!(truncate_utf16("ab\u{1F600}", 3), "ab");
        assert_eq!(truncate_utf16("東京", 128), "東京");
    }

    #[test]
    fn string_to_bit_accepts_true_false_and_numbers_only() {
        let to_bit = |s: &str| convert(&Typed::nvarchar(s), &SqlType::Bit);
        assert_eq!(to_bit("TRUE").unwrap().value, SqlValue::Bit(true));
        assert_eq!(to_bit("0").unwrap().value, SqlValue::Bit(false));
        assert_eq!(
            to_bit("x").unwrap_err(),
            ("nvarchar".to_string(), "bit".to_string())
        );
    }

    #[test]
    fn integer_conversion_checks_the_range() {
        assert!(convert(&Typed::int(300), &SqlType::TinyInt).is_err());
        assert_eq!(
            convert(&Typed::nvarchar(" 42 "), &SqlType::Int)
                .unwrap()
                .value,
            SqlValue::Int(42)
        );
    }

    #[test]
    fn collation_ignores_case_and_trailing_spaces() {
        let ci = Collation {
            case_sensitive: false,
        };
        let cs = Collation {
            case_sensitive: true,
        };
        assert!(ci.eq("Zürich ", "zÜRICH"));
        assert!(!cs.eq("X", "x"));
        assert!(cs.eq("X  ", "X"));
        assert!(!ci.eq(" X", "X"));
    }
}
