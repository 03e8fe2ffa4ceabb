//! The `osc` and `tempest` suites, unmodified, through HAProxy in front of several
//! `novakeys serve` processes on one PostgreSQL database (issue 23): the cluster of
//! `tests/support/pg/lb.rs`, every URL the script gets naming a load-balancer frontend, and the
//! catalog naming them too (`--public-*-url`). Each test then checks, from the processes' own
//! request logs, that every process answered its share of the suite's calls on both the
//! identity and the compute API, so a suite that reached one process only (the balancer
//! bypassed) fails.

use super::pg::lb::{Cluster, FRONTS};
use super::{run_against, skipped, suite_dir, Target};
use std::time::Duration;

/// Two processes: enough to catch whatever holds only within one, at the least CPU.
const PROCESSES: usize = 2;

#[test]
fn osc_behind_load_balancer() {
    behind_load_balancer("osc");
}

#[test]
fn tempest_behind_load_balancer() {
    behind_load_balancer("tempest");
}

impl Target for Cluster {
    fn url(&self, listener: &str) -> String {
        format!("http://{}", self.front(listener))
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for (i, p) in self.procs.iter().enumerate() {
            let requests = p.requests();
            // The last calls, to see where a failure happened.
            let recent: Vec<String> = requests[requests.len().saturating_sub(40)..]
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {} {}",
                        r["front"], r["method"], r["path"], r["status"]
                    )
                })
                .collect();
            out.push_str(&format!(
                "===== novakeys p{i} stderr ({} API calls; the last {} below) =====\n{}\n{}\n",
                requests.len(),
                recent.len(),
                p.stderr(),
                recent.join("\n")
            ));
        }
        out.push_str(&format!("===== haproxy =====\n{}", self.haproxy_log()));
        out
    }
}

fn behind_load_balancer(suite: &str) {
    if skipped(suite) {
        return;
    }
    let cluster = Cluster::start(PROCESSES, &[]);
    run_against(suite, &cluster, suite_dir(&format!("{suite}-lb")));
    let shares = shares(&cluster);
    println!("compat suite {suite} behind the load balancer: API calls per process {shares:?}");
    for front in ["identity", "compute"] {
        let per_process: Vec<usize> = shares.iter().map(|s| s[front]).collect();
        let total: usize = per_process.iter().sum();
        // Round robin per request gives each about total / n; half of that leaves room for
        // the order in which the clients' calls meet the rotation.
        let least = total / (2 * PROCESSES);
        assert!(
            total > 0 && per_process.iter().all(|&n| n > least),
            "compat suite {suite}: the {front} calls were not spread over the processes \
             ({per_process:?} of {total}; each must have more than {least}): the load balancer \
             was bypassed\n{}",
            cluster.logs()
        );
    }
}

/// Each process's API calls so far, by front, once the request logs have caught up (they are
/// written asynchronously).
fn shares(cluster: &Cluster) -> Vec<std::collections::BTreeMap<&'static str, usize>> {
    let mut last = cluster.counts();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let now = cluster.counts();
        if now == last {
            break;
        }
        last = now;
    }
    cluster
        .procs
        .iter()
        .map(|p| {
            let requests = p.requests();
            FRONTS
                .iter()
                .map(|f| (*f, requests.iter().filter(|r| r["front"] == *f).count()))
                .collect()
        })
        .collect()
}
