//! The `surli` command line. Its commands (build, pack, unpack, info, call,
//! run, bench, check) arrive with the CLI work; until then it says so and
//! exits with a failure, so no script mistakes it for a working tool.

// A binary talks to its user on stderr.
#[allow(clippy::print_stderr)]
fn main() -> std::process::ExitCode {
    eprintln!("surli: no commands yet; `cargo xtask demo` shows what surli does today");
    std::process::ExitCode::FAILURE
}
