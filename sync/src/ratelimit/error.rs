//! What can go wrong while limiting calls.

/// A failure of the rate limiter or of its window store.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// A window cannot be used as configured.
    #[error("rate-limit window `{window}` is invalid: {reason}")]
    InvalidWindow {
        /// The window's name.
        window: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// The org quota's share is not a percentage.
    #[error("the org quota share must be at most 100 percent, got {share_percent}")]
    InvalidShare {
        /// The share asked for.
        share_percent: u8,
    },
    /// A call costs more than a window ever allows, so it can never be made.
    #[error("a call costing {cost} can never fit window `{window}` whose limit is {limit}")]
    CostExceedsLimit {
        /// The window's name.
        window: String,
        /// The call's cost.
        cost: u64,
        /// The window's limit.
        limit: u64,
    },
    /// An instant is too far from the Unix epoch for the window's bucket arithmetic.
    #[error("instant {instant} is out of range for window `{window}`'s buckets")]
    TimeOutOfRange {
        /// The window's name.
        window: String,
        /// The instant, as nanoseconds since the Unix epoch.
        instant: i128,
    },
    /// Other callers kept changing the counters between our check and our increment.
    #[error("rate-limit counters kept changing under {attempts} attempts to acquire")]
    Contended {
        /// How many check-then-add rounds were tried.
        attempts: u32,
    },
    /// The window store failed.
    #[error("rate-limit store failed to {operation} for key `{key}`")]
    Store {
        /// What the store was doing: `read counts`, `add`, `release`.
        operation: &'static str,
        /// The counter's key.
        key: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
