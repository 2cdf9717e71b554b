//! A realm's signing keys: the published keys (active first) and rotation behind a
//! confirmation (`GET`/`POST /admin/realms/{realm}/keys/rotate`).

use admin_model::KeyView;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;

use crate::auth::{Admin, AdminForm};
use crate::layout::{Confirm, Layout, Section};
use crate::paths;
use crate::widgets::{Badge, MaybeTime, Time};
use crate::Ctx;

pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
    router.route("/admin/realms/{realm}/keys", get(list)).route(
        "/admin/realms/{realm}/keys/rotate",
        get(confirm_rotate).post(rotate),
    )
}

#[derive(Clone)]
struct KeysData {
    realm: String,
    keys: Vec<KeyView>,
}

async fn list(admin: Admin, Path(realm): Path<String>) -> Response {
    match admin.ctx.port.list_keys(&realm).await {
        Ok(keys) => {
            let data = KeysData {
                realm: realm.clone(),
                keys,
            };
            admin
                .page(StatusCode::OK, Some(&realm), Section::Keys, data, page)
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Keys, e).await,
    }
}

fn page(d: KeysData) -> impl IntoView {
    let rotate = paths::section(&d.realm, "keys/rotate");
    let body = if d.keys.is_empty() {
        view! { <div class="empty"><p>"No published keys — rotating creates the first ones"</p></div> }
            .into_any()
    } else {
        let rows = d
            .keys
            .into_iter()
            .map(|k| {
                let status = if k.active {
                    view! { <Badge kind="ok" text="Active"/> }
                } else {
                    view! { <Badge kind="off" text="Retired"/> }
                };
                view! {
                    <tr class="key-row" data-kid=k.kid.clone() data-active=k.active.to_string() data-key=k.kid.clone()>
                        <td><code class="kid" title=k.kid.clone()>{k.kid.clone()}</code></td>
                        <td>{k.alg.clone()}</td>
                        <td>{status}</td>
                        <td><Time at=k.created_at short=true/></td>
                        <td><MaybeTime at=k.retired_at short=true/></td>
                        <td><MaybeTime at=k.publish_until short=true/></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="list">
                    <thead>
                        <tr>
                            <th scope="col">"Key ID"</th>
                            <th scope="col">"Algorithm"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col">"Retired"</th>
                            <th scope="col">"Published until"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let actions = view! { <a class="button" href=rotate>"Rotate keys"</a> }.into_any();
    view! {
        <Layout title="Signing keys" actions=Some(actions)>
            <p class="lead muted">
                "Active keys sign new tokens. Retired keys stay in the JWKS until every token they signed has expired. Times are UTC."
            </p>
            {body}
        </Layout>
    }
}

async fn confirm_rotate(admin: Admin, Path(realm): Path<String>) -> Response {
    if let Err(e) = admin.ctx.port.get_realm(&realm).await {
        return admin.fail(Some(&realm), Section::Keys, e).await;
    }
    let confirm = Confirm {
        title: "Rotate keys".into(),
        verb: "Rotate the signing keys of realm".into(),
        key: realm.clone(),
        consequence: "New tokens are signed with new keys at once; the current keys stay published until the tokens they signed expire.".into(),
        action: paths::section(&realm, "keys/rotate"),
        button: "Rotate keys".into(),
        danger: false,
        cancel: paths::section(&realm, "keys"),
    };
    admin.confirm(Some(&realm), Section::Keys, confirm).await
}

async fn rotate(Path(realm): Path<String>, f: AdminForm) -> Response {
    let admin = f.admin;
    match admin.ctx.port.rotate_keys(&admin.actor, &realm).await {
        Ok(_) => {
            let flash = "New signing keys published.".to_string();
            admin
                .redirect(&paths::section(&realm, "keys"), Some(flash))
                .await
        }
        Err(e) => admin.fail(Some(&realm), Section::Keys, e).await,
    }
}
