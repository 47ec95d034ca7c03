//! `codegen::openapi::generate`: the same code from specs with and without Stripe's `x-stripe*`
//! extensions, and snapshots of representative generated items of the committed spec.

use std::path::{Path, PathBuf};

use codegen::openapi::{GeneratedSources, Selection, generate};
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen sits in the workspace")
        .to_owned()
}

fn list_of(item: &str) -> Value {
    json!({
        "properties": {
            "data": {"items": {"$ref": format!("#/components/schemas/{item}")}, "type": "array"},
            "has_more": {"type": "boolean"},
            "object": {"enum": ["list"], "type": "string"},
            "url": {"type": "string"}
        },
        "required": ["data", "has_more", "object", "url"],
        "type": "object"
    })
}

fn ok(schema: Value) -> Value {
    json!({"200": {"content": {"application/json": {"schema": schema}}, "description": "Successful response."}})
}

/// A spec in the style of Stripe's 2022 specs: no `x-stripeResource`, `x-stripeOperations` or
/// `x-stripeEvent`; event types listed by `POST /v1/webhook_endpoints`.
fn legacy_spec() -> Value {
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Stripe API", "version": "2022-11-15"},
        "paths": {
            "/v1/customers": {
                "get": {
                    "operationId": "GetCustomers",
                    "parameters": [
                        {"in": "query", "name": "created", "required": false, "style": "deepObject", "explode": true, "schema": {"anyOf": [
                            {"properties": {"gt": {"type": "integer"}, "lte": {"type": "integer"}}, "title": "range_query_specs", "type": "object"},
                            {"type": "integer"}
                        ]}},
                        {"in": "query", "name": "email", "required": false, "schema": {"type": "string"}},
                        {"in": "query", "name": "expand", "required": false, "schema": {"items": {"type": "string"}, "type": "array"}},
                        {"in": "query", "name": "limit", "required": false, "schema": {"type": "integer"}}
                    ],
                    "responses": ok(list_of("customer"))
                },
                "post": {
                    "operationId": "PostCustomers",
                    "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                        "properties": {
                            "address": {"anyOf": [
                                {"properties": {"city": {"type": "string"}, "line1": {"type": "string"}}, "required": ["line1"], "title": "optional_fields_address", "type": "object"},
                                {"enum": [""], "type": "string"}
                            ]},
                            "email": {"type": "string"},
                            "expand": {"items": {"type": "string"}, "type": "array"},
                            "metadata": {"anyOf": [{"additionalProperties": {"type": "string"}, "type": "object"}, {"enum": [""], "type": "string"}]},
                            "tax_exempt": {"enum": ["", "exempt", "none", "reverse"], "type": "string"}
                        },
                        "type": "object"
                    }}}},
                    "responses": ok(json!({"$ref": "#/components/schemas/customer"}))
                }
            },
            "/v1/customers/{customer}": {
                "get": {
                    "operationId": "GetCustomersCustomer",
                    "parameters": [{"in": "path", "name": "customer", "required": true, "schema": {"type": "string"}}],
                    "responses": ok(json!({"anyOf": [{"$ref": "#/components/schemas/customer"}, {"$ref": "#/components/schemas/deleted_customer"}]}))
                }
            },
            "/v1/events": {
                "get": {
                    "operationId": "GetEvents",
                    "parameters": [{"in": "query", "name": "type", "required": false, "schema": {"type": "string"}}],
                    "responses": ok(list_of("event"))
                }
            },
            "/v1/webhook_endpoints": {
                "post": {
                    "operationId": "PostWebhookEndpoints",
                    "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                        "properties": {"enabled_events": {"items": {"enum": ["*", "customer.created", "customer.deleted"], "type": "string"}, "type": "array"}},
                        "type": "object"
                    }}}},
                    "responses": ok(json!({"type": "object"}))
                }
            }
        },
        "components": {"schemas": {
            "customer": {
                "properties": {
                    "address": {"anyOf": [{"$ref": "#/components/schemas/address"}], "nullable": true},
                    "balance": {"type": "integer"},
                    "default_source": {
                        "anyOf": [{"type": "string"}, {"type": "object", "x-trimmed": "#/components/schemas/card"}],
                        "nullable": true,
                        "x-expansionResources": {"oneOf": [{"type": "object", "x-trimmed": "#/components/schemas/card"}]}
                    },
                    "email": {"nullable": true, "type": "string"},
                    "id": {"type": "string"},
                    "metadata": {"additionalProperties": {"type": "string"}, "type": "object"},
                    "object": {"enum": ["customer"], "type": "string"},
                    "referrer": {
                        "anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/customer"}],
                        "nullable": true,
                        "x-expansionResources": {"oneOf": [{"$ref": "#/components/schemas/customer"}]}
                    },
                    "tax_exempt": {"enum": ["exempt", "none", "reverse"], "nullable": true, "type": "string"},
                    "type": {"type": "string"}
                },
                "required": ["balance", "email", "id", "metadata", "object"],
                "title": "Customer",
                "type": "object",
                "x-resourceId": "customer"
            },
            "deleted_customer": {
                "properties": {
                    "deleted": {"enum": [true], "type": "boolean"},
                    "id": {"type": "string"},
                    "object": {"enum": ["customer"], "type": "string"}
                },
                "required": ["deleted", "id", "object"],
                "type": "object",
                "x-resourceId": "deleted_customer"
            },
            "address": {"properties": {"city": {"nullable": true, "type": "string"}, "next": {"anyOf": [{"$ref": "#/components/schemas/address"}], "nullable": true}}, "type": "object"},
            "event": {
                "properties": {
                    "api_version": {"nullable": true, "type": "string"},
                    "data": {"$ref": "#/components/schemas/notification_event_data"},
                    "id": {"type": "string"},
                    "object": {"enum": ["event"], "type": "string"},
                    "type": {"type": "string"}
                },
                "required": ["data", "id", "object", "type"],
                "type": "object",
                "x-resourceId": "event"
            },
            "notification_event_data": {
                "properties": {"object": {"type": "object"}, "previous_attributes": {"type": "object"}},
                "required": ["object"],
                "type": "object"
            }
        }}
    })
}

