//! Realistic Stripe events for the load generator: the fixtures of `sync/tests/fixtures/events/`
//! (API version 2022-11-15) as templates, rendered with a fresh event id, object id and
//! `created` for every event, in a configurable mix of the handled types.

use std::fmt;

use serde_json::Value;

use crate::priority::HANDLED_EVENTS;

/// The fixtures used as templates: event type, then the fixture's JSON (Stripe's own examples,
/// some types in several currencies).
const FIXTURES: &[(&str, &str)] = &[
    (
        "checkout.session.completed",
        include_str!("../../tests/fixtures/events/checkout.session.completed.json"),
    ),
    (
        "checkout.session.expired",
        include_str!("../../tests/fixtures/events/checkout.session.expired.json"),
    ),
    (
        "customer.created",
        include_str!("../../tests/fixtures/events/customer.created.json"),
    ),
    (
        "customer.deleted",
        include_str!("../../tests/fixtures/events/customer.deleted.json"),
    ),
    (
        "customer.updated",
        include_str!("../../tests/fixtures/events/customer.updated.json"),
    ),
    (
        "customer.subscription.created",
        include_str!("../../tests/fixtures/events/customer.subscription.created.json"),
    ),
    (
        "customer.subscription.deleted",
        include_str!("../../tests/fixtures/events/customer.subscription.deleted.json"),
    ),
    (
        "customer.subscription.paused",
        include_str!("../../tests/fixtures/events/customer.subscription.paused.json"),
    ),
    (
        "customer.subscription.resumed",
        include_str!("../../tests/fixtures/events/customer.subscription.resumed.json"),
    ),
    (
        "customer.subscription.updated",
        include_str!("../../tests/fixtures/events/customer.subscription.updated.json"),
    ),
    (
        "invoice.finalized",
        include_str!("../../tests/fixtures/events/invoice.finalized.json"),
    ),
    (
        "invoice.paid",
        include_str!("../../tests/fixtures/events/invoice.paid.json"),
    ),
    (
        "invoice.paid",
        include_str!("../../tests/fixtures/events/invoice.paid.bhd.json"),
    ),
    (
        "invoice.payment_failed",
        include_str!("../../tests/fixtures/events/invoice.payment_failed.json"),
    ),
    (
        "payment_intent.payment_failed",
        include_str!("../../tests/fixtures/events/payment_intent.payment_failed.json"),
    ),
    (
        "payment_intent.succeeded",
        include_str!("../../tests/fixtures/events/payment_intent.succeeded.json"),
    ),
    (
        "payment_intent.succeeded",
        include_str!("../../tests/fixtures/events/payment_intent.succeeded.jpy.json"),
    ),
    (
        "price.created",
        include_str!("../../tests/fixtures/events/price.created.json"),
    ),
    (
        "price.updated",
        include_str!("../../tests/fixtures/events/price.updated.json"),
    ),
    (
        "product.created",
        include_str!("../../tests/fixtures/events/product.created.json"),
    ),
    (
        "product.updated",
        include_str!("../../tests/fixtures/events/product.updated.json"),
    ),
];

/// The default mix: relative weights of every handled type, roughly as a subscription business
/// sees them (invoices, payments and subscription changes dominate; catalogue changes are rare).
pub const DEFAULT_MIX: &[(&str, u32)] = &[
    ("invoice.paid", 14),
    ("invoice.finalized", 14),
    ("payment_intent.succeeded", 14),
    ("customer.subscription.updated", 12),
    ("customer.updated", 8),
    ("customer.created", 6),
    ("customer.subscription.created", 6),
    ("checkout.session.completed", 5),
    ("invoice.payment_failed", 4),
    ("payment_intent.payment_failed", 4),
    ("customer.subscription.deleted", 3),
    ("checkout.session.expired", 2),
    ("customer.deleted", 1),
    ("customer.subscription.paused", 1),
    ("customer.subscription.resumed", 1),
    ("price.created", 1),
    ("price.updated", 1),
    ("product.created", 1),
    ("product.updated", 1),
];

/// Why a mix or a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixError {
    /// An entry is not `type=weight`.
    #[error("mix entry {0:?} is not `type=weight`")]
    Syntax(String),
    /// A weight is not a whole number.
    #[error("weight of {0} is not a whole number")]
    Weight(String),
    /// A type the sync does not handle, or one without a template.
    #[error("{0} is not one of the handled event types ({list})", list = HANDLED_EVENTS.join(", "))]
    UnknownType(String),
    /// A type listed twice.
    #[error("{0} is listed twice in the mix")]
    Duplicate(String),
    /// Every weight is zero.
    #[error("the mix has no type with a positive weight")]
    Empty,
}

