//! What every grant does once it has decided: sign the access token, and start a refresh-token
//! family when the client may refresh.

use serde_json::{Map, Value};

use super::{GrantRequest, TokenResponse};
use crate::domain::{grant_type, Client, Lifetimes};
use crate::oauth::error::OAuthError;
use crate::store::refresh::NewFamily;
use crate::tokens::access_token::{
    self, AccessTokenClaims, Audience, MintedAccessToken, UserAuthentication,
};
use crate::tokens::refresh::RefreshTokens;

/// Who a token is about and what it carries besides the protocol claims.
pub struct TokenSubject<'a> {
    pub sub: &'a str,
    pub user: Option<UserAuthentication>,
    pub extra: Map<String, Value>,
}

/// The resolved lifetimes for this client of this realm.
pub fn lifetimes(request: &GrantRequest<'_>) -> Lifetimes {
    Lifetimes::resolve(
        &request.client.client.lifetimes,
        &request.realm.realm.lifetimes,
    )
}

/// The realm's active key for `alg`, from the key ring's memory (made on first use).
async fn signing_key(
    request: &GrantRequest<'_>,
    alg: crate::domain::SigningAlg,
) -> Result<std::sync::Arc<crate::keys::ActiveKey>, OAuthError> {
    request
        .state
        .caches
        .signing_key(&request.realm.realm.id, alg, request.state.now())
        .await
        .map_err(OAuthError::server_error)
}

/// Signs an RFC 9068 access token with the client's (or realm's) algorithm.
pub async fn access_token(
    request: &GrantRequest<'_>,
    scopes: &[String],
    audiences: Vec<String>,
    subject: TokenSubject<'_>,
) -> Result<MintedAccessToken, OAuthError> {
    let GrantRequest {
        state,
        realm,
        client,
        ..
    } = request;
    let client = &client.client;
    let now = state.now();
    let alg = client
        .access_token_signing_alg
        .unwrap_or(realm.realm.signing_alg);
    let key = signing_key(request, alg).await?;
    let iat = now.timestamp();
    let scope = scopes.join(" ");
    let mut extra = subject.extra;
    if let Some(jkt) = request.dpop_jkt {
        // RFC 9449 §6.1: the token is bound to the proof's key.
        extra.insert("cnf".into(), serde_json::json!({ "jkt": jkt }));
    }
    let claims = AccessTokenClaims {
        iss: &realm.issuer,
        sub: subject.sub,
        aud: Audience::from_list(audiences),
        client_id: &client.client_id,
        scope: &scope,
        iat,
        exp: iat + lifetimes(request).access_token,
        jti: access_token::new_jti(),
        user: subject.user,
        extra,
    };
    access_token::mint(&key, &claims).map_err(OAuthError::server_error)
}

/// Whether a refresh token goes with this grant: the client may refresh and either asked for
/// `offline_access` or is configured to always get one.
pub fn wants_refresh_token(client: &Client, scopes: &[String]) -> bool {
    client.allows_grant(grant_type::REFRESH_TOKEN)
        && (client.always_issue_refresh_token || scopes.iter().any(|s| s == "offline_access"))
}

/// Starts a refresh-token family and returns its first token.
pub async fn refresh_token(
    request: &GrantRequest<'_>,
    family: FamilySeed,
) -> Result<String, OAuthError> {
    start_family(request, family, None, None).await
}

/// The DPoP key a new family's refresh tokens are bound to: a public client's proof key
/// (RFC 9449 §5: confidential clients authenticate instead).
fn family_binding(request: &GrantRequest<'_>) -> Option<String> {
    request
        .client
        .client
        .public
        .then(|| request.dpop_jkt.map(str::to_string))
        .flatten()
}

