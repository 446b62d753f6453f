//! `cargo xtask surrealdb`: SurrealDB 3.3.5 on surli, checked against
//! SurrealDB 3.3.5 on the original runtime.
//!
//! `compat/` is a Cargo workspace of its own: the compatibility crate
//! (`surrealism-runtime` 0.6.5 over surli) and `surli-compat-surrealdb`,
//! SurrealDB built with `[patch.crates-io] surrealism-runtime` pointing at
//! it. `compat/original/` builds the same cases against the stock SurrealDB
//! and the original 0.6.5. This command
//!
//! 1. builds the fixtures, then runs `compat/`'s tests (what `cargo xtask
//!    test` runs too);
//! 2. runs every case through the patched build and through the original
//!    (`surrealdb-cases`, one JSON line per case; each case under its own
//!    timeout, since the original hangs on re-entry and panics on an
//!    inverted KV range);
//! 3. prints the answers side by side and fails if two differ where
//!    `docs/MIGRATING.md` does not say they may ([`DOCUMENTED`]).
//!
//! With `--no-original` it stops after the patched run (the original takes
//! a cold build of its own, about ten minutes).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;

use crate::{CLIPPY, cargo, fixtures, step_in};

/// Cases whose answers differ from the original's on purpose, with the
/// reason `docs/MIGRATING.md` gives. Anything else that differs fails.
const DOCUMENTED: &[(&str, &str)] = &[
    (
        "reentry_pool_1",
        "a module calling itself with every instance held by its own call chain is refused; 0.6.5 waits forever",
    ),
    (
        "kv_inverted_keys",
        "an inverted KV range is empty; 0.6.5's store panics",
    ),
    (
        "kv_inverted_values",
        "an inverted KV range is empty; 0.6.5's store panics",
    ),
    (
        "kv_inverted_entries",
        "an inverted KV range is empty; 0.6.5's store panics",
    ),
    (
        "kv_inverted_count",
        "an inverted KV range is empty; 0.6.5's store panics",
    ),
    (
        "kv_inverted_del_rng",
        "an inverted KV range is empty; 0.6.5's store panics",
    ),
    (
        "kv_empty_excluded_range",
        "a range collapsed to one excluded key is empty; 0.6.5's store panics",
    ),
    (
        "trap_then_call",
        "error texts: a trap says what trapped (surli's wording)",
    ),
    (
        "stack_overflow",
        "error texts: a trap says what trapped (surli's wording)",
    ),
    (
        "memory_limit",
        "error texts: running out of memory says which limit (surli's wording)",
    ),
    (
        "run_functions",
        "error texts: a refused `run` names the function and the capability to add (surli's wording)",
    ),
    (
        "bad_init",
        "error texts: a failed init names the module (surli's wording)",
    ),
];

/// One case's result from one build.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    outcome: String,
    answer: String,
}

pub(crate) fn run(root: &Path, original: bool) -> Result<()> {
    let started = Instant::now();
    fixtures::run(root)?;
    let compat = root.join("compat");
    test(root)?;
    let patched = cases(&compat, "SurrealDB 3.3.5 on surli")?;
    if !original {
        print_one(&patched);
        println!(
            "xtask: surrealdb: {} cases on surli in {:.0?} (the original was not run)",
            patched.len(),
            started.elapsed()
        );
        return Ok(());
    }
    let stock = cases(
        &compat.join("original"),
        "SurrealDB 3.3.5 on the original 0.6.5",
    )?;
    compare(&patched, &stock)?;
    println!("xtask: surrealdb: done in {:.0?}", started.elapsed());
    Ok(())
}

/// The compat workspace's format check, clippy and tests: what
/// `cargo xtask test` runs for it.
pub(crate) fn test(root: &Path) -> Result<()> {
    let compat = root.join("compat");
    step_in(
        &compat,
        "compat: format check",
        &["fmt", "--all", "--check"],
    )?;
    step_in(&compat, "compat: clippy", CLIPPY)?;
    step_in(
        &compat,
        "compat: tests",
        &["test", "--workspace", "--locked"],
    )?;
    patched_everywhere(&compat)
}

