//! The HTTP server: the accept loop, and for each request injected faults, OAuth,
//! authentication, the daily limit and the `Sforce-Limit-Info` header around the REST
//! dispatcher.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value as Json, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};

use crate::SimConfig;
use crate::bulk::Jobs;
use crate::faults::{self, FaultKind, FaultQueue};
use crate::jwt::PublicKey;
use crate::limits;
use crate::oauth::{self, Tokens};
use crate::query::Cursors;
use crate::rest::{self, ApiRequest, Cx, Reply, ReplyBody};
use crate::store::{Org, Txn};

/// Largest request body read (Bulk uploads are at most 150 MB in Salesforce).
const MAX_BODY: usize = 160 * 1024 * 1024;

/// Everything the request handlers share.
pub(crate) struct Shared {
    /// The configuration the simulator started with.
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT`: login URL and instance URL.
    pub url: String,
    /// The daily API request limit (changeable while running).
    pub daily_limit: AtomicU64,
    /// API requests counted so far.
    pub api_calls: AtomicU64,
    /// The records.
    pub org: Mutex<Org>,
    /// Open query cursors.
    pub cursors: Mutex<Cursors>,
    /// Access tokens handed out.
    pub tokens: Mutex<Tokens>,
    /// Injected faults.
    pub faults: Mutex<FaultQueue>,
    /// Bulk API 2.0 ingest jobs.
    pub jobs: Mutex<Jobs>,
    /// The connected app's key for JWT bearer assertions, if configured.
    pub jwt_key: Option<PublicKey>,
    /// Background Bulk processing, aborted on shutdown.
    pub tasks: Mutex<Vec<AbortHandle>>,
}

impl Shared {
    /// The org, even if a handler panicked while holding it.
    pub fn lock_org(&self) -> MutexGuard<'_, Org> {
        self.org
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The jobs, even if a handler panicked while holding them.
    pub fn lock_jobs(&self) -> MutexGuard<'_, Jobs> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn limit_header(&self) -> String {
        limits::header(
            self.api_calls.load(Ordering::SeqCst),
            self.daily_limit.load(Ordering::SeqCst),
        )
    }
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct Dropped;

/// Accepts connections until `shutdown` changes, then aborts the open ones.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&shared), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
    let tasks = std::mem::take(
        &mut *shared
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for task in tasks {
        task.abort();
    }
}

/// One request, start to end.
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let path = request.uri().path().to_owned();
    let fault = shared
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take(&path);
    let fault = match fault {
        Some(FaultKind::DropConnection) => return Err(Dropped),
        Some(FaultKind::Latency(delay)) => {
            tokio::time::sleep(delay).await;
            None
        }
        Some(FaultKind::DelayedStatus { status, delay }) => {
            tokio::time::sleep(delay).await;
            Some(FaultKind::Status(status))
        }
        other => other,
    };
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(Body::new(body), MAX_BODY).await {
        Ok(body) => body,
        Err(error) => {
            return Ok(json_response(
                413,
                &json!([{"errorCode": "REQUEST_ENTITY_TOO_LARGE", "message": format!("could not read the request body: {error}")}]),
            ));
        }
    };
    let method = parts.method.as_str().to_owned();
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if path == "/services/oauth2/token" {
        let (status, body) = match fault {
            Some(FaultKind::Status(status)) => (
                status,
                json!({"error": "unknown_error", "error_description": "retry your request"}),
            ),
            Some(FaultKind::ExpiredSession) => (
                400,
                json!({"error": "invalid_grant", "error_description": "expired access/refresh token"}),
            ),
            Some(FaultKind::UnableToLockRow) => (
                400,
                json!({"error": "unknown_error", "error_description": "retry your request"}),
            ),
            _ if method != "POST" => (
                405,
                json!({"error": "invalid_request", "error_description": "must use HTTP POST"}),
            ),
            _ => oauth::token(&shared, authorization.as_deref(), &body),
        };
        let mut response = json_response(status, &body);
        response.headers_mut().insert(
            "Cache-Control",
            HeaderValue::from_static("no-cache,must-revalidate,max-age=0,no-store,private"),
        );
        return Ok(response);
    }
    if path == "/services/data" || path == "/services/data/" {
        let version = &shared.config.api_version;
        return Ok(json_response(
            200,
            &json!([{"label": "Winter '25", "url": format!("/services/data/v{version}"), "version": version}]),
        ));
    }
    let Some(after) = path.strip_prefix("/services/data/v") else {
        return Ok(json_response(
            404,
            &json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]),
        ));
    };
    let (version, rest) = after.split_once('/').unwrap_or((after, ""));
    let mut response = api(
        &shared,
        fault,
        &method,
        version,
        rest,
        parts,
        authorization.as_deref(),
        &body,
    );
    if let Ok(value) = HeaderValue::from_str(&shared.limit_header()) {
        response.headers_mut().insert("Sforce-Limit-Info", value);
    }
    Ok(response)
}

/// A REST call under `/services/data/vXX.X/`.
#[allow(clippy::too_many_arguments)]
fn api(
    shared: &Arc<Shared>,
    fault: Option<FaultKind>,
    method: &str,
    version: &str,
    rest: &str,
    parts: hyper::http::request::Parts,
    authorization: Option<&str>,
    body: &[u8],
) -> Response<Body> {
    if fault == Some(FaultKind::ExpiredSession) {
        return reply_response(Reply::error(crate::errors::ApiError::invalid_session()));
    }
    let token = authorization.and_then(|value| {
        value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("OAuth "))
            .map(str::trim)
    });
    let valid = token.is_some_and(|token| {
        shared
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_valid(token)
    });
    if !valid {
        let mut response = reply_response(Reply::error(crate::errors::ApiError::invalid_session()));
        response
            .headers_mut()
            .insert("WWW-Authenticate", HeaderValue::from_static("Token"));
        return response;
    }
    if shared.api_calls.load(Ordering::SeqCst) >= shared.daily_limit.load(Ordering::SeqCst) {
        return json_response(403, &limits::exceeded_body());
    }
    shared.api_calls.fetch_add(1, Ordering::SeqCst);
    if !supported_version(version, &shared.config.api_version) {
        return reply_response(Reply::error(crate::errors::ApiError::not_found()));
    }
    match fault {
        Some(FaultKind::Status(status)) => {
            return match faults::status_body(status) {
                (Some(json), _) => json_response(status, &json),
                (None, html) => text_response(status, "text/html", html.unwrap_or_default()),
            };
        }
        Some(FaultKind::UnableToLockRow) => {
            let id = rest
                .split('/')
                .find(|segment| crate::ids::looks_like_id(segment))
                .map_or_else(|| crate::ids::make("a00", 1), str::to_owned);
            return json_response(400, &faults::lock_row_body(&id));
        }
        _ => {}
    }
    let batch_size = parts
        .headers
        .get("Sforce-Query-Options")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .split(',')
                .filter_map(|option| option.trim().strip_prefix("batchSize="))
                .find_map(|size| size.trim().parse::<usize>().ok())
        });
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let request = ApiRequest {
        method: method.to_owned(),
        path: rest.to_owned(),
        query: parts.uri.query().map(str::to_owned),
        batch_size,
        content_type,
        body: body.to_vec(),
    };
    let reply = {
        let mut org = shared.lock_org();
        let mut txn = Txn::new();
        let mut cx = Cx {
            shared,
            org: &mut org,
            txn: &mut txn,
            version,
        };
        rest::dispatch(&mut cx, &request)
    };
    reply_response(reply)
}

/// Versions from 20.0 up to the configured one are served.
fn supported_version(version: &str, newest: &str) -> bool {
    let parse = |text: &str| -> Option<(u32, u32)> {
        let (major, minor) = text.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    };
    match (parse(version), parse(newest)) {
        (Some(asked), Some(newest)) => asked >= (20, 0) && asked <= newest,
        _ => false,
    }
}

/// The HTTP response of a dispatcher reply.
fn reply_response(reply: Reply) -> Response<Body> {
    let mut response = match reply.body {
        ReplyBody::Json(json) => json_response(reply.status, &json),
        ReplyBody::Csv(text) => text_response(reply.status, "text/csv", text),
        ReplyBody::Empty => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = status(reply.status);
            response
        }
    };
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn json_response(code: u16, body: &Json) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status(code);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    response
}

fn text_response(code: u16, content_type: &'static str, text: String) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status(code);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(supported_version("62.0", "62.0"));
        assert!(supported_version("58.0", "62.0"));
        assert!(!supported_version("63.0", "62.0"));
        assert!(!supported_version("19.0", "62.0"));
        assert!(!supported_version("latest", "62.0"));
    }
}
