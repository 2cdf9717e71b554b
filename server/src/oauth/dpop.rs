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
/// when the request carries none (whether one was required is the caller's business, once it
/// knows the client).
pub fn check_post(
    state: &AppState,
    realm: &RealmCtx,
    form: &OAuthForm,
) -> Result<Option<Proof>, OAuthError> {
    let header = crate::dpop::proof_header(&form.headers).map_err(|e| refusal(state, e))?;
    let Some(proof) = header else {
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

/// How an access token came to a resource endpoint (userinfo, the admin API, Plan B).
pub struct Presentation<'a> {
    pub scheme: super::bearer::Scheme,
    pub method: &'a str,
    /// The request's whole path (the original URI's).
    pub path: &'a str,
    pub headers: &'a axum::http::HeaderMap,
}

/// Why a resource endpoint refuses how a token was presented (RFC 9449 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A bound token as `Bearer`, or an unbound one as `DPoP`: `invalid_token`.
    Token(&'static str),
    /// The proof is missing or does not fit: `invalid_dpop_proof`.
    Proof(String),
    /// The proof needs this server nonce: `use_dpop_nonce`.
    Nonce(String),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Token(_) => "invalid_token",
            Refusal::Proof(_) => "invalid_dpop_proof",
            Refusal::Nonce(_) => "use_dpop_nonce",
        }
    }

    pub fn description(&self) -> &str {
        match self {
            Refusal::Token(why) => why,
            Refusal::Proof(why) => why,
            Refusal::Nonce(_) => "the DPoP proof must carry the server's nonce (DPoP-Nonce)",
        }
    }
}

/// The key a token is bound to (`cnf.jkt`), if any.
pub fn bound_key(claims: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    claims
        .get("cnf")
        .and_then(|cnf| cnf.get("jkt"))
        .and_then(serde_json::Value::as_str)
}

/// RFC 9449 §7: a token bound to a key comes with the `DPoP` scheme and a proof of that key
/// for this request and this token; an unbound token comes as `Bearer`. `use_nonce` is the
/// issuing realm's `use_dpop_nonce`.
pub fn check_presentation(
    state: &AppState,
    use_nonce: bool,
    token: &str,
    bound_to: Option<&str>,
    presented: &Presentation<'_>,
) -> Result<(), Refusal> {
    use super::bearer::Scheme;
    let Some(jkt) = bound_to else {
        if presented.scheme == Scheme::Dpop {
            return Err(Refusal::Token("the access token is not DPoP-bound"));
        }
        return Ok(());
    };
    if presented.scheme != Scheme::Dpop {
        return Err(Refusal::Token(
            "the access token is DPoP-bound: present it with the DPoP scheme and a proof",
        ));
    }
    let now = state.now().timestamp();
    let proof = match crate::dpop::proof_header(presented.headers) {
        Ok(Some(proof)) => proof,
        Ok(None) => return Err(Refusal::Proof("a DPoP proof is required".into())),
        Err(ProofError::Invalid(why)) => return Err(Refusal::Proof(why)),
        Err(ProofError::UseNonce) => return Err(Refusal::Nonce(state.dpop.nonce(now))),
    };
    let url = request_url(state, presented.path);
    let checked = state.dpop.check(
        proof,
        &Expected {
            method: presented.method,
            url: &url,
            access_token: Some(token),
            require_nonce: use_nonce,
            now,
        },
    );
    match checked {
        Ok(proof) if proof.jkt == jkt => Ok(()),
        Ok(_) => Err(Refusal::Proof(
            "the DPoP proof is signed with another key than the token is bound to".into(),
        )),
        Err(ProofError::Invalid(why)) => Err(Refusal::Proof(why)),
        Err(ProofError::UseNonce) => Err(Refusal::Nonce(state.dpop.nonce(now))),
    }
}
