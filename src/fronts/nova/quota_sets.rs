//! # Quota set bodies (`/os-quota-sets/{project_id}[/detail|/defaults]`)
//!
//! Mirrors, from upstream Nova:
//! - `nova/api/openstack/compute/quota_sets.py` (`_format_quota_set`, `_get_quotas`,
//!   `_get_filtered_quotas`, `FILTERED_QUOTAS_v236` / `FILTERED_QUOTAS_v257`),
//! - `nova/quota.py` (`QUOTAS` resource registry, `QuotaEngine.resources`,
//!   `DbQuotaDriver.get_defaults` / `_process_quotas` / `_get_usages` / `get_reserved`,
//!   `BaseResource.default`),
//! - `nova/conf/quota.py` (default limits),
//! - `nova/api/openstack/compute/schemas/quota_sets.py` (response schemas per version),
//! - `doc/api_samples/os-quota-sets/**` (checked against; see "Key order" below).
//!
//! The emulated deployment uses the default `DbQuotaDriver`, the default `[quota]` options, no
//! per-project / per-user / quota-class overrides (a fresh database: the squashed initial
//! migrations insert no `default` quota class rows), and no servers or server groups, so every
//! usage is 0. Key pairs are a per-user resource whose usage Nova *never* reports
//! (`_get_usages` pins `key_pairs` and `server_group_members` to `in_use: 0`), so `in_use` is 0
//! for them too regardless of how many key pairs exist.
//!
//! ## Key order
//! Nova serialises with `json.dumps` without `sort_keys`, so the wire order is dict insertion
//! order:
//! - `_format_quota_set` inserts `id` first (when present), then every resource in
//!   `QuotaEngine.resources` order, which is `sorted()` of the names (code point order: so
//!   `injected_file_content_bytes` < `injected_file_path_bytes` < `injected_files`,
//!   `security_group_rules` < `security_groups`, `server_group_members` < `server_groups`).
//! - The detail entry is built by `_process_quotas` as `dict(limit=...)`, then `.update(in_use=...)`,
//!   then `quota_sets._get_quotas` adds `reserved`: so `{"limit": N, "in_use": 0, "reserved": 0}`.
//!
//! The api-samples differ from this and are *not* authoritative for order: they place `id`
//! alphabetically between `floating_ips`/`cores` and the injected_* keys, show detail entries as
//! `in_use, limit, reserved` (alphabetical), and list `server_groups` before
//! `server_group_members` in the non-detail samples. The sample tests compare parsed JSON
//! (order-insensitive), so those hand-written orders were never checked against the real output.

use crate::fronts::nova::microversion::Microversion;
use serde_json::{Map, Value};

/// Quota resources in `nova.quota.QUOTAS` registration order, with the default limit that
/// `DbQuotaDriver.get_defaults` yields for a fresh deployment (`CONF.quota[flag]`, or -1 for the
/// flag-less deprecated nova-network resources). `key_pairs` is overridden by the caller.
const RESOURCES: [(&str, i64); 14] = [
    ("cores", 20),
    ("injected_files", 5),
    ("injected_file_content_bytes", 10 * 1024),
    // flag `injected_file_path_length`
    ("injected_file_path_bytes", 255),
    ("instances", 10),
    ("key_pairs", 100),
    ("metadata_items", 128),
    ("ram", 50 * 1024),
    ("server_groups", 10),
    ("server_group_members", 10),
    ("fixed_ips", -1),
    ("floating_ips", -1),
    ("security_groups", -1),
    ("security_group_rules", -1),
];

/// Removed from quota-set bodies from 2.36 (nova-network proxy APIs deprecated).
const FILTERED_QUOTAS_V236: [&str; 4] = [
    "fixed_ips",
    "floating_ips",
    "security_group_rules",
    "security_groups",
];

/// Additionally removed from 2.57 (personality / injected files deprecated).
const FILTERED_QUOTAS_V257_EXTRA: [&str; 3] = [
    "injected_files",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
];

/// `DbQuotaDriver.get_reserved()`: reservations no longer exist, always 0.
const RESERVED: i64 = 0;

