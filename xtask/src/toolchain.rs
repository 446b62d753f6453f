//! Making sure the pinned toolchain can build guests.
//!
//! `rust-toolchain.toml` lists the `wasm32-wasip2` target, but rustup only
//! installs it on its own when auto-install is on, and our build machines
//! run with `RUSTUP_AUTO_INSTALL=0`. So a fresh clone would fail at its
//! first guest build; instead we check for the target and add it, saying so.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

const WASM_TARGET: &str = "wasm32-wasip2";

pub(crate) fn ensure_wasm_target(root: &Path) -> Result<()> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root)
        .output()
        .context(
            "cannot run `rustup`: surli needs rustup to manage its pinned toolchain; \
             install it from https://rustup.rs",
        )?;
    if !listed.status.success() {
        bail!(
            "`rustup target list --installed` failed: {}",
            String::from_utf8_lossy(&listed.stderr).trim()
        );
    }
    let installed = String::from_utf8_lossy(&listed.stdout);
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }

    println!(
        "xtask: the {WASM_TARGET} target is missing from the pinned toolchain; \
         running `rustup target add {WASM_TARGET}`"
    );
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .current_dir(root)
        .status()
        .context("cannot run `rustup target add`")?;
    if !status.success() {
        bail!(
            "`rustup target add {WASM_TARGET}` failed ({status}); run it yourself in {} \
             and try again",
            root.display()
        );
    }
    Ok(())
}
