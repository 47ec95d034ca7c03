//! [`RateLimiter`]: several sliding windows over one [`WindowStore`], plus the org's quota.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;
use tokio::sync::watch;

use super::RateLimitError;
use super::quota::OrgQuota;
use super::store::WindowStore;
use super::window::{Position, Window};
use crate::salesforce::{LimitInfo, Usage};

/// The name [`Decision::Wait`] gives when the org's own quota refuses.
pub const ORG_QUOTA_WINDOW: &str = "org-quota";

/// How many check-then-add rounds [`RateLimiter::try_acquire`] tries while other callers race
/// it, before giving up with [`RateLimitError::Contended`].
const MAX_ATTEMPTS: u32 = 64;

/// The answer of [`RateLimiter::try_acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    /// The call may go; its cost is counted in every window.
    Allowed,
    /// The call does not fit; nothing was counted.
    Wait {
        /// The earliest instant it would fit if nobody else called meanwhile.
        until: OffsetDateTime,
        /// The window that refuses longest (or [`ORG_QUOTA_WINDOW`]).
        window: &'a str,
    },
}

/// A clock, so that tests control time.
type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// A window with its length checked and its store key.
#[derive(Debug)]
struct Slot {
    /// The window as configured.
    window: Window,
    /// Its length in nanoseconds.
    length: u128,
    /// Its counters' key in the store.
    key: String,
}

/// The org quota and the latest usage seen.
#[derive(Debug)]
struct OrgGate {
    /// Where to stop.
    quota: OrgQuota,
    /// The usage seen and where it comes from.
    state: Mutex<OrgState>,
}

/// The latest usage, and the header it is read from.
#[derive(Debug)]
struct OrgState {
    /// The client's latest `Sforce-Limit-Info`, when watched.
    limit_info: Option<watch::Receiver<Option<LimitInfo>>>,
    /// Whether the receiver's current value has not been read yet.
    unread: bool,
    /// The latest usage and when it was first seen.
    latest: Option<(Usage, OffsetDateTime)>,
}

impl OrgGate {
    /// Until when the org quota refuses calls at `now`, or `None` when it allows them.
    ///
    /// Once the resume estimate has passed, calls go again: the first answer brings a fresh
    /// header, which either confirms the quota is back or sets a new estimate.
    fn refuses_until(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let OrgState {
            limit_info,
            unread,
            latest,
        } = &mut *state;
        if let Some(receiver) = limit_info
            && (*unread || receiver.has_changed().unwrap_or(false))
        {
            *unread = false;
            let usage = receiver
                .borrow_and_update()
                .as_ref()
                .and_then(LimitInfo::api_usage);
            if let Some(usage) = usage {
                *latest = Some((usage, now));
            }
        }
        let (usage, seen) = (*latest)?;
        let until = self.quota.resume_estimate(usage, seen);
        (!self.quota.allows(usage) && until > now).then_some(until)
    }
}

/// Limits calls to every configured window (e.g. per minute and per day), counted in a
/// [`WindowStore`] shared by every process that shares the limit, and optionally to a share
/// of the org's own daily quota.
///
/// A call is checked against every window first and counted only when all allow it. Each
/// window's increment is atomic in the store; if another caller fills a later window between
/// the check and the increment, the increments already made are released and the whole
/// round is tried again. Between increment and release an earlier window briefly counts a
/// call that was not made: a racing caller may be refused, never let through over the limit.
pub struct RateLimiter<S: WindowStore> {
    /// The counters.
    store: S,
    /// The windows, in the order their counters are incremented.
    slots: Vec<Slot>,
    /// The org's own quota, when enabled.
    org: Option<OrgGate>,
    /// What [`RateLimiter::acquire`] takes as now.
    clock: Clock,
}

impl<S: WindowStore> fmt::Debug for RateLimiter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("slots", &self.slots)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

impl<S: WindowStore> RateLimiter<S> {
    /// A limiter over `windows`, counted in `store` under keys `salesforce/{window name}`.
    /// Fails on a window of zero length or a name used twice.
    pub fn new(store: S, windows: Vec<Window>) -> Result<Self, RateLimitError> {
        let mut slots: Vec<Slot> = Vec::with_capacity(windows.len());
        for window in windows {
            if slots.iter().any(|slot| slot.window.name == window.name) {
                return Err(RateLimitError::InvalidWindow {
                    window: window.name,
                    reason: "its name is used by another window",
                });
            }
            slots.push(Slot {
                length: window.length_nanos()?,
                key: String::new(),
                window,
            });
        }
        Ok(RateLimiter {
            store,
            slots,
            org: None,
            clock: Arc::new(OffsetDateTime::now_utc),
        }
        .with_key_prefix("salesforce"))
    }

    /// The usual pair: at most `per_minute` per minute and `per_day` per day.
    pub fn per_minute_and_day(
        store: S,
        per_minute: u64,
        per_day: u64,
    ) -> Result<Self, RateLimitError> {
        RateLimiter::new(
            store,
            vec![Window::per_minute(per_minute), Window::per_day(per_day)],
        )
    }

    /// Keys the counters `{prefix}/{window name}`, so limiters of different orgs can share a
    /// store.
    pub fn with_key_prefix(mut self, prefix: &str) -> Self {
        for slot in &mut self.slots {
            slot.key = format!("{prefix}/{}", slot.window.name);
        }
        self
    }

