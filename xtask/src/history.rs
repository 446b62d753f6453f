//! The benchmark's history: `cargo xtask bench --record` appends each full
//! run to `benches/history.jsonl` (one JSON object per line: commit, date,
//! machine, every row of the table with its ratios), `--compare REV` sets a
//! run beside the last record of a commit and names every change beyond
//! the noise band, and each record redraws the trend of the headline
//! ratios (`docs/performance-history.svg`).
//!
//! The noise band of a row is how far the same commit's runs on the same
//! machine spread (largest minus smallest, over their median), taken from
//! the history itself wherever a commit was run at least three times;
//! until then, a default per kind of figure (below) stands in, and the
//! output says which it used.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::{Value as Json, json};

/// The history file, relative to the workspace root.
pub(crate) const FILE: &str = "benches/history.jsonl";

/// The trend chart, relative to the workspace root.
pub(crate) const CHART: &str = "docs/performance-history.svg";

/// The ratios the trend chart follows: (row, ratio key, label).
const HEADLINES: &[(&str, &str, &str)] = &[
    (
        "add: calls/s, 2 caller(s)",
        "surli_per_0.6.5",
        "add calls/s, 2 callers: surli / 0.6.5",
    ),
    (
        "add: calls/s, 8 caller(s)",
        "surli_per_0.6.5",
        "add calls/s, 8 callers: surli / 0.6.5",
    ),
    (
        "add: pooled call p50, Value args",
        "surli_per_floor",
        "add pooled p50: surli / floor",
    ),
    (
        "noop: pooled call p50, Value args",
        "surli_per_floor",
        "noop pooled p50: surli / floor",
    ),
    (
        "add: fresh instance per call p50",
        "surli_per_floor",
        "add fresh instance p50: surli / floor",
    ),
];

/// Runs of one commit needed before its spread counts as a measured band.
const BAND_RUNS: usize = 3;

/// The band a row gets while the history has no measured one: what runs of
/// one commit on the 2-core machines this project uses were seen to vary
/// by (PERFORMANCE.md, "Noise").
fn default_band(what: &str, unit: &str) -> f64 {
    if unit == "1/s" {
        0.20
    } else if what.contains("p99") {
        0.40
    } else if what.starts_with("load") || what.starts_with("first call") {
        0.25
    } else if unit == "MiB" {
        0.10
    } else {
        0.08
    }
}

/// One record: the table of one run, and where it came from.
pub(crate) fn record(root: &Path, document: &Json) -> Result<Json> {
    let commit = git(root, &["rev-parse", "HEAD"])?;
    // What a run writes itself (the figures, the charts, the history) does
    // not make the code it measured another: only other changes count.
    let written = [FILE, CHART, "docs/PERFORMANCE.md", "docs/performance.svg"];
    let status = git(root, &["status", "--porcelain", "--untracked-files=no"])?;
    let dirty = status
        .lines()
        .filter_map(|line| line.get(3..))
        .any(|path| !written.contains(&path));
    Ok(json!({
        "commit": commit,
        "dirty": dirty,
        "date": document["date"],
        "machine": document["machine"],
        "quick": document["quick"],
        "rows": document["rows"],
    }))
}

/// Appends `record` to the history and redraws the trend chart.
pub(crate) fn append(root: &Path, record: &Json) -> Result<()> {
    let path = root.join(FILE);
    let mut text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => {
            return Err(error).with_context(|| {
                format!(
                    "cannot read {} to append to it; it was left as it is",
                    path.display()
                )
            });
        }
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&serde_json::to_string(record)?);
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    let records = load(root)?;
    chart(&records, &root.join(CHART))?;
    println!(
        "xtask: bench: recorded run {} in {FILE}; redrew {CHART}",
        records.len()
    );
    Ok(())
}

/// Every record of the history, oldest first.
pub(crate) fn load(root: &Path) -> Result<Vec<Json>> {
    let path = root.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a JSON record", path.display(), n + 1))
        })
        .collect()
}

/// The last full-run record of the commit `rev` names.
pub(crate) fn find(root: &Path, records: &[Json], rev: &str) -> Result<Json> {
    let commit = git(
        root,
        &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
    )
    .with_context(|| format!("`{rev}` does not name a commit"))?;
    records
        .iter()
        .rev()
        .find(|r| r["commit"] == commit.as_str() && r["quick"] != true)
        .cloned()
        .with_context(|| {
            format!(
                "{FILE} has no full run of {rev} ({}); record one with `cargo xtask bench --record` \
                 on that commit",
                &commit[..commit.len().min(12)]
            )
        })
}

