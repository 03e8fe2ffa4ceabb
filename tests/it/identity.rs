//! The identity API end to end: the real app in-process on port 0 (the common harness), an
//! in-memory store, the built-in fixtures, and reqwest. Expected bodies are those of the Keystone captures
//! (shared/captures/keystone), with our host and ids.

use super::common::{spawn_app, test_config};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use novakeys::config::{AuthMode, Config};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const AUTH_REQUIRED: &str = "{\"error\":{\"code\":401,\"message\":\"The request you have made requires authentication.\",\"title\":\"Unauthorized\"}}\n";
const MIDDLEWARE_401: &str = r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#;

struct TestApp {
    identity: String,
    compute: String,
    http: reqwest::Client,
}

struct Resp {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(AuthMode::Keystone);
    tweak(&mut config);
    let app = spawn_app(config).await;
    TestApp {
        identity: app.identity_url(),
        compute: app.compute_url(),
        http: reqwest::Client::new(),
    }
}

async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

impl TestApp {
    async fn call(
        &self,
        method: Method,
        url: String,
        token: Option<&str>,
        subject: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut rb = self.http.request(method, url);
        if let Some(t) = token {
            rb = rb.header("X-Auth-Token", t);
        }
        if let Some(s) = subject {
            rb = rb.header("X-Subject-Token", s);
        }
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let r = rb.send().await.expect("request");
        Resp {
            status: r.status(),
            headers: r.headers().clone(),
            text: r.text().await.unwrap(),
        }
    }

    async fn id(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        self.call(
            method,
            format!("{}{path}", self.identity),
            token,
            None,
            body,
        )
        .await
    }

    async fn raw_tokens(&self, content_type: &str, body: &str) -> Resp {
        let r = self
            .http
            .post(format!("{}/v3/auth/tokens", self.identity))
            .header("Content-Type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        Resp {
            status: r.status(),
            headers: r.headers().clone(),
            text: r.text().await.unwrap(),
        }
    }

    async fn auth(&self, body: Value) -> Resp {
        self.id(Method::POST, "/v3/auth/tokens", None, Some(body))
            .await
    }

    /// Logs in by name in the Default domain with the given scope (None = no scope key).
    async fn login(&self, user: &str, scope: Option<Value>) -> (String, Value) {
        let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"name": "Default"}, "password": user}}}});
        if let Some(s) = scope {
            auth["scope"] = s;
        }
        let r = self.auth(json!({ "auth": auth })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (r.header("x-subject-token").unwrap(), r.json())
    }

    async fn project_token(&self, user: &str, project: &str) -> String {
        self.login(
            user,
            Some(json!({"project": {"name": project, "domain": {"id": "default"}}})),
        )
        .await
        .0
    }

    async fn keypairs(&self, token: Option<&str>) -> Resp {
        self.call(
            Method::GET,
            format!("{}/v2.1/os-keypairs", self.compute),
            token,
            None,
            None,
        )
        .await
    }

    async fn user_id(&self, admin: &str, name: &str) -> String {
        let r = self
            .id(
                Method::GET,
                &format!("/v3/users?name={name}"),
                Some(admin),
                None,
            )
            .await;
        r.json()["users"][0]["id"].as_str().unwrap().to_string()
    }

    async fn project_id(&self, admin: &str, name: &str) -> String {
        let r = self
            .id(
                Method::GET,
                &format!("/v3/projects?name={name}"),
                Some(admin),
                None,
            )
            .await;
        r.json()["projects"][0]["id"].as_str().unwrap().to_string()
    }

    fn www_authenticate(&self) -> String {
        format!("Keystone uri=\"{}/v3\"", self.identity)
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn bad_request(msg: &str) -> String {
    format!("{{\"error\":{{\"code\":400,\"message\":\"{msg} The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.\",\"title\":\"Bad Request\"}}}}\n")
}

#[actix_rt::test]
async fn discovery_matches_keystone() {
    let app = spawn().await;
    let r = app.id(Method::GET, "/", None, None).await;
    assert_eq!(r.status, StatusCode::MULTIPLE_CHOICES);
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/v3/", app.identity)
    );
    assert_eq!(r.header("content-type").unwrap(), "application/json");
    let version = format!("{{\"id\": \"v3.14\", \"status\": \"stable\", \"updated\": \"2020-04-07T00:00:00Z\", \"links\": [{{\"rel\": \"self\", \"href\": \"{}/v3/\"}}], \"media-types\": [{{\"base\": \"application/json\", \"type\": \"application/vnd.openstack.identity-v3+json\"}}]}}", app.identity);
    assert_eq!(
        r.text,
        format!("{{\"versions\": {{\"values\": [{version}]}}}}")
    );
    for path in ["/v3", "/v3/"] {
        let r = app.id(Method::GET, path, None, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text, format!("{{\"version\": {version}}}"));
    }
}

