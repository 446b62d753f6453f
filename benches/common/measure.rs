//! The measuring loop, the quantiles and the RSS reading that `surli-probe`
//! (`benches/surli`) and `peer-bench` (`benches/peer`) share, so that their
//! figures come from the same code. Both include this file as a module
//! (`#[path]`): the peers live in Cargo workspaces of their own and cannot
//! depend on a crate of ours without pulling its workspace in.
//!
//! Needs `anyhow`, `serde_json` and `tokio` (`rt`, `time`) from the crate
//! that includes it.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

/// `concurrency` tasks each running `call` in a loop for `seconds`: every
/// call's latency in nanoseconds, and how many calls failed (`call`
/// answers whether the call succeeded).
///
/// Each task gets its own copy of `state` behind an `Arc` of its own, and
/// each call a clone of that `Arc`: nothing the loop itself touches per call
/// is shared between tasks. (A loop that cloned one shared `Arc` per call
/// made every worker bump the same reference count, and that cache-line
/// traffic between cores showed up in the figures of whichever runtime
/// was measured.) `S::clone` should make whatever a call consumes (a
/// context) fresh for each task.
///
/// With `BENCH_UNCONSTRAINED=1` in the environment every call runs in
/// `tokio::task::unconstrained`: tokio's cooperative budget never makes a
/// caller yield, which tells a tail that comes from those yields apart
/// from one that comes from the runtime measured. An experiment, never
/// what the recorded figures use.
pub(crate) async fn callers<S, C, F>(
    concurrency: usize,
    seconds: f64,
    state: S,
    call: C,
) -> anyhow::Result<(Vec<u64>, u64)>
where
    S: Clone + Send + Sync + 'static,
    C: Fn(std::sync::Arc<S>) -> F + Clone + Send + 'static,
    F: Future<Output = bool> + Send,
{
    let window = Duration::from_secs_f64(seconds);
    let unconstrained = std::env::var_os("BENCH_UNCONSTRAINED").is_some_and(|v| v == "1");
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let call = call.clone();
            let state = std::sync::Arc::new(state.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 16);
                let mut errors = 0u64;
                let deadline = Instant::now() + window;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let call = call(std::sync::Arc::clone(&state));
                    let ok = if unconstrained {
                        tokio::task::unconstrained(call).await
                    } else {
                        call.await
                    };
                    latencies.push(nanos(started.elapsed()));
                    errors += u64::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latencies, task_errors) = task
            .await
            .map_err(|e| anyhow::anyhow!("a caller stopped: {e}"))?;
        all.extend(latencies);
        errors += task_errors;
    }
    Ok((all, errors))
}

/// A duration in whole nanoseconds, at least 1.
pub(crate) fn nanos(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX).max(1)
}

/// Latency quantiles in microseconds: min, p50, p90, p99, max, mean.
pub(crate) fn quantiles(mut latencies: Vec<u64>) -> anyhow::Result<Json> {
    if latencies.is_empty() {
        anyhow::bail!("no call finished in the measured window");
    }
    latencies.sort_unstable();
    let us = |nanos: u64| nanos as f64 / 1000.0;
    let quantile = |q: f64| {
        let rank = ((q * latencies.len() as f64).ceil() as usize).max(1);
        us(latencies[rank.min(latencies.len()) - 1])
    };
    let total: u128 = latencies.iter().map(|&n| u128::from(n)).sum();
    // How many calls took longer than each bound: the shape of the tail,
    // which one quantile does not show.
    let over = |micros: u64| latencies.len() - latencies.partition_point(|&n| n <= micros * 1000);
    Ok(json!({
        "min": us(latencies[0]),
        "p50": quantile(0.50),
        "p90": quantile(0.90),
        "p99": quantile(0.99),
        "max": us(latencies[latencies.len() - 1]),
        "mean": total as f64 / latencies.len() as f64 / 1000.0,
        "over_us": {
            "10": over(10),
            "20": over(20),
            "40": over(40),
            "80": over(80),
            "160": over(160),
        },
    }))
}

/// The resident set of this process in bytes, from `/proc/self/status`
/// (Linux; 0 where there is no such file).
pub(crate) fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}
