//! `ser bench serve`: requests/s and latency of the HTTP service under a bounded loopback load.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ser_serve::loadgen::{LoadConfig, run as run_load};
use ser_serve::{AppState, Limits, serve_on};

#[derive(clap::Args)]
pub struct BenchServeArgs {
    /// The clip every request uploads (default: a 2-s TESS clip, $SER_DATA_DIR/tess/...).
    #[arg(long)]
    pub clip: Option<PathBuf>,
    /// Model bundle (default: $SER_MODEL, else the model built into ser).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Requests to send in total.
    #[arg(long, default_value_t = 2000)]
    pub requests: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Stop after this many seconds even if requests remain.
    #[arg(long, default_value_t = 60.0)]
    pub max_seconds: f64,
}

pub fn run(args: BenchServeArgs) -> anyhow::Result<ExitCode> {
    let clip = match args.clip {
        Some(clip) => clip,
        None => super::bench_predict::default_clip()?,
    };
    let body = std::fs::read(&clip).with_context(|| format!("cannot read {}", clip.display()))?;
    let clip_seconds = ser_audio::decode_file(&clip)?.audio.duration_seconds();
    let model = ser_predict::load_model(args.model.as_deref()).context("cannot load the model")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let limits = Limits {
            max_queue: args.connections.max(64),
            ..Limits::default()
        };
        let state = AppState::new(Arc::new(model), limits);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_on(listener, state, async {
            let _ = stopped.await;
        }));
        let report = run_load(LoadConfig {
            addr,
            path: "/v1/predict".to_owned(),
            content_type: "application/octet-stream".to_owned(),
            body,
            connections: args.connections,
            requests: args.requests,
            max_duration: Duration::from_secs_f64(args.max_seconds.max(0.1)),
        })
        .await;
        let _ = stop.send(());
        server.await.map_err(std::io::Error::other)??;
        report
    })?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "server on 127.0.0.1, {cores} cores, {} connections, {:.2}-s clip {}",
        args.connections,
        clip_seconds,
        clip.display()
    );
    println!(
        "{} requests ({} ok) in {:.2} s: {:.1} req/s   (goal >= 200 req/s on 2 cores)",
        report.requests, report.ok, report.elapsed_seconds, report.requests_per_second
    );
    println!(
        "latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms   (goal p99 < 50 ms)",
        report.latency_p50_ms, report.latency_p99_ms, report.latency_max_ms
    );
    Ok(if report.ok == report.requests {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