#[actix_rt::test]
async fn single_port_mounts_identity_under_identity() {
    let app = spawn_with(|c| c.single_port = Some("127.0.0.1:0".parse().unwrap())).await;
    let r = app.id(Method::GET, "/v3", None, None).await;
    assert!(
        r.text.contains(&format!("{}/v3/", app.identity)),
        "{}",
        r.text
    );
    let (token, body) = app
        .login(
            "demo",
            Some(json!({"project": {"name": "demo", "domain": {"name": "Default"}}})),
        )
        .await;
    let urls: Vec<&str> = body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["endpoints"][0]["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        vec![
            format!("{}/v3/", app.identity),
            format!("{}/v2.1", app.compute)
        ]
    );
    let r = app.keypairs(Some(&token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[actix_rt::test]
async fn password_auth_every_user_form_and_scope() {
    let app = spawn().await;
    let admin = app.project_token("admin", "admin").await;
    let demo_id = app.user_id(&admin, "demo").await;
    let demo_project = app.project_id(&admin, "demo").await;

    let bodies = [
        json!({"user": {"name": "demo", "domain": {"name": "Default"}, "password": "demo"}}),
        json!({"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}),
        json!({"user": {"id": demo_id, "password": "demo"}}),
    ];
    let scopes = [
        json!({"project": {"id": demo_project}}),
        json!({"project": {"name": "demo", "domain": {"name": "Default"}}}),
        json!({"project": {"name": "demo", "domain": {"id": "default"}}}),
    ];
    for b in &bodies {
        for s in &scopes {
            let r = app
                .auth(json!({"auth": {"identity": {"methods": ["password"], "password": b}, "scope": s}}))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{b} {s}: {}", r.text);
            let t = &r.json()["token"];
            assert_eq!(
                keys(t),
                vec![
                    "methods",
                    "user",
                    "audit_ids",
                    "expires_at",
                    "issued_at",
                    "project",
                    "is_domain",
                    "roles",
                    "catalog"
                ]
            );
            assert_eq!(t["project"]["id"], json!(demo_project));
            assert_eq!(
                t["project"]["domain"],
                json!({"id": "default", "name": "Default"})
            );
            assert_eq!(
                t["user"],
                json!({"domain": {"id": "default", "name": "Default"}, "id": demo_id, "name": "demo", "password_expires_at": null})
            );
            let names: Vec<&str> = t["roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, vec!["member", "reader"], "member implies reader");
            assert_eq!(t["audit_ids"][0].as_str().unwrap().len(), 22);
            let exp = t["expires_at"].as_str().unwrap();
            assert!(exp.ends_with(".000000Z") && exp.len() == 27, "{exp}");
            let token = r.header("x-subject-token").unwrap();
            assert!(token.starts_with("eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9."));
        }
    }

    // Catalog: identity then compute, three interfaces, Keystone's key order.
    let (_, body) = app.login("demo", None).await;
    let cat = &body["token"]["catalog"];
    assert_eq!(keys(&cat[0]), vec!["endpoints", "id", "type", "name"]);
    assert_eq!(
        keys(&cat[0]["endpoints"][0]),
        vec!["id", "interface", "region_id", "url", "region"]
    );
    assert_eq!(cat[0]["type"], "identity");
    assert_eq!(
        cat[0]["endpoints"][0]["url"],
        json!(format!("{}/v3/", app.identity))
    );
    assert_eq!(cat[1]["type"], "compute");
    assert_eq!(cat[1]["name"], "nova");
    assert_eq!(cat[1]["endpoints"][2]["interface"], "admin");
    assert_eq!(
        cat[1]["endpoints"][0]["url"],
        json!(format!("{}/v2.1", app.compute))
    );
    assert_eq!(cat[1]["endpoints"][0]["region"], "RegionOne");
    // No scope: the default project.
    assert_eq!(body["token"]["project"]["name"], "demo");

    // Explicit unscoped.
    let (_, body) = app.login("demo", Some(json!("unscoped"))).await;
    assert_eq!(
        keys(&body["token"]),
        vec!["methods", "user", "audit_ids", "expires_at", "issued_at"]
    );

    // Domain scope (admin has admin on Default) by id and by name.
    for d in [json!({"id": "default"}), json!({"name": "Default"})] {
        let (_, body) = app.login("admin", Some(json!({ "domain": d }))).await;
        assert_eq!(
            keys(&body["token"]),
            vec![
                "methods",
                "user",
                "audit_ids",
                "expires_at",
                "issued_at",
                "domain",
                "roles",
                "catalog"
            ]
        );
        assert_eq!(
            body["token"]["domain"],
            json!({"id": "default", "name": "Default"})
        );
    }
    // Domain scope without a role there.
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}, "scope": {"domain": {"id": "default"}}}}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.text, AUTH_REQUIRED);

    // System scope.
    let (_, body) = app
        .login("admin", Some(json!({"system": {"all": true}})))
        .await;
    assert_eq!(
        keys(&body["token"]),
        vec![
            "methods",
            "user",
            "audit_ids",
            "expires_at",
            "issued_at",
            "roles",
            "system",
            "catalog"
        ]
    );
    // nocatalog
    let r = app
        .id(
            Method::POST,
            "/v3/auth/tokens?nocatalog",
            None,
            Some(json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "reader", "domain": {"id": "default"}, "password": "reader"}}}, "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.json()["token"].get("catalog").is_none());
    assert_eq!(
        r.json()["token"]["roles"],
        json!([{"id": r.json()["token"]["roles"][0]["id"], "name": "reader"}])
    );
}

