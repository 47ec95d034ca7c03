//! `codegen::openapi::trim`: closure, prose removal, id-only references, determinism, and the
//! reproducibility of the committed `openapi/stripe/spec.json`.

use std::path::{Path, PathBuf};

use codegen::openapi::{Error, Selection, to_canonical_json, trim};
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen sits in the workspace")
        .to_owned()
}

/// Where the full spec is expected: `STRIPE_FULL_SPEC`, else `../shared/openapi/stripe.com.json`
/// next to the repository.
fn full_spec_path() -> PathBuf {
    match std::env::var_os("STRIPE_FULL_SPEC") {
        Some(path) => PathBuf::from(path),
        None => repo_root().join("../shared/openapi/stripe.com.json"),
    }
}

/// A small spec in the style of Stripe's 2022 specs: no `x-stripe*` extensions besides
/// `x-expansionResources`, event types listed on `POST /v1/webhook_endpoints`.
fn small_spec() -> Value {
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Stripe API", "version": "2022-11-15", "description": "The Stripe REST API."},
        "servers": [{"url": "https://api.stripe.com/"}],
        "paths": {
            "/v1/customers": {
                "post": {
                    "description": "<p>Creates a new customer object.</p>",
                    "operationId": "PostCustomers",
                    "requestBody": {
                        "content": {"application/x-www-form-urlencoded": {
                            "encoding": {"metadata": {"explode": true, "style": "deepObject"}},
                            "schema": {
                                "additionalProperties": false,
                                "properties": {
                                    "email": {"description": "Customer's email address.", "maxLength": 512, "type": "string"},
                                    "metadata": {"anyOf": [
                                        {"additionalProperties": {"type": "string"}, "type": "object"},
                                        {"enum": [""], "type": "string"}
                                    ]}
                                },
                                "type": "object"
                            }
                        }},
                        "required": false
                    },
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/customer"}}}, "description": "Successful response."},
                        "default": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}, "description": "Error response."}
                    }
                }
            },
            "/v1/accounts": {
                "get": {
                    "operationId": "GetAccounts",
                    "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/account"}}}, "description": "Successful response."}}
                }
            },
            "/v1/webhook_endpoints": {
                "post": {
                    "description": "<p>A webhook endpoint must have a <code>url</code>.</p>",
                    "operationId": "PostWebhookEndpoints",
                    "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                        "properties": {
                            "enabled_events": {"description": "The list of events to enable.", "items": {"enum": ["*", "customer.created", "customer.updated", "invoice.paid"], "type": "string"}, "type": "array"},
                            "url": {"type": "string"}
                        },
                        "required": ["enabled_events", "url"],
                        "type": "object"
                    }}}},
                    "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/webhook_endpoint"}}}, "description": "Successful response."}}
                }
            }
        },
        "components": {
            "securitySchemes": {"basicAuth": {"description": "Basic HTTP authentication.", "scheme": "basic", "type": "http"}},
            "schemas": {
                "customer": {
                    "description": "This object represents a customer of your business.",
                    "properties": {
                        "address": {"anyOf": [{"$ref": "#/components/schemas/address"}], "description": "The customer's address.", "nullable": true},
                        "description": {"description": "An arbitrary string.", "nullable": true, "type": "string"},
                        "id": {"type": "string"},
                        "object": {"enum": ["customer"], "type": "string"},
                        "owner": {
                            "anyOf": [{"maxLength": 5000, "type": "string"}, {"$ref": "#/components/schemas/account"}],
                            "description": "The account that owns the customer.",
                            "x-expansionResources": {"oneOf": [{"$ref": "#/components/schemas/account"}]}
                        },
                        "subscription": {
                            "anyOf": [{"maxLength": 5000, "type": "string"}, {"$ref": "#/components/schemas/subscription"}],
                            "nullable": true,
                            "x-expansionResources": {"oneOf": [{"$ref": "#/components/schemas/subscription"}]}
                        }
                    },
                    "required": ["id", "object"],
                    "title": "Customer",
                    "type": "object",
                    "x-expandableFields": ["owner", "subscription"],
                    "x-resourceId": "customer"
                },
                "address": {"properties": {"city": {"nullable": true, "type": "string"}}, "title": "Address", "type": "object"},
                "subscription": {
                    "properties": {
                        "customer": {
                            "anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/customer"}],
                            "x-expansionResources": {"oneOf": [{"$ref": "#/components/schemas/customer"}]}
                        },
                        "id": {"type": "string"},
                        "object": {"enum": ["subscription"], "type": "string"},
                        "status": {"enum": ["active", "paused"], "type": "string"}
                    },
                    "required": ["customer", "id", "object", "status"],
                    "type": "object"
                },
                "account": {
                    "properties": {
                        "id": {"type": "string"},
                        "object": {"enum": ["account"], "type": "string"},
                        "settings": {"$ref": "#/components/schemas/account_settings"}
                    },
                    "required": ["id", "object"],
                    "type": "object"
                },
                "account_settings": {"properties": {"branding": {"type": "string"}}, "type": "object"},
                "error": {"properties": {"message": {"type": "string"}}, "type": "object"},
                "webhook_endpoint": {"properties": {"id": {"type": "string"}}, "type": "object"}
            }
        }
    })
}