async fn start_family(
    request: &GrantRequest<'_>,
    family: FamilySeed,
    session_id: Option<String>,
    authorization_code_id: Option<String>,
) -> Result<String, OAuthError> {
    let now = request.state.now();
    let lifetimes = lifetimes(request);
    request
        .state
        .refresh
        .issue(
            &request.realm.realm.id,
            NewFamily {
                client_id: request.client.client.client_id.clone(),
                user_id: family.user_id,
                subject: family.subject,
                scope: family.scopes.join(" "),
                claims: Value::Object(family.claims),
                auth_time: family.auth_time,
                acr: family.acr,
                amr: family.amr,
                session_id,
                authorization_code_id,
                absolute_expires_at: RefreshTokens::absolute_expiry(now, &lifetimes),
                dpop_jkt: family_binding(request),
                resources: family.resources,
            },
            &lifetimes,
            now,
        )
        .await
        .map_err(OAuthError::server_error)
}

/// What a refresh-token family remembers to re-issue tokens later.
pub struct FamilySeed {
    pub user_id: Option<String>,
    pub subject: String,
    pub scopes: Vec<String>,
    /// Extra claims re-issued as they are (caller-supplied content in decentralized mode).
    pub claims: Map<String, Value>,
    pub auth_time: Option<chrono::DateTime<chrono::Utc>>,
    /// The sign-in's `acr` and `amr`, repeated by the tokens a refresh mints.
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// The RFC 8707 resources the grant covers; a refresh may narrow them.
    pub resources: Vec<String>,
}

/// Scopes for a grant: the requested ones if the client may ask for them all, otherwise the
/// client's defaults minus those in `not_by_default`.
pub fn requested_scopes(
    request: &GrantRequest<'_>,
    not_by_default: &[&str],
) -> Result<Vec<String>, OAuthError> {
    let client = &request.client.client;
    match request.params.get("scope") {
        Some(raw) => {
            let requested = crate::oauth::scope::parse(raw)?;
            crate::oauth::scope::ensure_allowed(&requested, &client.scopes)?;
            Ok(requested)
        }
        // RFC 6749 §3.3: without a scope parameter the client gets its pre-defined default.
        None => Ok(client
            .scopes
            .iter()
            .filter(|s| !not_by_default.contains(&s.as_str()))
            .cloned()
            .collect()),
    }
}

/// What an ID token says about the sign-in behind it.
pub struct IdTokenFacts<'a> {
    pub sub: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub sid: Option<&'a str>,
    /// The access token issued alongside, for `at_hash`.
    pub access_token: &'a str,
    pub claims: Map<String, Value>,
}

/// Signs an ID token with the client's (or realm's) ID-token algorithm (RS256 by default).
pub async fn id_token(
    request: &GrantRequest<'_>,
    facts: IdTokenFacts<'_>,
) -> Result<String, OAuthError> {
    let GrantRequest {
        state,
        realm,
        client,
        ..
    } = request;
    let client = &client.client;
    let now = state.now();
    let alg = client
        .id_token_signing_alg
        .unwrap_or(realm.realm.id_token_signing_alg);
    let key = signing_key(request, alg).await?;
    crate::tokens::id_token::mint(
        &key,
        crate::tokens::id_token::IdTokenInput {
            issuer: &realm.issuer,
            sub: facts.sub,
            client_id: &client.client_id,
            nonce: facts.nonce,
            auth_time: facts.auth_time,
            acr: facts.acr,
            amr: facts.amr,
            sid: facts.sid,
            access_token: Some(facts.access_token),
            claims: facts.claims,
            iat: now.timestamp(),
            lifetime: lifetimes(request).id_token,
        },
    )
    .map_err(OAuthError::server_error)
}

/// A signed-in user and what they granted: the input of every user-facing grant.
pub struct UserGrant<'a> {
    pub user: &'a crate::store::users::StoredUser,
    pub scopes: &'a [String],
    pub auth_time: chrono::DateTime<chrono::Utc>,
    /// The sign-in's level (`"1"`, `"2"`); `None` reads as `"1"`.
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub nonce: Option<&'a str>,
    /// The login session (`sid`), so logout can revoke what it produced.
    pub session_id: Option<&'a str>,
    /// The authorization code redeemed, so a replay can revoke what it produced.
    pub code_id: Option<&'a str>,
    /// OpenID Connect flows add an ID token when `openid` is granted.
    pub openid: bool,
    /// The upstream provider the user signed in through: the tokens name it (`idp`).
    pub idp: Option<&'a str>,
    /// The RFC 8707 resources the authorization request named: the token request may pick
    /// among them.
    pub resources: &'a [String],
}

