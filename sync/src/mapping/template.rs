//! Rendering the values of a `format` text (`format = "Payment of {amount|money:currency} failed"`
//! in `sync/mappings.toml`): every value becomes text, an absent one [`ABSENT`].

use super::convert;
use super::error::{MappingError, Site};

/// What an absent value renders as.
pub const ABSENT: &str = "(none)";

/// The Stripe Dashboard of live mode.
pub const DASHBOARD_LIVE: &str = "https://dashboard.stripe.com/";

/// The Stripe Dashboard of test mode.
pub const DASHBOARD_TEST: &str = "https://dashboard.stripe.com/test/";

/// `{path}` of a string or enum: the value as it is.
pub fn text(value: Option<String>) -> String {
    value.unwrap_or_else(|| ABSENT.to_string())
}

/// `{path}` of an integer: in decimal.
pub fn integer(value: Option<i64>) -> String {
    value.map_or_else(|| ABSENT.to_string(), |n| n.to_string())
}

/// `{path}` of a boolean: `yes` or `no`.
pub fn boolean(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => ABSENT,
    }
}

/// `{amount|money:currency}`: minor units as an amount with the currency's own decimals,
/// followed by the upper-case code (`49.00 USD`, `5000 JPY`); refused above `max` minor units.
pub fn money(
    site: &Site,
    amount: Option<i64>,
    currency: Option<String>,
    max: i64,
) -> Result<String, MappingError> {
    let code = convert::currency_code(site, currency.clone())?;
    match (convert::money(site, amount, currency, max)?, code) {
        (Some(amount), Some(code)) => Ok(format!("{amount} {code}")),
        _ => Ok(ABSENT.to_string()),
    }
}

/// `{path|date}`: Unix seconds as the UTC date (`2023-03-14`).
pub fn date(site: &Site, seconds: Option<i64>) -> Result<String, MappingError> {
    Ok(convert::date(site, seconds)?.map_or_else(|| ABSENT.to_string(), |date| date.to_string()))
}

/// `{livemode|dashboard}`: the Dashboard's base URL, ending in `/`, with `test/` unless the
/// event is from live mode (an absent value counts as test mode).
pub fn dashboard(livemode: Option<bool>) -> &'static str {
    if livemode == Some(true) {
        DASHBOARD_LIVE
    } else {
        DASHBOARD_TEST
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: Site = Site::new("test", "Description");

    #[test]
    fn values_render_as_text() {
        assert_eq!(text(Some("card_declined".into())), "card_declined");
        assert_eq!(text(None), "(none)");
        assert_eq!(integer(Some(3)), "3");
        assert_eq!(integer(None), "(none)");
        assert_eq!(boolean(Some(true)), "yes");
        assert_eq!(boolean(Some(false)), "no");
        assert_eq!(boolean(None), "(none)");
    }

    #[test]
    fn money_has_the_currency_decimals_and_code() {
        assert_eq!(
            money(&SITE, Some(4900), Some("usd".into()), 1_000_000).unwrap(),
            "49.00 USD"
        );
        assert_eq!(
            money(&SITE, Some(5000), Some("jpy".into()), 1_000_000).unwrap(),
            "5000 JPY"
        );
        assert_eq!(
            money(&SITE, Some(1234), Some("bhd".into()), 1_000_000).unwrap(),
            "1.234 BHD"
        );
        assert_eq!(
            money(&SITE, None, Some("usd".into()), 10).unwrap(),
            "(none)"
        );
        assert!(money(&SITE, Some(11), Some("usd".into()), 10).is_err());
    }

    #[test]
    fn dates_and_dashboard_links() {
        assert_eq!(date(&SITE, Some(1_678_800_000)).unwrap(), "2023-03-14");
        assert_eq!(date(&SITE, None).unwrap(), "(none)");
        assert_eq!(dashboard(Some(true)), "https://dashboard.stripe.com/");
        assert_eq!(dashboard(Some(false)), "https://dashboard.stripe.com/test/");
        assert_eq!(dashboard(None), "https://dashboard.stripe.com/test/");
    }
}
