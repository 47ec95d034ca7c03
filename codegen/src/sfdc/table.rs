//! Renders a [`Model`] as plain-text tables a Salesforce admin can review.

use std::fmt::Write as _;

use super::model::{Computed, Field, FieldType, Model, Object, ObjectKind};

/// The whole model: every object with its fields, then global value sets, custom metadata records
/// and permission sets.
pub fn render(model: &Model) -> String {
    let mut out = String::new();
    for object in &model.objects {
        render_object(&mut out, object);
        out.push('\n');
    }
    if !model.global_value_sets.is_empty() {
        out.push_str("Global value sets\n");
        let mut table = Table::new(["Name", "Label", "Values"]);
        for set in &model.global_value_sets {
            let values: Vec<&str> = set.values.iter().map(|v| v.api_name.as_str()).collect();
            table.row([set.name.clone(), set.label.clone(), values.join(", ")]);
        }
        table.render_into(&mut out);
        out.push('\n');
    }
    if !model.custom_metadata.is_empty() {
        out.push_str("Custom metadata records\n");
        let mut table = Table::new(["Type", "Record", "Label", "Values"]);
        for record in &model.custom_metadata {
            let values: Vec<String> = record
                .values
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null")))
                .collect();
            table.row([
                record.type_name.clone(),
                record.developer_name.clone(),
                record.label.clone(),
                values.join(", "),
            ]);
        }
        table.render_into(&mut out);
        out.push('\n');
    }
    for set in &model.permission_sets {
        let _ = writeln!(out, "Permission set {} ({})", set.name, set.label);
        let mut table = Table::new(["Object", "Access", "Editable fields", "Read-only fields"]);
        for p in &set.objects {
            let access: String = [
                (p.create, 'C'),
                (p.read, 'R'),
                (p.edit, 'E'),
                (p.delete, 'D'),
            ]
            .iter()
            .map(|(on, c)| if *on { *c } else { '-' })
            .collect();
            let fields = |editable: bool| {
                set.fields
                    .iter()
                    .filter(|f| f.object == p.object && f.editable == editable && f.readable)
                    .count()
                    .to_string()
            };
            table.row([p.object.clone(), access, fields(true), fields(false)]);
        }
        for permission in &set.user_permissions {
            for object in super::standard::objects_granted_by(permission) {
                let fields = |editable: bool| {
                    set.fields
                        .iter()
                        .filter(|f| {
                            super::standard::fields_defined_on(&f.object, object)
                                && f.editable == editable
                                && f.readable
                        })
                        .count()
                        .to_string()
                };
                table.row([
                    (*object).to_string(),
                    format!("CRE- ({permission})"),
                    fields(true),
                    fields(false),
                ]);
            }
        }
        table.render_into(&mut out);
        out.push('\n');
    }
    out
}

fn render_object(out: &mut String, object: &Object) {
    let kind = match object.kind {
        ObjectKind::Custom => "custom object",
        ObjectKind::Standard => "standard object",
        ObjectKind::CustomMetadataType => "custom metadata type, read-only",
    };
    let _ = writeln!(
        out,
        "{} ({}, {kind}, {} fields)",
        object.api_name,
        object.label,
        object.fields.len()
    );
    let mut table = Table::new([
        "Field",
        "Label",
        "Type",
        "Size",
        "Required",
        "Unique",
        "External id",
        "Writable",
        "Values / parent",
    ]);
    for field in &object.fields {
        table.row([
            field.api_name.clone(),
            field.label.clone(),
            type_name(field),
            size(field),
            yes(field.required),
            if field.unique {
                if field.case_sensitive {
                    "yes (case-sensitive)".to_string()
                } else {
                    "yes".to_string()
                }
            } else {
                String::new()
            },
            yes(field.external_id),
            if field.writable { "yes" } else { "no" }.to_string(),
            details(field),
        ]);
    }
    table.render_into(out);
}

fn yes(flag: bool) -> String {
    if flag { "yes" } else { "" }.to_string()
}

fn type_name(field: &Field) -> String {
    match &field.computed {
        Some(Computed::Formula(_)) => format!("Formula ({})", field.field_type.as_str()),
        Some(Computed::RollUp(op)) => format!("Roll-up {op} ({})", field.field_type.as_str()),
        _ => field.field_type.as_str().to_string(),
    }
}

fn size(field: &Field) -> String {
    match (field.precision, field.scale, field.length) {
        (Some(p), Some(s), _) => format!("{p},{s}"),
        (_, _, Some(l))
            if field.field_type != FieldType::Lookup
                && field.field_type != FieldType::MasterDetail
                && field.field_type != FieldType::Id =>
        {
            l.to_string()
        }
        _ => String::new(),
    }
}

fn details(field: &Field) -> String {
    if let Some(p) = &field.picklist {
        let values: Vec<&str> = p.values.iter().map(|v| v.api_name.as_str()).collect();
        let kind = if p.restricted { "restricted" } else { "open" };
        let source = p
            .global_value_set
            .as_ref()
            .map(|g| format!(" from {g}"))
            .unwrap_or_default();
        return format!("{kind}{source}: {}", values.join(", "));
    }
    if field.field_type.is_reference() {
        let target = field.reference_to.as_deref().unwrap_or("(any)");
        let rel = field.relationship_name.as_deref().unwrap_or("");
        return format!("→ {target} via {rel}");
    }
    if let Some(Computed::Formula(expr)) = &field.computed {
        return format!("= {expr}");
    }
    field
        .default_value
        .as_ref()
        .map(|d| format!("default {d}"))
        .unwrap_or_default()
}

/// A left-aligned text table with a header rule.
struct Table<const N: usize> {
    header: [String; N],
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    fn new(header: [&str; N]) -> Self {
        Table {
            header: header.map(str::to_string),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, row: [String; N]) {
        self.rows.push(row);
    }

    fn render_into(&self, out: &mut String) {
        let mut widths = self.header.clone().map(|h| h.chars().count());
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |out: &mut String, cells: &[String; N]| {
            let mut text = String::from("  ");
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                text.push_str(cell);
                if i + 1 < N {
                    text.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(out, &self.header);
        let rule = widths.map(|w| "-".repeat(w));
        line(out, &rule);
        for row in &self.rows {
            line(out, row);
        }
    }
}
