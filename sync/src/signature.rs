//! Verification of the `Stripe-Signature` header of Stripe webhooks, the way Stripe's own
//! libraries verify it.
//!
//! The header looks like `t=1492774577,v1=5257a869…,v1=…,v0=…`. It is split on `,` and each
//! element on its first `=`; keys are compared exactly (no trimming), as stripe-node and
//! stripe-python do. The first `t` gives the timestamp, every `v1` is a candidate signature and
//! other schemes are ignored. The expected signature is the lower-case hex HMAC-SHA256, keyed
//! with the bytes of the whole endpoint secret (`whsec_…` included), of `"{t}.{raw body}"`.
//!
//! A request is accepted when any `v1` matches the signature of any configured secret (several
//! at once during a rotation), compared in constant time, and then its timestamp lies within
//! the tolerance of now. Unlike Stripe's libraries, which only reject timestamps that are too
//! old, a timestamp more than the tolerance in the future is rejected too.

use std::fmt::{self, Write as _};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use time::OffsetDateTime;

type HmacSha256 = Hmac<Sha256>;

/// The tolerance Stripe's libraries use by default: five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The only signature scheme Stripe signs live webhooks with.
const EXPECTED_SCHEME: &str = "v1";

/// A configuration that cannot verify anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureConfigError {
    /// No webhook signing secret was configured.
    #[error("no webhook signing secret configured")]
    NoSecrets,
    /// One of the configured secrets is the empty string.
    #[error("webhook signing secret #{index} is empty")]
    EmptySecret {
        /// Position of the secret in the configured list, from 1.
        index: usize,
    },
    /// One of the configured secrets starts or ends with whitespace (usually a stray newline).
    #[error("webhook signing secret #{index} starts or ends with whitespace")]
    SecretHasSurroundingWhitespace {
        /// Position of the secret in the configured list, from 1.
        index: usize,
    },
}

/// Why a webhook's signature was rejected; no variant reveals a secret or an expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The request has no `Stripe-Signature` header.
    #[error("missing Stripe-Signature header")]
    MissingHeader,
    /// The header is empty or has no numeric `t` element.
    #[error("malformed Stripe-Signature header: no valid timestamp")]
    MalformedHeader,
    /// The header carries no `v1` signature.
    #[error("Stripe-Signature header has no v1 signature")]
    NoV1Signature,
    /// No `v1` signature matches the body under any configured secret.
    #[error("no v1 signature matches the payload")]
    NoMatch,
    /// The timestamp is older than the tolerance allows.
    #[error("signature timestamp is {age_secs} s old, beyond the tolerance")]
    TooOld {
        /// How many seconds before now the timestamp lies.
        age_secs: u64,
    },
    /// The timestamp lies further in the future than the tolerance allows.
    #[error("signature timestamp is {ahead_secs} s in the future, beyond the tolerance")]
    TooFarInFuture {
        /// How many seconds after now the timestamp lies.
        ahead_secs: u64,
    },
}

/// The timestamp (`t`) of a header whose signature was verified, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VerifiedTimestamp(i64);

impl VerifiedTimestamp {
    /// The signed timestamp in seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0
    }
}

/// An HMAC-SHA256 keyed with one signing secret, whose `Debug` never shows the key.
#[derive(Clone)]
struct SigningKey(HmacSha256);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    fn new(secret: &str) -> Self {
        Self(keyed_mac(secret.as_bytes()))
    }

    /// Lower-case hex of the HMAC of `"{timestamp}.{body}"`.
    fn signature(&self, timestamp: i64, body: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        lower_hex(&mac.finalize().into_bytes())
    }
}

/// Verifies `Stripe-Signature` headers against one or more endpoint secrets.
#[derive(Debug, Clone)]
pub struct Verifier {
    secrets: Vec<SigningKey>,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier accepting signatures from any of `secrets` within `tolerance` of now
    /// (`Duration::ZERO` disables the timestamp check).
    pub fn new(secrets: Vec<String>, tolerance: Duration) -> Result<Self, SignatureConfigError> {
        if secrets.is_empty() {
            return Err(SignatureConfigError::NoSecrets);
        }
        let mut keys = Vec::with_capacity(secrets.len());
        for (i, secret) in secrets.iter().enumerate() {
            let index = i + 1;
            if secret.is_empty() {
                return Err(SignatureConfigError::EmptySecret { index });
            }
            if secret.trim() != secret {
                return Err(SignatureConfigError::SecretHasSurroundingWhitespace { index });
            }
            keys.push(SigningKey::new(secret));
        }
        Ok(Self {
            secrets: keys,
            tolerance,
        })
    }

