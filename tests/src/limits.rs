//! The daily API request limit: what `/limits` answers and the `Sforce-Limit-Info` header.

use serde_json::{Value as Json, json};

/// `api-usage=N/M`: the value of `Sforce-Limit-Info`.
pub(crate) fn header(used: u64, max: u64) -> String {
    format!("api-usage={used}/{max}")
}

/// 403 REQUEST_LIMIT_EXCEEDED's body.
pub(crate) fn exceeded_body() -> Json {
    json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
}

/// The body of `GET /limits`: the daily API requests as counted, and the other limits an
/// org reports, at their usual values for an Enterprise org.
pub(crate) fn body(used: u64, max: u64, bulk_batches_used: u64) -> Json {
    let limit = |max: u64, remaining: u64| json!({"Max": max, "Remaining": remaining});
    json!({
        "ConcurrentAsyncGetReportInstances": limit(200, 200),
        "ConcurrentSyncReportRuns": limit(20, 20),
        "DailyApiRequests": limit(max, max.saturating_sub(used)),
        "DailyAsyncApexExecutions": limit(250_000, 250_000),
        "DailyBulkApiBatches": limit(15_000, 15_000u64.saturating_sub(bulk_batches_used)),
        "DailyBulkV2QueryFileStorageMB": limit(976_562, 976_562),
        "DailyBulkV2QueryJobs": limit(10_000, 10_000),
        "DataStorageMB": limit(5, 5),
        "FileStorageMB": limit(20, 20),
        "HourlyTimeBasedWorkflow": limit(50, 50),
        "SingleEmail": limit(5_000, 5_000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(header(12, 100_000), "api-usage=12/100000");
        let limits = body(3, 10, 1);
        assert_eq!(
            limits["DailyApiRequests"],
            json!({"Max": 10, "Remaining": 7})
        );
        assert_eq!(limits["DailyBulkApiBatches"]["Remaining"], 14_999);
        assert_eq!(body(12, 10, 0)["DailyApiRequests"]["Remaining"], 0);
        assert_eq!(exceeded_body()[0]["errorCode"], "REQUEST_LIMIT_EXCEEDED");
    }
}
