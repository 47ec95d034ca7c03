//! The org's own daily usage, from `Sforce-Limit-Info`: stop at a share of the quota to keep
//! a reserve for the people working in the org.

use std::time::Duration;

use time::OffsetDateTime;

use super::RateLimitError;
use crate::salesforce::Usage;

/// How long Salesforce counts a call against the daily quota (a rolling 24 hours).
const QUOTA_PERIOD: Duration = Duration::from_secs(24 * 60 * 60);

/// Stops calls once the org has used `share_percent` of its daily API quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgQuota {
    /// The share of the daily quota we may use, in percent (0–100).
    share_percent: u8,
}

impl Default for OrgQuota {
    /// 80%: a fifth of the quota is left to people and other integrations.
    fn default() -> Self {
        OrgQuota { share_percent: 80 }
    }
}

impl OrgQuota {
    /// Stops at `share_percent` of the daily quota; at most 100.
    pub fn new(share_percent: u8) -> Result<Self, RateLimitError> {
        if share_percent > 100 {
            return Err(RateLimitError::InvalidShare { share_percent });
        }
        Ok(OrgQuota { share_percent })
    }

    /// The share of the daily quota we may use, in percent.
    pub fn share_percent(&self) -> u8 {
        self.share_percent
    }

    /// The usage at which calls stop: `ceil(share × max)`.
    pub fn threshold(&self, max: u64) -> u64 {
        let threshold = (u128::from(self.share_percent) * u128::from(max)).div_ceil(100);
        // share ≤ 100, so threshold ≤ max.
        u64::try_from(threshold).unwrap_or(max)
    }

    /// Whether calls may go on at this usage: false once `used ≥ share × max`.
    pub fn allows(&self, usage: Usage) -> bool {
        usage.used < self.threshold(usage.max)
    }

    /// When calls may resume, estimated from `usage` seen at `observed_at`: Salesforce counts
    /// a call for 24 hours, so assuming the calls were spread evenly over the last 24 hours,
    /// the usage falls by `used / 24 h`; this is when it has fallen below the threshold.
    /// `observed_at` when it allows now; 24 hours later when no usage is allowed at all.
    /// Only an estimate: the next call's header tells the truth.
    pub fn resume_estimate(&self, usage: Usage, observed_at: OffsetDateTime) -> OffsetDateTime {
        if self.allows(usage) {
            return observed_at;
        }
        let threshold = self.threshold(usage.max);
        let wait = if threshold == 0 {
            QUOTA_PERIOD
        } else {
            // used ≥ threshold ≥ 1; dropping to threshold − 1 takes (used − threshold + 1)
            // of the `used` calls to expire, at most all of them: at most 24 hours.
            let expiring = u128::from(usage.used - threshold + 1);
            let nanos = (QUOTA_PERIOD.as_nanos() * expiring).div_ceil(u128::from(usage.used));
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)).min(QUOTA_PERIOD)
        };
        observed_at.saturating_add(time::Duration::try_from(wait).unwrap_or(time::Duration::DAY))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(used: u64, max: u64) -> Usage {
        Usage { used, max }
    }

    #[test]
    fn stops_at_the_share() {
        let quota = OrgQuota::default();
        assert_eq!(quota.share_percent(), 80);
        assert!(quota.allows(usage(79_000, 100_000)));
        assert!(quota.allows(usage(79_999, 100_000)));
        assert!(!quota.allows(usage(80_000, 100_000)));
        assert!(!quota.allows(usage(81_000, 100_000)));
        // 80% of 15 is 12: 11 allowed, 12 not.
        assert!(quota.allows(usage(11, 15)));
        assert!(!quota.allows(usage(12, 15)));
        // 80% of 7 is 5.6: 5 allowed, 6 not.
        assert!(quota.allows(usage(5, 7)));
        assert!(!quota.allows(usage(6, 7)));
        assert!(!quota.allows(usage(0, 0)));
        assert!(!OrgQuota::new(0).unwrap().allows(usage(0, 100)));
        assert!(OrgQuota::new(100).unwrap().allows(usage(99, 100)));
        assert!(!OrgQuota::new(100).unwrap().allows(usage(100, 100)));
        assert!(matches!(
            OrgQuota::new(101),
            Err(RateLimitError::InvalidShare { share_percent: 101 })
        ));
    }

    #[test]
    fn estimates_when_to_resume() {
        let quota = OrgQuota::default();
        let seen = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        assert_eq!(quota.resume_estimate(usage(79, 100), seen), seen);
        // 80 used of 100: one of the 80 calls must expire, 24 h / 80 = 18 min.
        assert_eq!(
            quota.resume_estimate(usage(80, 100), seen),
            seen + time::Duration::minutes(18)
        );
        // 100 used: 21 must expire, 21/100 of 24 h.
        assert_eq!(
            quota.resume_estimate(usage(100, 100), seen),
            seen + time::Duration::seconds(86_400 * 21 / 100)
        );
        assert_eq!(
            quota.resume_estimate(usage(0, 0), seen),
            seen + time::Duration::DAY
        );
        assert_eq!(
            OrgQuota::new(1)
                .unwrap()
                .resume_estimate(usage(5, 100), seen),
            seen + time::Duration::DAY
        );
    }
}
