//! What every case is built from: an embedded in-memory SurrealDB that
//! allows modules, the fixture packages, module installation, and the
//! deterministic rendering of query answers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use surrealdb::Surreal;
use surrealdb::engine::local::{Db, Mem};
use surrealdb::opt::Config;
use surrealdb::opt::capabilities::{Capabilities, ExperimentalFeature};
use surrealdb_types::{ToSql, Value};
use surrealism_runtime::capabilities::SurrealismCapabilities;
use surrealism_runtime::package::{SurrealismPackage, UnpackOptions};

/// A case's answer: the rendered result, or the error's message.
pub type Answer = Result<String, String>;

/// The environment variable naming the directory of the fixture packages.
pub const FIXTURES_ENV: &str = "SURLI_FIXTURES";

/// The bucket every case keeps its packages in.
const BUCKET: &str = "mods";

/// The namespace and database every case works in.
const NAMESPACE: &str = "compat";
const DATABASE: &str = "compat";

/// Where the fixture packages are: `$SURLI_FIXTURES`, or surli's
/// `target/fixtures` two levels above this crate's manifest (the same place
/// from `compat/surrealdb` and `compat/original`).
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os(FIXTURES_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/fixtures"),
    }
}

/// The bytes of fixture `name` (`NAME.surli` in [`fixtures_dir`]).
pub fn fixture(name: &str) -> Result<Vec<u8>, String> {
    let path = fixtures_dir().join(format!("{name}.surli"));
    std::fs::read(&path).map_err(|e| {
        format!(
            "fixture {name} is missing ({}: {e}); run `cargo xtask fixtures` in surli's \
             repository, or point {FIXTURES_ENV} at a directory of built fixtures",
            path.display()
        )
    })
}

