//! # Application credential expiry
//!
//! Keystone reads `expires_at` with `utils.parse_expiration_date`: a `Z` is appended unless
//! the text ends with one, the result goes through `iso8601.parse_date` (oslo's
//! `parse_isotime`), and a time already past is refused. So a naive time
//! (`2030-01-01T00:00:00`, what the stock `openstack application credential create
//! --expiration` sends) is UTC, while an offset (`+01:00`) or a bare date cannot be read
//! (`+01:00Z`, `2030-01-01Z`). The column is a `DateTimeInt` (UTC microseconds), rendered
//! by oslo's `to_primitive` as `%Y-%m-%dT%H:%M:%S.%f` (no zone): that is how it is stored here.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use regex::Regex;
use std::sync::OnceLock;

/// Why an `expires_at` was refused (Keystone's two 400s).
#[derive(Debug, PartialEq, Eq)]
pub enum ExpiryError {
    /// `ValidationTimeStampError`.
    Format,
    /// `ValidationExpirationError`.
    Past,
}

/// How an expiry is stored and rendered.
pub const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

/// `iso8601`'s `ISO8601_REGEX` (2.x) with the `Z` Keystone appends: the `YYYYMM` lookahead
/// can never fire here, since a `Z` always follows.
fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?x)^
            (?P<year>[0-9]{4})
            (?:(?:-(?P<monthdash>[0-9]{1,2})|(?P<month>[0-9]{2}))
              (?:(?:-(?P<daydash>[0-9]{1,2})|(?P<day>[0-9]{2}))
                (?:[\ T](?P<hour>[0-9]{2})
                  (?::?(?P<minute>[0-9]{2}))?
                  (?::?(?P<second>[0-9]{1,2})(?:[.,](?P<fraction>[0-9]+))?)?
                  (?P<tz>Z|[-+][0-9]{2}:?(?:[0-9]{2})?)?
                )?
              )?
            )?$",
        )
        .expect("valid expiry pattern")
    })
}

/// `iso8601.parse_date(text)` for the texts Keystone hands it (ending in `Z`).
fn parse_iso8601(text: &str) -> Option<DateTime<Utc>> {
    let c = pattern().captures(text)?;
    // Without a time part the appended `Z` cannot match; and an offset before the `Z`
    // leaves the `Z` unmatched: both fail the `$`. So here the zone is exactly `Z`.
    if c.name("tz").map(|m| m.as_str()) != Some("Z") {
        return None;
    }
    let num = |names: &[&str], default: u32| -> Option<u32> {
        match names.iter().find_map(|n| c.name(n)) {
            Some(m) => m.as_str().parse().ok(),
            None => Some(default),
        }
    };
    let year: i32 = c.name("year")?.as_str().parse().ok()?;
    if year < 1 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        year,
        num(&["month", "monthdash"], 1)?,
        num(&["day", "daydash"], 1)?,
    )?;
    let micro = match c.name("fraction") {
        // int(Decimal("0.<digits>") * 1000000): the first six digits, truncated.
        Some(f) => {
            let digits: String = f.as_str().chars().chain("000000".chars()).take(6).collect();
            digits.parse().ok()?
        }
        None => 0,
    };
    let time = NaiveTime::from_hms_micro_opt(
        num(&["hour"], 0)?,
        num(&["minute"], 0)?,
        num(&["second"], 0)?,
        micro,
    )?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

