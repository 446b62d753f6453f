//! What an embedder implements: the database side of `sql` and `run`, and
//! where guest output goes.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use surli_config::{FunctionTargets, PackageMeta};
use surli_kv::KvStore;
use surrealdb_types::{Object, Value};

/// The embedder's side of a call: what `sql` and `run` do, and where the
/// guest's output goes.
///
/// The pool sets one context per call (with [`HostState::set_call`]) and
/// takes it away when the call ends ([`HostState::clear_call`]); between
/// calls an instance sees [`NullContext`]. A context is shared (`&self`,
/// behind an `Arc`), so it can hold whatever the embedder needs for the
/// request: a transaction, the caller's session, a deadline.
///
/// # What the runtime checks first
///
/// The capability checks happen before the context is reached: `sql` is
/// only called when the module has `allow_arbitrary_queries`, `run` only
/// when `allow_functions` allows the function. An embedder may check more
/// (its own permissions for the caller) and refuse with a [`ContextError`].
///
/// # The key-value store
///
/// The module's key-value store belongs to the module: it is handed to
/// [`ModuleEnv`](crate::ModuleEnv) once, at load, and the `kv-*` host
/// functions use it unless the context says otherwise. A context may
/// supply a store for its own call through [`kv`](Self::kv) (the original
/// runtime asked every context for one, and an embedder ported from it may
/// keep a store per request or per tenant); the default supplies none. A
/// store a context hands out is the embedder's to keep apart from other
/// modules' stores and to limit.
///
/// # Errors
///
/// The `Display` of a returned [`ContextError`] is the message the guest
/// receives in the `result` error of `sql` or `run`. Say what failed in
/// terms the module author can act on, and keep secrets out of it.
///
/// [`HostState::set_call`]: crate::HostState::set_call
/// [`HostState::clear_call`]: crate::HostState::clear_call
#[async_trait]
pub trait InvocationContext: Send + Sync {
    /// Runs a SurrealQL query for the guest, with its variables.
    ///
    /// Reached only after the runtime checked that the module has
    /// `allow_arbitrary_queries`.
    async fn sql(&self, call: &CallInfo, query: &str, vars: Object) -> Result<Value, ContextError>;

    /// Calls the SurrealDB function `function` (optionally at `version`,
    /// passed through as the guest wrote it) with `args`.
    ///
    /// Reached only after the runtime checked that the module's
    /// `allow_functions` allows `function`.
    async fn run(
        &self,
        call: &CallInfo,
        function: &str,
        version: Option<&str>,
        args: Vec<Value>,
    ) -> Result<Value, ContextError>;

    /// The key-value store the `kv-*` host functions of this call use,
    /// instead of the module's own. `None` (the default): the module's
    /// store, with the module's limits.
    ///
    /// Asked once per host call, so a context may answer differently from
    /// one call to the next; keep it cheap (clone an `Arc`).
    fn kv(&self, call: &CallInfo) -> Option<Arc<dyn KvStore>> {
        let _ = call;
        None
    }

    /// One piece of the guest's standard output: a line without its
    /// newline, or a chunk of a longer line (see
    /// [`StdioLimits`](crate::StdioLimits)).
    ///
    /// Called synchronously while the guest writes, so keep it short. The
    /// default emits a `tracing` event at `INFO` with target
    /// `surli::guest`, carrying the module, function and call kind.
    fn stdout(&self, call: &CallInfo, line: &str) {
        tracing::info!(
            target: "surli::guest",
            module = %ModuleLabel(call.module()),
            function = call.function().unwrap_or(DEFAULT_FUNCTION),
            kind = %call.kind(),
            stream = "stdout",
            "{line}"
        );
    }

    /// One piece of the guest's standard error, as for
    /// [`stdout`](Self::stdout). The default emits a `tracing` event at
    /// `WARN` with target `surli::guest`.
    fn stderr(&self, call: &CallInfo, line: &str) {
        tracing::warn!(
            target: "surli::guest",
            module = %ModuleLabel(call.module()),
            function = call.function().unwrap_or(DEFAULT_FUNCTION),
            kind = %call.kind(),
            stream = "stderr",
            "{line}"
        );
    }
}

/// How the default export is named in logs and messages.
const DEFAULT_FUNCTION: &str = "<default>";

/// Why a call is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallKind {
    /// A call of one of the module's functions through `invoke`.
    Invoke,
    /// The module's `init` export, run once after instantiation.
    Init,
    /// One of the describing exports (`list-functions`, `function-args`,
    /// `function-returns`, `function-writeable`, `function-comment`).
    Introspect,
    /// No call: the instance is being created or sits between calls. Only
    /// output can arrive then (from start-up code), and it goes to
    /// [`NullContext`].
    Idle,
}

impl fmt::Display for CallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Invoke => "invoke",
            Self::Init => "init",
            Self::Introspect => "introspect",
            Self::Idle => "idle",
        })
    }
}

/// Which module and function a call is for, handed to every
/// [`InvocationContext`] method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    module: Arc<PackageMeta>,
    function: Option<Arc<str>>,
    kind: CallKind,
    allowed_functions: Option<Arc<FunctionTargets>>,
    deadline: Option<Instant>,
}

impl CallInfo {
    /// A call of `kind` for `function` of `module`; `None` is the module's
    /// default export (or no function at all, for `init` and idle).
    pub fn new(module: Arc<PackageMeta>, kind: CallKind, function: Option<String>) -> Self {
        Self::shared(module, kind, function.map(Arc::from))
    }

