//! `skubridge-sandbox --fixture DIR --addr 127.0.0.1:0` serves the fixture's store
//! and channel and prints its address on stdout, then the SMTP sink's on the next line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Parser;

#[derive(Parser)]
#[command(
    version,
    about = "Local Shopify + The Iconic v2 + Hard To Find APIs for rehearsing skubridge"
)]
struct Args {
    /// Directory holding shopify.json and iconic.json.
    #[arg(long, conflicts_with = "generate")]
    fixture: Option<PathBuf>,
    /// Serve a generated store of this many matched SKUs instead of a fixture.
    #[arg(long)]
    generate: Option<usize>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Address of the SMTP sink that keeps every message sent to it
    /// [default: the --addr IP, a free port]. Example: --smtp-addr 127.0.0.1:2525
    #[arg(long)]
    smtp_addr: Option<SocketAddr>,
    /// Latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let fixture = match (&args.fixture, args.generate) {
        (Some(dir), _) => skubridge_sandbox::Fixture::load(dir)?,
        (None, Some(n)) => skubridge_sandbox::Fixture::generate(n),
        (None, None) => anyhow::bail!("give --fixture DIR or --generate N"),
    };
    let options = skubridge_sandbox::Options {
        latency: Duration::from_millis(args.latency_ms),
        smtp_addr: args.smtp_addr,
    };
    let sandbox = skubridge_sandbox::start(fixture, args.addr, options).await?;
    // Scripts read the HTTP URL from the first line: keep it first.
    println!("{}", sandbox.url());
    println!("{}", sandbox.smtp_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
