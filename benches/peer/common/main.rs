//! `peer-bench`: runs Surrealism packages through an original runtime
//! (`surrealism-runtime` 0.3.1 or 0.6.5, whichever workspace built this
//! file) the way SurrealDB core drives it, so surli's own figures and
//! results have something to be compared with.
//!
//! ```text
//! peer-bench measure --package FILE [--function NAME] [--args JSON_ARRAY]
//!                    [--seconds S] [--warmup S] [--concurrency N] [--pool N]
//! peer-bench call    --package FILE [--function NAME] [--args JSON_ARRAY]
//! peer-bench calls   < lines of {"package": FILE, "function": NAME|null, "args": [...]}
//! peer-bench rss     --packages N FILE
//! ```
//!
//! A missing `--function` (or `-`) is the module's default export. Each
//! command prints JSON on stdout; guest output goes to stderr.
//!
//! Arguments are JSON, read against the kinds the package's `exports.toml`
//! declares (as surli reads them), or taken as they come (int, float,
//! string, bool, array, object) where the manifest says nothing.

#[path = "../../common/measure.rs"]
mod measure;

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use async_trait::async_trait;
use serde_json::{Value as Json, json};
use surrealdb_types::{
    Array, Datetime, Decimal, Kind, Number, Object, RecordId, RecordIdKey, Table, Uuid, Value,
};
use surrealism_runtime::SurrealismError;
use surrealism_runtime::config::SurrealismConfig;
use surrealism_runtime::host::InvocationContext;
use surrealism_runtime::kv::{BTreeMapStore, KVStore};
use surrealism_runtime::package::SurrealismPackage;
use surrealism_runtime::runtime::Runtime;

use crate::measure::{callers, quantiles, rss_bytes};

const RUNTIME_VERSION: &str = env!("PEER_RUNTIME_VERSION");
const WASMTIME_VERSION: &str = env!("PEER_WASMTIME_VERSION");
const TYPES_VERSION: &str = env!("PEER_TYPES_VERSION");

/// The server limits every load gets: surli's defaults (`ServerLimits`),
/// so both sides run a module under the same ceilings.
const POOL_SIZE: usize = 8;
const MAX_MEMORY: usize = 256 * 1024 * 1024;
const MAX_EXECUTION_TIME: Duration = Duration::from_secs(10);
const MAX_KV_ENTRIES: usize = 100_000;
const MAX_KV_VALUE_BYTES: usize = 1024 * 1024;

