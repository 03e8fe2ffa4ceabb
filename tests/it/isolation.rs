//! The isolation matrix (noauth): every key pair action, at every interesting microversion,
//! by every kind of caller, against every owner, with and without `user_id`, in both
//! `keypair_scope`s. The expected answer of each cell comes from `nova_answer`, a direct
//! transcription of Nova's rules (nova/api/openstack/compute/keypairs.py + policies) and of
//! the README's `keypair_scope = project` semantics.

use crate::common::{call, spawn_app, test_config, RawResponse, TestApp};
use novakeys::config::AuthMode;
use novakeys::config::KeypairScope;
use serde_json::{json, Value};

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII5J04CljaeVO5LeIXMByG9K0Yy+5h481th5PkWvlFm9 ed@oracle";

#[derive(Debug, PartialEq, Eq)]
struct Who {
    user: &'static str,
    project: &'static str,
    roles: &'static str,
}

impl Who {
    fn admin(&self) -> bool {
        self.roles.split(',').any(|r| r == "admin")
    }
    fn key(&self) -> String {
        format!("k-{}", self.user)
    }
}

/// A and B in different projects, B and C (and the reader) in the same one, an admin.
const PEOPLE: &[Who] = &[
    Who {
        user: "user-a",
        project: "proj-a",
        roles: "member,reader",
    },
    Who {
        user: "user-b",
        project: "proj-bc",
        roles: "member,reader",
    },
    Who {
        user: "user-c",
        project: "proj-bc",
        roles: "member,reader",
    },
    Who {
        user: "user-admin",
        project: "proj-admin",
        roles: "admin,member,reader",
    },
    Who {
        user: "user-reader",
        project: "proj-bc",
        roles: "reader",
    },
];

const VERSIONS: &[&str] = &["2.1", "2.10", "2.35", "latest"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    List,
    Show,
    Delete,
}

impl Action {
    fn policy(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::List => "index",
            Action::Show => "show",
            Action::Delete => "delete",
        }
    }
}

