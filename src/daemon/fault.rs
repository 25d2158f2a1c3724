//! Test builds only: a panic injected into a named task, to test the supervision
//! (supervisor.rs) on a real daemon.
//!
//! `KACONSOLE_INJECT_PANIC=NAME` in the daemon's environment arms it; every SIGRTMIN+9 then
//! makes one running task whose name starts with NAME panic: `VRRP reader eth0`, `link
//! watcher`, or `daemon loop` (the loop's handlers). Compiled with `cfg(test)` or the
//! `testing` feature, which only the dev-dependency of this package on itself turns on:
//! `cargo test` builds the binary the integration tests run (CARGO_BIN_EXE_kaconsole) with
//! it, `cargo build --release` never has it, so a release binary has neither the variable
//! nor the signal handler.

use std::sync::{Arc, OnceLock};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

/// The variable that arms the injection.
pub const VARIABLE: &str = "KACONSOLE_INJECT_PANIC";

/// The tasks the injection is for (a prefix of their names), and the trigger.
struct Armed {
    prefix: String,
    fire: Arc<Notify>,
}

static ARMED: OnceLock<Option<Armed>> = OnceLock::new();

fn armed() -> Option<&'static Armed> {
    ARMED
        .get_or_init(|| {
            std::env::var(VARIABLE).ok().map(|prefix| Armed {
                prefix,
                fire: Arc::new(Notify::new()),
            })
        })
        .as_ref()
}

/// The signal that fires the injection.
pub fn signal_number() -> i32 {
    nix::libc::SIGRTMIN() + 9
}

/// When armed, listens for the signal (inside the runtime): each one fires one panic.
pub fn listen() -> std::io::Result<()> {
    let Some(armed) = armed() else {
        return Ok(());
    };
    let mut signals = signal(SignalKind::from_raw(signal_number()))?;
    let fire = armed.fire.clone();
    tokio::spawn(async move {
        while signals.recv().await.is_some() {
            // A permit: the task takes it at its next poll, even if it is not waiting now.
            fire.notify_one();
        }
    });
    Ok(())
}

/// Runs `work`, or panics when the injection fires and `name` is the one armed.
pub async fn injectable<T>(name: String, work: impl Future<Output = T>) -> T {
    let Some(armed) = armed().filter(|a| name.starts_with(&a.prefix)) else {
        return work.await;
    };
    tokio::select! {
        t = work => t,
        () = armed.fire.notified() => panic!("panic injected into {name}"),
    }
}
