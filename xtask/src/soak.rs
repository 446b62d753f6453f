//! `cargo xtask soak --minutes N`: a storm of calls for N minutes, watching
//! the process's memory. A tool, not a test: it takes minutes and its
//! verdict rests on a measurement.
//!
//! The demo, hostile and hostcalls fixtures are loaded once (pool size 4,
//! 32 MiB of linear memory per instance, 4 MiB of KV per module) and 32
//! tasks call them without pause: good calls whose answers are checked,
//! guest errors, traps, out-of-memory calls, calls stopped by a short
//! timeout, calls whose future is dropped midway, a guest that fills its
//! KV store until refused, one that floods its output, and one whose `run`
//! the embedder answers by calling the same module again (until the
//! re-entry is refused or a caller's timeout ends the wait). Every 10 s a line shows the resident set size (VmRSS
//! of `/proc/self/status`) and the calls so far by outcome.
//!
//! It fails when the RSS at the end is more than 10% above the RSS after
//! the first minute (the first minute is warm-up: code, pools and
//! allocator arenas fill up), when a good call answers wrongly or a call
//! ends in another outcome than the one its kind must have, or when the
//! modules' counters disagree with what the callers saw.
//!
//! xtask runs as a debug build (wasmtime and Cranelift are optimised even
//! there, see the root `Cargo.toml`), so call rates are lower than in a
//! release build; for a leak check only the trend matters.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use surli::config::ServerLimits;
use surli::package::{Package, ReadOptions};
use surli::{
    CallError, InvocationContext, Module, NullContext, Runtime, RuntimeOptions, SurrealValue, Value,
};

const TASKS: usize = 32;
const POOL_SIZE: usize = 4;
const MEMORY_LIMIT: u64 = 32 << 20;
/// Each module's KV store holds at most this many bytes.
const KV_LIMIT: u64 = 4 << 20;
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// The end may exceed the first minute's RSS by this factor at most.
const LEAK_TOLERANCE: f64 = 1.10;
/// How many wrong answers are kept to show.
const SHOWN_WRONG: usize = 10;

pub(crate) fn run(root: &Path, minutes: u64) -> Result<()> {
    if !cfg!(target_os = "linux") {
        bail!("cargo xtask soak reads the RSS from /proc/self/status, which only Linux has");
    }
    if minutes < 2 {
        bail!(
            "--minutes must be at least 2: the leak check compares the end with the RSS after the \
             first minute"
        );
    }
    let demo = fixture(root, "demo")?;
    let hostile = fixture(root, "hostile")?;
    let hostcalls = fixture(root, "hostcalls")?;
    let executor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start an async runtime")?;
    executor.block_on(storm(
        [demo, hostile, hostcalls],
        Duration::from_secs(minutes * 60),
    ))
}

fn fixture(root: &Path, name: &str) -> Result<Package> {
    let path: PathBuf = root
        .join("target")
        .join("fixtures")
        .join(format!("{name}.surli"));
    if !path.exists() {
        bail!(
            "the fixture {} is missing: run `cargo xtask fixtures` first",
            path.display()
        );
    }
    Package::read_file(&path, &ReadOptions::default())
        .with_context(|| format!("cannot read {}", path.display()))
}

/// The outcomes a call can have, as the callers see them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Ok,
    GuestError,
    Trap,
    OutOfMemory,
    Timeout,
    Cancelled,
    Codec,
    Other,
}

const OUTCOMES: [Outcome; 8] = [
    Outcome::Ok,
    Outcome::GuestError,
    Outcome::Trap,
    Outcome::OutOfMemory,
    Outcome::Timeout,
    Outcome::Cancelled,
    Outcome::Codec,
    Outcome::Other,
];

impl Outcome {
    fn of(result: &Result<Value, CallError>) -> Self {
        match result {
            Ok(_) => Self::Ok,
            Err(CallError::Guest { .. }) => Self::GuestError,
            Err(CallError::Trap { .. }) => Self::Trap,
            Err(CallError::OutOfMemory { .. }) => Self::OutOfMemory,
            Err(CallError::Timeout { .. }) => Self::Timeout,
            Err(CallError::Codec(_)) => Self::Codec,
            Err(_) => Self::Other,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::GuestError => "guest errors",
            Self::Trap => "traps",
            Self::OutOfMemory => "oom",
            Self::Timeout => "timeouts",
            Self::Cancelled => "cancelled",
            Self::Codec => "codec errors",
            Self::Other => "other",
        }
    }
}

