//! Reading a request body under a size limit so that the refusal of a larger one still reaches
//! the client.
//!
//! Answering without reading a body leaves its bytes unread; the server then closes the
//! connection, the kernel turns that close into a reset, and the reset can destroy the answer
//! before the client reads it (or hit the next request a pooled client already sent on that
//! connection). So the rest of a body over the limit is read and thrown away, up to a bound and
//! for a short time, before the caller answers; only a body past that bound is cut off.

use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

/// How much of a body over its limit is read and discarded so that the refusal arrives intact.
const DRAIN_BYTES: usize = 1024 * 1024;
/// How long a client may take to send that much.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// The body is longer than the limit.
    TooLarge,
    /// The connection failed while the body was read.
    Unreadable,
}

/// Reads the whole body if it is at most `limit` bytes.
pub async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut read = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry no content
        };
        if read.len() + data.len() > limit {
            let seen = read.len() + data.len();
            let _ =
                tokio::time::timeout(DRAIN_TIME, discard(body, DRAIN_BYTES.saturating_sub(seen)))
                    .await;
            return Err(BodyError::TooLarge);
        }
        read.extend_from_slice(&data);
    }
    Ok(Bytes::from(read))
}

/// Reads and drops up to `budget` more bytes; stops early at the end of the body or an error.
async fn discard(mut body: Body, mut budget: usize) {
    while budget > 0 {
        match body.frame().await {
            Some(Ok(frame)) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                budget = budget.saturating_sub(len);
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_a_body_within_the_limit() {
        let bytes = read_limited(Body::from("abc"), 3).await.unwrap();
        assert_eq!(&bytes[..], b"abc");
        assert_eq!(&read_limited(Body::empty(), 0).await.unwrap()[..], b"");
    }

    #[tokio::test]
    async fn refuses_a_body_over_the_limit() {
        assert_eq!(
            read_limited(Body::from("abcd"), 3).await,
            Err(BodyError::TooLarge)
        );
        let huge = Body::from(vec![b'x'; 3 * DRAIN_BYTES]);
        assert_eq!(read_limited(huge, 10).await, Err(BodyError::TooLarge));
    }
}
