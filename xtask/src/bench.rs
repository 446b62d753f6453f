//! `cargo xtask bench`: surli, the two original runtimes and the wasmtime
//! floor, measured on the same packages in one run, in one table.
//!
//! Three release binaries do the measuring, each in its own process so
//! that one's memory and threads never colour another's figures:
//! `surli-probe` (from `benches/surli`) for surli and the floor, and
//! `peer-bench` built twice (from `benches/peer/runtime-031` and
//! `runtime-065`) for the originals. They share one measuring loop (tasks
//! calling in a loop for a window after a warm-up, every call timed) and
//! one JSON shape, so their figures stand side by side. The table goes to
//! stdout, every raw report to `target/bench/report.json`, and a full run
//! (not `--quick`) rewrites the generated part of `docs/PERFORMANCE.md`
//! and the chart `docs/performance.svg`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value as Json, json};

use crate::compat::{PEERS, build_peer};

/// The demo's functions measured, with their arguments (JSON).
const CASES: &[(&str, &str)] = &[
    ("noop", "[]"),
    ("add", "[40, 2]"),
    ("concat", r#"["hello, ", "world"]"#),
    ("fib", "[30]"),
];

/// Callers for the throughput rows (of `add`).
const CONCURRENCY: &[usize] = &[1, 2, 8];

/// How long each measurement runs.
struct Budget {
    seconds: f64,
    warmup: f64,
    /// Modules loaded at once for the memory-per-module figure.
    modules: usize,
    /// Modules loaded at once from the disk cache (surli alone: the
    /// originals would compile every one).
    cached_modules: usize,
    /// Loads per kind for the load-time medians.
    loads: usize,
}

impl Budget {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                seconds: 0.5,
                warmup: 0.2,
                modules: 10,
                cached_modules: 50,
                loads: 5,
            }
        } else {
            Self {
                seconds: 3.0,
                warmup: 0.5,
                modules: 100,
                cached_modules: 1000,
                loads: 20,
            }
        }
    }
}

/// A measuring binary and the name its column goes by.
pub(crate) struct Runner {
    pub(crate) title: String,
    pub(crate) binary: PathBuf,
}

impl Runner {
    /// Runs one command of the binary and parses the JSON it prints.
    pub(crate) fn run(&self, args: &[String]) -> Result<Json> {
        let output = Command::new(&self.binary)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("cannot start {}", self.binary.display()))?;
        if !output.status.success() {
            bail!(
                "{} {} failed ({}); its output above says why",
                self.title,
                args.join(" "),
                output.status
            );
        }
        serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "{} {} printed something that is not JSON: {}",
                self.title,
                args.join(" "),
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }
}

pub(crate) fn run(root: &Path, quick: bool, record: bool, compare: Option<&str>) -> Result<()> {
    let started = Instant::now();
    // What a comparison needs is checked before anything is measured.
    let before = match compare {
        Some(rev) => {
            crate::history::check_comparable(quick)?;
            let records = crate::history::load(root)?;
            Some(crate::history::find(root, &records, rev)?)
        }
        None => None,
    };
    if record {
        crate::history::check_comparable(quick)?;
    }
    crate::fixtures::run(root)?;
    let demo = root.join("target").join("fixtures").join("demo.surli");
    let probe = build_probe(root)?;
    let mut peers = Vec::new();
    for (dir, title) in PEERS {
        peers.push(Runner {
            title: format!("surrealism-runtime {title}"),
            binary: build_peer(root, dir)?,
        });
    }
    let budget = Budget::new(quick);
    let measured = Instant::now();
    let rss_cache = root.join("target").join("bench").join("rss-cache");
    let report = measure(&probe, &peers, &demo, &rss_cache, &budget)?;
    let rows = rows(&report)?;
    let table = render_table(&rows);
    println!("\n{table}");

    let out = root.join("target").join("bench");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let document = json!({
        "date": today(),
        "quick": quick,
        "machine": machine(),
        "package": "target/fixtures/demo.surli",
        "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
        "raw": report,
    });
    let path = out.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&document)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("xtask: bench: wrote {}", path.display());

    let this_run = crate::history::record(root, &document)?;
    if let Some(before) = &before {
        let records = crate::history::load(root)?;
        let (report, regressions) = crate::history::compare(&records, before, &this_run);
        println!("\n{report}");
        if regressions.is_empty() {
            println!("xtask: bench: no change beyond the noise band");
        } else {
            println!(
                "xtask: bench: {} change(s) for the worse beyond the noise band:",
                regressions.len()
            );
            for regression in &regressions {
                println!("  {regression}");
            }
        }
    }
    if record {
        crate::history::append(root, &this_run)?;
    }
    if quick {
        println!(
            "xtask: bench: a quick run leaves docs/PERFORMANCE.md alone; `cargo xtask bench` \
             refreshes it"
        );
    } else {
        let svg = root.join("docs").join("performance.svg");
        chart(&report, &svg)?;
        refresh_doc(&root.join("docs").join("PERFORMANCE.md"), &document, &table)?;
        println!(
            "xtask: bench: refreshed docs/PERFORMANCE.md and {}",
            svg.display()
        );
    }
    println!(
        "xtask: bench: measured in {:.0?} ({:.0?} with the builds)",
        measured.elapsed(),
        started.elapsed()
    );
    Ok(())
}

