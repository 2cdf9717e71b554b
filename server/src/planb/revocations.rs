//! Plan B revocation lists (CONTRACT §5): TOKEN, CLAIM and GLOBAL entries, published with their
//! values hashed under the realm's salt. A token is revoked when an entry matches it and the
//! entry's `issued_before` is later than the token's `iat`.

use axum::body::Body;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use super::bearer;
use super::problem::Problem;
use crate::body::BodyError;
use crate::changes::Change;
use crate::oauth::introspect::active_access_token;
use crate::revocation::{salted_hash, CLAIM_SEPARATOR};
use crate::state::{AppState, RealmCtx};
use crate::store::revocations::{kind, NewRevocation, StoredRevocation};
use crate::store::{self};

/// How far in the future `issued_before` may lie (clock skew between services).
const MAX_FUTURE_SKEW: i64 = 5;
/// Most claims one CLAIM entry may name.
const MAX_CLAIM_NAMES: usize = 16;
const MAX_BODY_BYTES: usize = 64 * 1024;
const HASH_ALGORITHM: &str = "SHA-256";

/// `POST /realms/{realm}/revocations`
pub async fn create(
    State(state): State<AppState>,
    realm: RealmCtx,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let request = bearer::Request {
        method: &axum::http::Method::POST,
        path: uri.path(),
        headers: &headers,
    };
    bearer::authorize(&state, &realm, request, "revocations:write").await?;
    let body = crate::body::read_limited(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => {
                Problem::bad_request(format!("the body may be at most {MAX_BODY_BYTES} bytes"))
            }
            BodyError::Unreadable => Problem::bad_request("the body could not be read"),
        })?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("the body is not JSON: {e}")))?;
    let now = state.now();
    let retention = retention(&state, &realm).await?;
    let new = parse(&state, &realm, &body, now, retention).await?;
    let row = store::revocations::insert(&state.caches.store.db, &realm.realm.id, new, now).await?;
    state.caches.revocations.insert(row.clone());
    state.caches.publish(Change::Revocations).await;
    Ok((StatusCode::CREATED, axum::Json(listed(&row))).into_response())
}

/// Turns a request body into an entry, refusing anything malformed.
pub(crate) async fn parse(
    state: &AppState,
    realm: &RealmCtx,
    body: &Value,
    now: DateTime<Utc>,
    retention: Duration,
) -> Result<NewRevocation, Problem> {
    let object = body
        .as_object()
        .ok_or_else(|| Problem::bad_request("the body must be a JSON object"))?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !["type", "data"].contains(&k.as_str()))
    {
        return Err(Problem::bad_request(format!("unknown member `{unknown}`")));
    }
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Problem::bad_request("`type` must be TOKEN, CLAIM or GLOBAL"))?;
    let data = object
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| Problem::bad_request("`data` must be an object"))?;
    let allowed: &[&str] = match kind {
        kind::TOKEN => &["token", "issued_before"],
        kind::CLAIM => &["claims", "issued_before"],
        kind::GLOBAL => &["issued_before"],
        other => {
            return Err(Problem::bad_request(format!(
                "unknown revocation type `{other}`"
            )))
        }
    };
    if let Some(unknown) = data.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Problem::bad_request(format!(
            "unknown member `data.{unknown}` for type {kind}"
        )));
    }
    // A TOKEN entry names one exact token, issued at the latest this very second; without an
    // explicit cut-off it must cover that second too (`iat` < `issued_before`).
    let default_cutoff = if kind == kind::TOKEN {
        now.timestamp() + 1
    } else {
        now.timestamp()
    };
    let issued_before = issued_before(data, now, default_cutoff)?;
    let salt = &realm.realm.revocation_salt;
    let default_expiry = DateTime::from_timestamp(issued_before, 0).unwrap_or(now) + retention;
    Ok(match kind {
        kind::TOKEN => {
            let token = data
                .get("token")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Problem::bad_request("`data.token` must be a non-empty string"))?;
            // A token of ours can be forgotten once it expires; anything else lives as long as
            // any token could.
            let expires_at = match active_access_token(state, realm, token).await {
                Ok(Some(verified)) => verified
                    .int_claim("exp")
                    .and_then(|exp| DateTime::from_timestamp(exp, 0))
                    .unwrap_or(default_expiry),
                _ => default_expiry,
            };
            NewRevocation {
                kind: kind::TOKEN,
                token_hash: Some(salted_hash(salt, token)),
                issued_before,
                expires_at: expires_at.max(now),
                ..Default::default()
            }
        }
        kind::CLAIM => {
            let claims = data
                .get("claims")
                .and_then(Value::as_object)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| Problem::bad_request("`data.claims` must be a non-empty object"))?;
            let (names, values) = claim_parts(claims)?;
            NewRevocation {
                kind: kind::CLAIM,
                claim_names: Some(names),
                value_hash: Some(salted_hash(salt, &values)),
                issued_before,
                expires_at: default_expiry.max(now),
                ..Default::default()
            }
        }
        _ => NewRevocation {
            kind: kind::GLOBAL,
            issued_before,
            expires_at: default_expiry.max(now),
            ..Default::default()
        },
    })
}

