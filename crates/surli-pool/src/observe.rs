//! What the runtime tells an operator: a `tracing` span per load and per
//! call, and metrics through the `metrics` facade.
//!
//! Both cost nothing on the call path unless asked for. A call's span is
//! made only when a subscriber wants `surli::call` spans at debug level,
//! and the call path's metrics are recorded only when the runtime was
//! built with [`RuntimeOptions::with_metrics`](crate::RuntimeOptions::with_metrics);
//! otherwise a call reads no clock for either.

use std::future::Future;
use std::time::{Duration, Instant};

use metrics::{Counter, Histogram};
use tracing::field::Empty;
use tracing::{Instrument as _, Level, Span};

use crate::budget::BudgetUsage;
use crate::error::CallError;
use crate::module::{Module, ModuleInner};

/// The names of the metrics surli records, each with what it means (also
/// listed in `docs/EMBEDDING.md`).
pub mod names {
    /// Calls ended, by `module` and `outcome` (`ok`, or the error's
    /// [`kind`](crate::CallError::kind), or `cancelled`).
    pub const CALLS: &str = "surli_calls_total";
    /// How long calls took, end to end, by `module` (seconds).
    pub const CALL_SECONDS: &str = "surli_call_duration_seconds";
    /// How long calls waited for a free instance, by `module` (seconds).
    pub const QUEUE_SECONDS: &str = "surli_call_queue_wait_seconds";
    /// Loads ended, by `outcome` (`ok` or `error`).
    pub const LOADS: &str = "surli_loads_total";
    /// How long loads took (seconds).
    pub const LOAD_SECONDS: &str = "surli_load_duration_seconds";
    /// Instances created, by `module`.
    pub const INSTANCES_CREATED: &str = "surli_instances_created_total";
    /// Leases served by an idle pooled instance, by `module`.
    pub const POOL_HITS: &str = "surli_pool_hits_total";
    /// Instances idle in the pool, by `module`.
    pub const INSTANCES_IDLE: &str = "surli_instances_idle";
    /// Leases out, by `module`.
    pub const LEASES_OUT: &str = "surli_leases_out";
    /// Bytes a module holds, by `module` and `part` (`code`, `instances`,
    /// `kv`).
    pub const MODULE_BYTES: &str = "surli_module_memory_bytes";
    /// Instances alive across the runtime.
    pub const RUNTIME_INSTANCES: &str = "surli_runtime_instances";
    /// Linear memory held across the runtime (bytes).
    pub const RUNTIME_MEMORY: &str = "surli_runtime_memory_bytes";
    /// Compiled components found by the artifact cache, by `tier`
    /// (`memory`, `disk`).
    pub const CACHE_HITS: &str = "surli_cache_hits_total";
    /// Components compiled because the cache had none.
    pub const CACHE_COMPILES: &str = "surli_cache_compiles_total";
}

/// The call-path metrics of one module, registered once at load with the
/// recorder installed then.
#[derive(Debug)]
pub(crate) struct ModuleMetrics {
    module: String,
    ok: Counter,
    duration: Histogram,
    queue_wait: Histogram,
}

impl ModuleMetrics {
    pub(crate) fn new(module: &str) -> Self {
        let label = module.to_owned();
        Self {
            ok: metrics::counter!(names::CALLS, "module" => label.clone(), "outcome" => "ok"),
            duration: metrics::histogram!(names::CALL_SECONDS, "module" => label.clone()),
            queue_wait: metrics::histogram!(names::QUEUE_SECONDS, "module" => label.clone()),
            module: label,
        }
    }

    fn ended(&self, outcome: &'static str) {
        if outcome == "ok" {
            self.ok.increment(1);
        } else {
            // Failures are rare: their handles are looked up when needed.
            metrics::counter!(names::CALLS, "module" => self.module.clone(), "outcome" => outcome)
                .increment(1);
        }
    }
}

/// One call as it is observed. When nothing wants it (no subscriber for
/// its span, no metrics) it is one pointer and an empty option, and reads
/// no clock: the call's future, which holds it across its awaits, stays as
/// small as it was.
pub(crate) struct Observation<'a> {
    module: &'a ModuleInner,
    observed: Option<Box<Observed>>,
}

/// What an observed call records.
struct Observed {
    span: Span,
    started: Instant,
    queue_wait: Option<Duration>,
    reused: Option<bool>,
    ended: bool,
}

impl<'a> Observation<'a> {
    pub(crate) fn start(module: &'a ModuleInner, function: Option<&str>) -> Self {
        let span = if tracing::enabled!(target: "surli::call", Level::DEBUG) {
            tracing::debug_span!(
                target: "surli::call",
                "call",
                module = %module.id,
                function = function.unwrap_or("(default)"),
                outcome = Empty,
                instance = Empty,
                queue_wait_us = Empty,
                duration_us = Empty,
            )
        } else {
            Span::none()
        };
        let observed = (!span.is_disabled() || module.metrics.is_some()).then(|| {
            Box::new(Observed {
                span,
                started: Instant::now(),
                queue_wait: None,
                reused: None,
                ended: false,
            })
        });
        Self { module, observed }
    }

    /// Whether this call's times are wanted.
    pub(crate) fn timed(&self) -> bool {
        self.observed.is_some()
    }

    /// Notes how long the call waited for a permit, and whether it got an
    /// idle instance or a new one.
    pub(crate) fn leased(&mut self, queue_wait: Option<Duration>, reused: bool) {
        if let Some(observed) = &mut self.observed {
            observed.queue_wait = queue_wait;
            observed.reused = Some(reused);
        }
    }

