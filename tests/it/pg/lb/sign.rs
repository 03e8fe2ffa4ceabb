//! Just enough signing to call the Alibaba (RPC, HMAC-SHA1) and Tencent (TC3-HMAC-SHA256)
//! fronts through the load balancer as the fixtures' demo user. The fronts' own test modules
//! check the signature rules; here only a valid request is needed. The `Host` signed is the
//! load balancer's, which HAProxy passes on unchanged.

use crate::alibaba::enc;
use crate::common::{raw_request, RawResponse};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

pub const ALIBABA_DEMO: (&str, &str) =
    ("LTAI5tNovakeysDemo000001", "NovakeysDemoAlibabaSecret00001");
pub const TENCENT_DEMO: (&str, &str) = (
    "AKIDNovakeysDemo00000000000000000001",
    "NovakeysDemoTencentSecretKey0001",
);

/// An Alibaba ECS RPC call (GET, signature v1) as the demo user; the answer.
pub async fn alibaba(addr: SocketAddr, action: &str, params: &[(&str, &str)]) -> RawResponse {
    let (access, secret) = ALIBABA_DEMO;
    let time = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let mut p: Vec<(String, String)> = params
        .iter()
        .chain(&[
            ("Action", action),
            ("Version", "2014-05-26"),
            ("Format", "JSON"),
            ("AccessKeyId", access),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", nonce.as_str()),
            ("Timestamp", time.as_str()),
        ])
        .map(|(k, v)| (enc(k), enc(v)))
        .collect();
    p.sort();
    let canon: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let canon = canon.join("&");
    let to_sign = format!("GET&%2F&{}", enc(&canon));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    raw_request(
        addr,
        "GET",
        &format!("/?{canon}&Signature={}", enc(&sig)),
        &[],
        b"",
    )
    .await
}

fn hmac256(key: &[u8], msg: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A Tencent CVM call (POST JSON, TC3) as the demo user; the answer.
pub async fn tencent(addr: SocketAddr, action: &str, body: &Value) -> RawResponse {
    let (id, secret) = TENCENT_DEMO;
    let body = body.to_string();
    let host = addr.to_string();
    let now = chrono::Utc::now();
    let (timestamp, date) = (now.timestamp(), now.format("%Y-%m-%d").to_string());
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json\nhost:{host}\n\ncontent-type;host\n{}",
        hex(&Sha256::digest(body.as_bytes()))
    );
    let scope = format!("{date}/cvm/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let k = hmac256(format!("TC3{secret}").as_bytes(), &date);
    let k = hmac256(&k, "cvm");
    let k = hmac256(&k, "tc3_request");
    let signature = hex(&hmac256(&k, &to_sign));
    let headers = [
        ("Host", host.as_str()),
        ("Content-Type", "application/json"),
        ("X-TC-Action", action),
        ("X-TC-Version", "2017-03-12"),
        ("X-TC-Timestamp", &timestamp.to_string()),
        ("X-TC-Region", "ap-guangzhou"),
        (
            "Authorization",
            &format!(
                "TC3-HMAC-SHA256 Credential={id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"
            ),
        ),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    raw_request(addr, "POST", "/", &headers, body.as_bytes()).await
}
