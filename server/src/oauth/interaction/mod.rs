//! A pending login, kept on the server (compare node-oidc-provider's interactions and Keycloak's
//! authentication sessions): what the browser is signing in for (an authorization request or a
//! device approval), the user once known, and the steps done. The browser carries only an
//! opaque handle, stored as its hash and honoured only by the browser session that started it.
//!
//! Each step is one module with the same shape — `due` says whether the step must still happen
//! for a request, `when_prompt_none` is the error a `prompt=none` request gets instead — and one
//! page under `web/`. Adding a factor or an upstream provider is one more [`Step`].

pub mod consent;
pub mod login;
pub mod second_factor;
pub mod update_password;
pub mod verify_email;

use chrono::{DateTime, Duration, Utc};

use super::authorize::AuthorizeRequest;
use super::error::OAuthError;
use crate::crypto::{b64url, random, sha256};
use crate::domain::Realm;
use crate::sessions::{BrowserSession, SignIn};
use crate::state::{AppState, RealmCtx};
use crate::store::{self, interactions::StoredInteraction};

/// How long a started login may take (Keycloak's login timeout is of the same order).
const LIFETIME: Duration = Duration::minutes(30);

/// The largest request a pending login keeps: anyone may start one, so what it stores is
/// bounded. Far above any real authorization request (request objects are not supported).
const MAX_STORED_REQUEST: usize = 16 * 1024;

/// One step of a login, in the order they are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The user proves who they are (password).
    Login,
    /// The user gives a second factor (or enrols one).
    SecondFactor,
    /// The user sets a new password an administrator asked for.
    UpdatePassword,
    /// The user opens a link mailed to their address.
    VerifyEmail,
    /// The user allows the client what it asks for.
    Consent,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Login,
        Step::SecondFactor,
        Step::UpdatePassword,
        Step::VerifyEmail,
        Step::Consent,
    ];

    /// The step's name in records and its page's path under the realm.
    pub fn name(self) -> &'static str {
        match self {
            Step::Login => "login",
            Step::SecondFactor => "second-factor",
            Step::UpdatePassword => "update-password",
            Step::VerifyEmail => "verify-email",
            Step::Consent => "consent",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the step must still happen for the request.
    pub async fn due(self, situation: &Situation<'_>) -> Result<bool, OAuthError> {
        match self {
            Step::Login => login::due(situation),
            Step::SecondFactor => second_factor::due(situation).await,
            Step::UpdatePassword => update_password::due(situation).await,
            Step::VerifyEmail => verify_email::due(situation).await,
            Step::Consent => consent::due(situation).await,
        }
    }

    /// What a request that forbids interaction (`prompt=none`) gets when this step is due.
    pub fn when_prompt_none(self) -> OAuthError {
        match self {
            Step::Login => login::when_prompt_none(),
            Step::SecondFactor => second_factor::when_prompt_none(),
            Step::UpdatePassword => update_password::when_prompt_none(),
            Step::VerifyEmail => verify_email::when_prompt_none(),
            Step::Consent => consent::when_prompt_none(),
        }
    }
}

/// The first step still due for a signed-in session outside an authorization request
/// (approving a device, the account console): a second factor, then a new password and a
/// verified address an administrator asked for. Steps already in `done` are not asked again.
pub async fn due_outside_authorize(
    state: &AppState,
    realm: &Realm,
    client: Option<&crate::domain::Client>,
    user_id: &str,
    session_acr: Option<&str>,
    done: &[Step],
) -> Result<Option<Step>, OAuthError> {
    if !done.contains(&Step::SecondFactor)
        && second_factor::still_due(state, realm, client, user_id, session_acr).await?
    {
        return Ok(Some(Step::SecondFactor));
    }
    if !done.contains(&Step::UpdatePassword) && update_password::pending(state, user_id).await? {
        return Ok(Some(Step::UpdatePassword));
    }
    if verify_email::pending(state, user_id).await? {
        return Ok(Some(Step::VerifyEmail));
    }
    Ok(None)
}

/// What a step decides on: the request, the browser's current sign-in, who an `id_token_hint`
/// names, and the steps this interaction has already done.
pub struct Situation<'a> {
    pub state: &'a AppState,
    pub realm: &'a Realm,
    pub request: &'a AuthorizeRequest,
    pub sign_in: Option<&'a SignIn>,
    /// The level of the signed-in session (`acr`; `None` is level 1).
    pub session_acr: Option<&'a str>,
    pub hinted_sub: Option<&'a str>,
    pub done: &'a [Step],
    pub now: DateTime<Utc>,
}

impl Situation<'_> {
    pub fn prompted(&self, value: &str) -> bool {
        self.request.prompt.iter().any(|p| p == value)
    }

    pub fn has_done(&self, step: Step) -> bool {
        self.done.contains(&step)
    }
}

/// What the login is for, and where it goes once the steps are done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// An authorization request (its raw parameters, validated again when it resumes, so a
    /// client changed meanwhile is judged as it is now).
    Authorize { query: String },
    /// Approving a device's user code (RFC 8628 §3.3): signing in, then back to the device page.
    Device { user_code: String },
    /// Signing in to the realm's account console (the user's own pages).
    Account,
}

