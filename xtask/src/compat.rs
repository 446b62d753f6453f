//! `cargo xtask compat`: the same calls through surli and through both
//! original runtimes, which must give the same answers.
//!
//! The originals live in `benches/peer/` (one cargo workspace each, so
//! surli's own builds never compile their wasmtime): `runtime-031` is
//! `surrealism-runtime` 0.3.1 on wasmtime 43, `runtime-065` is 0.6.5 on
//! wasmtime 48. This builds both in release, then sends every case to each
//! one's `peer-bench calls` (one process per runtime, each package loaded
//! once, so sequences such as two KV bumps see their state) and makes the
//! same calls through surli in this process. Arguments are JSON read
//! against the kinds the function declares, on each side by its own reader.
//!
//! Every fixture package is written by surli (`cargo xtask fixtures` packs
//! it with `PackageWriter` and writes its `exports.toml` from surli's own
//! introspection), and one more is written here: the original's baseline
//! package, read and packed again by surli. So each case that answers in an
//! original also shows that a package surli wrote loads and runs there.
//!
//! A case passes when all three answers agree and match what the case
//! expects. Answers agree when both are values and equal as JSON (each
//! side's `surrealdb-types` `into_json_value`), or both are guest errors
//! with the same text, or both failed the same way otherwise (a trap is a
//! trap: the wording of host errors is each runtime's own).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value as Json, json};
use surli::package::{Package, PackageWriter, ReadOptions};
use surli::types::Kind;
use surli::{CallError, Module, NullContext, Runtime, RuntimeOptions, Value};

/// The original runtimes: the directory under `benches/peer/` and the
/// column title.
pub(crate) const PEERS: &[(&str, &str)] = &[("runtime-031", "0.3.1"), ("runtime-065", "0.6.5")];

/// One call and the answer it must give, as the JSON `peer-bench` prints:
/// `{"ok": value}`, `{"err": text, "kind": "guest"}`, or `{"kind": k}` for
/// a failure whose text is the host's own (`trap`, `timeout`).
struct Case {
    package: &'static str,
    function: Option<&'static str>,
    args: &'static str,
    expected: &'static str,
}

const fn case(
    package: &'static str,
    function: &'static str,
    args: &'static str,
    expected: &'static str,
) -> Case {
    Case {
        package,
        function: Some(function),
        args,
        expected,
    }
}

/// Packages by short name: fixtures are `target/fixtures/NAME.surli`;
/// `baseline` is the one the original runtime wrote, `repacked` the same
/// contents written again by surli.
const BASELINE: &str = "baseline";
const REPACKED: &str = "repacked";

