//! # The Alibaba Cloud ECS front: key pairs (API version 2014-05-26)
//!
//! CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPairs, AttachKeyPair and
//! DetachKeyPair over the one key pair store, signed with an AccessKey (ACS3-HMAC-SHA256 or
//! RPC HMAC-SHA1), wire-exact as `../shared/spec/seed-clouds.md` §1 describes.
//!
//! One pipeline for every call (`POST /` or `GET /`, parameters in the query or a form
//! body): size → parameters → action and version → signature → nonce → region → RAM (a
//! `reader` may only describe) → the action's handler (parse → domain call → view). The
//! observe hook's `describe` runs the pipeline up to the signature and leaves the outcome in
//! the request for the handler, so a request is parsed and verified once.

pub mod attach;
pub mod auth;
pub mod errors;
pub mod ids;
mod injected;
pub mod keypairs;
pub mod nonce;
pub mod request;
pub mod rules;
pub mod signature;
pub mod views;

use crate::domain::{Principal, Services, Target};
use crate::http::body::read_limited;
use crate::http::{Described, Front, Injected};
use crate::store::instances::Instance;
use crate::store::keypairs::Owner;
use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use errors::AliError;
use request::{Params, MAX_REQUEST_BYTES};
use std::sync::Arc;

/// The one API version served.
pub const API_VERSION: &str = "2014-05-26";

/// The region name Alibaba's clients use by default; it and the configured region are the
/// same region here.
pub const REGION_ALIAS: &str = "cn-hangzhou";

/// What the Alibaba front is set up with.
#[derive(Debug, Clone)]
pub struct AlibabaSettings {
    /// Alibaba's own limit of key pairs per region (`None`: unlimited).
    pub keypair_quota: Option<i64>,
}

pub struct AlibabaFront {
    settings: AlibabaSettings,
    services: Services,
    nonces: nonce::Nonces,
}

/// The six actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateKeyPair,
    ImportKeyPair,
    DescribeKeyPairs,
    DeleteKeyPairs,
    AttachKeyPair,
    DetachKeyPair,
}

const ACTIONS: &[Action] = &[
    Action::CreateKeyPair,
    Action::ImportKeyPair,
    Action::DescribeKeyPairs,
    Action::DeleteKeyPairs,
    Action::AttachKeyPair,
    Action::DetachKeyPair,
];

/// The metrics route labels: `/<Action>`.
const ROUTE_WORDS: &[&str] = &[
    "CreateKeyPair",
    "ImportKeyPair",
    "DescribeKeyPairs",
    "DeleteKeyPairs",
    "AttachKeyPair",
    "DetachKeyPair",
];

impl Action {
    pub fn as_str(self) -> &'static str {
        ROUTE_WORDS[ACTIONS.iter().position(|a| *a == self).expect("listed")]
    }

    fn parse(name: &str) -> Option<Action> {
        ROUTE_WORDS
            .iter()
            .position(|n| *n == name)
            .map(|i| ACTIONS[i])
    }

    /// Whether a `reader` is refused (RAM: only Describe is a read).
    fn writes(self) -> bool {
        self != Action::DescribeKeyPairs
    }
}

/// A request that got past its signature.
pub struct Call {
    pub action: Action,
    pub params: Params,
    pub auth: auth::Authenticated,
}

impl Call {
    pub fn principal(&self) -> &Principal {
        &self.auth.resolved.principal
    }
}

/// The pipeline's outcome up to the signature, worked out by `describe` (a request
/// extension) for the handler.
struct Prepared(Result<Call, AliError>);

/// What a request asks for, known before its signature is checked (metrics and journal).
#[derive(Clone, Copy)]
struct Asked {
    action: Option<Action>,
    version_ok: bool,
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

impl AlibabaFront {
    pub fn new(settings: AlibabaSettings, services: Services) -> AlibabaFront {
        AlibabaFront {
            settings,
            services,
            nonces: nonce::Nonces::default(),
        }
    }

    /// Alibaba's request ids: an upper-case UUID (from the seeded rng in deterministic mode).
    fn request_id(&self) -> String {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        self.services
            .determinism
            .uuid4()
            .hyphenated()
            .encode_upper(&mut buf)
            .to_string()
    }

    /// Whether `region` is the one region (by its Alibaba alias or its configured name).
    fn is_region(&self, region: &str) -> bool {
        region == REGION_ALIAS || region == self.services.region
    }

    /// The action and version a request names: the signed `Action`/`Version` parameters
    /// (RPC), else the `x-acs-action`/`x-acs-version` headers (ACS3 signs those).
    fn asked<'a>(req: &'a HttpRequest, params: &'a Params) -> (Option<&'a str>, Option<&'a str>) {
        let pick = |param: &str, head: &str| {
            params
                .get(param)
                .filter(|v| !v.is_empty())
                .or_else(|| header(req, head).filter(|v| !v.is_empty()))
        };
        (
            pick("Action", "x-acs-action"),
            pick("Version", "x-acs-version"),
        )
    }

