//! A SOQL subset: lexer and parser.
//!
//! `SELECT field, Rel__r.field | COUNT() FROM Object [WHERE condition]
//! [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n] [OFFSET n]`, where a
//! condition combines comparisons (`=`, `!=`, `<>`, `<`, `>`, `<=`, `>=`, `[NOT] IN (…)`,
//! `LIKE`) with `AND`, `OR`, `NOT` and parentheses. As in Salesforce, `AND` and `OR` cannot
//! be mixed at one level without parentheses. Literals: strings in single quotes with
//! Salesforce's escapes (`\' \" \\ \n \r \t \b \f \uXXXX`, and `\% \_` in LIKE patterns),
//! numbers, `true`, `false`, `null`, dates `2026-11-23` and datetimes
//! `2026-11-23T15:51:00Z` / `2026-11-23T15:51:00.000+0000`.
//!
//! Errors carry the character position they are about, rendered the way Salesforce does
//! (`ERROR at Row:1:Column:30`).

use sfdc_types::format;
use sfdc_types::rust_decimal::Decimal;
use sfdc_types::time::{Date, OffsetDateTime};

/// A SOQL error: Salesforce's error code, where in the query, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError {
    /// `MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE` or `INVALID_QUERY_FILTER_OPERATOR`.
    pub code: &'static str,
    /// Character offset in the query.
    pub pos: usize,
    /// What is wrong.
    pub message: String,
}

impl QueryError {
    pub fn new(code: &'static str, pos: usize, message: impl Into<String>) -> Self {
        Self {
            code,
            pos,
            message: message.into(),
        }
    }

    fn malformed(pos: usize, message: impl Into<String>) -> Self {
        Self::new("MALFORMED_QUERY", pos, message)
    }

    /// Salesforce's message: the query line, a caret under the position, the row and
    /// column (1-based), then the description.
    pub fn render(&self, soql: &str) -> String {
        let chars: Vec<char> = soql.chars().collect();
        let pos = self.pos.min(chars.len());
        let line_start = chars[..pos]
            .iter()
            .rposition(|c| *c == '\n')
            .map_or(0, |at| at + 1);
        let line_end = chars[pos..]
            .iter()
            .position(|c| *c == '\n')
            .map_or(chars.len(), |at| pos + at);
        let row = chars[..pos].iter().filter(|c| **c == '\n').count() + 1;
        let column = pos - line_start + 1;
        let line: String = chars[line_start..line_end].iter().collect();
        format!(
            "\n{line}\n{caret:>column$}\nERROR at Row:{row}:Column:{column}\n{}",
            self.message,
            caret = "^"
        )
    }
}

/// One element of a LIKE pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LikePart {
    /// This character (compared without case).
    Char(char),
    /// `_`: any one character.
    One,
    /// `%`: any run of characters.
    Many,
}

/// A literal value in a condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A quoted string, escapes decoded.
    Str(String),
    /// A number.
    Num(Decimal),
    /// A date literal.
    Date(Date),
    /// A datetime literal.
    DateTime(OffsetDateTime),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

/// A name or value with the character position it starts at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Character offset in the query.
    pub pos: usize,
}

/// A WHERE condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    /// Every condition holds.
    And(Vec<Cond>),
    /// Some condition holds.
    Or(Vec<Cond>),
    /// The condition does not hold.
    Not(Box<Cond>),
    /// `field op literal`.
    Compare {
        /// Field path.
        field: Spanned<String>,
        /// Operator.
        op: CmpOp,
        /// Literal compared with.
        value: Spanned<Literal>,
    },
    /// `field [NOT] IN (literals)`.
    In {
        /// Field path.
        field: Spanned<String>,
        /// `NOT IN`.
        negated: bool,
        /// The list.
        values: Vec<Spanned<Literal>>,
    },
    /// `field LIKE 'pattern'`.
    Like {
        /// Field path.
        field: Spanned<String>,
        /// The pattern.
        pattern: Vec<LikePart>,
    },
}

/// What a query selects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Select {
    /// `COUNT()`: only the number of rows.
    Count,
    /// Field paths.
    Fields(Vec<Spanned<String>>),
}