fn main() -> ExitCode {
    let words: Vec<String> = std::env::args().skip(1).collect();
    match run(&words) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("peer-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(words: &[String]) -> Result<()> {
    let Some((command, rest)) = words.split_first() else {
        bail!("usage: peer-bench measure|call|calls|rss [options] (see the source header)");
    };
    let options = Options::parse(rest)?;
    let executor = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = match command.as_str() {
        "measure" => executor.block_on(measure(&options))?,
        "call" => executor.block_on(call_once(&options))?,
        "calls" => return executor.block_on(call_lines()),
        "rss" => executor.block_on(rss_of_copies(&options))?,
        other => bail!("unknown command `{other}`: measure, call, calls or rss"),
    };
    println!("{report}");
    Ok(())
}

/// The command line, parsed by hand to keep the build small.
struct Options {
    package: Option<PathBuf>,
    function: Option<String>,
    args: Vec<Json>,
    seconds: f64,
    warmup: f64,
    concurrency: usize,
    pool: usize,
    copies: usize,
}

impl Options {
    fn parse(words: &[String]) -> Result<Self> {
        let mut options = Options {
            package: None,
            function: None,
            args: Vec::new(),
            seconds: 3.0,
            warmup: 0.5,
            concurrency: 1,
            pool: POOL_SIZE,
            copies: 1,
        };
        let mut words = words.iter();
        while let Some(word) = words.next() {
            let mut value = || {
                words
                    .next()
                    .cloned()
                    .with_context(|| format!("{word} needs a value"))
            };
            match word.as_str() {
                "--package" => options.package = Some(PathBuf::from(value()?)),
                "--function" => {
                    let name = value()?;
                    options.function = (name != "-" && !name.is_empty()).then_some(name);
                }
                "--args" => {
                    let text = value()?;
                    let parsed: Json = serde_json::from_str(&text)
                        .with_context(|| format!("--args is not JSON: {text}"))?;
                    let Json::Array(items) = parsed else {
                        bail!("--args must be a JSON array, got {text}");
                    };
                    options.args = items;
                }
                "--seconds" => options.seconds = number(&value()?, word)?,
                "--warmup" => options.warmup = number(&value()?, word)?,
                "--concurrency" => options.concurrency = count(&value()?, word)?,
                "--pool" => options.pool = count(&value()?, word)?,
                "--packages" => options.copies = count(&value()?, word)?,
                other if !other.starts_with("--") && options.package.is_none() => {
                    options.package = Some(PathBuf::from(other));
                }
                other => bail!("unknown option `{other}`"),
            }
        }
        Ok(options)
    }

    fn package(&self) -> Result<&Path> {
        self.package
            .as_deref()
            .context("--package FILE is required")
    }
}

fn number(text: &str, option: &str) -> Result<f64> {
    let value: f64 = text
        .parse()
        .with_context(|| format!("{option} wants a number, got {text}"))?;
    if !(value.is_finite() && value >= 0.0) {
        bail!("{option} wants a non-negative number, got {text}");
    }
    Ok(value)
}

fn count(text: &str, option: &str) -> Result<usize> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("{option} wants a whole number of at least 1, got {text}"),
    }
}

// ---------------------------------------------------------------------------
// The embedder's side: what SurrealDB core hands the runtime per call.
// ---------------------------------------------------------------------------

/// A minimal invocation context: no database behind `sql` and `run`, and the
/// runtime's own per-module KV store, as SurrealDB hands it out.
struct PeerContext {
    kv: Arc<BTreeMapStore>,
}

impl PeerContext {
    fn boxed(runtime: &Runtime) -> Box<dyn InvocationContext> {
        Box::new(PeerContext {
            kv: Arc::clone(runtime.kv_store()),
        })
    }
}

#[async_trait]
impl InvocationContext for PeerContext {
    async fn sql(
        &mut self,
        _config: &SurrealismConfig,
        _query: String,
        _vars: Object,
    ) -> Result<Value> {
        bail!("peer-bench has no database: sql is not available")
    }

    async fn run(
        &mut self,
        _config: &SurrealismConfig,
        _fnc: String,
        _version: Option<String>,
        _args: Vec<Value>,
    ) -> Result<Value> {
        bail!("peer-bench has no database: run is not available")
    }

    fn kv(&mut self) -> Result<&dyn KVStore> {
        Ok(self.kv.as_ref())
    }

    // Guest stdio goes to stderr, so stdout stays one JSON document.
    fn stdout_callback(&self) -> Arc<dyn Fn(&str) + Send + Sync> {
        Arc::new(|line| eprintln!("guest stdout: {line}"))
    }

    fn stderr_callback(&self) -> Arc<dyn Fn(&str) + Send + Sync> {
        Arc::new(|line| eprintln!("guest stderr: {line}"))
    }
}

/// What loading costs in the original: reading the package and
/// `Runtime::new`, which compiles the component every time.
fn load(path: &Path, pool: usize) -> Result<Runtime> {
    let package = SurrealismPackage::from_file(path.to_path_buf())
        .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    Runtime::new(
        package,
        pool,
        Some(MAX_MEMORY),
        Some(MAX_EXECUTION_TIME),
        Some(MAX_KV_ENTRIES),
        Some(MAX_KV_VALUE_BYTES),
    )
    .map_err(|e| anyhow!("cannot load {}: {e}", path.display()))
}