/// Relative weights of the event types to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    /// Event type and weight, each type once.
    weights: Vec<(&'static str, u32)>,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            weights: DEFAULT_MIX.to_vec(),
        }
    }
}

impl Mix {
    /// Parses `default`, `uniform` (every handled type equally) or a comma-separated list of
    /// `type=weight` (a bare `type` weighs 1).
    pub fn parse(spec: &str) -> Result<Mix, MixError> {
        match spec.trim() {
            "default" | "" => return Ok(Mix::default()),
            "uniform" => {
                return Ok(Mix {
                    weights: HANDLED_EVENTS.iter().map(|event| (*event, 1)).collect(),
                });
            }
            _ => {}
        }
        let mut weights: Vec<(&'static str, u32)> = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, weight) = match entry.split_once('=') {
                Some((name, weight)) => {
                    let weight = weight
                        .trim()
                        .parse::<u32>()
                        .map_err(|_| MixError::Weight(name.trim().to_owned()))?;
                    (name.trim(), weight)
                }
                None => (entry, 1),
            };
            if name.is_empty() {
                return Err(MixError::Syntax(entry.to_owned()));
            }
            let Some(known) = HANDLED_EVENTS.iter().copied().find(|event| *event == name) else {
                return Err(MixError::UnknownType(name.to_owned()));
            };
            if weights.iter().any(|(event, _)| *event == known) {
                return Err(MixError::Duplicate(known.to_owned()));
            }
            weights.push((known, weight));
        }
        let mix = Mix { weights };
        if mix.total() == 0 {
            return Err(MixError::Empty);
        }
        Ok(mix)
    }

    /// The types and their weights.
    pub fn weights(&self) -> &[(&'static str, u32)] {
        &self.weights
    }

    /// The sum of the weights.
    fn total(&self) -> u64 {
        self.weights.iter().map(|(_, w)| u64::from(*w)).sum()
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (event, weight)) in self.weights.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{event}={weight}")?;
        }
        Ok(())
    }
}

/// A piece of a rendered template.
#[derive(Debug, Clone)]
enum Segment {
    /// Text copied as is.
    Text(String),
    /// The event id.
    EventId,
    /// The id of `data.object`.
    ObjectId,
    /// The event's `created`.
    Created,
}

/// Placeholders written into a fixture before it is split into [`Segment`]s.
const EVENT_ID_MARK: &str = "@@loadgen-event-id@@";
/// See [`EVENT_ID_MARK`].
const OBJECT_ID_MARK: &str = "@@loadgen-object-id@@";
/// See [`EVENT_ID_MARK`]; replaced together with its quotes, as `created` is a number.
const CREATED_MARK: &str = "\"@@loadgen-created@@\"";

/// One fixture, ready to render.
#[derive(Debug, Clone)]
struct Template {
    /// The event type.
    event_type: &'static str,
    /// The prefix of the object's ids (`in_`, `cs_test_`).
    object_prefix: String,
    /// The body in pieces.
    segments: Vec<Segment>,
    /// The rendered length without the variable parts.
    fixed_len: usize,
}

impl Template {
    /// Prepares `fixture` for rendering with `livemode`.
    fn new(event_type: &'static str, fixture: &str, livemode: bool) -> Template {
        let mut event: Value =
            serde_json::from_str(fixture).expect("the bundled fixtures are JSON events");
        event["id"] = Value::from(EVENT_ID_MARK.to_owned());
        event["created"] = Value::from(CREATED_MARK.trim_matches('"').to_owned());
        event["livemode"] = Value::from(livemode);
        let object = &mut event["data"]["object"];
        let object_prefix = match object.get("id").and_then(Value::as_str) {
            Some(id) => {
                let prefix = id.rsplit_once('_').map_or("obj_", |(prefix, _)| prefix);
                let prefix = format!("{prefix}_");
                object["id"] = Value::from(OBJECT_ID_MARK.to_owned());
                prefix
            }
            None => String::new(),
        };
        if object.get("livemode").is_some() {
            object["livemode"] = Value::from(livemode);
        }
        // Stripe sends its webhook bodies pretty-printed.
        let text = serde_json::to_string_pretty(&event).expect("a JSON value serializes");
        let mut segments = Vec::new();
        let mut rest = text.as_str();
        loop {
            let next = [
                (EVENT_ID_MARK, Segment::EventId),
                (OBJECT_ID_MARK, Segment::ObjectId),
                (CREATED_MARK, Segment::Created),
            ]
            .into_iter()
            .filter_map(|(mark, segment)| rest.find(mark).map(|at| (at, mark, segment)))
            .min_by_key(|(at, _, _)| *at);
            let Some((at, mark, segment)) = next else {
                segments.push(Segment::Text(rest.to_owned()));
                break;
            };
            segments.push(Segment::Text(rest[..at].to_owned()));
            segments.push(segment);
            rest = &rest[at + mark.len()..];
        }
        let fixed_len = segments
            .iter()
            .map(|segment| match segment {
                Segment::Text(text) => text.len(),
                _ => 0,
            })
            .sum();
        Template {
            event_type,
            object_prefix,
            segments,
            fixed_len,
        }
    }

