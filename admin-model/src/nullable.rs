//! PATCH fields that may be cleared: absent means "leave as is", `null` means "clear", a value
//! means "set". Use with `#[serde(default, with = "admin_model::nullable")]` on an
//! `Option<Option<T>>`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

pub fn serialize<S, T>(value: &Option<Option<T>>, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: Serialize,
{
    match value {
        Some(inner) => inner.serialize(serializer),
        None => serializer.serialize_none(),
    }
}