/// The same API described the way newer specs do: `x-stripeResource` on resources,
/// `x-stripeOperations` naming their methods, one `x-stripeEvent` schema per event type, and no
/// `enabled_events` list to read event types from.
fn extended_spec() -> Value {
    let mut spec = legacy_spec();
    spec["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/v1/webhook_endpoints");
    let schemas = spec["components"]["schemas"].as_object_mut().unwrap();
    schemas.get_mut("customer").unwrap()["x-stripeResource"] =
        json!({"class_name": "Customer", "has_collection_class": true, "in_package": ""});
    schemas.get_mut("customer").unwrap()["x-stripeOperations"] = json!([
        {"method_name": "list", "method_on": "service", "method_type": "list", "operation": "get", "path": "/v1/customers"},
        {"method_name": "create", "method_on": "service", "method_type": "create", "operation": "post", "path": "/v1/customers"},
        {"method_name": "retrieve", "method_on": "service", "method_type": "retrieve", "operation": "get", "path": "/v1/customers/{customer}"}
    ]);
    schemas.get_mut("event").unwrap()["x-stripeResource"] =
        json!({"class_name": "Event", "in_package": ""});
    for event in ["customer.created", "customer.deleted"] {
        schemas.insert(
            event.to_owned(),
            json!({
                "properties": {"object": {"$ref": "#/components/schemas/customer"}},
                "required": ["object"],
                "type": "object",
                "x-stripeEvent": {"type": event}
            }),
        );
    }
    spec
}

fn everything(spec: &Value) -> Selection {
    let mut selection = Selection::all(spec);
    selection
        .operations
        .retain(|op| !op.path.contains("webhook"));
    selection
}

fn generated(spec: &Value) -> GeneratedSources {
    generate(spec, &everything(spec), "test spec").expect("generates")
}

#[test]
fn specs_with_and_without_stripe_extensions_give_the_same_code() {
    let legacy = generated(&legacy_spec());
    let extended = generated(&extended_spec());
    for file in &legacy.files {
        assert_eq!(
            Some(file.contents.as_str()),
            extended.file(&file.name),
            "{} differs",
            file.name
        );
    }
}

