//! `surli run`: a session that keeps one module, its instance pool and its
//! KV store alive between calls.
//!
//! Three ways in:
//! - on a terminal, a prompt with history and completion of function
//!   names; each line is `FN ARG...` as for `surli call`;
//! - from a pipe, the same lines, one result (or `error: …`) per line;
//! - with `--jsonl`, one JSON request per line and one JSON answer per
//!   line, in order, for scripts and tests.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::time::Instant;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::json;

use crate::session::{ModuleArgs, Session, function_label, function_name};

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    module: ModuleArgs,

    /// Read one JSON request per line from stdin,
    /// `{"fn": "name" or null, "args": [...]}`, and answer each with one
    /// line, `{"ok": value}` or `{"err": "message", "kind": "..."}`
    #[arg(long)]
    jsonl: bool,

    /// Print results as JSON instead of SurrealQL (lines mode)
    #[arg(long, conflicts_with = "jsonl")]
    json: bool,
}

pub(crate) fn run(args: &RunArgs) -> anyhow::Result<()> {
    crate::block_on(async {
        let session = Session::open(&args.module).await?;
        let outcome = if args.jsonl {
            jsonl(&session).await
        } else if std::io::stdin().is_terminal() {
            interactive(&session, args.json).await
        } else {
            lines(&session, args.json).await
        };
        // The KV file is written whatever happened to the session.
        let closed = session.close().await;
        outcome?;
        closed
    })?
}

/// One request of `--jsonl`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    #[serde(rename = "fn")]
    function: Option<String>,
    #[serde(default)]
    args: Vec<serde_json::Value>,
    /// The arguments as words, as `surli call` reads them: JSON, SurrealQL
    /// values (`NONE`, `d'…'`, `person:42`), or bare text. Instead of
    /// `args`, for values JSON cannot express.
    surql: Option<Vec<String>>,
}

async fn jsonl(session: &Session) -> anyhow::Result<()> {
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line.context("cannot read stdin")?;
        let answer = match answer_json(session, &line).await {
            Ok(value) => json!({ "ok": surli_values::to_json(value) }),
            Err(Failure { message, kind }) => json!({ "err": message, "kind": kind }),
        };
        writeln!(stdout, "{answer}").context("cannot write stdout")?;
        stdout.flush().context("cannot write stdout")?;
    }
    Ok(())
}

/// Why one request failed, with a stable name for scripts.
struct Failure {
    message: String,
    kind: &'static str,
}

impl Failure {
    fn new(kind: &'static str, message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            kind,
        }
    }
}

async fn answer_json(session: &Session, line: &str) -> Result<surli::Value, Failure> {
    let request: Request = serde_json::from_str(line).map_err(|error| {
        Failure::new(
            "input",
            format!("not a request ({error}); send {{\"fn\": \"name\" or null, \"args\": [...]}}"),
        )
    })?;
    let function = request.function.as_deref();
    let signature = session
        .function(function)
        .map_err(|error| Failure::new("unknown_function", error))?;
    let values = match &request.surql {
        None => surli_values::args_from_json(&request.args, &signature.args),
        Some(_) if !request.args.is_empty() => {
            return Err(Failure::new(
                "input",
                "give the arguments as \"args\" (JSON) or as \"surql\" (words), not both",
            ));
        }
        Some(words) => {
            surli_values::args_from_words(words, &signature.args, &crate::session::surrealql)
        }
    }
    .map_err(|error| Failure::new("args", error))?;
    session
        .module
        .call(session.context.clone(), function, values)
        .await
        .map_err(|error| Failure::new(error.kind(), error))
}

