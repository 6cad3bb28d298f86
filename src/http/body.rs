//! Request bodies: a JSON object read with specific errors for every way a body can be wrong
//! (content type, size, encoding, syntax, field types, unknown fields) and never echoing a
//! value back, since a value may be a password.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde_json::{Map, Value};

use super::error::ApiError;

/// Largest accepted request body, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A JSON object body whose fields are taken one by one.
pub struct JsonObject(Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        JsonObject::parse(&read_bytes(req, state).await?)
    }
}

/// Answers `413 body_too_large` at once when `Content-Length` announces a body over the
/// limit, without waiting for a byte of it: a client cannot hold a connection and a request
/// slot by announcing a large body and sending it slowly.
pub(crate) async fn refuse_oversized(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match announced {
        Some(length) if length > MAX_BODY_BYTES as u64 => too_large().into_response(),
        _ => next.run(request).await,
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body exceeds {MAX_BODY_BYTES} bytes"),
    )
}

/// The raw body, within the body limit: 413 `body_too_large` over it, 400 `unreadable_body`
/// when the client's stream breaks.
pub(crate) async fn read_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        }
    })
}

impl JsonObject {
    /// Parses a body that must be a UTF-8 JSON object.
    pub fn parse(bytes: &[u8]) -> Result<JsonObject, ApiError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            ApiError::bad_request(
                "invalid_encoding",
                format!(
                    "the body is not valid UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            )
        })?;
        let value: Value = serde_json::from_str(text).map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!(
                    "the body is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        match value {
            Value::Object(map) => Ok(JsonObject(map)),
            _ => Err(ApiError::bad_request(
                "malformed_json",
                "the body must be a JSON object",
            )),
        }
    }

    /// Takes an optional string field; present but not a string is an error.
    pub fn optional_string(&mut self, name: &'static str) -> Result<Option<String>, ApiError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::bad_request(
                "invalid_field",
                format!("field `{name}` must be a string"),
            )),
        }
    }

    /// Whether the body has the field `name` (even as `null`).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Takes an optional boolean field; present but not a boolean is an error.
    pub fn optional_bool(&mut self, name: &'static str) -> Result<Option<bool>, ApiError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(ApiError::bad_request(
                "invalid_field",
                format!("field `{name}` must be true or false"),
            )),
        }
    }

    /// Takes a required field that is a JSON object (a WebAuthn credential), as it is.
    pub fn object(&mut self, name: &'static str) -> Result<Value, ApiError> {
        match self.0.remove(name) {
            Some(value @ Value::Object(_)) => Ok(value),
            None | Some(Value::Null) => Err(ApiError::bad_request(
                "missing_field",
                format!("field `{name}` is required"),
            )),
            Some(_) => Err(ApiError::bad_request(
                "invalid_field",
                format!("field `{name}` must be a JSON object"),
            )),
        }
    }

    /// The whole object, for bodies that are free-form (developer claims).
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    /// Takes a required, non-empty string field.
    pub fn string(&mut self, name: &'static str) -> Result<String, ApiError> {
        match self.optional_string(name)? {
            None => Err(ApiError::bad_request(
                "missing_field",
                format!("field `{name}` is required"),
            )),
            Some(s) if s.is_empty() => Err(ApiError::bad_request(
                "empty_field",
                format!("field `{name}` must not be empty"),
            )),
            Some(s) => Ok(s),
        }
    }

    /// Refuses any field not taken yet, naming it and the accepted ones.
    pub fn finish(self, accepted: &str) -> Result<(), ApiError> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(extra) => {
                let shown: String = extra.chars().take(64).collect();
                Err(ApiError::bad_request(
                    "unknown_field",
                    format!("unexpected field `{shown}`; accepted fields: {accepted}"),
                ))
            }
        }
    }
}
