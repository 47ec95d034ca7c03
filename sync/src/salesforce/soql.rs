//! Building SOQL safely: literals are escaped so that no value can end its quotes and
//! change the query, and names are checked to be plain identifiers.
//!
//! ```
//! use stripe_sfdc_sync::salesforce::soql::{Filter, Order, Query};
//!
//! let soql = Query::select(["Id", "Email"])
//!     .from("Contact")
//!     .filter(Filter::eq("Email", "o'brien@example.com").and(Filter::not_null("Stripe_Customer_ID__c")))
//!     .order_by("SystemModstamp", Order::Asc)
//!     .limit(200)
//!     .to_soql()
//!     .unwrap();
//! assert_eq!(
//!     soql,
//!     "SELECT Id, Email FROM Contact WHERE (Email = 'o\\'brien@example.com' AND \
//!      Stripe_Customer_ID__c != null) ORDER BY SystemModstamp ASC LIMIT 200"
//! );
//! ```

use std::fmt;

use sfdc_types::rust_decimal::Decimal;
use sfdc_types::time::{Date, OffsetDateTime, UtcOffset};

/// A name that cannot be used in a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a valid SOQL {kind} name")]
pub struct SoqlError {
    /// `field` or `object`.
    pub kind: &'static str,
    /// The name.
    pub name: String,
}

/// Escapes text for the inside of a quoted SOQL literal: `\` `'` `"` and the control
/// characters newline, carriage return, tab, backspace and form feed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

/// Escapes text for the inside of a quoted `LIKE` pattern, where `%` and `_` are wildcards:
/// as [`escape`], and `%` and `_` match themselves.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '%' => out.push_str("\\%"),
            '_' => out.push_str("\\_"),
            c => push_escaped(&mut out, c),
        }
    }
    out
}

/// `text` as a quoted SOQL string literal: `'…'`, escaped.
pub fn quote(text: &str) -> String {
    format!("'{}'", escape(text))
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\'' => out.push_str("\\'"),
        '"' => out.push_str("\\\""),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        c => out.push(c),
    }
}

/// A datetime literal, in UTC: `2024-01-02T03:04:05Z`, or with milliseconds
/// (`2024-01-02T03:04:05.250Z`) when it has some.
pub fn datetime_literal(datetime: OffsetDateTime) -> String {
    let utc = datetime.to_offset(UtcOffset::UTC);
    let date = date_literal(utc.date());
    let (hour, minute, second, milli) = utc.to_hms_milli();
    if milli == 0 {
        format!("{date}T{hour:02}:{minute:02}:{second:02}Z")
    } else {
        format!("{date}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
    }
}

/// A date literal: `2024-01-02`.
pub fn date_literal(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A value in a query, written as SOQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A decimal number, written exactly.
    Decimal(Decimal),
    /// A quoted, escaped string.
    Text(String),
    /// A date, `2024-01-02`.
    Date(Date),
    /// A datetime in UTC, `2024-01-02T03:04:05Z`.
    DateTime(OffsetDateTime),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(value) => write!(f, "{value}"),
            Literal::Integer(value) => write!(f, "{value}"),
            Literal::Decimal(value) => f.write_str(&sfdc_types::format::format_decimal(value)),
            Literal::Text(text) => f.write_str(&quote(text)),
            Literal::Date(date) => f.write_str(&date_literal(*date)),
            Literal::DateTime(datetime) => f.write_str(&datetime_literal(*datetime)),
        }
    }
}

impl From<&str> for Literal {
    fn from(text: &str) -> Self {
        Literal::Text(text.to_owned())
    }
}

impl From<String> for Literal {
    fn from(text: String) -> Self {
        Literal::Text(text)
    }
}

impl From<&String> for Literal {
    fn from(text: &String) -> Self {
        Literal::Text(text.clone())
    }
}

impl From<bool> for Literal {
    fn from(value: bool) -> Self {
        Literal::Bool(value)
    }
}

impl From<i64> for Literal {
    fn from(value: i64) -> Self {
        Literal::Integer(value)
    }
}