/// Keystone's `parse_expiration_date` against `now`: the instant, or why not.
pub fn parse_expiration(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ExpiryError> {
    let with_z = if text.ends_with('Z') {
        text.to_string()
    } else {
        format!("{text}Z")
    };
    let at = parse_iso8601(&with_z).ok_or(ExpiryError::Format)?;
    // `timeutils.is_older_than(at, 0)`: strictly before now.
    if at < now {
        return Err(ExpiryError::Past);
    }
    Ok(at)
}

/// The stored form of an accepted expiry.
pub fn render(at: DateTime<Utc>) -> String {
    at.format(FORMAT).to_string()
}

/// The instant a stored `expires_at` stands for. Rows written before expiries were
/// normalised hold what the client sent: read as Keystone would (naive is UTC), else as
/// RFC 3339, else a bare date as its midnight UTC; `None` for what none of these read (the
/// caller treats that as expired: fail closed).
pub fn stored_instant(stored: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = NaiveDateTime::parse_from_str(stored, FORMAT) {
        return Some(t.and_utc());
    }
    let with_z = if stored.ends_with('Z') {
        stored.to_string()
    } else {
        format!("{stored}Z")
    };
    if let Some(t) = parse_iso8601(&with_z) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(stored) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(stored, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Whether an application credential with this stored expiry is expired at `now`
/// (Keystone's `_check_expired`: `utcnow() >= expires_at`).
pub fn is_expired(expires_at: Option<&str>, now: DateTime<Utc>) -> bool {
    match expires_at {
        None => false,
        Some(s) => stored_instant(s).is_none_or(|at| now >= at),
    }
}

/// How a stored expiry is shown: normalised when it can be read, else as stored.
pub fn shown(stored: &str) -> String {
    stored_instant(stored).map_or_else(|| stored.to_string(), render)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn ok(text: &str) -> String {
        render(parse_expiration(text, now()).unwrap_or_else(|e| panic!("{text}: {e:?}")))
    }

    #[test]
    fn naive_is_utc_and_rendered_like_keystone() {
        assert_eq!(ok("2030-01-01T00:00:00"), "2030-01-01T00:00:00.000000");
        assert_eq!(ok("2030-01-01T00:00:00Z"), "2030-01-01T00:00:00.000000");
        assert_eq!(ok("2030-01-01T00:00:00.5"), "2030-01-01T00:00:00.500000");
        assert_eq!(
            ok("2030-01-01T00:00:00.123456789Z"),
            "2030-01-01T00:00:00.123456"
        );
        assert_eq!(ok("2030-01-01 12:30"), "2030-01-01T12:30:00.000000");
        assert_eq!(ok("20300101T1230"), "2030-01-01T12:30:00.000000");
        assert_eq!(ok("2030-1-2T03"), "2030-01-02T03:00:00.000000");
        assert_eq!(
            ok("2026-01-01T00:00:00"),
            "2026-01-01T00:00:00.000000",
            "now itself"
        );
    }

    #[test]
    fn what_keystone_cannot_read_or_refuses() {
        for bad in [
            "2030-01-01",
            "2030-01-01+01:00",
            "2030-01-01T00:00:00+00:00",
            "2030-01-01T00:00:00+01:00",
            "2030-01-01T00:00:00ZZ",
            "2030-13-01T00:00:00",
            "2030-02-30T00:00:00",
            "2030-01-01T24:00:00",
            "2030-01-01T00:00:60",
            "0000-01-01T00:00:00",
            "tomorrow",
            "",
        ] {
            assert_eq!(
                parse_expiration(bad, now()),
                Err(ExpiryError::Format),
                "{bad}"
            );
        }
        assert_eq!(
            parse_expiration("2020-01-01T00:00:00", now()),
            Err(ExpiryError::Past)
        );
        assert_eq!(
            parse_expiration("2025-12-31T23:59:59.999999Z", now()),
            Err(ExpiryError::Past)
        );
    }

    #[test]
    fn stored_values_compare_as_instants() {
        let at = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let before = at - chrono::Duration::microseconds(1);
        for stored in [
            "2026-01-01T00:00:00.000000",
            "2026-01-01T00:00:00",
            "2026-01-01T01:00:00+01:00",
            "2026-01-01",
        ] {
            assert!(!is_expired(Some(stored), before), "{stored}");
            assert!(
                is_expired(Some(stored), at),
                "{stored}: expired at the instant"
            );
        }
        assert!(
            is_expired(Some("garbage"), before),
            "unreadable: fail closed"
        );
        assert!(!is_expired(None, at));
        assert_eq!(shown("2026-01-01"), "2026-01-01T00:00:00.000000");
        assert_eq!(shown("garbage"), "garbage");
    }
}