/// Builds `surli-probe` in release, with the workspace's lock.
pub(crate) fn build_probe(root: &Path) -> Result<Runner> {
    println!("xtask: building surli-probe (release; a cold build takes several minutes)");
    let started = Instant::now();
    let status = Command::new(crate::cargo())
        .args([
            "build",
            "--release",
            "--locked",
            "--quiet",
            "-p",
            "surli-benches",
            "--bin",
            "surli-probe",
        ])
        .current_dir(root)
        .status()
        .context("cannot start cargo")?;
    if !status.success() {
        bail!("building surli-probe failed ({status}); cargo's output above says why");
    }
    println!("xtask: built surli-probe in {:.1?}", started.elapsed());
    Ok(Runner {
        title: format!("surli {}", env!("CARGO_PKG_VERSION")),
        binary: root
            .join("target")
            .join("release")
            .join(format!("surli-probe{}", std::env::consts::EXE_SUFFIX)),
    })
}

/// Every measurement, as the binaries reported it.
fn measure(
    probe: &Runner,
    peers: &[Runner],
    demo: &Path,
    rss_cache: &Path,
    budget: &Budget,
) -> Result<Json> {
    let package = demo.display().to_string();
    // The words of one measured call; the floor runs on one instance and
    // takes no `--concurrency`.
    let call = |function: &str, args: &str, concurrency: Option<usize>| {
        let mut words = vec![
            "--package".to_owned(),
            package.clone(),
            "--seconds".to_owned(),
            budget.seconds.to_string(),
            "--warmup".to_owned(),
            budget.warmup.to_string(),
            "--function".to_owned(),
            function.to_owned(),
            "--args".to_owned(),
            args.to_owned(),
        ];
        if let Some(concurrency) = concurrency {
            words.extend(["--concurrency".to_owned(), concurrency.to_string()]);
        }
        words
    };
    let step = |what: &str| println!("xtask: bench: {what}");

    let mut calls = serde_json::Map::new();
    for (function, args) in CASES {
        let mut entry = serde_json::Map::new();
        for mode in ["values", "encoded", "fresh", "fresh-snapshot"] {
            step(&format!("surli {function}({args}), {mode}"));
            let mut words = vec!["measure".to_owned()];
            words.extend(call(function, args, Some(1)));
            words.extend(["--mode".to_owned(), mode.to_owned()]);
            entry.insert(format!("surli_{mode}"), probe.run(&words)?);
        }
        for mode in ["values", "encoded", "fresh"] {
            step(&format!("floor {function}({args}), {mode}"));
            let mut words = vec!["floor".to_owned()];
            words.extend(call(function, args, None));
            words.extend(["--mode".to_owned(), mode.to_owned()]);
            entry.insert(format!("floor_{mode}"), probe.run(&words)?);
        }
        for (peer, (_, version)) in peers.iter().zip(PEERS) {
            step(&format!("{} {function}({args})", peer.title));
            let mut words = vec!["measure".to_owned()];
            words.extend(call(function, args, Some(1)));
            entry.insert(peer_key(version), peer.run(&words)?);
        }
        calls.insert((*function).to_owned(), Json::Object(entry));
    }

    let mut throughput = serde_json::Map::new();
    for &concurrency in CONCURRENCY {
        let mut entry = serde_json::Map::new();
        step(&format!("surli add, {concurrency} callers"));
        let mut words = vec!["measure".to_owned()];
        words.extend(call("add", "[40, 2]", Some(concurrency)));
        entry.insert("surli".to_owned(), probe.run(&words)?);
        for (peer, (_, version)) in peers.iter().zip(PEERS) {
            step(&format!("{} add, {concurrency} callers", peer.title));
            let mut words = vec!["measure".to_owned()];
            words.extend(call("add", "[40, 2]", Some(concurrency)));
            entry.insert(peer_key(version), peer.run(&words)?);
        }
        throughput.insert(concurrency.to_string(), Json::Object(entry));
    }

    step("surli loads: compiled, disk cache, memory cache");
    let loads = probe.run(&[
        "loads".to_owned(),
        "--package".to_owned(),
        package.clone(),
        "--repeat".to_owned(),
        budget.loads.to_string(),
    ])?;

    let mut memory = serde_json::Map::new();
    for modules in [1, budget.modules] {
        let mut entry = serde_json::Map::new();
        step(&format!("surli RSS with {modules} module(s)"));
        entry.insert(
            "surli".to_owned(),
            probe.run(&[
                "rss".to_owned(),
                "--package".to_owned(),
                package.clone(),
                "--modules".to_owned(),
                modules.to_string(),
            ])?,
        );
        for (peer, (_, version)) in peers.iter().zip(PEERS) {
            step(&format!("{} RSS with {modules} module(s)", peer.title));
            entry.insert(
                peer_key(version),
                peer.run(&[
                    "rss".to_owned(),
                    "--packages".to_owned(),
                    modules.to_string(),
                    package.clone(),
                ])?,
            );
        }
        memory.insert(modules.to_string(), Json::Object(entry));
    }

    // The process of every load after the first on a machine: the module
    // comes from the disk cache and the compiler never runs. The first run
    // fills an empty cache; the second is the one measured.
    step("surli RSS with 1 module from the disk cache");
    if rss_cache.exists() {
        std::fs::remove_dir_all(rss_cache)
            .with_context(|| format!("cannot empty {}", rss_cache.display()))?;
    }
    let cached_rss = || {
        probe.run(&[
            "rss".to_owned(),
            "--package".to_owned(),
            package.clone(),
            "--cache-dir".to_owned(),
            rss_cache.display().to_string(),
        ])
    };
    cached_rss()?;
    let memory_cached = cached_rss()?;

    // A restart of a host serving many modules: every one from the disk
    // cache (its artifact, its package record, its description).
    let many = budget.cached_modules;
    step(&format!(
        "surli RSS with {many} modules from the disk cache"
    ));
    let many_cache = rss_cache.with_extension("many");
    if many_cache.exists() {
        std::fs::remove_dir_all(&many_cache)
            .with_context(|| format!("cannot empty {}", many_cache.display()))?;
    }
    let many_rss = || {
        probe.run(&[
            "rss".to_owned(),
            "--package".to_owned(),
            package.clone(),
            "--modules".to_owned(),
            many.to_string(),
            "--cache-dir".to_owned(),
            many_cache.display().to_string(),
        ])
    };
    many_rss()?;
    let memory_many_cached = many_rss()?;

    Ok(json!({
        "seconds_per_window": budget.seconds,
        "warmup_seconds": budget.warmup,
        "calls": calls,
        "throughput": throughput,
        "loads": loads,
        "memory": memory,
        "memory_cached": memory_cached,
        "memory_many_cached": memory_many_cached,
        "versions": {
            "surli": probe.title,
            "peers": peers.iter().map(|p| p.title.clone()).collect::<Vec<_>>(),
        },
    }))
}

