//! Nullable durations in whole seconds: like [`crate::nullable`], and a number without a
//! fractional part (`3600.0`) reads as the integer it is, as JSON Schema's `integer` (which
//! the OpenAPI document states) counts it.

use serde::de::Error;
use serde::{Deserialize, Deserializer, Serializer};

/// 2^53: above it, a float no longer holds every integer exactly.
const EXACT_LIMIT: f64 = 9_007_199_254_740_992.0;

pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<Option<i64>>, D::Error>
where
    D: Deserializer<'de>,
{
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(Some(None));
    };
    if let Some(whole) = number.as_i64() {
        return Ok(Some(Some(whole)));
    }
    match number.as_f64() {
        Some(value) if value.fract() == 0.0 && value.abs() < EXACT_LIMIT => {
            Ok(Some(Some(value as i64)))
        }
        _ => Err(D::Error::custom(format!(
            "invalid value: {number}, expected whole seconds"
        ))),
    }
}

pub fn serialize<S>(value: &Option<Option<i64>>, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
{
    crate::nullable::serialize(value, serializer)
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct Lifetime {
        #[serde(default, with = "crate::nullable_seconds")]
        value: Option<Option<i64>>,
    }

    fn read(json: &str) -> Result<Option<Option<i64>>, serde_json::Error> {
        serde_json::from_str::<Lifetime>(json).map(|l| l.value)
    }

    #[test]
    fn whole_numbers_in_any_notation_are_seconds() {
        assert_eq!(read(r#"{"value": 3600}"#).unwrap(), Some(Some(3600)));
        assert_eq!(read(r#"{"value": 3600.0}"#).unwrap(), Some(Some(3600)));
        assert_eq!(read(r#"{"value": 36e2}"#).unwrap(), Some(Some(3600)));
        assert_eq!(read(r#"{"value": null}"#).unwrap(), Some(None));
        assert_eq!(read(r#"{}"#).unwrap(), None);
        assert!(read(r#"{"value": 3600.5}"#).is_err());
        assert!(read(r#"{"value": "3600"}"#).is_err());
        assert!(read(r#"{"value": 1e300}"#).is_err());
    }
}