#[actix_rt::test]
async fn auth_errors_are_keystones() {
    let app = spawn().await;
    let pw = |user: Value| json!({"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}});
    let unauthorized = [
        pw(json!({"name": "demo", "domain": {"id": "default"}, "password": "wrong-password"})),
        pw(json!({"name": "nosuchuser", "domain": {"id": "default"}, "password": "x"})),
        pw(json!({"id": "nosuchuserid", "password": "x"})),
        pw(json!({"name": "demo", "domain": {"name": "NoSuchDomain"}, "password": "demo"})),
        pw(json!({"name": "demo", "domain": {"id": "default"}})),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}, "scope": {"project": {"id": "no-such-project"}}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}, "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}),
    ];
    for body in unauthorized {
        let r = app.auth(body.clone()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(r.text, AUTH_REQUIRED, "{body}");
        assert_eq!(
            r.header("www-authenticate").unwrap(),
            app.www_authenticate()
        );
        assert_eq!(r.header("content-type").unwrap(), "application/json");
    }
    let cases: Vec<(Value, u16, String)> = vec![
        (pw(json!({"name": "demo", "password": "demo"})), 400, bad_request("Expecting to find domain in user.")),
        (json!({}), 400, bad_request("Expecting to find auth in request body.")),
        (json!({"auth": {"identity": {"methods": ["password"]}}}), 400, bad_request("Expecting to find password in identity.")),
        (
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}, "scope": {"project": {"id": "x"}, "domain": {"id": "default"}}}}),
            400,
            bad_request("Expecting to find system, project, domain, OS-TRUST:trust or unscoped in scope."),
        ),
        (
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": 12345}}}}}),
            400,
            "{\"error\":{\"code\":400,\"message\":\"Invalid input for field 'identity/password/user/password': 12345 is not of type 'string'\\n\\nFailed validating 'type' in schema['properties']['identity']['properties']['password']['properties']['user']['properties']['password']:\\n    {'type': 'string'}\\n\\nOn instance['identity']['password']['user']['password']:\\n    12345\",\"title\":\"Bad Request\"}}\n".into(),
        ),
        (
            json!({"auth": {"identity": {"methods": ["token"], "token": {}}}}),
            400,
            "{\"error\":{\"code\":400,\"message\":\"Invalid input for field 'identity/token': 'id' is a required property\\n\\nFailed validating 'required' in schema['properties']['identity']['properties']['token']:\\n    {'type': 'object',\\n     'properties': {'id': {'type': 'string'}},\\n     'required': ['id']}\\n\\nOn instance['identity']['token']:\\n    {}\",\"title\":\"Bad Request\"}}\n".into(),
        ),
        (
            json!({"auth": {"identity": {"methods": ["bogus"], "bogus": {}}}}),
            401,
            "{\"error\":{\"code\":401,\"identity\":{\"methods\":[\"external\",\"password\",\"token\",\"oauth1\",\"mapped\",\"application_credential\",\"ec2credential\"]},\"message\":\"Attempted to authenticate with an unsupported method.\",\"title\":\"Unauthorized\"}}\n".into(),
        ),
        (
            json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "not-a-token"}}}}),
            404,
            "{\"error\":{\"code\":404,\"message\":\"Could not find token: not-a-token.\",\"title\":\"Not Found\"}}\n".into(),
        ),
    ];
    for (body, status, expected) in cases {
        let r = app.auth(body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}");
        assert_eq!(r.text, expected, "{body}");
    }
    let r = app.auth(json!({"auth": {}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error"]["message"].as_str().unwrap().starts_with("'identity' is a required property\n\nFailed validating 'required' in schema:\n    {'type': 'object',\n     'properties': {'identity': {'type': 'object',"));
    assert_eq!(r.text.len(), 3399 - 1 + 1, "same length as keystone's body");
    let r = app
        .raw_tokens("application/json", "{\"auth\": {\"identity\": ")
        .await;
    assert_eq!(
        r.text,
        bad_request("Expecting to find valid JSON in request body.")
    );
    let r = app.raw_tokens("application/json", "").await;
    assert_eq!(
        r.text,
        bad_request("Expecting to find auth in request body.")
    );
    let r = app
        .raw_tokens(
            "text/plain",
            &pw(json!({"name": "demo", "domain": {"id": "default"}, "password": "demo"}))
                .to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text,
        bad_request("Expecting to find application/json in Content-Type header.")
    );
}

#[actix_rt::test]
async fn token_method_rescopes_and_keeps_scope() {
    let app = spawn().await;
    let (unscoped, first) = app.login("demo", Some(json!("unscoped"))).await;
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}}, "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let t = &r.json()["token"];
    assert_eq!(t["methods"], json!(["password", "token"]));
    assert_eq!(t["audit_ids"][1], first["token"]["audit_ids"][0]);
    assert_eq!(t["expires_at"], first["token"]["expires_at"]);
    assert_eq!(t["project"]["name"], "demo");
    let project_token = r.header("x-subject-token").unwrap();
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["token"], "token": {"id": project_token}}}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["token"]["project"]["name"], "demo");
}

