//! # Fault injection
//!
//! Rules (`POST /_novakeys/faults`) that answer matching API calls with a genuine Nova or
//! Keystone fault, or delay them. First matching rule that fires wins; answers carry
//! `X-Novakeys-Fault: <rule id>`. `times: N` fires on the first N matches, `nth: N` on the
//! Nth only, `probability: p` on each match with probability p (seeded rng); none of them:
//! every match.

use super::{glob, Api};
use crate::compute::fault::Fault;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Mutex;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Glob on the path below the API's mount (`*` = anything), e.g. `/v2.1/os-keypairs*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Key pair name (from the URL, or the create body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub microversion: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Seconds for `Retry-After` (429); default 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    #[serde(rename = "match", default)]
    pub matcher: Match,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Seed of this rule's rng (default: `--seed`, else 0, mixed with the rule number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// The named faults, with the status each one answers.
pub const NAMED: &[(&str, u16)] = &[
    ("invalid_key", 400),
    ("bad_request", 400),
    ("token_expired", 401),
    ("forbidden", 403),
    ("quota_exceeded", 403),
    ("not_found", 404),
    ("conflict", 409),
    ("rate_limited", 429),
    ("compute_fault", 500),
    ("internal_error", 500),
    ("service_unavailable", 503),
];

impl RuleSpec {
    pub fn validate(&self) -> Result<(), String> {
        let a = &self.action;
        if a.status.is_none() && a.fault.is_none() && a.delay_ms.is_none() {
            return Err("action needs one of status, fault or delay_ms".into());
        }
        if a.status.is_some() && a.fault.is_some() {
            return Err("action takes status or fault, not both".into());
        }
        if let Some(s) = a.status {
            if !(400..=599).contains(&s) {
                return Err(format!("status {s} is not an error status (400-599)"));
            }
        }
        if let Some(f) = &a.fault {
            if !NAMED.iter().any(|(n, _)| n == f) {
                let names: Vec<&str> = NAMED.iter().map(|(n, _)| *n).collect();
                return Err(format!("unknown fault '{f}'; known: {}", names.join(", ")));
            }
        }
        if a.delay_ms.is_some_and(|d| d > 600_000) {
            return Err("delay_ms is at most 600000".into());
        }
        let modes = [
            self.times.is_some(),
            self.nth.is_some(),
            self.probability.is_some(),
        ];
        if modes.iter().filter(|m| **m).count() > 1 {
            return Err("give at most one of times, nth, probability".into());
        }
        if self.times == Some(0) || self.nth == Some(0) {
            return Err("times and nth start at 1".into());
        }
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p) {
                return Err("probability is between 0 and 1".into());
            }
        }
        if let Some(m) = &self.matcher.method {
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(format!("bad method '{m}'"));
            }
        }
        Ok(())
    }

    /// The status the action answers (None: delay only).
    pub fn status(&self) -> Option<u16> {
        self.action.status.or_else(|| {
            let f = self.action.fault.as_deref()?;
            NAMED.iter().find(|(n, _)| *n == f).map(|(_, s)| *s)
        })
    }
}

/// What a rule can match a request on.
#[derive(Debug, Default)]
pub struct Facts {
    pub method: String,
    pub path: String,
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    pub microversion: Option<String>,
}

fn field_ok(want: &Option<String>, have: &Option<String>) -> bool {
    match want {
        None => true,
        Some(w) => have.as_deref() == Some(w.as_str()),
    }
}

impl Match {
    fn matches(&self, f: &Facts) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&f.method))
            && self.path.as_ref().is_none_or(|p| glob(p, &f.path))
            && field_ok(&self.name, &f.name)
            && field_ok(&self.user_id, &f.user_id)
            && field_ok(&self.project_id, &f.project_id)
            && field_ok(&self.microversion, &f.microversion)
    }
}

struct Rule {
    id: String,
    spec: RuleSpec,
    matched: u64,
    fired: u64,
    rng: StdRng,
}

