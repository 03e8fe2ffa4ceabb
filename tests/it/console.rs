//! The web console end to end over raw HTTP (the real app on port 0): log-in and log-out,
//! the CSRF and origin checks, cookie flags, security headers, escaping, the quota state,
//! the one-time private key download, batch delete outcomes, and what the journal keeps.
//! The browser suite (compat/console) drives the same pages in Chromium.

use crate::common::{raw_request, spawn_app, test_config, RawResponse};
use novakeys::config::{AuthMode, Config};
use std::collections::BTreeMap;
use std::net::SocketAddr;

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGY0fh32MPHfCPM2rKWmuJVJgBbCxUWRJ6Ibd/ftQWq";

/// A browser, as far as the console can tell: a cookie jar, and the origin its forms post
/// from.
pub(crate) struct Browser {
    addr: SocketAddr,
    cookies: BTreeMap<String, String>,
    origin: Option<String>,
}

/// The value after the last `marker` (the log-in form comes after the header's forms).
fn attr_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let at = html.rfind(marker)? + marker.len();
    let rest = &html[at..];
    Some(&rest[..rest.find('"')?])
}

/// The last field `name`'s value in a page.
fn field(html: &str, name: &str) -> String {
    attr_after(html, &format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        .to_string()
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

impl Browser {
    fn new(addr: SocketAddr) -> Browser {
        Browser {
            addr,
            cookies: BTreeMap::new(),
            origin: Some(format!("http://{addr}")),
        }
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        ct: Option<&str>,
        body: &[u8],
    ) -> RawResponse {
        let mut headers = Vec::new();
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            headers.push(("Cookie".to_string(), jar.join("; ")));
        }
        if method == "POST" {
            if let Some(o) = &self.origin {
                headers.push(("Origin".to_string(), o.clone()));
            }
        }
        if let Some(ct) = ct {
            headers.push(("Content-Type".to_string(), ct.to_string()));
        }
        let r = raw_request(self.addr, method, path, &headers, body).await;
        for c in r.all("set-cookie") {
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        r
    }

    /// A cookie the browser holds (the console's, or a load balancer's).
    pub(crate) fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub(crate) async fn get(&mut self, path: &str) -> RawResponse {
        self.send("GET", path, None, b"").await
    }

    async fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> RawResponse {
        self.send(
            "POST",
            path,
            Some("application/x-www-form-urlencoded"),
            form(pairs).as_bytes(),
        )
        .await
    }

    async fn log_in(&mut self, user: &str, password: &str) -> RawResponse {
        let page = self.get("/login").await.text();
        let csrf = field(&page, "csrf_token");
        self.post(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("username", user),
                ("password", password),
                ("domain", "Default"),
            ],
        )
        .await
    }

    /// The session's CSRF token, from a page's forms.
    async fn csrf(&mut self) -> String {
        let page = self.get("/keypairs").await;
        assert_eq!(page.status, 200, "{}", page.text());
        field(&page.text(), "csrf_token")
    }

    async fn import(&mut self, name: &str, key: &str) -> RawResponse {
        let csrf = self.csrf().await;
        self.post(
            "/keypairs/import",
            &[
                ("csrf_token", &csrf),
                ("name", name),
                ("key_type", "ssh"),
                ("public_key", key),
            ],
        )
        .await
    }
}

pub(crate) async fn logged_in(addr: SocketAddr, user: &str) -> Browser {
    let mut b = Browser::new(addr);
    let r = b.log_in(user, user).await;
    assert_eq!(r.status, 303, "{}", r.text());
    b
}

#[actix_web::test]
async fn log_in_gives_a_strict_httponly_opaque_cookie_and_log_out_ends_it() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let console = app.front("console");
    let mut b = Browser::new(console);
    let r = b.log_in("demo", "wrong").await;
    assert_eq!(r.status, 401);
    assert!(r.text().contains("Invalid credentials."), "{}", r.text());
    assert!(!b.cookies.contains_key("nk_session"));
    let r = b.log_in("demo", "demo").await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/keypairs"));
    let cookie = r
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("nk_session="))
        .expect("a session cookie")
        .to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    let id = b.cookies["nk_session"].clone();
    assert!(!id.contains('.'), "an opaque id, not the token: {id}");
    let list = b.get("/keypairs").await;
    assert_eq!(list.status, 200);
    assert!(list.text().contains("Key Pairs") && list.text().contains(">demo<"));
    let csrf = field(&list.text(), "csrf_token");
    let out = b.post("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.header("location"), Some("/login"));
    // The old cookie, replayed, no longer works.
    b.cookies.insert("nk_session".into(), id);
    let r = b.get("/keypairs").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?ended=1"));
    let r = Browser::new(console).get("/keypairs").await;
    assert_eq!(r.header("location"), Some("/login"), "no cookie: log in");
}

