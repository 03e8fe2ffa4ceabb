//! Just enough of a browser for the console through the load balancer: it keeps the cookies
//! every answer sets (the console's, and HAProxy's sticky one) and sends a form as a page of
//! the console would (same `Origin`).

use crate::common::{raw_request, RawResponse};
use std::collections::BTreeMap;
use std::net::SocketAddr;

pub struct Browser {
    addr: SocketAddr,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Browser {
        Browser {
            addr,
            cookies: BTreeMap::new(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub async fn get(&mut self, path: &str) -> RawResponse {
        self.send("GET", path, None).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> RawResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send("POST", path, Some(body)).await
    }

    /// Logs in as `user` (password = user name, as the fixtures have it).
    pub async fn log_in(&mut self, user: &str) {
        let page = self.get("/login").await.text();
        // The log-in form's token (the language switch's is empty before a log-in).
        let csrf = page
            .split("name=\"csrf_token\" value=\"")
            .skip(1)
            .filter_map(|r| r.split('"').next())
            .find(|v| !v.is_empty())
            .unwrap_or_else(|| panic!("a csrf field: {page}"))
            .to_string();
        let r = self
            .post(
                "/login",
                &[
                    ("csrf_token", &csrf),
                    ("username", user),
                    ("password", user),
                    ("domain", "Default"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "log-in: {}", r.text());
        assert_eq!(r.header("location"), Some("/keypairs"), "{:?}", r.headers);
    }

    async fn send(&mut self, method: &str, path: &str, form: Option<String>) -> RawResponse {
        let mut headers = Vec::new();
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            headers.push(("Cookie".to_string(), jar.join("; ")));
        }
        if form.is_some() {
            headers.push(("Origin".into(), format!("http://{}", self.addr)));
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        let body = form.unwrap_or_default();
        let r = raw_request(self.addr, method, path, &headers, body.as_bytes()).await;
        for set in r.all("set-cookie") {
            let pair = set.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || set.to_ascii_lowercase().contains("max-age=0") {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies
                        .insert(k.trim().to_string(), v.trim().to_string());
                }
            }
        }
        r
    }
}