/// The claim naming the upstream provider a brokered sign-in came through.
pub const IDP_CLAIM: &str = "idp";

/// The response of a user-facing grant and the `jti` of its access token.
pub struct Issued {
    pub response: TokenResponse,
    pub jti: String,
}

/// Access token (claims from the user's record and granted scopes), ID token when asked for,
/// and a refresh token when the client may refresh.
pub async fn for_user(
    request: &GrantRequest<'_>,
    grant: UserGrant<'_>,
) -> Result<Issued, OAuthError> {
    let state = request.state;
    let client = &request.client.client;
    let db = &state.caches.store.db;
    let user = grant.user;
    let roles = crate::store::users::role_names(db, &user.id).await?;
    let catalog = state
        .caches
        .directory
        .catalog(&request.realm.realm.id)
        .await?;
    let resources = crate::oauth::audience::chosen(request.params, grant.resources)?;
    let audiences =
        crate::oauth::audience::resolve_for(&resources, grant.scopes, client, &catalog)?;
    let token_scopes = crate::oauth::audience::scopes_for(&resources, grant.scopes, &catalog);
    // A brokered sign-in says where it came from, in every token it yields (refreshes too).
    let brokered: Map<String, Value> = grant
        .idp
        .map(|alias| Map::from_iter([(IDP_CLAIM.to_string(), Value::from(alias))]))
        .unwrap_or_default();
    let mut extra =
        crate::tokens::claims::access_token_claims(&catalog, &token_scopes, user, &roles);
    extra.extend(brokered.clone());
    let subject = TokenSubject {
        sub: &user.id,
        user: Some(UserAuthentication {
            auth_time: grant.auth_time.timestamp(),
            acr: Some(
                grant
                    .acr
                    .unwrap_or(crate::tokens::id_token::ACR_ONE_FACTOR)
                    .to_string(),
            ),
            amr: grant.amr.to_vec(),
        }),
        extra,
    };
    let minted = access_token(request, &token_scopes, audiences, subject).await?;
    let mut response =
        TokenResponse::bearer(minted.token.clone(), minted.expires_in, &token_scopes);
    if grant.openid && grant.scopes.iter().any(|s| s == "openid") {
        let facts = IdTokenFacts {
            sub: &user.id,
            nonce: grant.nonce,
            auth_time: grant.auth_time.timestamp(),
            acr: grant.acr,
            amr: grant.amr,
            sid: grant.session_id,
            access_token: &minted.token,
            claims: {
                let mut claims =
                    crate::tokens::claims::identity_claims(&catalog, grant.scopes, user, &roles);
                claims.extend(brokered.clone());
                claims
            },
        };
        response.id_token = Some(id_token(request, facts).await?);
    }
    if wants_refresh_token(client, grant.scopes) {
        let seed = FamilySeed {
            user_id: Some(user.id.clone()),
            subject: user.id.clone(),
            scopes: grant.scopes.to_vec(),
            claims: brokered,
            auth_time: Some(grant.auth_time),
            acr: grant.acr.map(str::to_string),
            amr: grant.amr.to_vec(),
            resources: if grant.resources.is_empty() {
                resources.clone()
            } else {
                grant.resources.to_vec()
            },
        };
        let session_id = grant.session_id.map(str::to_string);
        let code_id = grant.code_id.map(str::to_string);
        response.refresh_token = Some(start_family(request, seed, session_id, code_id).await?);
    }
    Ok(Issued {
        response,
        jti: minted.jti,
    })
}