fn issued_before(
    data: &Map<String, Value>,
    now: DateTime<Utc>,
    default: i64,
) -> Result<i64, Problem> {
    let value = match data.get("issued_before") {
        None | Some(Value::Null) => return Ok(default),
        Some(value) => value.as_i64().ok_or_else(|| {
            Problem::bad_request("`issued_before` must be an integer (Unix seconds)")
        })?,
    };
    if value < 0 {
        return Err(Problem::bad_request("`issued_before` must not be negative"));
    }
    if value > now.timestamp() + MAX_FUTURE_SKEW {
        return Err(Problem::bad_request(format!(
            "`issued_before` may be at most {MAX_FUTURE_SKEW} s in the future"
        )));
    }
    Ok(value)
}

/// Claim names (sorted, `|`-joined) and their values in the same order, `|`-joined.
fn claim_parts(claims: &Map<String, Value>) -> Result<(String, String), Problem> {
    if claims.len() > MAX_CLAIM_NAMES {
        return Err(Problem::bad_request(format!(
            "at most {MAX_CLAIM_NAMES} claims per entry"
        )));
    }
    let mut names: Vec<&String> = claims.keys().collect();
    names.sort();
    let mut values = Vec::with_capacity(names.len());
    for name in &names {
        // Names are stored as text; Postgres cannot hold NUL, and no claim name has controls.
        if name.is_empty() || name.contains(CLAIM_SEPARATOR) || name.chars().any(char::is_control) {
            return Err(Problem::bad_request(format!(
                "claim name `{name}` is not allowed"
            )));
        }
        values.push(match &claims[name.as_str()] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(Problem::bad_request(format!(
                    "claim `{name}` must be a string, number or boolean"
                )))
            }
        });
    }
    let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    Ok((names.join(CLAIM_SEPARATOR), values.join(CLAIM_SEPARATOR)))
}

/// How long CLAIM and GLOBAL entries must be kept: the longest life of any token of the realm,
/// refresh tokens included, so nothing they revoke outlives them.
pub(crate) async fn retention(state: &AppState, realm: &RealmCtx) -> Result<Duration, Problem> {
    let seconds = crate::keys::rotation_grace(&state.caches.store, &realm.realm).await?;
    let refresh = crate::domain::Lifetimes::resolve(&Default::default(), &realm.realm.lifetimes)
        .refresh_token;
    let longest_refresh =
        store::clients::refresh_lifetimes(&state.caches.store.db, &realm.realm.id)
            .await?
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0);
    Ok(Duration::seconds(seconds.max(refresh).max(longest_refresh)))
}

/// `GET /realms/{realm}/revocations?from=<unix seconds>`
pub async fn list(
    State(state): State<AppState>,
    realm: RealmCtx,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let request = bearer::Request {
        method: &axum::http::Method::GET,
        path: uri.path(),
        headers: &headers,
    };
    bearer::authorize(&state, &realm, request, "revocations:read").await?;
    let now = state.now();
    let max_delta = retention(&state, &realm).await?.num_seconds();
    let from = match query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "from")
            .map(|(_, v)| v.into_owned())
    }) {
        None => now.timestamp() - max_delta,
        Some(raw) => raw
            .parse::<i64>()
            .map_err(|_| Problem::bad_request("`from` must be an integer (Unix seconds)"))?,
    };
    // A poller whose clock runs ahead of ours asks from a moment nothing has been revoked
    // at yet: that is an empty list, not an error, so it keeps polling and catches up.
    let rows = if from > now.timestamp() {
        Vec::new()
    } else {
        let since = DateTime::from_timestamp(from.max(0), 0).unwrap_or(now);
        store::revocations::listed_since(&state.caches.store.db, &realm.realm.id, since, now)
            .await?
    };
    let body = json!({
        "meta": {
            "REFRESH_FROM": from,
            "REFRESH_TIMESTAMP": now.timestamp(),
            "MAX_TIME_DELTA": max_delta,
        },
        "revocations": rows.iter().map(listed).collect::<Vec<_>>(),
    });
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response())
}

/// An entry as the lists publish it. RFC 7009 revocations appear as TOKEN entries.
pub(crate) fn listed(row: &StoredRevocation) -> Value {
    let data = match row.kind.as_str() {
        kind::TOKEN | kind::JTI => json!({
            "token_hash": row.token_hash,
            "hash_algorithm": HASH_ALGORITHM,
            "issued_before": row.issued_before,
        }),
        kind::CLAIM => json!({
            "names": row.claim_names,
            "value_hash": row.value_hash,
            "separator": CLAIM_SEPARATOR,
            "hash_algorithm": HASH_ALGORITHM,
            "issued_before": row.issued_before,
        }),
        _ => json!({"issued_before": row.issued_before}),
    };
    let kind = if row.kind == kind::JTI {
        kind::TOKEN
    } else {
        row.kind.as_str()
    };
    json!({"type": kind, "revoked_at": row.revoked_at.timestamp(), "data": data})
}