/// One ORDER BY item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OrderItem {
    /// Field path.
    pub field: Spanned<String>,
    /// `DESC`.
    pub descending: bool,
    /// `NULLS FIRST` (true) / `NULLS LAST` (false); by default nulls come first ascending
    /// and last descending.
    pub nulls_first: bool,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    /// SELECT list.
    pub select: Select,
    /// FROM object.
    pub from: Spanned<String>,
    /// WHERE condition.
    pub filter: Option<Cond>,
    /// ORDER BY items.
    pub order: Vec<OrderItem>,
    /// LIMIT.
    pub limit: Option<u64>,
    /// OFFSET.
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String, Vec<LikePart>),
    Num(Decimal),
    Date(Date),
    DateTime(OffsetDateTime),
    Sym(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
    text: String,
}

const KEYWORDS: &[&str] = &[
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT", "OFFSET",
    "NULL", "TRUE", "FALSE", "ASC", "DESC", "NULLS", "FIRST", "LAST", "GROUP", "HAVING",
    "INCLUDES", "EXCLUDES", "WITH", "FOR",
];

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Splits a query into tokens.
fn lex(soql: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = soql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '_'
                    || (chars[i] == '.'
                        && chars
                            .get(i + 1)
                            .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_')))
            {
                i += 1;
            }
            Tok::Word(chars[start..i].iter().collect())
        } else if c == '\'' {
            let (value, pattern, end) = lex_string(&chars, i, soql)?;
            i = end;
            Tok::Str(value, pattern)
        } else if is_date_at(&chars, i) {
            i += 10;
            if chars.get(i).is_some_and(|t| *t == 'T' || *t == 't') {
                while i < chars.len()
                    && (chars[i].is_ascii_digit() || "Tt:.Zz+-".contains(chars[i]))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let datetime = format::parse_datetime(&text).map_err(|_| {
                    QueryError::malformed(start, format!("invalid datetime literal: {text}"))
                })?;
                Tok::DateTime(datetime)
            } else {
                let text: String = chars[start..i].iter().collect();
                let date = format::parse_date(&text).map_err(|_| {
                    QueryError::malformed(start, format!("invalid date literal: {text}"))
                })?;
                Tok::Date(date)
            }
        } else if c.is_ascii_digit()
            || ((c == '-' || c == '+' || c == '.')
                && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            if chars
                .get(i)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_')
            {
                return Err(QueryError::malformed(
                    i,
                    format!("unexpected token: '{}'", word_at(&chars, start)),
                ));
            }
            let number = text.trim_start_matches('+');
            Tok::Num(
                Decimal::from_str_exact(number)
                    .map_err(|_| QueryError::malformed(start, format!("invalid number: {text}")))?,
            )
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                "!=" => Some("!="),
                "<>" => Some("<>"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(sym) = sym {
                i += 2;
                Tok::Sym(sym)
            } else {
                let sym = match c {
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    '=' => "=",
                    '<' => "<",
                    '>' => ">",
                    _ => {
                        return Err(QueryError::malformed(
                            start,
                            format!("no viable alternative at character '{c}'"),
                        ));
                    }
                };
                i += 1;
                Tok::Sym(sym)
            }
        };
        tokens.push(Token {
            tok,
            pos: start,
            text: chars[start..i].iter().collect(),
        });
    }
    tokens.push(Token {
        tok: Tok::Eof,
        pos: chars.len(),
        text: "<EOF>".to_owned(),
    });
    Ok(tokens)
}

