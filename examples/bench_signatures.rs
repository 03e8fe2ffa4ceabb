//! The signature checks' own cost, in µs per request: what the Alibaba (RPC HMAC-SHA1 and
//! ACS3 HMAC-SHA256) and Tencent (TC3-HMAC-SHA256) fronts compute for each signed request,
//! from the received parameters to the constant-time compare, on an ImportKeyPair-sized
//! request. `bench_signatures [N]` prints one JSON line; `bench/bench.py` reports it.

use novakeys::fronts::alibaba::signature as ali;
use novakeys::fronts::tencent::signature as tc;
use std::hint::black_box;
use std::time::Instant;

const SECRET: &str = "NovakeysDemoAlibabaSecret00001";
const PUBLIC_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHBjs9m5qKBhm4v1Mr1xr0D0Q3T1aK1LZ8oW3QG0b8FJz3GDoPzVhJr0wXfAOp1Z5Xe6M6e3cJm7Y3V0D6xS4g5qJm8c4V1Lx2nQzJm6v9fKp7yH3r0c5pXv4yTQdFz3Wq1s8bN2hR5kA7mU3oT9wE1iL6jG4xC0dY2fB8nH5pK3lM7qS9uV1wZ0aX2cE4gI6kO8mQ0sU2yW4 bench";

/// µs per call of `f`, best of 5 rounds of `n` (the least disturbed by the shared host).
fn time(n: u32, mut f: impl FnMut() -> bool) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            assert!(black_box(f()), "the signature must verify");
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    best
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);

    // Alibaba RPC: the parameters as the Tea SDK sends an ImportKeyPair.
    let params: Vec<(String, String)> = [
        ("Action", "ImportKeyPair"),
        ("Format", "JSON"),
        ("Version", "2014-05-26"),
        ("AccessKeyId", "LTAI5tNovakeysDemo000001"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "3f1c9a5e0b7d4e2f8a6c1d0e9b7a5c3f"),
        ("Timestamp", "2026-12-02T12:00:00Z"),
        ("RegionId", "cn-hangzhou"),
        ("KeyPairName", "bench-key-0001"),
        ("PublicKeyBody", PUBLIC_KEY),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let pairs = || params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let signature = ali::rpc_sign(SECRET, &ali::rpc_string_to_sign("POST", pairs()));
    let rpc = time(n, || {
        let sts = ali::rpc_string_to_sign("POST", pairs());
        ali::rpc_verify(SECRET, &sts, &signature)
    });

    // Alibaba ACS3: the same call as the v2 SDKs sign it (query, signed headers, body hash).
    let body = b"";
    let hash = ali::sha256_hex(body);
    let headers: Vec<(String, String)> = [
        ("host", "ecs.cn-hangzhou.aliyuncs.com"),
        ("x-acs-action", "ImportKeyPair"),
        ("x-acs-content-sha256", hash.as_str()),
        ("x-acs-date", "2026-12-02T12:00:00Z"),
        ("x-acs-signature-nonce", "3f1c9a5e0b7d4e2f8a6c1d0e9b7a5c3f"),
        ("x-acs-version", "2014-05-26"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let query = &params[9..];
    let names: Vec<String> = headers.iter().map(|(k, _)| k.clone()).collect();
    let canonical = || {
        ali::acs3_canonical_request(
            "POST",
            "/",
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &names,
            |name| {
                headers
                    .iter()
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .collect()
            },
            &hash,
        )
    };
    let acs3_signature = ali::acs3_sign(SECRET, &ali::acs3_string_to_sign(&canonical()));
    let acs3 = time(n, || {
        let body_hash = ali::sha256_hex(body);
        let sts = ali::acs3_string_to_sign(&canonical());
        body_hash == hash && ali::acs3_verify(SECRET, &sts, &acs3_signature)
    });

    // Tencent TC3: an ImportKeyPair JSON body, the two headers the SDKs sign.
    let body =
        format!(r#"{{"KeyName":"bench_key_0001","ProjectId":0,"PublicKey":"{PUBLIC_KEY}"}}"#);
    let tc_headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("host".to_string(), "cvm.tencentcloudapi.com".to_string()),
    ];
    let sign = |hash: &str| {
        let input = tc::Tc3Input {
            method: "POST",
            query: "",
            headers: &tc_headers,
            payload_hash: hash,
            timestamp: "1796212800",
        };
        tc::string_to_sign(&input, "2026-12-02", "cvm")
    };
    // The signature a client would send, made with the same key derivation.
    let auth_value = {
        use hmac::{Hmac, Mac};
        type H = Hmac<sha2::Sha256>;
        let h = |k: &[u8], m: &str| {
            let mut mac = H::new_from_slice(k).unwrap();
            mac.update(m.as_bytes());
            mac.finalize().into_bytes().to_vec()
        };
        let key = h(
            &h(&h(format!("TC3{SECRET}").as_bytes(), "2026-12-02"), "cvm"),
            "tc3_request",
        );
        let sig = h(&key, &sign(&tc::payload_hash(body.as_bytes())));
        let hex: String = sig.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "TC3-HMAC-SHA256 Credential=AKIDbench/2026-12-02/cvm/tc3_request, \
             SignedHeaders=content-type;host, Signature={hex}"
        )
    };
    let tc3 = time(n, || {
        let Some(auth) = tc::parse_authorization(&auth_value) else {
            return false;
        };
        let hash = tc::payload_hash(body.as_bytes());
        let input = tc::Tc3Input {
            method: "POST",
            query: "",
            headers: &tc_headers,
            payload_hash: &hash,
            timestamp: "1796212800",
        };
        tc::tc3_matches(SECRET, &auth, &input, &auth.signature)
    });

    println!(
        "{{\"samples\": {n}, \"alibaba_rpc_us\": {rpc:.2}, \"alibaba_acs3_us\": {acs3:.2}, \"tencent_tc3_us\": {tc3:.2}}}"
    );
}
