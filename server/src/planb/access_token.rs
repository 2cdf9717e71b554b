//! The Plan B provider's token endpoint: the token endpoint's answer plus `realm`.

use axum::extract::State;

use crate::oauth::error::OAuthError;
use crate::oauth::form::OAuthForm;
use crate::oauth::token::{self, TokenResponse};
use crate::state::{AppState, RealmCtx};

/// `POST /realms/{realm}/oauth2/access_token` and `POST /oauth2/access_token?realm=…`
pub async fn access_token(
    State(state): State<AppState>,
    realm: RealmCtx,
    form: OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let mut response = token::issue(&state, &realm, &form).await?;
    response
        .extra
        .insert("realm".into(), format!("/{}", realm.realm.name).into());
    Ok(response)
}
