//! `GET /v3/role_assignments` (with `effective` and `include_names`).

use super::common::*;
use super::error::IdentityError;
use super::{Reply, Req};
use crate::domain::identity::*;
use crate::store::identity::*;
use serde_json::{json, Map, Value};

pub(super) fn role_assignments(
    id: &Identity,
    r: &Req,
    me: &ValidToken,
) -> Result<Reply, IdentityError> {
    require_admin(me, "list_role_assignments")?;
    let names = r.flag("include_names");
    let effective = r.has_query("effective") && r.flag("effective");
    let st = id.store();
    let (assignments, roles, users, projects, domains) = (
        st.list_assignments()?,
        st.list_roles()?,
        st.list_users()?,
        st.list_projects()?,
        st.list_domains()?,
    );
    let implied = implications(&roles);
    let domain_ref = |did: &str| {
        let name = domains.iter().find(|d| d.id == did).map(|d| d.name.clone());
        json!({"id": did, "name": name})
    };
    let base = &r.base;
    let mut items = Vec::new();
    for a in &assignments {
        if r.query("user.id").is_some_and(|u| u != a.user_id) {
            continue;
        }
        match &a.target {
            Target::Project(p) => {
                if r.query("scope.project.id").is_some_and(|x| x != p)
                    || r.has_query("scope.domain.id")
                    || r.has_query("scope.system")
                {
                    continue;
                }
            }
            Target::Domain(d) => {
                if r.query("scope.domain.id").is_some_and(|x| x != d)
                    || r.has_query("scope.project.id")
                    || r.has_query("scope.system")
                {
                    continue;
                }
            }
            Target::System => {
                if r.has_query("scope.project.id") || r.has_query("scope.domain.id") {
                    continue;
                }
            }
        }
        let link = match &a.target {
            Target::Project(p) => format!(
                "{base}/v3/projects/{p}/users/{}/roles/{}",
                a.user_id, a.role_id
            ),
            Target::Domain(d) => format!(
                "{base}/v3/domains/{d}/users/{}/roles/{}",
                a.user_id, a.role_id
            ),
            Target::System => format!("{base}/v3/system/users/{}/roles/{}", a.user_id, a.role_id),
        };
        let scope = match &a.target {
            Target::Project(p) => {
                if names {
                    let proj = projects.iter().find(|x| &x.id == p);
                    json!({"project": {"id": p, "name": proj.map(|x| x.name.clone()),
                        "domain": domain_ref(proj.map(|x| x.domain_id.as_str()).unwrap_or(""))}})
                } else {
                    json!({"project": {"id": p}})
                }
            }
            Target::Domain(d) => {
                if names {
                    json!({ "domain": domain_ref(d) })
                } else {
                    json!({"domain": {"id": d}})
                }
            }
            Target::System => json!({"system": {"all": true}}),
        };
        let user = if names {
            let u = users.iter().find(|u| u.id == a.user_id);
            json!({"id": a.user_id, "name": u.map(|u| u.name.clone()),
                   "domain": domain_ref(u.map(|u| u.domain_id.as_str()).unwrap_or(""))})
        } else {
            json!({"id": a.user_id})
        };
        let role_ref = |rid: &str| {
            if names {
                let name = roles.iter().find(|x| x.id == rid).map(|x| x.name.clone());
                json!({"id": rid, "name": name})
            } else {
                json!({ "id": rid })
            }
        };
        let mut emit = |role_id: &str, prior: Option<&str>| {
            if r.query("role.id").is_some_and(|x| x != role_id) {
                return;
            }
            let mut l = Map::new();
            l.insert("assignment".into(), json!(link));
            if let Some(prior) = prior {
                // keystone renders the implied role first here.
                l.insert(
                    "prior_role".into(),
                    json!(format!("{base}/v3/prior_role/{role_id}/implies/{prior}")),
                );
            }
            items.push(json!({"links": Value::Object(l), "scope": scope, "user": user, "role": role_ref(role_id)}));
        };
        emit(&a.role_id, None);
        if effective {
            // Walk the implication chain from this grant.
            let mut frontier = vec![a.role_id.clone()];
            let mut seen = vec![a.role_id.clone()];
            while let Some(prior) = frontier.pop() {
                for (p, i) in implied.iter().filter(|(p, _)| p.id == prior) {
                    if !seen.contains(&i.id) {
                        seen.push(i.id.clone());
                        emit(&i.id, Some(&p.id));
                        frontier.push(i.id.clone());
                    }
                }
            }
        }
    }
    Ok(list_reply("role_assignments", items, r))
}
