//! What a build needs to know about the guest crate before compiling it:
//! its `surrealism.toml`, and from `cargo metadata` which package it is,
//! whether it is a cdylib and which `surrealism` SDK it resolves to.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use surli_config::{ConfigWarning, ModuleConfig, ParseOptions};

use crate::error::BuildError;

/// The first guest SDK release this crate builds: 0.3.0 predates the
/// component ABI that every later 0.x release shares.
pub const SDK_MIN: semver::Version = semver::Version::new(0, 3, 1);
/// The first guest SDK release with another ABI (0.7 speaks ABI 4); builds
/// are refused from here on, pre-releases of it included.
pub const SDK_END: semver::Version = semver::Version::new(0, 7, 0);
/// [`SDK_MIN`] to [`SDK_END`] in words, for messages.
pub(crate) const SDK_ACCEPTED: &str = "0.3.1 to 0.6.x (>= 0.3.1, < 0.7.0)";
/// The dependency line a message suggests.
pub(crate) const SDK_SUGGESTED: &str = "0.3.1";
/// The name of the guest SDK crate.
const SDK_CRATE: &str = "surrealism";

/// Checks that `found`, the `surrealism` version a guest resolves to, is an
/// SDK of ABI 2: from 0.3.1 up to, not including, 0.7.0. Pre-release tags
/// are ignored, so `0.7.0-beta.1` (ABI 4) is refused like 0.7.0. `None`,
/// no dependency on the SDK at all, is refused too.
pub fn check_sdk_version(package: &str, found: Option<&semver::Version>) -> Result<(), BuildError> {
    let refused = || BuildError::Sdk {
        package: package.to_owned(),
        found: found.cloned(),
    };
    let version = found.ok_or_else(refused)?;
    let triple = (version.major, version.minor, version.patch);
    let min = (SDK_MIN.major, SDK_MIN.minor, SDK_MIN.patch);
    let end = (SDK_END.major, SDK_END.minor, SDK_END.patch);
    if triple >= min && triple < end {
        Ok(())
    } else {
        Err(refused())
    }
}

/// Reads the project's `surrealism.toml` and stamps `abi = 2` on it, as
/// `surreal module build` does: the ABI is the SDK's, checked through
/// cargo, not the author's to declare. Unknown keys are warnings.
pub(crate) fn read_config(
    project_dir: &Path,
) -> Result<(ModuleConfig, Vec<ConfigWarning>, PathBuf), BuildError> {
    let path = project_dir.join("surrealism.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| BuildError::Config {
        path: path.clone(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "cannot read it ({e}); a Surrealism guest crate has a surrealism.toml beside \
                 its Cargo.toml, with at least `[package]` `organisation`, `name` and `version`"
            )
        } else {
            format!("cannot read it: {e}")
        },
    })?;
    let parsed =
        ModuleConfig::parse(&text, ParseOptions::default()).map_err(|e| BuildError::Config {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let mut config = parsed.config;
    config.abi = Some(ModuleConfig::SUPPORTED_ABI);
    Ok((config, parsed.warnings, path))
}

/// The guest crate, as `cargo metadata` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The package's name.
    pub name: String,
    /// The package's version.
    pub version: semver::Version,
    /// Cargo's id of the package, as its JSON messages name it.
    pub id: String,
    /// The package's `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The `surrealism` SDK version it depends on (checked: ABI 2).
    pub sdk_version: semver::Version,
    /// Cargo's target directory for the workspace (`CARGO_TARGET_DIR` and
    /// `build.target-dir` included).
    pub target_directory: PathBuf,
    /// About how many compilation units a cold build runs: the packages the
    /// guest depends on for wasm32-wasip2, the guest itself, and a build
    /// script for each package that has one.
    pub units_estimate: usize,
    /// Package names by cargo id, to name what each artifact message built.
    names: HashMap<String, String>,
}

