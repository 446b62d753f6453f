//! What can go wrong loading a module or calling it.
//!
//! Every message is complete on its own, cause included, so `{}` tells the
//! whole story; no variant also returns its cause from `source()`, which
//! would make chain-printing reporters show it twice.

use std::time::Duration;

use surli_config::LimitSource;

/// Why a module could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The runtime is shutting down and loads no more modules.
    #[error("module {module}: the runtime is shutting down")]
    ShuttingDown {
        /// `organisation/name@version`.
        module: String,
    },
    /// The package could not be read.
    #[error(transparent)]
    Package(#[from] surli_package::PackageError),
    /// The module's `init` could not be snapshotted
    /// ([`ModuleOptions::snapshot_init`](crate::ModuleOptions::snapshot_init));
    /// it loads without the option.
    #[error("module {module}: {error}")]
    Snapshot {
        /// `organisation/name@version`.
        module: String,
        /// Why, naming the import `init` called when that was the reason.
        error: surli_host::SnapshotError,
    },
    /// The configuration is not one this runtime can run (e.g. its ABI).
    #[error("module {module}: {error}")]
    Config {
        /// `organisation/name@version`.
        module: String,
        /// What is wrong.
        error: surli_config::ConfigError,
    },
    /// An `allow_net` entry could not be parsed or resolved.
    #[error("module {module}: {error}")]
    Net {
        /// `organisation/name@version`.
        module: String,
        /// Which entry and why.
        error: surli_net::NetError,
    },
    /// The engine could not compile the component.
    #[error("module {module}: {error}")]
    Engine {
        /// `organisation/name@version`.
        module: String,
        /// wasmtime's explanation.
        error: surli_engine::EngineError,
    },
    /// The component does not fit the `surrealism:plugin` world (for
    /// instance it has no `invoke` export), or a first instance failed.
    #[error("module {module}: {error}")]
    Host {
        /// `organisation/name@version`.
        module: String,
        /// What does not fit.
        error: surli_host::HostError,
    },
    /// The module cannot be instantiated (an import it needs is missing,
    /// or its start-up traps).
    #[error("module {module}: cannot instantiate: {message}")]
    Instantiation {
        /// `organisation/name@version`.
        module: String,
        /// wasmtime's explanation.
        message: String,
    },
    /// Strict loading found `exports.toml` disagreeing with the module.
    #[error("module {module}: exports.toml does not match the module: {}", mismatches.join("; "))]
    ExportsMismatch {
        /// `organisation/name@version`.
        module: String,
        /// Each disagreement.
        mismatches: Vec<String>,
    },
    /// The blocking compilation task died (the runtime is shutting down).
    #[error("module {module}: the compilation task did not finish: {message}")]
    Task {
        /// `organisation/name@version`.
        module: String,
        /// Why.
        message: String,
    },
}

/// Which limit ended a call that ran too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutLimit {
    /// The caller's own timeout for this call.
    Caller,
    /// The module's `max_execution_time`.
    Module,
    /// The server's `max_execution_time`.
    Server,
}

impl From<LimitSource> for TimeoutLimit {
    fn from(source: LimitSource) -> Self {
        match source {
            LimitSource::Module => Self::Module,
            LimitSource::Server => Self::Server,
        }
    }
}

impl std::fmt::Display for TimeoutLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Caller => "the caller's timeout",
            Self::Module => "the module's max_execution_time",
            Self::Server => "the server's max_execution_time",
        })
    }
}

/// How a timeout was noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutWatch {
    /// The guest's own code reached its epoch deadline.
    Epoch,
    /// The wall-clock guard fired: the guest was blocked, typically inside
    /// a slow host call such as `sql`, where epoch checks cannot run.
    WallClock,
}

/// Where a call was when its time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallPhase {
    /// Waiting for one of the module's instances to be free (the pool was
    /// fully checked out).
    Queue,
    /// Creating a new instance.
    Instantiate,
    /// Running the module's `init` in a new instance.
    Init,
    /// Running the guest's function.
    Call,
    /// Asking a new module for its functions' signatures, at load.
    Describe,
    /// Waiting for room under the runtime's instance budget
    /// ([`RuntimeBudget::max_instances`](crate::RuntimeBudget::max_instances)).
    Budget,
}