/// The word-ish text starting at `start`, for messages.
fn word_at(chars: &[char], start: usize) -> String {
    chars[start..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_' || **c == '.' || **c == '-')
        .collect()
}

/// `YYYY-MM-DD` starts at `i`.
fn is_date_at(chars: &[char], i: usize) -> bool {
    let Some(window) = chars.get(i..i + 10) else {
        return false;
    };
    window.iter().enumerate().all(|(at, c)| match at {
        4 | 7 => *c == '-',
        _ => c.is_ascii_digit(),
    })
}

/// A quoted string starting at `open`: its value, its LIKE pattern, and the position
/// after the closing quote.
fn lex_string(
    chars: &[char],
    open: usize,
    soql: &str,
) -> Result<(String, Vec<LikePart>, usize), QueryError> {
    let mut value = String::new();
    let mut pattern = Vec::new();
    let mut i = open + 1;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(QueryError::malformed(
                chars.len(),
                "unexpected token: <EOF>: the string literal is never closed (missing ')",
            ));
        };
        match c {
            '\'' => return Ok((value, pattern, i + 1)),
            '\\' => {
                let Some(&escaped) = chars.get(i + 1) else {
                    return Err(QueryError::malformed(
                        i,
                        "unexpected token: <EOF>: the string literal ends in a backslash",
                    ));
                };
                let decoded = match escaped {
                    'n' | 'N' => '\n',
                    'r' | 'R' => '\r',
                    't' | 'T' => '\t',
                    'b' | 'B' => '\u{8}',
                    'f' | 'F' => '\u{c}',
                    '"' | '\'' | '\\' | '%' | '_' => escaped,
                    'u' => {
                        let hex: String =
                            chars.get(i + 2..i + 6).unwrap_or_default().iter().collect();
                        let code = (hex.len() == 4)
                            .then(|| u32::from_str_radix(&hex, 16).ok())
                            .flatten()
                            .and_then(char::from_u32);
                        let Some(code) = code else {
                            return Err(QueryError::malformed(
                                i,
                                format!(
                                    "Invalid string literal '{}'. Illegal unicode escape sequence '\\u{hex}' in string literal.",
                                    literal_text(soql, chars, open)
                                ),
                            ));
                        };
                        i += 4;
                        code
                    }
                    other => {
                        return Err(QueryError::malformed(
                            i,
                            format!(
                                "Invalid string literal '{}'. Illegal character sequence '\\{other}' in string literal.",
                                literal_text(soql, chars, open)
                            ),
                        ));
                    }
                };
                value.push(decoded);
                pattern.push(LikePart::Char(decoded));
                i += 2;
            }
            _ => {
                value.push(c);
                pattern.push(match c {
                    '%' => LikePart::Many,
                    '_' => LikePart::One,
                    other => LikePart::Char(other),
                });
                i += 1;
            }
        }
    }
}

/// The raw text of a string literal from its opening quote to its end or the query's.
fn literal_text(_soql: &str, chars: &[char], open: usize) -> String {
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '\'' => break,
            _ => i += 1,
        }
    }
    chars[open + 1..i.min(chars.len())].iter().collect()
}

