//! OAuth 2.0 Token Exchange (RFC 8693). A client trades a subject token (an access, refresh or
//! ID token of this realm, or a JWT of an issuer the realm trusts) for a new access token, as
//! far as the realm's exchange policy for that client allows. The new token never widens the
//! subject's scope; with an actor token and delegation allowed it carries the `act` claim, nested
//! for chains (§4.1). "If ... either the subject_token or actor_token are invalid for any reason,
//! or are unacceptable based on policy, ... the error parameter MUST be the invalid_request
//! error code" (§2.2.2).

use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::{json, Map, Value};

use super::issue::{self, TokenSubject};
use super::{Grant, GrantRequest, TokenResponse};
use crate::domain::grant_type;
use crate::oauth::error::OAuthError;
use crate::oauth::introspect::active_access_token;
use crate::oauth::scope;
use crate::store::{self, exchange::ExchangePolicy};
use crate::tokens::access_token::UserAuthentication;
use crate::tokens::claims::PROTOCOL_CLAIMS;
use crate::tokens::id_token::TYP_ID_TOKEN;
use crate::tokens::refresh::FamilyAsToken;
use crate::tokens::verify;

pub mod token_type {
    pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
    pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
    pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
    pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
}

pub struct TokenExchange;

impl Grant for TokenExchange {
    fn grant_type(&self) -> &'static str {
        grant_type::TOKEN_EXCHANGE
    }

    fn handle<'a>(
        &'a self,
        request: GrantRequest<'a>,
    ) -> BoxFuture<'a, Result<TokenResponse, OAuthError>> {
        handle(request).boxed()
    }
}

/// A subject or actor token after validation.
struct Presented {
    sub: String,
    /// The client the token was issued to, when known.
    client_id: Option<String>,
    scopes: Vec<String>,
    claims: Map<String, Value>,
}

async fn handle(request: GrantRequest<'_>) -> Result<TokenResponse, OAuthError> {
    let params = request.params;
    let client = &request.client.client;
    let subject_token = params.require("subject_token")?;
    let subject_type = params.require("subject_token_type")?;
    let policy = store::exchange::policy_for(
        &request.state.caches.store.db,
        &request.realm.realm.id,
        &client.client_id,
    )
    .await?
    .ok_or_else(|| {
        OAuthError::unauthorized_client("no exchange policy allows this client to exchange tokens")
    })?;
    match params.get("requested_token_type") {
        None | Some(token_type::ACCESS_TOKEN) | Some(token_type::JWT) => {}
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "requested_token_type `{other}` is not issued; ask for an access token"
            )))
        }
    }
    let subject = validate(&request, subject_token, subject_type, "subject_token").await?;
    if !policy.subject_clients.is_empty()
        && !subject
            .client_id
            .as_ref()
            .is_some_and(|c| policy.subject_clients.contains(c))
    {
        return Err(OAuthError::invalid_request(
            "the policy does not allow exchanging tokens of the subject's client",
        ));
    }
    let actor = match (params.get("actor_token"), params.get("actor_token_type")) {
        (Some(token), Some(kind)) => {
            if !policy.allow_delegation {
                return Err(OAuthError::invalid_request(
                    "the policy does not allow delegation",
                ));
            }
            Some(validate(&request, token, kind, "actor_token").await?)
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_request(
                "actor_token_type is required with actor_token",
            ))
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "actor_token_type without actor_token",
            ))
        }
        (None, None) => None,
    };
    let audiences = audiences(&request, &policy)?;
    let scopes = scopes(&request, &policy, &subject)?;

    let mut extra: Map<String, Value> = subject
        .claims
        .iter()
        .filter(|(name, _)| !PROTOCOL_CLAIMS.contains(&name.as_str()))
        // `may_act` speaks about the subject token only; it never travels on.
        .filter(|(name, _)| name.as_str() != "may_act")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if actor.is_none() {
        // Without a new actor the chain stays as it was: an exchange cannot wash it off (and
        // with it the depth limit or a later `may_act` check).
        if let Some(chain) = subject.claims.get("act") {
            extra.insert("act".into(), chain.clone());
        }
    }
    if let Some(actor) = &actor {
        check_may_act(&subject, actor)?;
        // The chain this token would carry: the new actor and every earlier one.
        let depth = 1 + chain_depth(subject.claims.get("act"));
        if depth > usize::try_from(policy.max_delegation_depth).unwrap_or(0) {
            return Err(OAuthError::invalid_request(format!(
                "the delegation chain would name {depth} actors; the policy allows {}",
                policy.max_delegation_depth
            )));
        }
        let mut act = Map::new();
        act.insert("sub".into(), json!(actor.sub));
        if let Some(actor_client) = &actor.client_id {
            act.insert("client_id".into(), json!(actor_client));
        }
        // §4.1: earlier actors nest inside the current one.
        if let Some(previous) = subject.claims.get("act") {
            act.insert("act".into(), previous.clone());
        }
        extra.insert("act".into(), Value::Object(act));
    }
    let user = subject
        .claims
        .get("auth_time")
        .and_then(Value::as_i64)
        .map(|auth_time| UserAuthentication {
            auth_time,
            acr: None,
            amr: subject
                .claims
                .get("amr")
                .and_then(|a| serde_json::from_value(a.clone()).ok())
                .unwrap_or_default(),
        });
    let minted = issue::access_token(
        &request,
        &scopes,
        audiences,
        TokenSubject {
            sub: &subject.sub,
            user,
            extra,
        },
    )
    .await?;
    let mut response = TokenResponse::bearer(minted.token, minted.expires_in, &scopes);
    response.issued_token_type = Some(token_type::ACCESS_TOKEN);
    Ok(response)
}