/// One call as SurrealDB core makes it: acquire a controller (a pooled one,
/// or a new instance plus `init`), invoke with the caller's timeout (none
/// here), then drop the controller after a trap or give it back.
async fn call(
    runtime: &Runtime,
    function: &Option<String>,
    args: &[Value],
) -> Result<Value, SurrealismError> {
    let mut controller = runtime
        .acquire_controller(PeerContext::boxed(runtime))
        .await?;
    let outcome = controller
        .invoke_with_timeout(function.clone(), args.to_vec(), None)
        .await;
    match &outcome {
        Err(error) if error.is_trap() => drop(controller),
        _ => runtime.release_controller(controller),
    }
    outcome
}

// ---------------------------------------------------------------------------
// Arguments: JSON read against the declared kinds.
// ---------------------------------------------------------------------------

/// The call's arguments: each JSON value read against the kind the manifest
/// declares at its position, `any` past the declared ones or when the
/// function is not in the manifest. The count is not checked here: a wrong
/// count reaches the guest, whose error is part of what is compared.
fn arguments(runtime: &Runtime, function: Option<&str>, args: &[Json]) -> Result<Vec<Value>> {
    let declared: Vec<Kind> = runtime
        .get_signature(function)
        .map(|signature| {
            signature
                .args
                .iter()
                .map(|(_, kind)| kind.clone())
                .collect()
        })
        .unwrap_or_default();
    args.iter()
        .enumerate()
        .map(|(i, json)| {
            let kind = declared.get(i).cloned().unwrap_or(Kind::Any);
            from_json(json, &kind).with_context(|| format!("argument {}", i + 1))
        })
        .collect()
}

fn from_json(json: &Json, kind: &Kind) -> Result<Value> {
    let refused = || anyhow!("expected {kind}, got {json}");
    Ok(match kind {
        Kind::Any => any_from_json(json),
        Kind::None if json.is_null() => Value::None,
        Kind::Null if json.is_null() => Value::Null,
        Kind::Bool => Value::Bool(json.as_bool().ok_or_else(refused)?),
        Kind::Int => Value::Number(Number::Int(json.as_i64().ok_or_else(refused)?)),
        Kind::Float => Value::Number(Number::Float(json.as_f64().ok_or_else(refused)?)),
        Kind::Number => match (json.as_i64(), json.as_f64()) {
            (Some(int), _) => Value::Number(Number::Int(int)),
            (None, Some(float)) => Value::Number(Number::Float(float)),
            _ => return Err(refused()),
        },
        Kind::Decimal => {
            let text = match json {
                Json::String(text) => text.clone(),
                Json::Number(n) => n.to_string(),
                _ => return Err(refused()),
            };
            Value::Number(Number::Decimal(
                Decimal::from_str(&text).map_err(|_| refused())?,
            ))
        }
        Kind::String => Value::String(json.as_str().ok_or_else(refused)?.to_owned()),
        Kind::Datetime => {
            let text = json.as_str().ok_or_else(refused)?;
            Value::Datetime(Datetime::from_str(text).map_err(|_| refused())?)
        }
        Kind::Duration => {
            let text = json.as_str().ok_or_else(refused)?;
            Value::Duration(surrealdb_types::Duration::from_str(text).map_err(|_| refused())?)
        }
        Kind::Uuid => {
            let text = json.as_str().ok_or_else(refused)?;
            Value::Uuid(Uuid::from_str(text).map_err(|_| refused())?)
        }
        Kind::Table(_) => Value::Table(Table::new(json.as_str().ok_or_else(refused)?)),
        Kind::Record(_) => Value::RecordId(record_from_text(json.as_str().ok_or_else(refused)?)?),
        Kind::Object => {
            let Json::Object(fields) = json else {
                return Err(refused());
            };
            let mut object = Object::new();
            for (key, field) in fields {
                object.insert(key.clone(), any_from_json(field));
            }
            Value::Object(object)
        }
        Kind::Array(inner, _) => {
            let Json::Array(items) = json else {
                return Err(refused());
            };
            let values = items
                .iter()
                .map(|item| from_json(item, inner))
                .collect::<Result<Vec<_>>>()?;
            Value::Array(Array::from(values))
        }
        Kind::Either(kinds) => {
            if json.is_null() && kinds.contains(&Kind::None) {
                Value::None
            } else if json.is_null() && kinds.contains(&Kind::Null) {
                Value::Null
            } else {
                kinds
                    .iter()
                    .find_map(|alternative| from_json(json, alternative).ok())
                    .ok_or_else(refused)?
            }
        }
        _ => return Err(refused()),
    })
}