impl std::fmt::Display for CallPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Queue => "waiting for a free instance",
            Self::Instantiate => "creating an instance",
            Self::Init => "running init in a new instance",
            Self::Call => "running the function",
            Self::Describe => "describing the module's functions at load",
            Self::Budget => "waiting for room under the runtime's instance budget",
        })
    }
}

/// Which of the runtime's budgets ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BudgetResource {
    /// [`RuntimeBudget::max_instances`](crate::RuntimeBudget::max_instances).
    Instances,
    /// [`RuntimeBudget::max_memory_bytes`](crate::RuntimeBudget::max_memory_bytes).
    Memory,
}

impl std::fmt::Display for BudgetResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Instances => "instances (max_instances)",
            Self::Memory => "bytes of linear memory (max_memory_bytes)",
        })
    }
}

/// Why a call failed. [`CallError::is_instance_fatal`] says whether the
/// instance was discarded (the lease takes care of that by itself).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The runtime is shutting down ([`Runtime::shutdown`](crate::Runtime::shutdown)):
    /// it takes no new call, and a call still running at the shutdown's
    /// deadline is stopped with this error.
    #[error("module {module}: the runtime is shutting down")]
    ShuttingDown {
        /// `organisation/name@version`.
        module: String,
    },
    /// The guest returned an error of its own (unknown function, wrong
    /// arguments, a user `Err`). The text is the guest's, unchanged.
    #[error("{message}")]
    Guest {
        /// The guest's error text.
        message: String,
    },
    /// The call ran past its time limit. A caller's timeout covers the
    /// whole call, from asking for an instance to the guest's answer; the
    /// module's and the server's `max_execution_time` cover the guest's run
    /// (and `init`'s, separately).
    #[error("call timed out after {limit:?} while {phase}: {source_limit} fired")]
    Timeout {
        /// The limit that fired.
        limit: Duration,
        /// Whose limit it was.
        source_limit: TimeoutLimit,
        /// How it was noticed.
        watch: TimeoutWatch,
        /// What the call was doing when its time ran out. Only a caller's
        /// timeout can fire before [`CallPhase::Call`]; the instance is
        /// discarded only when it fired there.
        phase: CallPhase,
    },
    /// The caller gave a timeout for a module that runs without timeouts
    /// (`strict_timeout = false`, which the server granted): its code has
    /// no interruption points, so nothing could hold the call to the
    /// timeout. Refused before anything ran.
    #[error(
        "module {module} runs without timeouts (strict_timeout = false), so the caller's timeout \
         cannot be enforced; call it without a timeout, or have the server refuse relaxed \
         timeouts (allow_relaxed_timeout = false) so it loads with them"
    )]
    TimeoutNotEnforceable {
        /// `organisation/name@version`.
        module: String,
    },
    /// The guest asked for more memory than its limit allows.
    #[error("out of memory: {detail}")]
    OutOfMemory {
        /// What was asked for and what the limit is.
        detail: String,
    },
    /// The guest trapped (a panic, an unreachable, a stack overflow).
    #[error("the guest trapped: {message}")]
    Trap {
        /// wasmtime's explanation, with the guest's backtrace if any.
        message: String,
    },
    /// A new instance could not be created.
    #[error("cannot instantiate module {module}: {message}")]
    Instantiation {
        /// `organisation/name@version`.
        module: String,
        /// Why.
        message: String,
    },
    /// The module's `init` export failed, so its instance is unusable.
    #[error("init of module {module} failed: {message}")]
    InitFailed {
        /// `organisation/name@version`.
        module: String,
        /// The guest's error or trap text.
        message: String,
        /// Whether this was a remembered failure answered without running
        /// `init` again (a recent failure backs off further attempts).
        remembered: bool,
    },
    /// The guest answered with more bytes than
    /// [`RuntimeOptions::max_result_bytes`](crate::RuntimeOptions::max_result_bytes)
    /// allows (its encoded result, or its error text). Nothing of the
    /// answer was copied; the instance is discarded, because its memory grew
    /// to hold the answer and never shrinks.
    #[error(
        "the guest's answer of {size} bytes is over the limit of {limit} bytes (max_result_bytes)"
    )]
    ResultTooLarge {
        /// The answer's size in the guest's memory.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The arguments could not be encoded, or the guest's result decoded.
    #[error("{0}")]
    Codec(surli_host::HostError),
    /// The call was made from inside a call of the same module (its guest
    /// reached the embedder through `sql` or `run`, and the embedder called
    /// the module again) while every instance the module may have is held
    /// by calls further up that same chain: waiting for one would never
    /// end. Nothing ran; the module serves other callers as before.
    #[error(
        "module {module} was called from inside its own call while all {pool_size} of its \
         instances are held by that call chain: waiting would never end (raise max_pool_size, \
         or do not call the module from itself)"
    )]
    Reentrant {
        /// `organisation/name@version`.
        module: String,
        /// The module's pool size, all of it held by the chain.
        pool_size: usize,
    },
    /// The runtime-wide budget the embedder set
    /// ([`RuntimeOptions::budget`](crate::RuntimeOptions::budget)) had no
    /// room left once every idle instance in the runtime had been dropped:
    /// for a new instance (under [`WhenFull::FailFast`](crate::WhenFull),
    /// or when every instance is held by the caller's own call chain), or
    /// for a memory grow. Nothing of the module is at fault; it serves
    /// again once other calls end.
    #[error(
        "module {module}: the runtime's budget of {limit} {resource} is used up by other \
         instances (wait for calls to end, or raise the runtime's budget)"
    )]
    BudgetExhausted {
        /// `organisation/name@version`.
        module: String,
        /// Which budget.
        resource: BudgetResource,
        /// The budget's ceiling.
        limit: u64,
    },
    /// The module has no such export (`function-args` and friends are
    /// optional in the world).
    #[error("module {module} does not export `{export}`")]
    MissingExport {
        /// `organisation/name@version`.
        module: String,
        /// The missing export.
        export: &'static str,
    },
}

