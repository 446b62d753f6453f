//! Reading and writing `.surli` packages, the files a Surrealism plugin is
//! shipped in, with a guard on everything a hostile package could abuse.
//!
//! A package is a tar archive inside zstd, laid out as the original
//! `surrealism-runtime` (0.3.1) writes it:
//!
//! | Entry                        | Required | What it holds                                        |
//! |------------------------------|----------|------------------------------------------------------|
//! | `surrealism/mod.wasm`        | yes      | the guest, a WebAssembly **component** (`wasm32-wasip2`) |
//! | `surrealism/surrealism.toml` | yes      | the module configuration ([`surli_config::ModuleConfig`]) |
//! | `surrealism/exports.toml`    | yes      | the exported functions ([`ExportsManifest`])          |
//! | `surrealism/logo.png`        | no       | a PNG logo                                            |
//! | `surrealism/fs/…`            | no       | the attached directory, mounted read-only at `/`      |
//!
//! [`Package`] reads one ([`Package::read_file`], [`Package::from_bytes`],
//! [`Package::from_reader`]); [`read_exports_only`] lists the exports
//! without keeping or extracting anything else; [`PackageWriter`] writes
//! one, reproducibly: the same inputs always give the same bytes.
//!
//! # Guards
//!
//! Every cap is a field of [`PackageLimits`] and applies to the writer too,
//! so surli never writes a package it would refuse.
//!
//! | Guard | Default | What happens |
//! |-------|---------|--------------|
//! | [`max_package_bytes`](PackageLimits::max_package_bytes): compressed file | 256 MiB | checked on the file's length, and the read is capped: [`PackageError::PackageTooLarge`] |
//! | [`max_total_bytes`](PackageLimits::max_total_bytes): bytes out of zstd, headers and skipped entries included | 512 MiB | the decompressor is cut off one byte past it: [`PackageError::TooMuchData`] (decompression bombs) |
//! | [`max_entries`](PackageLimits::max_entries): tar entries, skipped ones included | 10,000 | [`PackageError::TooManyEntries`] |
//! | [`max_wasm_bytes`](PackageLimits::max_wasm_bytes) | 128 MiB | checked on the header's size, then the read is capped: [`PackageError::EntryTooLarge`] |
//! | [`max_config_bytes`](PackageLimits::max_config_bytes) | 64 KiB | as above |
//! | [`max_exports_bytes`](PackageLimits::max_exports_bytes) | 4 MiB | as above |
//! | [`max_logo_bytes`](PackageLimits::max_logo_bytes) | 256 KiB | as above; the logo must also start with the PNG signature ([`PackageError::BadLogo`]) |
//! | [`max_fs_entry_bytes`](PackageLimits::max_fs_entry_bytes): one attached file | 100 MiB | as above |
//! | [`max_fs_bytes`](PackageLimits::max_fs_bytes): all attached files | 100 MiB | summed from header sizes before each file is written: [`PackageError::FsTooLarge`] |
//! | [`max_extension_bytes`](PackageLimits::max_extension_bytes): one GNU long-name or PAX header | 64 KiB | [`PackageError::EntryTooLarge`] |
//! | entry paths | — | UTF-8, relative, plain names only: `..`, absolute paths, backslashes and drive prefixes are [`PackageError::UnsafePath`] |
//! | links | — | symbolic and hard links are never created: [`PackageError::LinkEntry`] |
//! | devices, fifos, sparse and unknown entry types | — | [`PackageError::SpecialEntry`] |
//! | the same path twice | — | [`PackageError::DuplicateEntry`] (the original lets the last win) |
//! | entries outside the layout | — | skipped with a [`PackageWarning`], still counted against the caps |
//! | `mod.wasm` not a component | — | [`PackageError::NotAComponent`]: core modules and WASI preview 1 are unsupported |
//!
//! The attached directory is extracted by this crate, not by the tar
//! crate: into a private temporary directory, one plain path segment at a
//! time, creating only directories and new files (never following or
//! overwriting anything) and ignoring the archive's modes, owners and
//! times. It is removed when the [`Package`] is dropped, and at once if the
//! read fails.
//!
//! The ABI in `surrealism.toml` is not checked here, so `surli info` can show
//! a package built for another runtime; the runtime checks it with
//! [`ModuleConfig::check_abi`](surli_config::ModuleConfig::check_abi).
//!
//! # Example
//!
//! ```
//! use surli_package::{Package, ReadOptions};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/original-0.3.1-baseline.surli");
//! let package = Package::read_file(path, &ReadOptions::default())?;
//! assert_eq!(package.config().meta.name, "baseline");
//! let fib = package.exports().get(Some("fib")).expect("the baseline exports fib");
//! assert_eq!(fib.signature(), "fib(n: int) -> int");
//! # Ok::<(), surli_package::PackageError>(())
//! ```
#![deny(missing_docs)]

mod capped;
mod error;
mod exports;
mod fs;
mod layout;
mod limits;
mod package;
mod read;
mod record;
mod write;

pub use error::{LinkKind, PackageError, PackageWarning};
pub use exports::{ExportsManifest, FunctionExport};
pub use fs::AttachedFs;
pub use layout::{
    COMPONENT_PREAMBLE, CONFIG_ENTRY, EXPORTS_ENTRY, FS_ENTRY, LOGO_ENTRY, PNG_SIGNATURE,
    WASM_ENTRY,
};
pub use limits::{PackageLimits, ReadOptions};
pub use package::{Package, PackageParts};
pub use read::read_exports_only;
pub use record::{ComponentBytes, PackageBytes, PackageRecord};
pub use write::{PackageWriter, write_package};