#[actix_rt::test]
async fn application_credentials() {
    let app = spawn().await;
    let demo = app.project_token("demo", "demo").await;
    let admin = app.project_token("admin", "admin").await;
    let demo_id = app.user_id(&admin, "demo").await;
    let base = format!("/v3/users/{demo_id}/application_credentials");
    let r = app
        .id(
            Method::POST,
            &base,
            Some(&demo),
            Some(json!({"application_credential": {"name": "ac", "description": "capture.py"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ac = r.json()["application_credential"].clone();
    assert_eq!(
        keys(&ac),
        vec![
            "id",
            "name",
            "description",
            "user_id",
            "project_id",
            "system",
            "expires_at",
            "unrestricted",
            "roles",
            "secret",
            "links"
        ]
    );
    assert_eq!(ac["roles"][0]["options"], json!({"immutable": true}));
    let (acid, secret) = (
        ac["id"].as_str().unwrap().to_string(),
        ac["secret"].as_str().unwrap().to_string(),
    );
    assert_eq!(secret.len(), 86);
    let r = app.id(Method::GET, &base, Some(&demo), None).await;
    let list = r.json();
    assert!(list["application_credentials"][0].get("secret").is_none());
    assert_eq!(
        list["links"]["self"],
        json!(format!("{}{base}", app.identity))
    );

    let ways = [
        json!({"id": acid, "secret": secret}),
        json!({"name": "ac", "secret": secret, "user": {"id": demo_id}}),
        json!({"name": "ac", "secret": secret, "user": {"name": "demo", "domain": {"id": "default"}}}),
    ];
    let mut token = String::new();
    for w in ways {
        let r = app
            .auth(json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": w}}}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{w}: {}", r.text);
        let t = &r.json()["token"];
        assert_eq!(t["methods"], json!(["application_credential"]));
        assert_eq!(
            t["application_credential"],
            json!({"id": acid, "name": "ac", "restricted": true})
        );
        assert_eq!(*keys(t).last().unwrap(), "application_credential");
        token = r.header("x-subject-token").unwrap();
    }
    assert_eq!(app.keypairs(Some(&token)).await.status, StatusCode::OK);
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": acid, "secret": "wrong"}}}}))
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::UNAUTHORIZED, AUTH_REQUIRED)
    );
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": acid, "secret": secret}}, "scope": {"project": {"id": "x"}}}}))
        .await;
    assert_eq!(r.text, "{\"error\":{\"code\":401,\"identity\":{},\"message\":\"Error authenticating with application credential: Application credentials cannot request a scope.\",\"title\":\"Unauthorized\"}}\n");
    let r = app
        .id(Method::DELETE, &format!("{base}/{acid}"), Some(&demo), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.keypairs(Some(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": acid, "secret": secret}}}}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // What `openstack application credential create NAME` sends (OSC 10.5.0): an empty role
    // list and a null secret mean the token's roles and a generated secret, as in Keystone.
    let r = app
        .id(
            Method::POST,
            &base,
            Some(&demo),
            Some(json!({"application_credential": {"roles": [], "unrestricted": false, "name": "osc", "secret": null, "access_rules": [], "description": null, "expires_at": null}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ac = r.json()["application_credential"].clone();
    let names: Vec<&str> = ac["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    // member implies reader, as in capture k020.
    assert_eq!(names, vec!["member", "reader"], "{ac}");
    let secret = ac["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 86);
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": ac["id"], "secret": secret}}}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["token"]["roles"].as_array().unwrap().len(), 2);
    let r = app
        .id(
            Method::POST,
            &base,
            Some(&demo),
            Some(json!({"application_credential": {"name": "empty-secret", "secret": ""}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.json()["application_credential"]["secret"]
            .as_str()
            .unwrap()
            .len(),
        86
    );
}

#[actix_rt::test]
async fn validate_and_revoke() {
    let app = spawn().await;
    let demo = app.project_token("demo", "demo").await;
    let demo2 = app.project_token("demo", "demo").await;
    let admin = app.project_token("admin", "admin").await;
    let reader = app.project_token("reader", "demo").await;
    let v = |auth: Option<String>, subject: Option<String>, q: &'static str, m: Method| {
        let app = &app;
        async move {
            app.call(
                m,
                format!("{}/v3/auth/tokens{q}", app.identity),
                auth.as_deref(),
                subject.as_deref(),
                None,
            )
            .await
        }
    };
    let s = |t: &str| Some(t.to_string());
    let r = v(s(&demo), s(&demo), "", Method::GET).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-subject-token").unwrap(), demo);
    assert!(r.json()["token"].get("catalog").is_some());
    let r = v(s(&admin), s(&demo), "?nocatalog", Method::GET).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["token"].get("catalog").is_none());
    let r = v(s(&reader), s(&demo), "", Method::GET).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.text, "{\"error\":{\"code\":403,\"message\":\"You are not authorized to perform the requested action: identity:validate_token.\",\"title\":\"Forbidden\"}}\n");
    let get_len = v(s(&demo), s(&demo), "", Method::GET).await.text.len();
    let r = v(s(&demo), s(&demo), "", Method::HEAD).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text, "");
    assert_eq!(r.header("content-length").unwrap(), get_len.to_string());
    let garbage = "{\"error\":{\"code\":404,\"message\":\"Could not find token: not-a-valid-token.\",\"title\":\"Not Found\"}}\n";
    let r = v(s(&admin), s("not-a-valid-token"), "", Method::GET).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::NOT_FOUND, garbage)
    );
    let r = v(s(&admin), None, "", Method::GET).await;
    assert_eq!(r.text, "{\"error\":{\"code\":404,\"message\":\"No token in the request\",\"title\":\"Not Found\"}}\n");
    let r = v(None, s(&demo), "", Method::GET).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::UNAUTHORIZED, AUTH_REQUIRED)
    );
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        app.www_authenticate()
    );
    let r = v(s("not-a-valid-token"), s(&demo), "", Method::GET).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Revocation.
    let failed = "{\"error\":{\"code\":404,\"message\":\"Failed to validate token\",\"title\":\"Not Found\"}}\n";
    let r = v(s(&admin), s(&demo), "", Method::DELETE).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = v(s(&admin), s(&demo), "", Method::GET).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::NOT_FOUND, failed));
    let r = v(s(&admin), s(&demo), "", Method::HEAD).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = v(s(&admin), s(&demo), "", Method::DELETE).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::NOT_FOUND, failed));
    let r = app
        .id(Method::GET, "/v3/auth/projects", Some(&demo), None)
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::UNAUTHORIZED, AUTH_REQUIRED)
    );
    let r = v(s(&admin), s("not-a-valid-token"), "", Method::DELETE).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::NOT_FOUND, garbage)
    );
    // Other tokens of the same user are unaffected; a token may revoke itself.
    let r = v(s(&demo2), s(&demo2), "", Method::DELETE).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.keypairs(Some(&demo2)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_rt::test]
