//! Bulk API 2.0 CSV for one object type.
//!
//! - the header is every column set in any record, in the describe's field order, with each
//!   reference column `Rel__r.Field__c` right after its lookup field
//! - RFC 4180 quoting (a cell with a comma, quote, CR or LF is quoted, quotes doubled), LF
//!   line endings
//! - an empty cell leaves the field as it is (`Patch::Skip`); `#N/A` clears it (`Null`, and
//!   empty text, which Salesforce stores as null)
//! - booleans `true`/`false`, plain decimal numbers, dates `YYYY-MM-DD`, datetimes
//!   `YYYY-MM-DDTHH:MM:SS.sssZ`, times `HH:MM:SS.sssZ`
//!
//! Text equal to `#N/A` cannot be told from a null, as in Salesforce itself.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::describe::{FieldDescribe, FieldType, ObjectDescribe, Schema};
use crate::format::{self, FormatError};
use crate::sobject::{SObject, Writable};
use crate::value::{FieldValue, Value};

/// The cell that clears a field.
pub const NULL_CELL: &str = "#N/A";

/// A CSV text that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A quoted cell has no closing quote.
    #[error("line {line}: quoted cell is never closed")]
    UnclosedQuote {
        /// Line where the cell starts.
        line: usize,
    },
    /// A quote inside a cell that does not start with one.
    #[error("line {line}: quote inside an unquoted cell")]
    StrayQuote {
        /// Line of the quote.
        line: usize,
    },
    /// Something other than a comma or line end after a closing quote.
    #[error("line {line}: {found:?} after a closing quote, expected a comma or a line end")]
    AfterQuote {
        /// Line of the closing quote.
        line: usize,
        /// The character found.
        found: char,
    },
    /// A record with another number of cells than the header.
    #[error("line {line}: {found} cells, the header has {expected}")]
    WrongCellCount {
        /// Line where the record starts.
        line: usize,
        /// Number of header columns.
        expected: usize,
        /// Number of cells in the record.
        found: usize,
    },
    /// A header column that is neither a field nor a reference of the object.
    #[error("line 1: column {column:?} is not a field or relationship of {object}")]
    UnknownColumn {
        /// API name of the object.
        object: String,
        /// The column name.
        column: String,
    },
    /// A cell that is not a valid value of its column's field.
    #[error("line {line}, column {column}: {source}")]
    InvalidCell {
        /// Line where the record starts.
        line: usize,
        /// The column name.
        column: String,
        /// What is wrong with the cell.
        #[source]
        source: FormatError,
    },
}

/// Writes records of one object as Bulk API 2.0 CSV (see the module docs for the format).
pub fn write_csv<W: Writable>(records: &[W]) -> String {
    let rows: Vec<Vec<FieldValue>> = records.iter().map(Writable::values).collect();
    write_rows(W::Read::schema(), W::Read::describe(), &rows)
}

