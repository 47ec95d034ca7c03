//! The part of Stripe's API we use: operations we call, resources we read, events we handle.
//!
//! Read from a TOML file (`openapi/stripe/selection.toml`):
//!
//! ```toml
//! operations = ["POST /v1/customers", "GET /v1/customers/{customer}"]
//! resources = ["customer", "subscription"]
//! events = ["customer.created"]
//! ```

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::Error;
use super::spec;

/// An HTTP method of a Stripe operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HttpMethod {
    /// `GET`: parameters go in the query string.
    Get,
    /// `POST`: parameters go in a form-encoded body.
    Post,
    /// `DELETE`: parameters go in the query string.
    Delete,
}

impl HttpMethod {
    /// The method as written in a selection, e.g. `GET`.
    pub fn as_upper(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// The method as a key of an OpenAPI path item, e.g. `get`.
    pub fn as_lower(self) -> &'static str {
        match self {
            HttpMethod::Get => "get",
            HttpMethod::Post => "post",
            HttpMethod::Delete => "delete",
        }
    }

    fn parse(text: &str) -> Option<HttpMethod> {
        match text.to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            "DELETE" => Some(HttpMethod::Delete),
            _ => None,
        }
    }
}

/// One operation: a method and a path template such as `/v1/customers/{customer}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperationRef {
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path template, as in the spec's `paths`.
    pub path: String,
}

impl OperationRef {
    /// Parses `METHOD /path`.
    pub fn parse(entry: &str) -> Result<OperationRef, Error> {
        let bad = || Error::BadOperationEntry {
            entry: entry.to_owned(),
        };
        let (method, path) = entry
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(bad)?;
        let method = HttpMethod::parse(method).ok_or_else(bad)?;
        let path = path.trim();
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            return Err(bad());
        }
        Ok(OperationRef {
            method,
            path: path.to_owned(),
        })
    }
}

impl fmt::Display for OperationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_upper(), self.path)
    }
}

/// The operations, resources and event types to keep from a spec.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// Operations the client calls.
    pub operations: Vec<OperationRef>,
    /// Schema names (keys of `components.schemas`) generated in full even when no operation reaches them.
    pub resources: Vec<String>,
    /// Event types the application handles; each must be an event type of the spec.
    pub events: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SelectionFile {
    #[serde(default)]
    operations: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    events: Vec<String>,
}

impl Selection {
    /// Parses a selection from TOML text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Selection, Error> {
        let file: SelectionFile = toml::from_str(text).map_err(|e| Error::SelectionToml {
            origin: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let operations = file
            .operations
            .iter()
            .map(|entry| OperationRef::parse(entry))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selection {
            operations,
            resources: file.resources,
            events: file.events,
        })
    }

    /// Reads a selection file.
    pub fn from_path(path: &Path) -> Result<Selection, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Selection::from_toml_str(&text, &path.display().to_string())
    }

    /// The selection as TOML, in the format [`Selection::from_toml_str`] reads.
    pub fn to_toml_string(&self) -> String {
        let list = |name: &str, items: &mut dyn Iterator<Item = String>| {
            let mut out = format!("{name} = [\n");
            for item in items {
                // A TOML basic string: the same escapes as JSON for what Stripe's names contain.
                out.push_str(&format!("  {},\n", serde_json::Value::String(item)));
            }
            out.push_str("]\n");
            out
        };
        [
            list(
                "operations",
                &mut self.operations.iter().map(ToString::to_string),
            ),
            list("resources", &mut self.resources.iter().cloned()),
            list("events", &mut self.events.iter().cloned()),
        ]
        .join("\n")
    }

    /// Everything a spec offers: every GET, POST and DELETE operation, every schema, every event type.
    pub fn all(spec_json: &Value) -> Selection {
        let mut operations = Vec::new();
        if let Some(paths) = spec_json.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                for method in [HttpMethod::Get, HttpMethod::Post, HttpMethod::Delete] {
                    let Some(op) = item.get(method.as_lower()) else {
                        continue;
                    };
                    if op.get(spec::TRIMMED).is_some() {
                        continue;
                    }
                    operations.push(OperationRef {
                        method,
                        path: path.clone(),
                    });
                }
            }
        }
        operations.sort();
        let mut resources: Vec<String> = spec_json
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|schemas| {
                schemas
                    .iter()
                    .filter(|(_, schema)| schema.get(spec::X_STRIPE_EVENT).is_none())
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        resources.sort();
        Selection {
            operations,
            resources,
            events: spec::event_types(spec_json),
        }
    }
}
