//! # One pipeline for every call
//!
//! size → parameters → action and version → signature (`prepare`, which `describe` runs for
//! the observe hook) → nonce → region → RAM → the action's handler (`handle`).

use super::errors::AliError;
use super::request::{Params, MAX_REQUEST_BYTES};
use super::views::Answer;
use super::{attach, auth, keypairs, views, Action, AlibabaFront, API_VERSION, REGION_ALIAS};
use crate::domain::{Principal, Target};
use crate::http::body::read_limited;
use crate::http::{NoSecrets, RequestId};
use crate::store::instances::Instance;
use crate::store::keypairs::Owner;
use actix_web::http::Method;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

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
pub(super) struct Prepared(pub(super) Result<Call, AliError>);

/// What a request asks for, known before its signature is checked (metrics and journal).
#[derive(Clone, Copy)]
pub(super) struct Asked {
    pub(super) action: Option<Action>,
    pub(super) version_ok: bool,
}

pub(super) fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

impl AlibabaFront {
    /// Alibaba's request ids: an upper-case UUID (from the seeded rng in deterministic mode).
    pub(super) fn request_id(&self) -> String {
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
    pub(super) fn asked<'a>(
        req: &'a HttpRequest,
        params: &'a Params,
    ) -> (Option<&'a str>, Option<&'a str>) {
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
    pub(super) fn prepare(&self, req: &HttpRequest, body: &[u8]) -> Result<Call, AliError> {
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
    async fn handle(&self, call: Call, request_id: &str) -> Result<Answer, AliError> {
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
        let tree = match call.action {
            Action::DescribeKeyPairs => return keypairs::describe(self, &call, request_id).await,
            Action::CreateKeyPair => keypairs::create(self, &call, request_id).await,
            Action::ImportKeyPair => keypairs::import(self, &call, request_id).await,
            Action::DeleteKeyPairs => keypairs::delete(self, &call, request_id).await,
            Action::AttachKeyPair => attach::attach(self, &call, request_id).await,
            Action::DetachKeyPair => attach::detach(self, &call, request_id).await,
        };
        tree.map(Answer::from)
    }

    /// The caller's own key pairs (the domain's scope rule).
    pub(super) fn target(&self, call: &Call) -> Result<Target, AliError> {
        self.services
            .keypairs
            .target(call.principal(), None)
            .map_err(AliError::from_domain)
    }

    /// Whether `call`'s caller may use instance `i` here: an Alibaba instance of the key
    /// pairs' owner (the user, or the project under `keypair_scope = project`), in the region.
    pub(super) fn owns_instance(&self, target: &Target, i: &Instance) -> bool {
        let owner = match target.owner() {
            Owner::User(u) => &i.user_id == u,
            Owner::Project(p) => &i.project_id == p,
        };
        i.cloud == "alibaba" && owner && self.is_region(&i.region)
    }
}

pub(super) async fn dispatch(
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
    let (answer, public) = match call {
        Ok(call) => {
            // Key pairs' public fields only: the answer needs no scan for secrets.
            let public = call.action == Action::DescribeKeyPairs;
            (front.handle(call, &request_id).await, public)
        }
        Err(e) => (Err(e), false),
    };
    let mut response = match answer {
        Ok(body) => {
            let mut ok = views::ok(body);
            if public {
                ok.extensions_mut().insert(NoSecrets);
            }
            ok
        }
        Err(e) => e.response(&request_id),
    };
    // Alibaba answers its request id in the body: the request log reads it here.
    response.extensions_mut().insert(RequestId(request_id));
    response
}