fn peer_key(version: &str) -> String {
    format!("original_{}", version.replace('.', ""))
}

/// One line of the table: a figure for surli, each original and the floor
/// (where there is one), and whether smaller is better.
struct Row {
    what: String,
    unit: &'static str,
    surli: Option<f64>,
    original_031: Option<f64>,
    original_065: Option<f64>,
    floor: Option<f64>,
}

impl Row {
    fn to_json(&self) -> Json {
        json!({
            "what": self.what,
            "unit": self.unit,
            "surli": self.surli,
            "original_0.3.1": self.original_031,
            "original_0.6.5": self.original_065,
            "floor": self.floor,
            "surli_per_0.3.1": ratio(self.surli, self.original_031),
            "surli_per_0.6.5": ratio(self.surli, self.original_065),
            "surli_per_floor": ratio(self.surli, self.floor),
        })
    }
}

fn ratio(ours: Option<f64>, theirs: Option<f64>) -> Option<f64> {
    match (ours, theirs) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// A number at `pointer` in `json`.
fn at(json: &Json, pointer: &str) -> Option<f64> {
    json.pointer(pointer).and_then(Json::as_f64)
}

fn median(values: &[Option<f64>]) -> Option<f64> {
    let mut present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        return None;
    }
    present.sort_by(f64::total_cmp);
    Some(present[present.len() / 2])
}

