//! The tower layer that admits requests with a good token (and the scopes a route needs), and
//! the axum extractor that hands the verified token to handlers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::challenge::Refusal;
use crate::verify::{unix_now, AccessToken, Verifier};

/// Requires a valid access token carrying every scope in `scopes`.
#[derive(Clone, Debug)]
pub struct RequireToken {
    verifier: Verifier,
    scopes: Arc<Vec<String>>,
}

impl RequireToken {
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            scopes: Arc::new(Vec::new()),
        }
    }

    /// The scopes every request through this layer needs.
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = Arc::new(scopes.into_iter().map(Into::into).collect());
        self
    }
}

impl<S> Layer<S> for RequireToken {
    type Service = RequireTokenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireTokenService {
            inner,
            verifier: self.verifier.clone(),
            scopes: self.scopes.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct RequireTokenService<S> {
    inner: S,
    verifier: Verifier,
    scopes: Arc<Vec<String>>,
}

/// How the token came: its scheme and value.
fn presented(headers: &HeaderMap) -> Result<(bool, &str), Refusal> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(Refusal::missing)?
        .to_str()
        .map_err(|_| Refusal::invalid_token("the Authorization header is not text"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(Refusal::missing)?;
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok((false, token))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Ok((true, token))
    } else {
        Err(Refusal::missing())
    }
}

impl Verifier {
    /// Admits a request: the token verified, presented the way its binding asks (RFC 9449
    /// §7), carrying `scopes`. A 401 names the scopes too (RFC 6750 §3), so a client that
    /// has no token yet knows what to ask for (the MCP authorization spec relies on it).
    pub async fn admit(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        scopes: &[String],
    ) -> Result<AccessToken, Refusal> {
        self.verify_request(method, path, headers, scopes)
            .await
            .map_err(|mut refusal| {
                if refusal.scope.is_none() && !scopes.is_empty() {
                    refusal.scope = Some(scopes.join(" "));
                }
                refusal
            })
    }

    async fn verify_request(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        scopes: &[String],
    ) -> Result<AccessToken, Refusal> {
        let (dpop, token) = presented(headers)?;
        let access = self.verify(token).await?;
        match (access.bound_key(), dpop) {
            (Some(jkt), true) => {
                let mut proofs = headers.get_all("dpop").iter();
                let proof = match (proofs.next(), proofs.next()) {
                    (Some(proof), None) => proof
                        .to_str()
                        .map_err(|_| Refusal::invalid_proof("the DPoP header is not text"))?,
                    _ => return Err(Refusal::invalid_proof("send exactly one DPoP proof")),
                };
                let url = format!("{}{path}", self.config().public_origin);
                crate::dpop::check(self.replays(), proof, method, &url, token, jkt, unix_now())?;
            }
            (Some(_), false) => {
                let mut refusal = Refusal::invalid_token(
                    "the token is DPoP-bound: present it with the DPoP scheme and a proof",
                );
                refusal.dpop = true;
                return Err(refusal);
            }
            (None, true) => return Err(Refusal::invalid_token("the token is not DPoP-bound")),
            (None, false) => {}
        }
        if scopes.iter().any(|s| !access.has_scope(s)) {
            return Err(Refusal::insufficient_scope(scopes));
        }
        Ok(access)
    }
}

impl<S> Service<Request> for RequireTokenService<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The clone that was made ready serves this request; a fresh clone stays behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let scopes = self.scopes.clone();
        Box::pin(async move {
            // Nested routers see a suffix of the path; the proof names the whole URL.
            let path = request
                .extensions()
                .get::<axum::extract::OriginalUri>()
                .map_or_else(|| request.uri().path(), |original| original.0.path())
                .to_string();
            let admitted = verifier
                .admit(request.method().as_str(), &path, request.headers(), &scopes)
                .await;
            match admitted {
                Ok(token) => {
                    request.extensions_mut().insert(token);
                    inner.call(request).await
                }
                Err(refusal) => Ok(refusal
                    .with_metadata(&verifier.config().metadata_url)
                    .into_response()),
            }
        })
    }
}

/// The token a [`RequireToken`] layer admitted.
impl<S: Send + Sync> FromRequestParts<S> for AccessToken {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Refusal> {
        parts
            .extensions
            .get::<AccessToken>()
            .cloned()
            .ok_or_else(Refusal::missing)
    }
}
