//! # One request, in the order Tencent's gateway answers it
//!
//! method → size → action → version → signature (SecretId, timestamp, signature) → region →
//! CAM (writes need `member`) → parameters (unknown, wrong types) → the action. Every answer
//! is HTTP 200 with `Content-Type: application/json`, errors included.

use super::auth;
use super::errors::{self, TcError};
use super::instances::{self, Binding};
use super::keypairs::{self, Answer};
use super::params::{self, Params, Schema};
use super::request::{header, Call};
use super::{Ctx, TencentFront};
use crate::http::body::read_limited;
use crate::http::{NoSecrets, RequestId};
use actix_web::http::Method;
use actix_web::HttpMessage;
use actix_web::{web, HttpRequest, HttpResponse};

/// The API version this front serves.
pub const VERSION: &str = "2017-03-12";
/// Tencent's request size limits: a GET's query, a legacy-signed POST, a TC3 POST.
const MAX_QUERY: usize = 32 * 1024;
const MAX_LEGACY_BODY: usize = 1024 * 1024;
pub const MAX_TC3_BODY: usize = 10 * 1024 * 1024;
/// The region the clients use by default, beside the configured region's own name.
pub const REGION_ALIASES: &[&str] = &["ap-guangzhou"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Import,
    Describe,
    Modify,
    Delete,
    Associate,
    Disassociate,
}

impl Action {
    pub fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "CreateKeyPair" => Action::Create,
            "ImportKeyPair" => Action::Import,
            "DescribeKeyPairs" => Action::Describe,
            "ModifyKeyPairAttribute" => Action::Modify,
            "DeleteKeyPairs" => Action::Delete,
            "AssociateInstancesKeyPairs" => Action::Associate,
            "DisassociateInstancesKeyPairs" => Action::Disassociate,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "CreateKeyPair",
            Action::Import => "ImportKeyPair",
            Action::Describe => "DescribeKeyPairs",
            Action::Modify => "ModifyKeyPairAttribute",
            Action::Delete => "DeleteKeyPairs",
            Action::Associate => "AssociateInstancesKeyPairs",
            Action::Disassociate => "DisassociateInstancesKeyPairs",
        }
    }

    fn schema(self) -> Schema {
        match self {
            Action::Create => params::CREATE,
            Action::Import => params::IMPORT,
            Action::Describe => params::DESCRIBE,
            Action::Modify => params::MODIFY,
            Action::Delete => params::DELETE,
            Action::Associate | Action::Disassociate => params::BIND,
        }
    }

    fn writes(self) -> bool {
        self != Action::Describe
    }
}

pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    front: web::Data<TencentFront>,
) -> HttpResponse {
    let request_id = front.request_id();
    let mut response = match handle(&front, &req, payload, &request_id).await {
        Ok(fields) => {
            let mut answer = errors::success(fields, &request_id);
            if req.extensions().contains::<NoSecrets>() {
                answer.extensions_mut().insert(NoSecrets);
            }
            answer
        }
        Err(e) => e.response(&request_id),
    };
    // Tencent answers its request id in the body: the request log reads it here.
    response.extensions_mut().insert(RequestId(request_id));
    response
}

fn too_large() -> TcError {
    TcError::new(
        "RequestSizeLimitExceeded",
        "The request size exceeds the limit (GET 32 KB, POST 1 MB with HmacSHA1/HmacSHA256, 10 MB with TC3-HMAC-SHA256).",
    )
}

async fn handle(
    front: &TencentFront,
    req: &HttpRequest,
    payload: web::Payload,
    request_id: &str,
) -> Answer {
    let method = req.method();
    if method != Method::GET && method != Method::POST {
        return Err(TcError::new(
            "UnsupportedProtocol",
            format!("The HTTP method {method} is not supported; only GET and POST are."),
        ));
    }
    if method == Method::GET && req.query_string().len() > MAX_QUERY {
        return Err(too_large());
    }
    let limit = if header(req, "authorization").is_some() {
        MAX_TC3_BODY
    } else {
        MAX_LEGACY_BODY
    };
    let body = read_limited(req, payload, limit)
        .await
        .map_err(|_| too_large())?;
    let call = Call::read(req, &body);
    let name = call
        .action
        .as_deref()
        .ok_or_else(|| TcError::missing("Action"))?;
    let action = Action::parse(name).ok_or_else(|| {
        TcError::new(
            "InvalidAction",
            format!(
                "The action `{}` does not exist in version {VERSION} of cvm.",
                super::request::clip(name)
            ),
        )
    })?;
    match call.version.as_deref() {
        None => return Err(TcError::missing("Version")),
        Some(VERSION) => {}
        Some(other) => {
            return Err(TcError::new(
                "NoSuchVersion",
                format!(
                    "The API version `{}` of cvm does not exist.",
                    super::request::clip(other)
                ),
            ))
        }
    }
    let caller = auth::authenticate(front, req, &call, &body)?;
    let region = call
        .region
        .clone()
        .ok_or_else(|| TcError::missing("Region"))?;
    if !REGION_ALIASES.contains(&region.as_str()) && region != front.services.region {
        return Err(TcError::new(
            "UnsupportedRegion",
            format!(
                "The region `{}` is not supported.",
                super::request::clip(&region)
            ),
        ));
    }
    if action.writes() && !caller.can_write() {
        return Err(TcError::unauthorized(
            action.name(),
            &region,
            &caller.user_id,
            request_id,
        ));
    }
    let (raw, typed) = call.params(&body)?;
    let p = Params::check(action.schema(), raw, typed)?;
    let ctx = Ctx { caller };
    match action {
        Action::Create => keypairs::create(front, &ctx, &p).await,
        Action::Import => keypairs::import(front, &ctx, &p).await,
        Action::Describe => {
            // Key pairs' public fields only: the answer needs no scan for secrets.
            req.extensions_mut().insert(NoSecrets);
            keypairs::describe(front, &ctx, &p).await
        }
        Action::Modify => keypairs::modify(front, &ctx, &p).await,
        Action::Delete => keypairs::delete(front, &ctx, &p).await,
        Action::Associate => instances::bind(front, &ctx, &p, Binding::Associate).await,
        Action::Disassociate => instances::bind(front, &ctx, &p, Binding::Disassociate).await,
    }
}
