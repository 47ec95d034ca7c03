//! Rust names for Salesforce API names: types, fields, picklist variants; collisions are errors.

use std::collections::BTreeMap;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

use super::model::{Field, Model, Object, ObjectKind};

/// The Rust type name of an object: `Stripe_Customer__c` → `StripeCustomer`,
/// `Stripe_Price__mdt` → `StripePriceMdt`, `Contact` → `Contact`.
pub fn object_type(object: &Object) -> String {
    let stem = strip_suffix(&object.api_name);
    let name = stem.to_upper_camel_case();
    match object.kind {
        ObjectKind::CustomMetadataType => format!("{name}Mdt"),
        _ => name,
    }
}

/// The name of the `static` holding an object's describe: `STRIPE_CUSTOMER`.
pub fn object_static(object: &Object) -> String {
    object_type(object).to_shouty_snake_case()
}

/// The Rust field name: `Stripe_Customer_ID__c` → `stripe_customer_id`, `SystemModstamp` →
/// `system_modstamp`.
pub fn field_name(field: &Field) -> String {
    let stem = strip_suffix(&field.api_name);
    let name = stem.to_snake_case();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("f_{name}")
    } else {
        name
    }
}

/// The Rust field holding a reference to the parent by external id: `Contact__c` (relationship
/// `Contact__r`) → `contact_ref`, `AccountId` (relationship `Account`) → `account_ref`.
pub fn ref_field_name(field: &Field) -> Option<String> {
    let rel = field.relationship_name.as_deref()?;
    Some(format!("{}_ref", strip_suffix(rel).to_snake_case()))
}

/// The enum name for a picklist field: the global value set's name, or object + field.
pub fn picklist_type(object: &Object, field: &Field) -> String {
    match field
        .picklist
        .as_ref()
        .and_then(|p| p.global_value_set.as_ref())
    {
        Some(set) => set.to_upper_camel_case(),
        None => format!(
            "{}{}",
            object_type(object),
            strip_suffix(&field.api_name).to_upper_camel_case()
        ),
    }
}

/// The enum name for references to `parent` by external id: `StripeCustomerRef`.
pub fn ref_type(parent: &Object) -> String {
    format!("{}Ref", object_type(parent))
}

/// A variant name for a picklist value or external id field: `Send to Stripe` → `SendToStripe`,
/// `past_due` → `PastDue`, `Mr.` → `Mr`.
pub fn variant(value: &str) -> String {
    let name = strip_suffix(value).to_upper_camel_case();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{name}")
    } else {
        name
    }
}

/// Variant names for a list of values, made unique by a numeric suffix, and never `reserved`.
pub fn variants<'a>(values: impl IntoIterator<Item = &'a str>, reserved: &[&str]) -> Vec<String> {
    let mut used: BTreeMap<String, usize> = reserved.iter().map(|r| (r.to_string(), 1)).collect();
    values
        .into_iter()
        .map(|v| {
            let base = variant(v);
            let count = used.entry(base.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                base
            } else if reserved.contains(&base.as_str()) && *count == 2 {
                format!("{base}Value")
            } else {
                format!("{base}{count}")
            }
        })
        .collect()
}

/// The generated type names of a model that collide with each other, as messages.
pub fn type_collisions(model: &Model) -> Vec<String> {
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut claim = |name: String, owner: String| {
        if let Some(first) = owners.get(&name) {
            if first != &owner {
                problems.push(format!(
                    "{owner} and {first} would both generate the Rust type `{name}`"
                ));
            }
        } else {
            owners.insert(name, owner);
        }
    };
    for object in &model.objects {
        let ty = object_type(object);
        claim(ty.clone(), format!("object `{}`", object.api_name));
        claim(
            format!("{ty}Write"),
            format!("object `{}`", object.api_name),
        );
        claim(ref_type(object), format!("object `{}`", object.api_name));
        for field in &object.fields {
            if field.picklist.is_some() {
                let owner = match field
                    .picklist
                    .as_ref()
                    .and_then(|p| p.global_value_set.as_ref())
                {
                    Some(set) => format!("global value set `{set}`"),
                    None => format!("picklist `{}.{}`", object.api_name, field.api_name),
                };
                claim(picklist_type(object, field), owner);
            }
        }
    }
    for object in &model.objects {
        let mut fields: BTreeMap<String, &str> = BTreeMap::new();
        for field in &object.fields {
            let name = field_name(field);
            let names = match ref_field_name(field) {
                Some(reference) if field.field_type.is_reference() => vec![reference, name],
                _ => vec![name],
            };
            for name in names {
                if let Some(first) = fields.insert(name.clone(), &field.api_name) {
                    problems.push(format!(
                        "fields `{}.{first}` and `{}.{}` would both generate the Rust field `{name}`",
                        object.api_name, object.api_name, field.api_name
                    ));
                }
            }
        }
    }
    problems
}

fn strip_suffix(api_name: &str) -> &str {
    ["__c", "__mdt", "__r"]
        .iter()
        .find_map(|s| api_name.strip_suffix(s))
        .unwrap_or(api_name)
}
