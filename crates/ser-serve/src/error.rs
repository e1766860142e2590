use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ser_audio::AudioError;
use ser_predict::PredictError;

/// An HTTP error: a status and a message sent as `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), error = %self.message, "request failed");
        } else {
            tracing::warn!(status = self.status.as_u16(), error = %self.message, "request rejected");
        }
        let body = Json(serde_json::json!({ "error": self.message }));
        (self.status, body).into_response()
    }
}

impl From<AudioError> for ApiError {
    fn from(error: AudioError) -> Self {
        if let AudioError::Internal { path, message } = &error {
            // The upload broke a library: the client learns its audio could not be used; the
            // panic message, which may show internals, goes to the log only.
            tracing::error!(file = %path.display(), panic = %message, "internal error on an upload");
            return Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "{}: the audio could not be processed (internal error, logged on the server)",
                    path.display()
                ),
            );
        }
        let status = match &error {
            AudioError::Unsupported { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AudioError::EmptyFile { .. }
            | AudioError::NoSamples { .. }
            | AudioError::Malformed { .. }
            | AudioError::InvalidSamples { .. }
            | AudioError::InvalidSampleRate { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            // Uploads are decoded from memory, so a read error can only come from the data
            // (found by fuzzing: symphonia's "unexpected end of bitstream" on a broken upload
            // was answered 500): the client's audio is broken, not the server.
            AudioError::Io { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, error.to_string())
    }
}

impl From<PredictError> for ApiError {
    fn from(error: PredictError) -> Self {
        match error {
            PredictError::Audio(audio) => audio.into(),
            other => Self::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (`fuzz/fuzz_targets/http_upload.rs`): a broken upload on which the
    /// decoder reports a read error got 500; it is the client's audio, so 422.
    #[test]
    fn a_read_error_while_decoding_an_upload_is_the_clients_audio() {
        let error = AudioError::Io {
            path: "clip.wav".into(),
            source: std::io::Error::other("unexpected end of bitstream"),
        };
        let api = ApiError::from(error);
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            api.message,
            "clip.wav: cannot read: unexpected end of bitstream"
        );
    }
}
