//! Composite (`POST /composite`): up to 25 subrequests run in order in one call, later
//! ones referring to earlier results with `@{referenceId.field}` (or
//! `@{referenceId.records[0].Id}`), and `allOrNone` rolling everything back when one
//! fails. The answer is 200 with a `compositeResponse` entry per subrequest even when
//! subrequests fail.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value as Json, json};

use crate::errors::ApiError;
use crate::rest::{self, ApiRequest, Cx, Reply, ReplyBody};
use crate::store::Txn;
use crate::wire;

/// Most subrequests per call.
const MAX_SUBREQUESTS: usize = 25;
/// Most query and sObject Collections subrequests per call.
const MAX_QUERIES_AND_COLLECTIONS: usize = 5;

const ROLLED_BACK: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

/// One subrequest as given.
struct Sub {
    method: String,
    url: String,
    reference_id: String,
    body: Option<Json>,
}

/// The result of one subrequest.
struct Outcome {
    status: u16,
    body: Json,
    headers: Map<String, Json>,
}

impl Outcome {
    fn halted(message: String) -> Self {
        Self {
            status: 400,
            body: json!([{"errorCode": "PROCESSING_HALTED", "message": message}]),
            headers: Map::new(),
        }
    }
}

/// `POST /composite`.
pub(crate) fn handle(cx: &mut Cx<'_>, request: &ApiRequest) -> Result<Reply, ApiError> {
    let body = wire::parse_object(&request.body)?;
    let all_or_none = body
        .get("allOrNone")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let subs = read_subrequests(&body)?;
    let mut outputs: HashMap<String, Json> = HashMap::new();
    let mut outcomes: Vec<(String, Outcome)> = Vec::with_capacity(subs.len());
    let mut local = Txn::new();
    let mut failed = false;
    for sub in &subs {
        if all_or_none && failed {
            outcomes.push((
                sub.reference_id.clone(),
                Outcome::halted(ROLLED_BACK.to_owned()),
            ));
            continue;
        }
        let outcome = match run(cx, &mut local, sub, &outputs) {
            Ok(outcome) => outcome,
            Err(message) => Outcome::halted(message),
        };
        if outcome.status >= 400 {
            failed = true;
        } else {
            outputs.insert(sub.reference_id.clone(), outcome.body.clone());
        }
        outcomes.push((sub.reference_id.clone(), outcome));
    }
    if all_or_none && failed {
        cx.org.rollback(local);
        for (_, outcome) in &mut outcomes {
            if outcome.status < 400 {
                *outcome = Outcome::halted(ROLLED_BACK.to_owned());
            }
        }
    } else {
        cx.txn.absorb(local);
    }
    let responses: Vec<Json> = outcomes
        .into_iter()
        .map(|(reference_id, outcome)| {
            json!({
                "body": outcome.body,
                "httpHeaders": outcome.headers,
                "httpStatusCode": outcome.status,
                "referenceId": reference_id,
            })
        })
        .collect();
    Ok(Reply::json(200, json!({"compositeResponse": responses})))
}

/// Checks the request's shape; anything wrong fails the whole call with 400.
fn read_subrequests(body: &Map<String, Json>) -> Result<Vec<Sub>, ApiError> {
    let Some(Json::Array(items)) = body.get("compositeRequest") else {
        return Err(ApiError::json_parser(
            "The request must have a \"compositeRequest\" array",
        ));
    };
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "INVALID_API_INPUT",
            "The compositeRequest array must have at least one subrequest",
        ));
    }
    if items.len() > MAX_SUBREQUESTS {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!(
                "A composite request can have at most {MAX_SUBREQUESTS} subrequests, found {}",
                items.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut queries = 0;
    let mut subs = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = |name: &str| item.get(name).and_then(Json::as_str).map(str::to_owned);
        let (Some(method), Some(url), Some(reference_id)) =
            (field("method"), field("url"), field("referenceId"))
        else {
            return Err(ApiError::json_parser(format!(
                "Subrequest {index} must have a method, a url and a referenceId"
            )));
        };
        let valid_id = reference_id
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && reference_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_id {
            return Err(ApiError::bad_request(
                "JSON_PARSER_ERROR",
                format!(
                    "Provided referenceId ('{reference_id}') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_')."
                ),
            ));
        }
        if !seen.insert(reference_id.clone()) {
            return Err(ApiError::bad_request(
                "JSON_PARSER_ERROR",
                format!("Duplicate ReferenceId provided in the request: {reference_id}"),
            ));
        }
        if !matches!(method.as_str(), "GET" | "POST" | "PATCH" | "PUT" | "DELETE") {
            return Err(ApiError::json_parser(format!(
                "Subrequest {reference_id}: unsupported method {method}"
            )));
        }
        let path = resource_path(&url).unwrap_or_default();
        if path.starts_with("query") || path.starts_with("composite/sobjects") {
            queries += 1;
        }
        subs.push(Sub {
            method,
            url,
            reference_id,
            body: item.get("body").cloned(),
        });
    }
    if queries > MAX_QUERIES_AND_COLLECTIONS {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!(
                "A composite request can have at most {MAX_QUERIES_AND_COLLECTIONS} query and sObject Collections subrequests, found {queries}"
            ),
        ));
    }
    Ok(subs)
}

/// The path after `/services/data/vXX.X/`.
fn resource_path(url: &str) -> Option<&str> {
    let after = url.strip_prefix("/services/data/v")?;
    let (_, rest) = after.split_once('/').unwrap_or((after, ""));
    Some(rest)
}