#[actix_web::test]
async fn log_out_revokes_the_token_so_a_revoked_token_ends_the_session() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let console = app.front("console");
    let mut b = logged_in(console, "demo").await;
    // Every token of demo's, the session's included, is revoked through Keystone's rules:
    // disabling the user ends the session at its next request.
    let admin = crate::common::login(app.identity, "admin", "admin").await;
    let users = crate::common::call(
        app.identity,
        "GET",
        "/v3/users?name=demo",
        &[("X-Auth-Token", &admin)],
        "",
    )
    .await
    .json();
    let id = users["users"][0]["id"].as_str().unwrap().to_string();
    let r = crate::common::call(
        app.identity,
        "PATCH",
        &format!("/v3/users/{id}"),
        &[
            ("X-Auth-Token", &admin),
            ("Content-Type", "application/json"),
        ],
        r#"{"user": {"enabled": false}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = b.get("/keypairs").await;
    assert_eq!(r.header("location"), Some("/login?ended=1"));
}

#[actix_web::test]
async fn forms_need_the_csrf_token_and_our_origin() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let console = app.front("console");
    // The log-in form's own token.
    let mut anon = Browser::new(console);
    anon.get("/login").await;
    let r = anon
        .post("/login", &[("username", "demo"), ("password", "demo")])
        .await;
    assert_eq!(r.status, 403, "no token: {}", r.text());
    let mut b = logged_in(console, "demo").await;
    let csrf = b.csrf().await;
    let r = b
        .post("/keypairs/new", &[("csrf_token", "forged"), ("name", "x")])
        .await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("Request refused"));
    let r = b.post("/keypairs/new", &[("name", "x")]).await;
    assert_eq!(r.status, 403, "no token");
    // Another port on 127.0.0.1 is the same site: its cookies go along, its origin does not.
    b.origin = Some("http://127.0.0.1:1".into());
    let r = b
        .post("/keypairs/new", &[("csrf_token", &csrf), ("name", "x")])
        .await;
    assert_eq!(r.status, 403, "another origin");
    b.origin = Some("null".into());
    let r = b
        .post("/keypairs/new", &[("csrf_token", &csrf), ("name", "x")])
        .await;
    assert_eq!(r.status, 403, "an opaque origin");
    b.origin = Some(format!("http://{console}"));
    let list = b.get("/keypairs").await.text();
    assert!(
        list.contains("No key pairs yet"),
        "nothing was made: {list}"
    );
    let r = b
        .post("/keypairs/new", &[("csrf_token", &csrf), ("name", "x")])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[actix_web::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let console = app.front("console");
    let mut b = logged_in(console, "demo").await;
    for path in [
        "/login",
        "/keypairs",
        "/keypairs/new",
        "/static/console.js",
        "/nowhere",
    ] {
        let r = b.get(path).await;
        let csp = r.header("content-security-policy").unwrap_or_default();
        for part in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    let page = b.get("/keypairs").await;
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let html = page.text();
    assert!(!html.contains("<script>"), "no inline script");
    assert!(html.contains(r#"<script src="/static/console.js?v="#));
    assert!(!html.contains(" style="), "no inline style");
}

#[actix_web::test]
async fn user_text_is_escaped() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let mut b = logged_in(app.front("console"), "demo").await;
    let xss = format!("{ED25519} <script>alert(1)</script>\"><img src=x onerror=alert(2)>");
    let r = b.import("xss", &xss).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let page = b.get(r.header("location").unwrap()).await.text();
    assert!(
        page.contains(
            "&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#62;&#60;img src=x onerror=alert(2)&#62;"
        ),
        "{page}"
    );
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"));
    // A name or tag that would break out of an attribute stays inside it.
    let csrf = b.csrf().await;
    let r = b
        .post(
            "/keypairs/import",
            &[
                ("csrf_token", &csrf),
                ("name", "tagged"),
                ("public_key", ED25519),
                ("tags", "team=\"><b>x</b>"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let page = b.get("/keypair/tagged").await.text();
    assert!(page.contains("&#34;&#62;&#60;b&#62;x&#60;/b&#62;") && !page.contains("<b>x</b>"));
    // Invalid names are refused inline, never stored.
    let r = b.import("<b>bad</b>", ED25519).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("Key pair name may only contain"));
    assert!(r.text().contains("value=\"&#60;b&#62;bad&#60;/b&#62;\""));
}

#[actix_web::test]
async fn at_the_quota_create_and_import_are_disabled() {
    let config = Config {
        quota_key_pairs: Some(2),
        ..test_config(AuthMode::Keystone)
    };
    let app = spawn_app(config).await;
    let mut b = logged_in(app.front("console"), "demo").await;
    let page = b.get("/keypairs").await.text();
    assert!(page.contains(r#"href="/keypairs/new" id="create""#));
    assert!(page.contains("Quota: 0 / 2"));
    for name in ["a", "b"] {
        assert_eq!(b.import(name, ED25519).await.status, 303);
    }
    let page = b.get("/keypairs").await.text();
    assert!(page.contains("Quota: 2 / 2"));
    assert!(
        page.contains(r#"disabled id="create">Create Key Pair (Quota exceeded)</button>"#),
        "{page}"
    );
    assert!(page.contains(r#"disabled id="import">Import Public Key (Quota exceeded)</button>"#));
    let r = b.import("c", ED25519).await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("The key pair quota is used up"));
    assert!(b
        .get("/keypairs/new")
        .await
        .text()
        .contains("The key pair quota is used up"));
}

#[actix_web::test]
async fn a_private_key_downloads_twice_then_is_gone_and_the_journal_never_sees_it() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let console = app.front("console");
    let mut b = logged_in(console, "demo").await;
    let csrf = b.csrf().await;
    let r = b
        .post(
            "/keypairs/new",
            &[("csrf_token", &csrf), ("name", "web key")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.text();
    assert!(
        page.contains("data-auto-submit"),
        "the page starts the download"
    );
    assert!(
        !page.contains("PRIVATE KEY"),
        "the page never holds the key"
    );
    let ticket = field(&page, "download_token");
    let mut pems = Vec::new();
    for _ in 0..2 {
        let r = b
            .post(
                "/keypairs/download",
                &[("csrf_token", &csrf), ("download_token", &ticket)],
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/x-pem-file"));
        assert_eq!(
            r.header("content-disposition"),
            Some("attachment; filename=\"web_key.pem\"; filename*=UTF-8''web%20key.pem")
        );
        assert_eq!(r.header("cache-control"), Some("no-store"));
        pems.push(r.text());
    }
    assert!(pems[0].starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert_eq!(pems[0], pems[1]);
    let r = b
        .post(
            "/keypairs/download",
            &[("csrf_token", &csrf), ("download_token", &ticket)],
        )
        .await;
    assert_eq!(r.status, 410, "used up");
    let journal = crate::common::call(console, "GET", "/_novakeys/journal", &[], "").await;
    let text = journal.text();
    assert!(text.contains("\"api\":\"console\""), "{text}");
    assert!(!text.contains("PRIVATE KEY") && !text.contains(&csrf) && !text.contains(&ticket));
    assert!(
        text.contains("csrf_token=***&username=demo&password=***&domain=Default"),
        "the log-in form, redacted: {text}"
    );
}

#[actix_web::test]
async fn batch_delete_reports_each_key_and_skips_bound_ones() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let console = app.front("console");
    let mut b = logged_in(console, "demo").await;
    for name in ["a", "b", "c"] {
        assert_eq!(b.import(name, ED25519).await.status, 303);
    }
    let r = crate::common::call(
        console,
        "POST",
        "/_novakeys/instances",
        &[("Content-Type", "application/json")],
        r#"{"cloud": "tencent", "name": "vm", "user": "demo", "project": "demo", "state": "running"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let instance = r.json()["instance"]["id"].as_str().unwrap().to_string();
    let csrf = b.csrf().await;
    let r = b
        .post(
            "/keypair/b/bind",
            &[("csrf_token", &csrf), ("instance", &instance)],
        )
        .await;
    assert_eq!(
        r.header("location"),
        Some("/keypair/b?error=stopped"),
        "Tencent's rule"
    );
    let r = b
        .post(
            "/keypair/b/bind",
            &[
                ("csrf_token", &csrf),
                ("instance", &instance),
                ("force_stop", "1"),
            ],
        )
        .await;
    assert_eq!(r.header("location"), Some("/keypair/b?done=bound"));
    assert!(
        b.get("/keypairs").await.text().contains(&instance),
        "the list shows the binding"
    );
    let names = [
        ("csrf_token", csrf.as_str()),
        ("name", "a"),
        ("name", "b"),
        ("name", "c"),
        ("name", "gone"),
    ];
    let confirm = b.post("/keypairs/delete", &names).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.text().contains("id=\"confirm-delete\""));
    assert_eq!(
        b.get("/keypairs")
            .await
            .text()
            .matches("name=\"name\" value=")
            .count(),
        3,
        "nothing gone yet"
    );
    let mut confirmed = names.to_vec();
    confirmed.push(("confirm", "yes"));
    let out = b.post("/keypairs/delete", &confirmed).await.text();
    for (name, outcome) in [
        ("a", "Deleted"),
        ("b", "Skipped: bound to an instance"),
        ("c", "Deleted"),
        ("gone", "Skipped: no longer exists"),
    ] {
        assert!(
            out.contains(&format!(
                "data-name=\"{name}\"><span class=\"mono\">{name}</span> <span class=\"badge"
            )) && out.contains(outcome),
            "{name}: {out}"
        );
    }
    assert!(out.contains("Deleted: 2 / 4"), "{out}");
    let list = b.get("/keypairs").await.text();
    assert!(list.contains("href=\"/keypair/b\"") && !list.contains("href=\"/keypair/a\""));
}

#[actix_web::test]
async fn readers_see_but_cannot_change_and_only_admins_see_activity() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let console = app.front("console");
    let mut reader = logged_in(console, "reader").await;
    let page = reader.get("/keypairs").await.text();
    assert!(page.contains("Create Key Pair (read only)"), "{page}");
    let r = reader.import("r", ED25519).await;
    assert_eq!(r.status, 403);
    assert_eq!(reader.get("/activity").await.status, 403);
    let mut admin = logged_in(console, "admin").await;
    let r = admin.get("/activity?console=1").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("POST /login"), "{}", r.text());
}

#[actix_web::test]
async fn the_language_switch_is_remembered() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let mut b = Browser::new(app.front("console"));
    let r = b
        .post("/lang", &[("lang", "zh-TW"), ("next", "/login")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login"));
    assert_eq!(b.cookies.get("nk_lang").map(String::as_str), Some("zh-TW"));
    let page = b.get("/login").await.text();
    assert!(page.contains("<html lang=\"zh-TW\">") && page.contains("登入 novakeys"));
    let r = b
        .post("/lang", &[("lang", "en"), ("next", "//evil.example/")])
        .await;
    assert_eq!(
        r.header("location"),
        Some("/keypairs"),
        "never another site"
    );
}

#[actix_web::test]
async fn pages_of_fifty_newest_first_and_a_case_insensitive_filter() {
    let app = spawn_app(test_config(AuthMode::Keystone)).await;
    let mut b = logged_in(app.front("console"), "demo").await;
    for i in 0..55 {
        assert_eq!(b.import(&format!("Key{i}"), ED25519).await.status, 303);
    }
    let rows = |html: &str| html.matches("<td class=\"col-check\">").count();
    let first = b.get("/keypairs").await.text();
    assert_eq!(rows(&first), 50);
    assert!(first.contains("Showing 1–50 of 55") && first.contains("href=\"/keypairs?page=2\""));
    assert!(
        first.find("/keypair/Key54\"").unwrap() < first.find("/keypair/Key53\"").unwrap(),
        "newest first"
    );
    let second = b.get("/keypairs?page=2").await.text();
    assert_eq!(rows(&second), 5);
    assert!(second.contains("Showing 51–55 of 55") && second.contains("rel=\"prev\""));
    let past = b.get("/keypairs?page=9").await.text();
    assert!(
        past.contains("Showing 51–55 of 55"),
        "past the end: the last page"
    );
    let by_name = b.get("/keypairs?sort=name").await.text();
    assert!(by_name.find("/keypair/Key0\"").unwrap() < by_name.find("/keypair/Key1\"").unwrap());
    let filtered = b.get("/keypairs?q=key5").await.text();
    assert_eq!(rows(&filtered), 6, "Key5, Key50..Key54");
    assert!(filtered.contains("Showing 1–6 of 6") && filtered.contains("Quota: 55 / 100"));
}
