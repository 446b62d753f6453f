//! Which modules the current task is calling into, so a call that would
//! wait for its own instances is refused instead of waiting forever.
//!
//! A guest's `run` (or `sql`) can make the embedder call a module again,
//! the same one included (SurrealDB lets `mod::x::f` call `mod::x::g`).
//! That nested call runs inside the outer one's future, on the same task,
//! while the outer call holds one of its module's permits. When every
//! permit of the module is held by calls further up the same chain, no
//! permit can come back before the nested call ends: the original runtime
//! waited forever there. The chain is a task-local list of the modules
//! whose guest code is running, innermost last; `lease` counts how many of
//! the module's permits the chain holds before it waits.

use std::sync::Arc;

tokio::task_local! {
    static CHAIN: Chain;
}

/// The modules (by the address of their shared state) whose calls are in
/// progress on this task, outermost first.
#[derive(Clone)]
enum Chain {
    /// One call: the common case, which allocates nothing.
    One(usize),
    /// Nested calls.
    Many(Arc<[usize]>),
}

impl Chain {
    fn count(&self, module: usize) -> usize {
        match self {
            Self::One(id) => usize::from(*id == module),
            Self::Many(ids) => ids.iter().filter(|id| **id == module).count(),
        }
    }

    fn with(&self, module: usize) -> Self {
        let ids: Arc<[usize]> = match self {
            Self::One(id) => Arc::from([*id, module]),
            Self::Many(ids) => ids.iter().copied().chain([module]).collect(),
        };
        Self::Many(ids)
    }
}

/// How many calls of `module` are in progress further up this task's
/// chain, each holding one of its permits.
pub(crate) fn held_by_caller(module: usize) -> usize {
    CHAIN.try_with(|chain| chain.count(module)).unwrap_or(0)
}

/// How many guest calls are in progress further up this task's chain,
/// each holding one instance of its module.
pub(crate) fn depth() -> usize {
    CHAIN
        .try_with(|chain| match chain {
            Chain::One(_) => 1,
            Chain::Many(ids) => ids.len(),
        })
        .unwrap_or(0)
}

/// Runs `call` (a guest call of `module`) with `module` added to the chain.
pub(crate) async fn within<F: Future>(module: usize, call: F) -> F::Output {
    let chain = CHAIN
        .try_with(|chain| chain.with(module))
        .unwrap_or(Chain::One(module));
    CHAIN.scope(chain, call).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_counts_each_call_of_a_module() {
        let chain = Chain::One(1);
        assert_eq!(chain.count(1), 1);
        assert_eq!(chain.count(2), 0);
        let chain = chain.with(2).with(1);
        assert_eq!(chain.count(1), 2);
        assert_eq!(chain.count(2), 1);
    }

    #[test]
    fn outside_any_call_nothing_is_held() {
        assert_eq!(held_by_caller(7), 0);
    }

    #[tokio::test]
    async fn nested_scopes_see_the_outer_calls_and_end_with_them() {
        let inner = within(1, async {
            let seen_in_first = held_by_caller(1);
            let nested = within(1, async { held_by_caller(1) }).await;
            (seen_in_first, nested, held_by_caller(1))
        })
        .await;
        assert_eq!(inner, (1, 2, 1));
        assert_eq!(held_by_caller(1), 0);
    }
}
