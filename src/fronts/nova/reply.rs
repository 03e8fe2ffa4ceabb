//! A successful compute answer: status and a body rendered like Python's `json.dumps` (faults
//! are `Fault`).

use crate::pycompat::pyjson;
use actix_web::http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::Value;

pub struct Reply {
    status: StatusCode,
    body: Option<actix_web::web::Bytes>,
    /// The body is a public view (see `http::NoSecrets`).
    public: bool,
}

impl Reply {
    pub fn json(status: StatusCode, value: &Value) -> Reply {
        Reply {
            status,
            body: Some(pyjson::to_vec(value).into()),
            public: false,
        }
    }
    /// Any serializable body, rendered like `json` (Python's `json.dumps`).
    pub fn serialize<T: serde::Serialize>(status: StatusCode, body: &T) -> Reply {
        Reply {
            status,
            body: Some(pyjson::to_vec(body).into()),
            public: false,
        }
    }
    /// A body rendered earlier (see `keypairs::rendered`): only public views are cached.
    pub fn rendered(status: StatusCode, body: actix_web::web::Bytes) -> Reply {
        Reply {
            status,
            body: Some(body),
            public: true,
        }
    }
    /// Marks the body as a public view (a key pair without its private key, a list of them),
    /// which the journal need not scan for secrets.
    pub fn public(mut self) -> Reply {
        self.public = true;
        self
    }
    pub fn body(&self) -> Option<&actix_web::web::Bytes> {
        self.body.as_ref()
    }
    /// An empty body that still says `application/json` (Nova's 202/204).
    pub fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            body: None,
            public: false,
        }
    }
    pub(super) fn response(self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
        static ZERO: HeaderValue = HeaderValue::from_static("0");
        r.insert_header((CONTENT_TYPE, APPLICATION_JSON.clone()));
        if self.public {
            r.extensions_mut().insert(crate::http::NoSecrets);
        }
        match self.body {
            Some(body) => r.body(body),
            None => r.insert_header((CONTENT_LENGTH, ZERO.clone())).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vouched(r: Reply) -> bool {
        r.response()
            .extensions()
            .contains::<crate::http::NoSecrets>()
    }

    /// Only the views said to be public skip the journal's secret scan: a create answer (which
    /// may carry a generated private key) is always scanned.
    #[test]
    fn only_public_views_are_vouched_for() {
        let v = serde_json::json!({"keypair": {"private_key": "-----BEGIN"}});
        assert!(!vouched(Reply::json(StatusCode::CREATED, &v)));
        assert!(!vouched(Reply::serialize(StatusCode::OK, &v)));
        assert!(!vouched(Reply::empty(StatusCode::ACCEPTED)));
        assert!(vouched(Reply::json(StatusCode::OK, &v).public()));
        assert!(vouched(Reply::rendered(StatusCode::OK, "{}".into())));
    }
}
