//! `surli call`: one call of one function, with arguments read against the
//! kinds the function declares and the result printed as SurrealQL or JSON.

use anyhow::Context as _;

use crate::session::{ModuleArgs, Session, function_label, function_name};

#[derive(Debug, clap::Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    module: ModuleArgs,

    /// The function to call: its name, or `-` for the default export
    function: Option<String>,

    /// The arguments: each is JSON (`1`, `"text"`, `[1,2]`, `{"a":1}`), a
    /// SurrealQL value of the declared kind (`NONE`, `d'2024-01-01T00:00:00Z'`,
    /// `person:42`, `1.5dec`, `b"00ff"`), or a bare word read against the
    /// declared kind (`2024-01-01T00:00:00Z`, `1h30m`, hex bytes, any text
    /// for a string)
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,

    /// Call the default export; every word after the package is an argument
    #[arg(long)]
    default: bool,

    /// Print the result as JSON instead of SurrealQL
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &CallArgs) -> anyhow::Result<()> {
    let (function, words) = split_words(args.default, args.function.as_deref(), &args.args)?;
    crate::block_on(async {
        let session = Session::open(&args.module).await?;
        let outcome = call(&session, function, &words).await;
        // The KV file is written even when the call failed: whatever the
        // guest stored before failing is kept, as a server would keep it.
        let closed = session.close().await;
        let value = outcome?;
        closed?;
        print_value(value, args.json)
    })?
}

/// Which function and which arguments the words on the command line name.
pub(crate) fn split_words<'a>(
    default: bool,
    function: Option<&'a str>,
    args: &[String],
) -> anyhow::Result<(Option<&'a str>, Vec<String>)> {
    match (default, function) {
        (true, first) => Ok((
            None,
            first
                .map(str::to_owned)
                .into_iter()
                .chain(args.iter().cloned())
                .collect(),
        )),
        (false, Some(word)) => Ok((function_name(word), args.to_vec())),
        (false, None) => {
            anyhow::bail!("name the function to call, or `-` (or --default) for the default export")
        }
    }
}

async fn call(
    session: &Session,
    function: Option<&str>,
    words: &[String],
) -> anyhow::Result<surli::Value> {
    let signature = session.function(function)?;
    let values = surli_values::args_from_words(words, &signature.args, &crate::session::surrealql)
        .map_err(crate::flat)
        .with_context(|| format!("cannot call {}", function_label(function)))?;
    session
        .module
        .call(session.context.clone(), function, values)
        .await
        .map_err(crate::flat)
        .with_context(|| format!("{} failed", function_label(function)))
}

/// Prints a result: SurrealQL (indented for nested values) or JSON.
pub(crate) fn print_value(value: surli::Value, json: bool) -> anyhow::Result<()> {
    if json {
        let text = serde_json::to_string_pretty(&surli_values::to_json(value))
            .context("cannot write the JSON")?;
        println!("{text}");
    } else {
        println!("{}", surli_values::to_surrealql_pretty(&value));
    }
    Ok(())
}
