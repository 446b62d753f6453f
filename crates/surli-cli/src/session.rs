//! What `call`, `run` and `bench` share: loading a package into a module
//! under the server limits of the command line, the context that answers
//! the guest's host calls, the KV file, and finding a function by name.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use surli::codec;
use surli::kv::KvDump;
use surli::{
    ArtifactCache, CallInfo, ContextError, FunctionSignature, InvocationContext, KvStore, Module,
    ModuleOptions, Object, Runtime, RuntimeOptions, Value, async_trait,
};
use surli_surrealdb::surrealdb::Surreal;
use surli_surrealdb::surrealdb::engine::any::Any;
use surli_surrealdb::{SurrealContext, SurrealKvStore};

use crate::limits_args::LimitsArgs;

/// The package and the host it runs in.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ModuleArgs {
    /// The package to run
    pub(crate) file: PathBuf,

    /// Keep the module's KV store in this JSON file: read before the first
    /// call (when it exists), written back after the last
    #[arg(long, value_name = "PATH", conflicts_with = "kv")]
    pub(crate) kv_file: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) database: DatabaseArgs,

    #[command(flatten)]
    pub(crate) limits: LimitsArgs,

    #[command(flatten)]
    pub(crate) cache: CacheArgs,

    /// Record the module's metrics and print them, in Prometheus's text
    /// format, to stderr when the command ends
    #[arg(long)]
    pub(crate) metrics: bool,

    /// Start the module's instances from a snapshot taken after its
    /// `init` ran once, instead of running `init` in each (refused, with
    /// the reason, when `init` calls an import)
    #[arg(long)]
    pub(crate) snapshot_init: bool,
}

/// A SurrealDB for the module's `sql`, `run` and KV store.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DatabaseArgs {
    /// Answer the module's `sql` and `run` with a SurrealDB: `mem://` (in
    /// memory, gone when the command ends) or `surrealkv://PATH` (kept in
    /// the directory PATH)
    #[arg(long, value_name = "URL")]
    db: Option<String>,

    /// The namespace of --db and --kv
    #[arg(long, value_name = "NAME", default_value = "surli")]
    ns: String,

    /// The database of --db and --kv
    #[arg(long = "db-name", value_name = "NAME", default_value = "surli")]
    db_name: String,

    /// Keep the module's KV store in a SurrealDB instead of memory:
    /// `surrealkv://PATH` keeps it across runs (the same URL as --db shares
    /// that database)
    #[arg(long, value_name = "URL")]
    kv: Option<String>,
}

impl DatabaseArgs {
    /// Opens the databases asked for: the one for `sql` and `run`, and the
    /// one for the KV store (the same handle when the URLs are equal, since
    /// a file database can be opened only once).
    async fn open(&self) -> anyhow::Result<(Option<Surreal<Any>>, Option<Surreal<Any>>)> {
        let open = |url: &str| {
            let url = url.to_owned();
            async move {
                surli_surrealdb::connect(&url, &self.ns, &self.db_name)
                    .await
                    .map_err(crate::flat)
            }
        };
        let db = match &self.db {
            Some(url) => Some(open(url).await.context("cannot attach --db")?),
            None => None,
        };
        let kv = match (&self.kv, &self.db, &db) {
            (Some(kv), Some(url), Some(db)) if kv == url => Some(db.clone()),
            (Some(kv), _, _) => Some(open(kv).await.context("cannot open --kv")?),
            (None, _, _) => None,
        };
        Ok((db, kv))
    }
}

/// Where compiled modules are kept between runs.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CacheArgs {
    /// Keep compiled modules in DIR, so a package compiles once per
    /// machine [default: surli/artifacts in the user's cache directory,
    /// e.g. ~/.cache/surli/artifacts]
    #[arg(long, value_name = "DIR", env = "SURLI_CACHE_DIR")]
    cache_dir: Option<PathBuf>,

    /// Compile every time, reading and writing no compiled modules
    #[arg(long)]
    no_cache: bool,
}

