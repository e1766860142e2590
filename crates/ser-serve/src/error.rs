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