impl CallError {
    /// A short, stable name for the kind of failure, for machines (logs,
    /// metrics, the CLI's `{"err": …, "kind": …}` lines): `guest`,
    /// `timeout`, `out_of_memory`, `trap`, `instantiation`, `init_failed`,
    /// `result_too_large`, `reentrant`, `timeout_not_enforceable`,
    /// `budget_exhausted`, `codec`, `missing_export` or `shutting_down`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Guest { .. } => "guest",
            Self::Timeout { .. } => "timeout",
            Self::OutOfMemory { .. } => "out_of_memory",
            Self::Trap { .. } => "trap",
            Self::Instantiation { .. } => "instantiation",
            Self::InitFailed { .. } => "init_failed",
            Self::ResultTooLarge { .. } => "result_too_large",
            Self::Reentrant { .. } => "reentrant",
            Self::ShuttingDown { .. } => "shutting_down",
            Self::TimeoutNotEnforceable { .. } => "timeout_not_enforceable",
            Self::BudgetExhausted { .. } => "budget_exhausted",
            Self::Codec(_) => "codec",
            Self::MissingExport { .. } => "missing_export",
        }
    }

    /// Whether the instance that produced this error was discarded: it
    /// trapped, timed out, ran out of memory, answered with more than the
    /// result-size cap, or never became usable (a caller's timeout that
    /// fired while it was being created or initialised). A timeout that
    /// fired while the call waited for an instance involved none, nor did
    /// a refusal for want of room under the runtime's instance budget; one
    /// for want of memory stopped the instance that asked for it.
    pub fn is_instance_fatal(&self) -> bool {
        match self {
            Self::Timeout { phase, .. } => !matches!(phase, CallPhase::Queue | CallPhase::Budget),
            Self::BudgetExhausted { resource, .. } => *resource == BudgetResource::Memory,
            Self::OutOfMemory { .. }
            | Self::Trap { .. }
            | Self::Instantiation { .. }
            | Self::InitFailed { .. }
            | Self::ResultTooLarge { .. }
            | Self::ShuttingDown { .. } => true,
            _ => false,
        }
    }
}