impl Rule {
    fn decide(&mut self) -> bool {
        self.matched += 1;
        let fire = if let Some(t) = self.spec.times {
            self.fired < t
        } else if let Some(n) = self.spec.nth {
            self.matched == n
        } else if let Some(p) = self.spec.probability {
            self.rng.gen::<f64>() < p
        } else {
            true
        };
        if fire {
            self.fired += 1;
        }
        fire
    }

    fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(&self.spec).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("id".into(), json!(self.id));
            m.insert("matched".into(), json!(self.matched));
            m.insert("hits".into(), json!(self.fired));
        }
        v
    }
}

/// The rule that fired.
#[derive(Debug, Clone)]
pub struct Fired {
    pub id: String,
    pub spec: RuleSpec,
}

pub struct Faults {
    seed: u64,
    inner: Mutex<(u64, Vec<Rule>)>,
}

impl Faults {
    pub fn new(seed: Option<u64>) -> Faults {
        Faults {
            seed: seed.unwrap_or(0),
            inner: Mutex::new((0, Vec::new())),
        }
    }

    pub fn add(&self, spec: RuleSpec) -> Result<Value, String> {
        spec.validate()?;
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        let n = g.0;
        let seed = spec
            .seed
            .unwrap_or(self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n);
        let rule = Rule {
            id: format!("fault-{n}"),
            spec,
            matched: 0,
            fired: 0,
            rng: StdRng::seed_from_u64(seed),
        };
        let v = rule.to_json();
        g.1.push(rule);
        Ok(v)
    }

    pub fn list(&self) -> Vec<Value> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.1.iter().map(Rule::to_json).collect()
    }

    pub fn remove(&self, id: &str) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let before = g.1.len();
        g.1.retain(|r| r.id != id);
        g.1.len() != before
    }

    /// Clears the rules (and, on reset, the numbering).
    pub fn clear(&self, renumber: bool) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.1.clear();
        if renumber {
            g.0 = 0;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .is_empty()
    }

    /// The first matching rule that decides to fire.
    pub fn check(&self, facts: &Facts) -> Option<Fired> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for rule in g.1.iter_mut() {
            if rule.spec.matcher.matches(facts) && rule.decide() {
                return Some(Fired {
                    id: rule.id.clone(),
                    spec: rule.spec.clone(),
                });
            }
        }
        None
    }
}

