//! Builders for packages, honest and hostile, made byte by byte in the test
//! so that no checked-in binary hides what a test exercises.

use std::path::{Path, PathBuf};

use surli_package::{COMPONENT_PREAMBLE, Package, PackageError, ReadOptions};
use tar::{EntryType, Header};
use tempfile::TempDir;

pub(crate) const BASELINE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/original-0.3.1-baseline.surli"
);

pub(crate) const MIB: usize = 1024 * 1024;

pub(crate) const CONFIG: &str = r#"abi = 2

[package]
organisation = "acme"
name = "demo"
version = "1.0.0"
"#;

pub(crate) const EXPORTS: &str = r#"[[functions]]
name = "f"
args = "00"
returns = "01"
"#;

/// The smallest thing the reader takes for a component: the preamble and a
/// few bytes.
pub(crate) fn component() -> Vec<u8> {
    let mut wasm = COMPONENT_PREAMBLE.to_vec();
    wasm.extend_from_slice(b"body");
    wasm
}

/// A GNU header with its name written straight into the name field, so that
/// paths `tar::Builder` would refuse (`..`, absolute) can be made.
pub(crate) fn header(kind: u8, path: &[u8], size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.as_old_mut().name[..path.len()].copy_from_slice(path);
    header.set_entry_type(EntryType::new(kind));
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_cksum();
    header
}

/// A link header with its target written straight into the link field.
pub(crate) fn link_header(kind: u8, path: &[u8], target: &[u8]) -> Header {
    let mut header = header(kind, path, 0);
    header.as_old_mut().linkname[..target.len()].copy_from_slice(target);
    header.set_cksum();
    header
}

/// A tar stream assembled header by header.
#[derive(Default)]
pub(crate) struct RawTar(Vec<u8>);

impl RawTar {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Starts with the three required files.
    pub(crate) fn valid() -> Self {
        Self::new()
            .file("surrealism/mod.wasm", &component())
            .file("surrealism/surrealism.toml", CONFIG.as_bytes())
            .file("surrealism/exports.toml", EXPORTS.as_bytes())
    }

    pub(crate) fn file(self, path: &str, data: &[u8]) -> Self {
        self.entry(b'0', path.as_bytes(), data)
    }

    pub(crate) fn dir(self, path: &str) -> Self {
        self.entry(b'5', path.as_bytes(), &[])
    }

    pub(crate) fn entry(self, kind: u8, path: &[u8], data: &[u8]) -> Self {
        let header = header(kind, path, data.len() as u64);
        self.raw(&header, data)
    }

    /// Appends a header and data as given, padded to a block.
    pub(crate) fn raw(mut self, header: &Header, data: &[u8]) -> Self {
        self.0.extend_from_slice(header.as_bytes());
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0, pad));
        self
    }

    pub(crate) fn tar(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&[0; 1024]);
        self.0
    }

    pub(crate) fn package(self) -> Vec<u8> {
        zstd::encode_all(&self.tar()[..], 0).unwrap()
    }
}

/// Options that extract under `base`, a directory the test owns.
pub(crate) fn options(base: &TempDir) -> ReadOptions {
    ReadOptions::default().with_temp_base(base.path().to_path_buf())
}

pub(crate) fn read(bytes: &[u8], base: &TempDir) -> Result<Package, PackageError> {
    Package::from_bytes(bytes, &options(base))
}

/// Every file and directory under `dir`, recursively, sorted.
pub(crate) fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                pending.push(path.clone());
            }
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Whether `dir` is empty: what a read leaves behind in its `temp_base`.
pub(crate) fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

/// The entries of a package as the tar crate lists them (long names
/// resolved), with their headers.
pub(crate) fn entries(package: &[u8]) -> Vec<(String, Header)> {
    let decoder = zstd::Decoder::new(package).unwrap();
    let mut archive = tar::Archive::new(decoder);
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
            (path, entry.header().clone())
        })
        .collect()
}

/// The bytes of one entry of a package, read with the tar crate alone.
pub(crate) fn entry_data(package: &[u8], wanted: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let decoder = zstd::Decoder::new(package).unwrap();
    let mut archive = tar::Archive::new(decoder);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path_bytes().as_ref() == wanted.as_bytes() {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            return Some(data);
        }
    }
    None
}
