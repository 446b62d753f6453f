//! `surli info`: what a package holds and the limits it would run under,
//! read from the package alone (nothing is compiled).

use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;
use surli::config::{FunctionTargets, Limit, LimitSource};
use surli::package::FunctionExport;
use surli::{EffectiveLimits, ModuleConfig, Package};

use crate::limits_args::{LimitsArgs, format_bytes, format_duration, millis};

#[derive(Debug, clap::Args)]
pub(crate) struct InfoArgs {
    /// The package to inspect
    file: PathBuf,

    /// Print one JSON object instead of text
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    limits: LimitsArgs,
}

pub(crate) fn run(args: &InfoArgs) -> anyhow::Result<()> {
    let package = crate::read_package(&args.file)?;
    // The file's own size is not something the package keeps.
    let file_bytes = std::fs::metadata(&args.file)
        .with_context(|| crate::shown(&args.file))?
        .len();
    let info = Info::new(&args.file, file_bytes, &package, &args.limits);
    if args.json {
        let text = serde_json::to_string_pretty(&info).context("cannot write the JSON")?;
        println!("{text}");
    } else {
        print!("{}", info.text());
    }
    Ok(())
}

/// Everything `info` reports, in the shape of its JSON output. The field
/// names are a promise to scripts: add, never rename.
#[derive(Debug, Serialize)]
struct Info {
    file: String,
    file_bytes: u64,
    package_sha256: String,
    package: Identity,
    abi: Abi,
    wasm: Wasm,
    logo_bytes: Option<usize>,
    attached_fs: bool,
    capabilities: Capabilities,
    effective_limits: Effective,
    warnings: Warnings,
    functions: Vec<Function>,
}

#[derive(Debug, Serialize)]
struct Identity {
    organisation: String,
    name: String,
    version: String,
}

#[derive(Debug, Serialize)]
struct Abi {
    /// `None` when `surrealism.toml` has no `abi` key.
    declared: Option<u32>,
    supported: u32,
    runs_here: bool,
    /// Why it does not run here, and what to do about it.
    problem: Option<String>,
}

#[derive(Debug, Serialize)]
struct Wasm {
    bytes: usize,
    sha256: String,
}

#[derive(Debug, Serialize)]
struct Capabilities {
    allow_scripting: bool,
    allow_arbitrary_queries: bool,
    /// `["*"]` for every function, `[]` for none.
    allow_functions: Vec<String>,
    allow_net: Vec<String>,
    max_memory_bytes: Option<u64>,
    max_execution_time_ms: Option<u64>,
    max_pool_size: Option<u64>,
    max_kv_entries: Option<u64>,
    max_kv_value_bytes: Option<u64>,
    max_kv_bytes: Option<u64>,
    strict_timeout: bool,
}

#[derive(Debug, Serialize)]
struct Effective {
    pool_size: Set,
    max_memory_bytes: Option<Set>,
    max_execution_time_ms: Option<Set>,
    max_kv_entries: Option<Set>,
    max_kv_value_bytes: Option<Set>,
    max_kv_bytes: Option<Set>,
    strict_timeout: bool,
    max_http_requests_per_call: Option<Set>,
    max_http_concurrent_requests: Option<Set>,
    max_http_request_bytes: Option<Set>,
    max_http_response_bytes: Option<Set>,
}

/// One effective limit and whose it is.
#[derive(Debug, Serialize)]
struct Set {
    value: u64,
    set_by: &'static str,
}