fn rows(report: &Json) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let calls = report.get("calls").context("the report has no calls")?;
    // Every measure run starts with a cold load; the peers' load is the
    // median over their runs.
    let peer_loads = |key: &str| {
        let loads: Vec<Option<f64>> = CASES
            .iter()
            .map(|(function, _)| at(calls, &format!("/{function}/{key}/load_ms")))
            .collect();
        median(&loads)
    };
    rows.push(Row {
        what: "load, compiling".to_owned(),
        unit: "ms",
        surli: at(report, "/loads/compiled_ms"),
        original_031: peer_loads("original_031"),
        original_065: peer_loads("original_065"),
        floor: None,
    });
    rows.push(Row {
        what: "load, from the disk cache".to_owned(),
        unit: "ms",
        surli: at(report, "/loads/disk_cache_ms"),
        // The originals compile on every load: that is their figure.
        original_031: peer_loads("original_031"),
        original_065: peer_loads("original_065"),
        floor: None,
    });
    rows.push(Row {
        what: "load, from the memory cache".to_owned(),
        unit: "ms",
        surli: at(report, "/loads/memory_cache_ms"),
        original_031: peer_loads("original_031"),
        original_065: peer_loads("original_065"),
        floor: None,
    });
    rows.push(Row {
        what: "first call after load (noop)".to_owned(),
        unit: "µs",
        surli: at(calls, "/noop/surli_values/first_call_us"),
        original_031: at(calls, "/noop/original_031/first_call_us"),
        original_065: at(calls, "/noop/original_065/first_call_us"),
        floor: None,
    });
    rows.push(Row {
        what: "first call after a disk-cache load (noop)".to_owned(),
        unit: "µs",
        surli: at(report, "/loads/first_call_after_disk_cache_us"),
        original_031: None,
        original_065: None,
        floor: None,
    });
    for (function, _) in CASES {
        let p = |key: &str, q: &str| at(calls, &format!("/{function}/{key}/call_us/{q}"));
        rows.push(Row {
            what: format!("{function}: pooled call p50, Value args"),
            unit: "µs",
            surli: p("surli_values", "p50"),
            original_031: p("original_031", "p50"),
            original_065: p("original_065", "p50"),
            floor: p("floor_values", "p50"),
        });
        rows.push(Row {
            what: format!("{function}: pooled call p99, Value args"),
            unit: "µs",
            surli: p("surli_values", "p99"),
            original_031: p("original_031", "p99"),
            original_065: p("original_065", "p99"),
            floor: p("floor_values", "p99"),
        });
        rows.push(Row {
            what: format!("{function}: pooled call p50, pre-encoded"),
            unit: "µs",
            surli: p("surli_encoded", "p50"),
            original_031: None,
            original_065: None,
            floor: p("floor_encoded", "p50"),
        });
        rows.push(Row {
            what: format!("{function}: fresh instance per call p50"),
            unit: "µs",
            surli: p("surli_fresh", "p50"),
            original_031: None,
            original_065: None,
            floor: p("floor_fresh", "p50"),
        });
        rows.push(Row {
            what: format!("{function}: fresh instance per call from a snapshot p50"),
            unit: "µs",
            surli: p("surli_fresh-snapshot", "p50"),
            original_031: None,
            original_065: None,
            floor: p("floor_fresh", "p50"),
        });
    }
    let throughput = report
        .get("throughput")
        .context("the report has no throughput")?;
    let floor_add = at(calls, "/add/floor_values/calls_per_second");
    for &concurrency in CONCURRENCY {
        let t = |key: &str| {
            at(
                throughput,
                &format!("/{concurrency}/{key}/calls_per_second"),
            )
        };
        rows.push(Row {
            what: format!("add: calls/s, {concurrency} caller(s)"),
            unit: "1/s",
            surli: t("surli"),
            original_031: t("original_031"),
            original_065: t("original_065"),
            // The floor is one instance on one thread.
            floor: (concurrency == 1).then_some(floor_add).flatten(),
        });
    }
    let memory = report.get("memory").context("the report has no memory")?;
    let mib = |bytes: Option<f64>| bytes.map(|b| b / (1024.0 * 1024.0));
    let many = memory
        .as_object()
        .and_then(|m| m.keys().filter_map(|k| k.parse::<usize>().ok()).max())
        .unwrap_or(1);
    let r = |modules: usize, key: &str, field: &str| {
        mib(at(memory, &format!("/{modules}/{key}/{field}")))
    };
    rows.push(Row {
        what: "RSS, one module loaded with an idle instance".to_owned(),
        unit: "MiB",
        surli: r(1, "surli", "rss_bytes_after_one_instance_each"),
        original_031: r(1, "original_031", "rss_bytes_after_one_instance_each"),
        original_065: r(1, "original_065", "rss_bytes_after_one_instance_each"),
        floor: None,
    });
    rows.push(Row {
        what: "RSS, the same from the disk cache (no compile in the process)".to_owned(),
        unit: "MiB",
        surli: mib(at(
            report,
            "/memory_cached/rss_bytes_after_one_instance_each",
        )),
        original_031: None,
        original_065: None,
        floor: None,
    });
    // What each module beyond the first adds: the difference between the
    // run with many and the run with one, so the first load's own costs
    // (a compile's memory, the runtime itself) are not spread over the
    // others.
    let per = |key: &str| {
        let one = at(
            memory,
            &format!("/1/{key}/rss_bytes_after_one_instance_each"),
        )?;
        let all = at(
            memory,
            &format!("/{many}/{key}/rss_bytes_after_one_instance_each"),
        )?;
        (many > 1).then(|| mib(Some((all - one) / (many - 1) as f64)))?
    };
    let cached_many = at(report, "/memory_many_cached/copies").unwrap_or(0.0);
    rows.push(Row {
        what: format!("load {cached_many:.0} modules from the disk cache, in all"),
        unit: "ms",
        surli: at(report, "/memory_many_cached/load_ms_total"),
        original_031: None,
        original_065: None,
        floor: None,
    });
    rows.push(Row {
        what: format!(
            "RSS per further module, {cached_many:.0} from the disk cache, an idle instance each"
        ),
        unit: "MiB",
        surli: (|| {
            let one = at(report, "/memory_cached/rss_bytes_after_one_instance_each")?;
            let all = at(
                report,
                "/memory_many_cached/rss_bytes_after_one_instance_each",
            )?;
            (cached_many > 1.0).then(|| (all - one) / (cached_many - 1.0) / (1024.0 * 1024.0))
        })(),
        original_031: None,
        original_065: None,
        floor: None,
    });
    rows.push(Row {
        what: format!("RSS per further module, {many} loaded, an idle instance each"),
        unit: "MiB",
        surli: per("surli"),
        original_031: per("original_031"),
        original_065: per("original_065"),
        floor: None,
    });
    Ok(rows)
}