    /// The call's span, to run the call in; `None` when nothing wants it.
    pub(crate) fn span(&self) -> Option<Span> {
        self.observed
            .as_ref()
            .filter(|observed| !observed.span.is_disabled())
            .map(|observed| observed.span.clone())
    }

    pub(crate) fn finish<T>(mut self, outcome: &Result<T, CallError>) {
        self.end(match outcome {
            Ok(_) => "ok",
            Err(error) => error.kind(),
        });
    }

    fn end(&mut self, outcome: &'static str) {
        let Some(observed) = &mut self.observed else {
            return;
        };
        if observed.ended {
            return;
        }
        observed.ended = true;
        let elapsed = observed.started.elapsed();
        if let Some(metrics) = &self.module.metrics {
            metrics.ended(outcome);
            metrics.duration.record(elapsed);
            if let Some(wait) = observed.queue_wait {
                metrics.queue_wait.record(wait);
            }
        }
        let span = &observed.span;
        if !span.is_disabled() {
            span.record("outcome", outcome);
            span.record("duration_us", micros(elapsed));
            if let Some(wait) = observed.queue_wait {
                span.record("queue_wait_us", micros(wait));
            }
            if let Some(reused) = observed.reused {
                span.record("instance", if reused { "pooled" } else { "new" });
            }
        }
    }
}

impl Drop for Observation<'_> {
    fn drop(&mut self) {
        self.end("cancelled");
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// A load's span and its metrics.
pub(crate) async fn load<F>(module: &str, metrics_on: bool, load: F) -> F::Output
where
    F: Future<Output = Result<Module, crate::LoadError>>,
{
    let span = tracing::debug_span!(
        target: "surli::load",
        "load",
        module = %module,
        outcome = Empty,
        artifact = Empty,
        duration_us = Empty,
    );
    let started = Instant::now();
    let loaded = load.instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let outcome = if loaded.is_ok() { "ok" } else { "error" };
    span.record("outcome", outcome);
    span.record("duration_us", micros(elapsed));
    if let Ok(module) = &loaded {
        span.record(
            "artifact",
            tracing::field::debug(module.stats().artifact_source),
        );
    }
    if metrics_on {
        metrics::counter!(names::LOADS, "outcome" => outcome).increment(1);
        metrics::histogram!(names::LOAD_SECONDS).record(elapsed);
    }
    loaded
}

/// Sets the gauges and totals that are read rather than counted as they
/// happen: every module's instances, pool hits and memory, and the
/// runtime's budget and cache.
pub(crate) fn publish(
    modules: &[std::sync::Arc<ModuleInner>],
    usage: BudgetUsage,
    cache: surli_engine::CacheStats,
) {
    // Modules with one id (the same package loaded twice, or an old and a
    // new module during a replace by the same version) share its labels:
    // their figures are added up, so no module's overwrites another's.
    let mut by_id: std::collections::BTreeMap<&str, Published> = Default::default();
    for inner in modules {
        let module = Module {
            inner: std::sync::Arc::clone(inner),
        };
        let stats = module.stats();
        let memory = module.memory();
        let sum = by_id.entry(inner.id.as_str()).or_default();
        sum.instances_created += stats.instances_created;
        sum.pool_hits += stats.pool_hits;
        sum.leases_out += stats.checked_out;
        sum.idle += u64::try_from(memory.idle_instances).unwrap_or(u64::MAX);
        sum.code_bytes += memory.code_bytes;
        sum.instance_bytes += memory.idle_instance_bytes;
        if let Some(kv) = memory.kv_bytes {
            *sum.kv_bytes.get_or_insert(0) += kv;
        }
    }
    for (id, sum) in by_id {
        let id = id.to_owned();
        metrics::counter!(names::INSTANCES_CREATED, "module" => id.clone())
            .absolute(sum.instances_created);
        metrics::counter!(names::POOL_HITS, "module" => id.clone()).absolute(sum.pool_hits);
        metrics::gauge!(names::INSTANCES_IDLE, "module" => id.clone()).set(lossy(sum.idle));
        metrics::gauge!(names::LEASES_OUT, "module" => id.clone()).set(lossy(sum.leases_out));
        for (part, bytes) in [
            ("code", Some(sum.code_bytes)),
            ("instances", Some(sum.instance_bytes)),
            ("kv", sum.kv_bytes),
        ] {
            if let Some(bytes) = bytes {
                metrics::gauge!(names::MODULE_BYTES, "module" => id.clone(), "part" => part)
                    .set(lossy(bytes));
            }
        }
    }
    metrics::gauge!(names::RUNTIME_INSTANCES).set(lossy(usage.instances));
    metrics::gauge!(names::RUNTIME_MEMORY).set(lossy(usage.memory_bytes));
    metrics::counter!(names::CACHE_HITS, "tier" => "memory").absolute(cache.memory_hits);
    metrics::counter!(names::CACHE_HITS, "tier" => "disk").absolute(cache.disk_hits);
    metrics::counter!(names::CACHE_COMPILES).absolute(cache.misses);
}

/// What is published for one module id.
#[derive(Default)]
struct Published {
    instances_created: u64,
    pool_hits: u64,
    leases_out: u64,
    idle: u64,
    code_bytes: u64,
    instance_bytes: u64,
    kv_bytes: Option<u64>,
}

/// A count as a gauge's float: exact up to 2^53, which no count here
/// reaches.
#[allow(clippy::cast_precision_loss)]
fn lossy(value: u64) -> f64 {
    value as f64
}