#[derive(Debug, Serialize)]
struct Warnings {
    config: Vec<String>,
    package: Vec<String>,
    limits: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Function {
    /// `None` for the default export.
    name: Option<String>,
    signature: String,
    args: Option<Vec<String>>,
    returns: Option<String>,
    writeable: bool,
    comment: Option<String>,
}

impl Info {
    fn new(path: &std::path::Path, file_bytes: u64, package: &Package, args: &LimitsArgs) -> Self {
        let config = package.config();
        let caps = &config.capabilities;
        let merged = EffectiveLimits::merge(&args.server_limits(), caps);
        let limits = &merged.limits;
        let abi_problem = config.check_abi().err().map(|e| e.to_string());
        Self {
            file: path.display().to_string(),
            file_bytes,
            package_sha256: package.package_sha256_hex(),
            package: Identity {
                organisation: config.meta.organisation.clone(),
                name: config.meta.name.clone(),
                version: config.meta.version.to_string(),
            },
            abi: Abi {
                declared: config.abi.map(|abi| abi.0),
                supported: ModuleConfig::SUPPORTED_ABI.0,
                runs_here: abi_problem.is_none(),
                problem: abi_problem,
            },
            wasm: Wasm {
                bytes: package.wasm().len(),
                sha256: package.wasm_sha256_hex(),
            },
            logo_bytes: package.logo().map(<[u8]>::len),
            attached_fs: package.fs().is_some(),
            capabilities: Capabilities {
                allow_scripting: caps.allow_scripting,
                allow_arbitrary_queries: caps.allow_arbitrary_queries,
                allow_functions: match &caps.allow_functions {
                    FunctionTargets::None => Vec::new(),
                    FunctionTargets::All => vec!["*".to_owned()],
                    FunctionTargets::Some(patterns) => patterns.clone(),
                },
                allow_net: caps.allow_net.clone(),
                max_memory_bytes: caps.max_memory_bytes,
                max_execution_time_ms: caps.max_execution_time.map(millis),
                max_pool_size: caps.max_pool_size,
                max_kv_entries: caps.max_kv_entries,
                max_kv_value_bytes: caps.max_kv_value_bytes,
                max_kv_bytes: caps.max_kv_bytes,
                strict_timeout: caps.strict_timeout,
            },
            effective_limits: Effective {
                pool_size: set(limits.pool_size, |n| {
                    u64::try_from(n.get()).unwrap_or(u64::MAX)
                }),
                max_memory_bytes: limits.max_memory_bytes.map(|l| set(l, |v| v)),
                max_execution_time_ms: limits.max_execution_time.map(|l| set(l, millis)),
                max_kv_entries: limits.max_kv_entries.map(|l| set(l, |v| v)),
                max_kv_value_bytes: limits.max_kv_value_bytes.map(|l| set(l, |v| v)),
                max_kv_bytes: limits.max_kv_bytes.map(|l| set(l, |v| v)),
                strict_timeout: limits.strict_timeout,
                max_http_requests_per_call: limits
                    .max_http_requests_per_call
                    .map(|l| set(l, |v| v)),
                max_http_concurrent_requests: limits
                    .max_http_concurrent_requests
                    .map(|l| set(l, |v| v)),
                max_http_request_bytes: limits.max_http_request_bytes.map(|l| set(l, |v| v)),
                max_http_response_bytes: limits.max_http_response_bytes.map(|l| set(l, |v| v)),
            },
            warnings: Warnings {
                config: strings(package.config_warnings()),
                package: strings(package.warnings()),
                limits: strings(&merged.warnings),
            },
            functions: package.exports().functions.iter().map(function).collect(),
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let mut line = |label: &str, value: String| {
            out.push_str(&format!("{label:<16}{value}\n"));
        };
        let p = &self.package;
        line(
            "package",
            format!("{}/{} {}", p.organisation, p.name, p.version),
        );
        line("file", format!("{} ({} bytes)", self.file, self.file_bytes));
        line("sha256", self.package_sha256.clone());
        line(
            "abi",
            match (self.abi.declared, self.abi.runs_here) {
                (Some(abi), true) => format!("{abi} (supported)"),
                (Some(abi), false) => format!(
                    "{abi} (not supported: this runtime runs ABI {})",
                    self.abi.supported
                ),
                (None, _) => format!(
                    "none (not supported: this runtime runs ABI {})",
                    self.abi.supported
                ),
            },
        );
        line(
            "mod.wasm",
            format!("{} bytes, sha256 {}", self.wasm.bytes, self.wasm.sha256),
        );
        line(
            "logo.png",
            self.logo_bytes
                .map_or_else(|| "none".to_owned(), |n| format!("{n} bytes")),
        );
        line(
            "attached fs",
            if self.attached_fs { "yes" } else { "none" }.to_owned(),
        );

        let c = &self.capabilities;
        out.push_str("\ncapabilities\n");
        let mut cap = |label: &str, value: String| {
            out.push_str(&format!("  {label:<26}{value}\n"));
        };
        cap("allow_scripting", c.allow_scripting.to_string());
        cap(
            "allow_arbitrary_queries",
            c.allow_arbitrary_queries.to_string(),
        );
        cap("allow_functions", list(&c.allow_functions));
        cap("allow_net", list(&c.allow_net));
        cap(
            "max_memory_bytes",
            or_unset(c.max_memory_bytes.map(format_bytes)),
        );
        cap(
            "max_execution_time",
            or_unset(
                c.max_execution_time_ms
                    .map(|ms| format_duration(std::time::Duration::from_millis(ms))),
            ),
        );
        cap(
            "max_pool_size",
            or_unset(c.max_pool_size.map(|n| n.to_string())),
        );
        cap(
            "max_kv_entries",
            or_unset(c.max_kv_entries.map(|n| n.to_string())),
        );
        cap(
            "max_kv_value_bytes",
            or_unset(c.max_kv_value_bytes.map(format_bytes)),
        );
        cap("max_kv_bytes", or_unset(c.max_kv_bytes.map(format_bytes)));
        cap("strict_timeout", c.strict_timeout.to_string());

        let e = &self.effective_limits;
        out.push_str("\neffective limits\n");
        let mut limit = |label: &str, value: Option<String>| {
            out.push_str(&format!(
                "  {label:<26}{}\n",
                value.unwrap_or_else(|| "unlimited".to_owned())
            ));
        };
        let with_source = |set: &Set, value: String| format!("{value} (set by the {})", set.set_by);
        limit(
            "pool size",
            Some(with_source(&e.pool_size, e.pool_size.value.to_string())),
        );
        limit(
            "memory per instance",
            e.max_memory_bytes
                .as_ref()
                .map(|s| with_source(s, format_bytes(s.value))),
        );
        limit(
            "execution time",
            e.max_execution_time_ms.as_ref().map(|s| {
                with_source(
                    s,
                    format_duration(std::time::Duration::from_millis(s.value)),
                )
            }),
        );
        limit(
            "kv entries",
            e.max_kv_entries
                .as_ref()
                .map(|s| with_source(s, s.value.to_string())),
        );
        limit(
            "kv value size",
            e.max_kv_value_bytes
                .as_ref()
                .map(|s| with_source(s, format_bytes(s.value))),
        );
        limit(
            "kv store size",
            e.max_kv_bytes
                .as_ref()
                .map(|s| with_source(s, format_bytes(s.value))),
        );
        limit(
            "http requests per call",
            e.max_http_requests_per_call
                .as_ref()
                .map(|s| with_source(s, s.value.to_string())),
        );
        limit(
            "http requests open",
            e.max_http_concurrent_requests
                .as_ref()
                .map(|s| with_source(s, s.value.to_string())),
        );
        limit(
            "http request body",
            e.max_http_request_bytes
                .as_ref()
                .map(|s| with_source(s, format_bytes(s.value))),
        );
        limit(
            "http response body",
            e.max_http_response_bytes
                .as_ref()
                .map(|s| with_source(s, format_bytes(s.value))),
        );
        limit(
            "timeouts",
            Some(
                if e.strict_timeout {
                    "enforced"
                } else {
                    "off (the module opted out)"
                }
                .to_owned(),
            ),
        );

        let w = &self.warnings;
        let warnings: Vec<String> = [
            ("config", &w.config),
            ("package", &w.package),
            ("limits", &w.limits),
        ]
        .into_iter()
        .flat_map(|(kind, items)| items.iter().map(move |item| format!("  {kind}: {item}\n")))
        .collect();
        if !warnings.is_empty() {
            out.push_str("\nwarnings\n");
            out.extend(warnings);
        }

        out.push_str(&format!("\nfunctions ({})\n", self.functions.len()));
        out.push_str(&self.function_table());
        out
    }

    /// Signature, writeable flag and the comment's first paragraph, in columns.
    fn function_table(&self) -> String {
        if self.functions.is_empty() {
            return "  (exports.toml lists none)\n".to_owned();
        }
        let rows: Vec<[String; 3]> = self
            .functions
            .iter()
            .map(|f| {
                [
                    f.signature.clone(),
                    if f.writeable { "writeable" } else { "" }.to_owned(),
                    f.comment
                        .as_deref()
                        .map(first_paragraph)
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let width = |column: usize| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (signature_width, writeable_width) = (width(0), width(1));
        let mut out = String::new();
        for [signature, writeable, comment] in &rows {
            let row = format!(
                "  {signature:<signature_width$}  {writeable:<writeable_width$}  {comment}"
            );
            out.push_str(row.trim_end());
            out.push('\n');
        }
        out
    }
}

fn set<T: Copy>(limit: Limit<T>, value: impl Fn(T) -> u64) -> Set {
    Set {
        value: value(limit.value),
        set_by: match limit.set_by {
            LimitSource::Server => "server",
            LimitSource::Module => "module",
        },
    }
}

fn function(export: &FunctionExport) -> Function {
    Function {
        name: export.name.clone(),
        signature: export.signature(),
        args: export.args_text.clone(),
        returns: export.returns_text.clone(),
        writeable: export.writeable,
        comment: export.comment.clone(),
    }
}

/// Doc comments arrive wrapped at the author's width; the table wants the
/// summary, unwrapped.
fn first_paragraph(comment: &str) -> String {
    comment
        .lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty())
        .take_while(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn or_unset(value: Option<String>) -> String {
    value.unwrap_or_else(|| "not set".to_owned())
}