    /// The configured timestamp tolerance.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Checks `header` (the `Stripe-Signature` value, if any) against the raw request `body`,
    /// with `now` as the current time.
    pub fn verify(
        &self,
        header: Option<&str>,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<VerifiedTimestamp, SignatureError> {
        let header = header.ok_or(SignatureError::MissingHeader)?;
        let parsed = ParsedHeader::parse(header)?;

        let mut matched = Choice::from(0);
        for key in &self.secrets {
            let expected = key.signature(parsed.timestamp, body);
            for candidate in &parsed.signatures {
                matched |= expected.as_bytes().ct_eq(candidate.as_bytes());
            }
        }
        if !bool::from(matched) {
            return Err(SignatureError::NoMatch);
        }

        self.check_timestamp(parsed.timestamp, now.unix_timestamp())?;
        Ok(VerifiedTimestamp(parsed.timestamp))
    }

    fn check_timestamp(&self, timestamp: i64, now: i64) -> Result<(), SignatureError> {
        if self.tolerance.is_zero() {
            return Ok(());
        }
        let tolerance = self.tolerance.as_secs();
        let age = i128::from(now) - i128::from(timestamp);
        let magnitude = u64::try_from(age.unsigned_abs()).unwrap_or(u64::MAX);
        if age > 0 && magnitude > tolerance {
            return Err(SignatureError::TooOld {
                age_secs: magnitude,
            });
        }
        if age < 0 && magnitude > tolerance {
            return Err(SignatureError::TooFarInFuture {
                ahead_secs: magnitude,
            });
        }
        Ok(())
    }
}

/// The full `Stripe-Signature` header value (`t={timestamp},v1={hex}`) that Stripe would send
/// for `body` signed with `secret` at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let signature = SigningKey::new(secret).signature(timestamp, body);
    format!("t={timestamp},{EXPECTED_SCHEME}={signature}")
}

/// The elements of a `Stripe-Signature` header that verification uses.
struct ParsedHeader<'a> {
    timestamp: i64,
    signatures: Vec<&'a str>,
}

impl<'a> ParsedHeader<'a> {
    fn parse(header: &'a str) -> Result<Self, SignatureError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for (key, value) in header.split(',').filter_map(|item| item.split_once('=')) {
            if key == "t" {
                if timestamp.is_none() {
                    timestamp = Some(
                        value
                            .parse::<i64>()
                            .map_err(|_| SignatureError::MalformedHeader)?,
                    );
                }
            } else if key == EXPECTED_SCHEME {
                signatures.push(value);
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::MalformedHeader)?;
        if signatures.is_empty() {
            return Err(SignatureError::NoV1Signature);
        }
        Ok(Self {
            timestamp,
            signatures,
        })
    }
}

/// HMAC-SHA256 keyed with `secret` as RFC 2104 prescribes: a key longer than the block is
/// hashed first, then the key is zero-padded to the block size.
fn keyed_mac(secret: &[u8]) -> HmacSha256 {
    let mut block = hmac::digest::Key::<HmacSha256>::default();
    if secret.len() > block.len() {
        let digest = Sha256::digest(secret);
        block[..digest.len()].copy_from_slice(&digest);
    } else {
        block[..secret.len()].copy_from_slice(secret);
    }
    <HmacSha256 as Mac>::new(&block)
}

