//! The Key Pairs pages: list (filter, sort, pages of 50, batch delete), create (the private
//! key downloads at once, then once more on request, never stored), import (paste or file),
//! details (copy buttons, rename/describe, bind/unbind), delete with a confirmation.
//!
//! A list page reads one page of key pairs and their count (all of them only to filter by
//! name) and the instance registry once; nothing is queried per row.

// A helper's early answer is the page to send (`Err(HttpResponse)`): it lives only on one
// handler's stack, so its size does not matter.
#![allow(clippy::result_large_err)]

use super::params::{self, Form};
use super::session;
use super::views::{
    ConfirmPage, CreatePage, CreatedPage, DetailsPage, ImportPage, InstanceView, KeypairView,
    ListPage, Outcome, OutcomePage, Row,
};
use super::{encode, keypair_href, page, see_other, Ctx};
use crate::domain::{CreateRules, DomainError, KeypairSpec, Material, Page, Principal, Target};
use crate::keys::{Fingerprint, KeyKind, PrivateKeyEncoding, SshKeyOptions};
use crate::store::instances::{Instance, Os, State};
use crate::store::keypairs::Keypair;
use crate::store::keypairs::{KeypairChange, KeypairExtra, Order};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use std::collections::HashMap;
use std::sync::Arc;

const PAGE_SIZE: usize = 50;
/// The comment of a generated public key.
const COMMENT: &str = "Generated-by-novakeys-console";

fn principal(ctx: &Ctx) -> Arc<Principal> {
    ctx.auth
        .as_ref()
        .map(|(_, p)| p.clone())
        .expect("the dispatcher checked the session")
}

fn kind_name(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Ssh => "ssh",
        KeyKind::X509 => "x509",
    }
}