/// The noise band of each row, measured from the history: for every
/// commit run at least [`BAND_RUNS`] times on this CPU, the spread of each
/// figure and ratio; a row's band is the largest such spread.
fn measured_bands(records: &[Json], cpu: &Json) -> BTreeMap<String, f64> {
    let mut groups: BTreeMap<&str, Vec<&Json>> = BTreeMap::new();
    for record in records {
        if record["quick"] == true || record["dirty"] == true || &record["machine"]["cpu"] != cpu {
            continue;
        }
        if let Some(commit) = record["commit"].as_str() {
            groups.entry(commit).or_default().push(record);
        }
    }
    let mut bands: BTreeMap<String, f64> = BTreeMap::new();
    for runs in groups.values().filter(|runs| runs.len() >= BAND_RUNS) {
        let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for run in runs {
            for row in run["rows"].as_array().into_iter().flatten() {
                let Some(what) = row["what"].as_str() else {
                    continue;
                };
                for key in FIGURES {
                    if let Some(v) = row[key].as_f64() {
                        values.entry(format!("{what}|{key}")).or_default().push(v);
                    }
                }
            }
        }
        for (key, mut v) in values {
            if v.len() < BAND_RUNS {
                continue;
            }
            v.sort_by(f64::total_cmp);
            let median = v[v.len() / 2];
            if median.abs() > 0.0 {
                let spread = (v[v.len() - 1] - v[0]) / median.abs();
                let band = bands.entry(key).or_insert(0.0);
                *band = band.max(spread);
            }
        }
    }
    bands
}

/// The figures of a row that are compared.
const FIGURES: &[&str] = &["surli", "surli_per_0.6.5", "surli_per_floor"];

/// Sets `current` beside `before`, figure by figure; returns the report
/// and the regressions beyond the band it names.
pub(crate) fn compare(records: &[Json], before: &Json, current: &Json) -> (String, Vec<String>) {
    let bands = measured_bands(records, &current["machine"]["cpu"]);
    let mut out = String::new();
    let mut regressions = Vec::new();
    let _ = writeln!(
        out,
        "against {} ({}{}), noise band {}:",
        before["commit"]
            .as_str()
            .map_or("?", |c| &c[..c.len().min(12)]),
        before["date"].as_str().unwrap_or("?"),
        if before["machine"]["cpu"] == current["machine"]["cpu"] {
            ""
        } else {
            ", ANOTHER MACHINE: read the ratios, not the figures"
        },
        if bands.is_empty() {
            format!(
                "defaults per kind of figure (no commit has {BAND_RUNS} clean full runs on this CPU \
                 yet)"
            )
        } else {
            "measured from repeated runs in the history".to_owned()
        }
    );
    let old_rows: BTreeMap<&str, &Json> = before["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| Some((row["what"].as_str()?, row)))
        .collect();
    for row in current["rows"].as_array().into_iter().flatten() {
        let (Some(what), Some(unit)) = (row["what"].as_str(), row["unit"].as_str()) else {
            continue;
        };
        let Some(old) = old_rows.get(what) else {
            let _ = writeln!(out, "  {what}: new row");
            continue;
        };
        // Higher is better for throughput, lower for everything else; a
        // ratio of surli to another follows its figure.
        let higher_is_better = unit == "1/s";
        let mut cells = Vec::new();
        for key in FIGURES {
            let (Some(was), Some(now)) = (old[key].as_f64(), row[key].as_f64()) else {
                continue;
            };
            if was == 0.0 {
                continue;
            }
            let change = now / was - 1.0;
            let band = bands
                .get(&format!("{what}|{key}"))
                .copied()
                .unwrap_or_else(|| default_band(what, unit));
            let worse = if higher_is_better {
                change < 0.0
            } else {
                change > 0.0
            };
            let mark = if change.abs() <= band {
                ""
            } else if worse {
                regressions.push(format!(
                    "{what} [{key}]: {was:.3} -> {now:.3} ({:+.1}%, band ±{:.0}%)",
                    change * 100.0,
                    band * 100.0
                ));
                "  REGRESSION"
            } else {
                "  better"
            };
            let name = match *key {
                "surli" => unit,
                "surli_per_0.6.5" => "× 0.6.5",
                _ => "× floor",
            };
            cells.push(format!(
                "{name} {} -> {} ({:+.1}%, ±{:.0}%){mark}",
                short(was),
                short(now),
                change * 100.0,
                band * 100.0
            ));
        }
        let _ = writeln!(out, "  {what}: {}", cells.join("; "));
    }
    (out, regressions)
}

fn short(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.0}k", value / 1000.0)
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}