/// A genuine fault body: (status, content type, body, extra headers).
pub struct Rendered {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

fn reason(status: u16) -> &'static str {
    actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// Renders `spec`'s fault for `api` (Nova's wsgi Fault, or Keystone's error JSON). A 401 is
/// left to the caller (it needs the request to point at the identity endpoint).
pub fn render(spec: &RuleSpec, api: Api, facts: &Facts) -> Rendered {
    let status = spec.status().unwrap_or(500);
    let name = spec.action.fault.clone().unwrap_or_else(|| {
        match status {
            400 => "invalid_key",
            401 => "token_expired",
            403 if facts.method == "POST" && facts.path.ends_with("os-keypairs") => {
                "quota_exceeded"
            }
            403 => "forbidden",
            404 => "not_found",
            409 => "conflict",
            429 => "rate_limited",
            500 => "compute_fault",
            503 => "service_unavailable",
            _ => "",
        }
        .to_string()
    });
    let retry = spec.action.retry_after.unwrap_or(1);
    let mut headers = Vec::new();
    if status == 429 || status == 503 {
        headers.push(("Retry-After", retry.to_string()));
    }
    let keypair = facts.name.clone().unwrap_or_else(|| "unknown".into());
    let user = facts.user_id.clone().unwrap_or_default();
    match api {
        Api::Compute => {
            let fault = match name.as_str() {
                "invalid_key" => Some(Fault::BadRequest(
                    "Keypair data is invalid: failed to generate fingerprint".into(),
                )),
                "bad_request" => Some(Fault::BadRequest("Invalid input received.".into())),
                "quota_exceeded" => Some(Fault::Forbidden(
                    "Quota exceeded, too many key pairs.".into(),
                )),
                "forbidden" => Some(Fault::policy(match facts.method.as_str() {
                    "POST" => "create",
                    "DELETE" => "delete",
                    _ if facts.name.is_some() => "show",
                    _ => "index",
                })),
                "not_found" if facts.name.is_some() => {
                    Some(Fault::keypair_not_found(&keypair, &user))
                }
                "not_found" => Some(Fault::NotFound("The resource could not be found.".into())),
                "conflict" => Some(Fault::Conflict(format!(
                    "Key pair '{keypair}' already exists."
                ))),
                "compute_fault" | "internal_error" => {
                    Some(Fault::Internal("injected fault".into()))
                }
                _ => None,
            };
            let body = match fault {
                Some(f) if f.status_and_name().0.as_u16() == status => {
                    let (s, n) = f.status_and_name();
                    json!({ n: { "code": s.as_u16(), "message": f.message() } })
                }
                _ => {
                    // nova/api/openstack/wsgi.py Fault._fault_names
                    let n = match status {
                        400 => "badRequest",
                        401 => "unauthorized",
                        403 => "forbidden",
                        404 => "itemNotFound",
                        405 => "badMethod",
                        409 => "conflictingRequest",
                        413 | 429 => "overLimit",
                        415 => "badMediaType",
                        501 => "notImplemented",
                        503 => "serviceUnavailable",
                        _ => "computeFault",
                    };
                    let message = match status {
                        429 => "This request was rate-limited.".to_string(),
                        503 => {
                            "The server is currently unavailable. Please try again at a later time."
                                .to_string()
                        }
                        500 => Fault::Internal(String::new()).message(),
                        s => reason(s).to_string(),
                    };
                    let mut inner = json!({ "code": status, "message": message });
                    if status == 429 || status == 413 {
                        inner["retryAfter"] = json!(retry.to_string());
                    }
                    json!({ n: inner })
                }
            };
            Rendered {
                status,
                content_type: "application/json; charset=UTF-8",
                body: crate::pyjson::to_vec(&body),
                headers,
            }
        }
        Api::Identity => {
            let message = match status {
                400 => "The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.".to_string(),
                401 => crate::identity::error::AUTH_REQUIRED.to_string(),
                403 => "You are not authorized to perform the requested action.".to_string(),
                404 => "The resource could not be found.".to_string(),
                409 => "Conflict occurred attempting to store resource - Duplicate entry.".to_string(),
                500 => "An unexpected error prevented the server from fulfilling your request.".to_string(),
                503 => "The server is currently unavailable. Please try again at a later time.".to_string(),
                s => reason(s).to_string(),
            };
            // Flask's jsonify: compact, sorted keys, trailing newline.
            let body = format!(
                "{}\n",
                json!({"error": {"code": status, "message": message, "title": reason(status)}})
            );
            Rendered {
                status,
                content_type: "application/json",
                body: body.into_bytes(),
                headers,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> RuleSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn times_nth_probability() {
        let f = Faults::new(Some(7));
        f.add(spec(
            json!({"match": {"method": "GET"}, "action": {"status": 503}, "times": 2}),
        ))
        .unwrap();
        let get = Facts {
            method: "GET".into(),
            ..Default::default()
        };
        assert!(f.check(&get).is_some());
        assert!(f.check(&get).is_some());
        assert!(f.check(&get).is_none());
        f.clear(true);
        f.add(spec(json!({"action": {"status": 500}, "nth": 3})))
            .unwrap();
        let fired: Vec<bool> = (0..5).map(|_| f.check(&get).is_some()).collect();
        assert_eq!(fired, [false, false, true, false, false]);
        let run = || {
            let f = Faults::new(Some(42));
            f.add(spec(json!({"action": {"status": 500}, "probability": 0.5})))
                .unwrap();
            (0..64).map(|_| f.check(&get).is_some()).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run(), "seeded");
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
    }

    #[test]
    fn validation() {
        assert!(spec(json!({"action": {}})).validate().is_err());
        assert!(spec(json!({"action": {"fault": "nope"}}))
            .validate()
            .is_err());
        assert!(spec(json!({"action": {"status": 200}})).validate().is_err());
        assert!(
            spec(json!({"action": {"status": 500}, "times": 1, "nth": 2}))
                .validate()
                .is_err()
        );
        assert!(serde_json::from_value::<RuleSpec>(
            json!({"action": {"status": 500}, "colour": 1})
        )
        .is_err());
    }
}