/// Calls by module (0 demo, 1 hostile, 2 hostcalls, the embedder's own
/// calls back into it included) and outcome, as the callers saw them, plus
/// the wrong ones.
#[derive(Default)]
struct Tally {
    seen: [[AtomicU64; 8]; 3],
    wrong: AtomicU64,
    wrong_examples: Mutex<Vec<String>>,
}

impl Tally {
    fn count(&self, module: usize, outcome: Outcome) {
        self.seen[module][outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self, module: usize, outcome: Outcome) -> u64 {
        self.seen[module][outcome.index()].load(Ordering::Relaxed)
    }

    fn total(&self, outcome: Outcome) -> u64 {
        (0..3).map(|module| self.get(module, outcome)).sum()
    }

    fn calls(&self) -> u64 {
        OUTCOMES.iter().map(|o| self.total(*o)).sum()
    }

    fn wrong(&self, what: String) {
        self.wrong.fetch_add(1, Ordering::Relaxed);
        let mut examples = self
            .wrong_examples
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if examples.len() < SHOWN_WRONG {
            examples.push(what);
        }
    }

    fn summary(&self) -> String {
        let parts: Vec<String> = OUTCOMES
            .iter()
            .filter(|o| self.total(**o) > 0 || matches!(o, Outcome::Ok))
            .map(|o| format!("{} {}", o.label(), self.total(*o)))
            .collect();
        format!(
            "{} calls ({}), {} wrong",
            self.calls(),
            parts.join(", "),
            self.wrong.load(Ordering::Relaxed)
        )
    }
}

/// One kind of call in the mix.
#[derive(Clone, Copy, Debug)]
enum Op {
    Add,
    Concat,
    Greet,
    Fib,
    Bump,
    Recurse,
    SmallAlloc,
    UnknownFunction,
    Panic,
    OutOfMemory,
    ShortTimeout,
    Cancel,
    KvFill,
    Flood,
    Reenter,
}

/// The mix, in percent: mostly good calls, and every way a call can fail.
const MIX: &[(Op, u32)] = &[
    (Op::Add, 20),
    (Op::Concat, 10),
    (Op::Greet, 10),
    (Op::Fib, 10),
    (Op::Bump, 5),
    (Op::Recurse, 10),
    (Op::SmallAlloc, 5),
    (Op::UnknownFunction, 6),
    (Op::Panic, 6),
    (Op::OutOfMemory, 6),
    (Op::ShortTimeout, 6),
    (Op::Cancel, 6),
    (Op::KvFill, 3),
    (Op::Flood, 2),
    (Op::Reenter, 3),
];

/// xorshift64*: a different, reproducible sequence per task.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn op(&mut self) -> Op {
        let total: u32 = MIX.iter().map(|(_, w)| w).sum();
        let mut pick = u32::try_from(self.below(u64::from(total))).unwrap_or(0);
        for (op, weight) in MIX {
            if pick < *weight {
                return *op;
            }
            pick -= weight;
        }
        Op::Add
    }
}

/// What a call must come to.
enum Expect {
    Value(Value),
    PositiveInt,
    Outcome(Outcome),
}

struct Modules {
    demo: Module,
    hostile: Module,
    hostcalls: Module,
}

/// How long the embedder waits for the module it calls back into, from
/// inside that module's own call.
const CALL_BACK_TIMEOUT: Duration = Duration::from_millis(500);

/// An embedder whose `run` calls the module it serves again, with the same
/// `run`: each level holds one more instance of the module, until the
/// chain holds them all and the next is refused as re-entry (or, when
/// other tasks hold instances, the wait meets `CALL_BACK_TIMEOUT`). Every
/// call it makes is counted under module 2.
struct CallsBack {
    module: Module,
    tally: Arc<Tally>,
}

/// Counts a call back as cancelled when its future is dropped before it
/// finished.
struct Unfinished<'a>(&'a Tally);

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        self.0.count(2, Outcome::Cancelled);
    }
}

#[surli::async_trait]
impl InvocationContext for CallsBack {
    async fn sql(
        &self,
        _: &surli::CallInfo,
        _: &str,
        _: surli::Object,
    ) -> Result<Value, surli::ContextError> {
        Err("this embedder has no database".into())
    }

