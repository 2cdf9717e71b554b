//! The second-factor step (CONTRACT §8): due after the password when the realm or the client
//! requires a second factor, when the request asks for level `"2"` (`acr_values`, an essential
//! `acr` claim), or, in a realm where second factors are optional, when the user enrolled one.
//! A session already at level 2 is not asked again unless the login itself is asked again
//! (`prompt=login`, `max_age`): the new sign-in starts at level 1. A session of level 1 asked
//! for level 2 gets only this step (step-up). Users who must and have no second factor enrol
//! one on the same page.

use chrono::{DateTime, Utc};

use super::{Interaction, Situation, Step};
use crate::domain::required_action::CONFIGURE_TOTP;
use crate::domain::{Client, ClientMfa, Realm, RealmMfa};
use crate::factors::AMR_WITH_SECOND_FACTOR;
use crate::oauth::authorize::AuthorizeRequest;
use crate::oauth::error::OAuthError;
use crate::sessions::SignIn;
use crate::state::AppState;
use crate::store;
use crate::tokens::id_token::ACR_TWO_FACTORS;

/// The `acr` values Tessera issues, lowest first (discovery's `acr_values_supported`).
pub const ACR_VALUES_SUPPORTED: [&str; 2] = ["1", "2"];

/// The lowest level among `values` that Tessera knows, if any.
fn lowest_known_level(values: &[String]) -> Option<&'static str> {
    ACR_VALUES_SUPPORTED
        .into_iter()
        .find(|level| values.iter().any(|v| v == level))
}

/// Whether a request needs level 2 whatever the policy: as the lowest level it accepts.
fn asks_for_two_factors(request: &AuthorizeRequest) -> Result<bool, OAuthError> {
    if let Some(essential) = &request.essential_acr {
        return match lowest_known_level(essential) {
            Some(level) => Ok(level == ACR_TWO_FACTORS),
            None => Err(OAuthError::unmet_authentication_requirements(
                "none of the essential acr values can be met",
            )),
        };
    }
    Ok(lowest_known_level(&request.acr_values) == Some(ACR_TWO_FACTORS))
}

pub async fn due(situation: &Situation<'_>) -> Result<bool, OAuthError> {
    // The login step comes first; without a sign-in there is nobody to ask.
    let Some(sign_in) = situation.sign_in else {
        return Ok(false);
    };
    // Until an administrator's `configure_totp` is done the step stays due (it first asks
    // for the existing app, then enrols the new one).
    if enrolment_asked(situation.state, &sign_in.user_id).await? {
        return Ok(true);
    }
    if situation.has_done(Step::SecondFactor) {
        return Ok(false);
    }
    if situation.session_acr == Some(ACR_TWO_FACTORS) {
        return Ok(false);
    }
    let request = situation.request;
    if asks_for_two_factors(request)? {
        if situation.realm.mfa != RealmMfa::Off || request.client.mfa == ClientMfa::Required {
            return Ok(true);
        }
        // Where second factors are off, a voluntary request for level 2 gets level 1.
        if request.essential_acr.is_some() {
            return Err(OAuthError::unmet_authentication_requirements(
                "second factors are turned off in this realm",
            ));
        }
    }
    situation
        .state
        .factors
        .required(situation.realm, &request.client, &sign_in.user_id)
        .await
        .map_err(OAuthError::server_error)
}

/// Whether an administrator asked the user to set up an authenticator app (required action
/// `configure_totp`): the step then enrols one, even over an existing one.
pub async fn enrolment_asked(state: &AppState, user_id: &str) -> Result<bool, OAuthError> {
    let Some(user) = store::users::find(&state.caches.store.db, user_id).await? else {
        return Ok(false);
    };
    Ok(store::users::required_actions(&user)?
        .iter()
        .any(|a| a == CONFIGURE_TOTP))
}

/// Whether a signed-in session must still give a second factor outside an authorization
/// request (approving a device, the account console): by the policy of the realm (and of
/// `client`, when one asks), or because the user must enrol.
pub async fn still_due(
    state: &AppState,
    realm: &Realm,
    client: Option<&Client>,
    user_id: &str,
    session_acr: Option<&str>,
) -> Result<bool, OAuthError> {
    if enrolment_asked(state, user_id).await? {
        return Ok(true);
    }
    if session_acr == Some(ACR_TWO_FACTORS) {
        return Ok(false);
    }
    let required = match client {
        Some(client) => state.factors.required(realm, client, user_id).await,
        None => state.factors.required_by_realm(realm, user_id).await,
    };
    required.map_err(OAuthError::server_error)
}

pub fn when_prompt_none() -> OAuthError {
    OAuthError::interaction_required("the user must give a second factor")
}

/// The step done: the signed-in user gave a second factor at `now` (a code, unless `amr` says
/// otherwise). Their session is raised to level 2 and the step recorded in `interaction`.
pub async fn proved(
    state: &AppState,
    interaction: &mut Interaction,
    sign_in: &SignIn,
    amr: Option<Vec<String>>,
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    let amr: Vec<String> = amr.unwrap_or_else(|| AMR_WITH_SECOND_FACTOR.map(String::from).to_vec());
    store::sessions::raise_level(
        &state.caches.store.db,
        &sign_in.sid,
        ACR_TWO_FACTORS,
        &amr,
        now,
    )
    .await?;
    interaction
        .complete(state, Step::SecondFactor, &sign_in.user_id)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_known_level_is_the_one_asked() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(lowest_known_level(&v(&["2"])), Some("2"));
        assert_eq!(lowest_known_level(&v(&["2", "1"])), Some("1"));
        assert_eq!(lowest_known_level(&v(&["urn:x", "2"])), Some("2"));
        assert_eq!(lowest_known_level(&v(&["urn:x"])), None);
    }
}
