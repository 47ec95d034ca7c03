//! `GET /health/live` and `GET /health/ready`.
//!
//! Readiness runs the queue's stats query and every configured [`Readiness`] check at once,
//! each bounded by [`super::READINESS_TIMEOUT`]. The body names failing checks only
//! (`{"status":"not_ready","failing":["queue"]}`): never a URL, secret or error text.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::future::{BoxFuture, join_all};
use serde_json::json;

use super::{READINESS_TIMEOUT, ReceiverState};
use crate::queue::Queue;

/// A dependency `/health/ready` checks (the store, Salesforce authentication, …).
pub trait Readiness: Send + Sync + 'static {
    /// The name listed under `failing` when the check fails (`store`, `salesforce_auth`).
    fn name(&self) -> &'static str;

    /// Whether the dependency is ready now.
    fn check(&self) -> BoxFuture<'_, bool>;
}

/// A [`Readiness`] from a closure (see [`readiness_fn`](super::readiness_fn)).
pub(super) struct FnReadiness<F> {
    pub(super) name: &'static str,
    pub(super) check: F,
}

impl<F> Readiness for FnReadiness<F>
where
    F: Fn() -> BoxFuture<'static, bool> + Send + Sync + 'static,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn check(&self) -> BoxFuture<'_, bool> {
        (self.check)()
    }
}

/// 200 `{"status":"live"}` whenever the process can answer.
pub async fn live() -> Response {
    Json(json!({ "status": "live" })).into_response()
}

/// 200 `{"status":"ready"}` when the queue and every readiness check answer, else 503 with the
/// names of the failing ones.
pub async fn ready<Q: Queue>(State(state): State<ReceiverState<Q>>) -> Response {
    let queue = async {
        match tokio::time::timeout(READINESS_TIMEOUT, state.queue.stats()).await {
            Ok(Ok(_)) => true,
            Ok(Err(error)) => {
                tracing::warn!(%error, "readiness: queue stats failed");
                false
            }
            Err(_) => {
                tracing::warn!("readiness: queue stats timed out");
                false
            }
        }
    };
    let others = join_all(state.readiness.iter().map(|check| async move {
        let ok = tokio::time::timeout(READINESS_TIMEOUT, check.check())
            .await
            .unwrap_or(false);
        if !ok {
            tracing::warn!(check = check.name(), "readiness check failing");
        }
        (check.name(), ok)
    }));
    let (queue_ok, others) = futures_util::future::join(queue, others).await;

    let mut failing = Vec::new();
    if !queue_ok {
        failing.push("queue");
    }
    failing.extend(
        others
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| name),
    );
    if failing.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "failing": failing })),
        )
            .into_response()
    }
}
