//! # Prometheus metrics (`GET /metrics`, text exposition format 0.0.4)

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Latency histogram bounds, seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    /// (api, route, method, status, microversion) → count
    requests: BTreeMap<(String, String, String, u16, String), u64>,
    /// (api, route) → latency
    latency: BTreeMap<(String, String), Histogram>,
    tokens_issued: u64,
    /// rule id → count
    faults: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// One finished API call.
pub struct Observation<'a> {
    pub api: &'a str,
    pub route: String,
    pub method: &'a str,
    pub status: u16,
    pub microversion: &'a str,
    pub seconds: f64,
    pub token_issued: bool,
    pub fault: Option<&'a str>,
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn observe(&self, o: Observation<'_>) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *g.requests
            .entry((
                o.api.to_string(),
                o.route.clone(),
                o.method.to_string(),
                o.status,
                o.microversion.to_string(),
            ))
            .or_default() += 1;
        let h = g
            .latency
            .entry((o.api.to_string(), o.route))
            .or_insert_with(|| Histogram {
                counts: vec![0; BUCKETS.len()],
                ..Default::default()
            });
        for (i, b) in BUCKETS.iter().enumerate() {
            if o.seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += o.seconds;
        h.count += 1;
        if o.token_issued {
            g.tokens_issued += 1;
        }
        if let Some(id) = o.fault {
            *g.faults.entry(id.to_string()).or_default() += 1;
        }
    }

    /// The exposition text; `gauges` are (name, help, value) read at scrape time.
    pub fn render(&self, gauges: &[(&str, &str, i64)]) -> String {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP novakeys_requests_total API requests by route, method, status and microversion.\n# TYPE novakeys_requests_total counter\n");
        for ((api, route, method, status, mv), n) in &g.requests {
            let _ = writeln!(
                out,
                "novakeys_requests_total{{api=\"{}\",route=\"{}\",method=\"{}\",status=\"{status}\",microversion=\"{}\"}} {n}",
                esc(api),
                esc(route),
                esc(method),
                esc(mv)
            );
        }
        out.push_str("# HELP novakeys_request_duration_seconds API request latency.\n# TYPE novakeys_request_duration_seconds histogram\n");
        for ((api, route), h) in &g.latency {
            let labels = format!("api=\"{}\",route=\"{}\"", esc(api), esc(route));
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "novakeys_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "novakeys_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "novakeys_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "novakeys_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let _ = write!(
            out,
            "# HELP novakeys_tokens_issued_total Keystone tokens issued.\n# TYPE novakeys_tokens_issued_total counter\nnovakeys_tokens_issued_total {}\n",
            g.tokens_issued
        );
        out.push_str("# HELP novakeys_faults_fired_total Injected faults, by rule.\n# TYPE novakeys_faults_fired_total counter\n");
        for (id, n) in &g.faults {
            let _ = writeln!(
                out,
                "novakeys_faults_fired_total{{rule=\"{}\"}} {n}",
                esc(id)
            );
        }
        for (name, help, value) in gauges {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
            );
        }
        out
    }
}

/// Path segments kept as they are in the `route` label; anything else becomes `{id}`, so
/// the label's values stay few.
const WORDS: &[&str] = &[
    "v2",
    "v2.1",
    "v3",
    "os-keypairs",
    "limits",
    "os-quota-sets",
    "detail",
    "defaults",
    "auth",
    "tokens",
    "catalog",
    "projects",
    "domains",
    "system",
    "users",
    "roles",
    "groups",
    "role_assignments",
    "application_credentials",
    "password",
    "credentials",
    "services",
    "endpoints",
    "regions",
    "OS-TRUST",
];

/// The route label of a path below the API's mount: `/v2.1/os-keypairs/{id}`.
pub fn route_label(path: &str) -> String {
    if path == "/" || path.is_empty() {
        return "/".into();
    }
    let mut out = String::new();
    for seg in path.trim_start_matches('/').split('/') {
        out.push('/');
        if WORDS.contains(&seg) || seg.is_empty() {
            out.push_str(seg);
        } else {
            out.push_str("{id}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_text() {
        assert_eq!(
            route_label("/v2.1/os-keypairs/my key"),
            "/v2.1/os-keypairs/{id}"
        );
        assert_eq!(
            route_label("/v2.1/0123abc/os-keypairs"),
            "/v2.1/{id}/os-keypairs"
        );
        let m = Metrics::default();
        m.observe(Observation {
            api: "compute",
            route: "/v2.1/os-keypairs".into(),
            method: "GET",
            status: 200,
            microversion: "2.1",
            seconds: 0.002,
            token_issued: false,
            fault: None,
        });
        let text = m.render(&[("novakeys_keypairs", "Key pairs stored.", 0)]);
        assert!(text.contains("novakeys_requests_total{api=\"compute\",route=\"/v2.1/os-keypairs\",method=\"GET\",status=\"200\",microversion=\"2.1\"} 1"));
        assert!(text.contains("le=\"0.001\"} 0\n"));
        assert!(text.contains("le=\"0.0025\"} 1\n"));
        assert!(text.contains("novakeys_keypairs 0\n"));
    }
}
