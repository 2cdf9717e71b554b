//! Who is asking: the [`Admin`] extractor (signed in and still an administrator, or a 303 to
//! the sign-in page) and the [`AdminForm`] extractor (the same, plus a form body whose CSRF
//! token matches the session's, or a 403). Every console handler past sign-in takes one.

use admin_model::{Actor, AdminError, PageRequest};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use leptos::prelude::IntoView;

use crate::csrf;
use crate::form_data::{sentence, FormData};
use crate::layout::{confirm_page, problem_page, Chrome, Confirm, Problem, Section};
use crate::paths;
use crate::render;
use crate::session::{AdminSession, SessionError};
use crate::Ctx;

/// How many realms the switcher lists.
const SWITCHER_REALMS: u32 = 500;
/// The largest form body the console accepts.
const FORM_LIMIT: usize = 256 * 1024;

/// A signed-in administrator and their session.
#[derive(Clone)]
pub struct Admin {
    pub actor: Actor,
    pub session: AdminSession,
    pub ctx: Ctx,
    /// The request being answered, for the renderer.
    pub head: Parts,
}

/// A 500 page that needs no session.
pub async fn broken(head: &Parts) -> Response {
    render::page(
        head,
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        Problem {
            title: "Something went wrong".into(),
            message: "The console could not complete the request. Try again in a moment.".into(),
        },
        problem_page,
    )
    .await
}

/// Sends the browser to sign in, and back to `next` afterwards.
fn to_login(session: &AdminSession, next: Option<&str>) -> Response {
    let location = match next.filter(|n| paths::safe_next(n) && *n != paths::HOME) {
        Some(next) => format!("{}?next={}", paths::LOGIN, paths::enc(next)),
        None => paths::LOGIN.to_string(),
    };
    render::with_cookie(render::see_other(&location), session.clear_cookie())
}

impl FromRequestParts<Ctx> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let session = AdminSession::from_headers(&ctx.store, &parts.headers, ctx.secure_cookies);
        // Only a GET can be replayed after sign-in.
        let next = (parts.method == Method::GET).then(|| {
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default()
        });
        let actor = match session.actor().await {
            Ok(Some(actor)) => actor,
            Ok(None) => return Err(to_login(&session, next.as_deref())),
            Err(_) => return Err(broken(parts).await),
        };
        match ctx.port.still_admin(&actor).await {
            Ok(true) => {}
            Ok(false) | Err(AdminError::Unauthorized(_) | AdminError::Forbidden(_)) => {
                tracing::info!(admin = %actor.name, "console session ended: no longer an administrator");
                if session.sign_out().await.is_err() {
                    return Err(broken(parts).await);
                }
                return Err(to_login(&session, None));
            }
            Err(_) => return Err(broken(parts).await),
        }
        Ok(Admin {
            actor,
            session,
            ctx: ctx.clone(),
            head: parts.clone(),
        })
    }
}

impl Admin {
    /// The frame of a page in `realm` (or the last realm visited), consuming the flash and
    /// pushing the session's idle expiry forward.
    pub async fn chrome(
        &self,
        realm: Option<&str>,
        section: Section,
    ) -> Result<Chrome, SessionError> {
        let realms = self
            .ctx
            .port
            .list_realms(PageRequest {
                limit: Some(SWITCHER_REALMS),
                cursor: None,
            })
            .await
            .map(|p| p.items.into_iter().map(|r| r.name).collect::<Vec<_>>())
            .unwrap_or_default();
        let realm = match realm {
            Some(realm) => {
                if realms.iter().any(|r| r == realm) {
                    self.session.remember_realm(realm).await?;
                }
                realm.to_string()
            }
            None => self
                .session
                .last_realm()
                .await?
                .filter(|r| realms.contains(r))
                .unwrap_or_else(|| "master".to_string()),
        };
        let flash = self.session.take_flash().await?;
        let csrf = self.session.csrf_token().await?;
        self.session.touch().await?;
        Ok(Chrome {
            admin: self.actor.name.clone(),
            csrf,
            realms,
            realm,
            section,
            flash,
        })
    }

    /// Renders a page inside the frame.
    pub async fn page<D, V>(
        &self,
        status: StatusCode,
        realm: Option<&str>,
        section: Section,
        data: D,
        view: fn(D) -> V,
    ) -> Response
    where
        D: Clone + Send + Sync + 'static,
        V: IntoView + 'static,
    {
        let chrome = match self.chrome(realm, section).await {
            Ok(chrome) => chrome,
            Err(_) => return broken(&self.head).await,
        };
        let response = render::page(&self.head, status, Some(chrome), data, view).await;
        render::with_cookie(response, self.session.set_cookie())
    }

    /// A confirmation page before a destructive action.
    pub async fn confirm(
        &self,
        realm: Option<&str>,
        section: Section,
        confirm: Confirm,
    ) -> Response {
        self.page(StatusCode::OK, realm, section, confirm, confirm_page)
            .await
    }

    /// The page for an operation the service refused outside a form.
    pub async fn fail(&self, realm: Option<&str>, section: Section, error: AdminError) -> Response {
        let title = match &error {
            AdminError::NotFound(_) => "Not found",
            AdminError::Forbidden(_) => "Not allowed",
            AdminError::Conflict(_) => "Cannot do that",
            AdminError::BadRequest(_) | AdminError::Invalid { .. } => "Cannot do that",
            AdminError::Unauthorized(_) => {
                return match self.session.sign_out().await {
                    Ok(()) => to_login(&self.session, None),
                    Err(_) => broken(&self.head).await,
                };
            }
            AdminError::Internal => "Something went wrong",
        };
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let problem = Problem {
            title: title.into(),
            message: sentence(&error.to_string()),
        };
        // A missing realm must not become the navigation's realm.
        let realm = match &error {
            AdminError::NotFound(_) => None,
            _ => realm,
        };
        self.page(status, realm, section, problem, problem_page)
            .await
    }

    /// A 303 to `location`, leaving `flash` for the page it shows.
    pub async fn redirect(&self, location: &str, flash: Option<String>) -> Response {
        if let Some(flash) = flash {
            if self.session.set_flash(flash).await.is_err() {
                return broken(&self.head).await;
            }
        }
        render::see_other(location)
    }
}

/// A signed-in administrator's form submission with a valid CSRF token.
pub struct AdminForm {
    pub admin: Admin,
    pub form: FormData,
}

impl FromRequest<Ctx> for AdminForm {
    type Rejection = Response;

    async fn from_request(request: Request, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let admin = Admin::from_request_parts(&mut parts, ctx).await?;
        let request = Request::from_parts(parts, body);
        let bytes = match Bytes::from_request(request, ctx).await {
            Ok(bytes) if bytes.len() <= FORM_LIMIT => bytes,
            _ => {
                return Err(admin
                    .fail(
                        None,
                        Section::Dashboard,
                        AdminError::BadRequest("the form could not be read".into()),
                    )
                    .await)
            }
        };
        let form = FormData::parse(&bytes);
        if !admin.session.csrf_matches(form.get(csrf::FIELD)).await {
            return Err(forbidden(&admin).await);
        }
        Ok(AdminForm { admin, form })
    }
}

/// The 403 of a form whose CSRF token does not match.
async fn forbidden(admin: &Admin) -> Response {
    let problem = Problem {
        title: "Form expired".into(),
        message: "This form was not sent from this console session. Go back, reload the page and try again.".into(),
    };
    admin
        .page(
            StatusCode::FORBIDDEN,
            None,
            Section::Dashboard,
            problem,
            problem_page,
        )
        .await
}