    /// The body with these ids and `created`.
    fn render(&self, event_id: &str, object_id: &str, created: i64) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.fixed_len + 80);
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => body.extend_from_slice(text.as_bytes()),
                Segment::EventId => body.extend_from_slice(event_id.as_bytes()),
                Segment::ObjectId => body.extend_from_slice(object_id.as_bytes()),
                Segment::Created => body.extend_from_slice(created.to_string().as_bytes()),
            }
        }
        body
    }
}

/// One generated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedEvent {
    /// Its id (`evt_…`), unique per generator and sequence number.
    pub id: String,
    /// Its type.
    pub event_type: &'static str,
    /// The id of `data.object`, unique like the event id.
    pub object_id: String,
    /// The body, as Stripe would send it.
    pub body: Vec<u8>,
}

/// Renders unique events of a [`Mix`]: the `n`th event is always the same for one generator.
#[derive(Debug, Clone)]
pub struct Generator {
    /// Templates by type: for each type of the mix, its fixtures.
    templates: Vec<Vec<Template>>,
    /// A shuffled wheel of indexes into `templates`, each as often as its weight.
    wheel: Vec<usize>,
    /// Distinguishes this run's ids from every other run's.
    run: String,
}

/// The digits of the ids: Stripe's ids are alphanumeric.
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base 62, left-padded with `0` to `width`.
fn base62(mut n: u64, width: usize) -> String {
    let mut digits = Vec::with_capacity(width.max(11));
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).expect("base-62 digits are ASCII")
}

impl Generator {
    /// A generator of `mix` with `livemode`; `seed` fixes the order of types and the run tag in
    /// the ids (so the same seed renders the same ids: use a fresh seed for every run against
    /// the same queue, or the queue keeps one copy).
    pub fn new(mix: &Mix, livemode: bool, seed: u64) -> Generator {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut templates = Vec::new();
        let mut wheel = Vec::new();
        for (event_type, weight) in mix.weights() {
            if *weight == 0 {
                continue;
            }
            let variants: Vec<Template> = FIXTURES
                .iter()
                .filter(|(fixture_type, _)| fixture_type == event_type)
                .map(|(_, fixture)| Template::new(event_type, fixture, livemode))
                .collect();
            assert!(!variants.is_empty(), "no fixture for {event_type}");
            let index = templates.len();
            templates.push(variants);
            wheel.extend(std::iter::repeat_n(index, *weight as usize));
        }
        rng.shuffle(&mut wheel);
        let run = base62(rng.u64(..) % 62u64.pow(8), 8);
        Generator {
            templates,
            wheel,
            run,
        }
    }

    /// The tag every id of this generator carries.
    pub fn run_tag(&self) -> &str {
        &self.run
    }

