//! Shutting a runtime down: no new loads or calls, the calls in flight
//! given until a deadline, then the guests still running interrupted.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::module::ModuleInner;

const OPEN: u8 = 0;
const CLOSING: u8 = 1;
const STOPPED: u8 = 2;

/// How often a shutdown looks at the leases still out.
const POLL: Duration = Duration::from_millis(2);

/// How long a shutdown waits for interrupted calls to unwind. A guarded
/// guest stops at its next epoch tick (10 ms by default) and a call paused
/// in a host function at once; this leaves room for a slow tick.
const UNWIND: Duration = Duration::from_secs(1);

/// Whether a runtime takes new work, and the signal that stops the guests
/// still running.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    state: AtomicU8,
    stopped: Notify,
}

impl Gate {
    /// Whether new loads, calls and leases are taken.
    pub(crate) fn is_open(&self) -> bool {
        self.state.load(Ordering::Relaxed) == OPEN
    }

    /// Whether the guests still running must stop.
    pub(crate) fn is_stopped(&self) -> bool {
        self.state.load(Ordering::Relaxed) == STOPPED
    }

    fn close(&self) {
        let _ = self
            .state
            .compare_exchange(OPEN, CLOSING, Ordering::SeqCst, Ordering::SeqCst);
    }

    fn stop(&self) {
        self.state.store(STOPPED, Ordering::SeqCst);
        self.stopped.notify_waiters();
    }

    /// Resolves once the gate is stopped.
    async fn until_stopped(&self) {
        let notified = self.stopped.notified();
        let mut notified = std::pin::pin!(notified);
        // Registered before the check, so a stop between the two is seen.
        notified.as_mut().enable();
        if self.is_stopped() {
            return;
        }
        notified.await;
    }

    /// Awaits `work`, or gives up on it once the gate is stopped: `None`.
    /// The stop signal is only looked at once `work` has paused, so work
    /// that finishes in its first poll (most calls) never registers for it.
    ///
    /// Once stopped, `work` is not polled again, so a guest paused at an
    /// epoch tick or in a host call does not resume. The signal is
    /// registered again only when the task's waker changes, so a paused
    /// call waking again and again (every epoch tick) does not take the
    /// signal's lock each time.
    pub(crate) async fn unless_stopped<F: Future>(&self, work: F) -> Option<F::Output> {
        let mut work = std::pin::pin!(work);
        let mut stopped = std::pin::pin!(self.until_stopped());
        let mut registered: Option<std::task::Waker> = None;
        std::future::poll_fn(|cx| {
            if registered.is_some() && self.is_stopped() {
                return Poll::Ready(None);
            }
            if let Poll::Ready(output) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            if registered
                .as_ref()
                .is_none_or(|waker| !waker.will_wake(cx.waker()))
            {
                if stopped.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                registered = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

/// What [`Runtime::shutdown`](crate::Runtime::shutdown) found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Calls under way (running, or waiting for an instance) when the
    /// shutdown began.
    pub in_flight: u64,
    /// Whether every call ended and every lease came back before the
    /// deadline.
    pub finished: bool,
    /// Calls still under way at the deadline, which were then stopped.
    pub interrupted: u64,
    /// Leases still out when the shutdown returned: held by callers that
    /// have not dropped them, or running a guest on the fast engine, which
    /// nothing can interrupt. Their instances go when the leases do.
    pub still_out: u64,
    /// Instances alive when the shutdown returned (those of `still_out`).
    pub instances_alive: u64,
}

/// Closes `gate`, waits up to `deadline` for `modules`' leases to come
/// back, stops the guests still running, waits a little for them to
/// unwind, and drains every module.
pub(crate) async fn shut_down(
    gate: &Gate,
    modules: impl Fn() -> Vec<Arc<ModuleInner>>,
    instances_alive: impl Fn() -> u64,
    deadline: Duration,
) -> ShutdownReport {
    let calls = || -> u64 { modules().iter().map(|m| m.counters.calls_in_flight()).sum() };
    let leases = || -> u64 { modules().iter().map(|m| m.counters.leases_out()).sum() };
    // A call waiting for an instance holds no lease yet: both are watched.
    let busy = || calls() + leases();
    // Read before the gate closes: a call refused at the closed gate is
    // counted as started for a moment, and is not one the shutdown waited
    // for.
    let in_flight = calls();
    gate.close();
    let finished = wait_until_idle(&busy, deadline).await;
    let interrupted = if finished { 0 } else { calls() };
    gate.stop();
    for module in modules() {
        module.close_permits();
    }
    if !finished {
        wait_until_idle(&busy, UNWIND).await;
    }
    for module in modules() {
        module.drain();
    }
    let report = ShutdownReport {
        in_flight,
        finished,
        interrupted,
        still_out: leases(),
        instances_alive: instances_alive(),
    };
    tracing::info!(?report, "runtime shut down");
    report
}

/// Waits up to `limit` for `out` to reach zero; whether it did.
async fn wait_until_idle(out: &impl Fn() -> u64, limit: Duration) -> bool {
    // A limit too far off to be an instant is no limit.
    let until = Instant::now().checked_add(limit);
    loop {
        if out() == 0 {
            return true;
        }
        let left = match until {
            Some(until) => until.saturating_duration_since(Instant::now()),
            None => POLL,
        };
        if left.is_zero() {
            return false;
        }
        tokio::time::sleep(POLL.min(left)).await;
    }
}
