//! A real browser for the end-to-end tests: Debian's Chromium, headless, driven over WebDriver
//! by `fantoccini`. Each [`Browser`] runs its own chromedriver (which picks a free port itself)
//! with one session and a fresh profile, so tests run in parallel without sharing anything;
//! dropping it ends the session and kills chromedriver's process group.
//!
//! `TESSERA_CHROMEDRIVER` and `TESSERA_CHROMIUM` override `/usr/bin/chromedriver` and
//! `/usr/bin/chromium`; when the driver is missing, `scripts/chromium-webdriver` installs both.
//! Screenshots go to `<target>/screenshots/<test>/<nn>-<step>.png`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// How long any wait for the page may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(25);
/// The tallest full-page screenshot, in CSS pixels.
const MAX_SHOT_HEIGHT: u64 = 8000;

const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate sits in the workspace")
        .to_path_buf()
}

/// `CARGO_TARGET_DIR` (relative to the workspace root), else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// The chromedriver binary, installing Chromium and its driver once if they are missing. A
/// failed install is remembered, so parallel tests all fail with its message at once.
fn chromedriver() -> &'static Path {
    static PATH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PATH.get_or_init(find_or_install_chromedriver) {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

fn find_or_install_chromedriver() -> Result<PathBuf, String> {
    let path = std::env::var_os("TESSERA_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    if path.exists() {
        return Ok(path);
    }
    let script = workspace_root().join("scripts/chromium-webdriver");
    eprintln!(
        "{} is missing: running {}",
        path.display(),
        script.display()
    );
    let output = Command::new(&script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{} cannot run: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): install Debian's chromium and chromium-driver, or set \
             TESSERA_CHROMEDRIVER and TESSERA_CHROMIUM",
            script.display(),
            output.status
        ));
    }
    let installed = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !installed.exists() {
        return Err(format!(
            "{} printed {}, which does not exist",
            script.display(),
            installed.display()
        ));
    }
    Ok(installed)
}

