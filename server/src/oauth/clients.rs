//! Finding the client a request names: the realm's registered clients, and where the realm
//! allows them, clients known by their metadata document (`client_documents`).

use std::sync::Arc;

use super::error::OAuthError;
use crate::client_documents::is_document_url;
use crate::domain::Client;
use crate::state::{AppState, RealmCtx};

/// The enabled-or-not client `client_id` of `realm`; `None` when there is none. A metadata
/// document that cannot be fetched or does not check out is `invalid_client`, saying why.
pub async fn find(
    state: &AppState,
    realm: &RealmCtx,
    client_id: &str,
) -> Result<Option<Arc<Client>>, OAuthError> {
    if let Some(client) = state
        .caches
        .directory
        .client(&realm.realm.id, client_id)
        .await?
    {
        return Ok(Some(client));
    }
    let security = &realm.realm.security;
    if !security.client_id_metadata_documents
        || !is_document_url(client_id, security.allow_private_fetch)
    {
        return Ok(None);
    }
    // The scopes the document may name: the realm's, as far as it lets such clients ask.
    let catalog = state.caches.directory.catalog(&realm.realm.id).await?;
    let self_service = security.self_service_scopes();
    let scopes: Vec<String> = catalog
        .scopes
        .iter()
        .filter(|s| self_service.contains(&s.name.as_str()))
        .map(|s| s.name.clone())
        .collect();
    let client = state
        .documents
        .client(
            &realm.realm.id,
            &scopes,
            client_id,
            security.allow_private_fetch,
        )
        .await
        .map_err(|e| OAuthError::invalid_client(e.to_string()))?;
    // A document cached before the realm narrowed its self-service scopes keeps only those
    // still allowed.
    if client.scopes.iter().all(|s| scopes.contains(s)) {
        return Ok(Some(client));
    }
    let mut narrowed = (*client).clone();
    narrowed.scopes.retain(|s| scopes.contains(s));
    Ok(Some(Arc::new(narrowed)))
}
