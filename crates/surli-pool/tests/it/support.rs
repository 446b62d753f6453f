//! Finding fixtures, building runtimes, and a context that records what
//! reaches it.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use surli_config::{ModuleConfig, ServerLimits};
use surli_engine::EpochSource;
use surli_host::{CallInfo, ContextError, InvocationContext};
use surli_package::{Package, PackageWriter, ReadOptions};
use surli_pool::{Module, Runtime, RuntimeOptions};
use surrealdb_types::{Object, SurrealValue, Value};

/// The path of a fixture package built by `cargo xtask fixtures`. A missing
/// fixture is a failure that says how to build it, never a skipped test.
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/fixtures")
        .join(format!("{name}.surli"));
    assert!(
        path.exists(),
        "fixture `{name}` is missing at {}: run `cargo xtask fixtures` (or `cargo xtask test`, \
         which builds them first)",
        path.display()
    );
    path
}

pub(crate) fn package(name: &str) -> Package {
    Package::read_file(fixture_path(name), &ReadOptions::default()).unwrap()
}

pub(crate) fn baseline() -> Package {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/original-0.3.1-baseline.surli");
    Package::read_file(path, &ReadOptions::default()).unwrap()
}

/// A fixture with its `surrealism.toml` changed by `edit`, repacked the way
/// a module author would ship it.
pub(crate) fn package_with(name: &str, edit: impl FnOnce(&mut ModuleConfig)) -> Package {
    let original = package(name);
    let mut config = original.config().clone();
    edit(&mut config);
    let mut writer = PackageWriter::new(&config, original.wasm(), original.exports());
    if let Some(fs) = original.fs_path() {
        writer = writer.fs_dir(fs);
    }
    Package::from_bytes(&writer.to_bytes().unwrap(), &ReadOptions::default()).unwrap()
}

pub(crate) fn runtime_with(server: ServerLimits) -> Runtime {
    Runtime::new(RuntimeOptions::default().with_server(server)).unwrap()
}

pub(crate) fn runtime() -> Runtime {
    runtime_with(ServerLimits::default())
}

/// A runtime whose epoch only moves when the test ticks it.
pub(crate) fn manual_runtime(server: ServerLimits) -> Runtime {
    Runtime::new(
        RuntimeOptions::default()
            .with_server(server)
            .with_epoch(EpochSource::Manual),
    )
    .unwrap()
}

pub(crate) async fn load(name: &str) -> Module {
    runtime().load(package(name)).await.unwrap()
}

pub(crate) fn int(n: i64) -> Value {
    n.into_value()
}

pub(crate) fn text(s: &str) -> Value {
    s.to_owned().into_value()
}

/// What reached a [`Recorder`].
#[derive(Debug, Default, Clone)]
pub(crate) struct Seen {
    pub(crate) sql: Vec<(String, Object, Option<String>)>,
    pub(crate) run: Vec<(String, Option<String>, Vec<Value>)>,
    pub(crate) stdout: Vec<String>,
    pub(crate) stderr: Vec<String>,
}

/// A context that records every call and answers `sql` and `run` with
/// `answer`.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) seen: Mutex<Seen>,
    pub(crate) answer: Value,
}

impl Recorder {
    pub(crate) fn new(answer: Value) -> Arc<Self> {
        Arc::new(Self {
            seen: Mutex::new(Seen::default()),
            answer,
        })
    }

    pub(crate) fn seen(&self) -> Seen {
        self.seen.lock().clone()
    }
}

#[async_trait::async_trait]
impl InvocationContext for Recorder {
    async fn sql(&self, call: &CallInfo, query: &str, vars: Object) -> Result<Value, ContextError> {
        self.seen
            .lock()
            .sql
            .push((query.to_owned(), vars, call.function().map(str::to_owned)));
        Ok(self.answer.clone())
    }

    async fn run(
        &self,
        _call: &CallInfo,
        function: &str,
        version: Option<&str>,
        args: Vec<Value>,
    ) -> Result<Value, ContextError> {
        self.seen
            .lock()
            .run
            .push((function.to_owned(), version.map(str::to_owned), args));
        Ok(self.answer.clone())
    }

    fn stdout(&self, _call: &CallInfo, line: &str) {
        self.seen.lock().stdout.push(line.to_owned());
    }

    fn stderr(&self, _call: &CallInfo, line: &str) {
        self.seen.lock().stderr.push(line.to_owned());
    }
}

/// Every instance ever created is discarded, retired, idle, or held by one
/// of `leased` leases.
pub(crate) fn assert_instances_add_up(module: &Module, leased: u64) {
    let stats = module.stats();
    assert_eq!(
        stats.instances_created,
        stats.instances_discarded
            + stats.instances_retired
            + module.idle_instances() as u64
            + leased,
        "{stats:?}"
    );
}