impl From<i32> for Literal {
    fn from(value: i32) -> Self {
        Literal::Integer(value.into())
    }
}

impl From<Decimal> for Literal {
    fn from(value: Decimal) -> Self {
        Literal::Decimal(value)
    }
}

impl From<Date> for Literal {
    fn from(value: Date) -> Self {
        Literal::Date(value)
    }
}

impl From<OffsetDateTime> for Literal {
    fn from(value: OffsetDateTime) -> Self {
        Literal::DateTime(value)
    }
}

impl<T: Into<Literal>> From<Option<T>> for Literal {
    fn from(value: Option<T>) -> Self {
        value.map_or(Literal::Null, Into::into)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Comparison {
    fn as_str(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Ne => "!=",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }
}

/// A `WHERE` condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `field op value`.
    Compare {
        /// Field name (may be a relationship path, `Contact__r.Email`).
        field: String,
        /// Operator.
        op: Comparison,
        /// Value.
        value: Literal,
    },
    /// `field IN (…)` or `field NOT IN (…)`.
    In {
        /// Field name.
        field: String,
        /// Values (an empty list matches nothing, or everything for `NOT IN`).
        values: Vec<Literal>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `field LIKE 'pattern'`: in the pattern `%` and `_` are wildcards and a backslash
    /// makes the next character literal (`\\%`); everything is escaped for the quotes.
    Like {
        /// Field name.
        field: String,
        /// The pattern.
        pattern: String,
    },
    /// All of these.
    And(Vec<Filter>),
    /// Any of these.
    Or(Vec<Filter>),
    /// Not this.
    Not(Box<Filter>),
}

impl Filter {
    /// `field = value` (`= null` tests for no value).
    pub fn eq(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Comparison::Eq, value)
    }

    /// `field != value`.
    pub fn ne(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Comparison::Ne, value)
    }

