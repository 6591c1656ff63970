//! STUB: `skubridge unmatched` (being written).

use anyhow::Result;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_ctx: &Ctx, _args: Args) -> Result<u8> {
    Ok(0)
}
