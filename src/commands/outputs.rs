//! Files written after every run that changed the store, for people and machines that
//! watch it: the Prometheus textfile (`[metrics] textfile`, `--metrics-file`) and the
//! dashboard page (`[report] html`). Each is written whole, then renamed into place, so
//! a reader never sees half of one; a failure to write is logged, never a failed run.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use tracing::warn;

use super::Ctx;

pub fn write(ctx: &Ctx, metrics_file: Option<&Path>) {
    if let Some(path) = metrics_file.or(ctx.cfg.outputs.metrics_textfile.as_deref()) {
        if let Err(e) = crate::metrics::write_textfile(ctx, path) {
            warn!("the metrics file {} was not written: {e:#}", path.display());
        }
    }
    if let Some(path) = ctx.cfg.outputs.report_html.as_deref() {
        if let Err(e) = super::report::write_html(ctx, path) {
            warn!(
                "the dashboard page {} was not written: {e:#}",
                path.display()
            );
        }
    }
}

/// Writes `<path>.tmp` beside `path`, flushes it to disk, then renames it over `path`:
/// a reader sees the previous file or this one, never half of one (node_exporter's
/// collector skips the `.tmp`, which does not end in `.prom`).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} names no file", path.display()))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let written = (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", tmp.display()));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("renaming {} into place", tmp.display()));
    }
    // The rename itself survives a crash once the directory is flushed too.
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_written_whole_and_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dash.html");
        fs::write(&path, "old").unwrap();
        write_atomically(&path, b"<!DOCTYPE html>new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "<!DOCTYPE html>new");
        assert!(!dir.path().join("dash.html.tmp").exists());
        let missing = dir.path().join("no/such/dir/dash.html");
        let err = write_atomically(&missing, b"x").unwrap_err();
        assert!(format!("{err:#}").contains("dash.html.tmp"), "{err:#}");
    }
}