fn figure(value: Option<f64>, unit: &str) -> String {
    match value {
        None => "–".to_owned(),
        Some(v) if unit == "1/s" => format!("{:.0}k", v / 1000.0),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn times(value: Option<f64>) -> String {
    match value {
        None => "–".to_owned(),
        // Small ratios (a load from the cache against a compile) keep
        // their first significant digits.
        Some(v) if v < 0.1 => format!("{v:.4}×"),
        Some(v) => format!("{v:.2}×"),
    }
}

/// The table as Markdown, which also reads well on a terminal.
fn render_table(rows: &[Row]) -> String {
    let header = [
        "measure",
        "unit",
        "surli",
        "0.3.1",
        "0.6.5",
        "floor",
        "surli / 0.3.1",
        "surli / 0.6.5",
        "surli / floor",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.what.clone(),
                row.unit.to_owned(),
                figure(row.surli, row.unit),
                figure(row.original_031, row.unit),
                figure(row.original_065, row.unit),
                figure(row.floor, row.unit),
                times(ratio(row.surli, row.original_031)),
                times(ratio(row.surli, row.original_065)),
                times(ratio(row.surli, row.floor)),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        out.push('|');
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            // Text left, figures right.
            if i < 2 {
                let _ = write!(out, " {cell}{} |", " ".repeat(pad));
            } else {
                let _ = write!(out, " {}{cell} |", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(&mut out, &header);
    out.push('|');
    for (i, width) in widths.iter().enumerate() {
        let dashes = "-".repeat(*width);
        if i < 2 {
            let _ = write!(out, " {dashes} |");
        } else {
            let _ = write!(out, " {}: |", &dashes[..dashes.len().saturating_sub(1)]);
        }
    }
    out.push('\n');
    for row in &cells {
        let row: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&mut out, &row);
    }
    out
}

/// The p50 latencies of the pooled calls, side by side, as SVG.
fn chart(report: &Json, path: &Path) -> Result<()> {
    use plotters::prelude::*;

    let series: [(&str, &str, RGBColor); 4] = [
        ("surli", "surli_values", RGBColor(0xd6, 0x27, 0x28)),
        ("original 0.3.1", "original_031", RGBColor(0x7f, 0x7f, 0x7f)),
        ("original 0.6.5", "original_065", RGBColor(0x1f, 0x77, 0xb4)),
        ("wasmtime floor", "floor_values", RGBColor(0x2c, 0xa0, 0x2c)),
    ];
    let calls = report.get("calls").context("the report has no calls")?;
    let value = |function: &str, key: &str| {
        at(calls, &format!("/{function}/{key}/call_us/p50")).unwrap_or(0.0)
    };
    let top = CASES
        .iter()
        .flat_map(|(function, _)| series.iter().map(|(_, key, _)| value(function, key)))
        .fold(0.0_f64, f64::max)
        * 1.15;
    let groups = CASES.len();
    let slot = series.len() + 1;

    let root = SVGBackend::new(path, (860, 440)).into_drawing_area();
    let draw = |e: DrawingAreaErrorKind<_>| anyhow::anyhow!("cannot draw the chart: {e:?}");
    root.fill(&WHITE).map_err(draw)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Pooled call latency, p50 (µs, lower is better), Value arguments",
            ("sans-serif", 18),
        )
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..(groups * slot) as f64, 0.0..top.max(1.0))
        .map_err(draw)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups * slot * 2)
        .x_label_formatter(&|x| {
            // A label under the middle of each group.
            let position = *x / slot as f64;
            let group = position.floor() as usize;
            let middle = (position - position.floor() - 0.5 + 0.5 / slot as f64).abs() < 0.05;
            match CASES.get(group) {
                Some((name, _)) if middle => (*name).to_owned(),
                _ => String::new(),
            }
        })
        .y_desc("µs")
        .draw()
        .map_err(draw)?;
    for (index, (label, key, colour)) in series.iter().enumerate() {
        let colour = *colour;
        let bars: Vec<Rectangle<(f64, f64)>> = CASES
            .iter()
            .enumerate()
            .map(|(group, (function, _))| {
                let x = (group * slot + index) as f64 + 0.5;
                Rectangle::new([(x, 0.0), (x + 0.9, value(function, key))], colour.filled())
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(draw)?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(draw)?;
    root.present().map_err(draw)?;
    Ok(())
}

const BEGIN: &str = "<!-- bench:begin (written by `cargo xtask bench`; edit around it) -->";
const END: &str = "<!-- bench:end -->";

/// Rewrites the part of PERFORMANCE.md between the markers.
fn refresh_doc(path: &Path, document: &Json, table: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        bail!(
            "{} has lost its markers ({BEGIN} ... {END}); put them back where the figures go",
            path.display()
        );
    };
    let machine = &document["machine"];
    let mut generated = String::new();
    let _ = writeln!(generated, "{BEGIN}\n");
    let _ = writeln!(
        generated,
        "Last full run: {}, on {} ({} CPUs, {}), `cargo xtask bench`. Each figure comes from its own \
         process; calls are timed one by one over {} s windows after a {} s warm-up.\n",
        document["date"].as_str().unwrap_or("?"),
        machine["cpu"].as_str().unwrap_or("an unknown CPU"),
        machine["cpus"],
        machine["kernel"].as_str().unwrap_or("?"),
        document["raw"]["seconds_per_window"],
        document["raw"]["warmup_seconds"],
    );
    generated.push_str(table);
    let _ = writeln!(
        generated,
        "\n![p50 latency of pooled calls](performance.svg)\n\n{END}"
    );
    let refreshed = format!(
        "{}{}\n{}",
        &text[..start],
        generated,
        &text[end + END.len()..].trim_start_matches('\n')
    );
    std::fs::write(path, refreshed).with_context(|| format!("cannot write {}", path.display()))
}

/// The machine the figures come from, as far as Linux tells.
pub(crate) fn machine() -> Json {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|release| format!("Linux {}", release.trim()));
    json!({
        "cpu": cpu,
        "cpus": std::thread::available_parallelism().map(usize::from).unwrap_or(1),
        "kernel": kernel,
    })
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