async fn expired_tokens_and_allow_expired() {
    let app = spawn_with(|c| c.token_expiration = 3).await;
    let demo = app.project_token("demo", "demo").await;
    assert_eq!(app.keypairs(Some(&demo)).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let r = app.keypairs(Some(&demo)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.text, MIDDLEWARE_401);
    // Expired as X-Auth-Token at the identity API.
    let r = app
        .id(Method::GET, "/v3/auth/projects", Some(&demo), None)
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::UNAUTHORIZED, AUTH_REQUIRED)
    );
    // Expired as the subject: 404, unless allow_expired.
    let admin = app.project_token("admin", "admin").await;
    let url = format!("{}/v3/auth/tokens", app.identity);
    let r = app
        .call(Method::GET, url.clone(), Some(&admin), Some(&demo), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text, "{\"error\":{\"code\":404,\"message\":\"Failed to validate token\",\"title\":\"Not Found\"}}\n");
    let r = app
        .call(
            Method::GET,
            format!("{url}?allow_expired=1"),
            Some(&admin),
            Some(&demo),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["token"]["project"]["name"], "demo");
}

#[actix_rt::test]
async fn identity_resources() {
    let app = spawn().await;
    let admin = app.project_token("admin", "admin").await;
    let demo = app.project_token("demo", "demo").await;
    let reader = app.project_token("reader", "demo").await;
    let demo_id = app.user_id(&admin, "demo").await;
    let reader_id = app.user_id(&admin, "reader").await;
    let demo_project = app.project_id(&admin, "demo").await;
    let b = &app.identity;

    let r = app
        .id(Method::GET, "/v3/users?name=demo", Some(&admin), None)
        .await;
    assert_eq!(
        r.text,
        format!("{{\"users\": [{{\"id\": \"{demo_id}\", \"name\": \"demo\", \"domain_id\": \"default\", \"enabled\": true, \"default_project_id\": \"{demo_project}\", \"password_expires_at\": null, \"options\": {{}}, \"links\": {{\"self\": \"{b}/v3/users/{demo_id}\"}}}}], \"links\": {{\"next\": null, \"self\": \"{b}/v3/users?name=demo\", \"previous\": null}}}}\n")
    );
    let forbidden = |action: &str| {
        format!("{{\"error\":{{\"code\":403,\"message\":\"You are not authorized to perform the requested action: identity:{action}.\",\"title\":\"Forbidden\"}}}}\n")
    };
    let r = app
        .id(Method::GET, "/v3/users?name=demo", Some(&demo), None)
        .await;
    assert_eq!(
        (r.status, r.text.clone()),
        (StatusCode::FORBIDDEN, forbidden("list_users"))
    );
    let r = app
        .id(Method::GET, "/v3/users?name=nosuch", Some(&admin), None)
        .await;
    assert_eq!(r.json()["users"], json!([]));
    let r = app.id(Method::GET, "/v3/users?name=demo", None, None).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::UNAUTHORIZED, AUTH_REQUIRED)
    );
    let r = app
        .id(
            Method::GET,
            &format!("/v3/users/{demo_id}"),
            Some(&demo),
            None,
        )
        .await;
    assert_eq!(r.json()["user"]["name"], "demo");
    let r = app
        .id(
            Method::GET,
            &format!("/v3/users/{reader_id}"),
            Some(&demo),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.text.clone()),
        (StatusCode::FORBIDDEN, forbidden("get_user"))
    );
    let r = app
        .id(Method::GET, "/v3/users/nosuch", Some(&admin), None)
        .await;
    assert_eq!(r.text, "{\"error\":{\"code\":404,\"message\":\"Could not find user: nosuch.\",\"title\":\"Not Found\"}}\n");
    let r = app
        .id(
            Method::GET,
            "/v3/users?domain_id=default&enabled=true",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.json()["users"].as_array().unwrap().len(), 3);

    let r = app
        .id(Method::GET, "/v3/projects?name=demo", Some(&admin), None)
        .await;
    assert_eq!(
        keys(&r.json()["projects"][0]),
        vec![
            "id",
            "name",
            "domain_id",
            "description",
            "enabled",
            "parent_id",
            "is_domain",
            "tags",
            "options",
            "links"
        ]
    );
    let r = app
        .id(Method::GET, "/v3/projects?name=demo", Some(&demo), None)
        .await;
    assert_eq!(r.text, forbidden("list_projects"));
    let r = app
        .id(
            Method::GET,
            &format!("/v3/projects/{demo_project}"),
            Some(&demo),
            None,
        )
        .await;
    assert_eq!(r.json()["project"]["id"], json!(demo_project));
    let r = app
        .id(Method::GET, "/v3/projects/nosuch", Some(&admin), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .id(Method::GET, "/v3/domains?name=Default", Some(&admin), None)
        .await;
    assert_eq!(
        r.text,
        format!("{{\"domains\": [{{\"id\": \"default\", \"name\": \"Default\", \"description\": \"The default domain\", \"enabled\": true, \"tags\": [], \"options\": {{}}, \"links\": {{\"self\": \"{b}/v3/domains/default\"}}}}], \"links\": {{\"next\": null, \"self\": \"{b}/v3/domains?name=Default\", \"previous\": null}}}}\n")
    );
    let r = app
        .id(Method::GET, "/v3/domains?name=Default", Some(&demo), None)
        .await;
    assert_eq!(r.text, forbidden("list_domains"));
    let r = app
        .id(Method::GET, "/v3/domains/default", Some(&demo), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.id(Method::GET, "/v3/roles", Some(&admin), None).await;
    let roles = r.json();
    let names: Vec<&str> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    // keystone-manage bootstrap's roles, in its order (capture k05j-roles-list-admin).
    assert_eq!(names, ["reader", "member", "manager", "admin", "service"]);
    assert_eq!(
        keys(&r.json()["roles"][0]),
        vec!["id", "name", "domain_id", "description", "options", "links"]
    );

    // Role assignments.
    let r = app
        .id(
            Method::GET,
            &format!("/v3/role_assignments?scope.project.id={demo_project}&include_names"),
            Some(&admin),
            None,
        )
        .await;
    let ra = r.json()["role_assignments"].clone();
    assert_eq!(ra.as_array().unwrap().len(), 2);
    assert_eq!(keys(&ra[0]), vec!["links", "scope", "user", "role"]);
    assert_eq!(
        ra[0]["scope"]["project"]["domain"],
        json!({"id": "default", "name": "Default"})
    );
    assert!(ra[0]["user"]["name"].is_string());
    let r = app
        .id(
            Method::GET,
            &format!("/v3/role_assignments?scope.project.id={demo_project}"),
            Some(&admin),
            None,
        )
        .await;
    let first = &r.json()["role_assignments"][0];
    assert_eq!(keys(&first["user"]), vec!["id"]);
    assert_eq!(
        first["links"]["assignment"],
        json!(format!(
            "{b}/v3/projects/{demo_project}/users/{}/roles/{}",
            first["user"]["id"].as_str().unwrap(),
            first["role"]["id"].as_str().unwrap()
        ))
    );
    let r = app
        .id(
            Method::GET,
            &format!("/v3/role_assignments?scope.project.id={demo_project}"),
            Some(&demo),
            None,
        )
        .await;
    assert_eq!(r.text, forbidden("list_role_assignments"));
    let r = app
        .id(
            Method::GET,
            &format!("/v3/role_assignments?user.id={demo_id}&effective&include_names"),
            Some(&admin),
            None,
        )
        .await;
    let ra = r.json()["role_assignments"].clone();
    let names: Vec<&str> = ra
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["role"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["member", "reader"]);
    assert!(ra[1]["links"]["prior_role"]
        .as_str()
        .unwrap()
        .contains("/implies/"));

    let r = app
        .id(Method::GET, "/v3/auth/projects", Some(&demo), None)
        .await;
    assert_eq!(r.json()["projects"][0]["name"], "demo");
    assert_eq!(
        r.json()["links"]["self"],
        json!(format!("{b}/v3/auth/projects"))
    );

    // Users: create, duplicate, validation, policy, default domain, delete.
    let body = json!({"user": {"name": "capture-user", "domain_id": "default", "password": "capture-pass", "description": "made by capture.py", "email": "capture@example.org"}});
    let r = app
        .id(Method::POST, "/v3/users", Some(&admin), Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let user = r.json()["user"].clone();
    assert_eq!(
        keys(&user),
        vec![
            "description",
            "email",
            "id",
            "name",
            "domain_id",
            "enabled",
            "password_expires_at",
            "options",
            "links"
        ]
    );
    let new_id = user["id"].as_str().unwrap().to_string();
    let r = app
        .id(Method::POST, "/v3/users", Some(&admin), Some(body))
        .await;
    assert_eq!(r.text, "{\"error\":{\"code\":409,\"message\":\"Conflict occurred attempting to store user - Duplicate entry found with name capture-user at domain ID default.\",\"title\":\"Conflict\"}}\n");
    for t in [&demo, &reader] {
        let r = app
            .id(
                Method::POST,
                "/v3/users",
                Some(t),
                Some(json!({"user": {"name": "x", "domain_id": "default"}})),
            )
            .await;
        assert_eq!(r.text, forbidden("create_user"));
    }
    let r = app
        .id(
            Method::POST,
            "/v3/users",
            Some(&admin),
            Some(json!({"user": {"domain_id": "default"}})),
        )
        .await;
    assert_eq!(r.text, "{\"error\":{\"code\":400,\"message\":\"Invalid input for field/attribute user. Value: {'domain_id': 'default'}. 'name' is a required property\",\"title\":\"Bad Request\"}}\n");
    let r = app
        .id(
            Method::POST,
            "/v3/users",
            None,
            Some(json!({"user": {"name": "y"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .id(
            Method::POST,
            "/v3/users",
            Some(&admin),
            Some(json!({"user": {"name": "capture-user-5"}})),
        )
        .await;
    assert_eq!(r.json()["user"]["domain_id"], "default");
    // The new user can log in once granted a role.
    let member_role = app
        .id(Method::GET, "/v3/roles", Some(&admin), None)
        .await
        .json()["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "member")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let grant = format!("/v3/projects/{demo_project}/users/{new_id}/roles/{member_role}");
    assert_eq!(
        app.id(Method::HEAD, &grant, Some(&admin), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.id(Method::PUT, &grant, Some(&demo), None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.id(Method::PUT, &grant, Some(&admin), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.id(Method::HEAD, &grant, Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": new_id, "password": "capture-pass"}}}, "scope": {"project": {"id": demo_project}}}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let new_token = r.header("x-subject-token").unwrap();
    assert_eq!(app.keypairs(Some(&new_token)).await.status, StatusCode::OK);
    // Revoking the only role invalidates the token at once.
    assert_eq!(
        app.id(Method::DELETE, &grant, Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.keypairs(Some(&new_token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.id(
            Method::DELETE,
            &format!("/v3/users/{new_id}"),
            Some(&demo),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.id(
            Method::DELETE,
            &format!("/v3/users/{new_id}"),
            Some(&admin),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.id(
            Method::GET,
            &format!("/v3/users/{new_id}"),
            Some(&admin),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // Projects: create, update, delete.
    let r = app
        .id(
            Method::POST,
            "/v3/projects",
            Some(&admin),
            Some(json!({"project": {"name": "p2", "description": "d"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let pid = r.json()["project"]["id"].as_str().unwrap().to_string();
    let r = app
        .id(
            Method::POST,
            "/v3/projects",
            Some(&admin),
            Some(json!({"project": {"name": "p2"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .id(
            Method::POST,
            "/v3/projects",
            Some(&demo),
            Some(json!({"project": {"name": "p3"}})),
        )
        .await;
    assert_eq!(r.text, forbidden("create_project"));
    let r = app
        .id(
            Method::PATCH,
            &format!("/v3/projects/{pid}"),
            Some(&admin),
            Some(json!({"project": {"enabled": false}})),
        )
        .await;
    assert_eq!(r.json()["project"]["enabled"], json!(false));
    assert_eq!(
        app.id(
            Method::DELETE,
            &format!("/v3/projects/{pid}"),
            Some(&admin),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    // Unknown route.
    assert_eq!(
        app.id(Method::GET, "/v3/nothing", Some(&admin), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// Signs `claims` with a key the server has never seen.
fn foreign_token(claims: &Value) -> String {
    let key = novakeys::domain::identity::jws::generate_key().unwrap();
    let signer = novakeys::domain::identity::jws::Signer::new(&[key]).unwrap();
    let claims: novakeys::domain::identity::jws::TokenClaims =
        serde_json::from_value(claims.clone()).unwrap();
    signer.sign(&claims).unwrap()
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[actix_rt::test]
async fn compute_accepts_valid_tokens_and_rejects_everything_else() {
    let app = spawn().await;
    let admin = app.project_token("admin", "admin").await;
    let demo = app.project_token("demo", "demo").await;
    let reader = app.project_token("reader", "demo").await;
    let (unscoped, _) = app.login("demo", Some(json!("unscoped"))).await;
    let (domain_token, _) = app
        .login("admin", Some(json!({"domain": {"id": "default"}})))
        .await;
    for t in [&demo, &reader, &unscoped, &admin] {
        let r = app.keypairs(Some(t)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.text, "{\"keypairs\": []}");
    }
    // Nova's key pair policies are project-scoped: a system token gets the policy 403 (k07c).
    let (system, _) = app
        .login("admin", Some(json!({"system": {"all": true}})))
        .await;
    let r = app.keypairs(Some(&system)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.text,
        r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow os_compute_api:os-keypairs:index to be performed."}}"#
    );
    let claims = payload(&demo);
    let header =
        |alg: &str| URL_SAFE_NO_PAD.encode(format!("{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}"));
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut forged = claims.clone();
    forged["sub"] = json!(app.user_id(&admin, "admin").await);
    let parts: Vec<&str> = demo.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged.to_string()),
        parts[2]
    );
    let bad_signature = format!(
        "{}.{}.{}AAAA",
        parts[0],
        parts[1],
        &parts[2][..parts[2].len() - 4]
    );
    let none = format!("{}.{body}.", header("none"));
    // HS256 keyed with something public (the token's own header): must never be accepted.
    let hs = {
        use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(parts[0].as_bytes()),
        )
        .unwrap()
    };
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(1_000_000_000);
    expired_claims["iat"] = json!(999_996_400);
    let unknown_key = foreign_token(&claims);
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("garbage", Some("not-a-valid-token".into())),
        ("alg none", Some(none)),
        ("hs256", Some(hs)),
        ("tampered", Some(tampered)),
        ("bad signature", Some(bad_signature)),
        ("unknown key", Some(unknown_key)),
        ("expired (foreign)", Some(foreign_token(&expired_claims))),
        ("domain scoped", Some(domain_token)),
        ("empty", Some(String::new())),
    ];
    for (what, token) in cases {
        let r = app.keypairs(token.as_deref()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text);
        assert_eq!(r.text, MIDDLEWARE_401, "{what}");
        assert_eq!(
            r.header("content-type").unwrap(),
            "application/json",
            "{what}"
        );
        assert_eq!(
            r.header("www-authenticate").unwrap(),
            format!("Keystone uri=\"{}\"", app.identity),
            "{what}: no /v3 suffix"
        );
    }
    // POST without a token: 401 before anything else.
    let r = app
        .call(
            Method::POST,
            format!("{}/v2.1/os-keypairs", app.compute),
            None,
            None,
            Some(json!({"keypair": {"name": "x"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Revoked (after being used, so it is cached).
    let victim = app.project_token("demo", "demo").await;
    assert_eq!(app.keypairs(Some(&victim)).await.status, StatusCode::OK);
    let r = app
        .call(
            Method::DELETE,
            format!("{}/v3/auth/tokens", app.identity),
            Some(&admin),
            Some(&victim),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.keypairs(Some(&victim)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Disabled user, then deleted project.
    let reader_id = app.user_id(&admin, "reader").await;
    assert_eq!(app.keypairs(Some(&reader)).await.status, StatusCode::OK);
    let r = app
        .id(
            Method::PATCH,
            &format!("/v3/users/{reader_id}"),
            Some(&admin),
            Some(json!({"user": {"enabled": false}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        app.keypairs(Some(&reader)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "reader", "domain": {"id": "default"}, "password": "reader"}}}}}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "disabled users cannot log in"
    );
    let demo_project = app.project_id(&admin, "demo").await;
    assert_eq!(app.keypairs(Some(&demo)).await.status, StatusCode::OK);
    assert_eq!(
        app.id(
            Method::DELETE,
            &format!("/v3/projects/{demo_project}"),
            Some(&admin),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let r = app.keypairs(Some(&demo)).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::UNAUTHORIZED, MIDDLEWARE_401)
    );
    // Deleted user.
    let demo_id = app.user_id(&admin, "demo").await;
    assert_eq!(app.keypairs(Some(&unscoped)).await.status, StatusCode::OK);
    assert_eq!(
        app.id(
            Method::DELETE,
            &format!("/v3/users/{demo_id}"),
            Some(&admin),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.keypairs(Some(&unscoped)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_rt::test]
async fn public_urls_are_used_when_configured() {
    let app = spawn_with(|c| {
        c.public_identity_url = Some("https://keystone.example/".into());
        c.public_compute_url = Some("https://nova.example".into());
        c.region = "RegionTwo".into();
    })
    .await;
    let (_, body) = app.login("demo", None).await;
    let cat = &body["token"]["catalog"];
    assert_eq!(
        cat[0]["endpoints"][0]["url"],
        "https://keystone.example/v3/"
    );
    assert_eq!(cat[1]["endpoints"][0]["url"], "https://nova.example/v2.1");
    assert_eq!(cat[1]["endpoints"][0]["region_id"], "RegionTwo");
    let r = app.id(Method::GET, "/", None, None).await;
    assert_eq!(
        r.header("location").unwrap(),
        "https://keystone.example/v3/"
    );
    let r = app.keypairs(None).await;
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        "Keystone uri=\"https://keystone.example\""
    );
}

#[actix_rt::test]
async fn bad_fixture_file_fails_at_start_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fx.yaml");
    std::fs::write(&path, "domains:\n  - name: Default\n    colour: red\n").unwrap();
    let config = Config {
        compute_bind: "127.0.0.1:0".parse().unwrap(),
        identity_bind: "127.0.0.1:0".parse().unwrap(),
        db: ":memory:".into(),
        fixtures: Some(path.clone()),
        ..Config::default()
    };
    let err = match novakeys::app::App::build(config).await {
        Ok(_) => panic!("bad fixtures must fail"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains(&format!("{}:3:", path.display())), "{err}");
    assert!(err.contains("colour"), "{err}");
}

#[actix_rt::test]
async fn custom_fixtures_pin_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fx.yaml");
    std::fs::write(
        &path,
        "domains: [{name: Default}]\nroles: [{name: member, id: r1}]\nprojects: [{name: p, id: p1}]\nusers: [{name: alice, id: u1, password: pw, default_project: p, grants: [{role: member, project: p}]}]\n",
    )
    .unwrap();
    let app = spawn_with(|c| c.fixtures = Some(path)).await;
    let r = app
        .auth(json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "u1", "password": "pw"}}}}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["token"]["project"]["id"], "p1");
    assert_eq!(
        r.json()["token"]["roles"],
        json!([{"id": "r1", "name": "member"}])
    );
}

/// Forgeries made with the service's real keys (read from its database): the classic
/// algorithm-confusion attack (HS256 keyed with the public key), `alg` swaps around a real
/// signature, and well-signed tokens that are expired or name no user. A well-signed, valid
/// token made the same way is the control: the forging method itself is sound.
#[actix_rt::test]
async fn compute_rejects_forgeries_made_with_the_real_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nk.db").to_str().unwrap().to_string();
    let db2 = db.clone();
    let app = spawn_with(move |c| c.db = db2).await;
    let demo = app.project_token("demo", "demo").await;
    assert_eq!(app.keypairs(Some(&demo)).await.status, StatusCode::OK);
    let (private_pem, public_pem): (String, String) = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT private_pem, public_pem FROM id_signing_keys ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let real =
        novakeys::domain::identity::jws::Signer::new(&[novakeys::store::identity::SigningKey {
            private_pem,
            public_pem: public_pem.clone(),
        }])
        .unwrap();
    let claims = payload(&demo);
    let sign = |c: &Value| {
        real.sign(&serde_json::from_value(c.clone()).unwrap())
            .unwrap()
    };
    let control = sign(&claims);
    assert_eq!(
        app.keypairs(Some(&control)).await.status,
        StatusCode::OK,
        "a token signed with the real key and valid claims is accepted"
    );

    let hs256 = |secret: &[u8]| {
        use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let public_der = {
        let body: String = public_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    };
    let parts: Vec<&str> = control.split('.').collect();
    let with_header = |header: &str| {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            parts[1],
            parts[2]
        )
    };
    let mut expired = claims.clone();
    expired["iat"] = json!(claims["iat"].as_i64().unwrap() - 7200);
    expired["exp"] = json!(claims["iat"].as_i64().unwrap() - 3600);
    let mut nobody = claims.clone();
    nobody["sub"] = json!("no-such-user-id");
    let mut no_project = claims.clone();
    no_project["openstack_project_id"] = json!("no-such-project");
    let cases: Vec<(&str, String)> = vec![
        (
            "HS256 keyed with the public key PEM",
            hs256(public_pem.as_bytes()),
        ),
        (
            "HS256 keyed with the public key PEM, trimmed",
            hs256(public_pem.trim().as_bytes()),
        ),
        ("HS256 keyed with the public key DER", hs256(&public_der)),
        (
            "alg none around a real signature",
            with_header(r#"{"alg":"none","typ":"JWT"}"#),
        ),
        (
            "alg HS256 around a real signature",
            with_header(r#"{"alg":"HS256","typ":"JWT"}"#),
        ),
        (
            "alg ES384 around a real signature",
            with_header(r#"{"alg":"ES384","typ":"JWT"}"#),
        ),
        (
            "alg none, no signature",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
                parts[1]
            ),
        ),
        ("expired, real key", sign(&expired)),
        ("unknown user, real key", sign(&nobody)),
        ("unknown project, real key", sign(&no_project)),
    ];
    for (what, token) in cases {
        let r = app.keypairs(Some(&token)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text);
        assert_eq!(r.text, MIDDLEWARE_401, "{what}");
    }
}
