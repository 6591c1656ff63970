//! An orderly stop on SIGTERM (systemd, Kubernetes) and SIGINT (Ctrl-C): the run lets
//! the remote change in flight finish, starts no other one, gives up its reads, records
//! itself as stopped, frees the lock and exits 128 + the signal (143, 130).
//!
//! Every remote change the engine makes (an order created, accepted or marked taken,
//! stock sent, a shipment, an email) holds a [`Change`] while it is on the wire; a step
//! is cut short only when none is ([`quiet`]).

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::OnceLock;

use tokio::sync::Notify;

/// The signal that asked for the stop (0: none), and the changes on the wire.
#[derive(Default)]
pub struct Stop {
    signal: AtomicI32,
    changes: AtomicUsize,
    /// Woken when a signal arrives or a change ends.
    moved: Notify,
}

/// The process's: what the signal listener sets and the engine reads.
pub fn global() -> &'static Stop {
    static STOP: OnceLock<Stop> = OnceLock::new();
    STOP.get_or_init(Stop::default)
}

/// A stop was asked for: no remote change may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped by {}: not started, the next pass does it", name(.0))]
pub struct Stopped(pub i32);

/// "SIGTERM", "SIGINT".
pub fn name(signal: &i32) -> &'static str {
    match *signal {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => "a signal",
    }
}

/// The exit code of a run stopped by `signal`: 128 + its number, as shells report it.
pub fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

/// Listens for SIGTERM and SIGINT for the rest of the run (call inside the runtime).
pub fn listen() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        for (kind, number) in [
            (SignalKind::terminate(), libc::SIGTERM),
            (SignalKind::interrupt(), libc::SIGINT),
        ] {
            let Ok(mut stream) = signal(kind) else {
                continue;
            };
            tokio::spawn(async move {
                if stream.recv().await.is_some() {
                    tracing::warn!(
                        "{} received: finishing the change in flight, then stopping",
                        name(&number)
                    );
                    global().request(number);
                }
            });
        }
    }
}

/// A remote change on the wire; the stop waits for it to end.
#[must_use = "the change counts as on the wire only while this is held"]
pub struct Change<'a>(&'a Stop);

impl Drop for Change<'_> {
    fn drop(&mut self) {
        self.0.changes.fetch_sub(1, Ordering::SeqCst);
        self.0.moved.notify_waiters();
    }
}

impl Stop {
    /// The signal a stop was asked with, if one was.
    pub fn requested(&self) -> Option<i32> {
        Some(self.signal.load(Ordering::SeqCst)).filter(|s| *s != 0)
    }

    pub fn request(&self, signal: i32) {
        self.signal.store(signal, Ordering::SeqCst);
        self.moved.notify_waiters();
    }

    /// Starts a remote change, unless a stop was asked for.
    pub fn change(&self) -> Result<Change<'_>, Stopped> {
        self.changes.fetch_add(1, Ordering::SeqCst);
        let guard = Change(self);
        // Checked after counting: a stop asked in between sees this change and waits.
        match self.requested() {
            Some(signal) => Err(Stopped(signal)),
            None => Ok(guard),
        }
    }

    /// Resolves once a stop was asked for and no remote change is on the wire: what
    /// runs then is only reads, which can be given up.
    pub async fn quiet(&self) -> i32 {
        loop {
            let moved = self.moved.notified();
            if let Some(signal) = self.requested() {
                if self.changes.load(Ordering::SeqCst) == 0 {
                    return signal;
                }
            }
            moved.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_waits_for_the_change_on_the_wire_and_refuses_new_ones() {
        static STOP: OnceLock<Stop> = OnceLock::new();
        let stop = STOP.get_or_init(Stop::default);
        assert_eq!(stop.requested(), None);
        let on_the_wire = stop.change().unwrap();
        stop.request(libc::SIGTERM);
        let waiting = tokio::spawn(stop.quiet());
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a change is still on the wire");
        assert_eq!(stop.change().err(), Some(Stopped(libc::SIGTERM)));
        drop(on_the_wire);
        assert_eq!(waiting.await.unwrap(), libc::SIGTERM);
        assert_eq!(exit_code(libc::SIGTERM), 143);
        assert_eq!(exit_code(libc::SIGINT), 130);
        assert_eq!(
            Stopped(libc::SIGINT).to_string(),
            "stopped by SIGINT: not started, the next pass does it"
        );
    }
}
