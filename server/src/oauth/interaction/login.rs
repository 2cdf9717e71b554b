//! The login step: due when nobody is signed in, or the request asks for a fresh sign-in
//! (`prompt=login`, an exceeded `max_age`) that this interaction has not yet given it, or the
//! signed-in user is not the one the `id_token_hint` names (OIDC Core §3.1.2.1). A sign-in made
//! in this interaction as someone other than the hinted user ends it with `login_required`
//! rather than asking again and again.

use chrono::Duration;

use super::{Interaction, Situation, Step};
use crate::oauth::error::OAuthError;
use crate::sessions::{BrowserSession, SignIn};
use crate::state::{AppState, RealmCtx};
use crate::store;

/// Lifetime of an SSO session; the browser cookie also lapses after its idle lifetime unused.
const SESSION_LIFETIME: Duration = Duration::hours(10);

pub fn due(situation: &Situation<'_>) -> Result<bool, OAuthError> {
    let Some(sign_in) = situation.sign_in else {
        return Ok(true);
    };
    let other_user = situation
        .hinted_sub
        .is_some_and(|sub| sub != sign_in.user_id);
    if other_user {
        if situation.has_done(Step::Login) {
            return Err(OAuthError::login_required(
                "the user who signed in is not the one the id_token_hint names",
            ));
        }
        return Ok(true);
    }
    // A sign-in made during this very interaction satisfies `prompt=login` and `max_age`: the
    // user authenticated in response to this request.
    if situation.has_done(Step::Login) {
        return Ok(false);
    }
    Ok(situation.prompted("login")
        || situation
            .request
            .max_age
            .is_some_and(|max| (situation.now - sign_in.auth_time) > Duration::seconds(max)))
}

pub fn when_prompt_none() -> OAuthError {
    OAuthError::login_required("the user must sign in")
}

/// How a user proved who they are: the level reached (`None` is level 1) and the RFC 8176
/// methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub acr: Option<&'static str>,
    pub amr: Vec<String>,
    /// The upstream provider that vouched for the user (its alias), for a brokered sign-in.
    pub idp: Option<String>,
}

impl Proof {
    /// A password: level 1.
    pub fn password() -> Self {
        Self {
            acr: None,
            amr: vec!["pwd".to_string()],
            idp: None,
        }
    }
}

/// The step done: `user_id` proved who they are, as `proof` says, from `device`. Starts their SSO
/// session in the realm, signs the browser in (under a new session id, against fixation) and
/// records the step in `interaction`, when the sign-in continues one.
pub async fn signed_in(
    state: &AppState,
    realm: &RealmCtx,
    browser: &BrowserSession,
    interaction: Option<&mut Interaction>,
    user_id: &str,
    proof: &Proof,
    device: &store::sessions::Device,
) -> Result<SignIn, OAuthError> {
    let now = state.now();
    let session = store::sessions::create(
        &state.caches.store.db,
        store::sessions::NewSession {
            realm_id: &realm.realm.id,
            user_id,
            cookie_scope: &browser.cookie,
            auth_time: now,
            acr: proof.acr,
            amr: &proof.amr,
            expires_at: now + SESSION_LIFETIME,
            device,
            idp: proof.idp.as_deref(),
        },
        now,
    )
    .await?;
    let sign_in = SignIn {
        user_id: user_id.to_string(),
        sid: session.id,
        auth_time: now,
    };
    browser
        .set_sign_in(&realm.realm, &sign_in)
        .await
        .map_err(OAuthError::server_error)?;
    if let Some(interaction) = interaction {
        interaction.complete(state, Step::Login, user_id).await?;
    }
    Ok(sign_in)
}
