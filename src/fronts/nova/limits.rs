//! # Limits body (`GET /limits`)
//!
//! Mirrors, from upstream Nova:
//! - `nova/api/openstack/compute/limits.py` (`LimitsController.index`, `FILTERED_LIMITS_v236`,
//!   `FILTERED_LIMITS_v257`, the 2.39 `max_image_meta` switch),
//! - `nova/api/openstack/compute/views/limits.py` (`ViewBuilder.build`,
//!   `_build_absolute_limits`, `_build_used_limits`),
//! - `nova/api/openstack/compute/schemas/limits.py` (response schemas per version),
//! - `nova/quota.py` / `nova/conf/quota.py` (via [`crate::fronts::nova::quota_sets`]: resource
//!   registration order and default limits),
//! - `doc/api_samples/limits/**` (checked against; see "Key order" below).
//!
//! Same deployment assumptions as `quota_sets`: `DbQuotaDriver`, default `[quota]` options, no
//! overrides, no servers or server groups (every `total*Used` is 0).
//!
//! ## Key order
//! `json.dumps` keeps dict insertion order:
//! - `build` emits `{"limits": {"rate": [], "absolute": {...}}}` (`rate` first).
//! - `absolute` first gets the `max*` keys while iterating the quotas dict from
//!   `get_project_quotas`, i.e. resource *registration* order (cores, injected_files,
//!   injected_file_content_bytes, injected_file_path_bytes, instances, key_pairs,
//!   metadata_items, ram, server_groups, server_group_members, fixed_ips, floating_ips,
//!   security_groups, security_group_rules), expanding `metadata_items` to
//!   `maxServerMeta, maxImageMeta`; then the `total*Used` keys in `quota_map` order
//!   (RAM, cores, instances, floating IPs, security groups, server groups).
//!
//! The api-samples show `absolute` before `rate` and the `max*` keys roughly alphabetically
//! (`maxImageMeta` first, `totalCoresUsed` before `totalRAMUsed`); sample tests compare parsed
//! JSON, so that hand-written order was never checked against the real output.

use crate::fronts::nova::microversion::Microversion;
use crate::fronts::nova::quota_sets::project_quota_limits;
use serde_json::{Map, Value};

/// `ViewBuilder.limit_names`: quota resource -> absolute limit names (resources not listed,
/// `injected_file_path_bytes` and `fixed_ips`, never appear in `/limits`).
const LIMIT_NAMES: [(&str, &[&str]); 12] = [
    ("ram", &["maxTotalRAMSize"]),
    ("instances", &["maxTotalInstances"]),
    ("cores", &["maxTotalCores"]),
    ("key_pairs", &["maxTotalKeypairs"]),
    ("floating_ips", &["maxTotalFloatingIps"]),
    ("metadata_items", &["maxServerMeta", "maxImageMeta"]),
    ("injected_files", &["maxPersonality"]),
    ("injected_file_content_bytes", &["maxPersonalitySize"]),
    ("security_groups", &["maxSecurityGroups"]),
    ("security_group_rules", &["maxSecurityGroupRules"]),
    ("server_groups", &["maxServerGroups"]),
    ("server_group_members", &["maxServerGroupMembers"]),
];

/// `_build_used_limits.quota_map`, in its insertion order.
const USED_LIMITS: [(&str, &str); 6] = [
    ("totalRAMUsed", "ram"),
    ("totalCoresUsed", "cores"),
    ("totalInstancesUsed", "instances"),
    ("totalFloatingIpsUsed", "floating_ips"),
    ("totalSecurityGroupsUsed", "security_groups"),
    ("totalServerGroupsUsed", "server_groups"),
];

/// Resources hidden from 2.36 (nova-network proxy APIs deprecated).
const FILTERED_LIMITS_V236: [&str; 3] = ["floating_ips", "security_groups", "security_group_rules"];

/// Additionally hidden from 2.57 (personality / injected files deprecated).
const FILTERED_LIMITS_V257_EXTRA: [&str; 2] = ["injected_files", "injected_file_content_bytes"];

fn is_filtered(version: Microversion, resource: &str) -> bool {
    if version >= Microversion::new(2, 57) && FILTERED_LIMITS_V257_EXTRA.contains(&resource) {
        return true;
    }
    version >= Microversion::new(2, 36) && FILTERED_LIMITS_V236.contains(&resource)
}