    /// `field < value`.
    pub fn lt(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Comparison::Lt, value)
    }

    /// `field <= value`.
    pub fn le(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Comparison::Le, value)
    }

    /// `field > value`.
    pub fn gt(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Comparison::Gt, value)
    }

    /// `field >= value`.
    pub fn ge(field: impl Into<String>, value: impl Into<Literal>) -> Self {
        Self::compare(field, Comparison::Ge, value)
    }

    /// `field op value`.
    pub fn compare(field: impl Into<String>, op: Comparison, value: impl Into<Literal>) -> Self {
        Filter::Compare {
            field: field.into(),
            op,
            value: value.into(),
        }
    }

    /// `field = null`.
    pub fn is_null(field: impl Into<String>) -> Self {
        Self::eq(field, Literal::Null)
    }

    /// `field != null`.
    pub fn not_null(field: impl Into<String>) -> Self {
        Self::ne(field, Literal::Null)
    }

    /// `field IN (values)`.
    pub fn is_in<V: Into<Literal>>(
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Filter::In {
            field: field.into(),
            values: values.into_iter().map(Into::into).collect(),
            negated: false,
        }
    }

    /// `field NOT IN (values)`.
    pub fn not_in<V: Into<Literal>>(
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Filter::In {
            field: field.into(),
            values: values.into_iter().map(Into::into).collect(),
            negated: true,
        }
    }

    /// `field LIKE 'pattern'` with `%` and `_` as wildcards and `\\` escaping the next
    /// character (see [`Filter::starts_with`] and [`Filter::contains`] to match a value
    /// literally).
    pub fn like(field: impl Into<String>, pattern: impl Into<String>) -> Self {
        Filter::Like {
            field: field.into(),
            pattern: pattern.into(),
        }
    }

    /// `field LIKE 'prefix%'`, the prefix matched literally.
    pub fn starts_with(field: impl Into<String>, prefix: &str) -> Self {
        Self::like(field, format!("{}%", LikeText(prefix)))
    }

    /// `field LIKE '%text%'`, the text matched literally.
    pub fn contains(field: impl Into<String>, text: &str) -> Self {
        Self::like(field, format!("%{}%", LikeText(text)))
    }

    /// This and `other`.
    pub fn and(self, other: Filter) -> Self {
        match self {
            Filter::And(mut all) => {
                all.push(other);
                Filter::And(all)
            }
            this => Filter::And(vec![this, other]),
        }
    }

    /// This or `other`.
    pub fn or(self, other: Filter) -> Self {
        match self {
            Filter::Or(mut any) => {
                any.push(other);
                Filter::Or(any)
            }
            this => Filter::Or(vec![this, other]),
        }
    }

    /// Not this.
    pub fn negate(self) -> Self {
        Filter::Not(Box::new(self))
    }

    /// Writes the condition, checking field names.
    fn write(&self, out: &mut String) -> Result<(), SoqlError> {
        match self {
            Filter::Compare { field, op, value } => {
                out.push_str(check_field(field)?);
                out.push(' ');
                out.push_str(op.as_str());
                out.push(' ');
                out.push_str(&value.to_string());
            }
            Filter::In {
                field,
                values,
                negated,
            } => {
                if values.is_empty() {
                    // `IN ()` is a syntax error: an always-false (or always-true) condition.
                    let field = check_field(field)?;
                    let joiner = if *negated { " OR " } else { " AND " };
                    out.push_str(&format!("({field} = null{joiner}{field} != null)"));
                    return Ok(());
                }
                out.push_str(check_field(field)?);
                out.push_str(if *negated { " NOT IN (" } else { " IN (" });
                for (position, value) in values.iter().enumerate() {
                    if position > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&value.to_string());
                }
                out.push(')');
            }
            Filter::Like { field, pattern } => {
                out.push_str(check_field(field)?);
                out.push_str(" LIKE '");
                // `%` and `_` stay wildcards; a backslash makes the next character literal.
                let mut chars = pattern.chars();
                while let Some(c) = chars.next() {
                    match c {
                        '%' | '_' => out.push(c),
                        '\\' => match chars.next() {
                            Some(c @ ('%' | '_')) => {
                                out.push('\\');
                                out.push(c);
                            }
                            Some(c) => push_escaped(out, c),
                            None => push_escaped(out, '\\'),
                        },
                        c => push_escaped(out, c),
                    }
                }
                out.push('\'');
            }
            Filter::And(all) | Filter::Or(all) if all.is_empty() => {
                // An empty AND is true, an empty OR false.
                out.push_str(if matches!(self, Filter::And(_)) {
                    "Id != null"
                } else {
                    "Id = null"
                });
            }
            Filter::And(all) | Filter::Or(all) => {
                let joiner = if matches!(self, Filter::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                out.push('(');
                for (position, filter) in all.iter().enumerate() {
                    if position > 0 {
                        out.push_str(joiner);
                    }
                    filter.write(out)?;
                }
                out.push(')');
            }
            Filter::Not(filter) => {
                out.push_str("(NOT ");
                filter.write(out)?;
                out.push(')');
            }
        }
        Ok(())
    }
}

/// Text matched literally in a LIKE pattern: `%` and `_` written as `\%` and `\_`.
struct LikeText<'a>(&'a str);

impl fmt::Display for LikeText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '%' | '_' => write!(f, "\\{c}")?,
                // A backslash before a wildcard would otherwise read as its escape.
                '\\' => f.write_str("\\\\")?,
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A `SELECT … FROM … [WHERE …] [ORDER BY …] [LIMIT …]` query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    fields: Vec<String>,
    object: String,
    filter: Option<Filter>,
    order_by: Vec<(String, Order)>,
    limit: Option<u64>,
}

impl Query {
    /// Selects `fields` (relationship paths such as `Contact__r.Email` allowed).
    pub fn select<F: Into<String>>(fields: impl IntoIterator<Item = F>) -> Self {
        Query {
            fields: fields.into_iter().map(Into::into).collect(),
            object: String::new(),
            filter: None,
            order_by: Vec::new(),
            limit: None,
        }
    }

    /// From `object`.
    pub fn from(mut self, object: impl Into<String>) -> Self {
        self.object = object.into();
        self
    }

