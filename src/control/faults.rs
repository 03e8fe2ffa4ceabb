//! # Fault injection
//!
//! Rules (`POST /_novakeys/faults`) that answer matching API calls with a genuine error of the
//! front they were made to (each front renders its own), or delay them. First matching rule that fires wins; answers carry
//! `X-Novakeys-Fault: <rule id>`. `times: N` fires on the first N matches, `nth: N` on the
//! Nth only, `probability: p` on each match with probability p (seeded rng); none of them:
//! every match.

use super::glob;
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
