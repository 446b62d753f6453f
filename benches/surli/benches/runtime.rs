//! surli alone, against the wasmtime floor, on the demo fixture.
//!
//! Groups:
//! - `load`: a package to a callable module: compiled (no cache), from the
//!   disk cache in a new runtime, from the runtime's memory cache;
//! - `first_call`: a module's first call, which creates and initialises an
//!   instance;
//! - `<fn>/call`: a pooled call with `Value` arguments (lease, encode,
//!   invoke, decode, return);
//! - `<fn>/call_encoded`: the same with pre-encoded arguments and the
//!   encoded answer;
//! - `<fn>/fresh_instance`: a call under `Isolation::FreshPerCall`: a new
//!   pooled instance, `init`, the call and the teardown;
//! - `<fn>/floor`: a raw typed `invoke` with pre-encoded arguments on an
//!   instance made once (see `surli_benches::Floor`), and
//!   `<fn>/floor_values`: the same with the arguments encoded and the
//!   answer decoded on every call.
//!
//! `cargo bench -p surli-benches` runs them; `cargo xtask bench` runs them
//! beside the original runtimes and writes the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use surli::{Isolation, ModuleOptions};
use surli::{NullContext, Package, ReadOptions, Runtime, RuntimeOptions, SurrealValue, Value};
use surli_benches::{Floor, encode, fixture};

/// The demo functions measured, with their arguments.
fn cases() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("noop", vec![]),
        ("add", vec![40i64.into_value(), 2i64.into_value()]),
        (
            "concat",
            vec![
                "hello, ".to_owned().into_value(),
                "world".to_owned().into_value(),
            ],
        ),
        ("fib", vec![30i64.into_value()]),
    ]
}

/// The demo package's bytes, read into a `Package` for each load (as a
/// host does: a load starts from the package's bytes).
struct Demo(Vec<u8>);

impl Demo {
    fn new() -> Self {
        Self(std::fs::read(fixture("demo").unwrap()).unwrap())
    }

    fn package(&self) -> Package {
        Package::from_bytes(&self.0, &ReadOptions::default()).unwrap()
    }
}

fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn load(c: &mut Criterion) {
    let rt = tokio();
    let demo = Demo::new();
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));

    group.bench_function("compiled", |b| {
        b.to_async(&rt).iter_batched(
            || Runtime::new(RuntimeOptions::default()).unwrap(),
            |runtime| {
                let demo = demo.package();
                async move { runtime.load(demo).await.unwrap() }
            },
            BatchSize::PerIteration,
        );
    });

    let cache = tempfile::tempdir().unwrap();
    let caching = || {
        Runtime::new(RuntimeOptions::default().with_cache_dir(cache.path().to_path_buf())).unwrap()
    };
    rt.block_on(caching().load(demo.package())).unwrap();
    group.sample_size(50);
    group.bench_function("disk_cache", |b| {
        b.to_async(&rt).iter_batched(
            caching,
            |runtime| {
                let demo = demo.package();
                async move { runtime.load(demo).await.unwrap() }
            },
            BatchSize::PerIteration,
        );
    });

    let warm = Runtime::new(RuntimeOptions::default()).unwrap();
    rt.block_on(warm.load(demo.package())).unwrap();
    group.bench_function("memory_cache", |b| {
        b.to_async(&rt).iter(|| {
            let (warm, demo) = (warm.clone(), demo.package());
            async move { warm.load(demo).await.unwrap() }
        });
    });
    group.finish();
}

fn first_call(c: &mut Criterion) {
    let rt = tokio();
    let demo = Demo::new();
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    let mut group = c.benchmark_group("first_call");
    group.bench_function("noop", |b| {
        b.to_async(&rt).iter_batched(
            || rt.block_on(runtime.load(demo.package())).unwrap(),
            |module| async move {
                module
                    .call(Arc::new(NullContext), Some("noop"), vec![])
                    .await
                    .unwrap()
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn calls(c: &mut Criterion) {
    let rt = tokio();
    let demo = Demo::new();
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    let module = rt.block_on(runtime.load(demo.package())).unwrap();
    let mut floor = rt.block_on(Floor::new(&demo.package())).unwrap();
    let ctx: Arc<dyn surli::InvocationContext> = Arc::new(NullContext);

    let fresh = rt
        .block_on(runtime.load_with(
            demo.package(),
            ModuleOptions::default().with_isolation(Isolation::FreshPerCall),
        ))
        .unwrap();

    for (name, args) in cases() {
        let encoded = encode(&args).unwrap();
        let mut group = c.benchmark_group(name);
        group.bench_function("call", |b| {
            b.to_async(&rt).iter(|| {
                let (module, ctx, args) = (module.clone(), ctx.clone(), args.clone());
                async move { module.call(ctx, Some(name), args).await.unwrap() }
            });
        });
        group.bench_function("call_encoded", |b| {
            b.to_async(&rt).iter(|| {
                let (module, ctx, encoded) = (module.clone(), ctx.clone(), &encoded);
                async move {
                    module
                        .call_encoded(ctx, Some(name), encoded, None)
                        .await
                        .unwrap()
                }
            });
        });
        group.bench_function("fresh_instance", |b| {
            b.to_async(&rt).iter(|| {
                let (fresh, ctx, args) = (fresh.clone(), ctx.clone(), args.clone());
                async move { fresh.call(ctx, Some(name), args).await.unwrap() }
            });
        });
        group.bench_function("floor", |b| {
            b.iter(|| rt.block_on(floor.call(Some(name), &encoded)).unwrap());
        });
        group.bench_function("floor_values", |b| {
            b.iter(|| {
                let bytes = encode(&args).unwrap();
                let answer = rt.block_on(floor.call(Some(name), &bytes)).unwrap();
                surli::codec::decode_value(&answer).unwrap()
            });
        });
        group.finish();
    }
}

criterion_group!(benches, load, first_call, calls);
criterion_main!(benches);
