//! Fetches of URLs that clients supply (`jwks_uri`, later metadata documents): a time limit, a
//! size limit, no redirects, and no private, loopback or link-local addresses unless the realm
//! allows them (`allow_private_fetch`, for closed networks and tests). Every address a name
//! resolves to is checked at connection time, so DNS cannot point a public name inward.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a fetch gave nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the URL is not an http(s) URL")]
    BadUrl,
    #[error("the URL points at a private, loopback or link-local address")]
    PrivateAddress,
    #[error("the server could not be reached or did not answer in time")]
    Unreachable,
    #[error("the server answered with status {0}")]
    Status(u16),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the answer is not JSON")]
    NotJson,
    #[error("the last fetch failed moments ago; it is not tried again yet")]
    RecentlyFailed,
}

/// Whether an address is one a fetch for an outside party must not reach.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                // 100.64.0.0/10 (carrier-grade NAT), 0.0.0.0/8, 192.0.0.0/24 (IETF protocol
                // assignments), 198.18.0.0/15 (benchmarking), 240.0.0.0/4 (reserved).
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64)
                || v4.octets()[0] == 0
                || (v4.octets()[0] == 192 && v4.octets()[1] == 0 && v4.octets()[2] == 0)
                || (v4.octets()[0] == 198 && (v4.octets()[1] & 0xFE) == 18)
                || v4.octets()[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let segments = v6.segments();
            let first = segments[0];
            // IPv4 inside IPv6 by translation or tunnelling (NAT64 64:ff9b::/96 and
            // 64:ff9b:1::/48, 6to4 2002::/16, IPv4-compatible ::a.b.c.d) reaches IPv4 space:
            // all are refused rather than decoded.
            let embeds_v4 = first == 0x2002
                || (first == 0x64 && segments[1] == 0xff9b)
                || segments[..6].iter().all(|s| *s == 0);
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || embeds_v4
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        }
    }
}

/// Resolves names and keeps only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| !is_internal(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(std::io::Error::other(
                    "the name resolves to private addresses only",
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Two HTTP clients: one that reaches public addresses only, one that reaches any.
#[derive(Clone)]
pub struct Outbound {
    public_only: reqwest::Client,
    any: reqwest::Client,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outbound(..)")
    }
}

const TIMEOUT: Duration = Duration::from_secs(5);

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve the name itself, out of the guard's sight.
        .no_proxy()
        .user_agent(concat!("Tessera/", env!("CARGO_PKG_VERSION")))
}

impl Outbound {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            public_only: builder().dns_resolver(Arc::new(PublicOnly)).build()?,
            any: builder().build()?,
        })
    }

    /// GETs `url` as JSON of at most `max_bytes`, from public addresses only unless
    /// `allow_private`.
    pub async fn get_json(
        &self,
        url: &str,
        allow_private: bool,
        max_bytes: usize,
    ) -> Result<serde_json::Value, FetchError> {
        self.get_document(url, allow_private, max_bytes)
            .await
            .map(|(document, _)| document)
    }

    /// As [`Outbound::get_json`], with how long the answer may be kept by its
    /// `Cache-Control` (`max-age`; `no-store`/`no-cache` give zero; absent gives `None`).
    pub async fn get_document(
        &self,
        url: &str,
        allow_private: bool,
        max_bytes: usize,
    ) -> Result<(serde_json::Value, Option<Duration>), FetchError> {
        let parsed = url::Url::parse(url).map_err(|_| FetchError::BadUrl)?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(FetchError::BadUrl);
        }
        let client = if allow_private {
            &self.any
        } else {
            // Literal addresses never reach the resolver: check them here.
            let literal = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                    return Err(FetchError::PrivateAddress)
                }
                Some(url::Host::Domain(_)) => None,
                None => return Err(FetchError::BadUrl),
            };
            if literal.is_some_and(is_internal) {
                return Err(FetchError::PrivateAddress);
            }
            &self.public_only
        };
        let request = client
            .get(parsed)
            .header(reqwest::header::ACCEPT, "application/json");
        let mut response = crate::telemetry::send(request, crate::telemetry::Propagation::Withhold)
            .await
            .map_err(|e| {
                if format!("{e:?}").contains("private addresses only") {
                    FetchError::PrivateAddress
                } else {
                    FetchError::Unreachable
                }
            })?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(cache_lifetime);
        if response
            .content_length()
            .is_some_and(|n| n > max_bytes as u64)
        {
            return Err(FetchError::TooLarge(max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| FetchError::Unreachable)?
        {
            if body.len() + chunk.len() > max_bytes {
                return Err(FetchError::TooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        let document = serde_json::from_slice(&body).map_err(|_| FetchError::NotJson)?;
        Ok((document, max_age))
    }
}

/// How long a `Cache-Control` value lets an answer be kept.
fn cache_lifetime(value: &str) -> Option<Duration> {
    let mut lifetime = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            lifetime = seconds
                .trim_matches('"')
                .parse()
                .ok()
                .map(Duration::from_secs);
        }
    }
    lifetime
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "::10.0.0.1",
            "fec0::1",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["1.1.1.1", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn literal_and_local_hosts_are_refused_without_a_connection() {
        let outbound = Outbound::new().unwrap();
        for url in [
            "http://127.0.0.1:9/jwks",
            "http://[::1]:9/jwks",
            "http://localhost:9/jwks",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(matches!(
                outbound.get_json(url, false, 1024).await,
                Err(FetchError::PrivateAddress)
            ));
        }
        assert!(matches!(
            outbound.get_json("file:///etc/passwd", true, 1024).await,
            Err(FetchError::BadUrl)
        ));
    }
}