fn selection(operations: &[&str], resources: &[&str], events: &[&str]) -> Selection {
    let quote = |items: &[&str]| {
        items
            .iter()
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        "operations = [{}]\nresources = [{}]\nevents = [{}]\n",
        quote(operations),
        quote(resources),
        quote(events)
    );
    Selection::from_toml_str(&text, "<test>").expect("valid selection")
}

fn schema_names(trimmed: &Value) -> Vec<&str> {
    trimmed["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn keeps_the_closure_and_reduces_expandable_references_outside_it() {
    let trimmed = trim(
        &small_spec(),
        &selection(&["POST /v1/customers"], &["customer"], &[]),
    )
    .unwrap();
    // `address` is reached directly; `subscription` only through an expandable field and is
    // not selected; `account` likewise, and `account_settings` only through `account`.
    assert_eq!(schema_names(&trimmed), ["address", "customer"]);
    let owner = &trimmed["components"]["schemas"]["customer"]["properties"]["owner"];
    assert_eq!(
        owner["anyOf"][1],
        json!({"type": "object", "x-trimmed": "#/components/schemas/account"})
    );
    assert_eq!(
        owner["x-expansionResources"]["oneOf"][0],
        json!({"type": "object", "x-trimmed": "#/components/schemas/account"})
    );
}

#[test]
fn follows_expandable_references_into_selected_resources() {
    let trimmed = trim(
        &small_spec(),
        &selection(&["POST /v1/customers"], &["customer", "subscription"], &[]),
    )
    .unwrap();
    assert_eq!(
        schema_names(&trimmed),
        ["address", "customer", "subscription"]
    );
    let field = &trimmed["components"]["schemas"]["customer"]["properties"]["subscription"];
    assert_eq!(
        field["anyOf"][1],
        json!({"$ref": "#/components/schemas/subscription"})
    );
}

#[test]
fn a_resource_reached_directly_stays_typed_behind_expandable_fields_too() {
    // `GET /v1/accounts` returns an account, so `customer.owner` can keep its typed reference.
    let trimmed = trim(
        &small_spec(),
        &selection(
            &["POST /v1/customers", "GET /v1/accounts"],
            &["customer"],
            &[],
        ),
    )
    .unwrap();
    assert_eq!(
        schema_names(&trimmed),
        ["account", "account_settings", "address", "customer"]
    );
    let owner = &trimmed["components"]["schemas"]["customer"]["properties"]["owner"];
    assert_eq!(
        owner["anyOf"][1],
        json!({"$ref": "#/components/schemas/account"})
    );
}

#[test]
fn drops_prose_and_error_responses_but_keeps_properties_named_description() {
    let trimmed = trim(
        &small_spec(),
        &selection(&["POST /v1/customers"], &["customer"], &[]),
    )
    .unwrap();
    let customer = &trimmed["components"]["schemas"]["customer"];
    assert!(customer.get("description").is_none());
    assert_eq!(
        customer["properties"]["description"],
        json!({"nullable": true, "type": "string"})
    );
    let op = &trimmed["paths"]["/v1/customers"]["post"];
    assert!(op.get("description").is_none());
    assert!(op["responses"].get("default").is_none());
    assert_eq!(
        op["responses"]["200"]["description"],
        "Successful response."
    );
    let email = &op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]
        ["email"];
    assert_eq!(email, &json!({"maxLength": 512, "type": "string"}));
    assert_eq!(
        trimmed["info"],
        json!({"title": "Stripe API", "version": "2022-11-15"})
    );
    assert!(
        trimmed["components"]["securitySchemes"]["basicAuth"]
            .get("description")
            .is_none()
    );
    assert!(!to_canonical_json(&trimmed).contains("customer of your business"));
}