/// The client id under which the account console's logins and sessions are kept (it is the
/// realm's own application, not a registered client).
pub const ACCOUNT_CONSOLE: &str = "account-console";

impl Purpose {
    /// The stored form: a kind and the text it carries.
    fn stored(&self) -> (&'static str, &str) {
        match self {
            Purpose::Authorize { query } => ("authorize", query),
            Purpose::Device { user_code } => ("device", user_code),
            Purpose::Account => ("account", ""),
        }
    }

    fn from_stored(kind: &str, text: String) -> Option<Self> {
        match kind {
            "authorize" => Some(Purpose::Authorize { query: text }),
            "device" => Some(Purpose::Device { user_code: text }),
            "account" => Some(Purpose::Account),
            _ => None,
        }
    }
}

/// A pending login.
#[derive(Debug, Clone)]
pub struct Interaction {
    /// The opaque handle the browser carries (only its hash is stored).
    pub handle: String,
    pub client_id: String,
    pub purpose: Purpose,
    /// The user who did the steps in `done`.
    pub user_id: Option<String>,
    pub done: Vec<Step>,
    id: String,
}

fn id_of(handle: &str) -> String {
    b64url(sha256(handle.as_bytes()))
}

impl Interaction {
    /// Starts a login for `purpose` on behalf of `client_id`, bound to `browser`.
    pub async fn start(
        state: &AppState,
        realm: &RealmCtx,
        client_id: &str,
        purpose: Purpose,
        browser: &BrowserSession,
    ) -> Result<Self, OAuthError> {
        let (kind, request) = purpose.stored();
        if request.len() > MAX_STORED_REQUEST {
            return Err(OAuthError::invalid_request(
                "the authorization request is too large",
            ));
        }
        let handle = random::opaque_token();
        let now = state.now();
        let row = StoredInteraction {
            id: id_of(&handle),
            realm_id: realm.realm.id.clone(),
            client_id: client_id.to_string(),
            purpose: kind.to_string(),
            request: request.to_string(),
            user_id: None,
            steps_done: Vec::new(),
            expires_at: now + LIFETIME,
        };
        store::interactions::insert(&state.caches.store.db, &row, now).await?;
        let interaction = Self {
            id: row.id,
            handle,
            client_id: row.client_id,
            purpose,
            user_id: None,
            done: Vec::new(),
        };
        browser
            .bind_interaction(&interaction.id)
            .await
            .map_err(OAuthError::server_error)?;
        Ok(interaction)
    }

    /// The parameters of the authorization request this login is for (none for a device or
    /// the account console).
    pub fn request_params(&self) -> Option<super::form::Params> {
        match &self.purpose {
            Purpose::Authorize { query } => super::form::Params::parse(query.as_bytes()).ok(),
            _ => None,
        }
    }

    /// The stored id of this login (the hash of its handle).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether `browser` is the one that started this login.
    pub async fn started_by(&self, browser: &BrowserSession) -> bool {
        browser.owns_interaction(&self.id).await
    }

    /// The realm's unexpired login with this handle.
    pub async fn find(
        state: &AppState,
        realm: &RealmCtx,
        handle: &str,
    ) -> Result<Option<Self>, OAuthError> {
        let id = id_of(handle);
        let Some(row) =
            store::interactions::live(&state.caches.store.db, &realm.realm.id, &id, state.now())
                .await?
        else {
            return Ok(None);
        };
        let Some(purpose) = Purpose::from_stored(&row.purpose, row.request) else {
            return Err(OAuthError::server_error(format!(
                "interaction with unknown purpose {}",
                row.purpose
            )));
        };
        Ok(Some(Self {
            handle: handle.to_string(),
            id,
            client_id: row.client_id,
            purpose,
            user_id: row.user_id,
            done: row
                .steps_done
                .iter()
                .filter_map(|s| Step::from_name(s))
                .collect(),
        }))
    }

    /// Records that `user_id` did `step`. Steps count only for the user who did them: when
    /// another user does one, what was done before is forgotten.
    pub async fn complete(
        &mut self,
        state: &AppState,
        step: Step,
        user_id: &str,
    ) -> Result<(), OAuthError> {
        if self.user_id.as_deref() != Some(user_id) {
            self.user_id = Some(user_id.to_string());
            self.done.clear();
        }
        if !self.done.contains(&step) {
            self.done.push(step);
        }
        let names: Vec<String> = self.done.iter().map(|s| s.name().to_string()).collect();
        store::interactions::record_progress(
            &state.caches.store.db,
            &self.id,
            self.user_id.as_deref(),
            &names,
        )
        .await?;
        Ok(())
    }

    /// Ends the login; true for the one caller that ended it, so a finished login yields one
    /// code however many requests race to finish it.
    pub async fn finish(&self, db: &impl store::Conn) -> Result<bool, OAuthError> {
        Ok(store::interactions::take(db, &self.id).await?)
    }
}