/// JSON's own sorts: null is NULL, an integer that fits 64 bits an int,
/// any other number a float.
fn any_from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(int) => Value::Number(Number::Int(int)),
            None => Value::Number(Number::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        Json::String(text) => Value::String(text.clone()),
        Json::Array(items) => Value::Array(Array::from(
            items.iter().map(any_from_json).collect::<Vec<_>>(),
        )),
        Json::Object(fields) => {
            let mut object = Object::new();
            for (key, field) in fields {
                object.insert(key.clone(), any_from_json(field));
            }
            Value::Object(object)
        }
    }
}

/// `table:key`: an integer key when the key is one, else a string key.
/// (Enough for comparisons; keys needing SurrealQL escapes are not read.)
fn record_from_text(text: &str) -> Result<RecordId> {
    let (table, key) = text
        .split_once(':')
        .with_context(|| format!("a record id is table:key, got {text}"))?;
    let key = match key.parse::<i64>() {
        Ok(int) => RecordIdKey::Number(int),
        Err(_) => RecordIdKey::String(key.to_owned()),
    };
    Ok(RecordId::new(table, key))
}

// ---------------------------------------------------------------------------
// Commands.
// ---------------------------------------------------------------------------

/// The outcome as one JSON object: `{"ok": value}` (the value through
/// `surrealdb-types`' own `into_json_value`), or `{"err": text, "kind": k}`
/// where a guest error's text is the guest's own, unchanged.
fn outcome_json(outcome: Result<Value, SurrealismError>) -> Json {
    match outcome {
        Ok(value) => json!({ "ok": value.into_json_value() }),
        Err(SurrealismError::FunctionCallError(text)) => json!({ "err": text, "kind": "guest" }),
        Err(error) => {
            let kind = match &error {
                SurrealismError::Timeout { .. } => "timeout",
                _ if error.is_trap() => "trap",
                _ => "other",
            };
            json!({ "err": error.to_string(), "kind": kind })
        }
    }
}

async fn call_once(options: &Options) -> Result<Json> {
    let runtime = load(options.package()?, options.pool)?;
    let args = arguments(&runtime, options.function.as_deref(), &options.args)?;
    Ok(outcome_json(call(&runtime, &options.function, &args).await))
}

/// Many calls, one per line of stdin, answered one line each on stdout;
/// each package is loaded once, on first use, and kept (with its KV store
/// and pool) for the later lines, so a sequence of calls sees its state.
async fn call_lines() -> Result<()> {
    let mut loaded: HashMap<PathBuf, Result<Runtime, String>> = HashMap::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.context("cannot read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let request: Json =
            serde_json::from_str(&line).with_context(|| format!("not a JSON line: {line}"))?;
        let package = PathBuf::from(
            request["package"]
                .as_str()
                .with_context(|| format!("no \"package\" in {line}"))?,
        );
        let function = request["function"].as_str().map(str::to_owned);
        let args = match &request["args"] {
            Json::Array(items) => items.clone(),
            Json::Null => Vec::new(),
            other => bail!("\"args\" must be an array, got {other}"),
        };
        let runtime = loaded
            .entry(package.clone())
            .or_insert_with(|| load(&package, POOL_SIZE).map_err(|e| format!("{e:#}")));
        let answer = match runtime {
            Err(error) => json!({ "err": error, "kind": "load" }),
            Ok(runtime) => match arguments(runtime, function.as_deref(), &args) {
                Err(error) => json!({ "err": format!("{error:#}"), "kind": "args" }),
                Ok(values) => outcome_json(call(runtime, &function, &values).await),
            },
        };
        println!("{answer}");
    }
    Ok(())
}

