//! The process-wide epoch ticker.
//!
//! One thread advances the epoch of every live guarded engine with an
//! automatic epoch source. Engines register a weak handle; the thread drops
//! dead handles as it goes and exits when none is left, and the next
//! registration starts a new thread. Registration and the decision to exit
//! happen under the same lock, so an engine can never register with a
//! thread that is about to leave.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::deadline::TICK;

/// What the ticker advances: an engine, the on-demand twin of a pooling
/// engine (ticked in step, so one shadow counts for both), and the shadow
/// epoch counter (wasmtime does not expose an engine's current epoch, and
/// deadlines need it).
pub(crate) struct EpochTarget {
    pub(crate) engine: wasmtime::Engine,
    pub(crate) overflow: Option<wasmtime::Engine>,
    pub(crate) epoch: AtomicU64,
}

impl EpochTarget {
    pub(crate) fn advance(&self) {
        // The shadow first: a reader that sees the engine's new epoch
        // through a trap can then never see a shadow behind it.
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.engine.increment_epoch();
        if let Some(overflow) = &self.overflow {
            overflow.increment_epoch();
        }
    }
}

struct Registry {
    targets: Vec<Weak<EpochTarget>>,
    running: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    targets: Vec::new(),
    running: false,
});

/// Adds an engine to the ticker, starting the thread if it is not running.
pub(crate) fn register(target: &Arc<EpochTarget>) {
    let mut registry = REGISTRY.lock();
    registry.targets.push(Arc::downgrade(target));
    if !registry.running {
        registry.running = true;
        let spawned = std::thread::Builder::new()
            .name("surli-epoch-ticker".to_owned())
            .spawn(run);
        if let Err(error) = spawned {
            // Without a ticker, guarded calls can never time out; say so
            // loudly rather than fail the load of a module that may never
            // need it.
            registry.running = false;
            tracing::error!(%error, "cannot start the epoch ticker thread; timeouts will not fire");
        }
    }
}

/// Whether the ticker thread is running (it stops when no guarded engine
/// with an automatic epoch is alive).
pub fn ticker_running() -> bool {
    REGISTRY.lock().running
}

fn run() {
    tracing::debug!("epoch ticker started");
    loop {
        std::thread::sleep(TICK);
        let live: Vec<Arc<EpochTarget>> = {
            let mut registry = REGISTRY.lock();
            registry.targets.retain(|weak| weak.strong_count() > 0);
            if registry.targets.is_empty() {
                registry.running = false;
                break;
            }
            registry.targets.iter().filter_map(Weak::upgrade).collect()
        };
        // Advance outside the lock so a registration never waits on it.
        for target in live {
            target.advance();
        }
    }
    tracing::debug!("epoch ticker stopped: no guarded engine is alive");
}
