//! # Limits and quota sets controllers
//!
//! nova/api/openstack/compute/limits.py and quota_sets.py, read-only: only `key_pairs` is
//! configurable here, every other quota shows Nova's defaults (views in `limits.rs` and
//! `quota_sets.rs`).

use super::fault::Fault;
use super::microversion::{select, Microversion as V, VersionRange as R};
use super::reply::Reply;
use super::request::ComputeRequest;
use super::{limits, quota_sets, AuthMode, NovaFront};
use crate::pycompat::jsonschema::{validate, Origin};
use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::{json, Value};
use std::sync::LazyLock;

fn query(param: &str, strict: bool) -> Value {
    json!({"type": "object", "properties": {param: {"type": "array", "items": {"type": "string"}}},
           "additionalProperties": !strict})
}

static LIMITS_V2_1: LazyLock<Value> = LazyLock::new(|| query("tenant_id", false));
static LIMITS_V2_75: LazyLock<Value> = LazyLock::new(|| query("tenant_id", true));
static QUOTA_V2_1: LazyLock<Value> = LazyLock::new(|| query("user_id", false));
static QUOTA_V2_75: LazyLock<Value> = LazyLock::new(|| query("user_id", true));

type Schema = &'static LazyLock<Value>;
const LIMITS_QUERY: &[(R, Schema)] = &[
    (R::new(V::new(2, 1), V::new(2, 74)), &LIMITS_V2_1),
    (R::new(V::new(2, 75), V::MAX), &LIMITS_V2_75),
];
const QUOTA_QUERY: &[(R, Schema)] = &[
    (R::new(V::new(2, 1), V::new(2, 74)), &QUOTA_V2_1),
    (R::new(V::new(2, 75), V::MAX), &QUOTA_V2_75),
];

fn check_query(req: &ComputeRequest, table: &[(R, Schema)]) -> Result<(), Fault> {
    if req.legacy_v2 {
        return Ok(());
    }
    let schema: Schema = select(table, req.version);
    validate(schema, &req.query_instance(), Origin::Query)?;
    Ok(())
}

fn key_pairs_limit(front: &NovaFront) -> i64 {
    front.keypairs.settings().quota.unwrap_or(-1)
}

fn policy(rule: &str) -> Fault {
    Fault::Forbidden(format!("Policy doesn't allow {rule} to be performed."))
}

/// `GET /limits`
pub async fn limits(state: web::Data<NovaFront>, req: ComputeRequest) -> Result<Reply, Fault> {
    check_query(&req, LIMITS_QUERY)?;
    // Any `tenant_id` (even one's own) needs the admin-only other-project rule.
    if req.query.iter().any(|(k, _)| k == "tenant_id") && !req.auth.is_admin() {
        return Err(policy("os_compute_api:limits:other_project"));
    }
    Ok(Reply::json(
        StatusCode::OK,
        &limits::limits_view(req.version, key_pairs_limit(&state)),
    ))
}

/// Which quota-set document is asked for.
#[derive(Clone, Copy, Debug)]
pub enum QuotaView {
    Show,
    Detail,
    Defaults,
}

/// `GET /os-quota-sets/{project_id}[/detail|/defaults]`
pub async fn quota_set(
    state: web::Data<NovaFront>,
    req: ComputeRequest,
    project_id: String,
    view: QuotaView,
) -> Result<Reply, Fault> {
    match view {
        QuotaView::Defaults => {}
        QuotaView::Show | QuotaView::Detail => {
            check_query(&req, QUOTA_QUERY)?;
            // project_reader_or_admin
            let reader = req
                .auth
                .roles
                .iter()
                .any(|r| r == "reader" || r == "member");
            let own = reader && req.auth.project_id == project_id;
            if req.auth.system_scope || !(own || req.auth.is_admin()) {
                let action = if matches!(view, QuotaView::Show) {
                    "show"
                } else {
                    "detail"
                };
                return Err(policy(&format!("os_compute_api:os-quota-sets:{action}")));
            }
        }
    }
    // Nova asks Keystone whether the project exists; without Keystone (noauth) it cannot, and
    // Nova then lets the request through.
    if state.auth == AuthMode::Keystone {
        let pid = project_id.clone();
        let st = state.clone();
        let exists = web::block(move || st.identity.store().get_project(&pid).map(|p| p.is_some()))
            .await
            .map_err(|e| Fault::Internal(format!("blocking task failed: {e}")))??;
        if !exists {
            return Err(Fault::BadRequest(format!(
                "Project ID {project_id} is not a valid project."
            )));
        }
    }
    let limit = key_pairs_limit(&state);
    let body = match view {
        QuotaView::Show => quota_sets::quota_set_view(req.version, &project_id, limit),
        QuotaView::Detail => quota_sets::quota_set_detail_view(req.version, &project_id, limit),
        QuotaView::Defaults => quota_sets::quota_set_defaults_view(req.version, &project_id, limit),
    };
    Ok(Reply::json(StatusCode::OK, &body))
}