fn chromium() -> String {
    std::env::var("TESSERA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// A chromedriver child process in its own process group; killed, with any browser it
/// started, on drop.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    /// Starts chromedriver on a port it picks and waits for the line announcing it.
    fn start() -> Self {
        use std::os::unix::process::CommandExt;
        let path = chromedriver();
        let mut child = Command::new(path)
            .args(["--port=0", "--log-level=WARNING"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{} cannot start: {e}", path.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        // Blocks until chromedriver has bound its port (it prints the line right after).
        let port = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.split("started successfully on port ").nth(1) {
                        break rest.trim_end_matches('.').parse::<u16>().ok();
                    }
                    seen.push(line);
                }
                _ => break None,
            }
        };
        let Some(port) = port else {
            let _ = child.kill();
            panic!(
                "chromedriver did not announce its port; it printed:\n{}",
                seen.join("\n")
            );
        };
        // Keep draining stdout so chromedriver never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and whatever browser it still runs.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ends a WebDriver session from synchronous code (a panicking test's drop), so Chromium
/// shuts down cleanly before its driver is killed.
fn delete_session(port: u16, session: &str) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

/// One headless Chromium session, for one test.
pub struct Browser {
    client: Client,
    session: String,
    test: String,
    step: AtomicUsize,
    closed: bool,
    // Dropped after the session is ended (see `Drop`), in this order.
    driver: ChromeDriver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a fresh Chromium session; `test` names the screenshot folder.
    pub async fn start(test: &str) -> Self {
        let driver = tokio::task::spawn_blocking(ChromeDriver::start)
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        let profile = tempfile::tempdir().expect("a temporary Chromium profile");
        let mut args: Vec<String> = CHROME_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium(), "args": args },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        // chromedriver listens on loopback only: plain HTTP, no TLS stack.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| panic!("Chromium ({}) does not start: {e}", chromium()));
        let session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let shots = target_dir().join("screenshots").join(test);
        let _ = std::fs::remove_dir_all(&shots);
        Self {
            client,
            session,
            test: test.to_string(),
            step: AtomicUsize::new(0),
            closed: false,
            driver,
            _profile: profile,
        }
    }

    /// The fantoccini client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the session (Chromium exits); dropping does the same when a test fails first.
    pub async fn close(mut self) {
        self.closed = true;
        self.client
            .clone()
            .close()
            .await
            .expect("the WebDriver session ends");
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("navigating to {url}: {e}"));
    }

    pub async fn current_url(&self) -> url::Url {
        self.client.current_url().await.expect("the current URL")
    }

    /// The start of the page's HTML, for failure messages.
    pub async fn page_snippet(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_else(|e| format!("<no URL: {e}>"));
        let source = self
            .client
            .source()
            .await
            .unwrap_or_else(|e| format!("<no source: {e}>"));
        let body = source
            .find("<body")
            .map(|at| &source[at..])
            .unwrap_or(&source);
        let cut: String = body.chars().take(3000).collect();
        format!("at {url}:\n{cut}")
    }

    /// Waits for an element matching `css`; fails with the URL and the page when none comes.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(TIMEOUT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "no element `{css}` within {TIMEOUT:?} ({e}) {}",
                self.page_snippet().await
            ),
        }
    }

    /// Every element matching `css` right now (no waiting).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("finding `{css}`: {e}"))
    }

    /// Whether an element matching `css` is on the page right now.
    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// The visible text of the element matching `css`, waiting for it.
    pub async fn text_of(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of `{css}`: {e}"))
    }

    /// Types `value` into the input or textarea named `name`, replacing what it held.
    pub async fn fill(&self, name: &str, value: &str) {
        self.fill_css(&format!(r#"[name="{name}"]"#), value).await;
    }

    /// Types `value` into the field `css` selects (for pages with several fields of one name).
    pub async fn fill_css(&self, css: &str, value: &str) {
        let name = css;
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clearing `{name}`: {e}"));
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("typing into `{name}`: {e}"));
    }

    /// Ticks the checkbox named `name` with value `value` (leaves it ticked if it was).
    pub async fn check(&self, name: &str, value: &str) {
        let css = format!(r#"input[type="checkbox"][name="{name}"][value="{value}"]"#);
        let checkbox = self.find(&css).await;
        if !checkbox.is_selected().await.expect("checkbox state") {
            checkbox
                .click()
                .await
                .unwrap_or_else(|e| panic!("ticking `{css}`: {e}"));
        }
    }

    /// Unticks the checkbox named `name` with value `value` (leaves it unticked if it was).
    pub async fn uncheck(&self, name: &str, value: &str) {
        let css = format!(r#"input[type="checkbox"][name="{name}"][value="{value}"]"#);
        let checkbox = self.find(&css).await;
        if checkbox.is_selected().await.expect("checkbox state") {
            checkbox
                .click()
                .await
                .unwrap_or_else(|e| panic!("unticking `{css}`: {e}"));
        }
    }

    /// Clicks the page's first `<button type="submit">` (within `<main>` when the page has
    /// one, so a header's sign-out form is never it) and waits for the next page to load.
    pub async fn click_submit(&self) {
        if self.exists(r#"main button[type="submit"]"#).await {
            self.click_and_wait(r#"main button[type="submit"]"#).await;
        } else {
            self.click_and_wait(r#"button[type="submit"]"#).await;
        }
    }

    /// Clicks the element matching `css` and waits until a new document has replaced the
    /// current one (the old root goes stale), so the next lookup sees the new page.
    pub async fn click_and_wait(&self, css: &str) {
        let old_root = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("the page has a root");
        let target = self.find(css).await;
        target
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking `{css}`: {e}"));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match old_root.tag_name().await {
                // Stale, or mid-navigation "no such element" / "unknown error: … does not
                // belong to the document" (Chromium words it both ways): the old document is
                // gone either way.
                Err(CmdError::Standard(e))
                    if e.error == ErrorStatus::StaleElementReference
                        || e.error == ErrorStatus::NoSuchElement
                        || e.message.contains("does not belong to the document") =>
                {
                    break
                }
                Err(e) => panic!("waiting for the page after clicking `{css}`: {e}"),
                Ok(_) if Instant::now() > deadline => panic!(
                    "clicking `{css}` loaded no new page within {TIMEOUT:?} {}",
                    self.page_snippet().await
                ),
                Ok(_) => tokio::time::sleep(POLL).await,
            }
        }
        // The new document is there; let it finish loading before anyone looks at it.
        self.find("body").await;
    }

    /// Gives the browser a WebAuthn virtual authenticator (W3C WebAuthn §11, "Add Virtual
    /// Authenticator"): a platform authenticator with resident keys that verifies its user, as a
    /// phone or laptop with a passkey would. Returns its id.
    pub async fn add_virtual_authenticator(&self) -> String {
        let answer = self
            .client
            .issue_cmd(AddVirtualAuthenticator)
            .await
            .expect("the WebDriver adds a virtual authenticator");
        answer
            .as_str()
            .map(str::to_string)
            .or_else(|| answer["authenticatorId"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Saves a PNG of the whole page to `<target>/screenshots/<test>/<nn>-<step>.png`. A page
    /// taller than the window is shot by growing the window to fit it for the moment.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        let dir = target_dir().join("screenshots").join(&self.test);
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{n:02}-{step}.png"));
        let heights = self
            .client
            .execute(
                "return [document.documentElement.scrollHeight, window.innerHeight];",
                vec![],
            )
            .await
            .expect("the page's height");
        let height = |i: usize| heights[i].as_u64().unwrap_or(0);
        let (page, viewport) = (height(0), height(1));
        let (width, window) = self.client.get_window_size().await.expect("window size");
        let grow = page > viewport && viewport > 0;
        if grow {
            let tall = (page + window - viewport).min(MAX_SHOT_HEIGHT) as u32;
            self.client
                .set_window_size(width as u32, tall)
                .await
                .expect("the window grows");
        }
        let png = self.client.screenshot().await.expect("a screenshot");
        if grow {
            self.client
                .set_window_size(width as u32, window as u32)
                .await
                .expect("the window shrinks back");
        }
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed {
            delete_session(self.driver.port, &self.session);
        }
    }
}

/// The WebDriver extension command of WebAuthn §11.3.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl fantoccini::wd::WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
            "automaticPresenceSimulation": true,
        });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// A redirect URI that answers: a tiny HTTP listener on a free loopback port recording every
/// request target, and showing a page with `#callback` so the browser has somewhere to land.
pub struct Callback {
    pub uri: String,
    requests: mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Callback {
    pub async fn start(path: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the callback listener");
        let port = listener.local_addr().expect("local address").port();
        let (sender, requests) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let sender = sender.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head);
                    let target = head.split_whitespace().nth(1).unwrap_or_default();
                    let _ = sender.send(target.to_string());
                    let body = "<!doctype html><title>callback</title><h1 id=\"callback\">Back at the client</h1>";
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            uri: format!("http://127.0.0.1:{port}{path}"),
            requests,
            task,
        }
    }

    /// The next request target (path and query) the browser sent to the redirect URI's path.
    pub async fn next_request(&mut self) -> String {
        let path = url::Url::parse(&self.uri)
            .expect("a URL")
            .path()
            .to_string();
        let wait = async {
            while let Some(target) = self.requests.recv().await {
                if target.starts_with(&path) {
                    return target;
                }
            }
            panic!("the callback listener stopped");
        };
        tokio::time::timeout(TIMEOUT, wait)
            .await
            .unwrap_or_else(|_| panic!("the browser never came back to {}", self.uri))
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The query parameters of a URL.
pub fn query_params(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

pub fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