fn created(kp: &Keypair) -> String {
    kp.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The caller's own key pairs (the scope rule), or the page answering why not.
fn target(ctx: &Ctx, p: &Principal) -> Result<Target, HttpResponse> {
    ctx.front
        .services
        .keypairs
        .target(p, None)
        .map_err(|e| domain_error(ctx, e))
}

fn domain_error(ctx: &Ctx, e: DomainError) -> HttpResponse {
    match e {
        DomainError::NotFound => super::not_found(ctx),
        DomainError::Forbidden => super::message(
            ctx.chrome(true, false),
            StatusCode::FORBIDDEN,
            ctx.t.forbidden_title,
            ctx.t.not_allowed,
            true,
        ),
        other => super::failed(ctx, &other),
    }
}

/// `limit` of the owner's key pairs in `order` after `offset`, and how many the owner has in
/// all (one list read and one count; no tags: the list shows none).
async fn window(
    ctx: &Ctx<'_>,
    t: &Target,
    order: Order,
    offset: u64,
    limit: u32,
) -> Result<(Vec<Keypair>, usize), HttpResponse> {
    ctx.front
        .services
        .keypairs
        .list(t, Page::Offset { offset, limit }, order)
        .await
        .map(|l| (l.items, l.total.unwrap_or(0) as usize))
        .map_err(|e| domain_error(ctx, e))
}

fn quota_full(ctx: &Ctx, owned: usize) -> bool {
    ctx.front
        .services
        .keypairs
        .settings()
        .quota
        .is_some_and(|q| owned as i64 >= q)
}

/// The instance registry, read once: every instance with its bound key pair id.
async fn instances(ctx: &Ctx<'_>) -> Result<Vec<Instance>, HttpResponse> {
    ctx.front
        .services
        .instances
        .list(None)
        .await
        .map_err(|e| domain_error(ctx, e))
}

/// The instances a caller may bind: of their project (and their own, when key pairs belong
/// to users).
fn ours(ctx: &Ctx, p: &Principal, i: &Instance) -> bool {
    i.project_id == p.project_id
        && (ctx.front.services.keypairs.settings().scope == crate::domain::KeypairScope::Project
            || i.user_id == p.user_id)
}

pub(super) async fn list(ctx: &Ctx<'_>) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let q = ctx.query_value("q");
    let by_name = ctx.query_value("sort") == "name";
    let number: usize = ctx.query_value("page").parse().unwrap_or(1).max(1);
    let order = if by_name { Order::Name } else { Order::Newest };
    // Unfiltered, only the page is read; a filter reads the owner's key pairs (at most the
    // quota's worth) and matches names here, as Horizon's case-insensitive substring.
    let needle = q.to_lowercase();
    let (shown, matched, owned, number, pages) = if needle.is_empty() {
        let offset = ((number - 1) * PAGE_SIZE) as u64;
        let (mut items, owned) = match window(ctx, &t, order, offset, PAGE_SIZE as u32).await {
            Ok(w) => w,
            Err(r) => return r,
        };
        let pages = owned.div_ceil(PAGE_SIZE).max(1);
        if number > pages {
            // Past the last page (the list shrank): show the last one.
            let offset = ((pages - 1) * PAGE_SIZE) as u64;
            items = match window(ctx, &t, order, offset, PAGE_SIZE as u32).await {
                Ok(w) => w.0,
                Err(r) => return r,
            };
        }
        (items, owned, owned, number.min(pages), pages)
    } else {
        let (all, owned) = match window(ctx, &t, order, 0, u32::MAX).await {
            Ok(w) => w,
            Err(r) => return r,
        };
        let matched: Vec<Keypair> = all
            .into_iter()
            .filter(|k| k.name.to_lowercase().contains(&needle))
            .collect();
        let pages = matched.len().div_ceil(PAGE_SIZE).max(1);
        let number = number.min(pages);
        let total = matched.len();
        let shown = matched
            .into_iter()
            .skip((number - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect();
        (shown, total, owned, number, pages)
    };
    let registry = match instances(ctx).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mut bound: HashMap<i64, Vec<String>> = HashMap::new();
    for i in &registry {
        if let Some(k) = i.key_pair_id {
            bound.entry(k).or_default().push(i.id.clone());
        }
    }
    let href = |n: usize| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if !q.is_empty() {
            s.append_pair("q", &q);
        }
        if by_name {
            s.append_pair("sort", "name");
        }
        s.append_pair("page", &n.to_string());
        format!("/keypairs?{}", s.finish())
    };
    let rows = shown
        .iter()
        .map(|k| Row {
            name: k.name.clone(),
            href: keypair_href(&k.name),
            delete_href: format!("{}/delete", keypair_href(&k.name)),
            kind: kind_name(k.kind),
            fingerprint: k.fingerprint.clone(),
            created: created(k),
            bound: bound.remove(&k.id).unwrap_or_default(),
        })
        .collect();
    let first = if matched == 0 {
        0
    } else {
        (number - 1) * PAGE_SIZE + 1
    };
    page(
        StatusCode::OK,
        &ListPage {
            c: ctx.chrome(true, false),
            rows,
            q: q.clone(),
            by_name,
            first,
            last: (number * PAGE_SIZE).min(matched),
            matched,
            prev_href: (number > 1).then(|| href(number - 1)),
            next_href: (number < pages).then(|| href(number + 1)),
            owned,
            quota: ctx.front.services.keypairs.settings().quota,
            quota_full: quota_full(ctx, owned),
            can_write: p.can_write(),
            flash: None,
        },
    )
}

/// The owner's count, for the create and import pages' quota state.
async fn owned(ctx: &Ctx<'_>, t: &Target) -> Result<usize, HttpResponse> {
    window(ctx, t, Order::Newest, 0, 1).await.map(|w| w.1)
}

/// Why the caller cannot create now: not allowed, or at the quota.
async fn create_refusal(
    ctx: &Ctx<'_>,
    p: &Principal,
    t: &Target,
) -> Result<Option<&'static str>, HttpResponse> {
    if !p.can_write() {
        return Ok(Some(ctx.t.not_allowed));
    }
    let n = owned(ctx, t).await?;
    Ok(quota_full(ctx, n).then_some(ctx.t.quota_reached))
}

fn create_form(ctx: &Ctx, status: StatusCode, mut f: CreatePage) -> HttpResponse {
    f.c = ctx.chrome(true, false);
    page(status, &f)
}

fn blank_create(ctx: &Ctx) -> CreatePage {
    CreatePage {
        c: ctx.chrome(true, false),
        name: String::new(),
        tags: String::new(),
        name_error: None,
        tags_error: None,
        form_error: None,
        pattern: params::NAME_PATTERN,
    }
}

pub(super) async fn create_page(ctx: &Ctx<'_>) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut f = blank_create(ctx);
    f.form_error = match create_refusal(ctx, &p, &t).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    create_form(ctx, StatusCode::OK, f)
}

/// The name's inline error, if any.
fn name_error(ctx: &Ctx, name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some(ctx.t.name_required)
    } else if !params::valid_name(name) {
        Some(ctx.t.name_invalid)
    } else {
        None
    }
}

