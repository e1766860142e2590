//! The service with the deterministic stand-in model instead of a trained bundle, for working
//! on the web page or the HTTP API without a model:
//! `cargo run --release -p ser-serve --example stand_in_server -- 127.0.0.1:8080`

use std::net::SocketAddr;
use std::sync::Arc;

use ser_predict::PredictOptions;
use ser_predict::testing::ToneModel;
use ser_serve::Limits;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    eprintln!("stand-in model (tone pitch -> label) on http://{addr}");
    ser_serve::serve(
        addr,
        Arc::new(ToneModel::new()),
        Limits::default(),
        PredictOptions::default(),
    )
    .await
}