/// Audiences asked for (`audience` and `resource`) must all be in the policy; without any, the
/// policy's audiences apply.
fn audiences(
    request: &GrantRequest<'_>,
    policy: &ExchangePolicy,
) -> Result<Vec<String>, OAuthError> {
    let mut requested: Vec<String> = Vec::new();
    for value in request
        .params
        .get_all("audience")
        .into_iter()
        .chain(request.params.get_all("resource"))
    {
        if !policy.audiences.iter().any(|a| a == value) {
            return Err(OAuthError::invalid_target(format!(
                "the policy does not allow the audience `{value}`"
            )));
        }
        if !requested.iter().any(|r| r == value) {
            requested.push(value.to_string());
        }
    }
    if requested.is_empty() {
        requested = policy.audiences.clone();
    }
    if requested.is_empty() {
        requested.push(request.client.client.client_id.clone());
    }
    Ok(requested)
}

/// The scope may narrow the subject's, within the policy; it never widens.
fn scopes(
    request: &GrantRequest<'_>,
    policy: &ExchangePolicy,
    subject: &Presented,
) -> Result<Vec<String>, OAuthError> {
    let allowed = |s: &String| {
        subject.scopes.contains(s) && (policy.scopes.is_empty() || policy.scopes.contains(s))
    };
    match request.params.get("scope") {
        Some(raw) => {
            let requested = scope::parse(raw)?;
            if let Some(wider) = requested.iter().find(|s| !allowed(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope `{wider}` is not held by the subject token or not allowed by the policy"
                )));
            }
            Ok(requested)
        }
        None => Ok(subject
            .scopes
            .iter()
            .filter(|s| allowed(s))
            .cloned()
            .collect()),
    }
}

fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("scope") {
        Some(Value::String(s)) => scope::split(s),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// RFC 8693 §4.4: a subject token naming who may act for it (`may_act`) admits only that
/// actor (its `sub`, and its `client_id` where `may_act` names one).
fn check_may_act(subject: &Presented, actor: &Presented) -> Result<(), OAuthError> {
    let Some(may_act) = subject.claims.get("may_act") else {
        return Ok(());
    };
    let named = |claim: &str| may_act.get(claim).and_then(Value::as_str);
    let sub_ok = named("sub").is_none_or(|sub| sub == actor.sub);
    let client_ok = named("client_id").is_none_or(|c| actor.client_id.as_deref() == Some(c));
    let names_someone = named("sub").is_some() || named("client_id").is_some();
    if names_someone && sub_ok && client_ok {
        Ok(())
    } else {
        Err(OAuthError::invalid_request(
            "the subject token's may_act does not name this actor",
        ))
    }
}

/// How many actors an `act` claim names (nested per RFC 8693 §4.1).
fn chain_depth(act: Option<&Value>) -> usize {
    let mut depth = 0;
    let mut current = act;
    while let Some(actor) = current.filter(|a| a.is_object()) {
        depth += 1;
        current = actor.get("act");
    }
    depth
}

/// Validates a subject or actor token of the given RFC 8693 type.
async fn validate(
    request: &GrantRequest<'_>,
    token: &str,
    kind: &str,
    what: &str,
) -> Result<Presented, OAuthError> {
    let invalid =
        || OAuthError::invalid_request(format!("the {what} is invalid, expired or not trusted"));
    let state = request.state;
    let realm = request.realm;
    let now = state.now();
    let claims = match kind {
        token_type::ACCESS_TOKEN => active_access_token(state, realm, token)
            .await?
            .map(|t| t.claims.clone()),
        token_type::REFRESH_TOKEN => state
            .refresh
            .live_family(&realm.realm.id, token, now)
            .await
            .map_err(OAuthError::server_error)?
            .map(|(family, _)| {
                let mut claims = family.as_token().claims;
                claims.insert("scope".into(), json!(family.scope));
                if let Some(jkt) = &family.dpop_jkt {
                    claims.insert("cnf".into(), json!({ "jkt": jkt }));
                }
                claims
            }),
        token_type::ID_TOKEN | token_type::JWT => {
            let keys = state
                .caches
                .keys
                .realm_keys(&realm.realm.id, now)
                .await
                .map_err(OAuthError::server_error)?;
            match verify::verify(&keys, &realm.issuer, TYP_ID_TOKEN, token, now.timestamp()) {
                Ok(id_token) => {
                    let mut claims = id_token.claims;
                    // An ID token's audience is the client it was issued to.
                    if let Some(aud) = claims
                        .get("aud")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                    {
                        claims.insert("client_id".into(), json!(aud));
                    }
                    Some(claims)
                }
                Err(_) if kind == token_type::JWT => trusted_jwt(request, token).await?,
                Err(_) => None,
            }
        }
        other => {
            return Err(OAuthError::invalid_request(format!(
                "{what}_type `{other}` is not supported"
            )))
        }
    };
    let claims = claims.ok_or_else(invalid)?;
    // RFC 9449 §7: a token bound to a key is worth nothing without that key, here too; the
    // exchange's DPoP proof (at the token endpoint) must be of the same key.
    if let Some(bound) = crate::oauth::dpop::bound_key(&claims) {
        if request.dpop_jkt != Some(bound) {
            return Err(OAuthError::invalid_grant(format!(
                "the {what} is DPoP-bound: send a DPoP proof of its key"
            )));
        }
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(invalid)?;
    Ok(Presented {
        client_id: claims
            .get("client_id")
            .or_else(|| claims.get("azp"))
            .and_then(Value::as_str)
            .map(str::to_string),
        scopes: scopes_of(&claims),
        sub,
        claims,
    })
}

/// A JWT of an issuer the realm trusts, verified against that issuer's JWKS.
async fn trusted_jwt(
    request: &GrantRequest<'_>,
    token: &str,
) -> Result<Option<Map<String, Value>>, OAuthError> {
    let Some(issuer) =
        crate::jose::unverified_claim(token, "iss").filter(|i| !i.chars().any(char::is_control))
    else {
        return Ok(None);
    };
    let state = request.state;
    let Some(jwks_url) =
        store::exchange::trusted_jwks_url(&state.caches.store.db, &request.realm.realm.id, &issuer)
            .await?
    else {
        return Ok(None);
    };
    Ok(state
        .trusted_jwks
        .verify(
            &state.http_client,
            &issuer,
            &jwks_url,
            token,
            state.now().timestamp(),
        )
        .await
        .map(|t| t.claims))
}
