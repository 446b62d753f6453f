//! Embeddings written against 0.6.5's API, run on real fixture modules
//! (built with the official SDK by `cargo xtask fixtures`).

use std::ops::Bound;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use surrealdb_types::{SurrealValue, Value};
use surrealism_runtime::SurrealismError;
use surrealism_runtime::config::SurrealismConfig;
use surrealism_runtime::exports::ExportsManifest;
use surrealism_runtime::host::InvocationContext;
use surrealism_runtime::kv::{BTreeMapStore, KVStore};
use surrealism_runtime::package::SurrealismPackage;
use surrealism_runtime::runtime::Runtime;

/// A fixture package built by `cargo xtask fixtures`; missing is a failure
/// that says how to build it.
fn fixture(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/fixtures")
        .join(format!("{name}.surli"));
    assert!(
        path.exists(),
        "fixture `{name}` is missing at {}: run `cargo xtask fixtures` in the surli checkout",
        path.display()
    );
    path
}

fn package(name: &str) -> SurrealismPackage {
    SurrealismPackage::from_file(fixture(name)).unwrap()
}

/// What an embedder of 0.6.5 writes: the module's store for `kv`, a
/// recorder of `run` calls, an optional runtime to call back into.
struct Host {
    kv: Arc<BTreeMapStore>,
    runtime: Arc<OnceLock<Arc<Runtime>>>,
}

impl Host {
    fn of(runtime: &Arc<Runtime>) -> Box<Self> {
        let slot = Arc::new(OnceLock::new());
        let _ = slot.set(Arc::clone(runtime));
        Box::new(Self {
            kv: Arc::clone(runtime.kv_store()),
            runtime: slot,
        })
    }
}

#[async_trait::async_trait]
impl InvocationContext for Host {
    async fn sql(
        &mut self,
        _config: &SurrealismConfig,
        query: String,
        _vars: surrealdb_types::Object,
    ) -> anyhow::Result<Value> {
        Ok(Value::String(format!("ran: {query}")))
    }

    async fn run(
        &mut self,
        _config: &SurrealismConfig,
        fnc: String,
        _version: Option<String>,
        args: Vec<Value>,
    ) -> anyhow::Result<Value> {
        // A module calling itself back, as `mod::x` may in SurrealDB.
        if fnc == "string::len" {
            let runtime = self
                .runtime
                .get()
                .ok_or_else(|| anyhow::anyhow!("no runtime"))?;
            let mut controller = runtime.acquire_controller(Host::of(runtime)).await?;
            let value = controller.invoke(Some("init_value".to_owned()), ()).await?;
            runtime.release_controller(controller);
            return Ok(value);
        }
        Ok(Value::Array(args.into()))
    }

    fn kv(&mut self) -> anyhow::Result<&dyn KVStore> {
        Ok(&*self.kv)
    }
}