const CASES: &[Case] = &[
    Case {
        package: "demo",
        function: None,
        args: r#"["surli"]"#,
        expected: r#"{"ok": "Hello, surli!"}"#,
    },
    case("demo", "add", "[40, 2]", r#"{"ok": 42}"#),
    case(
        "demo",
        "add",
        "[9223372036854775807, 1]",
        r#"{"ok": -9223372036854775808}"#,
    ),
    case("demo", "noop", "[]", r#"{"ok": null}"#),
    case(
        "demo",
        "concat",
        r#"["Surreal", "ism"]"#,
        r#"{"ok": "Surrealism"}"#,
    ),
    case("demo", "fib", "[90]", r#"{"ok": 2880067194370816120}"#),
    case("demo", "counter::bump", "[5]", r#"{"ok": 5}"#),
    case("demo", "counter::bump", "[5]", r#"{"ok": 10}"#),
    case(
        "demo",
        "add",
        "[1]",
        r#"{"err": "Expected (int, int), found 1 arguments", "kind": "guest"}"#,
    ),
    case(
        "demo",
        "nope",
        "[]",
        r#"{"err": "unknown function: nope", "kind": "guest"}"#,
    ),
    case("kinds", "int", "[-7]", r#"{"ok": -7}"#),
    case("kinds", "string", r#"["héllo ✓"]"#, r#"{"ok": "héllo ✓"}"#),
    case("kinds", "bool", "[true]", r#"{"ok": true}"#),
    case("kinds", "float", "[1.5]", r#"{"ok": 1.5}"#),
    case("kinds", "array_int", "[[1, 2, 3]]", r#"{"ok": [1, 2, 3]}"#),
    case(
        "kinds",
        "object",
        r#"[{"a": 1, "b": "x", "c": [true, null]}]"#,
        r#"{"ok": {"a": 1, "b": "x", "c": [true, null]}}"#,
    ),
    case(
        "kinds",
        "datetime",
        r#"["2024-01-02T03:04:05.5Z"]"#,
        r#"{"ok": "2024-01-02T03:04:05.500Z"}"#,
    ),
    case("kinds", "duration", r#"["1h30m"]"#, r#"{"ok": "1h30m"}"#),
    case("kinds", "option_int", "[7]", r#"{"ok": 7}"#),
    case("kinds", "option_int", "[null]", r#"{"ok": null}"#),
    case(
        "kinds",
        "record",
        r#"["person:tobie"]"#,
        r#"{"ok": "person:tobie"}"#,
    ),
    case(
        "kinds",
        "uuid",
        r#"["67e55044-10b1-426f-9247-bb680e5fe0c8"]"#,
        r#"{"ok": "67e55044-10b1-426f-9247-bb680e5fe0c8"}"#,
    ),
    case("kinds", "decimal", r#"["12.50"]"#, r#"{"ok": "12.50"}"#),
    case(
        "kinds",
        "fail",
        "[]",
        r#"{"err": "kinds: failed on purpose", "kind": "guest"}"#,
    ),
    case(
        "kinds",
        "divide",
        "[1, 0]",
        r#"{"err": "division by zero", "kind": "guest"}"#,
    ),
    case(
        "kinds",
        "nested::deeper::echo",
        r#"["deep"]"#,
        r#"{"ok": "deep"}"#,
    ),
    case(
        "kinds-pinned",
        "duration",
        r#"["2d3h"]"#,
        r#"{"ok": "2d3h"}"#,
    ),
    case(
        "kinds-pinned",
        "datetime",
        r#"["2024-01-01T00:00:00Z"]"#,
        r#"{"ok": "2024-01-01T00:00:00Z"}"#,
    ),
    case("sdk065", "add", "[2, 3]", r#"{"ok": 5}"#),
    case(
        "sdk065",
        "hello",
        r#"["peer"]"#,
        r#"{"ok": "hello peer from surrealism 0.6.5"}"#,
    ),
    case(
        "hostcalls",
        "read_file",
        r#"["/hello.txt"]"#,
        r#"{"ok": "hello from fs\n"}"#,
    ),
    case(
        "hostcalls",
        "read_file",
        r#"["/nested/deeper/leaf.txt"]"#,
        r#"{"ok": "two levels down\n"}"#,
    ),
    case("hostcalls", "init_value", "[]", r#"{"ok": 42}"#),
    case("hostcalls", "kv::set", r#"["k", 7]"#, r#"{"ok": null}"#),
    case("hostcalls", "kv::get", r#"["k"]"#, r#"{"ok": 7}"#),
    case("hostile", "panic_now", "[]", r#"{"kind": "trap"}"#),
    case(BASELINE, "add", "[2, 3]", r#"{"ok": 5}"#),
    case(BASELINE, "fib", "[90]", r#"{"ok": 2880067194370816120}"#),
    case(
        BASELINE,
        "kv_roundtrip",
        r#"["answer", 42]"#,
        r#"{"ok": 42}"#,
    ),
    case(BASELINE, "alloc", "[512]", r#"{"kind": "trap"}"#),
    case(REPACKED, "concat", r#"["a", "b"]"#, r#"{"ok": "ab"}"#),
    case(REPACKED, "noop", "[]", r#"{"ok": null}"#),
];

pub(crate) fn run(root: &Path) -> Result<()> {
    let started = Instant::now();
    crate::fixtures::run(root)?;
    let packages = Packages::prepare(root)?;

    let mut peers = Vec::new();
    for (dir, title) in PEERS {
        let binary = build_peer(root, dir)?;
        let answers =
            peer_answers(&binary, &packages).with_context(|| format!("the {title} peer failed"))?;
        peers.push(answers);
    }

    let executor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start an async runtime")?;
    let ours = executor.block_on(surli_answers(&packages))?;

    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let expected: Json = serde_json::from_str(case.expected)
            .with_context(|| format!("case {} has a bad expectation", i + 1))?;
        let answers: Vec<&Json> = std::iter::once(&ours[i])
            .chain(peers.iter().map(|answers| &answers[i]))
            .collect();
        let verdicts: Vec<Verdict> = answers.iter().map(|a| Verdict::of(a)).collect();
        let agree = verdicts.windows(2).all(|pair| pair[0] == pair[1]);
        let as_expected = verdicts[0] == Verdict::of(&expected);
        let label = label(case);
        let mark = match (agree, as_expected) {
            (true, true) => "yes",
            (true, false) => "yes, not as expected",
            (false, _) => "NO",
        };
        if !agree || !as_expected {
            failures.push(format!(
                "{label}: expected {expected}; surli {}; 0.3.1 {}; 0.6.5 {}",
                answers[0], answers[1], answers[2]
            ));
        }
        let mut row = vec![label];
        row.extend(answers.iter().map(|a| cell(a)));
        row.push(mark.to_owned());
        rows.push(row);
    }
    print_table(&rows);

    println!(
        "xtask: compat: {} cases in {:.1?}; every fixture package was written by surli's \
         PackageWriter, `repacked` is the original's baseline package written again by surli",
        CASES.len(),
        started.elapsed()
    );
    if !failures.is_empty() {
        for failure in &failures {
            println!("xtask: compat: {failure}");
        }
        bail!(
            "{} of {} cases disagree or differ from what they expect",
            failures.len(),
            CASES.len()
        );
    }
    println!("xtask: compat: surli, 0.3.1 and 0.6.5 agree on every case");
    Ok(())
}

/// The package files, by the short names the cases use.
struct Packages {
    files: Vec<(&'static str, PathBuf)>,
}

impl Packages {
    fn prepare(root: &Path) -> Result<Self> {
        let fixtures = root.join("target").join("fixtures");
        let baseline = root.join("testdata").join("original-0.3.1-baseline.surli");
        let repacked = root.join("target").join("compat").join("repacked.surli");
        repack(&baseline, &repacked)?;
        let mut files = Vec::new();
        for case in CASES {
            if files.iter().any(|(name, _)| *name == case.package) {
                continue;
            }
            let path = match case.package {
                BASELINE => baseline.clone(),
                REPACKED => repacked.clone(),
                name => fixtures.join(format!("{name}.surli")),
            };
            files.push((case.package, path));
        }
        Ok(Self { files })
    }

    fn path(&self, name: &str) -> &Path {
        self.files
            .iter()
            .find(|(short, _)| *short == name)
            .map(|(_, path)| path.as_path())
            .unwrap_or(Path::new(""))
    }
}

/// Reads a package and writes its config, module and manifest again with
/// surli's writer.
fn repack(from: &Path, to: &Path) -> Result<()> {
    let package = Package::read_file(from, &ReadOptions::default())
        .with_context(|| format!("cannot read {}", from.display()))?;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    PackageWriter::new(package.config(), package.wasm(), package.exports())
        .write_file(to)
        .with_context(|| format!("cannot write {}", to.display()))?;
    Ok(())
}

/// Builds one peer workspace in release (its own lock, its own target
/// directory beside its manifest) and returns its binary.
pub(crate) fn build_peer(root: &Path, dir: &str) -> Result<PathBuf> {
    let workspace = root.join("benches").join("peer").join(dir);
    println!("xtask: building benches/peer/{dir} (release; a cold build takes several minutes)");
    let started = Instant::now();
    let status = Command::new(crate::cargo())
        .args(["build", "--release", "--locked", "--quiet"])
        .current_dir(&workspace)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .with_context(|| format!("cannot start cargo in {}", workspace.display()))?;
    if !status.success() {
        bail!("building benches/peer/{dir} failed ({status}); cargo's output above says why");
    }
    println!(
        "xtask: built benches/peer/{dir} in {:.1?}",
        started.elapsed()
    );
    Ok(workspace
        .join("target")
        .join("release")
        .join(format!("peer-bench{}", std::env::consts::EXE_SUFFIX)))
}

/// Every case through one peer's `calls` command: one request line per
/// case in, one answer line per case out.
fn peer_answers(binary: &Path, packages: &Packages) -> Result<Vec<Json>> {
    let mut requests = String::new();
    for case in CASES {
        let args: Json = serde_json::from_str(case.args)
            .with_context(|| format!("bad arguments in case {}", label(case)))?;
        let request = json!({
            "package": packages.path(case.package).display().to_string(),
            "function": case.function,
            "args": args,
        });
        requests.push_str(&request.to_string());
        requests.push('\n');
    }
    let mut child = Command::new(binary)
        .arg("calls")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    child
        .stdin
        .take()
        .context("no stdin for the peer")?
        .write_all(requests.as_bytes())
        .context("cannot send the cases to the peer")?;
    let output = child
        .wait_with_output()
        .context("the peer did not finish")?;
    if !output.status.success() {
        bail!("{} exited with {}", binary.display(), output.status);
    }
    let answers = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).with_context(|| format!("not JSON: {line}")))
        .collect::<Result<Vec<Json>>>()?;
    if answers.len() != CASES.len() {
        bail!(
            "{} answered {} of {} cases",
            binary.display(),
            answers.len(),
            CASES.len()
        );
    }
    Ok(answers)
}

/// Every case through surli, each package loaded once and kept, in the
/// shape `peer-bench` prints.
async fn surli_answers(packages: &Packages) -> Result<Vec<Json>> {
    let runtime = Runtime::new(RuntimeOptions::default())?;
    let mut modules: Vec<(&str, Module)> = Vec::new();
    let mut answers = Vec::new();
    for case in CASES {
        if !modules.iter().any(|(name, _)| *name == case.package) {
            let path = packages.path(case.package);
            let package = Package::read_file(path, &ReadOptions::default())
                .with_context(|| format!("cannot read {}", path.display()))?;
            let module = runtime
                .load(package)
                .await
                .with_context(|| format!("cannot load {}", path.display()))?;
            modules.push((case.package, module));
        }
        let module = modules
            .iter()
            .find(|(name, _)| *name == case.package)
            .map(|(_, module)| module)
            .context("a module went missing")?;
        let args: Json = serde_json::from_str(case.args)
            .with_context(|| format!("bad arguments in case {}", label(case)))?;
        let answer = match surli_arguments(module, case.function, &args) {
            Err(error) => json!({ "err": error, "kind": "args" }),
            Ok(values) => {
                let outcome = module
                    .call(Arc::new(NullContext), case.function, values)
                    .await;
                match outcome {
                    Ok(value) => json!({ "ok": surli_values::to_json(value) }),
                    Err(CallError::Guest { message }) => json!({ "err": message, "kind": "guest" }),
                    Err(error) => json!({ "err": error.to_string(), "kind": error.kind() }),
                }
            }
        };
        answers.push(answer);
    }
    Ok(answers)
}

/// Each JSON argument read against the kind declared at its position
/// (`any` past them), the count left for the guest to check, as the peers
/// do.
fn surli_arguments(
    module: &Module,
    function: Option<&str>,
    args: &Json,
) -> Result<Vec<Value>, String> {
    let declared: Vec<Kind> = module
        .functions()
        .iter()
        .find(|signature| signature.name.as_deref() == function)
        .map(|signature| {
            signature
                .args
                .iter()
                .map(|(_, kind)| kind.clone())
                .collect()
        })
        .unwrap_or_default();
    let items = args.as_array().map(Vec::as_slice).unwrap_or_default();
    items
        .iter()
        .enumerate()
        .map(|(i, json)| {
            let kind = declared.get(i).cloned().unwrap_or(Kind::Any);
            surli_values::value_from_json(json, &kind)
                .map_err(|error| format!("argument {}: {error}", i + 1))
        })
        .collect()
}

/// What an answer means for comparison.
#[derive(Debug, PartialEq)]
enum Verdict {
    Value(Json),
    GuestError(String),
    /// Failed in the host: the text is the runtime's own, so only the kind
    /// is compared.
    Failed(&'static str),
}

impl Verdict {
    fn of(answer: &Json) -> Self {
        if let Some(value) = answer.get("ok") {
            return Self::Value(value.clone());
        }
        let kind = answer["kind"].as_str().unwrap_or("other");
        match kind {
            "guest" => Self::GuestError(answer["err"].as_str().unwrap_or_default().to_owned()),
            // surli names the ways an instance dies; the originals call
            // them all traps.
            "trap" | "out_of_memory" | "instantiation" | "init_failed" => Self::Failed("trap"),
            "timeout" => Self::Failed("timeout"),
            "load" => Self::Failed("load"),
            "args" => Self::Failed("args"),
            _ => Self::Failed("other"),
        }
    }
}

fn label(case: &Case) -> String {
    let args = case.args.trim_start_matches('[').trim_end_matches(']');
    format!(
        "{} {}({args})",
        case.package,
        case.function.unwrap_or("<default>")
    )
}

/// An answer in a table cell: the value as JSON, `err: text` for a guest
/// error, `kind: text` otherwise; long ones cut.
fn cell(answer: &Json) -> String {
    let text = match Verdict::of(answer) {
        Verdict::Value(value) => value.to_string(),
        Verdict::GuestError(message) => format!("err: {message}"),
        Verdict::Failed(kind) => {
            format!("{kind}: {}", answer["err"].as_str().unwrap_or_default())
        }
    };
    let text = text.replace('|', "\\|").replace('\n', "\\n");
    if text.chars().count() > 44 {
        let cut: String = text.chars().take(43).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// A Markdown table, padded so it also reads in a terminal.
fn print_table(rows: &[Vec<String>]) {
    let header: Vec<String> = ["case", "surli", "0.3.1", "0.6.5", "agree"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, text) in widths.iter_mut().zip(row) {
            *width = (*width).max(text.chars().count());
        }
    }
    let line = |row: &[String]| {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:<width$}"))
            .collect();
        println!("| {} |", cells.join(" | "));
    };
    line(&header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in rows {
        line(row);
    }
}
