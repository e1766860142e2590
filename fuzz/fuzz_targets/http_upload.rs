//! The HTTP upload path, in process: `POST /v1/predict` on the real router (with the stand-in
//! tone model, so the time goes into upload handling and decoding) with a raw body, a
//! well-formed multipart body carrying the fuzz bytes as the file, or the fuzz bytes as the
//! multipart body itself. A 5xx answer or a panic is a crash.
//!
//! Input layout: byte 0 picks the mode (`% 3`: raw, multipart around the data, data as the
//! multipart body), byte 1 holds flags (query string, file name, field name, part headers),
//! the rest is the payload.
#![no_main]

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use ser_predict::testing::ToneModel;
use ser_serve::{AppState, Limits};
use tower::ServiceExt;

const BOUNDARY: &str = "fuzzBoundary7MA4YWxkTrZu0gW";

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(1)
        .build()
        .expect("runtime")
});

static ROUTER: LazyLock<Router> = LazyLock::new(|| {
    let limits = Limits {
        max_concurrent: 1,
        ..Limits::default()
    };
    ser_serve::router(AppState::new(Arc::new(ToneModel::new()), limits))
});

fn request(data: &[u8]) -> Request<Body> {
    let (mode, flags, payload) = match data {
        [mode, flags, payload @ ..] => (*mode % 3, *flags, payload),
        [mode] => (*mode % 3, 0, &[][..]),
        [] => (0, 0, &[][..]),
    };
    let uri = match flags & 0b11 {
        0 => "/v1/predict",
        1 => "/v1/predict?name=clip.wav",
        2 => "/v1/predict?segment=always",
        _ => "/v1/predict?segment=bogus&name=%ff%00",
    };
    let (content_type, body) = match mode {
        0 => ("audio/wav".to_owned(), payload.to_vec()),
        1 => {
            let mut body = Vec::new();
            if flags & 0b100 != 0 {
                body.extend_from_slice(
                    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n")
                        .as_bytes(),
                );
            }
            let field = if flags & 0b1000 != 0 { "file" } else { "audio" };
            let file_name = if flags & 0b1_0000 != 0 {
                "; filename=\"clip.wav\""
            } else {
                ""
            };
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"{file_name}\r\n")
                    .as_bytes(),
            );
            if flags & 0b10_0000 != 0 {
                body.extend_from_slice(b"Content-Type: application/octet-stream\r\n");
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(payload);
            body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
            (format!("multipart/form-data; boundary={BOUNDARY}"), body)
        }
        _ => (
            format!("multipart/form-data; boundary={BOUNDARY}"),
            payload.to_vec(),
        ),
    };
    Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("a valid request")
}

fuzz_target!(|data: &[u8]| {
    let request = request(data);
    RUNTIME.block_on(async {
        let response = ROUTER.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&body);
        assert!(!status.is_server_error(), "{status}: {text}");
        assert!(!text.contains("internal error"), "{status}: {text}");
    });
});
