//! # Compute API microversions
//!
//! Mirrors nova/api/openstack/api_version_request.py and microversion_parse: the version comes
//! from `OpenStack-API-Version: compute X.Y` (last `compute` entry wins) or else the legacy
//! `X-OpenStack-Nova-API-Version`; none means 2.1; `latest` means the maximum.

use actix_web::http::header::{HeaderMap, HeaderName};
use std::fmt;

/// A compute API microversion `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion {
    pub major: u32,
    pub minor: u32,
}

impl Microversion {
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
    pub const MIN: Microversion = Microversion::new(2, 1);
    pub const MAX: Microversion = Microversion::new(2, 104);

    /// Parses Nova's format `^([1-9]\d*)\.([1-9]\d*|0)$` (so `2.01` and `2` are malformed).
    pub fn parse(s: &str) -> Option<Self> {
        let (major, minor) = s.split_once('.')?;
        let valid = |part: &str, zero_ok: bool| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (!part.starts_with('0') || (zero_ok && part == "0"))
        };
        if !valid(major, false) || !valid(minor, true) {
            return None;
        }
        Some(Self::new(major.parse().ok()?, minor.parse().ok()?))
    }
}

/// `OpenStack-API-Version: compute 2.x` (request and answer).
pub static API_VERSION_HEADER: HeaderName = HeaderName::from_static("openstack-api-version");
/// The legacy `X-OpenStack-Nova-API-Version: 2.x`.
pub static NOVA_VERSION_HEADER: HeaderName =
    HeaderName::from_static("x-openstack-nova-api-version");

impl Microversion {
    /// Every supported version, in order (MIN..=MAX).
    pub fn supported() -> impl Iterator<Item = Microversion> {
        (Microversion::MIN.minor..=Microversion::MAX.minor)
            .map(|minor| Microversion::new(Microversion::MIN.major, minor))
    }

    /// Where a supported version stands in `supported()`, for tables made once per version.
    pub fn supported_index(self) -> Option<usize> {
        (Microversion::MIN..=Microversion::MAX)
            .contains(&self)
            .then(|| (self.minor - Microversion::MIN.minor) as usize)
    }

    /// The version as written (`2.93`), without formatting it for the supported ones.
    pub fn label(self) -> std::borrow::Cow<'static, str> {
        static SUPPORTED: std::sync::LazyLock<Vec<String>> =
            std::sync::LazyLock::new(|| Microversion::supported().map(|v| v.to_string()).collect());
        match self.supported_index() {
            Some(i) => SUPPORTED[i].as_str().into(),
            None => self.to_string().into(),
        }
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Why a requested version was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionError {
    /// Not of the form MajorNum.MinorNum (→ 400, no version headers).
    Malformed(String),
    /// Well formed but outside [MIN, MAX] (→ 406, headers echo the version).
    Unsupported(Microversion),
}

/// The version string the client asked for, if any (microversion_parse semantics).
fn requested(headers: &HeaderMap) -> Option<String> {
    let mut found = None;
    for value in headers.get_all(&API_VERSION_HEADER) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split_whitespace();
            let (Some(service), Some(version)) = (parts.next(), parts.next()) else {
                continue;
            };
            if service.eq_ignore_ascii_case("compute") {
                found = Some(version.to_string());
            }
        }
    }
    if found.is_some() {
        return found;
    }
    // The last non-empty item of all the legacy header's values joined by commas.
    let legacy: Vec<&str> = headers
        .get_all(&NOVA_VERSION_HEADER)
        .filter_map(|v| v.to_str().ok())
        .collect();
    legacy
        .iter()
        .rev()
        .flat_map(|v| v.rsplit(','))
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_string)
}

/// Negotiates the request's microversion.
pub fn negotiate(headers: &HeaderMap) -> Result<Microversion, VersionError> {
    let Some(text) = requested(headers) else {
        return Ok(Microversion::MIN);
    };
    if text == "latest" {
        return Ok(Microversion::MAX);
    }
    let version = Microversion::parse(&text).ok_or(VersionError::Malformed(text))?;
    if version < Microversion::MIN || version > Microversion::MAX {
        return Err(VersionError::Unsupported(version));
    }
    Ok(version)
}

