//! A module's KV store in a file-backed database outlives everything that
//! wrote it: the store, the module, the runtime and the database handle.

use std::path::Path;
use std::time::{Duration, Instant};

use surli::kv::{KeyRange, KvLimits};
use surli::{Module, ModuleOptions, Runtime, SurrealValue};
use surli_surrealdb::surrealdb::Surreal;
use surli_surrealdb::surrealdb::engine::any::Any;
use surli_surrealdb::{SurrealError, SurrealKvStore, connect};

use crate::support::{DB, NS, call, context, memory_db, package, package_with, runtime};

/// Opens the file database in `dir`. The engine of a dropped handle shuts
/// down in the background and holds the directory's lock until it has, so
/// a reopen right after a drop is retried for a while.
async fn open(dir: &Path) -> Surreal<Any> {
    let address = format!("surrealkv://{}", dir.display());
    let started = Instant::now();
    loop {
        match connect(&address, NS, DB).await {
            Ok(db) => return db,
            Err(SurrealError::Connect { .. }) if started.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("cannot reopen {address}: {other}"),
        }
    }
}

/// The demo module with its KV store in `db`, under the limits the runtime
/// gives it.
async fn load_demo(runtime: &Runtime, db: &Surreal<Any>) -> Module {
    let package = package("demo");
    let limits = runtime.kv_limits(package.config());
    let store = SurrealKvStore::for_module(db.clone(), &package.config().meta, limits);
    let options = ModuleOptions::default().with_kv(std::sync::Arc::new(store));
    runtime.load_with(package, options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modules_kv_survives_a_restart_of_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // First life: the demo's counter goes to 5, through the guest.
    {
        let db = open(&data).await;
        let runtime = runtime();
        let demo = load_demo(&runtime, &db).await;
        let ctx = context(&db);
        assert_eq!(
            call(&demo, &ctx, "counter::bump", vec![2i64.into_value()])
                .await
                .unwrap(),
            2i64.into_value()
        );
        assert_eq!(
            call(&demo, &ctx, "counter::bump", vec![3i64.into_value()])
                .await
                .unwrap(),
            5i64.into_value()
        );
    }

    // Second life: a new database handle, runtime and module. The store
    // holds the counter before the module is loaded again.
    let db = open(&data).await;
    let runtime = runtime();
    let meta = package("demo").config().meta.clone();
    let store = SurrealKvStore::for_module(db.clone(), &meta, KvLimits::default());
    assert_eq!(
        surli::kv::KvStore::keys(&store, KeyRange::all())
            .await
            .unwrap(),
        vec!["counter".to_owned()]
    );
    let demo = load_demo(&runtime, &db).await;
    assert_eq!(
        call(
            &demo,
            &context(&db),
            "counter::bump",
            vec![1i64.into_value()]
        )
        .await
        .unwrap(),
        6i64.into_value()
    );
}

/// The demo module under another identity, its KV store in `db`.
async fn load_demo_as(runtime: &Runtime, db: &Surreal<Any>, org: &str, name: &str) -> Module {
    let package = package_with("demo", |config| {
        config.meta.organisation = org.to_owned();
        config.meta.name = name.to_owned();
    });
    let limits = runtime.kv_limits(package.config());
    let store = SurrealKvStore::for_module(db.clone(), &package.config().meta, limits);
    let options = ModuleOptions::default().with_kv(std::sync::Arc::new(store));
    runtime.load_with(package, options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_whose_identities_read_alike_keep_separate_stores() {
    let db = memory_db().await;
    let runtime = runtime();
    let ctx = context(&db);
    // Organisation `a/b` with name `c`, and organisation `a` with name
    // `b/c`: joined with `/` they would read the same.
    // And `%` itself, which the escaping uses: organisation `a%2Fb` is not
    // organisation `a/b` escaped.
    let pairs = [(("a/b", "c"), ("a", "b/c")), (("a%2Fb", "d"), ("a/b", "d"))];
    for ((org1, name1), (org2, name2)) in pairs {
        let first = load_demo_as(&runtime, &db, org1, name1).await;
        let second = load_demo_as(&runtime, &db, org2, name2).await;
        assert_eq!(
            call(&first, &ctx, "counter::bump", vec![5i64.into_value()])
                .await
                .unwrap(),
            5i64.into_value()
        );
        // The second module starts from nothing: it never sees the first's
        // counter, and its own bump leaves the first's alone.
        assert_eq!(
            call(&second, &ctx, "counter::bump", vec![1i64.into_value()])
                .await
                .unwrap(),
            1i64.into_value(),
            "{org2}/{name2} read {org1}/{name1}'s store"
        );
        assert_eq!(
            call(&first, &ctx, "counter::bump", vec![1i64.into_value()])
                .await
                .unwrap(),
            6i64.into_value()
        );
    }
}
