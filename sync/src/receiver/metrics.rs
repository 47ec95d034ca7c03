//! A small Prometheus registry: the counters and gauges of the receiver and the worker, and
//! their text exposition for `GET /metrics`.
//!
//! Every metric is declared in [`Counter`] or [`Gauge`] with its name and help text, so names
//! cannot drift between the code that counts and the dashboards that read them. The queue
//! gauges (`queue_depth`, `queue_in_flight`, `queue_oldest_age_seconds`, `queue_up`) are not
//! stored: [`Metrics::render`] takes them from `Queue::stats` at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::queue::QueueStats;

/// A counter this process exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counter {
    /// `stripe_events_received_total{type, outcome}`: webhooks by event type and [`Outcome`].
    EventsReceived,
    /// `stripe_events_unhandled_total{type}`: accepted events of a type the sync does not process.
    EventsUnhandled,
    /// `salesforce_calls_total{api, outcome}`: Salesforce API calls made by the worker.
    SalesforceCalls,
    /// `retries_total{reason}`: deliveries given back to the queue to be retried.
    Retries,
    /// `dead_letters_total{type}`: events moved to the dead-letter queue.
    DeadLetters,
    /// `events_skipped_stale_total{type}`: events older than the last applied one of their object.
    EventsSkippedStale,
    /// `events_duplicate_total{type}`: deliveries of events the ledger already records as done.
    EventsDuplicate,
    /// `stripe_events_processed_total{type, outcome}`: events the worker finished, by event type
    /// and ledger outcome (`processed`, `skipped_stale`, `ignored`, `dead_lettered`).
    EventsProcessed,
}

impl Counter {
    /// Every counter, in exposition order.
    pub const ALL: [Counter; 8] = [
        Counter::EventsReceived,
        Counter::EventsUnhandled,
        Counter::SalesforceCalls,
        Counter::Retries,
        Counter::DeadLetters,
        Counter::EventsSkippedStale,
        Counter::EventsDuplicate,
        Counter::EventsProcessed,
    ];

    /// The Prometheus metric name.
    pub fn name(self) -> &'static str {
        match self {
            Counter::EventsReceived => "stripe_events_received_total",
            Counter::EventsUnhandled => "stripe_events_unhandled_total",
            Counter::SalesforceCalls => "salesforce_calls_total",
            Counter::Retries => "retries_total",
            Counter::DeadLetters => "dead_letters_total",
            Counter::EventsSkippedStale => "events_skipped_stale_total",
            Counter::EventsDuplicate => "events_duplicate_total",
            Counter::EventsProcessed => "stripe_events_processed_total",
        }
    }

    /// The `# HELP` text.
    pub fn help(self) -> &'static str {
        match self {
            Counter::EventsReceived => "Stripe webhooks received, by event type and outcome.",
            Counter::EventsUnhandled => {
                "Accepted Stripe events of a type the sync does not process."
            }
            Counter::SalesforceCalls => "Salesforce API calls, by API and outcome.",
            Counter::Retries => "Deliveries given back to the queue for a retry.",
            Counter::DeadLetters => "Events moved to the dead-letter queue.",
            Counter::EventsSkippedStale => {
                "Events not applied because a newer event of their object was applied."
            }
            Counter::EventsDuplicate => "Deliveries of events already applied.",
            Counter::EventsProcessed => "Events the worker finished, by event type and outcome.",
        }
    }
}

/// A gauge set by the worker (the queue gauges are read at scrape time instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Gauge {
    /// `salesforce_api_usage_ratio`: share of the org's daily API quota used (0 to 1).
    SalesforceApiUsageRatio,
}

impl Gauge {
    /// Every stored gauge, in exposition order.
    pub const ALL: [Gauge; 1] = [Gauge::SalesforceApiUsageRatio];

