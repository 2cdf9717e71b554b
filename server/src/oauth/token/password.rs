//! The resource owner password credentials grant (RFC 6749 §4.3), for trusted clients that list
//! it. Wrong password, unknown user, disabled and locked accounts all get the same
//! `invalid_grant` after the same argon2 work, so the answer reveals nothing about the account.
//! Where a second factor is required for the user (CONTRACT §8), its code comes as `otp` (or
//! `totp`, as Keycloak's direct grant names it); a missing or wrong code gets the same answer as a
//! wrong password, so the answer does not confirm the password either.

use futures::future::BoxFuture;
use futures::FutureExt;

use super::arbitrary::{self, ArbitraryContent};
use super::issue::{self, FamilySeed, TokenSubject, UserGrant};
use super::{Grant, GrantRequest, TokenResponse};
use crate::domain::grant_type;
use crate::factors::{Verdict, AMR_WITH_SECOND_FACTOR};
use crate::oauth::audience;
use crate::oauth::error::OAuthError;
use crate::tokens::access_token::UserAuthentication;
use crate::tokens::id_token::ACR_TWO_FACTORS;

pub struct Password;

/// One answer for a wrong password, an unknown user and a missing or wrong second factor.
const INVALID_CREDENTIALS: &str =
    "invalid username or password, or a missing or wrong second factor (otp)";

impl Grant for Password {
    fn grant_type(&self) -> &'static str {
        grant_type::PASSWORD
    }

    fn handle<'a>(
        &'a self,
        request: GrantRequest<'a>,
    ) -> BoxFuture<'a, Result<TokenResponse, OAuthError>> {
        handle(request).boxed()
    }
}

async fn handle(request: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
    let GrantRequest {
        state,
        realm,
        params,
        ..
    } = request;
    if let Some(content) = arbitrary::from_request(&request)? {
        return caller_supplied(request, content).await;
    }
    if realm.realm.decentralized {
        return Err(OAuthError::invalid_grant(
            "this realm holds no users; use handler=arbitrary-claims-service",
        ));
    }
    let username = params.require("username")?;
    let password = params.require("password")?;
    // offline_access must be asked for explicitly.
    let scopes = issue::requested_scopes(&request, &["offline_access"])?;
    let now = state.now();
    // Through a public client anyone can guess passwords here as at the sign-in form: the
    // same limit applies. A confidential client is a backend signing its users in (the
    // IdentityServer-style token service), held to its per-client token limit instead.
    if request.client.client.public {
        state
            .limit_ip(
                &realm.realm,
                crate::rate_limit::Group::Login,
                request.client_ip,
            )
            .map_err(OAuthError::rate_limited)?;
    }
    let outcome = state
        .accounts
        .authenticate(&realm.realm.id, username, password, now)
        .await
        .map_err(OAuthError::server_error)?;
    state
        .metrics
        .login(&realm.realm.name, crate::accounts::login_result(&outcome));
    let user = outcome.map_err(|failure| match failure {
        crate::accounts::LoginFailure::DirectoryUnavailable => {
            OAuthError::temporarily_unavailable("the user directory is unavailable")
        }
        _ => OAuthError::invalid_grant(INVALID_CREDENTIALS),
    })?;
    // Actions an administrator asked for are taken in the browser, not through this grant.
    if !crate::store::users::required_actions(&user)?.is_empty() {
        return Err(OAuthError::invalid_grant(INVALID_CREDENTIALS));
    }
    let second_factor = state
        .factors
        .required(&realm.realm, &request.client.client, &user.id)
        .await
        .map_err(OAuthError::server_error)?;
    let (acr, amr) = if second_factor {
        let code = params
            .get("otp")
            .or_else(|| params.get("totp"))
            .ok_or_else(|| OAuthError::invalid_grant(INVALID_CREDENTIALS))?;
        let verdict = state
            .factors
            .verify(&state.accounts, &user, code, now)
            .await
            .map_err(OAuthError::server_error)?;
        if !matches!(verdict, Verdict::Totp | Verdict::RecoveryCode) {
            return Err(OAuthError::invalid_grant(INVALID_CREDENTIALS));
        }
        (
            Some(ACR_TWO_FACTORS),
            AMR_WITH_SECOND_FACTOR.map(String::from).to_vec(),
        )
    } else {
        (None, vec!["pwd".to_string()])
    };
    let issued = issue::for_user(
        &request,
        UserGrant {
            user: &user,
            scopes: &scopes,
            auth_time: now,
            acr,
            amr: &amr,
            nonce: None,
            session_id: None,
            code_id: None,
            // The password grant is plain OAuth: no ID token.
            openid: false,
            idp: None,
            resources: &[],
        },
    )
    .await?;
    Ok(issued.response)
}

/// Decentralized mode: the username is carried through as `sub`, the password is not checked
/// (the caller vouches for the user), and the content is what the caller supplied.
async fn caller_supplied(
    request: GrantRequest<'_>,
    content: ArbitraryContent,
) -> Result<TokenResponse, OAuthError> {
    let username = request.params.require("username")?;
    let client = &request.client.client;
    let requested = issue::requested_scopes(&request, &["offline_access"])?;
    let scopes = arbitrary::merged_scopes(&requested, &content.scopes);
    let catalog = request
        .state
        .caches
        .directory
        .catalog(&request.realm.realm.id)
        .await?;
    let resources = audience::requested(request.params)?;
    let audiences = audience::resolve_for(&resources, &requested, client, &catalog)?;
    let scopes = audience::scopes_for(&resources, &scopes, &catalog);
    let now = request.state.now();
    let subject = TokenSubject {
        sub: username,
        user: Some(UserAuthentication {
            auth_time: now.timestamp(),
            acr: None,
            amr: vec!["pwd".into()],
        }),
        extra: content.claims.clone(),
    };
    let minted = issue::access_token(&request, &scopes, audiences, subject).await?;
    let mut response = TokenResponse::bearer(minted.token, minted.expires_in, &scopes);
    if issue::wants_refresh_token(client, &scopes) {
        let seed = FamilySeed {
            user_id: None,
            subject: username.to_string(),
            scopes: scopes.clone(),
            claims: content.claims,
            auth_time: Some(now),
            acr: None,
            amr: vec!["pwd".into()],
            resources,
        };
        response.refresh_token = Some(issue::refresh_token(&request, seed).await?);
    }
    Ok(response)
}
