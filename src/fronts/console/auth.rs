//! Log-in (Horizon's form: user name, password, domain), the project switch, log-out and the
//! language switch.

use super::params::{local_path, Form};
use super::session::{self, Session};
use super::{page, see_other, views, Ctx};
use crate::domain::identity::LoggedIn;
use crate::domain::DomainError;
use actix_web::http::header::SET_COOKIE;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

/// The domain the form starts with (Keystone's default domain, as Horizon shows it).
const DEFAULT_DOMAIN: &str = "Default";

fn add_cookie(resp: &mut HttpResponse, cookie: &str) {
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

fn login_form(
    ctx: &Ctx,
    status: StatusCode,
    error: Option<&'static str>,
    user_name: &str,
    domain: &str,
) -> HttpResponse {
    // The log-in form's own CSRF token: a double-submit cookie (another origin can neither
    // read the form nor set our cookie).
    let token = session::cookie(ctx.req, session::LOGIN_COOKIE)
        .filter(|t| t.len() >= 32)
        .map(str::to_string)
        .unwrap_or_else(|| session::random_token(&ctx.front.services.determinism));
    let mut resp = page(
        status,
        &views::LoginPage {
            c: ctx.chrome(false, false),
            error,
            user_name: user_name.to_string(),
            domain: domain.to_string(),
            login_csrf: token.clone(),
        },
    );
    add_cookie(
        &mut resp,
        &session::set_cookie(session::LOGIN_COOKIE, &token, "/login"),
    );
    resp
}

pub(super) fn login_page(ctx: &Ctx) -> HttpResponse {
    if ctx.auth.is_some() {
        return see_other("/keypairs");
    }
    let ended = ctx.query_value("ended") == "1";
    login_form(
        ctx,
        StatusCode::OK,
        ended.then_some(ctx.t.session_ended),
        "",
        DEFAULT_DOMAIN,
    )
}

pub(super) async fn log_in(ctx: &Ctx<'_>, form: Form) -> HttpResponse {
    let expected = session::cookie(ctx.req, session::LOGIN_COOKIE).unwrap_or("");
    if !session::same(form.text("csrf_token"), expected) {
        return super::refused(ctx);
    }
    let user_name = form.text("username").trim().to_string();
    let domain = match form.text("domain").trim() {
        "" => DEFAULT_DOMAIN.to_string(),
        d => d.to_string(),
    };
    let password = zeroize::Zeroizing::new(form.text("password").to_string());
    let identity = ctx.front.services.identity.clone();
    let (u, d) = (user_name.clone(), domain.clone());
    // bcrypt and the identity reads block: off the async workers.
    let outcome = web::block(move || -> Result<_, DomainError> {
        let logged = identity.log_in(&u, &d, &password)?;
        let Some(project) = pick_project(&logged) else {
            return Ok(Err(logged));
        };
        let (token, valid) = identity.issue_project_token(&logged.user.id, &project.0, None)?;
        Ok(Ok((logged, project, token, valid.claims.exp)))
    })
    .await;
    let (logged, project, token, exp) = match outcome {
        Ok(Ok(Ok(ok))) => ok,
        Ok(Ok(Err(_no_projects))) => {
            return login_form(
                ctx,
                StatusCode::UNAUTHORIZED,
                Some(ctx.t.no_projects),
                &user_name,
                &domain,
            )
        }
        Ok(Err(DomainError::Forbidden)) => {
            return login_form(
                ctx,
                StatusCode::UNAUTHORIZED,
                Some(ctx.t.invalid_credentials),
                &user_name,
                &domain,
            )
        }
        Ok(Err(e)) => return super::failed(ctx, &e),
        Err(e) => return super::internal(ctx, &e),
    };
    // A new log-in never reuses a session id (no fixation); the old session goes.
    if let Some(old) = session::cookie(ctx.req, session::SESSION_COOKIE) {
        ctx.front.sessions.remove(old);
    }
    let det = &ctx.front.services.determinism;
    let s = Session {
        id: session::random_token(det),
        csrf: session::random_token(det),
        token,
        exp,
        user_id: logged.user.id.clone(),
        user_name: logged.user.name.clone(),
        domain_name: logged.domain.name.clone(),
        project_id: project.0,
        project_name: project.1,
        projects: logged
            .projects
            .iter()
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect(),
    };
    let s = ctx.front.sessions.put(s, det.timestamp());
    let mut resp = see_other("/keypairs");
    add_cookie(
        &mut resp,
        &session::set_cookie(session::SESSION_COOKIE, &s.id, "/"),
    );
    add_cookie(
        &mut resp,
        &session::clear_cookie(session::LOGIN_COOKIE, "/login"),
    );
    resp
}

/// Horizon's choice after log-in: the user's default project when they may use it, else the
/// first by name. None: no project at all.
fn pick_project(logged: &LoggedIn) -> Option<(String, String)> {
    let default = logged.user.default_project_id.as_deref();
    logged
        .projects
        .iter()
        .find(|p| Some(p.id.as_str()) == default)
        .or_else(|| logged.projects.first())
        .map(|p| (p.id.clone(), p.name.clone()))
}

pub(super) async fn log_out(ctx: &Ctx<'_>) -> HttpResponse {
    if let Some((s, _)) = &ctx.auth {
        ctx.front.sessions.remove(&s.id);
        let identity = ctx.front.services.identity.clone();
        let token = s.token.clone();
        // The token is revoked, not just forgotten: a copy of it stops working too.
        if let Ok(Err(e)) = web::block(move || identity.revoke(&token)).await {
            log::warn!("console: revoking a token at log-out failed: {e}");
        }
    }
    let mut resp = see_other("/login");
    add_cookie(
        &mut resp,
        &session::clear_cookie(session::SESSION_COOKIE, "/"),
    );
    resp
}

/// A rescope to another of the user's projects: a new token with the old one's expiry; the
/// old token is revoked.
pub(super) async fn switch_project(ctx: &Ctx<'_>, form: Form) -> HttpResponse {
    let Some((s, _)) = &ctx.auth else {
        return see_other("/login");
    };
    let wanted = form.text("project");
    let Some((pid, pname)) = s.projects.iter().find(|(id, _)| id == wanted).cloned() else {
        return super::not_found(ctx);
    };
    if pid == s.project_id {
        return see_other("/keypairs");
    }
    let identity = ctx.front.services.identity.clone();
    let (user, old, exp, p) = (s.user_id.clone(), s.token.clone(), s.exp, pid.clone());
    let issued = web::block(move || -> Result<String, DomainError> {
        let (token, _) = identity.issue_project_token(&user, &p, Some(exp))?;
        identity.revoke(&old)?;
        Ok(token)
    })
    .await;
    let token = match issued {
        Ok(Ok(t)) => t,
        Ok(Err(DomainError::Forbidden)) => return super::not_found(ctx),
        Ok(Err(e)) => return super::failed(ctx, &e),
        Err(e) => return super::internal(ctx, &e),
    };
    let mut next = (**s).clone();
    next.token = token;
    next.project_id = pid;
    next.project_name = pname;
    ctx.front
        .sessions
        .put(next, ctx.front.services.determinism.timestamp());
    see_other("/keypairs")
}

/// Sets the language cookie and returns to the page the switch was on. Logged in, the
/// session's CSRF token is required; on the log-in page the origin check alone guards it (it
/// changes nothing but the language).
pub(super) fn switch_language(ctx: &Ctx, form: Form) -> HttpResponse {
    if ctx.auth.is_some() && !ctx.csrf_ok(&form) {
        return super::refused(ctx);
    }
    let code = match form.text("lang") {
        "zh-TW" => "zh-TW",
        _ => "en",
    };
    let mut resp = see_other(local_path(form.text("next")));
    add_cookie(&mut resp, &session::lang_cookie(code));
    resp
}
