//! The sync logic. Planners (`matching`, `stock`) are pure: data in, plan out. The
//! orchestrator (`pass`) does the I/O in the order of design §5 and records every step.

pub mod doctor;
pub mod fulfilment;
mod import;
pub mod matching;
pub mod notices;
pub mod orders;
pub mod pass;
mod ship;
pub mod stock;
pub mod unmatched;

pub use pass::{Engine, PassOptions, PassReport, Step, StepReport};
pub use ship::{FulfilAction, FulfilOptions};

/// Progress of a long read, drawn by the command (a bar on a terminal, nothing under cron).
pub trait Reporter: Sync {
    fn progress(&self, label: &str) -> Box<dyn ProgressSink + '_>;
}

pub trait ProgressSink: Sync {
    fn set(&self, done: u64);
}

/// A reporter that shows nothing (tests, cron).
pub struct Silent;

struct NoProgress;

impl ProgressSink for NoProgress {
    fn set(&self, _: u64) {}
}

impl Reporter for Silent {
    fn progress(&self, _: &str) -> Box<dyn ProgressSink + '_> {
        Box::new(NoProgress)
    }
}