    /// The pipeline up to the signature (see the module docs).
    fn prepare(&self, req: &HttpRequest, body: &[u8]) -> Result<Call, AliError> {
        let declared = header(req, "content-length").and_then(|l| l.trim().parse::<u64>().ok());
        if body.len() > MAX_REQUEST_BYTES || declared.is_some_and(|l| l > MAX_REQUEST_BYTES as u64)
        {
            return Err(AliError::too_large());
        }
        let is_form = header(req, "content-type").is_some_and(|t| {
            t.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        let params = Params::parse(req.query_string(), body, is_form)?;
        if req.path() != "/" || !matches!(*req.method(), Method::GET | Method::POST) {
            return Err(AliError::unknown_action());
        }
        let (action, version) = Self::asked(req, &params);
        let action = action.ok_or_else(|| AliError::missing("Action"))?;
        let action = Action::parse(action).ok_or_else(AliError::unknown_action)?;
        if version.ok_or_else(|| AliError::missing("Version"))? != API_VERSION {
            return Err(AliError::bad_version());
        }
        let auth = auth::authenticate(
            &self.services.credentials,
            self.services.determinism.now(),
            req,
            &params,
            body,
        )?;
        Ok(Call {
            action,
            params,
            auth,
        })
    }

    /// After the signature: the nonce, the region, RAM, then the action.
    async fn handle(&self, call: Call, request_id: &str) -> Result<serde_json::Value, AliError> {
        let now = self.services.determinism.now().timestamp();
        if !self
            .nonces
            .first_use(&call.auth.access, &call.auth.nonce, now)
        {
            return Err(AliError::nonce_used());
        }
        if !self.is_region(call.params.required("RegionId")?) {
            return Err(AliError::region_not_found());
        }
        if call.action.writes() && !call.principal().can_write() {
            return Err(AliError::forbidden());
        }
        match call.action {
            Action::CreateKeyPair => keypairs::create(self, &call, request_id).await,
            Action::ImportKeyPair => keypairs::import(self, &call, request_id).await,
            Action::DescribeKeyPairs => keypairs::describe(self, &call, request_id).await,
            Action::DeleteKeyPairs => keypairs::delete(self, &call, request_id).await,
            Action::AttachKeyPair => attach::attach(self, &call, request_id).await,
            Action::DetachKeyPair => attach::detach(self, &call, request_id).await,
        }
    }

    /// The caller's own key pairs (the domain's scope rule).
    fn target(&self, call: &Call) -> Result<Target, AliError> {
        self.services
            .keypairs
            .target(call.principal(), None)
            .map_err(AliError::from_domain)
    }

    /// Whether `call`'s caller may use instance `i` here: an Alibaba instance of the key
    /// pairs' owner (the user, or the project under `keypair_scope = project`), in the region.
    fn owns_instance(&self, target: &Target, i: &Instance) -> bool {
        let owner = match target.owner() {
            Owner::User(u) => &i.user_id == u,
            Owner::Project(p) => &i.project_id == p,
        };
        i.cloud == "alibaba" && owner && self.is_region(&i.region)
    }
}

async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    front: web::Data<AlibabaFront>,
) -> HttpResponse {
    let request_id = front.request_id();
    let prepared = req.extensions_mut().remove::<Prepared>();
    let call = match prepared {
        Some(Prepared(call)) => call,
        // Not through the observe hook: read and check the request here.
        None => match read_limited(&req, payload, MAX_REQUEST_BYTES).await {
            Ok(body) => front.prepare(&req, &body),
            Err(_) => Err(AliError::too_large()),
        },
    };
    let answer = match call {
        Ok(call) => front.handle(call, &request_id).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(body) => views::ok(&body),
        Err(e) => e.response(&request_id),
    }
}

impl Front for AlibabaFront {
    fn name(&self) -> &'static str {
        "alibaba"
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, _mount: &str) {
        cfg.app_data(web::Data::from(self))
            .default_service(web::to(dispatch));
    }

