use std::time::Duration;

/// Request limits. Each one, when hit, gives its own status code with a JSON error body.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Limits {
    /// Largest accepted request body (413 above it).
    pub max_body_bytes: usize,
    /// Longest accepted recording (422 above it).
    pub max_audio_seconds: f64,
    /// Predictions running at once (each holds one blocking thread).
    pub max_concurrent: usize,
    /// Requests allowed to wait for a free slot; beyond that the answer is 503.
    pub max_queue: usize,
    /// Whole-request deadline, upload included (504 after it).
    #[serde(serialize_with = "as_seconds")]
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 25 * 1024 * 1024,
            max_audio_seconds: 600.0,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_queue: 64,
            request_timeout: Duration::from_secs(30),
        }
    }
}

fn as_seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}