impl CacheArgs {
    /// The cache directory to use, if any.
    pub(crate) fn dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        self.cache_dir.clone().or_else(ArtifactCache::user_dir)
    }

    /// Runtime options with these cache settings and `limits`.
    pub(crate) fn runtime_options(&self, limits: &LimitsArgs) -> RuntimeOptions {
        let mut options = RuntimeOptions::default().with_server(limits.server_limits());
        options.cache_dir = self.dir();
        options
    }
}

/// A loaded module and where its KV goes when the command ends.
pub(crate) struct Session {
    // Kept alive for as long as the module: it owns the engines.
    runtime: Runtime,
    /// What `--metrics` renders.
    metrics: Option<PrometheusHandle>,
    pub(crate) module: Module,
    kv_file: Option<PathBuf>,
    pub(crate) context: Arc<dyn InvocationContext>,
}

impl Session {
    /// Reads, loads and (with `--kv-file`) fills the module's KV store.
    /// Runs inside the async runtime: loading compiles on a blocking thread.
    pub(crate) async fn open(args: &ModuleArgs) -> anyhow::Result<Self> {
        let metrics = args
            .metrics
            .then(|| PrometheusBuilder::new().install_recorder())
            .transpose()
            .context("cannot record metrics")?;
        if let Some(handle) = &metrics {
            // The recorder folds its histograms' samples only when told to:
            // without this, a long `bench --metrics` would keep every one.
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(5));
                loop {
                    every.tick().await;
                    handle.run_upkeep();
                }
            });
        }
        let options = args
            .cache
            .runtime_options(&args.limits)
            .with_metrics(args.metrics);
        let runtime = Runtime::new(options).map_err(crate::flat)?;
        let package = crate::read_package_for(&runtime, &args.file)?;
        let (database, kv_database) = args.database.open().await?;
        let kv = kv_database.map(|db| {
            let limits = runtime.kv_limits(package.config());
            let store = SurrealKvStore::for_module(db, &package.config().meta, limits);
            Arc::new(store) as Arc<dyn KvStore>
        });
        let mut options = ModuleOptions::default().with_snapshot_init(args.snapshot_init);
        options.kv = kv;
        let module = runtime
            .load_with(package, options)
            .await
            .map_err(crate::flat)
            .with_context(|| format!("cannot load {}", crate::shown(&args.file)))?;
        for warning in module.warnings() {
            eprintln!("surli: warning: {warning}");
        }
        if let Some(path) = &args.kv_file {
            load_kv(&module, path).await?;
        }
        Ok(Self {
            runtime,
            metrics,
            module,
            kv_file: args.kv_file.clone(),
            context: Arc::new(CliContext {
                database: database.map(SurrealContext::new),
            }),
        })
    }

    /// The module's metrics in Prometheus's text format, when `--metrics`
    /// records them.
    pub(crate) fn metrics(&self) -> Option<String> {
        let handle = self.metrics.as_ref()?;
        self.runtime.publish_metrics();
        Some(handle.render())
    }

    /// Writes the KV store back to `--kv-file`, if one was given, and
    /// prints the metrics `--metrics` asked for.
    pub(crate) async fn close(self) -> anyhow::Result<()> {
        if let Some(text) = self.metrics() {
            eprint!("{text}");
        }
        if let Some(path) = &self.kv_file {
            save_kv(&self.module, path).await?;
        }
        Ok(())
    }

    /// The function called `name` (`None`: the default export), with the
    /// kinds its parameters are declared with.
    pub(crate) fn function(&self, name: Option<&str>) -> anyhow::Result<&FunctionSignature> {
        let functions = self.module.functions();
        if let Some(found) = functions.iter().find(|f| f.name.as_deref() == name) {
            return Ok(found);
        }
        let meta = &self.module.config().meta;
        let mut names: Vec<&str> = functions.iter().filter_map(|f| f.name.as_deref()).collect();
        names.sort_unstable();
        let listed = if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        };
        let default = if functions.iter().any(|f| f.name.is_none()) {
            " (and a default export, called with `-`)"
        } else {
            ""
        };
        match name {
            Some(name) => bail!(
                "module {}/{} has no function `{name}`; its functions are: {listed}{default}",
                meta.organisation,
                meta.name
            ),
            None => bail!(
                "module {}/{} has no default export; name a function: {listed}",
                meta.organisation,
                meta.name
            ),
        }
    }
}