fn lower_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const T: i64 = 1_492_774_577;
    const BODY: &[u8] = br#"{"id":"evt_test_webhook","object":"event"}"#;
    /// `python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test",
    /// b"1492774577.{\"id\":\"evt_test_webhook\",\"object\":\"event\"}",
    /// hashlib.sha256).hexdigest())'`
    const BODY_SIG: &str = "67350faf457ae85329ccd74ce494668a82b67bf58c9c00a8a2c59765873cb454";

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).expect("valid timestamp")
    }

    fn verifier(secrets: &[&str]) -> Verifier {
        Verifier::new(
            secrets.iter().map(|s| s.to_string()).collect(),
            DEFAULT_TOLERANCE,
        )
        .expect("valid config")
    }

    #[test]
    fn signature_matches_python_hmac() {
        assert_eq!(sign(SECRET, T, BODY), format!("t={T},v1={BODY_SIG}"));
        // Same body, Stripe's own test secret name.
        assert_eq!(
            sign("whsec_test_secret", T, BODY),
            format!("t={T},v1=88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a")
        );
    }

    #[test]
    fn secret_longer_than_a_block_matches_python_hmac() {
        let secret = format!("whsec_{}", "k".repeat(100));
        assert_eq!(
            sign(&secret, 1_700_000_000, b"{}"),
            "t=1700000000,v1=844b553eec71dabad12d6e6104269204ffa76dc04c142777a67ca4ac82fa1caa"
        );
    }

    #[test]
    fn accepts_a_valid_signature() {
        let header = format!("t={T},v1={BODY_SIG}");
        let ts = verifier(&[SECRET])
            .verify(Some(&header), BODY, at(T + 10))
            .expect("valid");
        assert_eq!(ts.unix_seconds(), T);
    }

    #[test]
    fn rotation_second_secret_matches() {
        let header = sign("whsec_new", T, BODY);
        let v = verifier(&["whsec_old", "whsec_new"]);
        assert!(v.verify(Some(&header), BODY, at(T)).is_ok());
        let v = verifier(&["whsec_old"]);
        assert_eq!(
            v.verify(Some(&header), BODY, at(T)),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn one_good_v1_among_several() {
        let bad = "0".repeat(64);
        let header = format!("t={T},v1={bad},v1={BODY_SIG},v0={bad},v1=short");
        assert!(
            verifier(&[SECRET])
                .verify(Some(&header), BODY, at(T))
                .is_ok()
        );
    }

    #[test]
    fn v0_only_is_no_v1_signature() {
        let header = format!("t={T},v0={BODY_SIG}");
        assert_eq!(
            verifier(&[SECRET]).verify(Some(&header), BODY, at(T)),
            Err(SignatureError::NoV1Signature)
        );
    }

    #[test]
    fn tampered_body_is_rejected() {
        let header = format!("t={T},v1={BODY_SIG}");
        let body = br#"{"id":"evt_test_webhook","object":"event" }"#;
        assert_eq!(
            verifier(&[SECRET]).verify(Some(&header), body, at(T)),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn tampered_timestamp_is_rejected() {
        let header = format!("t={},v1={BODY_SIG}", T + 1);
        assert_eq!(
            verifier(&[SECRET]).verify(Some(&header), BODY, at(T)),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn upper_case_hex_does_not_match() {
        let header = format!("t={T},v1={}", BODY_SIG.to_uppercase());
        assert_eq!(
            verifier(&[SECRET]).verify(Some(&header), BODY, at(T)),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn too_old_is_rejected_at_the_boundary() {
        let header = sign(SECRET, T, BODY);
        let v = verifier(&[SECRET]);
        assert!(v.verify(Some(&header), BODY, at(T + 300)).is_ok());
        assert_eq!(
            v.verify(Some(&header), BODY, at(T + 301)),
            Err(SignatureError::TooOld { age_secs: 301 })
        );
    }

    #[test]
    fn too_far_in_the_future_is_rejected() {
        let header = sign(SECRET, T, BODY);
        let v = verifier(&[SECRET]);
        assert!(v.verify(Some(&header), BODY, at(T - 300)).is_ok());
        assert_eq!(
            v.verify(Some(&header), BODY, at(T - 301)),
            Err(SignatureError::TooFarInFuture { ahead_secs: 301 })
        );
    }

    #[test]
    fn signature_is_checked_before_the_timestamp() {
        let header = format!("t={T},v1={}", "0".repeat(64));
        assert_eq!(
            verifier(&[SECRET]).verify(Some(&header), BODY, at(T + 10_000)),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn custom_tolerance() {
        let v = Verifier::new(vec![SECRET.into()], Duration::from_secs(10)).expect("valid");
        let header = sign(SECRET, T, BODY);
        assert!(v.verify(Some(&header), BODY, at(T + 10)).is_ok());
        assert_eq!(
            v.verify(Some(&header), BODY, at(T + 11)),
            Err(SignatureError::TooOld { age_secs: 11 })
        );
    }

    #[test]
    fn tolerance_zero_disables_the_timestamp_check() {
        let v = Verifier::new(vec![SECRET.into()], Duration::ZERO).expect("valid");
        let header = sign(SECRET, T, BODY);
        assert!(v.verify(Some(&header), BODY, at(T + 10_000_000)).is_ok());
        assert!(v.verify(Some(&header), BODY, at(0)).is_ok());
        let far = sign(SECRET, i64::MIN, BODY);
        assert!(v.verify(Some(&far), BODY, at(T)).is_ok());
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let v = verifier(&[SECRET]);
        let old = sign(SECRET, i64::MIN, BODY);
        assert!(matches!(
            v.verify(Some(&old), BODY, at(T)),
            Err(SignatureError::TooOld { .. })
        ));
        let future = sign(SECRET, i64::MAX, BODY);
        assert!(matches!(
            v.verify(Some(&future), BODY, at(T)),
            Err(SignatureError::TooFarInFuture { .. })
        ));
    }

    #[test]
    fn missing_header() {
        assert_eq!(
            verifier(&[SECRET]).verify(None, BODY, at(T)),
            Err(SignatureError::MissingHeader)
        );
    }

    #[test]
    fn malformed_headers() {
        let v = verifier(&[SECRET]);
        for header in [
            String::new(),
            ",,,".to_string(),
            format!("v1={BODY_SIG}"),
            format!("t=,v1={BODY_SIG}"),
            format!("t=abc,v1={BODY_SIG}"),
            format!("t=1.5,v1={BODY_SIG}"),
            format!("t= {T},v1={BODY_SIG}"),
            format!(" t={T},v1={BODY_SIG}"),
            format!("T={T},v1={BODY_SIG}"),
            format!("t={T}0000000000000000000,v1={BODY_SIG}"),
            format!("t{T},v1={BODY_SIG}"),
        ] {
            assert_eq!(
                v.verify(Some(&header), BODY, at(T)),
                Err(SignatureError::MalformedHeader),
                "{header:?}"
            );
        }
    }

    #[test]
    fn keys_and_values_are_not_trimmed() {
        let v = verifier(&[SECRET]);
        // " v1" is not the v1 scheme, as in Stripe's libraries.
        let header = format!("t={T}, v1={BODY_SIG}");
        assert_eq!(
            v.verify(Some(&header), BODY, at(T)),
            Err(SignatureError::NoV1Signature)
        );
        let header = format!("t={T},v1= {BODY_SIG}");
        assert_eq!(
            v.verify(Some(&header), BODY, at(T)),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn first_timestamp_wins_and_unknown_elements_are_ignored() {
        let v = verifier(&[SECRET]);
        let header = format!("t={T},t=1,foo,v1={BODY_SIG},x=y=z");
        assert_eq!(
            v.verify(Some(&header), BODY, at(T))
                .map(VerifiedTimestamp::unix_seconds),
            Ok(T)
        );
    }

    #[test]
    fn body_with_non_utf8_bytes() {
        let body = b"\xff\xfe{\"a\":1}\x80";
        // python3: hmac.new(b"whsec_test", b'1492774577.\xff\xfe{"a":1}\x80', sha256)
        let expected = "a507eac8850e3f48be0d024702649b3a9758fbf9f4b56655df8f46813bbb2e5c";
        let header = sign(SECRET, T, body);
        assert_eq!(header, format!("t={T},v1={expected}"));
        assert!(
            verifier(&[SECRET])
                .verify(Some(&header), body, at(T))
                .is_ok()
        );
    }

    #[test]
    fn config_errors() {
        assert_eq!(
            Verifier::new(vec![], DEFAULT_TOLERANCE).map(|_| ()),
            Err(SignatureConfigError::NoSecrets)
        );
        assert_eq!(
            Verifier::new(vec![SECRET.into(), String::new()], DEFAULT_TOLERANCE).map(|_| ()),
            Err(SignatureConfigError::EmptySecret { index: 2 })
        );
        assert_eq!(
            Verifier::new(vec![format!("{SECRET}\n")], DEFAULT_TOLERANCE).map(|_| ()),
            Err(SignatureConfigError::SecretHasSurroundingWhitespace { index: 1 })
        );
    }

    #[test]
    fn debug_and_errors_do_not_reveal_secrets() {
        let secret = "whsec_very_secret_value";
        let v = Verifier::new(vec![secret.into()], DEFAULT_TOLERANCE).expect("valid");
        let debug = format!("{v:?}");
        assert!(!debug.contains(secret), "{debug}");
        assert!(!debug.contains("very_secret"), "{debug}");
        assert!(debug.contains("redacted"), "{debug}");

        let header = format!("t={T},v1={}", "0".repeat(64));
        let expected = sign(secret, T, BODY);
        let expected_sig = expected.rsplit('=').next().unwrap_or_default();
        let err = v
            .verify(Some(&header), BODY, at(T))
            .expect_err("wrong signature");
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(secret), "{text}");
            assert!(!text.contains(expected_sig), "{text}");
        }
    }
}
