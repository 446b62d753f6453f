//! `surli check`: validate a package completely, by reading it with every
//! guard, checking its ABI, and loading its module once so that
//! `exports.toml` is compared with what the module itself exports.

use std::path::{Path, PathBuf};

use surli::{LoadError, Runtime};

use crate::limits_args::LimitsArgs;
use crate::session::CacheArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The package to check
    file: PathBuf,

    /// Treat every warning as an error, and refuse an exports.toml that
    /// disagrees with the module
    #[arg(long)]
    strict: bool,

    #[command(flatten)]
    limits: LimitsArgs,

    #[command(flatten)]
    cache: CacheArgs,
}

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<()> {
    // A package that cannot be read at all is one error, reported like any
    // other command's.
    let package = crate::read_package(&args.file)?;
    let mut report = Report {
        file: &args.file,
        strict: args.strict,
        errors: 0,
        warnings: 0,
    };

    // Kept aside because a failed load consumes the package without
    // returning its warnings; a successful one repeats them in
    // `Module::warnings`.
    let read_warnings: Vec<String> = package
        .config_warnings()
        .iter()
        .map(ToString::to_string)
        .chain(package.warnings().iter().map(ToString::to_string))
        .collect();

    if let Err(error) = package.config().check_abi() {
        // Loading would refuse it with the same message.
        read_warnings.iter().for_each(|w| report.warning(w));
        report.error(&error.to_string());
        return report.finish();
    }

    let options = args
        .cache
        .runtime_options(&args.limits)
        .with_strict_exports(args.strict);
    let loaded = crate::block_on(async move {
        let runtime = Runtime::new(options)?;
        // Only the warnings leave the async runtime: the module is dropped
        // inside it, with the runtime it was loaded on.
        runtime
            .load(package)
            .await
            .map(|module| module.warnings().to_vec())
    })?;
    match loaded {
        Ok(warnings) => warnings.iter().for_each(|w| report.warning(w)),
        Err(LoadError::ExportsMismatch { mismatches, .. }) => {
            read_warnings.iter().for_each(|w| report.warning(w));
            for mismatch in mismatches {
                report.error(&format!(
                    "exports.toml does not match the module: {mismatch}"
                ));
            }
        }
        Err(error) => {
            read_warnings.iter().for_each(|w| report.warning(w));
            report.error(&error.to_string());
        }
    }
    report.finish()
}

/// Prints each problem as it is found and counts them.
struct Report<'a> {
    file: &'a Path,
    strict: bool,
    errors: usize,
    warnings: usize,
}

impl Report<'_> {
    fn error(&mut self, message: &str) {
        self.errors += 1;
        println!("{}: error: {message}", self.file.display());
    }

    fn warning(&mut self, message: &str) {
        if self.strict {
            self.error(message);
        } else {
            self.warnings += 1;
            println!("{}: warning: {message}", self.file.display());
        }
    }

    fn finish(self) -> anyhow::Result<()> {
        let file = crate::shown(self.file);
        match (self.errors, self.warnings) {
            (0, 0) => println!("{}: ok", self.file.display()),
            (0, n) => println!("{}: ok, {n} {}", self.file.display(), plural(n, "warning")),
            (n, _) => anyhow::bail!("{file}: check failed with {n} {}", plural(n, "error")),
        }
        Ok(())
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}