    /// The Prometheus metric name.
    pub fn name(self) -> &'static str {
        match self {
            Gauge::SalesforceApiUsageRatio => "salesforce_api_usage_ratio",
        }
    }

    /// The `# HELP` text.
    pub fn help(self) -> &'static str {
        match self {
            Gauge::SalesforceApiUsageRatio => {
                "Share of the org's daily API quota used, from Sforce-Limit-Info."
            }
        }
    }
}

/// What the receiver did with one webhook: the `outcome` label of
/// `stripe_events_received_total`. (Duplicates are only known to the worker's ledger; they are
/// counted in `events_duplicate_total`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Queued and acknowledged with 200.
    Accepted,
    /// Missing, malformed, unmatched or stale `Stripe-Signature`.
    RejectedSignature,
    /// Not JSON, or without the fields every event has.
    RejectedPayload,
    /// A test-mode event sent to a live-mode receiver, or the reverse.
    RejectedLivemode,
    /// A body over the configured limit (413).
    TooLarge,
    /// The queue refused the event (503, Stripe retries).
    QueueUnavailable,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::RejectedSignature => "rejected_signature",
            Outcome::RejectedPayload => "rejected_payload",
            Outcome::RejectedLivemode => "rejected_livemode",
            Outcome::TooLarge => "too_large",
            Outcome::QueueUnavailable => "queue_unavailable",
        }
    }
}

/// The `type` label used when the event type is not known (the body was not verified or not
/// parsed).
pub const UNPARSED_TYPE: &str = "unparsed";

/// The `type` label used for a type that does not look like a Stripe event type.
pub const INVALID_TYPE: &str = "invalid";

/// The `type` label for `event_type`: itself if it looks like a Stripe event type (lower-case
/// letters, digits, `_` and `.`, at most 100 characters), else [`INVALID_TYPE`]. Keeps label
/// values safe to print and their number bounded.
pub fn type_label(event_type: &str) -> &str {
    let plausible = !event_type.is_empty()
        && event_type.len() <= 100
        && event_type
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    if plausible { event_type } else { INVALID_TYPE }
}

