//! The current call of an instance, shared with its output streams.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::{CallInfo, InvocationContext, NullContext, StdioLimits};

/// A context and the call it serves, swapped as a whole so that readers
/// never see one without the other, with what the call has printed.
pub(crate) struct ActiveCall {
    pub(crate) ctx: Arc<dyn InvocationContext>,
    pub(crate) info: CallInfo,
    pub(crate) output: OutputBudget,
}

impl ActiveCall {
    pub(crate) fn new(
        ctx: Arc<dyn InvocationContext>,
        info: CallInfo,
        limits: StdioLimits,
    ) -> Arc<Self> {
        Arc::new(Self {
            ctx,
            info,
            output: OutputBudget::new(limits),
        })
    }

    pub(crate) fn idle(info: CallInfo, limits: StdioLimits) -> Arc<Self> {
        Self::new(Arc::new(NullContext), info, limits)
    }
}

/// What one call may still print, both streams together. Atomics, since
/// the two streams deliver under their own locks.
pub(crate) struct OutputBudget {
    max_bytes: u64,
    max_lines: u64,
    bytes: AtomicU64,
    lines: AtomicU64,
    dropped_bytes: AtomicU64,
    dropped_lines: AtomicU64,
    noticed: AtomicBool,
}

/// Whether a piece of output may be delivered.
pub(crate) enum Admit {
    /// Deliver it.
    Yes,
    /// Drop it; this is the first piece dropped, so say so once.
    FirstDropped,
    /// Drop it quietly.
    Dropped,
}

impl OutputBudget {
    fn new(limits: StdioLimits) -> Self {
        Self {
            max_bytes: limits.max_call_bytes,
            max_lines: limits.max_call_lines,
            bytes: AtomicU64::new(0),
            lines: AtomicU64::new(0),
            dropped_bytes: AtomicU64::new(0),
            dropped_lines: AtomicU64::new(0),
            noticed: AtomicBool::new(false),
        }
    }

    /// Charges a piece of `len` bytes. Once a piece is refused every later
    /// one is too, so the output a context sees is a prefix of the call's.
    pub(crate) fn admit(&self, len: usize) -> Admit {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        if !self.noticed.load(Ordering::Acquire) {
            let lines = self.lines.fetch_add(1, Ordering::AcqRel).saturating_add(1);
            let bytes = self
                .bytes
                .fetch_add(len, Ordering::AcqRel)
                .saturating_add(len);
            if lines <= self.max_lines && bytes <= self.max_bytes {
                return Admit::Yes;
            }
        }
        self.dropped_lines.fetch_add(1, Ordering::Relaxed);
        self.dropped_bytes.fetch_add(len, Ordering::Relaxed);
        if self.noticed.swap(true, Ordering::AcqRel) {
            Admit::Dropped
        } else {
            Admit::FirstDropped
        }
    }

    /// The one line a context receives on stderr when its call's output
    /// starts being dropped.
    pub(crate) fn notice(&self) -> String {
        format!(
            "[surli] this call's output passed its limit of {} bytes or {} lines (stdout and \
             stderr together); the rest of it is dropped",
            self.max_bytes, self.max_lines
        )
    }

    pub(crate) fn report(&self) -> CallOutput {
        CallOutput {
            dropped_bytes: self.dropped_bytes.load(Ordering::Acquire),
            dropped_lines: self.dropped_lines.load(Ordering::Acquire),
        }
    }
}

/// What the host dropped of one call's output, past
/// [`StdioLimits::max_call_bytes`] or [`StdioLimits::max_call_lines`];
/// returned by [`HostState::clear_call`](crate::HostState::clear_call).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOutput {
    /// Bytes of output dropped.
    pub dropped_bytes: u64,
    /// Lines (or pieces of over-long lines) dropped.
    pub dropped_lines: u64,
}

impl CallOutput {
    /// Whether anything was dropped.
    pub fn truncated(&self) -> bool {
        self.dropped_lines > 0
    }
}

/// Where the output streams find the current call. The lock is held only
/// to clone or replace the `Arc`, never while a context runs.
#[derive(Clone)]
pub(crate) struct CallSlot(Arc<Mutex<Arc<ActiveCall>>>);

impl CallSlot {
    pub(crate) fn new(call: Arc<ActiveCall>) -> Self {
        Self(Arc::new(Mutex::new(call)))
    }

    pub(crate) fn current(&self) -> Arc<ActiveCall> {
        Arc::clone(&self.0.lock())
    }

    pub(crate) fn replace(&self, call: Arc<ActiveCall>) {
        // The old call is dropped after the lock is released: dropping the
        // last reference to a context runs embedder code.
        let old = std::mem::replace(&mut *self.0.lock(), call);
        drop(old);
    }
}
