//! The HTTP service end to end: a real server on 127.0.0.1 with the stand-in tone model,
//! driven over TCP by the crate's own minimal client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ser_audio::Audio;
use ser_predict::testing::{PanicsOn8kHz, ToneModel, voice, wav_bytes};
use ser_predict::{EmotionModel, ModelFailure};
use ser_serve::client::{Connection, Request, Response};
use ser_serve::{AppState, Limits, serve_on};
use tokio::net::TcpListener;

/// Starts a server on an ephemeral loopback port; it stops when the test's runtime ends.
async fn start(model: impl EmotionModel + 'static, limits: Limits) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(Arc::new(model), limits);
    tokio::spawn(serve_on(listener, state, std::future::pending()));
    addr
}

async fn send(addr: SocketAddr, request: Request<'_>) -> Response {
    let mut connection = Connection::connect(addr).await.unwrap();
    connection.send(request).await.unwrap()
}

fn error_message(response: &Response) -> String {
    let json = response.json().expect("error bodies are JSON");
    json["error"]
        .as_str()
        .expect("an `error` string")
        .to_owned()
}

fn clip(frequency: f64, seconds: f64) -> Vec<u8> {
    wav_bytes(&voice(frequency, seconds, 16_000))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_upload_gives_the_prediction_schema() {
    let addr = start(ToneModel::new(), Limits::default()).await;
    let body = clip(440.0, 1.0);
    let request = Request::new("POST", "/v1/predict?name=clip.wav").body("audio/wav", &body);
    let response = send(addr, request).await;
    assert_eq!(
        response.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&response.body)
    );
    assert!(
        response
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let json = response.json().unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "file",
        "duration_seconds",
        "speech_seconds",
        "no_speech",
        "too_short",
        "emotion",
        "confidence",
        "uncertain",
        "probabilities",
        "segments",
        "error",
    ];
    expected.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected);
    assert_eq!(json["file"], "clip.wav");
    assert_eq!(json["emotion"], ToneModel::new().label_for(440.0));
    assert_eq!(json["duration_seconds"], 1.0);
    assert!(json["error"].is_null());
    let probabilities = json["probabilities"].as_object().unwrap();
    assert_eq!(probabilities.len(), 7);
    let sum: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_uses_the_file_name() {
    let addr = start(ToneModel::new(), Limits::default()).await;
    let boundary = "ser-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"tone.wav\"\r\n\
         Content-Type: audio/wav\r\n\r\n"
    )
    .into_bytes();
    body.extend(clip(300.0, 1.0));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let response = send(
        addr,
        Request::new("POST", "/v1/predict").body(&content_type, &body),
    )
    .await;
    assert_eq!(response.status, 200);
    let json = response.json().unwrap();
    assert_eq!(json["file"], "tone.wav");
    assert_eq!(json["emotion"], ToneModel::new().label_for(300.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_query_splits_a_recording() {
    let addr = start(ToneModel::new(), Limits::default()).await;
    let mut samples = voice(200.0, 1.0, 16_000).samples;
    samples.extend(vec![0.0; 16_000]);
    samples.extend(voice(500.0, 1.0, 16_000).samples);
    let body = wav_bytes(&Audio::new(samples, 16_000));
    let request = Request::new("POST", "/v1/predict?segment=always").body("audio/wav", &body);
    let json = send(addr, request).await.json().unwrap();
    let emotions: Vec<&str> = json["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["emotion"].as_str().unwrap())
        .collect();
    let model = ToneModel::new();
    assert_eq!(emotions, [model.label_for(200.0), model.label_for(500.0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_speech_and_too_little_speech_are_answers_with_the_server_options() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = ser_predict::PredictOptions {
        voice: ser_audio::voice::VoiceConfig {
            min_speech_seconds: 1.5,
            ..Default::default()
        },
        uncertain_below: 0.8,
        ..Default::default()
    };
    let state =
        AppState::new(Arc::new(ToneModel::new()), Limits::default()).with_predict_options(options);
    tokio::spawn(serve_on(listener, state, std::future::pending()));

    let post = |body: Vec<u8>| async move {
        let request = Request::new("POST", "/v1/predict").body("audio/wav", &body);
        let response = send(addr, request).await;
        assert_eq!(response.status, 200, "an answer, not an error");
        response.json().unwrap()
    };
    let hum = post(wav_bytes(&ser_audio::signals::hum(
        16_000, 2.0, 50.0, -20.0,
    )))
    .await;
    assert_eq!(
        (&hum["no_speech"], &hum["too_short"]),
        (&true.into(), &false.into())
    );
    assert!(hum["emotion"].is_null() && hum["error"].is_null(), "{hum}");
    assert_eq!(hum["probabilities"], serde_json::json!({}));
    // One second of voice is under the server's minimum of 1.5 s.
    let short = post(clip(440.0, 1.0)).await;
    assert!(
        short["too_short"] == true && short["emotion"].is_null(),
        "{short}"
    );
    // Two seconds are enough; 70 % is under the server's 80 % threshold.
    let long = post(clip(440.0, 2.0)).await;
    assert_eq!(long["emotion"], ToneModel::new().label_for(440.0));
    assert_eq!(long["uncertain"], true);

    let model = send(addr, Request::new("GET", "/v1/model"))
        .await
        .json()
        .unwrap();
    assert_eq!(model["judgement"]["min_speech_seconds"], 1.5);
    assert!((model["judgement"]["uncertain_below"].as_f64().unwrap() - 0.8).abs() < 1e-6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_upload_is_413() {
    let limits = Limits {
        max_body_bytes: 10_000,
        ..Limits::default()
    };
    let addr = start(ToneModel::new(), limits).await;
    let body = clip(440.0, 1.0);
    assert!(body.len() > 10_000);
    let request = Request::new("POST", "/v1/predict")
        .body("audio/wav", &body)
        .expect_continue();
    let response = send(addr, request).await;
    assert_eq!(response.status, 413);
    assert!(error_message(&response).contains("10000 bytes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_are_415() {
    let addr = start(ToneModel::new(), Limits::default()).await;
    let body = b"certainly not audio, just some text that goes on for a while".repeat(20);
    let response = send(
        addr,
        Request::new("POST", "/v1/predict?name=notes.wav").body("audio/wav", &body),
    )
    .await;
    assert_eq!(response.status, 415);
    assert!(error_message(&response).starts_with("notes.wav:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_upload_is_422() {
    let addr = start(ToneModel::new(), Limits::default()).await;
    let response = send(
        addr,
        Request::new("POST", "/v1/predict").body("audio/wav", &[]),
    )
    .await;
    assert_eq!(response.status, 422);
    assert!(error_message(&response).contains("empty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_long_recording_is_422() {
    let limits = Limits {
        max_audio_seconds: 1.5,
        ..Limits::default()
    };
    let addr = start(ToneModel::new(), limits).await;
    let body = clip(440.0, 3.0);
    let response = send(
        addr,
        Request::new("POST", "/v1/predict").body("audio/wav", &body),
    )
    .await;
    assert_eq!(response.status, 422);
    assert!(error_message(&response).contains("longer than the limit of 1.5 s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_is_405_and_unknown_route_404() {
    let addr = start(ToneModel::new(), Limits::default()).await;
    let response = send(addr, Request::new("GET", "/v1/predict")).await;
    assert_eq!(response.status, 405);
    assert!(error_message(&response).contains("method not allowed"));
    assert_eq!(
        send(addr, Request::new("DELETE", "/healthz")).await.status,
        405
    );
    let response = send(addr, Request::new("GET", "/v2/nothing")).await;
    assert_eq!(response.status, 404);
    assert_eq!(error_message(&response), "no such route");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_model_and_page_routes() {
    let addr = start(ToneModel::new(), Limits::default()).await;
    let mut connection = Connection::connect(addr).await.unwrap();
    let health = connection
        .send(Request::new("GET", "/healthz"))
        .await
        .unwrap();
    assert_eq!(
        health.json().unwrap(),
        serde_json::json!({ "status": "ok" })
    );

    let model = connection
        .send(Request::new("GET", "/v1/model"))
        .await
        .unwrap();
    let json = model.json().unwrap();
    assert_eq!(json["labels"].as_array().unwrap().len(), 7);
    assert_eq!(json["model"]["name"], "tone-test-model");
    assert_eq!(json["limits"]["max_body_bytes"], 25 * 1024 * 1024);

    let page = connection.send(Request::new("GET", "/")).await.unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        String::from_utf8(page.body)
            .unwrap()
            .contains("/v1/predict")
    );
}

/// The tone model, slowed down so requests overlap.
struct SlowModel(ToneModel, Duration);

impl EmotionModel for SlowModel {
    fn labels(&self) -> &[String] {
        self.0.labels()
    }
    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Vec<f32>>, ModelFailure> {
        std::thread::sleep(self.1);
        self.0.predict_batch(clips)
    }
    fn info_json(&self) -> serde_json::Value {
        self.0.info_json()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_is_503() {
    let limits = Limits {
        max_concurrent: 1,
        max_queue: 0,
        ..Limits::default()
    };
    let addr = start(
        SlowModel(ToneModel::new(), Duration::from_millis(600)),
        limits,
    )
    .await;
    let body = clip(440.0, 0.5);
    let first = {
        let body = body.clone();
        tokio::spawn(async move {
            send(
                addr,
                Request::new("POST", "/v1/predict").body("audio/wav", &body),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = send(
        addr,
        Request::new("POST", "/v1/predict").body("audio/wav", &body),
    )
    .await;
    assert_eq!(second.status, 503);
    assert!(error_message(&second).contains("busy"));
    assert_eq!(first.await.unwrap().status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_prediction_is_504() {
    let limits = Limits {
        request_timeout: Duration::from_millis(100),
        ..Limits::default()
    };
    let addr = start(
        SlowModel(ToneModel::new(), Duration::from_millis(500)),
        limits,
    )
    .await;
    let body = clip(440.0, 0.5);
    let response = send(
        addr,
        Request::new("POST", "/v1/predict").body("audio/wav", &body),
    )
    .await;
    assert_eq!(response.status, 504);
    assert!(error_message(&response).contains("longer than 0.1 s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_on_an_upload_is_422_without_the_panic_text_and_the_server_goes_on() {
    ser_audio::install_panic_hook();
    let addr = start(
        PanicsOn8kHz {
            model: ToneModel::new(),
            message: "secret internals",
        },
        Limits::default(),
    )
    .await;
    let bad = wav_bytes(&voice(440.0, 1.0, 8_000));
    let response = send(
        addr,
        Request::new("POST", "/v1/predict?name=bad.wav").body("audio/wav", &bad),
    )
    .await;
    assert_eq!(response.status, 422);
    let message = error_message(&response);
    assert!(message.starts_with("bad.wav: "), "{message}");
    assert!(message.contains("internal error"), "{message}");
    assert!(!message.contains("secret"), "{message}");
    let good = clip(440.0, 0.5);
    let response = send(
        addr,
        Request::new("POST", "/v1/predict").body("audio/wav", &good),
    )
    .await;
    assert_eq!(response.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_once_crashed_a_decoder_are_4xx() {
    let addr = start(ToneModel::new(), Limits::default()).await;
    let crashes = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ser-audio/tests/fixtures/crashes");
    for name in [
        "aiff-zero-rate.aiff",
        "wav-zero-rate.wav",
        "wav-float-huge-sample.wav",
    ] {
        let body = std::fs::read(crashes.join(name)).unwrap();
        let path = format!("/v1/predict?name={name}");
        let response = send(addr, Request::new("POST", &path).body("audio/wav", &body)).await;
        assert_eq!(response.status, 422, "{name}: {}", error_message(&response));
        assert!(error_message(&response).starts_with(name));
    }
}