/// Body of `GET /limits` (also with `?tenant_id=`: another project has the same default limits
/// and zero usage).
pub fn limits_view(version: Microversion, key_pairs_limit: i64) -> Value {
    // From 2.39 the image metadata limit is dropped (image proxy APIs deprecated).
    let max_image_meta = version < Microversion::new(2, 39);

    let mut absolute = Map::new();
    for (resource, limit) in project_quota_limits(key_pairs_limit) {
        if is_filtered(version, resource) {
            continue;
        }
        let Some((_, names)) = LIMIT_NAMES.iter().find(|(r, _)| *r == resource) else {
            continue;
        };
        for &name in names.iter() {
            if !max_image_meta && name == "maxImageMeta" {
                continue;
            }
            absolute.insert(name.to_owned(), Value::from(limit));
        }
    }
    for (name, resource) in USED_LIMITS {
        if !is_filtered(version, resource) {
            absolute.insert(name.to_owned(), Value::from(0));
        }
    }

    let mut limits = Map::new();
    limits.insert("rate".to_owned(), Value::Array(Vec::new()));
    limits.insert("absolute".to_owned(), Value::Object(absolute));
    let mut body = Map::new();
    body.insert("limits".to_owned(), Value::Object(limits));
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Microversion, key_pairs_limit: i64) -> String {
        serde_json::to_string(&limits_view(v, key_pairs_limit)).unwrap()
    }

    const FULL: &str = r#"{"limits":{"rate":[],"absolute":{"maxTotalCores":20,"maxPersonality":5,"maxPersonalitySize":10240,"maxTotalInstances":10,"maxTotalKeypairs":100,"maxServerMeta":128,"maxImageMeta":128,"maxTotalRAMSize":51200,"maxServerGroups":10,"maxServerGroupMembers":10,"maxTotalFloatingIps":-1,"maxSecurityGroups":-1,"maxSecurityGroupRules":-1,"totalRAMUsed":0,"totalCoresUsed":0,"totalInstancesUsed":0,"totalFloatingIpsUsed":0,"totalSecurityGroupsUsed":0,"totalServerGroupsUsed":0}}}"#;
    const V236: &str = r#"{"limits":{"rate":[],"absolute":{"maxTotalCores":20,"maxPersonality":5,"maxPersonalitySize":10240,"maxTotalInstances":10,"maxTotalKeypairs":100,"maxServerMeta":128,"maxImageMeta":128,"maxTotalRAMSize":51200,"maxServerGroups":10,"maxServerGroupMembers":10,"totalRAMUsed":0,"totalCoresUsed":0,"totalInstancesUsed":0,"totalServerGroupsUsed":0}}}"#;
    const V239: &str = r#"{"limits":{"rate":[],"absolute":{"maxTotalCores":20,"maxPersonality":5,"maxPersonalitySize":10240,"maxTotalInstances":10,"maxTotalKeypairs":100,"maxServerMeta":128,"maxTotalRAMSize":51200,"maxServerGroups":10,"maxServerGroupMembers":10,"totalRAMUsed":0,"totalCoresUsed":0,"totalInstancesUsed":0,"totalServerGroupsUsed":0}}}"#;
    const V257: &str = r#"{"limits":{"rate":[],"absolute":{"maxTotalCores":20,"maxTotalInstances":10,"maxTotalKeypairs":100,"maxServerMeta":128,"maxTotalRAMSize":51200,"maxServerGroups":10,"maxServerGroupMembers":10,"totalRAMUsed":0,"totalCoresUsed":0,"totalInstancesUsed":0,"totalServerGroupsUsed":0}}}"#;

    #[test]
    fn per_version_bodies() {
        let v = Microversion::new;
        assert_eq!(text(v(2, 1), 100), FULL);
        assert_eq!(text(v(2, 35), 100), FULL);
        assert_eq!(text(v(2, 36), 100), V236);
        assert_eq!(text(v(2, 38), 100), V236);
        assert_eq!(text(v(2, 39), 100), V239);
        assert_eq!(text(v(2, 56), 100), V239);
        assert_eq!(text(v(2, 57), 100), V257);
        assert_eq!(text(v(2, 75), 100), V257);
        assert_eq!(text(v(2, 104), 100), V257);
    }

    /// Key counts follow the response-schema version ranges in schemas/limits.py.
    #[test]
    fn every_microversion_has_the_schema_field_count() {
        for minor in 1..=104 {
            let body = limits_view(Microversion::new(2, minor), 100);
            let expected = match minor {
                1..=35 => 19,
                36..=38 => 14,
                39..=56 => 13,
                _ => 11,
            };
            assert_eq!(
                body["limits"]["absolute"].as_object().unwrap().len(),
                expected,
                "2.{minor}"
            );
        }
    }

    #[test]
    fn key_pairs_limit_is_configurable() {
        let body = limits_view(Microversion::new(2, 104), -1);
        assert_eq!(body["limits"]["absolute"]["maxTotalKeypairs"], -1);
        let body = limits_view(Microversion::new(2, 1), 3);
        assert_eq!(body["limits"]["absolute"]["maxTotalKeypairs"], 3);
    }

    /// Same content as doc/api_samples/limits/v2.57/limit-get-resp.json (order aside).
    #[test]
    fn matches_api_sample_v257_ignoring_order() {
        let sample = serde_json::json!({"limits": {"absolute": {
            "maxServerMeta": 128, "maxTotalCores": 20, "maxTotalInstances": 10,
            "maxTotalKeypairs": 100, "maxTotalRAMSize": 51200, "maxServerGroups": 10,
            "maxServerGroupMembers": 10, "totalCoresUsed": 0, "totalInstancesUsed": 0,
            "totalRAMUsed": 0, "totalServerGroupsUsed": 0}, "rate": []}});
        let ours = limits_view(Microversion::new(2, 57), 100);
        let mut a: Vec<_> = ours["limits"]["absolute"]
            .as_object()
            .unwrap()
            .iter()
            .collect();
        let mut b: Vec<_> = sample["limits"]["absolute"]
            .as_object()
            .unwrap()
            .iter()
            .collect();
        a.sort_by(|x, y| x.0.cmp(y.0));
        b.sort_by(|x, y| x.0.cmp(y.0));
        assert_eq!(a, b);
        assert_eq!(ours["limits"]["rate"], sample["limits"]["rate"]);
    }
}
