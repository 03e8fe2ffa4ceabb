//! The Activity page (admins): the request journal of every front, newest first, filterable,
//! each entry expandable to its redacted bodies. The console's own requests are left out
//! unless asked for (viewing this page would otherwise fill it).

use super::views::{ActivityPage, EntryView, FrontOption};
use super::{page, Ctx};
use crate::http::ActivityFilter;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::Value;
use std::collections::HashMap;

/// Entries shown at most (the newest).
const SHOWN: usize = 200;
/// Each body shown at most, in characters.
const BODY_CHARS: usize = 8192;

const FRONTS: &[&str] = &[
    "compute", "identity", "alibaba", "tencent", "twcc", "console",
];

fn text(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    if s.chars().count() > BODY_CHARS {
        let mut cut: String = s.chars().take(BODY_CHARS).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

fn field<'a>(e: &'a Value, name: &str) -> &'a str {
    e.get(name).and_then(Value::as_str).unwrap_or("")
}

async fn render(ctx: &Ctx<'_>) -> HttpResponse {
    let query = ctx.query();
    let get = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (front, method, path, status) = (get("front"), get("method"), get("path"), get("status"));
    let include_console = get("console") == "1" || front == "console";
    let filter = ActivityFilter {
        method: Some(method.clone()).filter(|m| !m.is_empty()),
        path: Some(path.clone()).filter(|p| !p.is_empty()),
        status: Some(status.clone()).filter(|s| !s.is_empty()),
        since: None,
    };
    let entries = ctx.front.activity.entries(&filter);
    let users: HashMap<String, String> = ctx
        .front
        .services
        .identity
        .store()
        .list_users()
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let kept: Vec<&Value> = entries
        .iter()
        .rev()
        .filter(|e| {
            let api = field(e, "api");
            (front.is_empty() || api == front) && (include_console || api != "console")
        })
        .collect();
    let matched = kept.len();
    let views: Vec<EntryView> = kept
        .into_iter()
        .take(SHOWN)
        .map(|e| {
            let user_id = field(e, "user_id");
            let code = e.get("status").and_then(Value::as_u64).unwrap_or(0);
            let ms = e.get("duration_ms").and_then(Value::as_f64).unwrap_or(0.0);
            EntryView {
                seq: e.get("seq").map(Value::to_string).unwrap_or_default(),
                time: field(e, "time").replace('T', " "),
                front: field(e, "api").to_string(),
                user: users
                    .get(user_id)
                    .cloned()
                    .unwrap_or_else(|| user_id.to_string()),
                action: format!("{} {}", field(e, "method"), field(e, "path")),
                query: field(e, "query").to_string(),
                status: code.to_string(),
                failed: code >= 400,
                duration: format!("{ms:.1} ms"),
                request: text(e.get("request_body").unwrap_or(&Value::Null)),
                response: text(e.get("response_body").unwrap_or(&Value::Null)),
            }
        })
        .collect();
    page(
        StatusCode::OK,
        &ActivityPage {
            c: ctx.chrome(false, true),
            shown: views.len(),
            entries: views,
            fronts: FRONTS
                .iter()
                .map(|f| FrontOption {
                    name: f,
                    selected: *f == front,
                })
                .collect(),
            all_fronts: front.is_empty(),
            method,
            path,
            status,
            include_console,
            matched,
        },
    )
}

pub(super) async fn show(ctx: &Ctx<'_>) -> HttpResponse {
    let admin = ctx.auth.as_ref().is_some_and(|(_, p)| p.is_admin());
    if !admin {
        return super::message(
            ctx.chrome(false, true),
            StatusCode::FORBIDDEN,
            ctx.t.forbidden_title,
            ctx.t.forbidden_text,
            true,
        );
    }
    render(ctx).await
}