    async fn run(
        &self,
        _: &surli::CallInfo,
        function: &str,
        version: Option<&str>,
        args: Vec<Value>,
    ) -> Result<Value, surli::ContextError> {
        let ctx: Arc<dyn InvocationContext> = Arc::new(Self {
            module: self.module.clone(),
            tally: Arc::clone(&self.tally),
        });
        let again = vec![
            text(function.to_owned()),
            version.map_or(Value::None, |v| text(v.to_owned())),
            Value::Array(args.into()),
        ];
        // The guest above may be stopped by its own deadline while this
        // call waits, which drops this future: the module counts that call
        // as cancelled, and so must the tally.
        let unfinished = Unfinished(&self.tally);
        let result = self
            .module
            .call_with_timeout(ctx, Some("run"), again, Some(CALL_BACK_TIMEOUT))
            .await;
        std::mem::forget(unfinished);
        let outcome = Outcome::of(&result);
        self.tally.count(2, outcome);
        if !matches!(
            outcome,
            Outcome::GuestError | Outcome::Timeout | Outcome::Other
        ) {
            self.tally
                .wrong(format!("a call back into hostcalls ended as {result:?}"));
        }
        result.map_err(|error| error.to_string().into())
    }
}

fn int(n: i64) -> Value {
    n.into_value()
}

fn text(s: String) -> Value {
    s.into_value()
}

fn fib(n: i64) -> i64 {
    let (mut a, mut b) = (0i64, 1i64);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }
    a
}

/// Makes one call of kind `op`; returns the module it went to, what came
/// back and what had to.
async fn call(
    modules: &Modules,
    tally: &Arc<Tally>,
    op: Op,
    rng: &mut Rng,
) -> (usize, Outcome, Option<String>) {
    let ctx: Arc<dyn InvocationContext> = Arc::new(NullContext);
    let (module, which, function, args, expect, timeout): (
        &Module,
        usize,
        Option<&str>,
        Vec<Value>,
        Expect,
        Option<Duration>,
    ) = match op {
        Op::Add => {
            let (a, b) = (rng.next() as i64, rng.next() as i64);
            let sum = a.wrapping_add(b);
            (
                &modules.demo,
                0,
                Some("add"),
                vec![int(a), int(b)],
                Expect::Value(int(sum)),
                None,
            )
        }
        Op::Concat => {
            let (a, b) = (
                format!("s{}", rng.below(1000)),
                format!("t{}", rng.below(1000)),
            );
            let joined = format!("{a}{b}");
            (
                &modules.demo,
                0,
                Some("concat"),
                vec![text(a), text(b)],
                Expect::Value(text(joined)),
                None,
            )
        }
        Op::Greet => {
            let name = format!("n{}", rng.below(1_000_000));
            let greeting = format!("Hello, {name}!");
            (
                &modules.demo,
                0,
                None,
                vec![text(name)],
                Expect::Value(text(greeting)),
                None,
            )
        }
        Op::Fib => {
            let n = i64::try_from(rng.below(91)).unwrap_or(0);
            (
                &modules.demo,
                0,
                Some("fib"),
                vec![int(n)],
                Expect::Value(int(fib(n))),
                None,
            )
        }
        Op::Bump => (
            &modules.demo,
            0,
            Some("counter::bump"),
            vec![int(1)],
            Expect::PositiveInt,
            None,
        ),
        Op::UnknownFunction => (
            &modules.demo,
            0,
            Some("nope"),
            vec![],
            Expect::Outcome(Outcome::GuestError),
            None,
        ),
        Op::Recurse => {
            let depth = i64::try_from(rng.below(100)).unwrap_or(0) + 1;
            (
                &modules.hostile,
                1,
                Some("recurse"),
                vec![int(depth)],
                Expect::Value(int(depth)),
                None,
            )
        }
        Op::SmallAlloc => {
            let mib = i64::try_from(rng.below(4)).unwrap_or(0) + 1;
            (
                &modules.hostile,
                1,
                Some("alloc"),
                vec![int(mib)],
                Expect::Value(int(mib)),
                None,
            )
        }
        Op::Panic => (
            &modules.hostile,
            1,
            Some("panic_now"),
            vec![],
            Expect::Outcome(Outcome::Trap),
            None,
        ),
        Op::OutOfMemory => (
            &modules.hostile,
            1,
            Some("alloc"),
            vec![int(64)],
            Expect::Outcome(Outcome::OutOfMemory),
            None,
        ),
        Op::ShortTimeout => (
            &modules.hostile,
            1,
            Some("spin"),
            vec![],
            Expect::Outcome(Outcome::Timeout),
            Some(Duration::from_millis(20)),
        ),
        Op::KvFill => (
            // 100 KiB values under the soak's 4 MiB max_kv_bytes: the 41st
            // key is refused on every call (the first 40 only overwrite).
            &modules.hostile,
            1,
            Some("kv_fill"),
            vec![int(100), int(100)],
            Expect::Value(int(40)),
            None,
        ),
        Op::Flood => (
            // Prints without pause until its timeout; the host keeps 1 MiB
            // of it per call and drops the rest.
            &modules.hostile,
            1,
            Some("print_forever"),
            vec![],
            Expect::Outcome(Outcome::Timeout),
            Some(Duration::from_millis(50)),
        ),
        Op::Reenter => {
            let ctx: Arc<dyn InvocationContext> = Arc::new(CallsBack {
                module: modules.hostcalls.clone(),
                tally: Arc::clone(tally),
            });
            let args = vec![
                text("string::len".to_owned()),
                Value::None,
                Value::Array(vec![text("x".to_owned())].into()),
            ];
            let result = modules
                .hostcalls
                .call_with_timeout(ctx, Some("run"), args, None)
                .await;
            let outcome = Outcome::of(&result);
            // The innermost call is refused, or waits past its timeout;
            // either way the guest above it fails, and so on up.
            let wrong = (!matches!(outcome, Outcome::GuestError | Outcome::Timeout))
                .then(|| format!("a re-entering run ended as {result:?}"));
            return (2, outcome, wrong);
        }
        Op::Cancel => {
            // The future is dropped 15 ms in, waiting for a permit or
            // spinning: either way the call counts as cancelled.
            let call = modules.hostile.call(ctx, Some("spin"), vec![]);
            let outcome = match tokio::time::timeout(Duration::from_millis(15), call).await {
                Err(_) => Outcome::Cancelled,
                Ok(result) => Outcome::of(&result),
            };
            let wrong = (outcome != Outcome::Cancelled)
                .then(|| format!("spin dropped after 15 ms ended as {outcome:?}"));
            return (1, outcome, wrong);
        }
    };

    let result = module.call_with_timeout(ctx, function, args, timeout).await;
    let outcome = Outcome::of(&result);
    let name = function.unwrap_or("<default>");
    let wrong = match (&expect, &result) {
        (Expect::Value(want), Ok(got)) if want == got => None,
        (Expect::PositiveInt, Ok(Value::Number(surli::types::Number::Int(n)))) if *n >= 1 => None,
        (Expect::Outcome(want), _) if *want == outcome => None,
        (Expect::Value(want), _) => Some(format!("{name} should give {want:?}, got {result:?}")),
        (Expect::PositiveInt, _) => Some(format!("{name} should give a count, got {result:?}")),
        (Expect::Outcome(want), _) => {
            Some(format!("{name} should end as {want:?}, got {result:?}"))
        }
    };
    (which, outcome, wrong)
}

