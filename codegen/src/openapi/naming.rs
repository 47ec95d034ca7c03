//! Rust names for spec names: types, fields, enum variants, methods.

use heck::{ToSnakeCase, ToUpperCamelCase};

use super::selection::HttpMethod;

/// Words that cannot be identifiers, even raw.
const NOT_RAW: [&str; 5] = ["crate", "self", "Self", "super", "_"];

/// Rust keywords (strict and reserved), usable as raw identifiers.
const KEYWORDS: [&str; 50] = [
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "static",
    "struct",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "union",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "macro_rules",
];

/// Type names that generated code uses and a schema must not shadow.
pub(crate) const RESERVED_TYPE_NAMES: [&str; 20] = [
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "Box",
    "String",
    "Vec",
    "Self",
    "Expandable",
    "Opaque",
    "Unsettable",
    "Client",
    "List",
    "Method",
    "RequestOptions",
    "Identified",
    "Error",
    "Value",
];

/// Replaces characters that cannot appear in identifiers with `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `checkout.session` → `CheckoutSession`; a leading digit gets a `V` in front.
pub(crate) fn type_name(name: &str) -> String {
    let camel = sanitize(name).to_upper_camel_case();
    if camel.is_empty() {
        "Unnamed".to_owned()
    } else if camel.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{camel}")
    } else {
        camel
    }
}

/// A field or argument identifier for a property name, as the text of a (possibly raw) identifier.
pub(crate) fn field_name(name: &str) -> String {
    let snake = sanitize(name).to_snake_case();
    let snake = if snake.is_empty() {
        "field".to_owned()
    } else if snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("n{snake}")
    } else {
        snake
    };
    if NOT_RAW.contains(&snake.as_str()) {
        format!("{snake}_")
    } else if KEYWORDS.contains(&snake.as_str()) {
        format!("r#{snake}")
    } else {
        snake
    }
}

/// The name serde sees for a field identifier (raw prefix removed).
pub(crate) fn serde_name(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// An enum variant for a string value: `past_due` → `PastDue`, `` → `Empty`.
pub(crate) fn variant_name(value: &str) -> String {
    if value.is_empty() {
        return "Empty".to_owned();
    }
    let camel = sanitize(value).to_upper_camel_case();
    if camel.is_empty() {
        "Other".to_owned()
    } else if camel.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{camel}")
    } else if camel == "Unknown" || camel == "Self" {
        format!("{camel}Value")
    } else {
        camel
    }
}

/// `subscriptions` → `subscription`, `entries` → `entry`, `addresses` → `address`.
pub(crate) fn singular(word: &str) -> String {
    if word == "people" {
        "person".to_owned()
    } else if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = word
        .strip_suffix("sses")
        .or_else(|| word.strip_suffix("xes"))
        .or_else(|| word.strip_suffix("ches"))
        .or_else(|| word.strip_suffix("shes"))
    {
        format!("{stem}{}", &word[stem.len()..word.len() - 2])
    } else if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        word.to_owned()
    } else if let Some(stem) = word.strip_suffix('s') {
        stem.to_owned()
    } else {
        word.to_owned()
    }
}

/// Whether a path segment names a collection (`customers`), as opposed to an action (`expire`).
fn is_plural(word: &str) -> bool {
    singular(word) != word
}

/// A method name for an operation from its method and path alone, e.g. `create_customer`,
/// `list_subscriptions`, `expire_checkout_session`. `response_tag` is the `object` value of the
/// response (`list`, `search_result` or a resource's).
pub(crate) fn operation_name(method: HttpMethod, path: &str, response_tag: Option<&str>) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .filter(|s| !is_version_segment(s))
        .collect();
    let is_param = |s: &str| s.starts_with('{');
    // Non-parameter segments, a collection followed by a parameter in the singular.
    let nouns = |upto: usize| -> Vec<String> {
        let mut words = Vec::new();
        for (i, segment) in segments[..upto].iter().enumerate() {
            if is_param(segment) {
                continue;
            }
            let followed_by_param = segments.get(i + 1).is_some_and(|next| is_param(next));
            words.push(if followed_by_param {
                singular(segment)
            } else {
                (*segment).to_owned()
            });
        }
        words
    };
    let Some(last) = segments.last() else {
        return method.as_lower().to_owned();
    };
    let name = if is_param(last) {
        let verb = match method {
            HttpMethod::Get => "retrieve",
            HttpMethod::Post => "update",
            HttpMethod::Delete => "delete",
        };
        format!("{verb}_{}", nouns(segments.len()).join("_"))
    } else {
        let before: Vec<String> = nouns(segments.len() - 1);
        let with_last = |word: String| {
            let mut words = before.clone();
            words.push(word);
            words.join("_")
        };
        match (method, response_tag) {
            (HttpMethod::Get, Some("list")) => format!("list_{}", with_last((*last).to_owned())),
            (HttpMethod::Get, Some("search_result")) if *last == "search" => {
                format!("search_{}", before.join("_"))
            }
            (HttpMethod::Get, _) => format!("retrieve_{}", with_last((*last).to_owned())),
            (HttpMethod::Delete, _) => format!("delete_{}", with_last((*last).to_owned())),
            (HttpMethod::Post, _) if is_plural(last) => {
                format!("create_{}", with_last(singular(last)))
            }
            (HttpMethod::Post, Some(tag)) if tag_matches(tag, last) || before.is_empty() => {
                format!("update_{}", with_last((*last).to_owned()))
            }
            (HttpMethod::Post, _) => format!("{last}_{}", before.join("_")),
        }
    };
    sanitize(&name).to_snake_case()
}