/// A contiguous range of microversions, inclusive at both ends.
#[derive(Clone, Copy, Debug)]
pub struct VersionRange {
    pub min: Microversion,
    pub max: Microversion,
}

impl VersionRange {
    pub const fn new(min: Microversion, max: Microversion) -> Self {
        Self { min, max }
    }
    pub fn contains(&self, v: Microversion) -> bool {
        self.min <= v && v <= self.max
    }
}

/// Picks the entry of a range table that covers `v`. Tables are checked for gaps by tests.
pub fn select<T: Copy>(table: &[(VersionRange, T)], v: Microversion) -> T {
    table
        .iter()
        .find(|(range, _)| range.contains(v))
        .map(|(_, item)| *item)
        .unwrap_or(table[table.len() - 1].1)
}

/// Asserts that `table` covers [MIN, MAX] without gaps or overlaps (used by tests).
pub fn assert_contiguous<T>(table: &[(VersionRange, T)]) {
    assert_eq!(
        table[0].0.min,
        Microversion::MIN,
        "table must start at the minimum"
    );
    assert_eq!(
        table[table.len() - 1].0.max,
        Microversion::MAX,
        "table must end at the maximum"
    );
    for pair in table.windows(2) {
        let (a, b) = (pair[0].0, pair[1].0);
        assert_eq!(
            b.min,
            Microversion::new(a.max.major, a.max.minor + 1),
            "gap or overlap after {}",
            a.max
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    #[test]
    fn supported_versions_index_their_tables() {
        let all: Vec<Microversion> = Microversion::supported().collect();
        assert_eq!(all.first(), Some(&Microversion::MIN));
        assert_eq!(all.last(), Some(&Microversion::MAX));
        for (i, v) in all.iter().enumerate() {
            assert_eq!(v.supported_index(), Some(i));
            assert_eq!(v.label(), v.to_string());
        }
        for outside in [
            Microversion::new(2, 0),
            Microversion::new(2, 105),
            Microversion::new(3, 1),
        ] {
            assert_eq!(outside.supported_index(), None);
            assert_eq!(outside.label(), outside.to_string());
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn negotiation_follows_nova() {
        let n = |pairs: &[(&str, &str)]| negotiate(&headers(pairs));
        assert_eq!(n(&[]), Ok(Microversion::MIN));
        assert_eq!(
            n(&[("OpenStack-API-Version", "compute latest")]),
            Ok(Microversion::MAX)
        );
        assert_eq!(
            n(&[("OpenStack-API-Version", "COMPUTE 2.2")]),
            Ok(Microversion::new(2, 2))
        );
        assert_eq!(
            n(&[("OpenStack-API-Version", "volume 3.0")]),
            Ok(Microversion::MIN)
        );
        assert_eq!(
            n(&[
                ("OpenStack-API-Version", "compute 2.10"),
                ("X-OpenStack-Nova-API-Version", "2.2")
            ]),
            Ok(Microversion::new(2, 10))
        );
        assert_eq!(
            n(&[("X-OpenStack-Nova-API-Version", "2.2")]),
            Ok(Microversion::new(2, 2))
        );
        assert_eq!(
            n(&[("OpenStack-API-Version", "compute 2.3, compute 2.5")]),
            Ok(Microversion::new(2, 5))
        );
        assert_eq!(
            n(&[("OpenStack-API-Version", "compute 2")]),
            Err(VersionError::Malformed("2".into()))
        );
        assert_eq!(
            n(&[("OpenStack-API-Version", "compute 2.02")]),
            Err(VersionError::Malformed("2.02".into()))
        );
        assert_eq!(
            n(&[("OpenStack-API-Version", "compute Latest")]),
            Err(VersionError::Malformed("Latest".into()))
        );
        assert_eq!(
            n(&[("OpenStack-API-Version", "compute 2.105")]),
            Err(VersionError::Unsupported(Microversion::new(2, 105)))
        );
        assert_eq!(
            n(&[("OpenStack-API-Version", "compute 2.0")]),
            Err(VersionError::Unsupported(Microversion::new(2, 0)))
        );
    }
}
