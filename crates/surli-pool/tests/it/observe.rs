//! Metrics read back from a recorder, and the spans of loads and calls
//! read back from a subscriber, after a known sequence of calls.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use parking_lot::Mutex;
use surli_host::NullContext;
use surli_pool::{Runtime, RuntimeOptions, metric_names as names};
use tracing::span::{Attributes, Id, Record};
use tracing::{Subscriber, field::Field, field::Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

use crate::support::{int, package_with};

/// A metric read back: its name, its labels and its value.
type Metric = (String, Vec<(String, String)>, DebugValue);

/// A closed span: its name and its fields.
type ClosedSpan = (String, HashMap<String, String>);

/// The process's recorder: installed once, shared by the tests of this
/// binary (only the tests here turn metrics on).
fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::set_global_recorder(recorder).expect("no other recorder in this binary");
        snapshotter
    })
}

/// The value of `name` whose labels include all of `labels`.
fn find<'a>(snapshot: &'a [Metric], name: &str, labels: &[(&str, &str)]) -> Option<&'a DebugValue> {
    snapshot
        .iter()
        .find(|(n, have, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| have.iter().any(|(hk, hv)| hk == k && hv == v))
        })
        .map(|(_, _, value)| value)
}

fn snapshot() -> Vec<Metric> {
    snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_read_back_after_a_known_sequence_of_calls() {
    snapshotter();
    let runtime = Runtime::new(RuntimeOptions::default().with_metrics(true)).unwrap();
    let package = package_with("demo", |config| config.meta.name = "observed".to_owned());
    let module = runtime.load(package).await.unwrap();
    let id = module.id().to_owned();
    for _ in 0..3 {
        module
            .call(Arc::new(NullContext), Some("add"), vec![int(1), int(2)])
            .await
            .unwrap();
    }
    let missing = module
        .call(Arc::new(NullContext), Some("no_such_function"), vec![])
        .await
        .unwrap_err();
    runtime.publish_metrics();

    let seen = snapshot();
    let module_label = [("module", id.as_str())];
    let counter = |name: &str, labels: &[(&str, &str)]| match find(&seen, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name} {labels:?}: {other:?}"),
    };
    let gauge = |name: &str, labels: &[(&str, &str)]| match find(&seen, name, labels) {
        Some(DebugValue::Gauge(v)) => v.into_inner(),
        other => panic!("{name} {labels:?}: {other:?}"),
    };
    let samples = |name: &str| match find(&seen, name, &module_label) {
        Some(DebugValue::Histogram(values)) => values.len(),
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(
        counter(names::CALLS, &[("module", &id), ("outcome", "ok")]),
        3
    );
    assert_eq!(
        counter(
            names::CALLS,
            &[("module", &id), ("outcome", missing.kind())]
        ),
        1
    );
    assert_eq!(samples(names::CALL_SECONDS), 4);
    assert_eq!(samples(names::QUEUE_SECONDS), 4);
    assert_eq!(counter(names::LOADS, &[("outcome", "ok")]), 1);
    // The instance the load asked what the module exports, and the one the
    // first call made; the other three calls reused it.
    assert_eq!(counter(names::INSTANCES_CREATED, &module_label), 2);
    assert_eq!(counter(names::POOL_HITS, &module_label), 3);
    assert!((gauge(names::INSTANCES_IDLE, &module_label) - 1.0).abs() < f64::EPSILON);
    assert!(gauge(names::MODULE_BYTES, &[("module", &id), ("part", "code")]) > 0.0);
    assert!(
        gauge(
            names::MODULE_BYTES,
            &[("module", &id), ("part", "instances")]
        ) > 0.0
    );
    assert!((gauge(names::RUNTIME_INSTANCES, &[]) - 1.0).abs() < f64::EPSILON);
    assert_eq!(counter(names::CACHE_COMPILES, &[]), 1);
}

/// The fields each closed span had, by span name.
#[derive(Default, Clone)]
struct Spans(Arc<Mutex<Vec<ClosedSpan>>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<HashMap<String, String>>()
        {
            values.record(&mut Fields(fields));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            let fields = span
                .extensions()
                .get::<HashMap<String, String>>()
                .cloned()
                .unwrap_or_default();
            self.0.lock().push((span.name().to_owned(), fields));
        }
    }
}

/// The spans of the module named `spans`, from a subscriber installed once
/// for this binary (a scoped one would race other tests for the callsites'
/// cached interest); the other tests' spans are ignored.
fn spans() -> &'static Spans {
    static SPANS: OnceLock<Spans> = OnceLock::new();
    SPANS.get_or_init(|| {
        let spans = Spans::default();
        let subscriber = tracing_subscriber::registry().with(spans.clone());
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other subscriber in this binary");
        spans
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_and_calls_have_spans_with_their_outcome() {
    let spans = spans();
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    let module = runtime
        .load(package_with("demo", |config| {
            config.meta.name = "spans".to_owned();
        }))
        .await
        .unwrap();
    for _ in 0..2 {
        module
            .call(Arc::new(NullContext), Some("add"), vec![int(1), int(2)])
            .await
            .unwrap();
    }
    module
        .call(Arc::new(NullContext), Some("no_such_function"), vec![])
        .await
        .unwrap_err();
    let spans: Vec<ClosedSpan> = spans
        .0
        .lock()
        .iter()
        .filter(|(_, fields)| {
            fields
                .get("module")
                .is_some_and(|m| m == "fixtures/spans@0.1.0")
        })
        .cloned()
        .collect();
    let load = spans
        .iter()
        .find(|(name, _)| name == "load")
        .map(|(_, fields)| fields)
        .expect("a load span");
    assert_eq!(load["outcome"], "ok");
    assert!(load.contains_key("duration_us"));
    let calls: Vec<&HashMap<String, String>> = spans
        .iter()
        .filter(|(name, _)| name == "call")
        .map(|(_, fields)| fields)
        .collect();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0]["function"], "add");
    assert_eq!(calls[0]["instance"], "new");
    assert_eq!(calls[1]["instance"], "pooled");
    assert_eq!(calls[0]["outcome"], "ok");
    assert_ne!(calls[2]["outcome"], "ok");
    assert!(calls.iter().all(|c| c.contains_key("duration_us")));
    assert!(calls.iter().all(|c| c.contains_key("queue_wait_us")));
}