pub(super) async fn create(ctx: &Ctx<'_>, form: Form) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut f = blank_create(ctx);
    f.name = form.text("name").trim().to_string();
    f.tags = form.text("tags").to_string();
    f.name_error = name_error(ctx, &f.name);
    let tags = params::parse_tags(&f.tags);
    if tags.is_none() {
        f.tags_error = Some(ctx.t.tags_invalid);
    }
    if !p.can_write() {
        f.form_error = Some(ctx.t.not_allowed);
        return create_form(ctx, StatusCode::FORBIDDEN, f);
    }
    let Some(tags) = tags.filter(|_| f.name_error.is_none()) else {
        return create_form(ctx, StatusCode::UNPROCESSABLE_ENTITY, f);
    };
    let spec = KeypairSpec {
        name: f.name.clone(),
        kind: KeyKind::Ssh,
        material: Material::Generate(SshKeyOptions {
            comment: COMMENT.into(),
            encoding: PrivateKeyEncoding::Pkcs1,
        }),
        fingerprint: Fingerprint::Md5,
        extra: KeypairExtra::default(),
        tags,
        rules: CreateRules::default(),
    };
    let created = match ctx.front.services.keypairs.create(&p, &t, spec).await {
        Ok(c) => c,
        Err(DomainError::Duplicate) => {
            f.name_error = Some(ctx.t.name_exists);
            return create_form(ctx, StatusCode::CONFLICT, f);
        }
        Err(DomainError::QuotaExceeded { .. }) => {
            f.form_error = Some(ctx.t.quota_reached);
            return create_form(ctx, StatusCode::FORBIDDEN, f);
        }
        Err(e) => return domain_error(ctx, e),
    };
    let Some(pem) = created.private_key else {
        return super::internal(ctx, &"a generated key pair came without its private key");
    };
    let (s, _) = ctx
        .auth
        .as_ref()
        .expect("the dispatcher checked the session");
    let ticket = session::random_token(&ctx.front.services.determinism);
    let kp = created.keypair;
    ctx.front
        .sessions
        .hold_private_key(&s.id, ticket.clone(), &kp.name, pem);
    let file_name = format!("{}.pem", kp.name);
    page(
        StatusCode::OK,
        &CreatedPage {
            c: ctx.chrome(true, false),
            auto_text: ctx.t.created_auto.replace("NAME.pem", &file_name),
            file_name,
            href: keypair_href(&kp.name),
            ticket,
            fingerprint: kp.fingerprint.clone(),
            public_key: kp.public_key.clone(),
            name: kp.name,
            auto: true,
        },
    )
}

/// `NAME.pem` as an attachment: an ASCII fallback name and the exact one (RFC 6266).
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}.pem\"; filename*=UTF-8''{}.pem",
        encode(name)
    )
}

