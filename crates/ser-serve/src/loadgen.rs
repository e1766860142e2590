//! A bounded load generator for loopback benchmarks: `connections` keep-alive clients send
//! the same upload until `requests` are done or `max_duration` passes, whichever comes first.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Connection, Request};

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub addr: SocketAddr,
    /// Path with query, e.g. `/v1/predict`.
    pub path: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub connections: usize,
    pub requests: usize,
    pub max_duration: Duration,
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
}

/// Runs the load and reports throughput and latency percentiles. Fails only if a
/// connection cannot be made or breaks.
pub async fn run(config: LoadConfig) -> io::Result<LoadReport> {
    let config = Arc::new(config);
    let issued = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + config.max_duration;
    let mut clients = Vec::with_capacity(config.connections);
    for _ in 0..config.connections.max(1) {
        let (config, issued) = (config.clone(), issued.clone());
        clients.push(tokio::spawn(async move {
            let mut connection = Connection::connect(config.addr).await?;
            let mut latencies = Vec::new();
            let mut ok = 0;
            while Instant::now() < deadline
                && issued.fetch_add(1, Ordering::Relaxed) < config.requests
            {
                let request =
                    Request::new("POST", &config.path).body(&config.content_type, &config.body);
                let sent = Instant::now();
                let response = connection.send(request).await?;
                latencies.push(sent.elapsed());
                ok += usize::from(response.status == 200);
            }
            io::Result::Ok((latencies, ok))
        }));
    }
    let mut latencies = Vec::new();
    let mut ok = 0;
    for client in clients {
        let (client_latencies, client_ok) = client.await.map_err(io::Error::other)??;
        latencies.extend(client_latencies);
        ok += client_ok;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile_ms = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round().max(0.0) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Ok(LoadReport {
        requests: latencies.len(),
        ok,
        elapsed_seconds: elapsed,
        requests_per_second: latencies.len() as f64 / elapsed.max(f64::EPSILON),
        latency_p50_ms: percentile_ms(0.5),
        latency_p99_ms: percentile_ms(0.99),
        latency_max_ms: percentile_ms(1.0),
    })
}