fn rss_kib() -> Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("cannot read /proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .context("/proc/self/status has no VmRSS line")
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

async fn storm(packages: [Package; 3], length: Duration) -> Result<()> {
    let runtime = Runtime::new(
        RuntimeOptions::default().with_server(
            ServerLimits::default()
                .with_max_pool_size(NonZeroUsize::new(POOL_SIZE).unwrap_or(NonZeroUsize::MIN))
                .with_max_memory_bytes(Some(MEMORY_LIMIT))
                .with_max_execution_time(Some(Duration::from_secs(2)))
                .with_max_kv_bytes(Some(KV_LIMIT)),
        ),
    )?;
    let [demo, hostile, hostcalls] = packages;
    let modules = Arc::new(Modules {
        demo: runtime.load(demo).await.context("cannot load demo")?,
        hostile: runtime.load(hostile).await.context("cannot load hostile")?,
        hostcalls: runtime
            .load(hostcalls)
            .await
            .context("cannot load hostcalls")?,
    });
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));

    let start_rss = rss_kib()?;
    println!(
        "xtask: soak: {} min, {TASKS} tasks, pool {POOL_SIZE}, {} per instance; RSS at start {}",
        length.as_secs() / 60,
        mib(MEMORY_LIMIT / 1024),
        mib(start_rss)
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (modules, tally, stop) = (Arc::clone(&modules), Arc::clone(&tally), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            let mut rng =
                Rng(0x9E37_79B9_7F4A_7C15 ^ (task as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
            while !stop.load(Ordering::Relaxed) {
                let op = rng.op();
                let (module, outcome, wrong) = call(&modules, &tally, op, &mut rng).await;
                tally.count(module, outcome);
                if let Some(what) = wrong {
                    tally.wrong(what);
                }
            }
        }));
    }

    let mut samples: Vec<(u64, u64)> = Vec::new();
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + SAMPLE_EVERY, SAMPLE_EVERY);
    let end = length.as_secs();
    loop {
        ticker.tick().await;
        let elapsed = started.elapsed().as_secs_f64();
        let rss = rss_kib()?;
        let second = (elapsed.round() as u64).max(1);
        samples.push((second, rss));
        println!(
            "xtask: soak: {:>5.0} s  RSS {:>10}  {}",
            elapsed,
            mib(rss),
            tally.summary()
        );
        if second >= end {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.context("a storm task panicked")?;
    }

    let first_minute = samples
        .iter()
        .find(|(second, _)| *second >= 60)
        .map(|(_, rss)| *rss)
        .context("no sample after the first minute")?;
    let end_rss = samples.last().map_or(first_minute, |(_, rss)| *rss);
    let growth = end_rss as f64 / first_minute as f64;
    println!(
        "xtask: soak: RSS at start {}, after the first minute {}, at the end {} ({:+.1}%)",
        mib(start_rss),
        mib(first_minute),
        mib(end_rss),
        (growth - 1.0) * 100.0
    );

    let mut problems = Vec::new();
    for (which, name, module) in [
        (0, "demo", &modules.demo),
        (1, "hostile", &modules.hostile),
        (2, "hostcalls", &modules.hostcalls),
    ] {
        let stats = module.stats();
        println!(
            "xtask: soak: {name}: {} calls, {} ok, {} guest errors, {} traps, {} oom, {} timeouts, \
             {} cancelled; {} instances created, {} discarded, {} pool hits; output cut short in \
             {} calls ({} bytes dropped)",
            stats.calls,
            stats.ok,
            stats.guest_errors,
            stats.traps,
            stats.out_of_memory,
            stats.timeouts,
            stats.cancelled,
            stats.instances_created,
            stats.instances_discarded,
            stats.pool_hits,
            stats.output_truncated_calls,
            stats.output_dropped_bytes
        );
        let outcomes = stats.ok
            + stats.guest_errors
            + stats.timeouts
            + stats.out_of_memory
            + stats.traps
            + stats.codec_errors
            + stats.other_errors
            + stats.cancelled;
        if stats.calls != outcomes {
            problems.push(format!(
                "{name}: {} calls but {outcomes} outcomes",
                stats.calls
            ));
        }
        for (outcome, counted) in [
            (Outcome::Ok, stats.ok),
            (Outcome::GuestError, stats.guest_errors),
            (Outcome::Trap, stats.traps),
            (Outcome::OutOfMemory, stats.out_of_memory),
            (Outcome::Timeout, stats.timeouts),
            (Outcome::Cancelled, stats.cancelled),
            (Outcome::Codec, stats.codec_errors),
            (Outcome::Other, stats.other_errors),
        ] {
            let seen = tally.get(which, outcome);
            if seen != counted {
                problems.push(format!(
                    "{name}: the callers saw {seen} {}, the module counted {counted}",
                    outcome.label()
                ));
            }
        }
        if stats.checked_out != 0 {
            problems.push(format!("{name}: {} leases still out", stats.checked_out));
        }
        if module.available_permits() != POOL_SIZE {
            problems.push(format!(
                "{name}: {} of {POOL_SIZE} permits available after the storm",
                module.available_permits()
            ));
        }
        if module.idle_instances() > POOL_SIZE {
            problems.push(format!(
                "{name}: {} idle instances, more than the pool size {POOL_SIZE}",
                module.idle_instances()
            ));
        }
    }
    let wrong = tally.wrong.load(Ordering::Relaxed);
    if wrong > 0 {
        problems.push(format!("{wrong} calls ended wrongly"));
        for example in tally
            .wrong_examples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            println!("xtask: soak: wrong: {example}");
        }
    }
    if growth > LEAK_TOLERANCE {
        problems.push(format!(
            "RSS grew from {} after the first minute to {} at the end, more than {:.0}%",
            mib(first_minute),
            mib(end_rss),
            (LEAK_TOLERANCE - 1.0) * 100.0
        ));
    }
    if !problems.is_empty() {
        bail!("soak failed: {}", problems.join("; "));
    }
    println!(
        "xtask: soak: passed: {} in {:.0?}",
        tally.summary(),
        started.elapsed()
    );
    Ok(())
}