#[test]
fn keeps_the_event_type_list_of_webhook_endpoints() {
    let trimmed = trim(
        &small_spec(),
        &selection(
            &["POST /v1/customers"],
            &["customer"],
            &["customer.created"],
        ),
    )
    .unwrap();
    let op = &trimmed["paths"]["/v1/webhook_endpoints"]["post"];
    assert!(op.get("x-trimmed").is_some());
    let properties =
        &op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"];
    assert_eq!(properties.as_object().unwrap().len(), 1);
    assert_eq!(
        properties["enabled_events"]["items"]["enum"],
        json!(["*", "customer.created", "customer.updated", "invoice.paid"])
    );
    assert_eq!(
        codegen::openapi::event_types(&trimmed),
        ["customer.created", "customer.updated", "invoice.paid"]
    );
}

#[test]
fn newer_specs_keep_handled_event_schemas_and_stub_the_others() {
    let mut spec = small_spec();
    let schemas = spec["components"]["schemas"].as_object_mut().unwrap();
    for (event, object) in [
        ("customer.created", "customer"),
        ("account.updated", "account"),
    ] {
        schemas.insert(
            event.to_owned(),
            json!({
                "description": "Occurs whenever something happens.",
                "properties": {"object": {"$ref": format!("#/components/schemas/{object}")}},
                "required": ["object"],
                "type": "object",
                "x-stripeEvent": {"type": event}
            }),
        );
    }
    schemas.get_mut("customer").unwrap()["x-stripeResource"] =
        json!({"class_name": "Customer", "has_collection_class": true, "in_package": ""});
    spec["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/v1/webhook_endpoints");

    let trimmed = trim(
        &spec,
        &selection(
            &["POST /v1/customers"],
            &["customer"],
            &["customer.created"],
        ),
    )
    .unwrap();
    let schemas = &trimmed["components"]["schemas"];
    assert_eq!(
        schemas["customer.created"]["properties"]["object"],
        json!({"$ref": "#/components/schemas/customer"})
    );
    assert!(schemas["customer.created"].get("description").is_none());
    assert_eq!(
        schemas["account.updated"]["x-stripeEvent"],
        json!({"type": "account.updated"})
    );
    assert!(schemas["account.updated"].get("properties").is_none());
    assert!(schemas.get("account").is_none());
    assert_eq!(
        schemas["customer"]["x-stripeResource"]["class_name"],
        json!("Customer")
    );
    assert_eq!(
        codegen::openapi::event_types(&trimmed),
        ["account.updated", "customer.created"]
    );
}

