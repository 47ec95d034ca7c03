//! API usage: the `Sforce-Limit-Info` header Salesforce sends on every REST answer, and the
//! `/limits` resource.

use std::collections::BTreeMap;
use std::fmt;

use super::api;

/// Name of the header carrying the API usage.
pub const LIMIT_INFO_HEADER: &str = "sforce-limit-info";

/// Calls used out of those allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Usage {
    /// Calls used in the last 24 hours.
    pub used: u64,
    /// Calls allowed in 24 hours.
    pub max: u64,
}

impl Usage {
    /// Calls left (0 when over the limit).
    pub fn remaining(&self) -> u64 {
        self.max.saturating_sub(self.used)
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.used, self.max)
    }
}

/// One `name=used/max` pair of the header, e.g. `per-app-api-usage=17/250(appName=sync)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageEntry {
    /// `api-usage`, `per-app-api-usage`, ...
    pub name: String,
    /// The counts.
    pub usage: Usage,
    /// What follows the counts in parentheses, e.g. `appName=sync`.
    pub detail: Option<String>,
}

/// The parsed `Sforce-Limit-Info` header of the latest answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitInfo {
    /// Every pair, in header order.
    pub entries: Vec<UsageEntry>,
}

impl LimitInfo {
    /// Parses the header: `name=used/max` pairs separated by `;` or `,`, each optionally
    /// followed by `(detail)`. Malformed pairs are skipped; `None` when no pair is valid.
    pub fn parse(header: &str) -> Option<LimitInfo> {
        let mut entries = Vec::new();
        let mut rest = header;
        while !rest.is_empty() {
            // A separator inside parentheses belongs to the detail.
            let mut depth = 0usize;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    depth == 0 && matches!(c, ';' | ',')
                })
                .map_or(rest.len(), |(i, _)| i);
            if let Some(entry) = parse_entry(&rest[..end]) {
                entries.push(entry);
            }
            rest = rest.get(end + 1..).unwrap_or("");
        }
        (!entries.is_empty()).then_some(LimitInfo { entries })
    }

    /// The org-wide daily usage (`api-usage`).
    pub fn api_usage(&self) -> Option<Usage> {
        self.get("api-usage")
    }

    /// The connected app's own usage (`per-app-api-usage`), when the org sets a per-app limit.
    pub fn per_app_usage(&self) -> Option<Usage> {
        self.get("per-app-api-usage")
    }

    /// The usage of the pair named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<Usage> {
        self.entries
            .iter()
            .find(|entry| entry.name.eq_ignore_ascii_case(name))
            .map(|entry| entry.usage)
    }
}

/// Parses one `name=used/max(detail)` pair.
fn parse_entry(text: &str) -> Option<UsageEntry> {
    let (name, value) = text.trim().split_once('=')?;
    let (counts, detail) = match value.split_once('(') {
        Some((counts, detail)) => (counts, Some(detail.trim_end().strip_suffix(')')?)),
        None => (value, None),
    };
    let (used, max) = counts.trim().split_once('/')?;
    Some(UsageEntry {
        name: name.trim().to_owned(),
        usage: Usage {
            used: used.trim().parse().ok()?,
            max: max.trim().parse().ok()?,
        },
        detail: detail.map(|d| d.trim().to_owned()),
    })
}

/// One limit of the `/limits` resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The limit.
    pub max: i64,
    /// What is left of it.
    pub remaining: i64,
}

impl Limit {
    /// What is used of it.
    pub fn used(&self) -> i64 {
        self.max - self.remaining
    }
}

/// The org's limits, from `/limits`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Every limit by name (`DailyApiRequests`, `DailyBulkV2QueryJobs`, ...).
    pub all: BTreeMap<String, Limit>,
}

impl Limits {
    /// API requests in the last 24 hours (`DailyApiRequests`).
    pub fn daily_api_requests(&self) -> Option<Limit> {
        self.get("DailyApiRequests")
    }

    /// The limit named `name`.
    pub fn get(&self, name: &str) -> Option<Limit> {
        self.all.get(name).copied()
    }
}

impl From<api::types::Limits> for Limits {
    fn from(limits: api::types::Limits) -> Self {
        Limits {
            all: limits
                .0
                .into_iter()
                .map(|(name, limit)| {
                    let limit = Limit {
                        max: limit.max,
                        remaining: limit.remaining,
                    };
                    (name, limit)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_header() {
        let info = LimitInfo::parse("api-usage=25/5000").unwrap();
        assert_eq!(
            info.api_usage(),
            Some(Usage {
                used: 25,
                max: 5000
            })
        );
        assert_eq!(info.api_usage().unwrap().remaining(), 4975);
        assert_eq!(info.per_app_usage(), None);

        let info = LimitInfo::parse(
            "api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
        )
        .unwrap();
        assert_eq!(
            info.api_usage(),
            Some(Usage {
                used: 18,
                max: 5000
            })
        );
        assert_eq!(info.per_app_usage(), Some(Usage { used: 17, max: 250 }));
        assert_eq!(
            info.entries[1].detail.as_deref(),
            Some("appName=sample-connected-app")
        );

        let info = LimitInfo::parse("api-usage=1/10,per-app-api-usage=2/5 (appName=a,b)").unwrap();
        assert_eq!(info.entries.len(), 2);
        assert_eq!(info.entries[1].detail.as_deref(), Some("appName=a,b"));
    }

    #[test]
    fn skips_what_it_cannot_read() {
        assert_eq!(LimitInfo::parse(""), None);
        assert_eq!(LimitInfo::parse("garbage"), None);
        assert_eq!(LimitInfo::parse("api-usage=x/10"), None);
        let info = LimitInfo::parse("junk; api-usage=3/10;").unwrap();
        assert_eq!(info.api_usage(), Some(Usage { used: 3, max: 10 }));
        assert_eq!(Usage { used: 12, max: 10 }.remaining(), 0);
    }
}
