//! `ser bench serve`: requests/s and latency of the HTTP service under a bounded loopback load.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ser_serve::loadgen::{LoadConfig, LoadReport, Upload, run as run_load};
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
    /// Soak instead: a minute of warm-up, then this many seconds of mixed load (real clips of
    /// several formats, broken files, oversize and slow uploads), reporting statuses per kind,
    /// the latency of the good requests and the resident memory sampled ten times over the
    /// soak; fails on a 5xx answer.
    #[arg(long, conflicts_with_all = ["requests", "max_seconds"])]
    pub soak_seconds: Option<f64>,
}

pub fn run(args: BenchServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(seconds) = args.soak_seconds {
        return soak(&args, seconds);
    }
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
            uploads: vec![Upload::new("good", PREDICT, OCTETS, body)],
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

const PREDICT: &str = "/v1/predict";
/// Load before a soak's first resident-memory sample.
const SOAK_WARM_UP_SECONDS: u64 = 60;

/// Resident-memory samples taken over a soak (after the one at its start).
const RSS_SAMPLES: u32 = 10;
const OCTETS: &str = "application/octet-stream";

/// The soak mix, one entry per request slot: 12 good clips (TESS and RAVDESS FLAC, the audio
/// seeds' MP3, OGG, 24-bit, float, mu-law and stereo WAV), 5 broken files, an upload over the
/// body limit and 2 slow uploads of a good clip.
fn soak_uploads(limits: &Limits) -> anyhow::Result<Vec<Upload>> {
    let data = std::env::var_os("SER_DATA_DIR")
        .map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from);
    let seeds = data.with_file_name("audio-seeds");
    let read = |path: PathBuf| -> anyhow::Result<Vec<u8>> {
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    let good_files = [
        data.join("tess/OAF_happy/OAF_back_happy.flac"),
        data.join("tess/YAF_fear/YAF_neat_fear.flac"),
        data.join("ravdess/Actor_01/03-01-05-01-01-01-01.flac"),
        data.join("ravdess/Actor_12/03-01-03-02-02-01-12.flac"),
        seeds.join("a.mp3"),
        seeds.join("a.ogg"),
        seeds.join("a24.wav"),
        seeds.join("af.wav"),
        seeds.join("ulaw.wav"),
        seeds.join("stereo.wav"),
    ];
    let mut uploads = Vec::new();
    for (index, path) in good_files.iter().enumerate() {
        uploads.push(Upload::new("good", PREDICT, OCTETS, read(path.clone())?));
        if index < 2 {
            let mut slow = Upload::new("slow", PREDICT, OCTETS, read(path.clone())?);
            slow.pace = Some(Duration::from_millis(100));
            uploads.push(slow);
        }
    }
    uploads.push(Upload::new(
        "good",
        PREDICT,
        OCTETS,
        read(good_files[0].clone())?,
    ));
    uploads.push(Upload::new(
        "good",
        PREDICT,
        OCTETS,
        read(good_files[2].clone())?,
    ));
    let clip = read(good_files[0].clone())?;
    let mut flipped = clip.clone();
    for (index, byte) in flipped.iter_mut().enumerate().skip(64) {
        if index % 97 == 0 {
            *byte ^= 0x5a;
        }
    }
    let mut stomped = read(seeds.join("a24.wav"))?;
    stomped[20..36].fill(0xff);
    let broken = [
        clip[..clip.len() / 3].to_vec(),
        flipped,
        stomped,
        b"this is not audio at all".repeat(40),
        Vec::new(),
    ];
    uploads.extend(
        broken
            .into_iter()
            .map(|body| Upload::new("broken", PREDICT, OCTETS, body)),
    );
    let mut oversize = Upload::new(
        "oversize",
        PREDICT,
        OCTETS,
        vec![0u8; limits.max_body_bytes + 1],
    );
    oversize.expect_continue = true;
    uploads.push(oversize);
    Ok(uploads)
}

/// Resident memory of this process (server and load generator), in MiB.
fn resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| {
                    value
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn soak(args: &BenchServeArgs, seconds: f64) -> anyhow::Result<ExitCode> {
    let model = ser_predict::load_model(args.model.as_deref()).context("cannot load the model")?;
    let limits = Limits {
        max_queue: args.connections.max(64),
        ..Limits::default()
    };
    let uploads = soak_uploads(&limits)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (warm_up, report, memory) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let state = AppState::new(Arc::new(model), limits);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_on(listener, state, async {
            let _ = stopped.await;
        }));
        let load = |max_duration: Duration| LoadConfig {
            addr,
            uploads: uploads.clone(),
            connections: args.connections,
            requests: usize::MAX,
            max_duration,
        };
        // A warm-up first, so the start figure includes the working set of the mix: after
        // 10 s it was still filling (236 MiB, then 282-311 MiB from the first minute on).
        let warm_up = run_load(load(Duration::from_secs(SOAK_WARM_UP_SECONDS))).await?;
        let duration = Duration::from_secs_f64(seconds.max(1.0));
        // Ten samples over the soak tell a leak (steady growth) from a working set that
        // settles (growth that stops).
        let sampler = tokio::spawn(async move {
            let mut samples = vec![resident_mib()];
            for _ in 0..RSS_SAMPLES {
                tokio::time::sleep(duration / RSS_SAMPLES).await;
                samples.push(resident_mib());
            }
            samples
        });
        let report = run_load(load(duration)).await?;
        let memory = sampler.await.map_err(std::io::Error::other)?;
        let _ = stop.send(());
        server.await.map_err(std::io::Error::other)??;
        std::io::Result::Ok((warm_up, report, memory))
    })?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "soak: {:.0} s of mixed load after a {SOAK_WARM_UP_SECONDS}-s warm-up ({} requests), \
         {cores} cores, {} connections, server and load generator in one process",
        report.elapsed_seconds, warm_up.requests, args.connections
    );
    print_kinds(&report);
    let (start, middle, end) = (
        memory[0],
        memory[memory.len() / 2],
        memory[memory.len() - 1],
    );
    println!(
        "resident memory: {start:.1} MiB at the start, {end:.1} MiB at the end ({:+.1} MiB; \
         {:+.1} MiB in the second half)",
        end - start,
        end - middle
    );
    let samples: Vec<String> = memory.iter().map(|mib| format!("{mib:.0}")).collect();
    println!(
        "resident memory every {:.0} s, MiB: {}",
        seconds.max(1.0) / RSS_SAMPLES as f64,
        samples.join(" ")
    );
    let server_errors: usize = report
        .kinds
        .values()
        .flat_map(|kind| kind.statuses.iter())
        .filter(|(status, _)| **status >= 500)
        .map(|(_, count)| count)
        .sum();
    let good = report.kinds.get("good");
    println!(
        "good requests: p99 {:.1} ms   (goal p99 < 50 ms without the rest of the mix); 5xx \
         answers: {server_errors}   (goal: none)",
        good.map_or(0.0, |good| good.latency_p99_ms)
    );
    Ok(if server_errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_kinds(report: &LoadReport) {
    println!(
        "{:<10} {:>8} {:>9} {:>9} {:>9}  statuses",
        "kind", "requests", "p50 ms", "p99 ms", "max ms"
    );
    for (kind, figures) in &report.kinds {
        let mut statuses: Vec<String> = figures
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        if figures.closed > 0 {
            statuses.push(format!("closed before an answer: {}", figures.closed));
        }
        println!(
            "{kind:<10} {:>8} {:>9.1} {:>9.1} {:>9.1}  {}",
            figures.requests,
            figures.latency_p50_ms,
            figures.latency_p99_ms,
            figures.latency_max_ms,
            statuses.join(", ")
        );
    }
}