/// Fixture `name` unpacked, its capabilities changed by `edit`, and packed
/// again, all through surrealism-runtime's own package API.
pub async fn repacked(
    name: &str,
    edit: impl FnOnce(&mut SurrealismCapabilities) + Send + 'static,
) -> Result<Vec<u8>, String> {
    /// Tells concurrent repacks of one process apart.
    static NEXT: AtomicU64 = AtomicU64::new(0);

    let bytes = fixture(name)?;
    let out = std::env::temp_dir().join(format!(
        "surli-compat-{}-{}-{name}.surli",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    tokio::task::spawn_blocking(move || {
        let options = UnpackOptions {
            temp_prefix: "surli_compat_repack_",
            ..UnpackOptions::default()
        };
        let mut package = SurrealismPackage::from_reader(std::io::Cursor::new(bytes), &options)
            .map_err(|e| format!("cannot unpack the fixture: {e}"))?;
        edit(&mut package.config.capabilities);
        let fs = package.fs.as_ref().map(|fs| fs.path().to_path_buf());
        package
            .pack(out.clone(), fs.as_deref())
            .map_err(|e| format!("cannot repack the fixture: {e}"))?;
        let packed = std::fs::read(&out).map_err(|e| format!("{}: {e}", out.display()));
        // Best effort: a leftover file in the temp directory harms nothing.
        let _ = std::fs::remove_file(&out);
        packed
    })
    .await
    .map_err(|e| format!("the repack task failed: {e}"))?
}

/// The capabilities every case's database runs with: SurrealDB's defaults
/// (every function, no scripting) plus the two experimental features modules
/// need (`files` for buckets, `surrealism` for modules) and every network
/// target, which `hostcalls`' `allow_net` must fit inside to load.
pub fn capabilities() -> Capabilities {
    Capabilities::new()
        .with_experimental_features_allowed(&[
            ExperimentalFeature::Files,
            ExperimentalFeature::Surrealism,
        ])
        .with_all_net_targets_allowed()
}

/// A fresh embedded in-memory SurrealDB, in namespace and database
/// `compat`, with the bucket `mods` defined.
pub async fn open() -> Result<Surreal<Db>, String> {
    let config = Config::new().capabilities(capabilities());
    let db = Surreal::new::<Mem>(config)
        .await
        .map_err(|e| format!("cannot open the embedded database: {e}"))?;
    db.use_ns(NAMESPACE)
        .use_db(DATABASE)
        .await
        .map_err(|e| format!("cannot select the database: {e}"))?;
    setup(&db, &format!("DEFINE BUCKET {BUCKET} BACKEND \"memory\"")).await?;
    Ok(db)
}

/// Runs `sql`, a single statement, and fails with its error if it has one.
pub async fn setup(db: &Surreal<Db>, sql: &str) -> Result<(), String> {
    one(db, sql)
        .await
        .map(drop)
        .map_err(|e| format!("setup `{sql}` failed: {e}"))
}

/// Stores `package` in the bucket as `FILE.surli`.
pub async fn put(db: &Surreal<Db>, file: &str, package: Vec<u8>) -> Result<(), String> {
    let sql = format!("f\"{BUCKET}:/{file}.surli\".put($package)");
    let answer = db
        .query(sql.as_str())
        .bind(("package", Value::Bytes(package.into())))
        .await
        .map_err(|e| message(&e))
        .and_then(|mut response| response.take::<Value>(0).map_err(|e| message(&e)));
    answer
        .map(drop)
        .map_err(|e| format!("setup `{sql}` failed: {e}"))
}

/// The statement defining module `name` from `FILE.surli` of the bucket.
pub fn define_module(name: &str, file: &str) -> String {
    format!("DEFINE MODULE mod::{name} FROM f\"{BUCKET}:/{file}.surli\" UNSIGNED")
}

/// Puts fixture `fixture` in the bucket under its own name and defines it as
/// module `name`.
pub async fn install(db: &Surreal<Db>, name: &str, fixture_name: &str) -> Result<(), String> {
    install_bytes(db, name, fixture_name, fixture(fixture_name)?).await
}

/// Puts `package` in the bucket as `FILE.surli` and defines it as module
/// `name`.
pub async fn install_bytes(
    db: &Surreal<Db>,
    name: &str,
    file: &str,
    package: Vec<u8>,
) -> Result<(), String> {
    put(db, file, package).await?;
    setup(db, &define_module(name, file)).await
}

/// Runs `sql`, one statement, and answers with its result.
pub async fn one(db: &Surreal<Db>, sql: &str) -> Answer {
    let mut answers = all(db, sql).await?;
    match answers.len() {
        1 => answers.remove(0),
        n => Err(format!("expected one statement's result, got {n}")),
    }
}

/// Runs `sql` and answers with each statement's result in order; the outer
/// error is a failure of the whole request (a parse error, say).
pub async fn all(db: &Surreal<Db>, sql: &str) -> Result<Vec<Answer>, String> {
    let mut response = db.query(sql).await.map_err(|e| message(&e))?;
    Ok((0..response.num_statements())
        .map(|i| {
            response
                .take::<Value>(i)
                .map(|v| render(&v))
                .map_err(|e| message(&e))
        })
        .collect())
}

/// A value as SurrealQL text, on one line.
pub fn render(value: &Value) -> String {
    value.to_sql()
}

/// An error's message on one line (see [`one_line`]).
pub fn message(error: &impl std::fmt::Display) -> String {
    one_line(&error.to_string())
}

/// `text` on one line: its non-blank lines trimmed and joined with ` | `,
/// leaving out the frames of a wasm backtrace (`12: 0x4c7b - <unknown>!...`),
/// which name code offsets of one particular build rather than what failed.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !is_backtrace_frame(line))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Whether `line` is a frame of a wasm backtrace as wasmtime prints it:
/// `N: 0xOFFSET - MODULE!FUNCTION`.
fn is_backtrace_frame(line: &str) -> bool {
    let Some((index, rest)) = line.split_once(':') else {
        return false;
    };
    let Some(offset) = rest.trim_start().strip_prefix("0x") else {
        return false;
    };
    let digits = offset
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(offset.len());
    !index.is_empty()
        && index.bytes().all(|b| b.is_ascii_digit())
        && digits > 0
        && offset[digits..].trim_start().starts_with("- ")
}

/// The answer of a case made of several steps: one line per step, `LABEL:
/// VALUE` or `LABEL: error: MESSAGE`.
#[derive(Debug, Default)]
pub struct Steps(Vec<String>);

impl Steps {
    /// No steps yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the answer of step `label`.
    pub fn record(&mut self, label: &str, answer: Answer) {
        self.0.push(match answer {
            Ok(value) => format!("{label}: {value}"),
            Err(error) => format!("{label}: error: {error}"),
        });
    }

    /// Runs `sql` (one statement) on `db` as step `label`.
    pub async fn run(&mut self, db: &Surreal<Db>, label: &str, sql: &str) {
        let answer = one(db, sql).await;
        self.record(label, answer);
    }

    /// Runs each `(label, sql)` in order, one request each.
    pub async fn run_all(&mut self, db: &Surreal<Db>, steps: &[(&str, &str)]) {
        for (label, sql) in steps {
            self.run(db, label, sql).await;
        }
    }

    /// The case's answer: the steps' lines joined with newlines.
    pub fn answer(self) -> Answer {
        Ok(self.0.join("\n"))
    }
}