#[test]
fn event_types_come_from_enabled_events_or_from_event_schemas() {
    for spec in [legacy_spec(), extended_spec()] {
        let types = generated(&spec).file("types.rs").unwrap().to_owned();
        assert!(types.contains("pub enum EventType {"), "{types}");
        assert_has(&types, "CustomerCreated,");
        assert_has(&types, "\"customer.deleted\" => Self::CustomerDeleted");
        // The wildcard of `enabled_events` is not an event type.
        assert!(!types.contains("\"*\""));
        assert_has(&types, "pub r#type: EventType,");
        assert_has(&types, "pub object: EventObject,");
        assert_has(
            &types,
            "pub previous_attributes: Option<serde_json::Map<String, serde_json::Value>>,",
        );
        // No struct for the `x-stripeEvent` schemas themselves.
        assert!(!types.contains("pub struct CustomerCreated"));
    }
}

#[test]
fn a_spec_without_events_gets_no_event_types() {
    let mut spec = legacy_spec();
    spec["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/v1/webhook_endpoints");
    let types = generated(&spec).file("types.rs").unwrap().to_owned();
    assert!(!types.contains("EventType"));
    assert_has(&types, "pub r#type: String,");
}

/// Whether `haystack` contains `needle`, ignoring whitespace (formatting may wrap lines).
#[track_caller]
fn assert_has(haystack: &str, needle: &str) {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert!(
        squash(haystack).contains(&squash(needle)),
        "generated code lacks `{needle}`:\n{haystack}"
    );
}

#[test]
fn generated_shapes() {
    let sources = generated(&legacy_spec());
    let types = sources.file("types.rs").unwrap();
    let params = sources.file("params.rs").unwrap();
    let operations = sources.file("operations.rs").unwrap();
    for header in [types, params, operations] {
        assert!(header.starts_with("// @generated by codegen::openapi from test spec.\n"));
    }
    // Forward-compatible enums, maps, expandable references, boxing of recursion.
    assert_has(types, "Unknown(String),");
    assert_has(
        types,
        "pub metadata: std::collections::BTreeMap<String, String>,",
    );
    assert_has(
        types,
        "pub default_source: Option<crate::Expandable<crate::Opaque>>,",
    );
    assert_has(types, "pub referrer: Option<crate::Expandable<Customer>>,");
    assert_has(types, "pub next: Option<Box<Address>>,");
    assert_has(types, "pub enum CustomerOrDeletedCustomer {");
    assert_has(
        types,
        "(Some(\"customer\"), true) => { Self::DeletedCustomer(parse_object",
    );
    assert_has(types, "impl crate::client::Identified for Customer {");
    // Required but nullable: `None` for null, an error when absent.
    assert_has(
        types,
        "#[serde(deserialize_with = \"required_nullable\")] pub email: Option<String>,",
    );
    assert_has(types, "fn required_nullable<'de, D, T>(deserializer: D)");
    assert_has(types, "/// `email`: always present, `None` when null.");
    // Request side: `expand` is a request option, "" unsets, anyOf of kinds is untagged.
    assert!(!params.contains("pub expand"));
    assert_has(
        params,
        "pub metadata: Option<crate::Unsettable<std::collections::BTreeMap<String, String>>>,",
    );
    assert_has(
        params,
        "pub address: Option<crate::Unsettable<CreateCustomerAddress>>,",
    );
    assert_has(params, "pub fn new(line1: String) -> Self");
    assert_has(
        params,
        "#[serde(untagged)]\npub enum ListCustomersCreated {",
    );
    assert_has(
        params,
        "#[derive(Debug, Clone, Default, serde::Serialize)]\npub struct ListCustomersParams {",
    );
    // Operations call the client runtime, percent-encode path parameters, paginate lists.
    assert_has(operations, "pub async fn create_customer(");
    assert_has(operations, "pub async fn list_customers(");
    assert_has(operations, "pub fn list_customers_paginate(");
    assert_has(operations, "pub async fn retrieve_customer(");
    assert_has(
        operations,
        "format!(\"/v1/customers/{}\", crate::client::form::path_segment(customer))",
    );
    assert_has(
        operations,
        "-> Result<crate::client::List<crate::Customer>, crate::client::Error>",
    );
}

