//! Submitted form fields, kept as the ordered name/value pairs the browser sent (checkbox
//! groups repeat a name). The same type pre-fills forms from a view, so re-rendering after an
//! error and showing a stored item go through one path.

use admin_model::AdminError;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    /// Parses an `application/x-www-form-urlencoded` body or query string.
    pub fn parse(bytes: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, as sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or empty.
    pub fn value(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// The trimmed value of `name`, `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// The trimmed value of `name`, empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.opt(name).unwrap_or_default()
    }

    /// Every value of `name` (a checkbox group).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether the checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v != "false")
    }

    /// A one-per-line textarea as a list: trimmed, blank lines dropped.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.get(name)
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A list typed one per line or separated by spaces or commas (scopes, roles).
    pub fn words(&self, name: &str) -> Vec<String> {
        self.get(name)
            .unwrap_or_default()
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.0.push((name.to_string(), value.into()));
        self
    }

    /// Sets `name` when `value` is present.
    pub fn set_opt(&mut self, name: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(value) = value {
            self.set(name, value.to_string());
        }
        self
    }

    /// Ticks the checkbox `name` when `on`.
    pub fn set_flag(&mut self, name: &str, on: bool) -> &mut Self {
        if on {
            self.set(name, "true");
        }
        self
    }

    /// Fills a one-per-line textarea.
    pub fn set_lines(&mut self, name: &str, lines: &[String]) -> &mut Self {
        self.set(name, lines.join("\n"))
    }

    /// Ticks each value of a checkbox group.
    pub fn set_all(&mut self, name: &str, values: &[String]) -> &mut Self {
        for value in values {
            self.set(name, value.clone());
        }
        self
    }
}

/// What went wrong with a submitted form: one message per field shown next to its input,
/// and a form-level message for everything else.
#[derive(Debug, Clone, Default)]
pub struct Errors {
    pub form: Option<String>,
    pub fields: BTreeMap<String, String>,
    /// The HTTP status of the re-rendered form.
    pub status: u16,
}

impl Errors {
    pub fn new() -> Self {
        Self {
            status: 422,
            ..Self::default()
        }
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.form.is_none() && self.fields.is_empty()
    }

    /// The errors of a refused operation. Messages for fields the form does not show
    /// (`shown`) join the form-level message so none is lost.
    pub fn from_admin(error: &AdminError, shown: &[&str]) -> Self {
        let mut errors = Self {
            status: error.status(),
            ..Self::default()
        };
        match error {
            AdminError::Invalid { fields, message } => {
                let mut unshown = Vec::new();
                for (field, msg) in fields {
                    match shown_field(field, shown) {
                        Some(name) => errors.add(name, msg.clone()),
                        None => unshown.push(format!("{field}: {msg}")),
                    }
                }
                errors.form = Some(if fields.is_empty() {
                    message.clone()
                } else if unshown.is_empty() {
                    MARKED_BELOW.to_string()
                } else {
                    unshown.join("; ")
                });
            }
            other => errors.form = Some(sentence(&other.to_string())),
        }
        errors
    }
}

impl Errors {
    /// The errors of a refused create. A conflict there means the key is taken, so it is said
    /// next to the key's input, the first of `shown`.
    pub fn from_create(error: &AdminError, shown: &[&str]) -> Self {
        let mut errors = Self::from_admin(error, shown);
        if let (AdminError::Conflict(message), Some(key)) = (error, shown.first()) {
            errors.add(key, sentence(message));
            errors.form = Some(MARKED_BELOW.to_string());
        }
        errors
    }
}

/// The form-level message when every problem sits next to its field.
const MARKED_BELOW: &str = "Please correct the fields marked below.";

/// The input a field name from the service refers to: `redirect_uris[2]` and
/// `data.token` point at `redirect_uris` and `token`.
fn shown_field<'a>(field: &str, shown: &[&'a str]) -> Option<&'a str> {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let last = field.rsplit('.').next().unwrap_or(field);
    shown
        .iter()
        .find(|s| **s == field || **s == base || **s == last)
        .copied()
}

/// Starts a message with a capital letter for display.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Parses form values into an input, collecting a message per field that cannot be read.
pub struct Reader<'a> {
    pub form: &'a FormData,
    pub errors: Errors,
}