type Labels = Vec<(&'static str, String)>;

const NO_LABELS: &[(&str, &str)] = &[];

/// The registry: counters and gauges by label set, shared by receiver and worker.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(Counter, Labels), u64>>,
    gauges: Mutex<BTreeMap<(Gauge, Labels), f64>>,
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `by` to `counter` with the given labels (names must be valid Prometheus label names).
    pub fn add(&self, counter: Counter, labels: &[(&'static str, &str)], by: u64) {
        let key = (counter, owned(labels));
        *lock(&self.counters).entry(key).or_insert(0) += by;
    }

    /// Sets `gauge` with the given labels to `value`.
    pub fn set(&self, gauge: Gauge, labels: &[(&'static str, &str)], value: f64) {
        lock(&self.gauges).insert((gauge, owned(labels)), value);
    }

    /// Counts one webhook of `event_type` (raw, passed through [`type_label`]) with `outcome`.
    pub fn received(&self, event_type: &str, outcome: Outcome) {
        self.add(
            Counter::EventsReceived,
            &[
                ("type", type_label(event_type)),
                ("outcome", outcome.as_str()),
            ],
            1,
        );
    }

    /// The current value of `counter` with exactly these labels (0 if never counted).
    pub fn counter(&self, counter: Counter, labels: &[(&'static str, &str)]) -> u64 {
        lock(&self.counters)
            .get(&(counter, owned(labels)))
            .copied()
            .unwrap_or(0)
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric, with the queue gauges
    /// from `queue` (`None` when the queue could not report: `queue_up` is then 0).
    pub fn render(&self, queue: Option<QueueStats>) -> String {
        let mut out = String::with_capacity(4096);
        {
            let counters = lock(&self.counters);
            for counter in Counter::ALL {
                header(&mut out, counter.name(), counter.help(), "counter");
                let samples = counters
                    .range(range_of(counter))
                    .take_while(|((c, _), _)| *c == counter);
                for ((_, labels), value) in samples {
                    sample(&mut out, counter.name(), labels, &value.to_string());
                }
            }
        }
        {
            let gauges = lock(&self.gauges);
            for gauge in Gauge::ALL {
                header(&mut out, gauge.name(), gauge.help(), "gauge");
                for ((g, labels), value) in gauges.iter() {
                    if *g == gauge {
                        sample(&mut out, gauge.name(), labels, &float(*value));
                    }
                }
            }
        }
        let up = if queue.is_some() { "1" } else { "0" };
        header(
            &mut out,
            "queue_up",
            "Whether the queue answered the stats query.",
            "gauge",
        );
        sample(&mut out, "queue_up", NO_LABELS, up);
        if let Some(stats) = queue {
            let age = stats.oldest_age.map_or(0.0, |age| age.as_secs_f64());
            let gauges = [
                (
                    "queue_depth",
                    "Events in the queue, leased or not.",
                    stats.depth.to_string(),
                ),
                (
                    "queue_in_flight",
                    "Events leased by a worker.",
                    stats.in_flight.to_string(),
                ),
                (
                    "queue_oldest_age_seconds",
                    "Age of the oldest waiting event (0 when none waits).",
                    float(age),
                ),
            ];
            for (name, help, value) in gauges {
                header(&mut out, name, help, "gauge");
                sample(&mut out, name, NO_LABELS, &value);
            }
        }
        out
    }
}

fn owned(labels: &[(&'static str, &str)]) -> Labels {
    labels
        .iter()
        .map(|(name, value)| (*name, (*value).to_owned()))
        .collect()
}

fn range_of(counter: Counter) -> std::ops::RangeFrom<(Counter, Labels)> {
    (counter, Vec::new())..
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a map of numbers inconsistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample<L: AsRef<str>>(out: &mut String, name: &str, labels: &[(&'static str, L)], value: &str) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(label);
            out.push_str("=\"");
            escape(out, v.as_ref());
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(value);
    out.push('\n');
}

fn escape(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn renders_counters_gauges_and_queue_stats() {
        let metrics = Metrics::new();
        metrics.received("invoice.paid", Outcome::Accepted);
        metrics.received("invoice.paid", Outcome::Accepted);
        metrics.received("Bad Type\"", Outcome::RejectedPayload);
        metrics.add(Counter::Retries, &[("reason", "a\\b\"c\nd")], 3);
        metrics.set(Gauge::SalesforceApiUsageRatio, &[], 0.25);
        let text = metrics.render(Some(QueueStats {
            depth: 4,
            in_flight: 1,
            oldest_age: Some(Duration::from_millis(1500)),
        }));
        assert!(text.contains(
            "stripe_events_received_total{type=\"invoice.paid\",outcome=\"accepted\"} 2\n"
        ));
        assert!(text.contains(
            "stripe_events_received_total{type=\"invalid\",outcome=\"rejected_payload\"} 1\n"
        ));
        assert!(text.contains("retries_total{reason=\"a\\\\b\\\"c\\nd\"} 3\n"));
        assert!(text.contains("salesforce_api_usage_ratio 0.25\n"));
        assert!(text.contains("queue_up 1\n"));
        assert!(text.contains("queue_depth 4\n"));
        assert!(text.contains("queue_in_flight 1\n"));
        assert!(text.contains("queue_oldest_age_seconds 1.5\n"));
        for counter in Counter::ALL {
            assert!(text.contains(&format!("# TYPE {} counter\n", counter.name())));
        }
        assert_eq!(
            metrics.counter(
                Counter::EventsReceived,
                &[("type", "invoice.paid"), ("outcome", "accepted")]
            ),
            2
        );
    }

    #[test]
    fn queue_down_omits_queue_gauges() {
        let text = Metrics::new().render(None);
        assert!(text.contains("queue_up 0\n"));
        assert!(!text.contains("queue_depth"));
    }
}