/// Writes rows of typed values of `describe`'s object as CSV, like [`write_csv`]; `schema`
/// gives the order of reference columns (the referenced object's field order).
/// No rows, or no value in any row, gives the empty text.
pub fn write_rows(
    schema: &Schema,
    describe: &ObjectDescribe,
    rows: &[Vec<(Cow<'_, str>, Value)>],
) -> String {
    let columns = columns(schema, describe, rows);
    if columns.is_empty() {
        return String::new();
    }
    let index: HashMap<String, usize> = columns
        .iter()
        .enumerate()
        .map(|(position, name)| (name.to_ascii_lowercase(), position))
        .collect();
    let mut out = String::new();
    write_line(
        &mut out,
        columns.iter().map(|name| Cow::Borrowed(name.as_str())),
    );
    for row in rows {
        let mut cells: Vec<Option<&Value>> = vec![None; columns.len()];
        for (name, value) in row {
            cells[index[&name.to_ascii_lowercase()]] = Some(value);
        }
        write_line(&mut out, cells.into_iter().map(cell_text));
    }
    out
}

/// Column names: the fields set in any row in field order, each followed by its reference
/// columns, then any other names alphabetically.
fn columns(
    schema: &Schema,
    describe: &ObjectDescribe,
    rows: &[Vec<(Cow<'_, str>, Value)>],
) -> Vec<String> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in rows.iter().flatten() {
        if !names.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
            names.push(name);
        }
    }
    let mut used = vec![false; names.len()];
    let mut columns = Vec::with_capacity(names.len());
    for field in describe.fields.iter() {
        if let Some(position) = names
            .iter()
            .position(|name| name.eq_ignore_ascii_case(&field.api_name))
        {
            used[position] = true;
            columns.push(field.api_name.to_string());
        }
        let Some(relationship) = field.relationship_name.as_deref() else {
            continue;
        };
        let target = field
            .reference_to
            .as_deref()
            .and_then(|target| schema.object(target));
        let mut references: Vec<(usize, &str, usize)> = Vec::new();
        for (position, name) in names.iter().enumerate() {
            let Some((prefix, target_field)) = name.split_once('.') else {
                continue;
            };
            if !used[position] && prefix.eq_ignore_ascii_case(relationship) {
                let order = target
                    .and_then(|target| {
                        target
                            .fields
                            .iter()
                            .position(|f| f.api_name.eq_ignore_ascii_case(target_field))
                    })
                    .unwrap_or(usize::MAX);
                references.push((order, name, position));
            }
        }
        references.sort_unstable();
        for (_, name, position) in references {
            used[position] = true;
            columns.push(name.to_owned());
        }
    }
    let mut rest: Vec<&str> = names
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(name, _)| *name)
        .collect();
    rest.sort_unstable();
    columns.extend(rest.into_iter().map(str::to_owned));
    columns
}

/// The text of one cell: empty when absent, `#N/A` for null and empty text.
fn cell_text(value: Option<&Value>) -> Cow<'_, str> {
    match value {
        None => Cow::Borrowed(""),
        Some(Value::Null) => Cow::Borrowed(NULL_CELL),
        Some(Value::Text(text)) if text.is_empty() => Cow::Borrowed(NULL_CELL),
        Some(Value::Text(text)) => Cow::Borrowed(text),
        Some(value) => Cow::Owned(value.to_string()),
    }
}

/// Appends one CSV line, quoting cells as needed.
fn write_line<'a>(out: &mut String, cells: impl Iterator<Item = Cow<'a, str>>) {
    for (position, cell) in cells.enumerate() {
        if position > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&cell);
        }
    }
    out.push('\n');
}

