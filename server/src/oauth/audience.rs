//! Which audiences (`aud`) a token gets: RFC 8707 resource indicators when the client names
//! them, otherwise the API resources owning the granted scopes plus the client's configured
//! audiences, and the client itself when nothing else applies (RFC 9068 §3 wants a default).
//! A token for named resources carries only the scopes that concern them.

use super::error::OAuthError;
use super::form::Params;
use crate::domain::{Catalog, Client};

/// The `resource` values of a request. RFC 8707 §2 wants absolute URIs without a fragment;
/// API resources named otherwise (`orders-api`) are accepted too, as their names are the
/// audiences clients know them by — whether the client may ask for one is checked later.
pub fn requested(params: &Params) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for resource in params.get_all("resource") {
        if url::Url::parse(resource).is_ok_and(|u| u.fragment().is_some()) {
            return Err(OAuthError::invalid_target(format!(
                "resource `{resource}` has a fragment (RFC 8707 §2)"
            )));
        }
        if !out.iter().any(|r| r == resource) {
            out.push(resource.to_string());
        }
    }
    Ok(out)
}

/// The resources a token is for: those the token request names, which must lie within the
/// ones the grant was limited to (if it was), else every resource of the grant.
pub fn chosen(params: &Params, authorized: &[String]) -> Result<Vec<String>, OAuthError> {
    let named = requested(params)?;
    if named.is_empty() {
        return Ok(authorized.to_vec());
    }
    if !authorized.is_empty() {
        if let Some(outside) = named.iter().find(|r| !authorized.contains(r)) {
            return Err(OAuthError::invalid_target(format!(
                "resource `{outside}` was not part of the grant; a token request may only narrow"
            )));
        }
    }
    Ok(named)
}

/// Checks that each of `resources` owns one of `scopes` (those granted or asked for) or is
/// one of the client's configured audiences: a resource the grant says nothing about is not
/// one a token may be for.
pub fn ensure_allowed(
    resources: &[String],
    scopes: &[String],
    client: &Client,
    catalog: &Catalog,
) -> Result<(), OAuthError> {
    let allowed: Vec<&String> = catalog
        .owners_of(scopes)
        .chain(client.audiences.iter())
        .collect();
    match resources.iter().find(|r| !allowed.contains(r)) {
        Some(resource) => Err(OAuthError::invalid_target(format!(
            "resource `{resource}` is not one the client's requested scopes concern"
        ))),
        None => Ok(()),
    }
}

/// The audiences of a token for `resources` (when named) or for `granted_scopes`.
pub fn resolve_for(
    resources: &[String],
    granted_scopes: &[String],
    client: &Client,
    catalog: &Catalog,
) -> Result<Vec<String>, OAuthError> {
    if !resources.is_empty() {
        ensure_allowed(resources, granted_scopes, client, catalog)?;
        return Ok(resources.to_vec());
    }
    let mut audiences: Vec<String> = Vec::new();
    for audience in catalog
        .owners_of(granted_scopes)
        .chain(client.audiences.iter())
    {
        if !audiences.contains(audience) {
            audiences.push(audience.clone());
        }
    }
    if audiences.is_empty() {
        audiences.push(client.client_id.clone());
    }
    Ok(audiences)
}

/// As [`resolve_for`], with the resources the request names.
pub fn resolve(
    params: &Params,
    granted_scopes: &[String],
    client: &Client,
    catalog: &Catalog,
) -> Result<Vec<String>, OAuthError> {
    resolve_for(&requested(params)?, granted_scopes, client, catalog)
}

/// The scopes a token for `resources` carries: those a chosen resource owns, and those no
/// resource owns (`openid`, `profile`, …); another resource's scopes stay out. Without
/// resources, all of `scopes`.
pub fn scopes_for(resources: &[String], scopes: &[String], catalog: &Catalog) -> Vec<String> {
    if resources.is_empty() {
        return scopes.to_vec();
    }
    scopes
        .iter()
        .filter(|scope| {
            let one = std::slice::from_ref(*scope);
            let mut owners = catalog.owners_of(one).peekable();
            owners.peek().is_none() || owners.any(|owner| resources.contains(owner))
        })
        .cloned()
        .collect()
}