/// Reads a function name as typed: `-` is the default export.
pub(crate) fn function_name(word: &str) -> Option<&str> {
    (word != "-").then_some(word)
}

/// How a function is shown in messages.
pub(crate) fn function_label(name: Option<&str>) -> String {
    name.map_or_else(|| "the default export".to_owned(), |n| format!("`{n}`"))
}

/// Answers the guest's host calls on the command line: `sql` and `run` go
/// to the database of `--db`, or fail with a message that says how to
/// attach one; the guest's printed lines go to stderr, so stdout carries
/// only results.
struct CliContext {
    database: Option<SurrealContext<Any>>,
}

const NO_DATABASE: &str = "no database attached: run the command with `--db mem://` (or `--db \
                           surrealkv://PATH`) to answer `sql` and `run`";

#[async_trait]
impl InvocationContext for CliContext {
    async fn sql(&self, call: &CallInfo, query: &str, vars: Object) -> Result<Value, ContextError> {
        match &self.database {
            Some(database) => database.sql(call, query, vars).await,
            None => Err(NO_DATABASE.into()),
        }
    }

    async fn run(
        &self,
        call: &CallInfo,
        function: &str,
        version: Option<&str>,
        args: Vec<Value>,
    ) -> Result<Value, ContextError> {
        match &self.database {
            Some(database) => database.run(call, function, version, args).await,
            None => Err(NO_DATABASE.into()),
        }
    }

    fn stdout(&self, call: &CallInfo, line: &str) {
        eprintln!("[{} stdout] {line}", guest_label(call));
    }

    fn stderr(&self, call: &CallInfo, line: &str) {
        eprintln!("[{} stderr] {line}", guest_label(call));
    }
}

fn guest_label(call: &CallInfo) -> String {
    let module = call.module();
    match call.function() {
        Some(function) => format!("{}::{function}", module.name),
        None => module.name.clone(),
    }
}

async fn load_kv(module: &Module, path: &Path) -> anyhow::Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // A file that does not exist yet is an empty store; it is created
        // when the command ends.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error).with_context(|| crate::shown(path)),
    };
    let dump = KvDump::from_json(&text)
        .map_err(crate::flat)
        .with_context(|| format!("cannot read the KV file {}", crate::shown(path)))?;
    dump.restore_into(module.kv().as_ref())
        .await
        .map_err(crate::flat)
        .with_context(|| {
            format!(
                "the KV file {} does not fit the module's KV limits",
                crate::shown(path)
            )
        })?;
    Ok(())
}

async fn save_kv(module: &Module, path: &Path) -> anyhow::Result<()> {
    let dump = KvDump::from_store(module.kv().as_ref())
        .await
        .map_err(crate::flat)
        .context("cannot read the module's KV store")?;
    let text = dump.to_json(|bytes| {
        codec::decode_value(bytes)
            .ok()
            .map(|value| surli_values::to_surrealql(&value))
    });
    write_atomically(path, text.as_bytes())
        .with_context(|| format!("cannot write the KV file {}", crate::shown(path)))
}

/// Writes through a temporary file in the same directory, renamed over the
/// target, so an interrupted write never leaves half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;

    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Reads `text` as one SurrealQL value with SurrealDB's own parser, for
/// arguments such as `NONE`, `d'2024-01-01T00:00:00Z'` or `person:42`.
/// The whole text must be that value: `10 apples` is not `10`.
pub(crate) fn surrealql(text: &str) -> Option<surli::Value> {
    surrealdb_syn::parse_with(text.as_bytes(), async |parser, stk| {
        let value = parser.parse_value(stk).await?;
        parser.assert_finished()?;
        Ok(value)
    })
    .ok()
}
