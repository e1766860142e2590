//! Route handlers.

use std::path::Path;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Html;
use ser_audio::{Audio, AudioError, AudioStream};
use ser_predict::{Prediction, SegmentMode};
use tokio::sync::OwnedSemaphorePermit;

use crate::{ApiError, AppState};

const PAGE: &str = include_str!("../static/index.html");

pub(crate) async fn page() -> Html<&'static str> {
    Html(PAGE)
}

pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

pub(crate) async fn model(State(state): State<AppState>) -> Json<serde_json::Value> {
    let options = &state.predict_options;
    Json(serde_json::json!({
        "labels": state.model.labels(),
        "model": state.model.info_json(),
        "limits": state.limits,
        "judgement": {
            "min_speech_seconds": options.voice.min_speech_seconds,
            "uncertain_below": options.uncertain_below,
        },
    }))
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed for this route",
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct PredictQuery {
    /// Name reported as `file` in the result (raw uploads carry no file name).
    name: Option<String>,
    #[serde(default)]
    segment: Option<SegmentMode>,
}

/// `POST /v1/predict`: admit (or 503), read the upload, then decode and predict on a
/// blocking thread once a slot is free, all within the request deadline (or 504).
pub(crate) async fn predict(
    State(state): State<AppState>,
    query: Result<Query<PredictQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Json<Prediction>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let admitted = state.admitted.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "server busy: {} requests running or queued, try again later",
                state.limits.max_concurrent + state.limits.max_queue
            ),
        )
    })?;
    let deadline = state.limits.request_timeout;
    tokio::time::timeout(deadline, predict_admitted(state, query, request, admitted))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!("request took longer than {:.1} s", deadline.as_secs_f64()),
            )
        })?
}

async fn predict_admitted(
    state: AppState,
    query: PredictQuery,
    request: Request,
    admitted: OwnedSemaphorePermit,
) -> Result<Json<Prediction>, ApiError> {
    let started = Instant::now();
    let (upload_name, bytes) = read_upload(&state, request).await?;
    let name = query
        .name
        .or(upload_name)
        .unwrap_or_else(|| "upload".to_owned());
    if bytes.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{name}: no audio: the upload is empty"),
        ));
    }
    let running = state
        .running
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "server shutting down"))?;
    let upload_bytes = bytes.len();
    let mut options = state.predict_options.clone();
    if let Some(mode) = query.segment {
        options.segment_mode = mode;
    }
    let max_seconds = state.limits.max_audio_seconds;
    let model = state.model.clone();
    // The permits move into the job: a timed-out request whose job is still running keeps
    // its slot until the job really ends, so the limits hold.
    let job = tokio::task::spawn_blocking(move || {
        let _permits = (admitted, running);
        // A panic inside a decoder or DSP library fails this upload only (see ApiError's
        // From<AudioError>: 422, and the panic is logged, never sent).
        ser_audio::isolate(Path::new(&name), || {
            let audio = decode_limited(bytes.into(), &name, max_seconds)?;
            ser_predict::predict_audio(model.as_ref(), &name, &audio, &options)
                .map_err(ApiError::from)
        })
    });
    let prediction = job.await.map_err(|error| {
        // Only a cancelled runtime gets here (panics are isolated above); its text stays in
        // the log.
        tracing::error!(%error, "prediction job failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "prediction failed")
    })??;
    tracing::info!(
        file = %prediction.file,
        bytes = upload_bytes,
        duration_seconds = prediction.duration_seconds,
        emotion = prediction.emotion.as_deref(),
        confidence = prediction.confidence,
        no_speech = prediction.no_speech,
        too_short = prediction.too_short,
        segments = prediction.segments.len(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "predicted"
    );
    Ok(Json(prediction))
}

/// The uploaded bytes and, for multipart, the file name: the first field that carries a
/// file name (or the field named `file`). Over-long bodies fail with 413.
async fn read_upload(
    state: &AppState,
    request: Request,
) -> Result<(Option<String>, Bytes), ApiError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "upload larger than the limit of {} bytes",
                state.limits.max_body_bytes
            ),
        )
    };
    let rejected = |status: StatusCode, text: String| {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::new(status, text)
        }
    };
    if !is_multipart {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| rejected(e.status(), e.body_text()))?;
        return Ok((None, bytes));
    }
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| rejected(e.status(), e.body_text()))?;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| rejected(e.status(), e.body_text()))?
    {
        let file_name = field.file_name().map(str::to_owned);
        if file_name.is_some() || field.name() == Some("file") {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| rejected(e.status(), e.body_text()))?;
            return Ok((file_name, bytes));
        }
    }
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "multipart upload has no file field (send the audio as field `file`)",
    ))
}

/// Decodes chunk by chunk and stops as soon as the recording passes `max_seconds`, so a long
/// compressed upload never expands in memory.
fn decode_limited(bytes: Vec<u8>, name: &str, max_seconds: f64) -> Result<Audio, ApiError> {
    let stream = AudioStream::from_bytes(bytes, name)?;
    let sample_rate = stream.info().sample_rate;
    let max_samples = (max_seconds * f64::from(sample_rate)).ceil() as usize;
    let mut samples = Vec::new();
    for chunk in stream {
        samples.extend_from_slice(&chunk?);
        if samples.len() > max_samples {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{name}: recording longer than the limit of {max_seconds} s"),
            ));
        }
    }
    if samples.is_empty() {
        return Err(AudioError::NoSamples { path: name.into() }.into());
    }
    Ok(Audio::new(samples, sample_rate))
}