impl<'a> Reader<'a> {
    pub fn new(form: &'a FormData) -> Self {
        Self {
            form,
            errors: Errors::new(),
        }
    }

    /// A lifetime in seconds; blank means "inherit" (`Some(None)`).
    pub fn seconds(&mut self, name: &str) -> Option<Option<i64>> {
        self.whole(name, "must be a whole number of seconds")
    }

    /// A whole number that may be left empty.
    pub fn number(&mut self, name: &str) -> Option<Option<i64>> {
        self.whole(name, "must be a whole number")
    }

    fn whole(&mut self, name: &str, message: &str) -> Option<Option<i64>> {
        match self.form.opt(name) {
            None => Some(None),
            Some(v) => match v.parse::<i64>() {
                Ok(n) => Some(Some(n)),
                Err(_) => {
                    self.errors.add(name, message);
                    None
                }
            },
        }
    }

    /// A JSON object (user claims); blank means an empty object.
    pub fn json_object(
        &mut self,
        name: &str,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        let Some(text) = self.form.opt(name) else {
            return Some(serde_json::Map::new());
        };
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(map)) => Some(map),
            Ok(_) => {
                self.errors
                    .add(name, "must be a JSON object, such as {\"name\": \"Alice\"}");
                None
            }
            Err(e) => {
                self.errors.add(name, format!("is not valid JSON: {e}"));
                None
            }
        }
    }

    /// A JSON document that may be cleared: blank means `null`.
    pub fn nullable_json(&mut self, name: &str) -> Option<Option<serde_json::Value>> {
        let Some(text) = self.form.opt(name) else {
            return Some(None);
        };
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value) => Some(Some(value)),
            Err(e) => {
                self.errors.add(name, format!("is not valid JSON: {e}"));
                None
            }
        }
    }

    /// Text that may be cleared: blank means `null`.
    pub fn nullable(&self, name: &str) -> Option<Option<String>> {
        Some(self.form.opt(name))
    }

    /// Ok with the input when every field could be read.
    pub fn finish<T>(self, input: T) -> Result<T, Errors> {
        if self.errors.is_empty() {
            Ok(input)
        } else {
            Err(self.errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_repeated_names_lines_and_checkboxes() {
        let form = FormData::parse(
            b"grant_types=a&grant_types=b&redirect_uris=%20x%0D%0A%0D%0Ay%20&public=true&name=+n+",
        );
        assert_eq!(form.all("grant_types"), ["a", "b"]);
        assert_eq!(form.lines("redirect_uris"), ["x", "y"]);
        assert!(form.checked("public"));
        assert!(!form.checked("enabled"));
        assert_eq!(form.text("name"), "n");
        assert_eq!(form.value("name"), " n ");
        assert_eq!(form.opt("missing"), None);
    }

    #[test]
    fn maps_service_field_names_to_inputs() {
        let mut fields = BTreeMap::new();
        fields.insert("redirect_uris[1]".to_string(), "bad".to_string());
        fields.insert("data.token".to_string(), "missing".to_string());
        fields.insert("other".to_string(), "nope".to_string());
        let error = AdminError::Invalid {
            message: "x".into(),
            fields,
        };
        let errors = Errors::from_admin(&error, &["redirect_uris", "token"]);
        assert_eq!(errors.field("redirect_uris").as_deref(), Some("bad"));
        assert_eq!(errors.field("token").as_deref(), Some("missing"));
        assert_eq!(errors.form.as_deref(), Some("other: nope"));
        assert_eq!(errors.status, 422);
    }

    #[test]
    fn reader_flags_bad_numbers_and_json() {
        let form = FormData::parse(b"access_token_lifetime=abc&claims=%5B1%5D&id_token_lifetime=");
        let mut reader = Reader::new(&form);
        assert_eq!(reader.seconds("access_token_lifetime"), None);
        assert_eq!(reader.seconds("id_token_lifetime"), Some(None));
        assert_eq!(reader.json_object("claims"), None);
        let errors = reader.finish(()).err().unwrap_or_default();
        assert!(errors.field("access_token_lifetime").is_some());
        assert!(errors.field("claims").is_some());
    }
}