    /// [`CallInfo::new`] with a name the caller already shares, so a host
    /// that calls the same function again and again does not copy its name
    /// on every call.
    pub fn shared(module: Arc<PackageMeta>, kind: CallKind, function: Option<Arc<str>>) -> Self {
        Self {
            module,
            function,
            kind,
            allowed_functions: None,
            deadline: None,
        }
    }

    /// This call info, saying that the call must be over by `deadline`.
    /// Work the host does for the guest (an outbound HTTP request) ends
    /// there too.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// When the call must be over, if it has a time limit.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// This call info, saying that the module may call `functions` (its
    /// `allow_functions`) and no others.
    pub fn with_allowed_functions(mut self, functions: Arc<FunctionTargets>) -> Self {
        self.allowed_functions = Some(functions);
        self
    }

    /// The functions the module may call, when the host said: surli's host
    /// says so on the info it hands to [`InvocationContext::sql`] and
    /// [`InvocationContext::run`], so a context that runs queries can hold
    /// the module's queries to its grant (as SurrealDB's own host narrows
    /// a module's capabilities). `None`: not said, for example on the info
    /// of output lines.
    pub fn allowed_functions(&self) -> Option<&FunctionTargets> {
        self.allowed_functions.as_deref()
    }

    /// An `invoke` of `function` (`None`: the default export).
    pub fn invoke(module: Arc<PackageMeta>, function: Option<&str>) -> Self {
        Self::shared(module, CallKind::Invoke, function.map(Arc::from))
    }

    /// The module's `init`.
    pub fn init(module: Arc<PackageMeta>) -> Self {
        Self::new(module, CallKind::Init, None)
    }

    /// A describing call about `function`.
    pub fn introspect(module: Arc<PackageMeta>, function: Option<&str>) -> Self {
        Self::shared(module, CallKind::Introspect, function.map(Arc::from))
    }

    /// No call in progress.
    pub fn idle(module: Arc<PackageMeta>) -> Self {
        Self::new(module, CallKind::Idle, None)
    }

    /// The module the call is for.
    pub fn module(&self) -> &PackageMeta {
        &self.module
    }

    /// The module, shared.
    pub fn module_arc(&self) -> &Arc<PackageMeta> {
        &self.module
    }

    /// The function called, `None` for the default export, `init` and idle.
    pub fn function(&self) -> Option<&str> {
        self.function.as_deref()
    }

    /// Why the call runs.
    pub fn kind(&self) -> CallKind {
        self.kind
    }
}

/// `organisation/name` of a module, as messages name it.
pub(crate) struct ModuleLabel<'a>(pub(crate) &'a PackageMeta);

impl fmt::Display for ModuleLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.organisation, self.0.name)
    }
}

/// An embedder's refusal or failure in `sql` or `run`.
///
/// Its `Display` is exactly what the guest receives as the error message;
/// the wrapped error stays available through [`Error::source`] for the
/// embedder's own logging.
///
/// ```
/// use surli_host::ContextError;
///
/// let refused = ContextError::from("the caller may not write to table `user`");
/// assert_eq!(refused.to_string(), "the caller may not write to table `user`");
///
/// let io = std::io::Error::other("connection reset");
/// assert_eq!(ContextError::new(io).to_string(), "connection reset");
/// ```
pub struct ContextError(Box<dyn Error + Send + Sync>);

impl ContextError {
    /// Wraps any error (a `std` error, a boxed error, an `anyhow::Error`
    /// through its `Into<Box<dyn Error + Send + Sync>>`, or a message).
    pub fn new(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self(error.into())
    }

    /// The wrapped error.
    pub fn into_inner(self) -> Box<dyn Error + Send + Sync> {
        self.0
    }
}

impl fmt::Debug for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for ContextError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.0)
    }
}

impl From<String> for ContextError {
    fn from(message: String) -> Self {
        Self(message.into())
    }
}

impl From<&str> for ContextError {
    fn from(message: &str) -> Self {
        Self(message.into())
    }
}

impl From<Box<dyn Error + Send + Sync>> for ContextError {
    fn from(error: Box<dyn Error + Send + Sync>) -> Self {
        Self(error)
    }
}

/// The context of an instance that is not in a call.
///
/// Refuses `sql` and `run` with [`NullContext::MESSAGE`]; guest output goes
/// to the `tracing` defaults of [`InvocationContext`]. Every instance holds
/// it between calls, so nothing from one caller's context can reach the
/// next caller. Embedders can use it for calls that must not reach the
/// database, such as describing a module's functions.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullContext;

impl NullContext {
    /// The error `sql` and `run` return.
    pub const MESSAGE: &'static str =
        "no invocation context: sql and run are only available during a call";
}

#[async_trait]
impl InvocationContext for NullContext {
    async fn sql(
        &self,
        _call: &CallInfo,
        _query: &str,
        _vars: Object,
    ) -> Result<Value, ContextError> {
        Err(NullContext::MESSAGE.into())
    }

    async fn run(
        &self,
        _call: &CallInfo,
        _function: &str,
        _version: Option<&str>,
        _args: Vec<Value>,
    ) -> Result<Value, ContextError> {
        Err(NullContext::MESSAGE.into())
    }
}