/// One download of a held private key (the automatic one, or "Download again"); then it is
/// gone.
pub(super) fn download(ctx: &Ctx, form: Form) -> HttpResponse {
    let (s, _) = ctx
        .auth
        .as_ref()
        .expect("the dispatcher checked the session");
    match ctx
        .front
        .sessions
        .download(&s.id, form.text("download_token"))
    {
        Some((name, pem)) => HttpResponse::Ok()
            .content_type("application/x-pem-file")
            .insert_header(("Content-Disposition", attachment(&name)))
            .body(pem.as_bytes().to_vec()),
        None => super::message(
            ctx.chrome(true, false),
            StatusCode::GONE,
            ctx.t.download_again,
            ctx.t.download_gone,
            true,
        ),
    }
}

fn blank_import(ctx: &Ctx) -> ImportPage {
    ImportPage {
        c: ctx.chrome(true, false),
        name: String::new(),
        x509: false,
        public_key: String::new(),
        tags: String::new(),
        name_error: None,
        key_error: None,
        tags_error: None,
        form_error: None,
        pattern: params::NAME_PATTERN,
        max_bytes: params::MAX_PUBLIC_KEY,
    }
}

pub(super) async fn import_page(ctx: &Ctx<'_>) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut f = blank_import(ctx);
    f.form_error = match create_refusal(ctx, &p, &t).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    page(StatusCode::OK, &f)
}

pub(super) async fn import(ctx: &Ctx<'_>, form: Form) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut f = blank_import(ctx);
    f.name = form.text("name").trim().to_string();
    f.x509 = form.text("key_type") == "x509";
    f.tags = form.text("tags").to_string();
    f.name_error = name_error(ctx, &f.name);
    let tags = params::parse_tags(&f.tags);
    if tags.is_none() {
        f.tags_error = Some(ctx.t.tags_invalid);
    }
    // A chosen file wins over the text area (Horizon loads the file into it).
    let raw: Option<String> = match form.file("public_key_file") {
        Some(bytes) if bytes.len() > params::MAX_PUBLIC_KEY => None,
        Some(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        None if form.text("public_key").len() > params::MAX_PUBLIC_KEY => None,
        None => Some(form.text("public_key").to_string()),
    };
    let key = match raw {
        None => {
            f.key_error = Some(ctx.t.key_too_large);
            String::new()
        }
        Some(text) if f.x509 => text.trim().to_string(),
        Some(text) => params::clean_ssh_key(&text),
    };
    if key.is_empty() && f.key_error.is_none() {
        f.key_error = Some(ctx.t.key_required);
    }
    f.public_key = key.clone();
    if !p.can_write() {
        f.form_error = Some(ctx.t.not_allowed);
        return page(StatusCode::FORBIDDEN, &f);
    }
    let Some(tags) = tags.filter(|_| f.name_error.is_none() && f.key_error.is_none()) else {
        return page(StatusCode::UNPROCESSABLE_ENTITY, &f);
    };
    let kind = if f.x509 { KeyKind::X509 } else { KeyKind::Ssh };
    let spec = KeypairSpec {
        name: f.name.clone(),
        kind,
        material: Material::Import(if f.x509 { format!("{key}\n") } else { key }),
        fingerprint: Fingerprint::Md5,
        extra: KeypairExtra::default(),
        tags,
        rules: CreateRules::default(),
    };
    match ctx.front.services.keypairs.create(&p, &t, spec).await {
        Ok(c) => see_other(&format!("{}?done=imported", keypair_href(&c.keypair.name))),
        Err(DomainError::Duplicate) => {
            f.name_error = Some(ctx.t.name_exists);
            page(StatusCode::CONFLICT, &f)
        }
        Err(DomainError::QuotaExceeded { .. }) => {
            f.form_error = Some(ctx.t.quota_reached);
            page(StatusCode::FORBIDDEN, &f)
        }
        Err(DomainError::InvalidKey(_)) => {
            f.key_error = Some(if f.x509 {
                ctx.t.key_invalid_x509
            } else {
                ctx.t.key_invalid_ssh
            });
            page(StatusCode::UNPROCESSABLE_ENTITY, &f)
        }
        Err(e) => domain_error(ctx, e),
    }
}

fn instance_view(i: &Instance, this: i64) -> InstanceView {
    InstanceView {
        id: i.id.clone(),
        name: i.name.clone(),
        cloud: i.cloud.clone(),
        state: i.state.as_str(),
        os: i.os.as_str(),
        other_key: i
            .key_pair_name
            .clone()
            .filter(|_| i.key_pair_id.is_some_and(|k| k != this)),
    }
}

pub(super) async fn details(ctx: &Ctx<'_>, name: &str) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let found = match ctx.front.services.keypairs.get_with_tags(&t, name).await {
        Ok(f) => f,
        Err(e) => return domain_error(ctx, e),
    };
    let registry = match instances(ctx).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let kp = &found.keypair;
    let bound = registry
        .iter()
        .filter(|i| i.key_pair_id == Some(kp.id))
        .map(|i| instance_view(i, kp.id))
        .collect();
    let bindable = registry
        .iter()
        .filter(|i| i.key_pair_id != Some(kp.id) && ours(ctx, &p, i))
        .map(|i| instance_view(i, kp.id))
        .collect();
    let user_name = ctx
        .front
        .services
        .identity
        .store()
        .get_user(&kp.user_id)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_default();
    let flash = match ctx.query_value("done").as_str() {
        "imported" | "saved" => Some(ctx.t.saved),
        "bound" => Some(ctx.t.bound),
        "unbound" => Some(ctx.t.unbound),
        _ => None,
    };
    let error = match ctx.query_value("error").as_str() {
        "windows" => Some(ctx.t.windows_refused),
        "stopped" => Some(ctx.t.must_stop),
        "name" => Some(ctx.t.name_invalid),
        "exists" => Some(ctx.t.name_exists),
        "description" => Some(ctx.t.description_invalid),
        _ => None,
    };
    let href = keypair_href(&kp.name);
    page(
        StatusCode::OK,
        &DetailsPage {
            c: ctx.chrome(true, false),
            kp: KeypairView {
                id: kp.id.to_string(),
                name: kp.name.clone(),
                kind: kind_name(kp.kind),
                fingerprint: kp.fingerprint.clone(),
                created: created(kp),
                user_id: kp.user_id.clone(),
                user_name,
                public_key: kp.public_key.clone(),
                description: kp.extra.description.clone(),
                tags: found
                    .tags
                    .iter()
                    .map(|t| (t.key.clone(), t.value.clone()))
                    .collect(),
            },
            delete_href: format!("{href}/delete"),
            action: href,
            bound,
            bindable,
            can_write: p.can_write(),
            flash,
            error,
            edit_name: kp.name.clone(),
            edit_description: kp.extra.description.clone(),
            pattern: params::NAME_PATTERN,
        },
    )
}