    /// Also stops at `quota` of the org's daily usage, fed by [`RateLimiter::observe_usage`].
    pub fn with_org_quota(self, quota: OrgQuota) -> Self {
        self.with_org_gate(quota, None)
    }

    /// Also stops at `quota` of the org's daily usage, read from the client's latest
    /// `Sforce-Limit-Info` (`Client::watch_limit_info`) and from [`RateLimiter::observe_usage`].
    pub fn with_org_quota_from(
        self,
        quota: OrgQuota,
        limit_info: watch::Receiver<Option<LimitInfo>>,
    ) -> Self {
        self.with_org_gate(quota, Some(limit_info))
    }

    /// Sets the org gate.
    fn with_org_gate(
        mut self,
        quota: OrgQuota,
        limit_info: Option<watch::Receiver<Option<LimitInfo>>>,
    ) -> Self {
        self.org = Some(OrgGate {
            quota,
            state: Mutex::new(OrgState {
                limit_info,
                unread: true,
                latest: None,
            }),
        });
        self
    }

    /// Takes the time [`RateLimiter::acquire`] uses from `clock` instead of the system clock.
    pub fn with_clock(
        mut self,
        clock: impl Fn() -> OffsetDateTime + Send + Sync + 'static,
    ) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The windows, in order.
    pub fn windows(&self) -> impl Iterator<Item = &Window> {
        self.slots.iter().map(|slot| &slot.window)
    }

    /// Records the org's usage seen at `now` (e.g. from `/limits`); ignored without an org
    /// quota.
    pub fn observe_usage(&self, usage: Usage, now: OffsetDateTime) {
        if let Some(org) = &self.org {
            let mut state = org.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.latest = Some((usage, now));
        }
    }

    /// Counts a call of `cost` at `now` in every window if all of them (and the org quota)
    /// allow it; otherwise counts nothing and says until when to wait.
    pub async fn try_acquire(
        &self,
        cost: u64,
        now: OffsetDateTime,
    ) -> Result<Decision<'_>, RateLimitError> {
        if let Some(slot) = self.slots.iter().find(|slot| cost > slot.window.limit) {
            return Err(RateLimitError::CostExceedsLimit {
                window: slot.window.name.clone(),
                cost,
                limit: slot.window.limit,
            });
        }
        if let Some(until) = self.org.as_ref().and_then(|org| org.refuses_until(now)) {
            return Ok(Decision::Wait {
                until,
                window: ORG_QUOTA_WINDOW,
            });
        }
        let positions = self
            .slots
            .iter()
            .map(|slot| Position::of(&slot.window.name, slot.length, now))
            .collect::<Result<Vec<_>, _>>()?;
        for _ in 0..MAX_ATTEMPTS {
            // Check every window before counting in any.
            let mut bounds = Vec::with_capacity(self.slots.len());
            let mut wait: Option<(i128, &Slot)> = None;
            for (slot, position) in self.slots.iter().zip(&positions) {
                let counts = self.store.counts(&slot.key, position.bucket).await?;
                let limit = slot.window.limit;
                if position.fits(counts, cost, limit) {
                    bounds.push(position.max_current(limit, counts.previous));
                } else {
                    let until = position.earliest_fit(counts, cost, limit).ok_or_else(|| {
                        RateLimitError::CostExceedsLimit {
                            window: slot.window.name.clone(),
                            cost,
                            limit,
                        }
                    })?;
                    if wait.is_none_or(|(latest, _)| until > latest) {
                        wait = Some((until, slot));
                    }
                }
            }
            if let Some((until, slot)) = wait {
                let until = OffsetDateTime::from_unix_timestamp_nanos(until).map_err(|_| {
                    RateLimitError::TimeOutOfRange {
                        window: slot.window.name.clone(),
                        instant: until,
                    }
                })?;
                return Ok(Decision::Wait {
                    until,
                    window: &slot.window.name,
                });
            }
            // Count in each window, atomically against the bound computed above.
            let mut counted = 0;
            for ((slot, position), max_current) in self.slots.iter().zip(&positions).zip(&bounds) {
                if !self
                    .store
                    .try_add(&slot.key, position.bucket, cost, *max_current)
                    .await?
                {
                    break;
                }
                counted += 1;
            }
            if counted == self.slots.len() {
                return Ok(Decision::Allowed);
            }
            // Someone filled a window in between: take back what was counted, check again.
            for (slot, position) in self.slots.iter().zip(&positions).take(counted) {
                self.store.release(&slot.key, position.bucket, cost).await?;
            }
        }
        Err(RateLimitError::Contended {
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Each window's estimated use at `now` against its limit, e.g. for metrics.
    pub async fn usage(&self, now: OffsetDateTime) -> Result<Vec<(&str, Usage)>, RateLimitError> {
        let mut usage = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            let position = Position::of(&slot.window.name, slot.length, now)?;
            let counts = self.store.counts(&slot.key, position.bucket).await?;
            let used = position.estimate(counts);
            let max = slot.window.limit;
            usage.push((slot.window.name.as_str(), Usage { used, max }));
        }
        Ok(usage)
    }

    /// Waits (on tokio's timer) until a call of `cost` fits, and counts it.
    pub async fn acquire(&self, cost: u64) -> Result<(), RateLimitError> {
        loop {
            let now = (self.clock)();
            match self.try_acquire(cost, now).await? {
                Decision::Allowed => return Ok(()),
                Decision::Wait { until, window } => {
                    let wait = std::time::Duration::try_from(until - now).unwrap_or_default();
                    tracing::debug!(window, ?wait, "rate limit: waiting");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}
