//! `skubridge doctor`: the troubleshooting checklist, one PASS / WARN / FAIL line per
//! check with the fix. Exit 1 when anything fails, so it can gate a deploy.

use anyhow::Result;

use super::Ctx;
use crate::engine::doctor::{Check, Verdict};
use crate::engine::{Engine, Silent};
use crate::exit::{FAILED, OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also send a test email through [notify]
    #[arg(long)]
    send_test_email: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let engine = Engine::new(&ctx.cfg, &ctx.db, ctx.clock, &Silent);
    let checks = engine.doctor(&ctx.cfg.warnings, args.send_test_email).await;
    print!("{}", render(&checks));
    let worst = checks
        .iter()
        .map(|c| c.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    Ok(if worst == Verdict::Fail { FAILED } else { OK })
}

fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let label = match c.verdict {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        };
        out.push_str(&format!("{label}  {}: {}\n", c.name, c.detail));
        if !c.fix.is_empty() {
            out.push_str(&format!("      fix: {}\n", c.fix));
        }
    }
    let count = |v| checks.iter().filter(|c| c.verdict == v).count();
    out.push_str(&format!(
        "\n{} passed, {} warnings, {} failed\n",
        count(Verdict::Pass),
        count(Verdict::Warn),
        count(Verdict::Fail)
    ));
    out
}