    /// From the object of the read shape `T`.
    pub fn from_object<T: sfdc_types::SObject>(self) -> Self {
        self.from(T::API_NAME)
    }

    /// Adds a condition (several are joined with `AND`).
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(existing) => existing.and(filter),
            None => filter,
        });
        self
    }

    /// Adds a sort key.
    pub fn order_by(mut self, field: impl Into<String>, order: Order) -> Self {
        self.order_by.push((field.into(), order));
        self
    }

    /// At most `limit` rows.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The SOQL text; fails on a name that is not a plain identifier.
    pub fn to_soql(&self) -> Result<String, SoqlError> {
        let mut out = String::from("SELECT ");
        if self.fields.is_empty() {
            out.push_str("Id");
        }
        for (position, field) in self.fields.iter().enumerate() {
            if position > 0 {
                out.push_str(", ");
            }
            out.push_str(check_field(field)?);
        }
        out.push_str(" FROM ");
        if !is_identifier(&self.object) {
            return Err(SoqlError {
                kind: "object",
                name: self.object.clone(),
            });
        }
        out.push_str(&self.object);
        if let Some(filter) = &self.filter {
            out.push_str(" WHERE ");
            filter.write(&mut out)?;
        }
        for (position, (field, order)) in self.order_by.iter().enumerate() {
            out.push_str(if position == 0 { " ORDER BY " } else { ", " });
            out.push_str(check_field(field)?);
            out.push_str(match order {
                Order::Asc => " ASC",
                Order::Desc => " DESC",
            });
        }
        if let Some(limit) = self.limit {
            out.push_str(&format!(" LIMIT {limit}"));
        }
        Ok(out)
    }
}

/// `name` if it is a field name or relationship path.
fn check_field(name: &str) -> Result<&str, SoqlError> {
    if name.split('.').all(is_identifier) {
        Ok(name)
    } else {
        Err(SoqlError {
            kind: "field",
            name: name.to_owned(),
        })
    }
}

