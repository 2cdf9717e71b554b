//! The page frame: the HTML document, the sidebar (realm switcher and navigation), the top bar
//! with the signed-in admin, and the main area with title, flash message and content. Also the
//! two page shapes every area shares: the confirmation page and the error page.

use leptos::either::Either;
use leptos::prelude::*;

use crate::paths;

/// What every signed-in page shows around its content; provided to components as context.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// The signed-in admin's name.
    pub admin: String,
    pub csrf: String,
    /// Every realm, for the switcher.
    pub realms: Vec<String>,
    /// The realm the navigation points into.
    pub realm: String,
    pub section: Section,
    pub flash: Option<String>,
}

/// The navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Section {
    #[default]
    Dashboard,
    Clients,
    Users,
    Roles,
    IdentityProviders,
    Directories,
    Scopes,
    ApiResources,
    ClaimTypes,
    ExchangePolicies,
    Keys,
    Revocations,
    Sessions,
    Events,
    Realms,
}

impl Section {
    /// The realm-scoped entries, in sidebar order.
    const REALM: [Section; 14] = [
        Section::Dashboard,
        Section::Clients,
        Section::Users,
        Section::Roles,
        Section::IdentityProviders,
        Section::Directories,
        Section::Scopes,
        Section::ApiResources,
        Section::ClaimTypes,
        Section::ExchangePolicies,
        Section::Keys,
        Section::Revocations,
        Section::Sessions,
        Section::Events,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Section::Dashboard => "Dashboard",
            Section::Clients => "Clients",
            Section::Users => "Users",
            Section::Roles => "Roles",
            Section::IdentityProviders => "Identity providers",
            Section::Directories => "Directories",
            Section::Scopes => "Scopes",
            Section::ApiResources => "API resources",
            Section::ClaimTypes => "Claim types",
            Section::ExchangePolicies => "Exchange policies",
            Section::Keys => "Keys",
            Section::Revocations => "Revocations",
            Section::Sessions => "Sessions",
            Section::Events => "Audit log",
            Section::Realms => "Realms",
        }
    }

    /// The path segment after `/admin/realms/{realm}/`; empty for the dashboard.
    pub fn slug(self) -> &'static str {
        match self {
            Section::Dashboard | Section::Realms => "",
            Section::Clients => "clients",
            Section::Users => "users",
            Section::Roles => "roles",
            Section::IdentityProviders => "identity-providers",
            Section::Directories => "directories",
            Section::Scopes => "scopes",
            Section::ApiResources => "api-resources",
            Section::ClaimTypes => "claim-types",
            Section::ExchangePolicies => "exchange-policies",
            Section::Keys => "keys",
            Section::Revocations => "revocations",
            Section::Sessions => "sessions",
            Section::Events => "events",
        }
    }

    fn href(self, realm: &str) -> String {
        match self {
            Section::Dashboard => paths::realm(realm),
            Section::Realms => paths::REALMS.to_string(),
            other => paths::section(realm, other.slug()),
        }
    }
}