/// The confirmation before deleting one key pair (from its row or its page).
pub(super) fn confirm_one(ctx: &Ctx, name: &str) -> HttpResponse {
    page(
        StatusCode::OK,
        &ConfirmPage {
            c: ctx.chrome(true, false),
            names: vec![name.to_string()],
            back_href: keypair_href(name),
        },
    )
}

/// Batch (and single) delete: without `confirm=yes` the confirmation, with it each name's
/// outcome; bound key pairs are skipped, as Tencent's console does.
pub(super) async fn delete(ctx: &Ctx<'_>, form: Form) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut names = form.all("name");
    names.dedup();
    if names.is_empty() {
        return super::message(
            ctx.chrome(true, false),
            StatusCode::BAD_REQUEST,
            ctx.t.confirm_delete_title,
            ctx.t.nothing_selected,
            true,
        );
    }
    if !p.can_write() {
        return domain_error(ctx, DomainError::Forbidden);
    }
    if form.text("confirm") != "yes" {
        return page(
            StatusCode::OK,
            &ConfirmPage {
                c: ctx.chrome(true, false),
                names,
                back_href: "/keypairs".into(),
            },
        );
    }
    let results = ctx.front.services.keypairs.delete_many(&t, &names).await;
    let deleted = results.iter().filter(|(_, r)| r.is_ok()).count();
    let outcomes = results
        .into_iter()
        .map(|(name, r)| Outcome {
            name,
            ok: r.is_ok(),
            text: match r {
                Ok(()) => ctx.t.outcome_deleted,
                Err(DomainError::InUse) => ctx.t.outcome_bound,
                Err(DomainError::NotFound) => ctx.t.outcome_missing,
                Err(e) => {
                    log::error!("console: deleting a key pair failed: {e}");
                    ctx.t.outcome_failed
                }
            },
        })
        .collect();
    page(
        StatusCode::OK,
        &OutcomePage {
            c: ctx.chrome(true, false),
            outcomes,
            deleted,
        },
    )
}

