//! A bounded load generator for loopback benchmarks: `connections` keep-alive clients send
//! uploads until `requests` are done or `max_duration` passes, whichever comes first. With
//! several kinds of upload (good clips, broken files, oversize and slow uploads) it is the
//! soak load of `ser bench serve --soak-seconds`.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Connection, Request};

/// One kind of request of the load.
#[derive(Debug, Clone)]
pub struct Upload {
    /// What the upload is, for the report ("good", "broken", "oversize", "slow").
    pub kind: String,
    /// Path with query, e.g. `/v1/predict`.
    pub path: String,
    pub content_type: String,
    pub body: Arc<Vec<u8>>,
    /// Send `Expect: 100-continue` (a large upload the server may refuse unread).
    pub expect_continue: bool,
    /// Send the body in pieces with this pause between them (a slow client).
    pub pace: Option<Duration>,
}

impl Upload {
    /// A plain upload of `body`.
    pub fn new(kind: &str, path: &str, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            kind: kind.to_owned(),
            path: path.to_owned(),
            content_type: content_type.to_owned(),
            body: Arc::new(body),
            expect_continue: false,
            pace: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub addr: SocketAddr,
    /// Request `i` sends `uploads[i % uploads.len()]`, so the list sets the mix.
    pub uploads: Vec<Upload>,
    pub connections: usize,
    pub requests: usize,
    pub max_duration: Duration,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct KindReport {
    pub requests: usize,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, usize>,
    /// Requests whose connection the server closed before answering (then reconnected).
    pub closed: usize,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    /// Responses received (any status).
    pub requests: usize,
    /// Responses with status 200.
    pub ok: usize,
    pub elapsed_seconds: f64,
    pub requests_per_second: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    /// The same per kind of upload.
    pub kinds: BTreeMap<String, KindReport>,
}

/// One answered (or cut off) request.
struct Outcome {
    upload: usize,
    latency: Duration,
    /// `None`: the server closed the connection instead of answering.
    status: Option<u16>,
}

/// Runs the load and reports throughput and latency percentiles. Fails only if a
/// connection cannot be made, or breaks on a plain upload (an upload the server may refuse
/// unread, or a slow one, may see its connection closed: that is counted, and the client
/// reconnects).
pub async fn run(config: LoadConfig) -> io::Result<LoadReport> {
    if config.uploads.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the load needs at least one upload",
        ));
    }
    let config = Arc::new(config);
    let issued = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + config.max_duration;
    let mut clients = Vec::with_capacity(config.connections);
    for _ in 0..config.connections.max(1) {
        let (config, issued) = (config.clone(), issued.clone());
        clients.push(tokio::spawn(async move {
            let mut connection = Connection::connect(config.addr).await?;
            let mut outcomes = Vec::new();
            while Instant::now() < deadline {
                let index = issued.fetch_add(1, Ordering::Relaxed);
                if index >= config.requests {
                    break;
                }
                let upload_index = index % config.uploads.len();
                let upload = &config.uploads[upload_index];
                let mut request =
                    Request::new("POST", &upload.path).body(&upload.content_type, &upload.body);
                if upload.expect_continue {
                    request = request.expect_continue();
                }
                if let Some(pause) = upload.pace {
                    request = request.paced(pause);
                }
                let sent = Instant::now();
                let status = match connection.send(request).await {
                    Ok(response) => Some(response.status),
                    Err(_) if upload.expect_continue || upload.pace.is_some() => None,
                    Err(error) => return Err(error),
                };
                outcomes.push(Outcome {
                    upload: upload_index,
                    latency: sent.elapsed(),
                    status,
                });
                let closes = status.is_none_or(|status| status >= 400 && upload.expect_continue);
                if closes {
                    connection = Connection::connect(config.addr).await?;
                }
            }
            io::Result::Ok(outcomes)
        }));
    }
    let mut outcomes = Vec::new();
    for client in clients {
        outcomes.extend(client.await.map_err(io::Error::other)??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    let (p50, p99, max) = percentiles_ms(&mut latencies);
    let mut kinds: BTreeMap<String, (KindReport, Vec<Duration>)> = BTreeMap::new();
    for outcome in &outcomes {
        let kind = &config.uploads[outcome.upload].kind;
        let (report, latencies) = kinds.entry(kind.clone()).or_default();
        report.requests += 1;
        match outcome.status {
            Some(status) => *report.statuses.entry(status).or_default() += 1,
            None => report.closed += 1,
        }
        latencies.push(outcome.latency);
    }
    let kinds = kinds
        .into_iter()
        .map(|(kind, (mut report, mut latencies))| {
            (
                report.latency_p50_ms,
                report.latency_p99_ms,
                report.latency_max_ms,
            ) = percentiles_ms(&mut latencies);
            (kind, report)
        })
        .collect();
    Ok(LoadReport {
        requests: outcomes.len(),
        ok: outcomes.iter().filter(|o| o.status == Some(200)).count(),
        elapsed_seconds: elapsed,
        requests_per_second: outcomes.len() as f64 / elapsed.max(f64::EPSILON),
        latency_p50_ms: p50,
        latency_p99_ms: p99,
        latency_max_ms: max,
        kinds,
    })
}

/// p50, p99 and max of `latencies` in milliseconds (0 for none).
fn percentiles_ms(latencies: &mut [Duration]) -> (f64, f64, f64) {
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round().max(0.0) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    (at(0.5), at(0.99), at(1.0))
}