impl Project {
    /// Finds the package whose manifest is `manifest_path` in the output of
    /// `cargo metadata --format-version 1` and checks it: a `cdylib` library,
    /// and a direct dependency on a `surrealism` SDK of ABI 2
    /// (see [`check_sdk_version`]).
    pub fn from_metadata(json: &[u8], manifest_path: &Path) -> Result<Self, BuildError> {
        let metadata: Metadata =
            serde_json::from_slice(json).map_err(|e| BuildError::Metadata {
                dir: manifest_path
                    .parent()
                    .map_or_else(PathBuf::new, Path::to_path_buf),
                message: format!("its output is not the JSON this tool reads: {e}"),
            })?;
        let package = metadata
            .packages
            .iter()
            .find(|p| p.manifest_path == manifest_path)
            .or_else(|| {
                let wanted = std::fs::canonicalize(manifest_path).ok()?;
                metadata.packages.iter().find(|p| {
                    std::fs::canonicalize(&p.manifest_path).ok().as_ref() == Some(&wanted)
                })
            })
            .ok_or_else(|| BuildError::NotAPackage {
                manifest: manifest_path.to_path_buf(),
            })?;

        let by_id: HashMap<&str, &Package> = metadata
            .packages
            .iter()
            .map(|p| (p.id.as_str(), p))
            .collect();
        let node = metadata
            .resolve
            .as_ref()
            .and_then(|r| r.nodes.iter().find(|n| n.id == package.id));
        // A dev-dependency on the SDK is not enough: the guest's library
        // must link it.
        let sdk = node.and_then(|node| {
            node.deps
                .iter()
                .filter(|dep| dep.dep_kinds.iter().any(|k| k.kind.is_none()))
                .filter_map(|dep| by_id.get(dep.pkg.as_str()))
                .find(|p| p.name == SDK_CRATE)
        });
        check_sdk_version(&package.name, sdk.map(|p| &p.version))?;
        let sdk_version = sdk.map(|p| p.version.clone()).unwrap_or(SDK_MIN);

        let lib = package.targets.iter().find(|t| {
            t.kind.iter().any(|k| {
                matches!(
                    k.as_str(),
                    "lib" | "cdylib" | "rlib" | "dylib" | "staticlib"
                )
            })
        });
        let crate_types = lib.map(|t| t.crate_types.clone()).unwrap_or_default();
        if !crate_types.iter().any(|t| t == "cdylib") {
            return Err(BuildError::NotCdylib {
                package: package.name.clone(),
                manifest: package.manifest_path.clone(),
                crate_types,
            });
        }

        let units_estimate = metadata
            .resolve
            .as_ref()
            .map_or(1, |resolve| estimate_units(resolve, &by_id, &package.id));
        Ok(Self {
            name: package.name.clone(),
            version: package.version.clone(),
            id: package.id.clone(),
            manifest_path: package.manifest_path.clone(),
            sdk_version,
            target_directory: metadata.target_directory,
            units_estimate,
            names: metadata
                .packages
                .iter()
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
        })
    }

    /// The name of the package cargo calls `id`, if the metadata had it.
    pub(crate) fn package_name(&self, id: &str) -> Option<&str> {
        self.names.get(id).map(String::as_str)
    }
}

/// The packages reachable from `root` through normal and build
/// dependencies, plus one unit for each build script among them.
fn estimate_units(resolve: &Resolve, by_id: &HashMap<&str, &Package>, root: &str) -> usize {
    let nodes: HashMap<&str, &Node> = resolve.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut pending = vec![root];
    while let Some(id) = pending.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(node) = nodes.get(id) {
            for dep in &node.deps {
                let linked = dep
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind.as_deref() != Some("dev"));
                if linked {
                    pending.push(dep.pkg.as_str());
                }
            }
        }
    }
    let scripts = seen
        .iter()
        .filter_map(|id| by_id.get(id))
        .filter(|p| {
            p.targets
                .iter()
                .any(|t| t.kind.iter().any(|k| k == "custom-build"))
        })
        .count();
    seen.len() + scripts
}

/// The part of `cargo metadata`'s output this crate reads.
#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    resolve: Option<Resolve>,
    target_directory: PathBuf,
}

#[derive(Debug, Deserialize)]
struct Package {
    id: String,
    name: String,
    version: semver::Version,
    manifest_path: PathBuf,
    #[serde(default)]
    targets: Vec<Target>,
}

#[derive(Debug, Deserialize)]
struct Target {
    #[serde(default)]
    kind: Vec<String>,
    #[serde(default)]
    crate_types: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    deps: Vec<NodeDep>,
}

#[derive(Debug, Deserialize)]
struct NodeDep {
    pkg: String,
    #[serde(default)]
    dep_kinds: Vec<DepKind>,
}

#[derive(Debug, Deserialize)]
struct DepKind {
    kind: Option<String>,
}