/// Rename and/or re-describe (Tencent's "Modify"); the id stays.
pub(super) async fn edit(ctx: &Ctx<'_>, name: &str, form: Form) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !p.can_write() {
        return domain_error(ctx, DomainError::Forbidden);
    }
    let back = |error: &str| see_other(&format!("{}?error={error}", keypair_href(name)));
    let new_name = form.text("new_name").trim().to_string();
    let description = form.text("description").trim().to_string();
    if !params::valid_name(&new_name) {
        return back("name");
    }
    if description.chars().count() > 60 {
        return back("description");
    }
    let change = KeypairChange {
        name: (new_name != name).then(|| new_name.clone()),
        description: Some(description),
    };
    match ctx.front.services.keypairs.change(&t, name, change).await {
        Ok(kp) => see_other(&format!("{}?done=saved", keypair_href(&kp.name))),
        Err(DomainError::Duplicate) => back("exists"),
        Err(e) => domain_error(ctx, e),
    }
}

/// Gives an instance of the caller's this key pair, under its cloud's rules: no Windows;
/// Tencent only when stopped (or force-stopped first).
pub(super) async fn bind(ctx: &Ctx<'_>, name: &str, form: Form) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !p.can_write() {
        return domain_error(ctx, DomainError::Forbidden);
    }
    let services = &ctx.front.services;
    let kp = match services.keypairs.get(&t, name).await {
        Ok(kp) => kp,
        Err(e) => return domain_error(ctx, e),
    };
    let instance = match services.instances.get(form.text("instance")).await {
        Ok(i) if ours(ctx, &p, &i) => i,
        Ok(_) => return super::not_found(ctx),
        Err(e) => return domain_error(ctx, e),
    };
    let back = |what: &str| see_other(&format!("{}?{what}", keypair_href(&kp.name)));
    if instance.os == Os::Windows {
        return back("error=windows");
    }
    if instance.cloud == "tencent" && instance.state == State::Running {
        if form.text("force_stop") != "1" {
            return back("error=stopped");
        }
        if let Err(e) = services
            .instances
            .set_state(&instance.id, State::Stopped)
            .await
        {
            return domain_error(ctx, e);
        }
    }
    match services.instances.bind(&instance.id, &kp).await {
        Ok(()) => back("done=bound"),
        Err(e) => domain_error(ctx, e),
    }
}

pub(super) async fn unbind(ctx: &Ctx<'_>, name: &str, form: Form) -> HttpResponse {
    let p = principal(ctx);
    let t = match target(ctx, &p) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !p.can_write() {
        return domain_error(ctx, DomainError::Forbidden);
    }
    let services = &ctx.front.services;
    let kp = match services.keypairs.get(&t, name).await {
        Ok(kp) => kp,
        Err(e) => return domain_error(ctx, e),
    };
    match services.instances.get(form.text("instance")).await {
        Ok(i) if i.key_pair_id == Some(kp.id) => {}
        Ok(_) => return super::not_found(ctx),
        Err(e) => return domain_error(ctx, e),
    }
    match services.instances.unbind(form.text("instance")).await {
        Ok(()) => see_other(&format!("{}?done=unbound", keypair_href(&kp.name))),
        Err(e) => domain_error(ctx, e),
    }
}