    /// The `seq`th event, created at `created` (Unix seconds).
    pub fn event(&self, seq: u64, created: i64) -> GeneratedEvent {
        let len = self.wheel.len() as u64;
        let kind = self.wheel[(seq % len) as usize];
        let variants = &self.templates[kind];
        let template = &variants[((seq / len) % variants.len() as u64) as usize];
        let suffix = base62(seq, 12);
        let id = format!("evt_1{}{suffix}LG0", self.run);
        let object_id = format!("{}1{}{suffix}LG0", template.object_prefix, self.run);
        let body = template.render(&id, &object_id, created);
        GeneratedEvent {
            id,
            event_type: template.event_type,
            object_id,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    use time::OffsetDateTime;

    use super::*;
    use crate::receiver::webhook::EventHead;
    use crate::signature::{Verifier, sign};

    #[test]
    fn every_handled_type_has_a_fixture_and_a_default_weight() {
        for event in HANDLED_EVENTS {
            assert!(
                FIXTURES.iter().any(|(fixture, _)| fixture == event),
                "{event}"
            );
            assert!(
                DEFAULT_MIX
                    .iter()
                    .any(|(mixed, w)| mixed == event && *w > 0),
                "{event}"
            );
        }
        assert_eq!(DEFAULT_MIX.len(), HANDLED_EVENTS.len());
    }

    #[test]
    fn generated_events_parse_verify_and_are_unique() {
        let secret = "whsec_loadgen_unit";
        let verifier = Verifier::new(vec![secret.to_owned()], Duration::from_secs(300)).unwrap();
        let generator = Generator::new(&Mix::parse("uniform").unwrap(), false, 7);
        let now = OffsetDateTime::now_utc();
        let mut ids = BTreeSet::new();
        let mut objects = BTreeSet::new();
        let mut types = BTreeSet::new();
        // Twice round the wheel, so every fixture of a type with two is used.
        for seq in 0..(2 * HANDLED_EVENTS.len() as u64) {
            let created = now.unix_timestamp() - 1;
            let event = generator.event(seq, created);
            let parsed = stripe_types::Event::from_json(&event.body).unwrap_or_else(|error| {
                panic!(
                    "{} does not parse: {error}\n{}",
                    event.event_type,
                    String::from_utf8_lossy(&event.body)
                )
            });
            assert_eq!(parsed.id, event.id);
            let head = EventHead::parse(&event.body).unwrap();
            assert_eq!(head.event_type, event.event_type);
            assert_eq!(head.created, created);
            assert!(!head.livemode);
            assert_eq!(head.object_id.as_deref(), Some(event.object_id.as_str()));
            let header = sign(secret, now.unix_timestamp(), &event.body);
            verifier
                .verify(Some(&header), &event.body, now)
                .unwrap_or_else(|error| panic!("{} does not verify: {error}", event.id));
            assert!(ids.insert(event.id.clone()), "duplicate {}", event.id);
            assert!(objects.insert(event.object_id.clone()));
            types.insert(event.event_type);
            assert!(event.id.starts_with("evt_"), "{}", event.id);
            assert_eq!(event.id.len(), "evt_1N4pFvLkdIwHu7ixdBKn9Fup".len());
        }
        assert_eq!(types.len(), HANDLED_EVENTS.len());
    }

    #[test]
    fn livemode_is_rewritten_and_seeds_separate_runs() {
        let mix = Mix::default();
        let live = Generator::new(&mix, true, 1).event(3, 1_700_000_000);
        assert!(EventHead::parse(&live.body).unwrap().livemode);
        let again = Generator::new(&mix, true, 1).event(3, 1_700_000_000);
        assert_eq!(live, again);
        let other = Generator::new(&mix, true, 2).event(3, 1_700_000_000);
        assert_ne!(live.id, other.id);
    }

    #[test]
    fn the_mix_follows_the_weights() {
        let mix = Mix::parse("invoice.paid=3, price.created").unwrap();
        let generator = Generator::new(&mix, false, 11);
        let mut counts = BTreeMap::new();
        for seq in 0..400 {
            *counts
                .entry(generator.event(seq, 1_700_000_000).event_type)
                .or_insert(0) += 1;
        }
        assert_eq!(counts["invoice.paid"], 300);
        assert_eq!(counts["price.created"], 100);
    }

    #[test]
    fn bad_mixes_are_refused() {
        assert_eq!(
            Mix::parse("charge.refunded=1"),
            Err(MixError::UnknownType("charge.refunded".to_owned()))
        );
        assert_eq!(
            Mix::parse("invoice.paid=x"),
            Err(MixError::Weight("invoice.paid".to_owned()))
        );
        assert_eq!(
            Mix::parse("invoice.paid=1,invoice.paid=2"),
            Err(MixError::Duplicate("invoice.paid".to_owned()))
        );
        assert_eq!(Mix::parse("invoice.paid=0"), Err(MixError::Empty));
        assert_eq!(Mix::parse("=3"), Err(MixError::Syntax("=3".to_owned())));
        assert_eq!(Mix::parse("default").unwrap(), Mix::default());
        let round_trip = Mix::parse(&Mix::default().to_string()).unwrap();
        assert_eq!(round_trip, Mix::default());
    }
}