#[test]
fn selections_the_spec_cannot_satisfy_are_errors() {
    let spec = legacy_spec();
    let mut selection = everything(&spec);
    selection.events.push("customer.teleported".to_owned());
    let error = generate(&spec, &selection, "test spec").unwrap_err();
    assert!(error.to_string().contains("customer.teleported"), "{error}");

    let mut selection = everything(&spec);
    selection
        .operations
        .push(codegen::openapi::OperationRef::parse("DELETE /v1/nowhere").unwrap());
    let error = generate(&spec, &selection, "test spec").unwrap_err();
    assert!(error.to_string().contains("DELETE /v1/nowhere"), "{error}");
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(generated(&legacy_spec()), generated(&legacy_spec()));
}

/// Items named `names` of a generated file (with their impls), formatted on their own.
fn items(source: &str, names: &[&str]) -> String {
    let file = syn::parse_file(source).expect("generated code parses");
    let wanted = |ident: &syn::Ident| names.iter().any(|n| ident == n);
    let kept: Vec<syn::Item> = file
        .items
        .into_iter()
        .filter(|item| match item {
            syn::Item::Struct(s) => wanted(&s.ident),
            syn::Item::Enum(e) => wanted(&e.ident),
            syn::Item::Impl(i) => match &*i.self_ty {
                syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| wanted(&s.ident)),
                _ => false,
            },
            _ => false,
        })
        .collect();
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: kept,
    })
}

/// Client methods named `names`.
fn methods(source: &str, names: &[&str]) -> String {
    let file = syn::parse_file(source).expect("generated code parses");
    let mut kept = Vec::new();
    for item in file.items {
        if let syn::Item::Impl(mut block) = item {
            block.items.retain(|i| match i {
                syn::ImplItem::Fn(f) => names.iter().any(|n| f.sig.ident == n),
                _ => false,
            });
            if !block.items.is_empty() {
                kept.push(syn::Item::Impl(block));
            }
        }
    }
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: kept,
    })
}

fn committed() -> GeneratedSources {
    let root = repo_root();
    let spec = codegen::openapi::read_spec(&root.join("openapi/stripe/spec.json")).unwrap();
    let selection = Selection::from_path(&root.join("openapi/stripe/selection.toml")).unwrap();
    generate(
        &spec,
        &selection,
        "openapi/stripe/spec.json and openapi/stripe/selection.toml",
    )
    .unwrap()
}

#[test]
fn snapshot_of_committed_spec_resources() {
    let sources = committed();
    let types = sources.file("types.rs").unwrap();
    insta::assert_snapshot!(
        "openapi_subscription",
        items(
            types,
            &["Subscription", "SubscriptionStatus", "SubscriptionItemList"]
        )
    );
    insta::assert_snapshot!(
        "openapi_customer_or_deleted",
        items(types, &["CustomerOrDeletedCustomer"])
    );
    insta::assert_snapshot!(
        "openapi_event",
        items(types, &["Event", "NotificationEventData"])
    );
}

#[test]
fn snapshot_of_committed_spec_requests() {
    let sources = committed();
    insta::assert_snapshot!(
        "openapi_create_customer_params",
        items(
            sources.file("params.rs").unwrap(),
            &[
                "CreateCustomerParams",
                "CreateCustomerShipping",
                "CreateCustomerTaxExempt"
            ]
        )
    );
    insta::assert_snapshot!(
        "openapi_list_subscriptions_params",
        items(
            sources.file("params.rs").unwrap(),
            &["ListSubscriptionsParams", "ListSubscriptionsCreated"]
        )
    );
    insta::assert_snapshot!(
        "openapi_operations",
        methods(
            sources.file("operations.rs").unwrap(),
            &[
                "create_customer",
                "retrieve_customer",
                "list_subscriptions",
                "list_subscriptions_paginate",
                "expire_checkout_session",
            ]
        )
    );
}
