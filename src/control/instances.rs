//! `/_novakeys/instances`: the instance registry the cloud fronts bind key pairs to
//! (fronts.md §5). `POST` takes `{"cloud", "name", "user", "project", "region", "os",
//! "state"}` (user and project by name in the Default domain, or by id; region, os and state
//! optional: the default region, linux, running) and answers 201 with the instance.

use super::{error_json, Control};
use crate::domain::instances::NewInstance;
use crate::domain::DomainError;
use crate::store::instances::{Instance, Os, State};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

fn view(i: &Instance) -> Value {
    json!({
        "id": i.id,
        "cloud": i.cloud,
        "name": i.name,
        "user_id": i.user_id,
        "project_id": i.project_id,
        "region": i.region,
        "os": i.os.as_str(),
        "state": i.state.as_str(),
        "key_pair_name": i.key_pair_name,
        "key_pair_bound": i.key_pair_id.is_some(),
        "created_at": i.created_at,
    })
}

fn failed(e: DomainError) -> HttpResponse {
    match e {
        DomainError::NotFound => error_json(StatusCode::NOT_FOUND, "no such instance"),
        DomainError::Invalid(m) => error_json(StatusCode::BAD_REQUEST, &m),
        DomainError::Duplicate => error_json(StatusCode::CONFLICT, "that instance id is taken"),
        other => error_json(StatusCode::INTERNAL_SERVER_ERROR, &other.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    cloud: String,
    name: String,
    user: String,
    project: String,
    region: Option<String>,
    os: Option<String>,
    state: Option<String>,
}

pub async fn create(control: web::Data<Control>, body: web::Bytes) -> HttpResponse {
    let c: Create = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return error_json(StatusCode::BAD_REQUEST, &format!("invalid instance: {e}")),
    };
    let os = match c.os.as_deref().map(Os::parse) {
        None => Os::Linux,
        Some(Some(os)) => os,
        Some(None) => return error_json(StatusCode::BAD_REQUEST, "os is linux or windows"),
    };
    let state = match c.state.as_deref().map(State::parse) {
        None => State::Running,
        Some(Some(s)) => s,
        Some(None) => return error_json(StatusCode::BAD_REQUEST, "state is running or stopped"),
    };
    let st = control.store.clone();
    let (user, project) = (c.user.clone(), c.project.clone());
    // By id, else by name in the Default domain.
    let found = web::block(move || {
        let user = st
            .get_user(&user)
            .ok()
            .flatten()
            .or_else(|| st.get_user_by_name("default", &user).ok().flatten())
            .map(|u| u.id);
        let project = st
            .get_project(&project)
            .ok()
            .flatten()
            .or_else(|| st.get_project_by_name("default", &project).ok().flatten())
            .map(|p| p.id);
        (user, project)
    })
    .await;
    let Ok((Some(user_id), Some(project_id))) = found else {
        return error_json(
            StatusCode::BAD_REQUEST,
            &format!("no user '{}' or no project '{}'", c.user, c.project),
        );
    };
    let new = NewInstance {
        cloud: c.cloud,
        name: c.name,
        user_id,
        project_id,
        region: c.region.unwrap_or_else(|| control.region.clone()),
        os,
        state,
    };
    match control.instances.create(new).await {
        Ok(i) => HttpResponse::Created().json(json!({ "instance": view(&i) })),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    cloud: Option<String>,
}

pub async fn list(control: web::Data<Control>, req: HttpRequest) -> HttpResponse {
    let q = match web::Query::<ListQuery>::from_query(req.query_string()) {
        Ok(q) => q.into_inner(),
        Err(e) => return error_json(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match control.instances.list(q.cloud.as_deref()).await {
        Ok(all) => HttpResponse::Ok()
            .json(json!({ "instances": all.iter().map(view).collect::<Vec<_>>() })),
        Err(e) => failed(e),
    }
}

pub async fn show(control: web::Data<Control>, id: web::Path<String>) -> HttpResponse {
    match control.instances.get(&id).await {
        Ok(i) => HttpResponse::Ok().json(json!({ "instance": view(&i) })),
        Err(e) => failed(e),
    }
}

pub async fn delete(control: web::Data<Control>, id: web::Path<String>) -> HttpResponse {
    match control.instances.delete(&id).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => failed(e),
    }
}
