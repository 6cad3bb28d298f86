//! Reading an HTTP answer's body with a bound: the outbound clients (the verify hook, the
//! breached-password range API) refuse an answer past their limit without reading further.

/// The body of `response`, refused past `limit` bytes (by its `Content-Length`, or while
/// reading). Messages never quote the body or the URL.
pub async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    let too_long = || format!("the answer is longer than {limit} bytes");
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_long());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the answer broke off: {}", e.without_url()))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_long());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
