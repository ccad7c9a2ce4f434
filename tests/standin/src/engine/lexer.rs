//! T-SQL tokenizer: identifiers (plain, `[...]`, `"..."`), variables, string and number
//! literals, symbols; comments (`--`, nested `/* */`) are skipped.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An undelimited identifier or keyword.
    Word(String),
    /// A delimited identifier: `[a]]b]` → `a]b`.
    Quoted(String),
    /// `@name` or `@@name`, including the at signs.
    Var(String),
    /// `N'...'` with `''` unescaped.
    NStr(String),
    /// `'...'` with `''` unescaped.
    Str(String),
    Number(String),
    Sym(&'static str),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub line: i32,
    /// The text as written, for "Incorrect syntax near" messages.
    pub text: String,
}

impl Token {
    /// True for the undelimited keyword `kw` (case-insensitive).
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
    pub fn is_sym(&self, sym: &str) -> bool {
        matches!(&self.tok, Tok::Sym(s) if *s == sym)
    }
}

/// Where tokenizing stopped, as SQL Server reports it: 105 (unclosed quote or bracket, with the
/// text after the opening mark), 113 (unclosed comment) or 102 (a stray character).
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub number: i32,
    pub near: String,
    pub line: i32,
}

const SYMBOLS: [&str; 16] = [
    "<>", "!=", "<=", ">=", "(", ")", ",", ";", ".", "=", "<", ">", "+", "-", "*", "/",
];

pub fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let start_line = line;
        if c == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            loop {
                if i >= chars.len() {
                    return Err(LexError {
                        number: 113,
                        near: String::new(),
                        line: start_line,
                    });
                }
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
            continue;
        }
        let tok = if (c == 'N' || c == 'n') && chars.get(i + 1) == Some(&'\'') {
            i += 1;
            Tok::NStr(
                read_delimited(&chars, &mut i, '\'', &mut line)
                    .ok_or_else(|| unclosed(&chars, start + 2, start_line))?,
            )
        } else if c == '\'' {
            Tok::Str(
                read_delimited(&chars, &mut i, '\'', &mut line)
                    .ok_or_else(|| unclosed(&chars, start + 1, start_line))?,
            )
        } else if c == '[' || c == '"' {
            let close = if c == '[' { ']' } else { '"' };
            Tok::Quoted(
                read_delimited(&chars, &mut i, close, &mut line)
                    .ok_or_else(|| unclosed(&chars, start + 1, start_line))?,
            )
        } else if c == '@' {
            i += 1;
            if chars.get(i) == Some(&'@') {
                i += 1;
            }
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            Tok::Var(chars[start..i].iter().collect())
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            Tok::Number(chars[start..i].iter().collect())
        } else if is_word_start(c) {
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            Tok::Word(chars[start..i].iter().collect())
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            match SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
                Some(sym) => {
                    i += sym.chars().count();
                    Tok::Sym(sym)
                }
                None => {
                    return Err(LexError {
                        number: 102,
                        near: c.to_string(),
                        line,
                    });
                }
            }
        };
        tokens.push(Token {
            tok,
            line: start_line,
            text: chars[start..i].iter().collect(),
        });
    }
    tokens.push(Token {
        tok: Tok::End,
        line,
        text: String::new(),
    });
    Ok(tokens)
}

fn unclosed(chars: &[char], text_start: usize, line: i32) -> LexError {
    LexError {
        number: 105,
        near: chars[text_start.min(chars.len())..].iter().collect(),
        line,
    }
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '#'
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '#' || c == '$' || c == '@'
}

/// Reads a delimited run starting at the opening mark `chars[*i]`; a doubled closing mark stands
/// for itself. `None` when the closing mark is missing.
fn read_delimited(chars: &[char], i: &mut usize, close: char, line: &mut i32) -> Option<String> {
    let mut out = String::new();
    *i += 1;
    while *i < chars.len() {
        let c = chars[*i];
        if c == close {
            if chars.get(*i + 1) == Some(&close) {
                out.push(close);
                *i += 2;
                continue;
            }
            *i += 1;
            return Some(out);
        }
        if c == '\n' {
            *line += 1;
        }
        out.push(c);
        *i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        tokenize(text).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn strings_identifiers_and_comments() {
        assert_eq!(
            toks("EXEC [a]]b].x N'O''Brien' -- c\n/* a /* nested */ */ 'v' @p @@SPID 12"),
            vec![
                Tok::Word("EXEC".into()),
                Tok::Quoted("a]b".into()),
                Tok::Sym("."),
                Tok::Word("x".into()),
                Tok::NStr("O'Brien".into()),
                Tok::Str("v".into()),
                Tok::Var("@p".into()),
                Tok::Var("@@SPID".into()),
                Tok::Number("12".into()),
                Tok::End
            ]
        );
    }

    #[test]
    fn unclosed_quote_is_an_error() {
        let err = tokenize("select N'abc").unwrap_err();
        assert_eq!((err.number, err.near.as_str()), (105, "abc"));
        assert_eq!(tokenize("select 1 /* open").unwrap_err().number, 113);
        assert_eq!(tokenize("select 1 ?").unwrap_err().number, 102);
    }

    #[test]
    fn lines_are_counted() {
        let tokens = tokenize("select 1\n\nselect 2").unwrap();
        assert_eq!(tokens[2].line, 3);
    }
}