/// What a measuring task calls with: the runtime, the function, the
/// arguments.
type CallState = (Arc<Runtime>, Option<String>, Arc<Vec<Value>>);

async fn call_ok(state: Arc<CallState>) -> bool {
    let (runtime, function, args) = &*state;
    call(runtime, function, args).await.is_ok()
}

async fn measure(options: &Options) -> Result<Json> {
    let path = options.package()?;
    let started = Instant::now();
    let runtime = Arc::new(load(path, options.pool)?);
    let load_time = started.elapsed();
    let rss_after_load = rss_bytes();

    let function = options.function.clone();
    let args = Arc::new(arguments(&runtime, function.as_deref(), &options.args)?);

    let started = Instant::now();
    let first = call(&runtime, &function, &args).await;
    let first_call = started.elapsed();
    if let Err(error) = first {
        bail!("the first call failed: {error}");
    }

    // The warm-up fills the pool to the concurrency and warms the caches;
    // only the measured window is counted.
    // Each task gets its own copy of these behind an `Arc` of its own (see
    // `callers`); the runtime itself is one, shared, as a server's is.
    let state: CallState = (Arc::clone(&runtime), function.clone(), Arc::clone(&args));
    callers(options.concurrency, options.warmup, state.clone(), call_ok).await?;
    let started = Instant::now();
    let (latencies, errors) = callers(options.concurrency, options.seconds, state, call_ok).await?;
    let elapsed = started.elapsed();
    let calls = latencies.len();
    let call_us = quantiles(latencies)?;
    Ok(json!({
        "runtime": format!("surrealism-runtime {RUNTIME_VERSION}"),
        "wasmtime": WASMTIME_VERSION,
        "surrealdb_types": TYPES_VERSION,
        "package": path.display().to_string(),
        "function": function,
        "concurrency": options.concurrency,
        "pool_size": options.pool,
        "load_ms": load_time.as_secs_f64() * 1000.0,
        "first_call_us": first_call.as_secs_f64() * 1e6,
        "call_us": call_us,
        "calls_per_second": calls as f64 / elapsed.as_secs_f64(),
        "calls": calls,
        "errors": errors,
        "seconds": elapsed.as_secs_f64(),
        "rss_bytes_after_load": rss_after_load,
        "rss_bytes_after_calls": rss_bytes(),
    }))
}

/// The memory of N copies of one module: each copy is a separate load (the
/// original compiles every load), then each gets one instance.
async fn rss_of_copies(options: &Options) -> Result<Json> {
    let path = options.package()?;
    let before = rss_bytes();
    let started = Instant::now();
    let mut runtimes = Vec::with_capacity(options.copies);
    for _ in 0..options.copies {
        runtimes.push(load(path, options.pool)?);
    }
    let load_time = started.elapsed();
    let after_load = rss_bytes();
    for runtime in &runtimes {
        // Acquire and release without a call: a new instance and its init.
        let controller = runtime
            .acquire_controller(PeerContext::boxed(runtime))
            .await
            .map_err(|e| anyhow!("cannot start an instance: {e}"))?;
        runtime.release_controller(controller);
    }
    let after_instances = rss_bytes();
    let copies = options.copies as f64;
    Ok(json!({
        "runtime": format!("surrealism-runtime {RUNTIME_VERSION}"),
        "wasmtime": WASMTIME_VERSION,
        "package": path.display().to_string(),
        "copies": options.copies,
        "load_ms_total": load_time.as_secs_f64() * 1000.0,
        "rss_bytes_before": before,
        "rss_bytes_after_load": after_load,
        "rss_bytes_after_one_instance_each": after_instances,
        "bytes_per_loaded_copy": (after_load.saturating_sub(before)) as f64 / copies,
        "bytes_per_instance": (after_instances.saturating_sub(after_load)) as f64 / copies,
    }))
}
