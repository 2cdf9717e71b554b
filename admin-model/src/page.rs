//! Keyset pagination: lists answer `{"items": [...], "next_cursor": …}`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// One page holding everything.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// `?limit=` (default 50, at most 500) and `?cursor=` (from the previous page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageRequest {
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (unpadded base64url).
    #[param(
        pattern = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$"
    )]
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The page size to use, or a message when `limit` is out of range.
    pub fn effective_limit(&self) -> Result<u32, String> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(0) => Err("must be at least 1".into()),
            Some(n) if n > MAX_LIMIT => Err(format!("must be at most {MAX_LIMIT}")),
            Some(n) => Ok(n),
        }
    }
}