/// Progressive enhancement: the realm switcher submits on change, copy buttons copy, and parts
/// of a form that do not apply are hidden (`data-when="type=CLAIM"` shows an element only while
/// that radio is chosen, `data-unless="public"` hides it while that checkbox is ticked). Without
/// script every part stays visible and the server ignores what does not apply.
const SCRIPT: &str = r#"document.querySelectorAll('[data-autosubmit]').forEach(function(s){s.addEventListener('change',function(){s.form.submit();});});
document.querySelectorAll('[data-copy]').forEach(function(b){b.hidden=false;b.addEventListener('click',function(){var t=document.getElementById(b.getAttribute('data-copy'));if(!t||!navigator.clipboard){return;}navigator.clipboard.writeText(t.textContent).then(function(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy';},2000);});});});
function tesseraSync(){document.querySelectorAll('[data-when]').forEach(function(e){var p=e.getAttribute('data-when').split('=');var i=document.querySelector('input[name="'+p[0]+'"]:checked');e.hidden=!(i&&i.value===p[1]);});document.querySelectorAll('[data-unless]').forEach(function(e){var i=document.querySelector('input[type="checkbox"][name="'+e.getAttribute('data-unless')+'"]');e.hidden=!!(i&&i.checked);});}
document.addEventListener('change',tesseraSync);tesseraSync();"#;

/// The HTML document around a page.
#[component]
pub fn Document(
    #[prop(into)] title: String,
    #[prop(into)] body_class: String,
    children: Children,
) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="referrer" content="same-origin"/>
                <meta name="robots" content="noindex"/>
                <title>{format!("{title} · Tessera admin")}</title>
                <link rel="stylesheet" href="/admin/assets/console.css"/>
            </head>
            <body class=body_class>
                {children()}
                // The nonce the response's Content-Security-Policy allows (see render.rs).
                <script nonce=leptos::nonce::use_nonce() inner_html=SCRIPT></script>
            </body>
        </html>
    }
}

/// A signed-in page: `title`, optional `back` link and `actions`, then the content. The main
/// area comes first in the document so its form's submit button is the page's first one.
#[component]
pub fn Layout(
    #[prop(into)] title: String,
    /// A link above the title back to the enclosing list: (href, label).
    #[prop(optional)]
    back: Option<(String, String)>,
    /// Buttons beside the title.
    #[prop(default = None)]
    actions: Option<AnyView>,
    children: Children,
) -> impl IntoView {
    let chrome = use_context::<Chrome>().unwrap_or_default();
    view! {
        <Document title=title.clone() body_class="console">
            <main class="main" id="main">
                {back.map(|(href, label)| view! { <a class="back" href=href>{format!("← {label}")}</a> })}
                <div class="page-head">
                    <h1>{title}</h1>
                    {actions.map(|a| view! { <div class="actions">{a}</div> })}
                </div>
                {chrome.flash.clone().map(|f| view! { <div class="flash" role="status">{f}</div> })}
                {children()}
            </main>
            <TopBar chrome=chrome.clone()/>
            <SideBar chrome=chrome/>
        </Document>
    }
}

#[component]
fn TopBar(chrome: Chrome) -> impl IntoView {
    view! {
        <header class="topbar">
            <span class="crumb">
                <span class="muted">"Realm "</span>
                <a href=paths::realm(&chrome.realm)>{chrome.realm.clone()}</a>
            </span>
            <span class="who">
                <span class="muted">"Signed in as "</span>
                <strong id="whoami">{chrome.admin.clone()}</strong>
            </span>
            <form method="post" action=paths::LOGOUT class="signout">
                <input type="hidden" name="csrf" value=chrome.csrf.clone()/>
                <button type="submit" class="link">"Sign out"</button>
            </form>
        </header>
    }
}

#[component]
fn SideBar(chrome: Chrome) -> impl IntoView {
    let realm = chrome.realm.clone();
    let current = chrome.section;
    let mut realms = chrome.realms.clone();
    if !realms.contains(&realm) {
        realms.insert(0, realm.clone());
    }
    let options = realms
        .into_iter()
        .map(|r| {
            let selected = r == realm;
            let value = r.clone();
            view! { <option value=value selected=selected>{r}</option> }
        })
        .collect_view();
    let entries = Section::REALM
        .into_iter()
        .map(|s| nav_link(s, &realm, current))
        .collect_view();
    view! {
        <aside class="sidebar">
            <a class="brand" href=paths::HOME>
                <span class="brand-mark" aria-hidden="true"></span>
                "Tessera"
            </a>
            <form class="realm-switch" method="get" action="/admin/switch">
                <label for="realm-switch">"Realm"</label>
                <select id="realm-switch" name="realm" data-autosubmit="">
                    {options}
                </select>
                <noscript>
                    <button type="submit" class="secondary small">"Go"</button>
                </noscript>
            </form>
            <nav aria-label="Realm">
                <ul class="nav">{entries}</ul>
            </nav>
            <nav aria-label="Server">
                <p class="nav-label">"Server"</p>
                <ul class="nav">{nav_link(Section::Realms, &realm, current)}</ul>
            </nav>
        </aside>
    }
}

fn nav_link(section: Section, realm: &str, current: Section) -> impl IntoView {
    let active = section == current;
    view! {
        <li>
            <a
                href=section.href(realm)
                class:active=active
                aria-current=if active { Some("page") } else { None }
            >
                {section.label()}
            </a>
        </li>
    }
}

/// A confirmation before something that cannot be undone.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub title: String,
    /// The question, around the item's key: ("Delete client", "web", "?").
    pub verb: String,
    pub key: String,
    /// Said after the question, such as "This cannot be undone."
    pub consequence: String,
    /// Where the confirming POST goes.
    pub action: String,
    pub button: String,
    pub danger: bool,
    pub cancel: String,
}

impl Confirm {
    /// "Delete {noun} `key`? This cannot be undone."
    pub fn delete(noun: &str, key: &str, action: String, cancel: String) -> Self {
        Self {
            title: format!("Delete {noun}"),
            verb: format!("Delete {noun}"),
            key: key.to_string(),
            consequence: "This cannot be undone.".to_string(),
            action,
            button: format!("Delete {noun}"),
            danger: true,
            cancel,
        }
    }
}

pub fn confirm_page(c: Confirm) -> impl IntoView {
    let csrf = use_context::<Chrome>().unwrap_or_default().csrf;
    let class = if c.danger { "danger" } else { "" };
    // One text node on each side of the key keeps the sentence free of hydration markers.
    view! {
        <Layout title=c.title.clone()>
            <section class="panel confirm">
                <p class="question">
                    {format!("{} ", c.verb)}
                    <code>{c.key.clone()}</code>
                    {format!("? {}", c.consequence)}
                </p>
                <form method="post" action=c.action.clone() class="confirm-actions">
                    <input type="hidden" name="csrf" value=csrf/>
                    <button type="submit" id="confirm" class=class>{c.button.clone()}</button>
                    <a class="button secondary" href=c.cancel.clone()>"Cancel"</a>
                </form>
            </section>
        </Layout>
    }
}

/// An error shown inside the frame (or alone when there is no signed-in admin).
#[derive(Debug, Clone)]
pub struct Problem {
    pub title: String,
    pub message: String,
}

pub fn problem_page(p: Problem) -> impl IntoView {
    let signed_in = use_context::<Chrome>().is_some();
    let body = view! {
        <section class="panel problem">
            <p class="form-error" role="alert">{p.message.clone()}</p>
            <p><a href=paths::HOME>"Back to the console"</a></p>
        </section>
    };
    if signed_in {
        Either::Left(view! { <Layout title=p.title.clone()>{body}</Layout> })
    } else {
        Either::Right(view! {
            <Document title=p.title.clone() body_class="bare">
                <main class="card">
                    <h1>{p.title.clone()}</h1>
                    {body}
                </main>
            </Document>
        })
    }
}
