//! Stripe timestamps (Unix seconds) to UTC datetimes, and back.

use time::OffsetDateTime;

/// Why a timestamp could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unix timestamp {0} is outside the years -9999 to 9999")]
pub struct TimestampError(pub i64);

/// `seconds` since the Unix epoch as a UTC datetime (never the local time zone).
pub fn from_unix(seconds: i64) -> Result<OffsetDateTime, TimestampError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| TimestampError(seconds))
}

/// A datetime as Unix seconds (sub-second parts are dropped).
pub fn to_unix(datetime: OffsetDateTime) -> i64 {
    datetime.unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(
            from_unix(1_700_000_000),
            Ok(datetime!(2023-11-14 22:13:20 UTC))
        );
        assert_eq!(from_unix(0), Ok(datetime!(1970-01-01 00:00:00 UTC)));
        assert_eq!(
            to_unix(datetime!(2023-11-14 23:13:20 +01:00)),
            1_700_000_000
        );
        assert_eq!(from_unix(i64::MAX), Err(TimestampError(i64::MAX)));
    }
}
