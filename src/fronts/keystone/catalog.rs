//! # The service catalog
//!
//! Built from configuration: `identity` (`<identity>/v3/`) then `compute` (`<compute>/v2.1`),
//! each with public, internal and admin endpoints in the configured region. Keys are in
//! keystone's render order (endpoint: id, interface, region_id, url, region; service:
//! endpoints, id, type, name). Ids are stable digests so they survive restarts.

use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

fn stable_id(seed: &str) -> String {
    let digest = Md5::digest(seed.as_bytes());
    base16ct::lower::encode_string(&digest)
}

/// `identity_url` is the full `…/v3/` URL, `compute_url` the full `…/v2.1` URL.
pub fn catalog(region: &str, identity_url: &str, compute_url: &str) -> Value {
    let services = [
        ("identity", "keystone", identity_url),
        ("compute", "nova", compute_url),
    ];
    Value::Array(
        services
            .iter()
            .map(|(kind, name, url)| {
                let endpoints: Vec<Value> = ["public", "internal", "admin"]
                    .iter()
                    .map(|iface| {
                        let mut e = Map::new();
                        e.insert(
                            "id".into(),
                            json!(stable_id(&format!("endpoint:{kind}:{iface}:{region}"))),
                        );
                        e.insert("interface".into(), json!(iface));
                        e.insert("region_id".into(), json!(region));
                        e.insert("url".into(), json!(url));
                        e.insert("region".into(), json!(region));
                        Value::Object(e)
                    })
                    .collect();
                let mut s = Map::new();
                s.insert("endpoints".into(), Value::Array(endpoints));
                s.insert("id".into(), json!(stable_id(&format!("service:{kind}"))));
                s.insert("type".into(), json!(kind));
                s.insert("name".into(), json!(name));
                Value::Object(s)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_order() {
        let c = catalog("RegionOne", "http://h:5000/v3/", "http://h:8774/v2.1");
        let text = String::from_utf8(crate::pycompat::pyjson::to_vec(&c)).unwrap();
        assert!(text.starts_with("[{\"endpoints\": [{\"id\": \""));
        assert!(text.contains("\"interface\": \"public\", \"region_id\": \"RegionOne\", \"url\": \"http://h:5000/v3/\", \"region\": \"RegionOne\"}"));
        assert!(text.ends_with("\"type\": \"compute\", \"name\": \"nova\"}]"));
        assert_eq!(c[0]["id"].as_str().unwrap().len(), 32);
    }
}
