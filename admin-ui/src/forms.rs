//! Form controls. A page provides the [`FormState`] (values to show and errors to report) as
//! context; each control finds its value and its error by its name, which is the API field
//! name. An error sits right after its input as `<p class="field-error" data-field=…>`.

use leptos::prelude::*;

use crate::form_data::{Errors, FormData};
use crate::layout::Chrome;

/// The values and errors the controls of a page show.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    pub values: FormData,
    pub errors: Errors,
}

impl FormState {
    pub fn new(values: FormData) -> Self {
        Self {
            values,
            errors: Errors::default(),
        }
    }

    pub fn with_errors(values: FormData, errors: Errors) -> Self {
        Self { values, errors }
    }
}

fn state() -> FormState {
    use_context::<FormState>().unwrap_or_default()
}

fn id_of(name: &str) -> String {
    format!("f-{name}")
}

#[component]
fn FieldError(#[prop(into)] name: String, message: Option<String>) -> impl IntoView {
    message.map(|m| {
        view! { <p class="field-error" data-field=name.clone() id=format!("e-{name}")>{m}</p> }
    })
}

#[component]
fn Hint(hint: Option<String>) -> impl IntoView {
    hint.map(|h| view! { <p class="hint">{h}</p> })
}

/// The hidden CSRF input every console form carries.
#[component]
pub fn Csrf() -> impl IntoView {
    let token = use_context::<Chrome>().unwrap_or_default().csrf;
    view! { <input type="hidden" name="csrf" value=token/> }
}

/// The form-level error, if any.
#[component]
pub fn FormError() -> impl IntoView {
    state()
        .errors
        .form
        .map(|m| view! { <p class="form-error" role="alert">{m}</p> })
}

/// A one-line input (`kind`: text, email, password, number, url…).
#[component]
pub fn Text(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional, into)] kind: Option<String>,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] required: bool,
    #[prop(optional, into)] placeholder: Option<String>,
    #[prop(optional, into)] autocomplete: Option<String>,
) -> impl IntoView {
    let state = state();
    let error = state.errors.field(&name);
    let has_error = error.is_some();
    let kind = kind.unwrap_or_else(|| "text".to_string());
    // A password or secret never travels back into the page, not even after an error.
    let value = (kind != "password").then(|| state.values.value(&name));
    let invalid = error.as_ref().map(|_| "true");
    let described = error.as_ref().map(|_| format!("e-{name}"));
    view! {
        <div class="field" class:has-error=has_error>
            <label for=id_of(&name)>{label}</label>
            <input
                type=kind
                id=id_of(&name)
                name=name.clone()
                value=value
                readonly=readonly
                required=required
                placeholder=placeholder
                autocomplete=autocomplete
                aria-invalid=invalid
                aria-describedby=described
            />
            <FieldError name=name.clone() message=error/>
            <Hint hint=hint/>
        </div>
    }
}

/// A multi-line input; lists are edited one per line.
#[component]
pub fn TextArea(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional)] rows: Option<u32>,
    #[prop(optional)] mono: bool,
    #[prop(optional, into)] placeholder: Option<String>,
) -> impl IntoView {
    let state = state();
    let error = state.errors.field(&name);
    let has_error = error.is_some();
    let value = state.values.value(&name);
    let invalid = error.as_ref().map(|_| "true");
    view! {
        <div class="field" class:has-error=has_error>
            <label for=id_of(&name)>{label}</label>
            <textarea
                id=id_of(&name)
                name=name.clone()
                rows=rows.unwrap_or(3)
                class:mono=mono
                placeholder=placeholder
                spellcheck="false"
                aria-invalid=invalid
            >
                {value}
            </textarea>
            <FieldError name=name.clone() message=error/>
            <Hint hint=hint/>
        </div>
    }
}

/// A yes/no checkbox posting `name=true` when ticked.
#[component]
pub fn Check(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let state = state();
    let error = state.errors.field(&name);
    let has_error = error.is_some();
    let checked = state.values.checked(&name);
    view! {
        <div class="field check" class:has-error=has_error>
            <label class="check-label">
                <input type="checkbox" id=id_of(&name) name=name.clone() value="true" checked=checked/>
                <span>{label}</span>
            </label>
            <FieldError name=name.clone() message=error/>
            <Hint hint=hint/>
        </div>
    }
}

/// A group of checkboxes sharing `name`, one per value.
#[component]
pub fn Checks(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    options: Vec<(String, String)>,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let state = state();
    let error = state.errors.field(&name);
    let has_error = error.is_some();
    let selected = state.values.all(&name);
    let boxes = options
        .into_iter()
        .map(|(value, text)| {
            let checked = selected.contains(&value);
            view! {
                <label class="check-label">
                    <input type="checkbox" name=name.clone() value=value.clone() checked=checked/>
                    <span>{text}</span>
                    <code class="muted">{value}</code>
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="field checks" class:has-error=has_error>
            <legend>{label}</legend>
            {boxes}
            <FieldError name=name.clone() message=error/>
            <Hint hint=hint/>
        </fieldset>
    }
}

/// One choice out of a few, as radio buttons.
#[component]
pub fn Radios(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    options: Vec<(String, String)>,
) -> impl IntoView {
    let state = state();
    let error = state.errors.field(&name);
    let has_error = error.is_some();
    let current = state.values.value(&name);
    let radios = options
        .into_iter()
        .map(|(value, text)| {
            let checked = value == current;
            view! {
                <label class="check-label">
                    <input type="radio" name=name.clone() value=value.clone() checked=checked/>
                    <span>{text}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="field checks radios" class:has-error=has_error>
            <legend>{label}</legend>
            {radios}
            <FieldError name=name.clone() message=error/>
        </fieldset>
    }
}

/// A drop-down of (value, label) options.
#[component]
pub fn Select(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    options: Vec<(String, String)>,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let state = state();
    let error = state.errors.field(&name);
    let has_error = error.is_some();
    let current = state.values.value(&name);
    let options = options
        .into_iter()
        .map(|(value, text)| {
            let selected = value == current;
            view! { <option value=value selected=selected>{text}</option> }
        })
        .collect_view();
    view! {
        <div class="field" class:has-error=has_error>
            <label for=id_of(&name)>{label}</label>
            <select id=id_of(&name) name=name.clone()>{options}</select>
            <FieldError name=name.clone() message=error/>
            <Hint hint=hint/>
        </div>
    }
}

/// A titled group of fields inside a form.
#[component]
pub fn Group(
    #[prop(into)] title: String,
    #[prop(optional, into)] note: Option<String>,
    /// Shown only while a radio has a value (`type=CLAIM`), with script.
    #[prop(optional, into)]
    when: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="group" data-when=when>
            <div class="group-head">
                <h2>{title}</h2>
                {note.map(|n| view! { <p class="muted">{n}</p> })}
            </div>
            <div class="group-body">{children()}</div>
        </section>
    }
}

/// The submit row of a form, with an optional cancel link.
#[component]
pub fn Submit(
    #[prop(into)] label: String,
    #[prop(optional, into)] cancel: Option<String>,
) -> impl IntoView {
    view! {
        <div class="form-actions">
            <button type="submit">{label}</button>
            {cancel.map(|href| view! { <a class="button secondary" href=href>"Cancel"</a> })}
        </div>
    }
}

/// `(value, value)` options from plain values.
pub fn options(values: &[&str]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| (v.to_string(), v.to_string()))
        .collect()
}
