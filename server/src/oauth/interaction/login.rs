//! The login step: due when nobody is signed in, or the request asks for a fresh sign-in
//! (`prompt=login`, an exceeded `max_age`) that this interaction has not yet given it, or the
//! signed-in user is not the one the `id_token_hint` names (OIDC Core §3.1.2.1). A sign-in made
//! in this interaction as someone other than the hinted user ends it with `login_required`
//! rather than asking again and again.

use chrono::Duration;

use super::{Situation, Step};
use crate::oauth::error::OAuthError;

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
