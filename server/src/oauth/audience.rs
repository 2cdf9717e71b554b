//! Which audiences (`aud`) a token gets: RFC 8707 resource indicators when the client names
//! them, otherwise the API resources owning the granted scopes plus the client's configured
//! audiences, and the client itself when nothing else applies (RFC 9068 §3 wants a default).

use super::error::OAuthError;
use super::form::Params;
use crate::domain::{Catalog, Client};

pub fn resolve(
    params: &Params,
    granted_scopes: &[String],
    client: &Client,
    catalog: &Catalog,
) -> Result<Vec<String>, OAuthError> {
    let requested = params.get_all("resource");
    if !requested.is_empty() {
        let allowed: Vec<&String> = catalog
            .owners_of(&client.scopes)
            .chain(client.audiences.iter())
            .collect();
        let mut audiences: Vec<String> = Vec::new();
        for resource in requested {
            if !allowed.iter().any(|a| a.as_str() == resource) {
                return Err(OAuthError::invalid_target(format!(
                    "the client may not request resource `{resource}`"
                )));
            }
            if !audiences.iter().any(|a| a == resource) {
                audiences.push(resource.to_string());
            }
        }
        return Ok(audiences);
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