fn is_version_segment(segment: &str) -> bool {
    segment.len() >= 2
        && segment.starts_with('v')
        && segment[1..].chars().all(|c| c.is_ascii_digit())
}

/// Whether a response's `object` value (`cash_balance`, `checkout.session`) is the path segment.
fn tag_matches(tag: &str, segment: &str) -> bool {
    tag == segment || tag.rsplit('.').next() == Some(segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_upper_camel_case() {
        assert_eq!(type_name("checkout.session"), "CheckoutSession");
        assert_eq!(type_name("api_errors"), "ApiErrors");
        assert_eq!(type_name("3d_secure"), "V3dSecure");
    }

    #[test]
    fn field_names_escape_keywords() {
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(field_name("amount_off"), "amount_off");
        assert_eq!(serde_name("r#type"), "type");
    }

    #[test]
    fn variant_names_cover_odd_values() {
        assert_eq!(variant_name("past_due"), "PastDue");
        assert_eq!(
            variant_name("customer.subscription.created"),
            "CustomerSubscriptionCreated"
        );
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(variant_name("2022-11-15"), "V20221115");
        assert_eq!(variant_name("unknown"), "UnknownValue");
    }

    #[test]
    fn singular_handles_stripe_collections() {
        for (plural, one) in [
            ("customers", "customer"),
            ("entries", "entry"),
            ("addresses", "address"),
            ("tax_ids", "tax_id"),
            ("people", "person"),
            ("status", "status"),
        ] {
            assert_eq!(singular(plural), one, "{plural}");
        }
    }

    #[test]
    fn operation_names_follow_method_and_path() {
        use HttpMethod::{Delete, Get, Post};
        let cases = [
            (Post, "/v1/customers", Some("customer"), "create_customer"),
            (Get, "/v1/customers", Some("list"), "list_customers"),
            (
                Get,
                "/v1/customers/{customer}",
                Some("customer"),
                "retrieve_customer",
            ),
            (
                Post,
                "/v1/customers/{customer}",
                Some("customer"),
                "update_customer",
            ),
            (
                Delete,
                "/v1/customers/{customer}",
                Some("customer"),
                "delete_customer",
            ),
            (
                Get,
                "/v1/customers/search",
                Some("search_result"),
                "search_customers",
            ),
            (
                Post,
                "/v1/checkout/sessions",
                Some("checkout.session"),
                "create_checkout_session",
            ),
            (
                Post,
                "/v1/checkout/sessions/{session}/expire",
                Some("checkout.session"),
                "expire_checkout_session",
            ),
            (
                Get,
                "/v1/checkout/sessions/{session}/line_items",
                Some("list"),
                "list_checkout_session_line_items",
            ),
            (
                Get,
                "/v1/subscriptions/{subscription_exposed_id}",
                Some("subscription"),
                "retrieve_subscription",
            ),
            (
                Post,
                "/v1/customers/{customer}/cash_balance",
                Some("cash_balance"),
                "update_customer_cash_balance",
            ),
            (Get, "/v1/account", Some("account"), "retrieve_account"),
            (Post, "/v1/account", Some("account"), "update_account"),
            (
                Post,
                "/v1/invoices/{invoice}/pay",
                Some("invoice"),
                "pay_invoice",
            ),
        ];
        for (method, path, tag, expected) in cases {
            assert_eq!(operation_name(method, path, tag), expected, "{path}");
        }
    }
}
