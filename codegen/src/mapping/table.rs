//! The mappings as tables for an admin to review: per mapping, each Salesforce field with the
//! Stripe path it comes from, the conversion and what happens when Stripe has no value.

use std::fmt::Write;

use super::path::PathExpr;
use super::plan::{
    Absent, Const, Convert, FieldPlan, FormatPart, KeySource, MappingPlan, Plan, Read, Source,
    Target, TemplatePart, TemplateStyle,
};

/// Renders every mapping of `plan` as a text table.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Mappings from {} (amounts up to {} minor units, counts up to {})",
        plan.source, plan.limits.max_amount, plan.limits.max_count
    );
    for mapping in &plan.mappings {
        out.push('\n');
        out.push_str(&render_mapping(mapping));
    }
    out
}

fn render_mapping(m: &MappingPlan) -> String {
    let mut out = String::new();
    let each = m
        .for_each
        .as_ref()
        .map(|p| format!(", one record per element of `{}`", p.text))
        .unwrap_or_default();
    let when = m
        .when
        .as_ref()
        .map(|(p, v)| format!(", only when `{}` is `{v}`", p.text))
        .unwrap_or_default();
    let when = if m.when_type.is_empty() {
        when
    } else {
        format!("{when}, only for {}", m.when_type.join(", "))
    };
    let _ = writeln!(
        out,
        "{}: Stripe `{}` → {}{each}{when}",
        m.name, m.stripe, m.sobject
    );
    let key_source = match &m.key.source {
        KeySource::Paths { paths, id } => {
            format!("{}{}", join(paths), if *id { " (id)" } else { "" })
        }
        KeySource::Format(parts) => parts
            .iter()
            .map(|p| match p {
                FormatPart::Text(t) => t.clone(),
                FormatPart::Index => "{index}".into(),
                FormatPart::Path(p) => format!("{{{}}}", p.text),
            })
            .collect(),
    };
    let mut rows = vec![[
        m.key.field.clone(),
        key_source,
        if m.key.rust_field.is_some() {
            "key: upsert by external id".into()
        } else {
            "key: update by record Id".into()
        },
        if m.key.skip_record {
            "skip the record".into()
        } else {
            "never absent".into()
        },
    ]];
    for f in &m.fields {
        rows.push([f.field.clone(), source(f), conversion(f), absent(f)]);
    }
    let headers = [
        "Salesforce field",
        "Stripe source",
        "Conversion",
        "When absent",
    ];
    let mut widths = headers.map(|h| h.chars().count());
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let mut text = String::from(" ");
        for (i, cell) in cells.iter().enumerate() {
            text.push(' ');
            text.push_str(cell);
            if i < 3 {
                text.push_str(&" ".repeat(widths[i] - cell.chars().count() + 1));
            }
        }
        text.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(headers));
    let dashes = widths.map(|w| "-".repeat(w));
    let _ = writeln!(
        out,
        "{}",
        line([&dashes[0], &dashes[1], &dashes[2], &dashes[3]])
    );
    for row in &rows {
        let _ = writeln!(out, "{}", line([&row[0], &row[1], &row[2], &row[3]]));
    }
    out
}

fn join(paths: &[PathExpr]) -> String {
    paths
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join(", else ")
}

fn source(f: &FieldPlan) -> String {
    match &f.source {
        Source::Paths { paths, .. } => join(paths),
        Source::Const(c) => format!("constant {}", constant(c)),
        Source::Context(c) => format!("engine: {}", c.name()),
        Source::Derived { rule, inputs } => {
            let names = rule
                .inputs()
                .iter()
                .zip(inputs)
                .filter_map(|((name, _, _), path)| {
                    path.as_ref().map(|p| format!("{name}={}", p.text))
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("{}({names})", rule.name())
        }
        Source::Clear => "(cleared)".into(),
        Source::Template(parts) => {
            let values = parts
                .iter()
                .filter(|part| matches!(part, TemplatePart::Value { .. }))
                .count();
            let money = parts.iter().any(|part| {
                matches!(
                    part,
                    TemplatePart::Value {
                        style: TemplateStyle::Money { .. },
                        ..
                    }
                )
            });
            format!(
                "format text of {values} values{}",
                if money { ", amounts with currency" } else { "" }
            )
        }
    }
}

fn constant(c: &Const) -> String {
    match c {
        Const::Text(t) => format!("\"{t}\""),
        Const::Integer(n) => n.to_string(),
        Const::Bool(b) => b.to_string(),
    }
}

fn conversion(f: &FieldPlan) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Source::Paths { read, .. } = &f.source {
        match read {
            Read::Id => parts.push("id of the reference".into()),
            Read::Json => parts.push("as JSON".into()),
            Read::Sum => parts.push("sum".into()),
            _ => {}
        }
    }
    match &f.convert {
        Convert::None => {}
        Convert::Money { currency } => {
            parts.push(format!("minor units → amount in `{}`", currency.text))
        }
        Convert::MoneyDecimal { currency } => parts.push(format!(
            "decimal minor units → amount in `{}`",
            currency.text
        )),
        Convert::Timestamp => parts.push("Unix → datetime (UTC)".into()),
        Convert::Date => parts.push("Unix → date (UTC)".into()),
        Convert::CurrencyCode => parts.push("upper-case ISO code".into()),
        Convert::Table(entries) => {
            let mut table = entries
                .iter()
                .map(|(k, v)| format!("{k}→{v}"))
                .collect::<Vec<_>>()
                .join(", ");
            if let Some(fallback) = &f.fallback {
                table.push_str(&format!(", else {fallback}"));
            }
            parts.push(format!("table {table}"));
        }
        Convert::Presence { present, absent } => parts.push(format!(
            "present→{}, absent→{}",
            present.as_deref().unwrap_or("(as is)"),
            absent.as_deref().unwrap_or("(as is)")
        )),
        Convert::NextInteger => parts.push("+ 1".into()),
    }
    match &f.target {
        Target::Text { length } => parts.push(format!(
            "text ({length}{})",
            if f.truncate {
                ", truncated with a warning"
            } else {
                ""
            }
        )),
        Target::Integer { .. } => parts.push(format!("number (≤ {})", f.max)),
        Target::Decimal { precision, scale } => parts.push(format!(
            "number ({precision},{scale}{})",
            if f.round {
                ", rounded with a warning"
            } else {
                ""
            }
        )),
        Target::Bool => parts.push("checkbox".into()),
        Target::Date | Target::DateTime => {}
        Target::Picklist { restricted, .. } => {
            let mut text = if *restricted {
                "restricted picklist"
            } else {
                "picklist"
            }
            .to_string();
            if let (Some(fallback), false) = (&f.fallback, matches!(f.convert, Convert::Table(_))) {
                text.push_str(&format!(", else {fallback}"));
            }
            parts.push(text);
        }
        Target::RecordId => parts.push("lookup by record Id".into()),
        Target::Ref { parent_field, .. } => parts.push(format!("parent by {parent_field}")),
    }
    parts.join("; ")
}

fn absent(f: &FieldPlan) -> String {
    if matches!(f.source, Source::Const(_) | Source::Clear) {
        return "—".into();
    }
    match &f.absent {
        Absent::Skip => "leave as is".into(),
        Absent::Null => "clear".into(),
        Absent::Default(c) => format!("write {}", constant(c)),
    }
}
