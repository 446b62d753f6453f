//! What a package holds and where: entry names, magic numbers, and which
//! entry paths are safe to act on.

use std::path::{Component, Path};

use crate::error::PackageError;

/// The guest component.
pub const WASM_ENTRY: &str = "surrealism/mod.wasm";
/// The module configuration.
pub const CONFIG_ENTRY: &str = "surrealism/surrealism.toml";
/// The exported functions and their signatures.
pub const EXPORTS_ENTRY: &str = "surrealism/exports.toml";
/// The optional logo.
pub const LOGO_ENTRY: &str = "surrealism/logo.png";
/// The attached directory, mounted read-only at `/` in the guest.
pub const FS_ENTRY: &str = "surrealism/fs";

/// The first eight bytes of every WebAssembly component: the `\0asm` magic,
/// then version `0x0d` and layer `1`. A core module has version 1, layer 0.
pub const COMPONENT_PREAMBLE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// The eight-byte signature every PNG file starts with.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

const CORE_MODULE_PREAMBLE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/// Checks that `wasm` starts like a component; the error says what it looks
/// like instead.
pub(crate) fn check_component(wasm: &[u8]) -> Result<(), PackageError> {
    if wasm.starts_with(&COMPONENT_PREAMBLE) {
        return Ok(());
    }
    let found = if wasm.starts_with(&CORE_MODULE_PREAMBLE) {
        "a core WebAssembly module"
    } else if wasm.starts_with(b"\0asm") {
        "a WebAssembly binary of an unknown version"
    } else {
        "not WebAssembly at all"
    };
    Err(PackageError::NotAComponent { found })
}

/// Checks the logo's size and signature. The size is checked again here
/// because the writer takes logos from callers, not from an archive.
pub(crate) fn check_logo(logo: &[u8], limit: u64) -> Result<(), PackageError> {
    let size = logo.len() as u64;
    if size > limit {
        return Err(PackageError::EntryTooLarge {
            path: LOGO_ENTRY.to_owned(),
            size,
            limit,
            cap: "max_logo_bytes",
        });
    }
    if !logo.starts_with(&PNG_SIGNATURE) {
        return Err(PackageError::BadLogo {
            reason: "it does not start with the PNG signature; only PNG logos are supported"
                .to_owned(),
        });
    }
    Ok(())
}

/// An entry path that passed every check: UTF-8, relative, and made only of
/// plain names, so joining its segments onto a directory cannot leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryPath {
    /// The path without a trailing slash; what duplicates are detected on.
    pub(crate) text: String,
    /// Whether the stored path ended in `/`, the old way to mark a directory.
    pub(crate) trailing_slash: bool,
}

impl EntryPath {
    /// Validates a path as stored in an archive.
    pub(crate) fn parse(raw: &[u8]) -> Result<Self, PackageError> {
        let unsafe_path = |reason: &'static str| PackageError::UnsafePath {
            path: String::from_utf8_lossy(raw).into_owned(),
            reason,
        };
        let text = std::str::from_utf8(raw).map_err(|_| unsafe_path("it is not UTF-8"))?;
        problem(text).map_err(unsafe_path)?;
        let (text, trailing_slash) = match text.strip_suffix('/') {
            Some(stripped) => (stripped, true),
            None => (text, false),
        };
        Ok(Self {
            text: text.to_owned(),
            trailing_slash,
        })
    }
}

/// Why `text` is not a safe relative path, or `Ok` if it is.
///
/// The rules are the same on every platform, so whether a package loads
/// never depends on where it is read.
pub(crate) fn problem(text: &str) -> Result<(), &'static str> {
    if text.is_empty() {
        return Err("it is empty");
    }
    if text.starts_with('/') {
        return Err("it is absolute");
    }
    if text.contains('\0') {
        return Err("it contains a NUL byte");
    }
    if text.contains('\\') {
        return Err("it contains a backslash, which Windows reads as a separator");
    }
    let body = text.strip_suffix('/').unwrap_or(text);
    for (index, segment) in body.split('/').enumerate() {
        match segment {
            "" => return Err("it has an empty component (`//`)"),
            "." => return Err("it has a `.` component"),
            ".." => return Err("it has a `..` component, which could escape the directory"),
            _ => {}
        }
        if index == 0 && is_drive_prefix(segment) {
            return Err("it starts with a Windows drive prefix");
        }
        // Whatever else the host's own path rules would read as more than
        // one plain name (a prefix on Windows, say) is refused too.
        let mut components = Path::new(segment).components();
        let plain = matches!(components.next(), Some(Component::Normal(name)) if name == segment)
            && components.next().is_none();
        if !plain {
            return Err("it is not a plain relative path on this platform");
        }
    }
    Ok(())
}

fn is_drive_prefix(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// Where an entry belongs in a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place<'a> {
    /// `surrealism/` itself.
    LayoutDir,
    /// `surrealism/fs`, the attached directory's root.
    FsRoot,
    /// `surrealism/mod.wasm`.
    Wasm,
    /// `surrealism/surrealism.toml`.
    Config,
    /// `surrealism/exports.toml`.
    Exports,
    /// `surrealism/logo.png`.
    Logo,
    /// Something under `surrealism/fs/`, as its path relative to it.
    Fs(&'a str),
    /// Inside `surrealism/` but not part of the layout.
    Unknown,
    /// Outside `surrealism/`.
    Outside,
}

impl<'a> Place<'a> {
    pub(crate) fn of(path: &'a EntryPath) -> Self {
        let text = path.text.as_str();
        match text {
            "surrealism" => Self::LayoutDir,
            FS_ENTRY => Self::FsRoot,
            WASM_ENTRY => Self::Wasm,
            CONFIG_ENTRY => Self::Config,
            EXPORTS_ENTRY => Self::Exports,
            LOGO_ENTRY => Self::Logo,
            _ => match text.strip_prefix("surrealism/fs/") {
                Some(rest) => Self::Fs(rest),
                None if text.starts_with("surrealism/") => Self::Unknown,
                None => Self::Outside,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths_pass() {
        for ok in [
            "a",
            "a/b",
            "surrealism/fs/x y/z.txt",
            "dir/",
            "x/a:b",
            "data:2024.txt",
        ] {
            assert_eq!(problem(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn escaping_paths_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "./a",
            "a//b",
            "a\\b",
            "C:/x",
            "c:",
            "a/..",
        ] {
            assert!(problem(bad).is_err(), "{bad:?}");
        }
    }
}
