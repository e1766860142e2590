//! HTTP service and web page for ser.
//!
//! Routes: `POST /v1/predict` (raw audio body or multipart upload, JSON [`Prediction`]
//! result), `GET /v1/model`, `GET /healthz`, and the web page at `/`. The model is loaded
//! once and shared; inference runs on blocking threads behind a bounded queue, and every
//! limit ([`Limits`]) fails with a clear 4xx/5xx status and a JSON `{"error": ...}` body.
//!
//! [`Prediction`]: ser_predict::Prediction

mod api;
pub mod client;
mod error;
mod limits;
pub mod loadgen;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use ser_predict::{EmotionModel, PredictOptions};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::ApiError;
pub use limits::Limits;

/// What every request shares: the model (loaded once), the limits and the two gates of the
/// inference queue.
#[derive(Clone)]
pub struct AppState {
    model: Arc<dyn EmotionModel>,
    limits: Limits,
    predict_options: PredictOptions,
    /// Requests admitted (running or waiting): `max_concurrent + max_queue` permits.
    admitted: Arc<Semaphore>,
    /// Requests running inference: `max_concurrent` permits.
    running: Arc<Semaphore>,
}

impl AppState {
    pub fn new(model: Arc<dyn EmotionModel>, limits: Limits) -> Self {
        Self {
            admitted: Arc::new(Semaphore::new(limits.max_concurrent + limits.max_queue)),
            running: Arc::new(Semaphore::new(limits.max_concurrent)),
            model,
            limits,
            predict_options: PredictOptions::default(),
        }
    }

    /// Predicts with `options` (the speech minimum, the uncertainty threshold, segmenting)
    /// instead of the defaults; a request's `?segment=` still overrides the segment mode.
    pub fn with_predict_options(mut self, options: PredictOptions) -> Self {
        self.predict_options = options;
        self
    }
}

/// All routes with their body limit and request logging.
pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    Router::new()
        .route("/", get(api::page))
        .route("/healthz", get(api::health))
        .route("/v1/model", get(api::model))
        .route("/v1/predict", post(api::predict))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http().on_response(DefaultOnResponse::new().level(Level::INFO)))
        .with_state(state)
}

/// Serves on `addr` until Ctrl-C, then finishes the requests in flight.
pub async fn serve(
    addr: SocketAddr,
    model: Arc<dyn EmotionModel>,
    limits: Limits,
    predict_options: PredictOptions,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let state = AppState::new(model, limits).with_predict_options(predict_options);
    serve_on(listener, state, async {
        // If the signal handler cannot be installed, run until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await
}

/// Serves on an already bound listener until `shutdown` completes (tests bind port 0).
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(
        address = %listener.local_addr()?,
        limits = ?state.limits,
        "serving"
    );
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