fn int(n: i64) -> Value {
    n.into_value()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedding_written_for_0_6_5_runs_unchanged() {
    let runtime = Arc::new(Runtime::new(package("demo"), 8, None, None, None, None).unwrap());
    for _ in 0..3 {
        let mut controller = runtime
            .acquire_controller(Host::of(&runtime))
            .await
            .unwrap();
        let result = controller
            .invoke(Some("add".to_owned()), (2i64, 3i64))
            .await;
        assert_eq!(result.unwrap(), int(5));
        runtime.release_controller(controller);
    }
    // The default export, and the KV store shared by every call.
    let mut controller = runtime
        .acquire_controller(Host::of(&runtime))
        .await
        .unwrap();
    let greeting = controller
        .invoke(None, ("surli".to_owned(),))
        .await
        .unwrap();
    assert_eq!(greeting, Value::String("Hello, surli!".to_owned()));
    assert_eq!(
        controller
            .invoke(Some("counter::bump".to_owned()), (2i64,))
            .await
            .unwrap(),
        int(2)
    );
    assert_eq!(
        controller
            .invoke(Some("counter::bump".to_owned()), (5i64,))
            .await
            .unwrap(),
        int(7)
    );
    runtime.release_controller(controller);
    assert_eq!(
        runtime.kv_store().get("counter".to_owned()).await.unwrap(),
        Some(int(7))
    );
    assert_eq!(runtime.config().meta.name, "demo");
    assert!(runtime.get_signature(Some("add")).is_ok());
    assert!(runtime.get_signature(Some("nope")).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_error_is_not_a_trap_and_a_trap_is() {
    let runtime = Arc::new(Runtime::new(package("hostile"), 2, None, None, None, None).unwrap());
    let mut controller = runtime
        .acquire_controller(Host::of(&runtime))
        .await
        .unwrap();
    let error = controller
        .invoke(Some("nope".to_owned()), ())
        .await
        .unwrap_err();
    assert!(
        matches!(error, SurrealismError::FunctionCallError(_)),
        "{error:?}"
    );
    assert!(!error.is_trap());

    let error = controller
        .invoke(Some("panic_now".to_owned()), ())
        .await
        .unwrap_err();
    assert!(error.is_trap(), "{error:?}");
    // SurrealDB drops a controller after a trap; the module serves on.
    drop(controller);
    let mut controller = runtime
        .acquire_controller(Host::of(&runtime))
        .await
        .unwrap();
    let spun = controller
        .invoke_with_timeout(Some("spin".to_owned()), (), Some(Duration::from_millis(50)))
        .await
        .unwrap_err();
    match &spun {
        SurrealismError::Timeout {
            context_timeout, ..
        } => assert_eq!(*context_timeout, Some(Duration::from_millis(50))),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(spun.is_trap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_with_a_store_of_its_own_gets_the_guests_kv_calls() {
    // As `surreal module run` does: a fresh store per host.
    let runtime = Arc::new(Runtime::new(package("hostcalls"), 8, None, None, None, None).unwrap());
    let own = Arc::new(BTreeMapStore::new());
    let host = Box::new(Host {
        kv: Arc::clone(&own),
        runtime: Arc::new(OnceLock::new()),
    });
    let mut controller = runtime.acquire_controller(host).await.unwrap();
    controller
        .invoke(Some("kv::set".to_owned()), ("k".to_owned(), 7i64))
        .await
        .unwrap();
    assert_eq!(own.get("k".to_owned()).await.unwrap(), Some(int(7)));
    assert_eq!(runtime.kv_store().get("k".to_owned()).await.unwrap(), None);
    // A range whose start lies past its end is empty, for either store
    // (0.6.5's own store panicked on it).
    let keys = controller
        .invoke(
            Some("kv::keys".to_owned()),
            (Some("z".to_owned()), true, Some("a".to_owned()), true),
        )
        .await
        .unwrap();
    assert_eq!(keys, Value::Array(Vec::<Value>::new().into()));
    runtime.release_controller(controller);

    let mut controller = runtime
        .acquire_controller(Host::of(&runtime))
        .await
        .unwrap();
    let keys = controller
        .invoke(
            Some("kv::keys".to_owned()),
            (Some("z".to_owned()), true, Some("a".to_owned()), true),
        )
        .await
        .unwrap();
    assert_eq!(keys, Value::Array(Vec::<Value>::new().into()));
}

/// A store written the way 0.6.5's was: `BTreeMap::range` on whatever
/// bounds arrive, which panics on an inverted range.
#[derive(Default)]
struct NaiveStore(std::sync::Mutex<std::collections::BTreeMap<String, Value>>);

impl NaiveStore {
    fn range(&self, start: Bound<String>, end: Bound<String>) -> Vec<(String, Value)> {
        let map = self.0.lock().unwrap();
        map.range((start, end))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[async_trait::async_trait]
impl KVStore for NaiveStore {
    async fn get(&self, key: String) -> anyhow::Result<Option<Value>> {
        Ok(self.0.lock().unwrap().get(&key).cloned())
    }
    async fn set(&self, key: String, value: Value) -> anyhow::Result<()> {
        self.0.lock().unwrap().insert(key, value);
        Ok(())
    }
    async fn del(&self, key: String) -> anyhow::Result<()> {
        self.0.lock().unwrap().remove(&key);
        Ok(())
    }
    async fn exists(&self, key: String) -> anyhow::Result<bool> {
        Ok(self.0.lock().unwrap().contains_key(&key))
    }
    async fn del_rng(&self, start: Bound<String>, end: Bound<String>) -> anyhow::Result<()> {
        for (key, _) in self.range(start, end) {
            self.0.lock().unwrap().remove(&key);
        }
        Ok(())
    }
    async fn get_batch(&self, keys: Vec<String>) -> anyhow::Result<Vec<Option<Value>>> {
        let map = self.0.lock().unwrap();
        Ok(keys.iter().map(|k| map.get(k).cloned()).collect())
    }
    async fn set_batch(&self, entries: Vec<(String, Value)>) -> anyhow::Result<()> {
        self.0.lock().unwrap().extend(entries);
        Ok(())
    }
    async fn del_batch(&self, keys: Vec<String>) -> anyhow::Result<()> {
        let mut map = self.0.lock().unwrap();
        for key in keys {
            map.remove(&key);
        }
        Ok(())
    }
    async fn keys(&self, start: Bound<String>, end: Bound<String>) -> anyhow::Result<Vec<String>> {
        Ok(self.range(start, end).into_iter().map(|(k, _)| k).collect())
    }
    async fn values(&self, start: Bound<String>, end: Bound<String>) -> anyhow::Result<Vec<Value>> {
        Ok(self.range(start, end).into_iter().map(|(_, v)| v).collect())
    }
    async fn entries(
        &self,
        start: Bound<String>,
        end: Bound<String>,
    ) -> anyhow::Result<Vec<(String, Value)>> {
        Ok(self.range(start, end))
    }
    async fn count(&self, start: Bound<String>, end: Bound<String>) -> anyhow::Result<u64> {
        Ok(self.range(start, end).len() as u64)
    }
}

/// A context whose calls use a [`NaiveStore`].
struct NaiveHost(NaiveStore);

#[async_trait::async_trait]
impl InvocationContext for NaiveHost {
    async fn sql(
        &mut self,
        _: &SurrealismConfig,
        _: String,
        _: surrealdb_types::Object,
    ) -> anyhow::Result<Value> {
        anyhow::bail!("no sql")
    }
    async fn run(
        &mut self,
        _: &SurrealismConfig,
        _: String,
        _: Option<String>,
        _: Vec<Value>,
    ) -> anyhow::Result<Value> {
        anyhow::bail!("no run")
    }
    fn kv(&mut self) -> anyhow::Result<&dyn KVStore> {
        Ok(&self.0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inverted_range_never_reaches_an_embedders_store() {
    let runtime = Arc::new(Runtime::new(package("hostcalls"), 8, None, None, None, None).unwrap());
    let mut controller = runtime
        .acquire_controller(Box::new(NaiveHost(NaiveStore::default())))
        .await
        .unwrap();
    for key in ["a", "b", "c"] {
        controller
            .invoke(Some("kv::set".to_owned()), (key.to_owned(), 1i64))
            .await
            .unwrap();
    }
    let inverted = (Some("c".to_owned()), true, Some("a".to_owned()), true);
    for (function, empty) in [
        ("kv::keys", Value::Array(Vec::<Value>::new().into())),
        ("kv::values", Value::Array(Vec::<Value>::new().into())),
        ("kv::entries", Value::Array(Vec::<Value>::new().into())),
        ("kv::count", int(0)),
    ] {
        let answer = controller
            .invoke(Some(function.to_owned()), inverted.clone())
            .await
            .unwrap();
        assert_eq!(answer, empty, "{function}");
    }
    controller
        .invoke(Some("kv::del_rng".to_owned()), inverted)
        .await
        .unwrap();
    let all = controller
        .invoke(
            Some("kv::count".to_owned()),
            (None::<String>, true, None::<String>, true),
        )
        .await
        .unwrap();
    assert_eq!(all, int(3), "nothing was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_build_tools_path_describes_a_module_without_init() {
    // `surreal module build`: an empty manifest, `Runtime::new` called
    // straight from an async function, a controller without `init`.
    let original = package("hostcalls");
    let config = original.config.clone();
    let bare = SurrealismPackage {
        config,
        wasm: original.wasm.clone(),
        exports: ExportsManifest::empty(),
        fs: None,
        logo: None,
    };
    let runtime = Arc::new(Runtime::new(bare, 1, None, None, None, None).unwrap());
    let mut controller = runtime.new_controller(Host::of(&runtime)).await.unwrap();
    let names = controller.list().await.unwrap();
    assert!(names.contains(&Some("init_value".to_owned())), "{names:?}");
    let args = controller.args(Some("sql".to_owned())).await.unwrap();
    assert_eq!(args.len(), 1);
    assert_eq!(
        controller
            .returns(Some("init_value".to_owned()))
            .await
            .unwrap(),
        surrealdb_types::Kind::Int
    );
    assert!(
        controller
            .writeable(Some("kv::set".to_owned()))
            .await
            .unwrap()
    );
    assert!(
        controller
            .comment(Some("sql".to_owned()))
            .await
            .unwrap()
            .is_some()
    );
    // `init` has not run in this instance until asked for.
    assert_eq!(
        controller
            .invoke(Some("init_value".to_owned()), ())
            .await
            .unwrap(),
        int(0)
    );
    controller.init().await.unwrap();
    assert_eq!(
        controller
            .invoke(Some("init_value".to_owned()), ())
            .await
            .unwrap(),
        int(42)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_whose_run_calls_itself_with_a_pool_of_one_is_refused_not_hung() {
    let runtime = Arc::new(Runtime::new(package("hostcalls"), 1, None, None, None, None).unwrap());
    let mut controller = runtime
        .acquire_controller(Host::of(&runtime))
        .await
        .unwrap();
    let call = controller.invoke(
        Some("run".to_owned()),
        ("string::len".to_owned(), Value::None, Vec::<Value>::new()),
    );
    // 0.6.5 waits here forever; the bound only keeps a regression from
    // hanging the test run.
    let outcome = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("a module calling itself must not wait for itself");
    let error = outcome.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("called from inside its own call"),
        "{error}"
    );
    assert!(!error.is_trap());
    runtime.release_controller(controller);

    // With room for the nested call, it runs.
    let runtime = Arc::new(Runtime::new(package("hostcalls"), 2, None, None, None, None).unwrap());
    let mut controller = runtime
        .acquire_controller(Host::of(&runtime))
        .await
        .unwrap();
    let nested = controller
        .invoke(
            Some("run".to_owned()),
            ("string::len".to_owned(), Value::None, Vec::<Value>::new()),
        )
        .await
        .unwrap();
    assert_eq!(nested, int(42));
}

#[test]
fn a_package_packed_here_reads_back_the_same() {
    let original = package("hostcalls");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy.surli");
    let fs_dir = original.fs.as_ref().map(|fs| fs.path().to_path_buf());
    original.pack(out.clone(), fs_dir.as_deref()).unwrap();
    let copy = SurrealismPackage::from_file(out).unwrap();
    assert_eq!(copy.wasm, original.wasm);
    assert_eq!(
        copy.config.to_toml().unwrap(),
        original.config.to_toml().unwrap()
    );
    assert_eq!(
        copy.exports.to_toml().unwrap(),
        original.exports.to_toml().unwrap()
    );
    assert!(copy.fs.is_some());

    let error = original
        .pack(dir.path().join("copy.zip"), None)
        .unwrap_err();
    assert!(error.to_string().contains(".surli"), "{error}");
    let error = SurrealismPackage::from_file(dir.path().join("missing.surli"))
        .err()
        .unwrap();
    assert!(error.to_string().contains("not found"), "{error}");
}

#[test]
fn a_module_for_another_abi_is_refused_with_the_originals_error() {
    let mut package = package("demo");
    package.config.abi = surrealism_runtime::config::AbiVersion(1);
    let error = Runtime::new(package, 8, None, None, None, None).unwrap_err();
    assert!(
        matches!(
            error,
            SurrealismError::UnsupportedAbi {
                expected: 2,
                got: 1
            }
        ),
        "{error:?}"
    );
}