/// Parses a query.
pub(crate) fn parse(soql: &str) -> Result<Query, QueryError> {
    let tokens = lex(soql)?;
    let mut parser = Parser { tokens, at: 0 };
    parser.query()
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        &self.tokens[(self.at + ahead).min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        self.at += 1;
        token
    }

    fn unexpected(&self) -> QueryError {
        let token = self.peek();
        let shown = if token.tok == Tok::Eof {
            "<EOF>".to_owned()
        } else {
            format!("'{}'", token.text)
        };
        QueryError::malformed(token.pos, format!("unexpected token: {shown}"))
    }

    fn is_kw(&self, keyword: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(word) if word.eq_ignore_ascii_case(keyword))
    }

    fn eat_kw(&mut self, keyword: &str) -> bool {
        let found = self.is_kw(keyword);
        if found {
            self.next();
        }
        found
    }

    fn expect_kw(&mut self, keyword: &str) -> Result<(), QueryError> {
        if self.eat_kw(keyword) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(&self.peek().tok, Tok::Sym(s) if *s == sym)
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), QueryError> {
        if self.is_sym(sym) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// A field path or object name (not a keyword).
    fn name(&mut self) -> Result<Spanned<String>, QueryError> {
        match &self.peek().tok {
            Tok::Word(word) if !is_keyword(word) => {
                let token = self.next();
                Ok(Spanned {
                    value: token.text,
                    pos: token.pos,
                })
            }
            _ => Err(self.unexpected()),
        }
    }

    fn query(&mut self) -> Result<Query, QueryError> {
        self.expect_kw("SELECT")?;
        let select = if self.is_kw("COUNT") && matches!(self.peek_at(1).tok, Tok::Sym("(")) {
            self.next();
            self.next();
            if !self.is_sym(")") {
                return Err(QueryError::malformed(
                    self.peek().pos,
                    "only COUNT() is supported, not COUNT(field)",
                ));
            }
            self.next();
            Select::Count
        } else {
            let mut fields = Vec::new();
            loop {
                if self.is_sym("(") {
                    return Err(QueryError::malformed(
                        self.peek().pos,
                        "child relationship subqueries are not supported",
                    ));
                }
                let field = self.name()?;
                if fields
                    .iter()
                    .any(|seen: &Spanned<String>| seen.value.eq_ignore_ascii_case(&field.value))
                {
                    return Err(QueryError::new(
                        "MALFORMED_QUERY",
                        field.pos,
                        format!("duplicate field selected: {}", field.value),
                    ));
                }
                fields.push(field);
                if self.is_sym(",") {
                    self.next();
                } else {
                    break;
                }
            }
            Select::Fields(fields)
        };
        self.expect_kw("FROM")?;
        let from = self.name()?;
        let filter = if self.eat_kw("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let field = self.name()?;
                let descending = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                let nulls_first = if self.eat_kw("NULLS") {
                    if self.eat_kw("FIRST") {
                        true
                    } else if self.eat_kw("LAST") {
                        false
                    } else {
                        return Err(self.unexpected());
                    }
                } else {
                    !descending
                };
                order.push(OrderItem {
                    field,
                    descending,
                    nulls_first,
                });
                if self.is_sym(",") {
                    self.next();
                } else {
                    break;
                }
            }
        }
        let limit = if self.eat_kw("LIMIT") {
            Some(self.count("LIMIT")?)
        } else {
            None
        };
        let offset = if self.eat_kw("OFFSET") {
            Some(self.count("OFFSET")?)
        } else {
            None
        };
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected());
        }
        if select == Select::Count && !order.is_empty() {
            return Err(QueryError::malformed(
                order[0].field.pos,
                "ORDER BY cannot be used with COUNT()",
            ));
        }
        Ok(Query {
            select,
            from,
            filter,
            order,
            limit,
            offset,
        })
    }

    /// A non-negative whole number after LIMIT or OFFSET.
    fn count(&mut self, clause: &str) -> Result<u64, QueryError> {
        let token = self.next();
        match token.tok {
            Tok::Num(number) if number.fract().is_zero() && !number.is_sign_negative() => {
                u64::try_from(number).map_err(|_| {
                    QueryError::malformed(token.pos, format!("{clause} value is too large"))
                })
            }
            _ => {
                self.at -= 1;
                Err(self.unexpected())
            }
        }
    }

    /// Conditions joined by only AND or only OR.
    fn condition(&mut self) -> Result<Cond, QueryError> {
        let first = self.unary()?;
        let joiner = if self.is_kw("AND") {
            "AND"
        } else if self.is_kw("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let other = if joiner == "AND" { "OR" } else { "AND" };
        let mut items = vec![first];
        while self.eat_kw(joiner) {
            items.push(self.unary()?);
            if self.is_kw(other) {
                return Err(self.unexpected());
            }
        }
        Ok(if joiner == "AND" {
            Cond::And(items)
        } else {
            Cond::Or(items)
        })
    }

    fn unary(&mut self) -> Result<Cond, QueryError> {
        if self.eat_kw("NOT") {
            return Ok(Cond::Not(Box::new(self.unary()?)));
        }
        if self.is_sym("(") {
            self.next();
            let inner = self.condition()?;
            self.expect_sym(")")?;
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Cond, QueryError> {
        let field = self.name()?;
        if let Tok::Sym(sym) = self.peek().tok {
            let op = match sym {
                "=" => CmpOp::Eq,
                "!=" | "<>" => CmpOp::Ne,
                "<" => CmpOp::Lt,
                ">" => CmpOp::Gt,
                "<=" => CmpOp::Le,
                ">=" => CmpOp::Ge,
                _ => return Err(self.unexpected()),
            };
            self.next();
            let value = self.literal()?;
            return Ok(Cond::Compare { field, op, value });
        }
        if self.eat_kw("LIKE") {
            let token = self.next();
            return match token.tok {
                Tok::Str(_, pattern) => Ok(Cond::Like { field, pattern }),
                _ => {
                    self.at -= 1;
                    Err(self.unexpected())
                }
            };
        }
        let negated = self.eat_kw("NOT");
        if self.eat_kw("IN") {
            self.expect_sym("(")?;
            if self.is_kw("SELECT") {
                return Err(QueryError::malformed(
                    self.peek().pos,
                    "semi-join subqueries are not supported",
                ));
            }
            let mut values = vec![self.literal()?];
            while self.is_sym(",") {
                self.next();
                values.push(self.literal()?);
            }
            self.expect_sym(")")?;
            return Ok(Cond::In {
                field,
                negated,
                values,
            });
        }
        Err(self.unexpected())
    }

    fn literal(&mut self) -> Result<Spanned<Literal>, QueryError> {
        let token = self.next();
        let value = match token.tok {
            Tok::Str(value, _) => Literal::Str(value),
            Tok::Num(number) => Literal::Num(number),
            Tok::Date(date) => Literal::Date(date),
            Tok::DateTime(datetime) => Literal::DateTime(datetime),
            Tok::Word(word) if word.eq_ignore_ascii_case("null") => Literal::Null,
            Tok::Word(word) if word.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Word(word) if word.eq_ignore_ascii_case("false") => Literal::Bool(false),
            _ => {
                self.at -= 1;
                return Err(self.unexpected());
            }
        };
        Ok(Spanned {
            value,
            pos: token.pos,
        })
    }
}

/// Whether `text` matches a LIKE pattern, without regard to case.
pub(crate) fn like(pattern: &[LikePart], text: &str) -> bool {
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let pattern: Vec<LikePart> = pattern
        .iter()
        .flat_map(|part| match part {
            LikePart::Char(c) => c.to_lowercase().map(LikePart::Char).collect::<Vec<_>>(),
            other => vec![other.clone()],
        })
        .collect();
    // Classic wildcard matching with backtracking to the last `%`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(LikePart::Char(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            Some(LikePart::One) => {
                p += 1;
                t += 1;
            }
            Some(LikePart::Many) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|part| *part == LikePart::Many)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str_lit(text: &str) -> Literal {
        Literal::Str(text.to_owned())
    }

    fn where_of(soql: &str) -> Cond {
        parse(soql)
            .unwrap_or_else(|e| panic!("{soql}: {}", e.render(soql)))
            .filter
            .unwrap()
    }

    fn compared(cond: &Cond) -> &Literal {
        match cond {
            Cond::Compare { value, .. } => &value.value,
            other => panic!("not a comparison: {other:?}"),
        }
    }

    #[test]
    fn selects_fields_and_count() {
        let query = parse(
            "SELECT Id, Stripe_Customer__r.Stripe_Customer_ID__c FROM Stripe_Invoice__c LIMIT 10 OFFSET 5",
        )
        .unwrap();
        let Select::Fields(fields) = &query.select else {
            panic!("fields expected")
        };
        let names: Vec<&str> = fields.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(names, ["Id", "Stripe_Customer__r.Stripe_Customer_ID__c"]);
        assert_eq!(query.from.value, "Stripe_Invoice__c");
        assert_eq!((query.limit, query.offset), (Some(10), Some(5)));
        assert_eq!(
            parse("select count() from Contact").unwrap().select,
            Select::Count
        );
    }

    #[test]
    fn escapes_stay_inside_the_literal() {
        // (query, the single literal it must contain)
        let table: &[(&str, &str)] = &[
            (
                r"SELECT Id FROM Contact WHERE LastName = 'O\'Brien'",
                "O'Brien",
            ),
            (
                r"SELECT Id FROM Contact WHERE LastName = 'x\' OR LastName != \'y'",
                "x' OR LastName != 'y",
            ),
            (
                r"SELECT Id FROM Contact WHERE LastName = 'back\\slash'",
                r"back\slash",
            ),
            (
                r"SELECT Id FROM Contact WHERE LastName = 'a\nb\rc\td\be\ff'",
                "a\nb\rc\td\u{8}e\u{c}f",
            ),
            (
                r#"SELECT Id FROM Contact WHERE LastName = 'say \"hi\"'"#,
                "say \"hi\"",
            ),
            (
                r"SELECT Id FROM Contact WHERE LastName = '\u00e9t\u00E9'",
                "été",
            ),
            (
                r"SELECT Id FROM Contact WHERE LastName = '-- ; DROP'",
                "-- ; DROP",
            ),
            (r"SELECT Id FROM Contact WHERE LastName = '\\'", "\\"),
            (
                "SELECT Id FROM Contact WHERE LastName = 'multi\nline'",
                "multi\nline",
            ),
        ];
        for (soql, expected) in table {
            let cond = where_of(soql);
            assert_eq!(compared(&cond), &str_lit(expected), "{soql}");
        }
    }

    #[test]
    fn break_out_attempts_fail_to_parse() {
        // An unescaped quote ends the literal: what follows is not valid SOQL, so the query
        // is rejected rather than reinterpreted.
        for soql in [
            r"SELECT Id FROM Contact WHERE LastName = 'x' OR 'y' = 'y'",
            r"SELECT Id FROM Contact WHERE LastName = 'x\\' OR LastName = 'y'x'",
            r"SELECT Id FROM Contact WHERE LastName = 'unterminated",
            r"SELECT Id FROM Contact WHERE LastName = 'bad \q escape'",
            r"SELECT Id FROM Contact WHERE LastName = 'trailing\",
            r"SELECT Id FROM Contact WHERE LastName = '\u12'",
            r#"SELECT Id FROM Contact WHERE LastName = "double""#,
        ] {
            let error = parse(soql).unwrap_err();
            assert_eq!(error.code, "MALFORMED_QUERY", "{soql}");
        }
    }

    #[test]
    fn like_patterns_and_escaped_wildcards() {
        let Cond::Like { pattern, .. } =
            where_of(r"SELECT Id FROM Contact WHERE Email LIKE '100\%\_%'")
        else {
            panic!("LIKE expected")
        };
        assert!(like(&pattern, "100%_ off"));
        assert!(!like(&pattern, "1000 off"));
        let Cond::Like { pattern, .. } = where_of("SELECT Id FROM Contact WHERE Email LIKE 'a_c%'")
        else {
            panic!("LIKE expected")
        };
        assert!(like(&pattern, "ABC"));
        assert!(like(&pattern, "abcdef"));
        assert!(!like(&pattern, "ac"));
    }

    #[test]
    fn literals_of_every_kind() {
        let cases: &[(&str, Literal)] = &[
            ("X__c = 12.50", Literal::Num("12.50".parse().unwrap())),
            ("X__c = -3", Literal::Num("-3".parse().unwrap())),
            ("X__c = TRUE", Literal::Bool(true)),
            ("X__c = null", Literal::Null),
            (
                "X__c = 2026-11-23",
                Literal::Date(format::parse_date("2026-11-23").unwrap()),
            ),
            (
                "X__c > 2026-11-23T15:51:00Z",
                Literal::DateTime(format::parse_datetime("2026-11-23T15:51:00Z").unwrap()),
            ),
            (
                "X__c > 2026-11-23T15:51:00.000+0000",
                Literal::DateTime(format::parse_datetime("2026-11-23T15:51:00Z").unwrap()),
            ),
        ];
        for (condition, expected) in cases {
            let soql = format!("SELECT Id FROM Contact WHERE {condition}");
            assert_eq!(compared(&where_of(&soql)), expected, "{soql}");
        }
    }

    #[test]
    fn boolean_structure() {
        let cond = where_of(
            "SELECT Id FROM A WHERE (X = 1 OR Y = 2) AND NOT Z IN ('a', 'b') AND W NOT IN (1)",
        );
        let Cond::And(items) = cond else {
            panic!("AND expected")
        };
        assert_eq!(items.len(), 3);
        assert!(matches!(items[0], Cond::Or(_)));
        assert!(
            matches!(&items[1], Cond::Not(inner) if matches!(**inner, Cond::In { negated: false, .. }))
        );
        assert!(matches!(items[2], Cond::In { negated: true, .. }));
    }

    #[test]
    fn order_by_defaults() {
        let query = parse("SELECT Id FROM A ORDER BY X DESC, Y, Z ASC NULLS LAST").unwrap();
        let flags: Vec<(bool, bool)> = query
            .order
            .iter()
            .map(|o| (o.descending, o.nulls_first))
            .collect();
        assert_eq!(flags, [(true, false), (false, true), (false, false)]);
    }

    #[test]
    fn errors_name_the_position() {
        let soql = "SELECT Id FROM A WHERE X = 1 AND Y = 2 OR Z = 3";
        let error = parse(soql).unwrap_err();
        assert_eq!(error.code, "MALFORMED_QUERY");
        assert_eq!(
            error.render(soql),
            format!(
                "\n{soql}\n{}^\nERROR at Row:1:Column:40\nunexpected token: 'OR'",
                " ".repeat(39)
            )
        );
        for bad in [
            "SELECT FROM A",
            "SELECT Id A",
            "SELECT Id FROM A WHERE",
            "SELECT Id FROM A WHERE X = ",
            "SELECT Id FROM A LIMIT -1",
            "SELECT Id FROM A LIMIT x",
            "SELECT Id, Id FROM A",
            "SELECT Id FROM A WHERE X = 2026-13-01",
            "SELECT Id FROM A WHERE X = 1 extra",
            "SELECT Id FROM A WHERE X ~ 1",
            "SELECT (SELECT Id FROM B) FROM A",
            "SELECT COUNT(Id) FROM A",
        ] {
            assert_eq!(parse(bad).unwrap_err().code, "MALFORMED_QUERY", "{bad}");
        }
        let multi = "SELECT Id\nFROM A\nWHERE X =";
        assert!(
            parse(multi)
                .unwrap_err()
                .render(multi)
                .contains("ERROR at Row:3:Column:10")
        );
    }
}