/// The project's quota limits in registration order (the order of the dict
/// `get_project_quotas` / `get_defaults` return), with `key_pairs` set to `key_pairs_limit`.
/// Shared with the limits view, whose absolute section iterates this order.
pub(crate) fn project_quota_limits(key_pairs_limit: i64) -> [(&'static str, i64); 14] {
    let mut quotas = RESOURCES;
    for entry in quotas.iter_mut() {
        if entry.0 == "key_pairs" {
            entry.1 = key_pairs_limit;
        }
    }
    quotas
}

fn is_filtered(version: Microversion, resource: &str) -> bool {
    if version >= Microversion::new(2, 57) && FILTERED_QUOTAS_V257_EXTRA.contains(&resource) {
        return true;
    }
    version >= Microversion::new(2, 36) && FILTERED_QUOTAS_V236.contains(&resource)
}

/// `_format_quota_set`: `id` first (when given), then the sorted resource names that survive
/// the version's filter, each rendered by `render(limit)`.
fn format_quota_set(
    version: Microversion,
    project_id: Option<&str>,
    key_pairs_limit: i64,
    render: impl Fn(i64) -> Value,
) -> Value {
    let mut quotas = project_quota_limits(key_pairs_limit);
    // `QuotaEngine.resources` is `sorted(self._resources.keys())`; byte order == code point
    // order for these ASCII names.
    quotas.sort_by(|a, b| a.0.cmp(b.0));

    let mut result = Map::new();
    if let Some(id) = project_id {
        result.insert("id".to_owned(), Value::String(id.to_owned()));
    }
    for (name, limit) in quotas {
        if !is_filtered(version, name) {
            result.insert(name.to_owned(), render(limit));
        }
    }
    let mut body = Map::new();
    body.insert("quota_set".to_owned(), Value::Object(result));
    Value::Object(body)
}

/// Body of `GET /os-quota-sets/{project_id}` (also with `?user_id=`: with no per-user quotas the
/// user view equals the project view).
pub fn quota_set_view(version: Microversion, project_id: &str, key_pairs_limit: i64) -> Value {
    format_quota_set(version, Some(project_id), key_pairs_limit, Value::from)
}

/// Body of `GET /os-quota-sets/{project_id}/detail`: each resource is
/// `{"limit": N, "in_use": 0, "reserved": 0}` in that key order.
pub fn quota_set_detail_view(
    version: Microversion,
    project_id: &str,
    key_pairs_limit: i64,
) -> Value {
    format_quota_set(version, Some(project_id), key_pairs_limit, |limit| {
        let mut entry = Map::new();
        entry.insert("limit".to_owned(), Value::from(limit));
        entry.insert("in_use".to_owned(), Value::from(0));
        entry.insert("reserved".to_owned(), Value::from(RESERVED));
        Value::Object(entry)
    })
}

/// Body of `GET /os-quota-sets/{project_id}/defaults` (`QUOTAS.get_defaults`, which with no
/// `default` quota class equals the configured defaults, so the same values as the show view).
pub fn quota_set_defaults_view(
    version: Microversion,
    project_id: &str,
    key_pairs_limit: i64,
) -> Value {
    format_quota_set(version, Some(project_id), key_pairs_limit, Value::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2_1: Microversion = Microversion::new(2, 1);
    const V2_35: Microversion = Microversion::new(2, 35);
    const V2_36: Microversion = Microversion::new(2, 36);
    const V2_39: Microversion = Microversion::new(2, 39);
    const V2_56: Microversion = Microversion::new(2, 56);
    const V2_57: Microversion = Microversion::new(2, 57);
    const V2_104: Microversion = Microversion::new(2, 104);

    fn text(v: &Value) -> String {
        serde_json::to_string(v).unwrap()
    }

    const SHOW_FULL: &str = r#"{"quota_set":{"id":"p1","cores":20,"fixed_ips":-1,"floating_ips":-1,"injected_file_content_bytes":10240,"injected_file_path_bytes":255,"injected_files":5,"instances":10,"key_pairs":100,"metadata_items":128,"ram":51200,"security_group_rules":-1,"security_groups":-1,"server_group_members":10,"server_groups":10}}"#;
    const SHOW_V236: &str = r#"{"quota_set":{"id":"p1","cores":20,"injected_file_content_bytes":10240,"injected_file_path_bytes":255,"injected_files":5,"instances":10,"key_pairs":100,"metadata_items":128,"ram":51200,"server_group_members":10,"server_groups":10}}"#;
    const SHOW_V257: &str = r#"{"quota_set":{"id":"p1","cores":20,"instances":10,"key_pairs":100,"metadata_items":128,"ram":51200,"server_group_members":10,"server_groups":10}}"#;

    #[test]
    fn show_per_version() {
        assert_eq!(text(&quota_set_view(V2_1, "p1", 100)), SHOW_FULL);
        assert_eq!(text(&quota_set_view(V2_35, "p1", 100)), SHOW_FULL);
        assert_eq!(text(&quota_set_view(V2_36, "p1", 100)), SHOW_V236);
        // 2.39 changes nothing for quota sets (only limits' maxImageMeta).
        assert_eq!(text(&quota_set_view(V2_39, "p1", 100)), SHOW_V236);
        assert_eq!(text(&quota_set_view(V2_56, "p1", 100)), SHOW_V236);
        assert_eq!(text(&quota_set_view(V2_57, "p1", 100)), SHOW_V257);
        assert_eq!(text(&quota_set_view(V2_104, "p1", 100)), SHOW_V257);
    }

    /// Key counts (including `id`) follow the schema version ranges in schemas/quota_sets.py.
    #[test]
    fn every_microversion_has_the_schema_field_count() {
        for minor in 1..=104 {
            let v = Microversion::new(2, minor);
            let expected = match minor {
                1..=35 => 15,
                36..=56 => 11,
                _ => 8,
            };
            for body in [
                quota_set_view(v, "p", 100),
                quota_set_detail_view(v, "p", 100),
                quota_set_defaults_view(v, "p", 100),
            ] {
                assert_eq!(
                    body["quota_set"].as_object().unwrap().len(),
                    expected,
                    "2.{minor}"
                );
            }
        }
    }

    #[test]
    fn defaults_equal_show_for_fresh_deployment() {
        for v in [V2_1, V2_35, V2_36, V2_39, V2_57, V2_104] {
            assert_eq!(
                quota_set_defaults_view(v, "p1", 100),
                quota_set_view(v, "p1", 100)
            );
        }
        assert_eq!(text(&quota_set_defaults_view(V2_1, "p1", 100)), SHOW_FULL);
        assert_eq!(text(&quota_set_defaults_view(V2_104, "p1", 100)), SHOW_V257);
    }

    #[test]
    fn key_pairs_limit_is_configurable() {
        let body = quota_set_view(V2_104, "abc", -1);
        assert_eq!(
            text(&body),
            r#"{"quota_set":{"id":"abc","cores":20,"instances":10,"key_pairs":-1,"metadata_items":128,"ram":51200,"server_group_members":10,"server_groups":10}}"#
        );
        let detail = quota_set_detail_view(V2_104, "abc", 7);
        assert_eq!(
            text(&detail["quota_set"]["key_pairs"]),
            r#"{"limit":7,"in_use":0,"reserved":0}"#
        );
    }

    fn d(limit: i64) -> String {
        format!(r#"{{"limit":{limit},"in_use":0,"reserved":0}}"#)
    }

    #[test]
    fn detail_per_version() {
        let full = format!(
            r#"{{"quota_set":{{"id":"p1","cores":{},"fixed_ips":{},"floating_ips":{},"injected_file_content_bytes":{},"injected_file_path_bytes":{},"injected_files":{},"instances":{},"key_pairs":{},"metadata_items":{},"ram":{},"security_group_rules":{},"security_groups":{},"server_group_members":{},"server_groups":{}}}}}"#,
            d(20),
            d(-1),
            d(-1),
            d(10240),
            d(255),
            d(5),
            d(10),
            d(100),
            d(128),
            d(51200),
            d(-1),
            d(-1),
            d(10),
            d(10)
        );
        let v236 = format!(
            r#"{{"quota_set":{{"id":"p1","cores":{},"injected_file_content_bytes":{},"injected_file_path_bytes":{},"injected_files":{},"instances":{},"key_pairs":{},"metadata_items":{},"ram":{},"server_group_members":{},"server_groups":{}}}}}"#,
            d(20),
            d(10240),
            d(255),
            d(5),
            d(10),
            d(100),
            d(128),
            d(51200),
            d(10),
            d(10)
        );
        let v257 = format!(
            r#"{{"quota_set":{{"id":"p1","cores":{},"instances":{},"key_pairs":{},"metadata_items":{},"ram":{},"server_group_members":{},"server_groups":{}}}}}"#,
            d(20),
            d(10),
            d(100),
            d(128),
            d(51200),
            d(10),
            d(10)
        );
        assert_eq!(text(&quota_set_detail_view(V2_1, "p1", 100)), full);
        assert_eq!(text(&quota_set_detail_view(V2_35, "p1", 100)), full);
        assert_eq!(text(&quota_set_detail_view(V2_36, "p1", 100)), v236);
        assert_eq!(text(&quota_set_detail_view(V2_39, "p1", 100)), v236);
        assert_eq!(text(&quota_set_detail_view(V2_57, "p1", 100)), v257);
        assert_eq!(text(&quota_set_detail_view(V2_104, "p1", 100)), v257);
    }

    /// Same content as doc/api_samples/os-quota-sets/{,v2.36/,v2.57/}quotas-show-*-resp.json
    /// (order aside), with the samples' project id.
    #[test]
    fn matches_api_samples_ignoring_order() {
        let sample = serde_json::json!({"quota_set": {
            "cores": 20, "fixed_ips": -1, "floating_ips": -1, "id": "fake_tenant",
            "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
            "injected_files": 5, "instances": 10, "key_pairs": 100, "metadata_items": 128,
            "ram": 51200, "security_group_rules": -1, "security_groups": -1,
            "server_groups": 10, "server_group_members": 10}});
        let ours = quota_set_view(V2_1, "fake_tenant", 100);
        let sorted = |v: &Value| {
            let mut pairs: Vec<_> = v["quota_set"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            pairs
        };
        assert_eq!(sorted(&ours), sorted(&sample));
        let sample_v257 = serde_json::json!({"quota_set": {
            "cores": 20, "id": "fake_tenant", "instances": 10, "key_pairs": 100,
            "metadata_items": 128, "ram": 51200, "server_groups": 10,
            "server_group_members": 10}});
        assert_eq!(
            sorted(&quota_set_defaults_view(V2_57, "fake_tenant", 100)),
            sorted(&sample_v257)
        );
    }
}
