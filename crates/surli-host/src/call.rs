//! The current call of an instance, shared with its output streams.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::{CallInfo, InvocationContext, NullContext};

/// A context and the call it serves, swapped as a whole so that readers
/// never see one without the other.
pub(crate) struct ActiveCall {
    pub(crate) ctx: Arc<dyn InvocationContext>,
    pub(crate) info: CallInfo,
}

impl ActiveCall {
    pub(crate) fn idle(info: CallInfo) -> Arc<Self> {
        Arc::new(Self {
            ctx: Arc::new(NullContext),
            info,
        })
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
