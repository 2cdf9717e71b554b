//! DPoP (RFC 9449) at the endpoints: a proof at the token endpoint binds the tokens it issues
//! (`cnf.jkt`, `token_type: DPoP`); clients registered with `dpop_bound_access_tokens` and
//! realms under FAPI 2.0 must send one. Proof checks themselves live in [`crate::dpop`].

use super::error::OAuthError;
use super::form::OAuthForm;
use crate::domain::Client;
use crate::dpop::{Expected, Proof, ProofError};
use crate::state::{AppState, RealmCtx};

/// The URL a request to `path` was sent to, as clients see it.
pub fn request_url(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.public_url)
}

/// An `OAuthError` for a refused proof at an authorization-server endpoint.
pub fn refusal(state: &AppState, error: ProofError) -> OAuthError {
    match error {
        ProofError::Invalid(why) => OAuthError::invalid_dpop_proof(why),
        ProofError::UseNonce => OAuthError::use_dpop_nonce(
            "the DPoP proof must carry the nonce given in the DPoP-Nonce header",
        )
        .with_dpop_nonce(state.dpop.nonce(state.now().timestamp())),
    }
}

/// Whether `client` gets access tokens only with a DPoP proof.
pub fn required_for(realm: &RealmCtx, client: &Client) -> bool {
    client.security.dpop_bound_access_tokens || realm.realm.security.fapi2()
}

/// Checks the DPoP proof of a POST to an authorization-server endpoint (token, PAR); `None`
/// when the request carries none and `required` is false.
pub fn check_post(
    state: &AppState,
    realm: &RealmCtx,
    form: &OAuthForm,
    required: bool,
) -> Result<Option<Proof>, OAuthError> {
    let header = crate::dpop::proof_header(&form.headers).map_err(|e| refusal(state, e))?;
    let Some(proof) = header else {
        if required {
            return Err(OAuthError::invalid_dpop_proof(
                "this client's access tokens are DPoP-bound: send a DPoP proof",
            ));
        }
        return Ok(None);
    };
    let url = request_url(state, &form.path);
    state
        .dpop
        .check(
            proof,
            &Expected {
                method: "POST",
                url: &url,
                access_token: None,
                require_nonce: realm.realm.security.use_dpop_nonce,
                now: state.now().timestamp(),
            },
        )
        .map(Some)
        .map_err(|e| refusal(state, e))
}
