//! A scripted browser: a cookie jar, manual redirects, and form filling, enough to sign in
//! through Tessera's pages the way a person would.

#![allow(dead_code)]

use std::sync::Arc;

use reqwest::header::LOCATION;
use reqwest::StatusCode;

pub struct Browser {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
}

/// One step of navigation.
pub struct Page {
    pub status: StatusCode,
    pub url: String,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of a hidden or text input named `name`, unescaped.
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!(r#"name="{name}" value=""#);
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(unescape(&self.body[start..end]))
    }

    /// The `action` of the first form.
    pub fn form_action(&self) -> Option<String> {
        let start = self.body.find("action=\"")? + 8;
        let end = self.body[start..].find('"')? + start;
        Some(unescape(&self.body[start..end]))
    }

    /// Query parameters of the redirect target.
    pub fn location_params(&self) -> Vec<(String, String)> {
        let location = self.location.clone().unwrap_or_default();
        let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    pub fn location_param(&self, name: &str) -> Option<String> {
        self.location_params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self::with_user_agent(None)
    }

    /// A browser that sends `User-Agent: agent` (none by default, as reqwest does).
    pub fn with_user_agent(agent: Option<&str>) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let mut builder = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none());
        if let Some(agent) = agent {
            builder = builder.user_agent(agent);
        }
        Self {
            http: builder.build().unwrap(),
            jar,
        }
    }

    async fn page(&self, url: String, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| {
                if l.starts_with('/') {
                    let base = url::Url::parse(&url).unwrap();
                    base.join(l).unwrap().to_string()
                } else {
                    l.to_string()
                }
            });
        Page {
            status,
            url,
            location,
            headers,
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        let response = self.http.get(url).send().await.unwrap();
        self.page(url.to_string(), response).await
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Page {
        let response = self.http.post(url).form(form).send().await.unwrap();
        self.page(url.to_string(), response).await
    }

    /// Follows redirects within `base` until one leaves it (the client's redirect URI) or a
    /// page is shown.
    pub async fn follow(&self, base: &str, mut page: Page) -> Page {
        for _ in 0..10 {
            match &page.location {
                Some(next) if page.status.is_redirection() && next.starts_with(base) => {
                    page = self.get(&next.clone()).await;
                }
                _ => return page,
            }
        }
        panic!("too many redirects");
    }

    /// Submits the login form on `page` and follows on to wherever it leads.
    pub async fn sign_in(&self, base: &str, page: &Page, username: &str, password: &str) -> Page {
        assert!(
            page.body.contains(r#"name="password""#),
            "a login page: {}",
            page.body
        );
        let action = format!("{base}{}", page.form_action().expect("a form"));
        let csrf = page.input("csrf").expect("a CSRF token");
        let interaction = page.input("interaction").expect("the pending login");
        let posted = self
            .post(
                &action,
                &[
                    ("csrf", &csrf),
                    ("interaction", &interaction),
                    ("username", username),
                    ("password", password),
                ],
            )
            .await;
        if posted.status != StatusCode::SEE_OTHER {
            return posted;
        }
        self.follow(base, posted).await
    }

    /// Starts at an authorization URL, signs in, and returns the final redirect to the client.
    pub async fn authorize_and_sign_in(
        &self,
        base: &str,
        authorize_url: &str,
        username: &str,
        password: &str,
    ) -> Page {
        let page = self.follow(base, self.get(authorize_url).await).await;
        if page.status == StatusCode::OK && page.body.contains(r#"name="password""#) {
            return self.sign_in(base, &page, username, password).await;
        }
        page
    }
}
