//! Keeps Salesforce calls under the org's quota: a sliding-window-counter limiter over
//! several windows (per minute and per day by default), counted in a [`WindowStore`] that
//! every worker sharing the limit shares, plus a stop at a share of the org's own daily
//! usage as reported by `Sforce-Limit-Info` ([`OrgQuota`]).
//!
//! - [`window`]: a window and the bucket arithmetic (exact integers, rounded so the limit
//!   is never exceeded)
//! - [`store`]: the counters' storage trait and the in-memory store
//! - [`limiter`]: [`RateLimiter`], which checks every window before counting in any
//! - [`quota`]: the org's own quota
//!
//! Time is always passed in ([`RateLimiter::try_acquire`] takes `now`), so the algorithm is
//! deterministic under test; only [`RateLimiter::acquire`] reads a clock.

mod error;
pub mod limiter;
pub mod quota;
pub mod store;
pub mod window;

#[cfg(test)]
mod tests;

pub use error::RateLimitError;
pub use limiter::{Decision, ORG_QUOTA_WINDOW, RateLimiter};
pub use quota::OrgQuota;
pub use store::{BucketCounts, MemoryWindowStore, WindowStore};
pub use window::Window;
