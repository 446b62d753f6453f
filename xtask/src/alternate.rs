//! `cargo xtask bench-alternate`: surli and the original 0.6.5 measured in
//! turn (surli, 0.6.5, surli, …) on `add` with 1, 2 and 8 callers, for a
//! number of rounds in one sitting, and judged by medians against the
//! noise each one showed.
//!
//! Throughput under concurrency swings by more between two runs on a small
//! shared machine than the difference being judged, so one run of each
//! says little. Alternating spreads whatever the machine does (another
//! tenant, frequency, the page cache) over both; the spread of each
//! runtime's own runs is the noise band a difference has to clear. The
//! report goes to stdout and `target/bench/alternate.json`.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value as Json, json};

use crate::bench::Runner;
use crate::compat::{PEERS, build_peer};

/// Callers measured, as in the full bench's throughput rows.
const CONCURRENCY: &[usize] = &[1, 2, 8];

/// The targets of issue 16 for `add` calls/s against 0.6.5, by callers.
fn target(concurrency: usize) -> f64 {
    if concurrency == 1 { 1.05 } else { 1.10 }
}

/// One runtime's runs at one concurrency.
#[derive(Default)]
struct Series {
    calls_per_second: Vec<f64>,
    p99_us: Vec<f64>,
}

impl Series {
    fn push(&mut self, report: &Json) -> Result<()> {
        let number = |pointer: &str| {
            report
                .pointer(pointer)
                .and_then(Json::as_f64)
                .with_context(|| format!("the report has no {pointer}: {report}"))
        };
        self.calls_per_second.push(number("/calls_per_second")?);
        self.p99_us.push(number("/call_us/p99")?);
        Ok(())
    }
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// How far the runs of one series stray from their median, as a fraction
/// of it: the largest distance of any run. With five runs this is the
/// band within which a single run of the same binary landed.
fn spread(values: &[f64]) -> f64 {
    let middle = median(values);
    values
        .iter()
        .map(|v| (v - middle).abs() / middle)
        .fold(0.0, f64::max)
}

pub(crate) fn run(root: &Path, rounds: usize, seconds: f64) -> Result<()> {
    if rounds < 3 {
        bail!("--rounds must be at least 3: a median and a spread need three runs");
    }
    let started = Instant::now();
    crate::fixtures::run(root)?;
    let demo = root.join("target").join("fixtures").join("demo.surli");
    let probe = crate::bench::build_probe(root)?;
    let (dir, version) = PEERS
        .iter()
        .find(|(_, version)| *version == "0.6.5")
        .context("0.6.5 is missing from the peer list")?;
    let peer = Runner {
        title: format!("surrealism-runtime {version}"),
        binary: build_peer(root, dir)?,
    };
    let words = |concurrency: usize| {
        vec![
            "measure".to_owned(),
            "--package".to_owned(),
            demo.display().to_string(),
            "--seconds".to_owned(),
            seconds.to_string(),
            "--warmup".to_owned(),
            "0.5".to_owned(),
            "--function".to_owned(),
            "add".to_owned(),
            "--args".to_owned(),
            "[40, 2]".to_owned(),
            "--concurrency".to_owned(),
            concurrency.to_string(),
        ]
    };

    let mut surli: Vec<Series> = CONCURRENCY.iter().map(|_| Series::default()).collect();
    let mut original: Vec<Series> = CONCURRENCY.iter().map(|_| Series::default()).collect();
    let measured = Instant::now();
    for round in 1..=rounds {
        for (i, &concurrency) in CONCURRENCY.iter().enumerate() {
            // Which one goes first alternates too, so neither always runs
            // on a machine the other just warmed.
            let order: [(&Runner, &mut Series); 2] = if round % 2 == 1 {
                [(&probe, &mut surli[i]), (&peer, &mut original[i])]
            } else {
                [(&peer, &mut original[i]), (&probe, &mut surli[i])]
            };
            for (runner, series) in order {
                println!(
                    "xtask: bench-alternate: round {round}/{rounds}, {} add, {concurrency} callers",
                    runner.title
                );
                series.push(&runner.run(&words(concurrency))?)?;
            }
        }
    }

    let mut table = String::from(
        "| callers | surli calls/s (median, spread) | 0.6.5 calls/s (median, spread) | ratio | target | verdict | p99 µs surli / 0.6.5 (medians) |\n|---|---|---|---|---|---|---|\n",
    );
    let mut results = Vec::new();
    for (i, &concurrency) in CONCURRENCY.iter().enumerate() {
        let (ours, theirs) = (&surli[i], &original[i]);
        let (ours_median, theirs_median) = (
            median(&ours.calls_per_second),
            median(&theirs.calls_per_second),
        );
        let ratio = ours_median / theirs_median;
        let band = spread(&ours.calls_per_second).max(spread(&theirs.calls_per_second));
        let verdict = if ratio >= target(concurrency) {
            "met"
        } else if ratio >= 1.0 + band {
            "ahead beyond the noise, short of the target"
        } else if ratio > 1.0 - band {
            "within the noise"
        } else {
            "behind beyond the noise"
        };
        let (p99_ours, p99_theirs) = (median(&ours.p99_us), median(&theirs.p99_us));
        table.push_str(&format!(
            "| {concurrency} | {:.0}k (±{:.0}%) | {:.0}k (±{:.0}%) | {ratio:.2}× | ≥ {:.2}× | {verdict} | {p99_ours:.1} / {p99_theirs:.1} |\n",
            ours_median / 1000.0,
            spread(&ours.calls_per_second) * 100.0,
            theirs_median / 1000.0,
            spread(&theirs.calls_per_second) * 100.0,
            target(concurrency),
        ));
        results.push(json!({
            "concurrency": concurrency,
            "surli_calls_per_second": ours.calls_per_second,
            "original_065_calls_per_second": theirs.calls_per_second,
            "surli_p99_us": ours.p99_us,
            "original_065_p99_us": theirs.p99_us,
            "ratio_of_medians": ratio,
            "noise_band": band,
            "target": target(concurrency),
            "verdict": verdict,
        }));
    }
    println!("\n{table}");
    let out = root.join("target").join("bench");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let path = out.join("alternate.json");
    let document = json!({
        "machine": crate::bench::machine(),
        "rounds": rounds,
        "seconds": seconds,
        "results": results,
    });
    std::fs::write(&path, serde_json::to_string_pretty(&document)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "xtask: bench-alternate: wrote {}; measured in {:.0?} ({:.0?} with the builds)",
        path.display(),
        measured.elapsed(),
        started.elapsed()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{median, spread};

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn the_spread_is_the_largest_distance_from_the_median() {
        // Median 100; 90 is 10% away, 105 5%.
        let band = spread(&[100.0, 90.0, 105.0]);
        assert!((band - 0.10).abs() < 1e-12, "{band}");
    }
}