#[test]
fn reports_selections_the_spec_cannot_satisfy() {
    let spec = small_spec();
    let missing_op = trim(&spec, &selection(&["GET /v1/nowhere"], &[], &[])).unwrap_err();
    assert!(matches!(missing_op, Error::MissingOperation { .. }));
    assert!(
        missing_op.to_string().contains("GET /v1/nowhere"),
        "{missing_op}"
    );

    let missing_resource = trim(&spec, &selection(&[], &["plan"], &[])).unwrap_err();
    assert!(
        missing_resource.to_string().contains("`plan`"),
        "{missing_resource}"
    );

    let missing_event = trim(&spec, &selection(&[], &[], &["customer.exploded"])).unwrap_err();
    assert!(
        missing_event.to_string().contains("customer.exploded"),
        "{missing_event}"
    );

    let bad =
        Selection::from_toml_str("operations = [\"FETCH /v1/customers\"]", "<test>").unwrap_err();
    assert!(bad.to_string().contains("FETCH /v1/customers"), "{bad}");
    let unknown_key = Selection::from_toml_str("operation = []", "sel.toml").unwrap_err();
    assert!(
        unknown_key.to_string().contains("sel.toml"),
        "{unknown_key}"
    );
}

#[test]
fn canonical_json_sorts_keys_indents_by_two_and_ends_with_a_newline() {
    let value = json!({"b": [1, {"d": null, "c": "x\"y"}], "a": {}, "e": []});
    assert_eq!(
        to_canonical_json(&value),
        "{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"c\": \"x\\\"y\",\n      \"d\": null\n    }\n  ],\n  \"e\": []\n}\n"
    );
}

#[test]
fn trimming_is_deterministic() {
    let sel = selection(
        &["POST /v1/customers", "GET /v1/accounts"],
        &["customer"],
        &["invoice.paid"],
    );
    let first = to_canonical_json(&trim(&small_spec(), &sel).unwrap());
    let second = to_canonical_json(&trim(&small_spec(), &sel).unwrap());
    assert_eq!(first, second);
}

#[test]
fn committed_spec_is_canonical_and_small() {
    let path = repo_root().join("openapi/stripe/spec.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        to_canonical_json(&spec),
        text,
        "{} is not in canonical form",
        path.display()
    );
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    assert!(
        schemas.len() < 350,
        "{} schemas: the closure grew; check expandable references",
        schemas.len()
    );
    let selection =
        Selection::from_path(&repo_root().join("openapi/stripe/selection.toml")).unwrap();
    for resource in &selection.resources {
        assert!(
            schemas.contains_key(resource),
            "{resource} missing from spec.json"
        );
    }
    for op in &selection.operations {
        assert!(
            spec["paths"][&op.path][op.method.as_lower()].is_object(),
            "{op} missing from spec.json"
        );
    }
}

/// Re-trims Stripe's full spec and compares with the committed `openapi/stripe/spec.json`.
/// Needs the full spec (see `openapi/README.md`); says so loudly when it is absent.
#[test]
fn committed_spec_is_reproducible_from_the_full_spec() {
    let full = full_spec_path();
    if !full.exists() {
        loud(&format!(
            "\n*** SKIPPED committed_spec_is_reproducible_from_the_full_spec: {} not found.\n\
             *** openapi/stripe/spec.json was NOT checked against Stripe's spec; see\n\
             *** openapi/README.md to fetch it, or set STRIPE_FULL_SPEC.\n",
            full.display()
        ));
        return;
    }
    let spec = codegen::openapi::read_spec(&full).unwrap();
    let selection =
        Selection::from_path(&repo_root().join("openapi/stripe/selection.toml")).unwrap();
    let trimmed = to_canonical_json(&trim(&spec, &selection).unwrap());
    let committed = std::fs::read_to_string(repo_root().join("openapi/stripe/spec.json")).unwrap();
    assert!(
        trimmed == committed,
        "openapi/stripe/spec.json differs from trimming {}: run `codegen trim` (openapi/README.md)",
        full.display()
    );
}

/// Writes to the process's stderr directly, past the test harness's output capture, so that a
/// skipped check shows even in a plain `cargo test`.
fn loud(message: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(message.as_bytes());
}
