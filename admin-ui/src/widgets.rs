//! Small pieces of pages: badges, times and durations, lists of values, empty states, pagers,
//! key/value panels.

use admin_model::Timestamp;
use leptos::prelude::*;

/// An instant as people read it, with the machine form in `datetime`. `short` drops the seconds
/// and the zone for wide tables; the full instant stays in the tooltip.
#[component]
pub fn Time(at: Timestamp, #[prop(optional)] short: bool) -> impl IntoView {
    let full = at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let shown = if short {
        at.format("%Y-%m-%d %H:%M").to_string()
    } else {
        full.clone()
    };
    view! { <time datetime=at.to_rfc3339() title=full>{shown}</time> }
}

/// An optional instant, or a dash.
#[component]
pub fn MaybeTime(at: Option<Timestamp>, #[prop(optional)] short: bool) -> impl IntoView {
    match at {
        Some(at) => view! { <Time at=at short=short/> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// `3600` → `1 h`, `90` → `1 min 30 s`.
pub fn duration(seconds: i64) -> String {
    if seconds <= 0 {
        return format!("{seconds} s");
    }
    let parts = [(86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")];
    let mut rest = seconds;
    let mut out = Vec::new();
    for (unit, name) in parts {
        if rest >= unit {
            out.push(format!("{} {name}", rest / unit));
            rest %= unit;
        }
    }
    out.join(" ")
}

/// A lifetime override, or what applies without one (`fallback`).
pub fn lifetime(value: Option<i64>, fallback: &str) -> String {
    match value {
        Some(s) => duration(s),
        None => fallback.to_string(),
    }
}

/// A coloured label: `kind` is `ok`, `off`, `warn` or `info`.
#[component]
pub fn Badge(#[prop(into)] kind: String, #[prop(into)] text: String) -> impl IntoView {
    view! { <span class=format!("badge badge-{kind}")>{text}</span> }
}

/// Enabled / Disabled.
#[component]
pub fn Enabled(on: bool) -> impl IntoView {
    if on {
        view! { <Badge kind="ok" text="Enabled"/> }
    } else {
        view! { <Badge kind="off" text="Disabled"/> }
    }
}

/// Values as small chips, or a dash when there are none.
#[component]
pub fn Chips(values: Vec<String>) -> impl IntoView {
    if values.is_empty() {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    let chips = values
        .into_iter()
        .map(|v| view! { <span class="chip">{v}</span> })
        .collect_view();
    view! { <span class="chips">{chips}</span> }.into_any()
}

/// Text or a dash.
pub fn or_dash(value: Option<String>) -> AnyView {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => v.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// The empty state of a list: "No clients yet — Create the first one".
#[component]
pub fn Empty(
    #[prop(into)] what: String,
    #[prop(optional, into)] create: Option<(String, String)>,
    /// Set when a search found nothing, which is not the same as nothing existing.
    #[prop(default = None)]
    search: Option<String>,
) -> impl IntoView {
    let text = match search {
        Some(search) => format!("No {what} match “{search}”"),
        None => format!("No {what} yet"),
    };
    view! {
        <div class="empty">
            <p>
                {text}
                {create.map(|(href, label)| view! { " — " <a href=href>{label}</a> })}
            </p>
        </div>
    }
}

/// Links to the first and the next page of a list.
#[component]
pub fn Pager(
    /// Where the first page is.
    #[prop(into)]
    first: String,
    /// The next page's URL, when there is one.
    next: Option<String>,
    /// Whether this is not the first page.
    paged: bool,
    #[prop(optional, into)] next_label: Option<String>,
) -> impl IntoView {
    if next.is_none() && !paged {
        return None;
    }
    let label = next_label.unwrap_or_else(|| "Next page →".to_string());
    Some(view! {
        <nav class="pager" aria-label="Pages">
            {paged.then(|| view! { <a class="button secondary" href=first.clone()>"← First page"</a> })}
            {next.map(|href| view! { <a class="button secondary" rel="next" href=href>{label}</a> })}
        </nav>
    })
}

/// A definition list of (term, value) rows.
#[component]
pub fn Facts(rows: Vec<(&'static str, AnyView)>) -> impl IntoView {
    let rows = rows
        .into_iter()
        .map(|(term, value)| view! { <dt>{term}</dt> <dd>{value}</dd> })
        .collect_view();
    view! { <dl class="facts">{rows}</dl> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(3600), "1 h");
        assert_eq!(duration(90), "1 min 30 s");
        assert_eq!(duration(86_400 + 60), "1 d 1 min");
        assert_eq!(lifetime(None, "default"), "default");
    }
}
