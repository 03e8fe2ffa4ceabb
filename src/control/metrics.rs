//! # Prometheus metrics (`GET /metrics`, text exposition format 0.0.4)

use actix_web::http::Method;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;

/// Latency histogram bounds, seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// One route's figures.
#[derive(Default)]
struct RouteStats {
    /// (method, status, microversion) → count; a route sees only a handful of these.
    requests: Vec<(Method, u16, String, u64)>,
    latency: Histogram,
}

#[derive(Default)]
struct Inner {
    /// Per front (by name, so series come out sorted): route label → figures. Looked up by
    /// `&str`, so counting a request allocates nothing once its route, method, status and
    /// version were seen.
    routes: BTreeMap<&'static str, HashMap<String, RouteStats>>,
    /// Reused to build each request's route label.
    label: String,
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
    /// The front's name.
    pub api: &'static str,
    /// Path segments the front keeps in route labels.
    pub route_words: &'a [&'a str],
    /// The path below the API's mount (counted under its route label).
    pub path: &'a str,
    pub method: &'a Method,
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
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let g = &mut *guard;
        write_route_label(o.path, o.route_words, &mut g.label);
        let routes = g.routes.entry(o.api).or_default();
        if !routes.contains_key(g.label.as_str()) {
            routes.insert(g.label.clone(), RouteStats::default());
        }
        let route = routes
            .get_mut(g.label.as_str())
            .expect("inserted just above");
        match route
            .requests
            .iter_mut()
            .find(|(m, s, v, _)| m == o.method && *s == o.status && v == o.microversion)
        {
            Some((.., n)) => *n += 1,
            None => {
                route
                    .requests
                    .push((o.method.clone(), o.status, o.microversion.to_string(), 1))
            }
        }
        let h = &mut route.latency;
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
        // Series sorted by API, route, method, status, microversion.
        let routes: Vec<(&str, &String, &RouteStats)> = g
            .routes
            .iter()
            .flat_map(|(&api, routes)| {
                let mut r: Vec<_> = routes.iter().collect();
                r.sort_by(|a, b| a.0.cmp(b.0));
                r.into_iter().map(move |(label, stats)| (api, label, stats))
            })
            .collect();
        let mut out = String::new();
        out.push_str("# HELP novakeys_requests_total API requests by route, method, status and microversion.\n# TYPE novakeys_requests_total counter\n");
        for (api, route, stats) in &routes {
            let mut requests: Vec<_> = stats.requests.iter().collect();
            requests.sort_by(|a, b| (a.0.as_str(), a.1, &a.2).cmp(&(b.0.as_str(), b.1, &b.2)));
            for (method, status, mv, n) in requests {
                let _ = writeln!(
                    out,
                    "novakeys_requests_total{{api=\"{}\",route=\"{}\",method=\"{}\",status=\"{status}\",microversion=\"{}\"}} {n}",
                    api,
                    esc(route),
                    esc(method.as_str()),
                    esc(mv)
                );
            }
        }
        out.push_str("# HELP novakeys_request_duration_seconds API request latency.\n# TYPE novakeys_request_duration_seconds histogram\n");
        for (api, route, stats) in &routes {
            let h = &stats.latency;
            let labels = format!("api=\"{api}\",route=\"{}\"", esc(route));
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

/// The route label of a path below the front's mount (`/v2.1/os-keypairs/{id}`): segments in
/// `words` kept, any other becomes `{id}`, so the label's values stay few. Written into `out`
/// (cleared first; the caller reuses it).
fn write_route_label(path: &str, words: &[&str], out: &mut String) {
    out.clear();
    if path == "/" || path.is_empty() {
        out.push('/');
        return;
    }
    for seg in path.trim_start_matches('/').split('/') {
        out.push('/');
        if words.contains(&seg) || seg.is_empty() {
            out.push_str(seg);
        } else {
            out.push_str("{id}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: &[&str] = &["v2.1", "v3", "os-keypairs", "auth", "tokens"];

    fn route_label(path: &str) -> String {
        let mut out = String::new();
        write_route_label(path, WORDS, &mut out);
        out
    }

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
            route_words: WORDS,
            path: "/v2.1/os-keypairs",
            method: &Method::GET,
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

    #[test]
    fn series_are_sorted_and_counted_per_label_set() {
        let m = Metrics::default();
        let calls = [
            ("identity", "/v3/auth/tokens", Method::POST, 201, ""),
            ("compute", "/v2.1/os-keypairs/b", Method::GET, 404, "2.1"),
            ("compute", "/v2.1/os-keypairs/a", Method::GET, 200, "2.92"),
            ("compute", "/v2.1/os-keypairs/a", Method::GET, 200, "2.92"),
            ("compute", "/v2.1/os-keypairs", Method::GET, 200, "2.1"),
            ("compute", "/v2.1/os-keypairs/c", Method::DELETE, 202, "2.1"),
        ];
        for (api, path, method, status, microversion) in &calls {
            m.observe(Observation {
                api,
                route_words: WORDS,
                path,
                method,
                status: *status,
                microversion,
                seconds: 0.5,
                token_issued: false,
                fault: None,
            });
        }
        let text = m.render(&[]);
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("novakeys_requests_total{"))
            .collect();
        assert_eq!(
            series,
            [
                r#"novakeys_requests_total{api="compute",route="/v2.1/os-keypairs",method="GET",status="200",microversion="2.1"} 1"#,
                r#"novakeys_requests_total{api="compute",route="/v2.1/os-keypairs/{id}",method="DELETE",status="202",microversion="2.1"} 1"#,
                r#"novakeys_requests_total{api="compute",route="/v2.1/os-keypairs/{id}",method="GET",status="200",microversion="2.92"} 2"#,
                r#"novakeys_requests_total{api="compute",route="/v2.1/os-keypairs/{id}",method="GET",status="404",microversion="2.1"} 1"#,
                r#"novakeys_requests_total{api="identity",route="/v3/auth/tokens",method="POST",status="201",microversion=""} 1"#,
            ]
        );
        assert!(text.contains(
            "novakeys_request_duration_seconds_count{api=\"compute\",route=\"/v2.1/os-keypairs/{id}\"} 4\n"
        ));
        assert!(text.contains(
            "novakeys_request_duration_seconds_bucket{api=\"compute\",route=\"/v2.1/os-keypairs/{id}\",le=\"0.25\"} 0\n"
        ));
        assert!(text.contains(
            "novakeys_request_duration_seconds_bucket{api=\"compute\",route=\"/v2.1/os-keypairs/{id}\",le=\"0.5\"} 4\n"
        ));
    }
}