/// Runs one subrequest; `Err` is a PROCESSING_HALTED message for a reference that cannot
/// be resolved.
fn run(
    cx: &mut Cx<'_>,
    txn: &mut Txn,
    sub: &Sub,
    outputs: &HashMap<String, Json>,
) -> Result<Outcome, String> {
    let url = interpolate(&sub.url, outputs)?;
    let body = match &sub.body {
        Some(body) => Some(substitute(body, outputs)?),
        None => None,
    };
    let Some(after) = url.strip_prefix("/services/data/v") else {
        return Ok(error_outcome(ApiError::not_found()));
    };
    let (version, rest) = after.split_once('/').unwrap_or((after, ""));
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query.to_owned())),
        None => (rest, None),
    };
    if path.trim_end_matches('/') == "composite" || path.starts_with("jobs") {
        return Ok(error_outcome(ApiError::bad_request(
            "INVALID_API_INPUT",
            format!("{} is not supported in a composite subrequest", sub.url),
        )));
    }
    let request = ApiRequest {
        method: sub.method.clone(),
        path: path.to_owned(),
        query,
        batch_size: None,
        content_type: "application/json".to_owned(),
        body: body
            .map(|body| body.to_string().into_bytes())
            .unwrap_or_default(),
    };
    let version = version.to_owned();
    let reply = {
        let mut inner = Cx {
            shared: cx.shared,
            org: cx.org,
            txn,
            version: &version,
        };
        rest::dispatch(&mut inner, &request)
    };
    let mut headers = Map::new();
    for (name, value) in reply.headers {
        headers.insert(name, Json::String(value));
    }
    let body = match reply.body {
        ReplyBody::Json(json) => json,
        ReplyBody::Csv(text) => Json::String(text),
        ReplyBody::Empty => Json::Null,
    };
    Ok(Outcome {
        status: reply.status,
        body,
        headers,
    })
}

fn error_outcome(error: ApiError) -> Outcome {
    Outcome {
        status: error.status,
        body: error.body,
        headers: Map::new(),
    }
}

/// A body with every `@{…}` reference replaced: a string that is only a reference takes
/// the referenced value as it is (number, boolean, …); references inside longer strings
/// are replaced by their text.
fn substitute(json: &Json, outputs: &HashMap<String, Json>) -> Result<Json, String> {
    Ok(match json {
        Json::String(text) => {
            let trimmed = text.trim();
            if trimmed.starts_with("@{")
                && trimmed.ends_with('}')
                && trimmed.matches("@{").count() == 1
            {
                resolve(&trimmed[2..trimmed.len() - 1], outputs)?
            } else {
                Json::String(interpolate(text, outputs)?)
            }
        }
        Json::Array(items) => Json::Array(
            items
                .iter()
                .map(|item| substitute(item, outputs))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(key, value)| Ok((key.clone(), substitute(value, outputs)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// `text` with each `@{…}` replaced by the referenced value's text.
fn interpolate(text: &str, outputs: &HashMap<String, Json>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let expression = &rest[start + 2..start + end];
        match resolve(expression, outputs)? {
            Json::String(value) => out.push_str(&value),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The value of `referenceId.field[0].other` in the earlier results.
fn resolve(expression: &str, outputs: &HashMap<String, Json>) -> Result<Json, String> {
    let split = expression.find(['.', '[']).unwrap_or(expression.len());
    let reference_id = &expression[..split];
    let missing = || {
        format!(
            "Invalid reference specified. No value for {expression} found in {reference_id}. Provided referenceId ('{reference_id}') is not valid."
        )
    };
    let mut current = outputs.get(reference_id).ok_or_else(missing)?;
    let mut rest = &expression[split..];
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            current = current.get(&after[..end]).ok_or_else(missing)?;
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or_else(missing)?;
            let index: usize = after[..end].trim().parse().map_err(|_| missing())?;
            current = current.get(index).ok_or_else(missing)?;
            rest = &after[end + 1..];
        } else {
            return Err(missing());
        }
    }
    if current.is_null() {
        return Err(missing());
    }
    Ok(current.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_into_urls_and_bodies() {
        let mut outputs = HashMap::new();
        outputs.insert(
            "NewCustomer".to_owned(),
            json!({"id": "a0000000000001AAA", "success": true}),
        );
        outputs.insert(
            "Found".to_owned(),
            json!({"totalSize": 1, "records": [{"Id": "a01", "Amount__c": 12.5}]}),
        );
        assert_eq!(
            interpolate(
                "/services/data/v62.0/sobjects/X/@{NewCustomer.id}",
                &outputs
            )
            .unwrap(),
            "/services/data/v62.0/sobjects/X/a0000000000001AAA"
        );
        let body = json!({
            "Stripe_Customer__c": "@{NewCustomer.id}",
            "Amount__c": "@{Found.records[0].Amount__c}",
            "Note__c": "for @{Found.records[0].Id} (@{Found.totalSize})",
        });
        assert_eq!(
            substitute(&body, &outputs).unwrap(),
            json!({"Stripe_Customer__c": "a0000000000001AAA", "Amount__c": 12.5, "Note__c": "for a01 (1)"})
        );
        let error = resolve("Missing.id", &outputs).unwrap_err();
        assert!(
            error.starts_with("Invalid reference specified. No value for Missing.id"),
            "{error}"
        );
        assert!(resolve("Found.records[3].Id", &outputs).is_err());
    }
}
