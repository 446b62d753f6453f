//! Databases, fixtures and modules for the tests.

use std::path::PathBuf;
use std::sync::Arc;

use surli::package::PackageWriter;
use surli::{
    CallError, InvocationContext, Module, ModuleConfig, ModuleOptions, Package, ReadOptions,
    Runtime, RuntimeOptions, SurrealValue, Value,
};
use surli_surrealdb::surrealdb::Surreal;
use surli_surrealdb::surrealdb::engine::any::Any;
use surli_surrealdb::{SurrealContext, connect};

pub(crate) const NS: &str = "test";
pub(crate) const DB: &str = "test";

/// A fresh in-memory database with namespace and database `test`.
pub(crate) async fn memory_db() -> Surreal<Any> {
    connect("mem://", NS, DB).await.unwrap()
}

/// Runs `query` as the handle's session and fails the test on any error.
pub(crate) async fn exec(db: &Surreal<Any>, query: &str) {
    db.query(query).await.unwrap().check().unwrap();
}

/// The value of a one-statement `query`.
pub(crate) async fn value(db: &Surreal<Any>, query: &str) -> Value {
    db.query(query).await.unwrap().take::<Value>(0).unwrap()
}

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

/// A fixture with its `surrealism.toml` changed by `edit`, repacked.
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

pub(crate) fn runtime() -> Runtime {
    Runtime::new(RuntimeOptions::default()).unwrap()
}

pub(crate) async fn load(runtime: &Runtime, package: Package) -> Module {
    runtime
        .load_with(package, ModuleOptions::default())
        .await
        .unwrap()
}

pub(crate) fn context(session: &Surreal<Any>) -> Arc<dyn InvocationContext> {
    Arc::new(SurrealContext::new(session.clone()))
}

/// Calls `function` and returns its value, or the guest's error message.
pub(crate) async fn call(
    module: &Module,
    ctx: &Arc<dyn InvocationContext>,
    function: &str,
    args: Vec<Value>,
) -> Result<Value, String> {
    match module.call(Arc::clone(ctx), Some(function), args).await {
        Ok(value) => Ok(value),
        Err(CallError::Guest { message, .. }) => Err(message),
        Err(other) => panic!("`{function}` failed outside the guest: {other}"),
    }
}

pub(crate) fn s(text: &str) -> Value {
    text.to_owned().into_value()
}

pub(crate) fn strings(texts: &[&str]) -> Value {
    texts
        .iter()
        .map(|t| (*t).to_owned())
        .collect::<Vec<_>>()
        .into_value()
}