/// Checks that every `surrealism-runtime` in compat/'s build is the
/// compatibility crate, and that SurrealDB's core is what depends on it:
/// the patch line took, and no registry copy of the original slipped in.
fn patched_everywhere(compat: &Path) -> Result<()> {
    let output = Command::new(cargo())
        .args([
            "tree",
            "--locked",
            "-e",
            "normal",
            "-i",
            "surrealism-runtime",
        ])
        .current_dir(compat)
        .output()
        .context("cannot run cargo tree in compat/")?;
    let tree = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "cargo tree -i surrealism-runtime failed in compat/: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let copies: Vec<&str> = tree
        .lines()
        .filter(|line| line.contains("surrealism-runtime v"))
        .collect();
    let foreign = copies
        .iter()
        .any(|line| !line.contains("compat/surrealism-runtime"));
    if copies.is_empty() || foreign {
        bail!("compat/ must build only the patched surrealism-runtime; cargo tree shows:\n{tree}");
    }
    if !tree.contains("surrealdb-core v3.3.5") {
        bail!("SurrealDB's core does not depend on the patched surrealism-runtime:\n{tree}");
    }
    println!(
        "xtask: compat: surrealism-runtime is the patched crate everywhere, surrealdb-core included"
    );
    Ok(())
}

/// Runs every case through the build in `dir`.
fn cases(dir: &Path, title: &str) -> Result<BTreeMap<String, Answer>> {
    println!(
        "xtask: surrealdb: running the cases on {title} ({})",
        dir.display()
    );
    let output = Command::new(cargo())
        .args(["run", "--locked", "--quiet", "--bin", "surrealdb-cases"])
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot start cargo in {}", dir.display()))?;
    if !output.status.success() {
        bail!(
            "surrealdb-cases failed in {} ({}): {}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut answers = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let json: Json = serde_json::from_str(line)
            .with_context(|| format!("surrealdb-cases printed a line that is not JSON: {line}"))?;
        let field = |name: &str| json[name].as_str().unwrap_or_default().to_owned();
        answers.insert(
            field("case"),
            Answer {
                outcome: field("outcome"),
                answer: field("answer"),
            },
        );
    }
    if answers.is_empty() {
        bail!("surrealdb-cases in {} ran no case", dir.display());
    }
    Ok(answers)
}

fn first_line(text: &str, width: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut shown: String = line.chars().take(width).collect();
    if line.chars().count() > width || text.lines().nth(1).is_some() {
        shown.push('…');
    }
    shown
}

/// The first line where two answers differ (each answer's last line when
/// one is a prefix of the other).
fn first_difference<'a>(ours: &'a str, theirs: &'a str) -> (&'a str, &'a str) {
    let mut left = ours.lines();
    let mut right = theirs.lines();
    loop {
        match (left.next(), right.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (a, b) => {
                return (
                    a.unwrap_or("(no more lines)"),
                    b.unwrap_or("(no more lines)"),
                );
            }
        }
    }
}

fn print_one(answers: &BTreeMap<String, Answer>) {
    for (case, answer) in answers {
        println!(
            "  {case:<26} {:<8} {}",
            answer.outcome,
            first_line(&answer.answer, 80)
        );
    }
}

/// Prints both builds' answers side by side; fails on a difference that is
/// not documented, a documented one that no longer differs, or a case only
/// one build ran.
fn compare(patched: &BTreeMap<String, Answer>, stock: &BTreeMap<String, Answer>) -> Result<()> {
    let documented: BTreeMap<&str, &str> = DOCUMENTED.iter().copied().collect();
    let mut undocumented = Vec::new();
    let mut stale = Vec::new();
    println!("\n  {:<26} {:<9} {:<9} verdict", "case", "surli", "0.6.5");
    let names: std::collections::BTreeSet<&String> = patched.keys().chain(stock.keys()).collect();
    for case in names {
        let (Some(ours), Some(theirs)) = (patched.get(case), stock.get(case)) else {
            println!("  {case:<26} ran on one build only");
            undocumented.push(format!("{case} (ran on one build only)"));
            continue;
        };
        let same = ours == theirs;
        let verdict = match (same, documented.get(case.as_str())) {
            (true, None) => "same".to_owned(),
            (true, Some(_)) => {
                stale.push(case.clone());
                "same (documented as different)".to_owned()
            }
            (false, Some(reason)) => format!("differs, documented: {reason}"),
            (false, None) => {
                undocumented.push(case.clone());
                "DIFFERS, undocumented".to_owned()
            }
        };
        println!(
            "  {case:<26} {:<9} {:<9} {verdict}",
            ours.outcome, theirs.outcome
        );
        if !same {
            let (ours, theirs) = first_difference(&ours.answer, &theirs.answer);
            println!("      surli: {}", first_line(ours, 110));
            println!("      0.6.5: {}", first_line(theirs, 110));
        }
    }
    if !stale.is_empty() {
        bail!(
            "documented differences that no longer differ (remove them from DOCUMENTED in \
             xtask/src/surrealdb.rs and from docs/MIGRATING.md): {}",
            stale.join(", ")
        );
    }
    if !undocumented.is_empty() {
        bail!(
            "answers differ from the original's where docs/MIGRATING.md says nothing: {}",
            undocumented.join(", ")
        );
    }
    Ok(())
}