/// A letter, then letters, digits and single underscores (as Salesforce API names).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use sfdc_types::time::macros::{date, datetime};

    /// Reads back a quoted literal the way Salesforce does; `None` if the quotes do not
    /// enclose the whole text (the value broke out) or an escape is invalid.
    fn unquote(literal: &str) -> Option<String> {
        let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\'' => return None,
                '\\' => out.push(match chars.next()? {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    c @ ('"' | '\'' | '\\') => c,
                    _ => return None,
                }),
                c => out.push(c),
            }
        }
        Some(out)
    }

    #[test]
    fn escaping_table() {
        let cases: &[(&str, &str)] = &[
            ("plain", "'plain'"),
            ("", "''"),
            ("O'Brien", r"'O\'Brien'"),
            ("' OR Name != '", r"'\' OR Name != \''"),
            (
                "x' OR Id != null OR Name = 'y",
                r"'x\' OR Id != null OR Name = \'y'",
            ),
            (r"back\slash", r"'back\\slash'"),
            (r"\' OR Name != '", r"'\\\' OR Name != \''"),
            (r"ends with \", r"'ends with \\'"),
            ("line\nbreak", r"'line\nbreak'"),
            ("cr\rlf", r"'cr\rlf'"),
            ("tab\there", r"'tab\there'"),
            ("bs\u{8}ff\u{c}", r"'bs\bff\f'"),
            ("say \"hi\"", r#"'say \"hi\"'"#),
            ("100%_done", "'100%_done'"),
            ("Zoë – 東京 🚀", "'Zoë – 東京 🚀'"),
            (
                "\u{2019}smart quote\u{2019}",
                "'\u{2019}smart quote\u{2019}'",
            ),
            ("a\u{0}b", "'a\u{0}b'"),
        ];
        for (value, expected) in cases {
            let literal = quote(value);
            assert_eq!(&literal, expected, "quote({value:?})");
            assert_eq!(
                unquote(&literal).as_deref(),
                Some(*value),
                "round trip of {value:?}"
            );
        }
    }

    #[test]
    fn no_value_breaks_out_of_a_filter() {
        let attacks = [
            "' OR Name != '",
            "x') OR (Name != '",
            "\\' OR Name != \\'",
            "\\\\' OR Name != '",
            "'; DELETE",
            "\n' OR Name != '\n",
        ];
        for attack in attacks {
            let soql = Query::select(["Id"])
                .from("Contact")
                .filter(Filter::eq("Email", attack))
                .to_soql()
                .unwrap();
            let literal = soql
                .strip_prefix("SELECT Id FROM Contact WHERE Email = ")
                .unwrap();
            assert_eq!(unquote(literal).as_deref(), Some(attack), "{soql}");
        }
    }

    #[test]
    fn like_escapes_wildcards() {
        assert_eq!(escape_like("50%_off's"), r"50\%\_off\'s");
        let soql = Query::select(["Id"])
            .from("Contact")
            .filter(Filter::starts_with("Name", "100%_'x\\"))
            .filter(Filter::contains("Email", "a_b"))
            .filter(Filter::like("Phone", "+1%"))
            .to_soql()
            .unwrap();
        assert_eq!(
            soql,
            r"SELECT Id FROM Contact WHERE (Name LIKE '100\%\_\'x\\%' AND Email LIKE '%a\_b%' AND Phone LIKE '+1%')"
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            datetime_literal(datetime!(2024-01-02 03:04:05 UTC)),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            datetime_literal(datetime!(2024-01-02 03:04:05.250 +02:00)),
            "2024-01-02T01:04:05.250Z"
        );
        assert_eq!(date_literal(date!(2024 - 01 - 02)), "2024-01-02");
        let soql = Query::select(["Id", "Contact__r.Email"])
            .from("Stripe_Customer__c")
            .filter(Filter::gt(
                "SystemModstamp",
                datetime!(2024-05-06 07:08:09 UTC),
            ))
            .filter(Filter::eq("Delinquent__c", true))
            .filter(Filter::ge("Balance__c", Decimal::new(1250, 2)))
            .filter(Filter::lt("Count__c", 3))
            .filter(Filter::is_in("Stripe_Customer_ID__c", ["cus_1", "cus_'2"]))
            .filter(Filter::not_in("Currency__c", Vec::<String>::new()))
            .filter(
                Filter::is_null("Email__c")
                    .or(Filter::eq("Email__c", Option::<&str>::None))
                    .negate(),
            )
            .order_by("SystemModstamp", Order::Asc)
            .order_by("Id", Order::Desc)
            .limit(2000)
            .to_soql()
            .unwrap();
        assert_eq!(
            soql,
            "SELECT Id, Contact__r.Email FROM Stripe_Customer__c WHERE (SystemModstamp > 2024-05-06T07:08:09Z \
             AND Delinquent__c = true AND Balance__c >= 12.50 AND Count__c < 3 \
             AND Stripe_Customer_ID__c IN ('cus_1', 'cus_\\'2') \
             AND (Currency__c = null OR Currency__c != null) \
             AND (NOT (Email__c = null OR Email__c = null))) ORDER BY SystemModstamp ASC, Id DESC LIMIT 2000"
        );
    }

    #[test]
    fn names_are_checked() {
        for (query, name) in [
            (
                Query::select(["Id, (SELECT Id FROM Contacts)"]).from("Account"),
                "Id, (SELECT Id FROM Contacts)",
            ),
            (
                Query::select(["Id"]).from("Contact WHERE Id != null"),
                "Contact WHERE Id != null",
            ),
            (
                Query::select(["Id"])
                    .from("Contact")
                    .filter(Filter::eq("Name = 'x' OR Name", "y")),
                "Name = 'x' OR Name",
            ),
            (
                Query::select(["Id"])
                    .from("Contact")
                    .order_by("Name; x", Order::Asc),
                "Name; x",
            ),
            (Query::select(["Id"]).from(""), ""),
            (
                Query::select(["Id"])
                    .from("Contact")
                    .filter(Filter::eq("1abc", 1)),
                "1abc",
            ),
        ] {
            assert_eq!(query.to_soql().unwrap_err().name, name);
        }
    }
}