/// Lines from a pipe: each result on stdout, each error on stderr, and a
/// failure exit when any line failed.
async fn lines(session: &Session, json: bool) -> anyhow::Result<()> {
    let stdin = std::io::stdin().lock();
    let (mut calls, mut failed) = (0usize, 0usize);
    for line in stdin.lines() {
        let line = line.context("cannot read stdin")?;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        calls += 1;
        match command(session, &line, json).await {
            Ok(Step::Continue) => {}
            Ok(Step::Quit) => break,
            Err(error) => {
                failed += 1;
                eprintln!("error: {error:#}");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {calls} lines failed");
    }
    Ok(())
}

async fn interactive(session: &Session, json: bool) -> anyhow::Result<()> {
    use rustyline::error::ReadlineError;

    let meta = &session.module.config().meta;
    eprintln!(
        "surli: {}/{} {} loaded; `.help` for help, Ctrl-D to leave",
        meta.organisation, meta.name, meta.version
    );
    let names = session
        .module
        .functions()
        .iter()
        .filter_map(|f| f.name.clone())
        .chain(DOT_COMMANDS.iter().map(|c| (*c).to_owned()))
        .collect();
    let mut editor = rustyline::Editor::<Completion, rustyline::history::DefaultHistory>::new()
        .context("cannot start the line editor")?;
    editor.set_helper(Some(Completion { names }));
    let prompt = format!("{}> ", meta.name);
    loop {
        match editor.readline(&prompt) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                // History is a convenience; a full history is not an error.
                let _ = editor.add_history_entry(line.as_str());
                let started = Instant::now();
                match command(session, &line, json).await {
                    Ok(Step::Continue) => {
                        if !line.trim_start().starts_with('.') {
                            eprintln!("({})", crate::bench::human(started.elapsed()));
                        }
                    }
                    Ok(Step::Quit) => break,
                    Err(error) => eprintln!("error: {error:#}"),
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(error).context("cannot read the terminal"),
        }
    }
    Ok(())
}

const DOT_COMMANDS: &[&str] = &[".help", ".functions", ".stats", ".metrics", ".kv", ".quit"];

enum Step {
    Continue,
    Quit,
}

/// Runs one line: a dot command or a call.
async fn command(session: &Session, line: &str, json: bool) -> anyhow::Result<Step> {
    let line = line.trim();
    match line {
        ".quit" | ".exit" => return Ok(Step::Quit),
        ".help" => {
            println!("{HELP}");
            return Ok(Step::Continue);
        }
        ".functions" => {
            for function in session.module.functions() {
                println!("{}", function.to_export().signature());
            }
            return Ok(Step::Continue);
        }
        ".stats" => {
            println!("{:#?}", session.module.stats());
            return Ok(Step::Continue);
        }
        ".metrics" => {
            match session.metrics() {
                Some(text) => print!("{text}"),
                None => println!("metrics are not recorded: start `surli run` with --metrics"),
            }
            return Ok(Step::Continue);
        }
        ".kv" => {
            let dump = surli::kv::KvDump::from_store(session.module.kv().as_ref())
                .await
                .map_err(crate::flat)?;
            for (key, bytes) in dump.entries() {
                let shown = surli::codec::decode_value(bytes).map_or_else(
                    |error| format!("<{error}>"),
                    |value| surli_values::to_surrealql(&value),
                );
                println!("{key} = {shown}");
            }
            return Ok(Step::Continue);
        }
        _ if line.starts_with('.') => {
            anyhow::bail!("unknown command `{line}`; `.help` lists them")
        }
        _ => {}
    }
    let mut words = split_line(line)?.into_iter();
    let Some(first) = words.next() else {
        return Ok(Step::Continue);
    };
    let function = function_name(&first);
    let args: Vec<String> = words.collect();
    let signature = session.function(function)?;
    let values = surli_values::args_from_words(&args, &signature.args, &crate::session::surrealql)
        .map_err(crate::flat)
        .with_context(|| format!("cannot call {}", function_label(function)))?;
    let value = session
        .module
        .call(session.context.clone(), function, values)
        .await
        .map_err(crate::flat)
        .with_context(|| format!("{} failed", function_label(function)))?;
    crate::call::print_value(value, json)?;
    Ok(Step::Continue)
}

const HELP: &str = "\
A line is `FN ARG...`: a function name (`-` for the default export) and its
arguments, each JSON, a SurrealQL value, or a bare word read against the
declared kind:
  add 1 2
  greet 'Ada Lovelace'
  kinds::object {\"a\": [1, 2]}
  kinds::any d'2024-01-01T00:00:00Z'
JSON values may contain spaces; single quotes group a bare word with spaces.
Commands: .functions  .stats  .metrics  .kv  .help  .quit";

/// Splits a line into words: runs of non-space characters, a JSON object,
/// array or string read whole (spaces and all), or a single-quoted word.
pub(crate) fn split_line(line: &str) -> anyhow::Result<Vec<String>> {
    let mut words = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (word, len) = match rest.as_bytes()[0] {
            b'{' | b'[' | b'"' => {
                let mut stream =
                    serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
                match stream.next() {
                    Some(Ok(_)) => {
                        let len = stream.byte_offset();
                        (rest[..len].to_owned(), len)
                    }
                    Some(Err(error)) => anyhow::bail!("bad JSON in `{rest}`: {error}"),
                    None => anyhow::bail!("bad JSON in `{rest}`"),
                }
            }
            b'\'' => match rest[1..].find('\'') {
                Some(end) => (rest[1..=end].to_owned(), end + 2),
                None => anyhow::bail!("unclosed quote in `{rest}`"),
            },
            _ => {
                let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (rest[..len].to_owned(), len)
            }
        };
        words.push(word);
        rest = rest[len..].trim_start();
    }
    Ok(words)
}

/// Completes function names and dot commands at the start of a line.
#[derive(rustyline::Helper, rustyline::Hinter, rustyline::Highlighter, rustyline::Validator)]
struct Completion {
    names: Vec<String>,
}

impl rustyline::completion::Completer for Completion {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let typed = &line[..pos];
        // Only the first word names a function.
        if typed.contains(char::is_whitespace) {
            return Ok((pos, Vec::new()));
        }
        let matches = self
            .names
            .iter()
            .filter(|name| name.starts_with(typed))
            .cloned()
            .collect();
        Ok((0, matches))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::split_line;

    #[test]
    fn lines_split_into_words_with_json_kept_whole() {
        assert_eq!(split_line("add 1 2").unwrap(), ["add", "1", "2"]);
        assert_eq!(
            split_line(r#"f {"a": [1, 2]}  "x y" 'Ada Lovelace' -"#).unwrap(),
            ["f", r#"{"a": [1, 2]}"#, r#""x y""#, "Ada Lovelace", "-"]
        );
        assert_eq!(split_line("   ").unwrap(), Vec::<String>::new());
        assert!(split_line("f {\"a\": ").is_err());
        assert!(split_line("f 'open").is_err());
    }
}