/// Reads CSV of one object into typed values, converted by `describe`: the header names
/// fields (case-insensitively), reference columns `Rel__r.Field__c` (read as text) or `Id`;
/// an empty cell is absent, `#N/A` is [`Value::Null`].
pub fn read_csv(describe: &ObjectDescribe, text: &str) -> Result<Vec<Vec<FieldValue>>, CsvError> {
    let mut lines = parse_lines(text)?.into_iter();
    let Some((_, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let columns = header
        .into_iter()
        .map(|name| column(describe, name))
        .collect::<Result<Vec<_>, _>>()?;
    lines
        .map(|(line, cells)| {
            if cells.len() != columns.len() {
                return Err(CsvError::WrongCellCount {
                    line,
                    expected: columns.len(),
                    found: cells.len(),
                });
            }
            let mut record = Vec::new();
            for ((name, field), cell) in columns.iter().zip(cells) {
                if cell.is_empty() {
                    continue;
                }
                let value = if cell == NULL_CELL {
                    Value::Null
                } else {
                    cell_value(*field, cell).map_err(|source| CsvError::InvalidCell {
                        line,
                        column: name.to_string(),
                        source,
                    })?
                };
                record.push((name.clone(), value));
            }
            Ok(record)
        })
        .collect()
}

/// The name a header column stands for and its field (`None` for text columns: references
/// and `Id` outside the describe).
fn column(
    describe: &ObjectDescribe,
    name: String,
) -> Result<(Cow<'static, str>, Option<&FieldDescribe>), CsvError> {
    if let Some(field) = describe.field(&name) {
        return Ok((field.api_name.clone(), Some(field)));
    }
    let is_reference = name
        .split_once('.')
        .is_some_and(|(relationship, _)| describe.field_by_relationship(relationship).is_some());
    if is_reference || name.eq_ignore_ascii_case("Id") {
        Ok((Cow::Owned(name), None))
    } else {
        Err(CsvError::UnknownColumn {
            object: describe.api_name.to_string(),
            column: name,
        })
    }
}

/// A non-empty, non-null cell as a value of `field`.
fn cell_value(field: Option<&FieldDescribe>, cell: String) -> Result<Value, FormatError> {
    let Some(field) = field else {
        return Ok(Value::Text(cell));
    };
    Ok(match field.field_type {
        FieldType::Number | FieldType::Currency | FieldType::Percent if field.is_integer() => {
            Value::Integer(format::parse_integer(&cell)?)
        }
        FieldType::Number | FieldType::Currency | FieldType::Percent => {
            Value::Decimal(format::parse_decimal(&cell)?)
        }
        FieldType::Checkbox => Value::Bool(format::parse_bool(&cell)?),
        FieldType::Date => Value::Date(format::parse_date(&cell)?),
        FieldType::DateTime => Value::DateTime(format::parse_datetime(&cell)?),
        FieldType::Time => Value::Time(format::parse_time(&cell)?),
        _ => Value::Text(cell),
    })
}

/// Splits RFC 4180 CSV into records of cells (CRLF and LF line ends, a leading byte order
/// mark ignored, no record after a final line end).
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    Ok(parse_lines(text)?
        .into_iter()
        .map(|(_, cells)| cells)
        .collect())
}

/// Like [`parse_csv`], with the line where each record starts (1-based).
fn parse_lines(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut chars = text.chars().peekable();
    let mut records = Vec::new();
    let mut line = 1;
    while chars.peek().is_some() {
        let record_line = line;
        let mut cells = Vec::new();
        loop {
            let mut cell = String::new();
            if chars.next_if_eq(&'"').is_some() {
                let cell_line = line;
                loop {
                    match chars.next() {
                        None => return Err(CsvError::UnclosedQuote { line: cell_line }),
                        Some('"') if chars.next_if_eq(&'"').is_some() => cell.push('"'),
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            cell.push(c);
                        }
                    }
                }
                if let Some(&found) = chars.peek().filter(|c| !matches!(c, ',' | '\r' | '\n')) {
                    return Err(CsvError::AfterQuote { line, found });
                }
            } else {
                while let Some(c) = chars.next_if(|c| !matches!(c, ',' | '\r' | '\n')) {
                    if c == '"' {
                        return Err(CsvError::StrayQuote { line });
                    }
                    cell.push(c);
                }
            }
            cells.push(cell);
            match chars.next() {
                Some(',') => {}
                Some('\r') => {
                    chars.next_if_eq(&'\n');
                    line += 1;
                    break;
                }
                Some(_) => {
                    line += 1;
                    break;
                }
                None => break,
            }
        }
        records.push((record_line, cells));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_and_line_ends() {
        let text = "a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\"two\nlines\"\n,,\n\"\"\n";
        assert_eq!(
            parse_csv(text).unwrap(),
            [
                vec!["a", "b", "c"],
                vec!["x,1", "say \"hi\"", "two\nlines"],
                vec!["", "", ""],
                vec![""],
            ]
        );
        assert_eq!(parse_csv("a,b").unwrap(), [vec!["a", "b"]]);
        assert_eq!(parse_csv("a,").unwrap(), [vec!["a", ""]]);
        assert_eq!(parse_csv("\u{feff}é\n").unwrap(), [vec!["é"]]);
        assert!(parse_csv("").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse_csv("a\n\"b\nc").unwrap_err().to_string(),
            "line 2: quoted cell is never closed"
        );
        assert_eq!(
            parse_csv("a\nb\"c\n").unwrap_err().to_string(),
            "line 2: quote inside an unquoted cell"
        );
        assert_eq!(
            parse_csv("a\n\"x\ny\"z\n").unwrap_err().to_string(),
            "line 3: 'z' after a closing quote, expected a comma or a line end"
        );
    }

    #[test]
    fn quoting() {
        let mut out = String::new();
        let cells = ["plain", "a,b", "q\"q", "cr\rlf\n", "é"];
        write_line(&mut out, cells.into_iter().map(Cow::Borrowed));
        assert_eq!(out, "plain,\"a,b\",\"q\"\"q\",\"cr\rlf\n\",é\n");
        assert_eq!(parse_csv(&out).unwrap(), [cells.to_vec()]);
    }
}