    fn route_words(&self) -> &'static [&'static str] {
        ROUTE_WORDS
    }

    fn body_limit(&self) -> usize {
        MAX_REQUEST_BYTES
    }

    /// The caller of a validly signed request (the signature is checked here, once, and the
    /// outcome kept for the handler; the nonce is left to the handler), with `detail` the key
    /// pair it names (`KeyPairName`, or DeleteKeyPairs' first name) and the API version.
    fn describe(&self, req: &HttpRequest, _path: &str, body: &[u8], detail: bool) -> Described {
        let prepared = self.prepare(req, body);
        let asked = match &prepared {
            Ok(call) => Asked {
                action: Some(call.action),
                version_ok: true,
            },
            // Refused before or at the signature: what it asked for, if that can be read.
            Err(_) => match Params::parse(req.query_string(), b"", false) {
                Ok(params) => {
                    let (action, version) = Self::asked(req, &params);
                    Asked {
                        action: action.and_then(Action::parse),
                        version_ok: version == Some(API_VERSION),
                    }
                }
                Err(_) => Asked {
                    action: None,
                    version_ok: false,
                },
            },
        };
        let described = match &prepared {
            Ok(call) => {
                let p = call.principal();
                Described {
                    user_id: Some(p.user_id.clone()),
                    project_id: Some(p.project_id.clone()),
                    name: detail.then(|| keypairs::named(call)).flatten(),
                    version: Some(API_VERSION.to_string()),
                }
            }
            Err(_) => Described {
                version: asked.version_ok.then(|| API_VERSION.to_string()),
                ..Described::default()
            },
        };
        let mut ext = req.extensions_mut();
        ext.insert(Prepared(prepared));
        ext.insert(asked);
        described
    }

    fn answered_version(&self, req: &HttpRequest, _path: &str, _: &HeaderMap) -> Option<String> {
        let asked = req.extensions().get::<Asked>().copied()?;
        asked.version_ok.then(|| API_VERSION.to_string())
    }

    fn route_path(&self, req: &HttpRequest, _path: &str) -> Option<String> {
        let asked = req.extensions().get::<Asked>().copied()?;
        asked.action.map(|a| format!("/{}", a.as_str()))
    }

    fn render_fault(
        &self,
        _req: &HttpRequest,
        _path: &str,
        fault: &Injected,
        facts: &Described,
    ) -> HttpResponse {
        injected::render(fault, facts, &self.request_id())
    }
}

/// A value as a shell word: as it is when that is safe, else single-quoted.
fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@+=%,".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// What `novakeys credentials --cloud alibaba` prints: shell lines for `eval`. The Tea SDKs'
/// default credential chain (Python `alibabacloud-credentials`, Node `@alicloud/credentials`)
/// reads `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`; the legacy `aliyun-python-sdk-core` reads
/// `ALIYUN_ACCESS_KEY_ID`/`_SECRET` when its client is made without keys. No SDK reads a
/// region or endpoint from the environment: `ALIBABA_CLOUD_REGION_ID` is the name Alibaba's
/// CLI and tools use, `ALIBABA_CLOUD_ECS_ENDPOINT` (host:port, what `Config(endpoint=…)`
/// takes) is ours; pass both to the client (the README's snippet does).
pub fn client_setup(setup: &super::ClientSetup) -> anyhow::Result<String> {
    let endpoint = setup
        .endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let (access, secret) = (shell_word(setup.access), shell_word(setup.secret));
    Ok(format!(
        "# Alibaba Cloud ECS at novakeys: user {user}, project {project}\n\
         # (the Tea SDKs read the first two; the legacy aliyun-python-sdk-core the ALIYUN_ pair)\n\
         export ALIBABA_CLOUD_ACCESS_KEY_ID={access}\n\
         export ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}\n\
         export ALIYUN_ACCESS_KEY_ID={access}\n\
         export ALIYUN_ACCESS_KEY_SECRET={secret}\n\
         # no SDK reads these two: pass them, e.g. Config(region_id=..., endpoint=..., protocol='http')\n\
         export ALIBABA_CLOUD_REGION_ID={REGION_ALIAS}\n\
         export ALIBABA_CLOUD_ECS_ENDPOINT={endpoint}\n",
        user = setup.user_name.replace('\n', " "),
        project = setup.project_name.replace('\n', " "),
        endpoint = shell_word(endpoint),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_setup_prints_what_the_sdks_read() {
        let setup = super::super::ClientSetup {
            access: "LTAI5tNovakeysDemo000001",
            secret: "NovakeysDemoAlibabaSecret00001",
            endpoint: "http://127.0.0.1:8781".into(),
            user_name: "demo",
            project_name: "demo",
            data_path: None,
            profile: None,
        };
        let text = client_setup(&setup).unwrap();
        let exports: Vec<(&str, &str)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .collect();
        assert_eq!(
            exports,
            [
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tNovakeysDemo000001"),
                (
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                    "NovakeysDemoAlibabaSecret00001"
                ),
                ("ALIYUN_ACCESS_KEY_ID", "LTAI5tNovakeysDemo000001"),
                ("ALIYUN_ACCESS_KEY_SECRET", "NovakeysDemoAlibabaSecret00001"),
                ("ALIBABA_CLOUD_REGION_ID", "cn-hangzhou"),
                ("ALIBABA_CLOUD_ECS_ENDPOINT", "127.0.0.1:8781"),
            ]
        );
        assert!(text
            .lines()
            .all(|l| l.starts_with("export ") || l.starts_with('#')));
        let odd = super::super::ClientSetup {
            secret: "it's $x",
            ..setup
        };
        assert!(client_setup(&odd)
            .unwrap()
            .contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET='it'\\''s $x'"));
    }

    #[test]
    fn actions_round_trip() {
        for a in ACTIONS {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        assert_eq!(Action::parse("RunInstances"), None);
        assert!(!Action::DescribeKeyPairs.writes());
        assert!(Action::DetachKeyPair.writes());
    }
}