/// The `user_id` a request carries (query for list/show/delete, body for create).
#[derive(Debug, Clone, Copy)]
enum Uid {
    Absent,
    Empty,
    Of(&'static Who),
}

#[derive(Debug, PartialEq)]
enum Answer {
    /// Status and, for faults, Nova's fault JSON.
    Status(u16, Option<Value>),
    /// 200 with exactly these key pair names.
    List(Vec<String>),
}

fn minor(version: &str) -> u32 {
    match version {
        "latest" => 104,
        v => v.split_once('.').unwrap().1.parse().unwrap(),
    }
}

fn fault(name: &str, code: u16, message: String) -> Option<Value> {
    Some(json!({ name: {"code": code, "message": message} }))
}

/// What Nova (and, for `project`, the README) answers. `target` owns the name `k-<target>`
/// that create/show/delete address; it is ignored for list.
fn nova_answer(
    scope: KeypairScope,
    caller: &Who,
    action: Action,
    version: &str,
    uid: Uid,
    target: &Who,
) -> Answer {
    let v = minor(version);
    // Below 2.10 a query `user_id` is ignored, and a body `user_id` fails the schema.
    if v < 10 && action == Action::Create && !matches!(uid, Uid::Absent) {
        return Answer::Status(400, None);
    }
    let requested = match uid {
        Uid::Of(w) if v >= 10 => Some(w),
        _ => None, // absent, empty (= the caller), or ignored
    };
    let addressed = requested.unwrap_or(caller);
    if addressed.user != caller.user && !caller.admin() {
        let message = format!(
            "Policy doesn't allow os_compute_api:os-keypairs:{} to be performed.",
            action.policy()
        );
        return Answer::Status(403, fault("forbidden", 403, message));
    }
    // Whose key pairs the request sees.
    let visible: Vec<&Who> = match (scope, requested) {
        (KeypairScope::Project, None) => PEOPLE
            .iter()
            .filter(|w| w.project == caller.project)
            .collect(),
        _ => vec![addressed],
    };
    let name = target.key();
    let sees_target = visible.contains(&target);
    match action {
        Action::List => {
            let mut names: Vec<String> = visible.iter().map(|w| w.key()).collect();
            names.sort();
            Answer::List(names)
        }
        Action::Show | Action::Delete if !sees_target => Answer::Status(
            404,
            fault(
                "itemNotFound",
                404,
                format!("Keypair {name} not found for user {}", addressed.user),
            ),
        ),
        Action::Show => Answer::Status(200, None),
        Action::Delete => Answer::Status(if v < 2 { 202 } else { 204 }, None),
        Action::Create if sees_target => Answer::Status(
            409,
            fault(
                "conflictingRequest",
                409,
                format!("Key pair '{name}' already exists."),
            ),
        ),
        Action::Create => Answer::Status(if v < 2 { 200 } else { 201 }, None),
    }
}

async fn send(
    app: &TestApp,
    who: &Who,
    method: &str,
    path: &str,
    version: &str,
    body: &str,
) -> RawResponse {
    let version = format!("compute {version}");
    let mut headers = vec![
        ("X-User-Id", who.user),
        ("X-Project-Id", who.project),
        ("X-Roles", who.roles),
        ("OpenStack-API-Version", version.as_str()),
    ];
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    call(app.compute, method, path, &headers, body).await
}

fn query(uid: Uid) -> String {
    match uid {
        Uid::Absent => String::new(),
        Uid::Empty => "?user_id=".into(),
        Uid::Of(w) => format!("?user_id={}", w.user),
    }
}

/// Creates `k-<who>` as `who` itself (so it lives in `who`'s project).
async fn seed(app: &TestApp, who: &Who) {
    let body = json!({"keypair": {"name": who.key(), "public_key": ED25519}}).to_string();
    let r = send(app, who, "POST", "/v2.1/os-keypairs", "2.10", &body).await;
    assert_eq!(r.status, 201, "seeding {}: {}", who.user, r.text());
}

async fn matrix(scope: KeypairScope) -> usize {
    let mut config = test_config(AuthMode::Noauth);
    config.keypair_scope = scope;
    let app = spawn_app(config).await;
    for who in PEOPLE {
        seed(&app, who).await;
    }
    let mut uids = vec![Uid::Absent, Uid::Empty];
    uids.extend(PEOPLE.iter().map(Uid::Of));
    let mut cells = 0;
    for caller in PEOPLE {
        for version in VERSIONS {
            for action in [Action::List, Action::Show, Action::Delete, Action::Create] {
                // List has no target; one pass is enough.
                let targets: &[Who] = if action == Action::List {
                    &PEOPLE[..1]
                } else {
                    PEOPLE
                };
                for target in targets {
                    for &uid in &uids {
                        check(&app, scope, caller, action, version, uid, target).await;
                        cells += 1;
                    }
                }
            }
        }
    }
    cells
}

async fn check(
    app: &TestApp,
    scope: KeypairScope,
    caller: &Who,
    action: Action,
    version: &str,
    uid: Uid,
    target: &Who,
) {
    let expected = nova_answer(scope, caller, action, version, uid, target);
    let cell = format!(
        "{scope:?} scope: {} {action:?} k-{} at {version} with user_id {uid:?}",
        caller.user, target.user
    );
    let name = target.key();
    let r = match action {
        Action::List => {
            send(
                app,
                caller,
                "GET",
                &format!("/v2.1/os-keypairs{}", query(uid)),
                version,
                "",
            )
            .await
        }
        Action::Show => {
            let path = format!("/v2.1/os-keypairs/{name}{}", query(uid));
            send(app, caller, "GET", &path, version, "").await
        }
        Action::Delete => {
            let path = format!("/v2.1/os-keypairs/{name}{}", query(uid));
            send(app, caller, "DELETE", &path, version, "").await
        }
        Action::Create => {
            let mut kp = json!({"name": name, "public_key": ED25519});
            match uid {
                Uid::Absent => {}
                Uid::Empty => kp["user_id"] = json!(""),
                Uid::Of(w) => kp["user_id"] = json!(w.user),
            }
            let body = json!({ "keypair": kp }).to_string();
            send(app, caller, "POST", "/v2.1/os-keypairs", version, &body).await
        }
    };
    match &expected {
        Answer::List(names) => {
            assert_eq!(r.status, 200, "{cell}: {}", r.text());
            let got: Vec<String> = r.json()["keypairs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(&got, names, "{cell}");
        }
        Answer::Status(status, body) => {
            assert_eq!(r.status, *status, "{cell}: {}", r.text());
            match body {
                Some(body) => assert_eq!(&r.json(), body, "{cell}"),
                None if *status == 400 => {
                    let v = r.json();
                    let message = v["badRequest"]["message"].as_str().unwrap_or_default();
                    assert!(
                        message.contains(
                            "Additional properties are not allowed ('user_id' was unexpected)"
                        ),
                        "{cell}: {v}"
                    );
                }
                None => {}
            }
        }
    }
    let addressed = match uid {
        Uid::Of(w) if minor(version) >= 10 => w,
        _ => caller,
    };
    // Check what a success returned, and put the world back as it was.
    match (action, r.status) {
        (Action::Show, 200) => {
            let kp = &r.json()["keypair"];
            assert_eq!(kp["name"], json!(name), "{cell}");
            if minor(version) >= 10 {
                assert_eq!(kp["user_id"], json!(target.user), "{cell}");
            }
        }
        (Action::Delete, 202 | 204) => seed(app, target).await,
        (Action::Create, 200 | 201) => {
            if minor(version) >= 10 {
                assert_eq!(
                    r.json()["keypair"]["user_id"],
                    json!(addressed.user),
                    "{cell}"
                );
            }
            let path = format!("/v2.1/os-keypairs/{name}?user_id={}", addressed.user);
            let undo = send(app, caller, "DELETE", &path, "2.10", "").await;
            assert_eq!(undo.status, 204, "{cell}: undo: {}", undo.text());
        }
        _ => {}
    }
}

#[actix_web::test]
async fn isolation_matrix_user_scope() {
    let cells = matrix(KeypairScope::User).await;
    assert_eq!(cells, 5 * 4 * (7 + 3 * 5 * 7));
}

#[actix_web::test]
async fn isolation_matrix_project_scope() {
    let cells = matrix(KeypairScope::Project).await;
    assert_eq!(cells, 5 * 4 * (7 + 3 * 5 * 7));
}
