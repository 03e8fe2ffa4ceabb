//! Times `keys::generate` of an ssh key pair (RSA-2048) N times: `bench_keygen [N]`. For
//! profiling key generation (`perf record target/release/examples/bench_keygen 20`).

use novakeys::keys::{generate, KeyRequest, PrivateKeyEncoding, SshKeyOptions};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let request = KeyRequest::Ssh(SshKeyOptions {
        comment: "Generated-by-Nova".into(),
        encoding: PrivateKeyEncoding::Pkcs1,
    });
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let key = generate(&request, &mut rand::rngs::OsRng).expect("generates");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(key.public_key.starts_with("ssh-rsa "));
    }
    let mean = times.iter().sum::<f64>() / n as f64;
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "keygen rsa-2048: n={n} mean {mean:.1} ms median {:.1} ms min {:.1} max {:.1}",
        times[n / 2],
        times[0],
        times[n - 1]
    );
}