/// The headline ratios of every full run, as a line chart.
fn chart(records: &[Json], path: &Path) -> Result<()> {
    use plotters::prelude::*;

    let runs: Vec<&Json> = records.iter().filter(|r| r["quick"] != true).collect();
    let colours = [
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0xff, 0x7f, 0x0e),
        RGBColor(0x2c, 0xa0, 0x2c),
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0x94, 0x67, 0xbd),
    ];
    let value = |run: &Json, what: &str, key: &str| {
        run["rows"]
            .as_array()?
            .iter()
            .find(|row| row["what"] == what)?[key]
            .as_f64()
    };
    let top = runs
        .iter()
        .flat_map(|run| HEADLINES.iter().filter_map(|(w, k, _)| value(run, w, k)))
        .fold(1.5_f64, f64::max)
        * 1.1;
    let labels: Vec<String> = runs
        .iter()
        .map(|run| {
            let commit = run["commit"].as_str().unwrap_or("?");
            format!(
                "{} {}",
                run["date"].as_str().unwrap_or("?"),
                &commit[..commit.len().min(7)]
            )
        })
        .collect();
    let root = SVGBackend::new(path, (860, 440)).into_drawing_area();
    let draw = |e: DrawingAreaErrorKind<_>| anyhow::anyhow!("cannot draw the trend: {e:?}");
    root.fill(&WHITE).map_err(draw)?;
    let last = runs.len().saturating_sub(1).max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Headline ratios by recorded run (1.0 = level; calls/s: higher is better, latency: lower)",
            ("sans-serif", 16),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d(-0.2..last + 0.2, 0.0..top)
        .map_err(draw)?;
    chart
        .configure_mesh()
        .x_labels(runs.len().max(2))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("ratio")
        .draw()
        .map_err(draw)?;
    chart
        .draw_series(LineSeries::new(
            [(-0.2, 1.0), (last + 0.2, 1.0)],
            BLACK.mix(0.3),
        ))
        .map_err(draw)?;
    for ((what, key, label), colour) in HEADLINES.iter().zip(colours) {
        let points: Vec<(f64, f64)> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, run)| Some((i as f64, value(run, what, key)?)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(draw)?
            .label(*label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], colour.stroke_width(2)));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, colour.filled())),
            )
            .map_err(draw)?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .position(SeriesLabelPosition::LowerLeft)
        .draw()
        .map_err(draw)?;
    root.present().map_err(draw)?;
    Ok(())
}

/// Fails when `records` could not be compared because the run is quick.
pub(crate) fn check_comparable(quick: bool) -> Result<()> {
    if quick {
        bail!(
            "--record and --compare take full runs only: a quick run's short windows are not \
             comparable with the history"
        );
    }
    Ok(())
}

fn git(root: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .context("cannot start git")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(commit: &str, calls: f64, p50_ratio: f64) -> Json {
        json!({
            "commit": commit,
            "dirty": false,
            "quick": false,
            "date": "2026-12-07",
            "machine": {"cpu": "test cpu"},
            "rows": [
                {"what": "add: calls/s, 2 caller(s)", "unit": "1/s", "surli": calls,
                 "surli_per_0.6.5": calls / 400_000.0, "surli_per_floor": null},
                {"what": "add: pooled call p50, Value args", "unit": "µs", "surli": 3.0 * p50_ratio,
                 "surli_per_0.6.5": null, "surli_per_floor": p50_ratio},
            ],
        })
    }

    #[test]
    fn changes_beyond_the_default_band_are_named_in_the_right_direction() {
        let before = run("a", 400_000.0, 1.20);
        // Throughput down 30% is worse; latency ratio down 20% is better.
        let (report, regressions) = compare(&[], &before, &run("b", 280_000.0, 0.96));
        assert!(report.contains("defaults per kind"), "{report}");
        assert_eq!(regressions.len(), 2, "{regressions:?}");
        assert!(regressions.iter().all(|r| r.starts_with("add: calls/s")));
        assert!(report.contains("better"), "{report}");
        // Within the band: nothing named.
        let (_, none) = compare(&[], &before, &run("c", 380_000.0, 1.25));
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn repeated_runs_of_one_commit_set_the_band() {
        // Three runs of one commit spreading 40% in throughput widen its
        // band past the default 20%, so a 30% drop is noise.
        let history = vec![
            run("a", 300_000.0, 1.2),
            run("a", 420_000.0, 1.2),
            run("a", 400_000.0, 1.2),
        ];
        let bands = measured_bands(&history, &json!("test cpu"));
        let band = bands["add: calls/s, 2 caller(s)|surli"];
        assert!((band - 0.30).abs() < 1e-9, "{band}");
        let (report, regressions) = compare(&history, &history[2], &run("b", 290_000.0, 1.2));
        assert!(report.contains("measured from repeated runs"), "{report}");
        assert!(regressions.is_empty(), "{regressions:?}");
        // Another CPU's runs say nothing about this one.
        assert!(measured_bands(&history, &json!("another cpu")).is_empty());
    }
}
