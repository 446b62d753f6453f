//! A caller's timeout, held to the whole call: waiting for a permit,
//! creating and initialising an instance, and the guest's own run.

use std::time::Duration;

use tokio::time::Instant;

use crate::error::{CallError, CallPhase, TimeoutLimit, TimeoutWatch};

/// When a caller's call must be over, and the timeout it asked for (the
/// figure its timeout error reports).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallerDeadline {
    at: Instant,
    timeout: Duration,
}

impl CallerDeadline {
    /// The deadline of a call starting now under `timeout`, if any. A
    /// timeout too large to add to the clock has no deadline at all.
    pub(crate) fn starting_now(timeout: Option<Duration>) -> Option<Self> {
        let timeout = timeout?;
        let at = Instant::now().checked_add(timeout)?;
        Some(Self { at, timeout })
    }

    /// The caller's timeout.
    pub(crate) fn timeout(self) -> Duration {
        self.timeout
    }

    /// What is left of it (zero once it has passed).
    pub(crate) fn remaining(self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// The error of a deadline that passed during `phase`.
    pub(crate) fn expired(self, phase: CallPhase) -> CallError {
        CallError::Timeout {
            limit: self.timeout,
            source_limit: TimeoutLimit::Caller,
            watch: TimeoutWatch::WallClock,
            phase,
        }
    }
}

/// Awaits `work`, giving up with the caller's timeout error for `phase`
/// once `deadline` passes. Dropping `work` midway is safe for every future
/// this wraps: a permit not yet granted, an instance not yet made (its
/// store is dropped), or one whose `init` had not finished (dropped and
/// counted as discarded).
pub(crate) async fn within<T>(
    deadline: Option<CallerDeadline>,
    phase: CallPhase,
    work: impl Future<Output = Result<T, CallError>>,
) -> Result<T, CallError> {
    match deadline {
        None => work.await,
        Some(deadline) => tokio::time::timeout_at(deadline.at, work)
            .await
            .unwrap_or_else(|_| Err(deadline.expired(phase))),
    }
}
