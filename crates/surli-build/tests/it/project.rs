//! Which guests are accepted: the SDK version range, the cdylib check, and
//! finding the package in `cargo metadata`'s output.

use std::path::Path;

use semver::Version;
use serde_json::{Value, json};
use surli_build::{BuildError, Project, SDK_END, SDK_MIN, check_sdk_version};

const GUEST_ID: &str = "path+file:///work/guest#0.1.0";
const GUEST_MANIFEST: &str = "/work/guest/Cargo.toml";

fn sdk_id(version: &str) -> String {
    format!("registry+https://github.com/rust-lang/crates.io-index#surrealism@{version}")
}

/// `cargo metadata`-like output: the guest (with the given library crate
/// types), the SDK at `sdk` (if any) linked as `dep_kind`, and `serde` with
/// a build script that the SDK depends on.
fn metadata(sdk: Option<&str>, crate_types: &[&str], dep_kind: Value) -> Vec<u8> {
    let serde_id = "registry+https://github.com/rust-lang/crates.io-index#serde@1.0.228";
    let mut packages = vec![
        json!({
            "id": GUEST_ID,
            "name": "guest",
            "version": "0.1.0",
            "manifest_path": GUEST_MANIFEST,
            "targets": [{ "name": "guest", "kind": crate_types, "crate_types": crate_types }],
        }),
        json!({
            "id": serde_id,
            "name": "serde",
            "version": "1.0.228",
            "manifest_path": "/registry/serde-1.0.228/Cargo.toml",
            "targets": [
                { "name": "serde", "kind": ["lib"], "crate_types": ["lib"] },
                { "name": "build-script-build", "kind": ["custom-build"], "crate_types": ["bin"] },
            ],
        }),
    ];
    let mut nodes = vec![json!({ "id": serde_id, "deps": [] })];
    let mut guest_deps = Vec::new();
    if let Some(version) = sdk {
        packages.push(json!({
            "id": sdk_id(version),
            "name": "surrealism",
            "version": version,
            "manifest_path": format!("/registry/surrealism-{version}/Cargo.toml"),
            "targets": [{ "name": "surrealism", "kind": ["lib"], "crate_types": ["lib"] }],
        }));
        nodes.push(json!({
            "id": sdk_id(version),
            "deps": [{ "name": "serde", "pkg": serde_id, "dep_kinds": [{ "kind": null, "target": null }] }],
        }));
        guest_deps.push(json!({
            "name": "surrealism",
            "pkg": sdk_id(version),
            "dep_kinds": [{ "kind": dep_kind, "target": null }],
        }));
    }
    nodes.push(json!({ "id": GUEST_ID, "deps": guest_deps }));
    serde_json::to_vec(&json!({
        "packages": packages,
        "workspace_members": [GUEST_ID],
        "resolve": { "nodes": nodes, "root": GUEST_ID },
        "target_directory": "/work/target",
        "version": 1,
        "workspace_root": "/work",
    }))
    .unwrap()
}

fn read(sdk: Option<&str>) -> Result<Project, BuildError> {
    Project::from_metadata(
        &metadata(sdk, &["cdylib"], Value::Null),
        Path::new(GUEST_MANIFEST),
    )
}

#[test]
fn every_abi_2_sdk_is_accepted() {
    for version in ["0.3.1", "0.3.9", "0.4.0", "0.5.2", "0.6.5", "0.6.99"] {
        let project = read(Some(version)).unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(project.sdk_version, Version::parse(version).unwrap());
        assert_eq!(project.name, "guest");
        assert_eq!(project.id, GUEST_ID);
        assert_eq!(project.target_directory, Path::new("/work/target"));
        // guest + surrealism + serde, and serde's build script.
        assert_eq!(project.units_estimate, 4);
    }
}

#[test]
fn other_sdks_are_refused_with_the_version_the_range_and_the_fix() {
    for version in ["0.2.0", "0.3.0", "0.7.0", "0.7.0-beta.1", "1.0.0"] {
        let error = read(Some(version)).unwrap_err();
        assert!(
            matches!(&error, BuildError::Sdk { found: Some(found), .. } if found.to_string() == version),
            "{version}: {error:?}"
        );
        let message = error.to_string();
        for part in [
            "`guest`",
            &format!("surrealism {version}"),
            "0.3.1 to 0.6.x",
            ">= 0.3.1, < 0.7.0",
            "surrealism = \"0.3.1\"",
            "Cargo.toml",
        ] {
            assert!(
                message.contains(part),
                "{version}: `{part}` missing from: {message}"
            );
        }
    }
}

#[test]
fn a_guest_without_the_sdk_is_refused() {
    let error = read(None).unwrap_err();
    assert!(
        matches!(error, BuildError::Sdk { found: None, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("does not depend on the `surrealism`"),
        "{message}"
    );
    assert!(message.contains("surrealism = \"0.3.1\""), "{message}");
}

#[test]
fn a_dev_dependency_on_the_sdk_is_not_enough() {
    let json = metadata(Some("0.3.1"), &["cdylib"], json!("dev"));
    let error = Project::from_metadata(&json, Path::new(GUEST_MANIFEST)).unwrap_err();
    assert!(
        matches!(error, BuildError::Sdk { found: None, .. }),
        "{error:?}"
    );
}

#[test]
fn the_version_check_is_a_range_on_the_release() {
    let check = |v: &str| check_sdk_version("guest", Some(&Version::parse(v).unwrap()));
    assert!(check(&SDK_MIN.to_string()).is_ok());
    assert!(check(&SDK_END.to_string()).is_err());
    assert!(check("0.6.5").is_ok());
    assert!(check("0.3.1-rc.1").is_ok());
    assert!(check("0.3.0").is_err());
    assert!(check("0.6.5-beta.2").is_ok());
    assert!(check("0.7.0-beta.1").is_err());
    assert!(check_sdk_version("guest", None).is_err());
}

#[test]
fn a_crate_that_is_not_a_cdylib_is_refused() {
    for crate_types in [&["lib"][..], &["rlib", "staticlib"], &[]] {
        let json = metadata(Some("0.3.1"), crate_types, Value::Null);
        let error = Project::from_metadata(&json, Path::new(GUEST_MANIFEST)).unwrap_err();
        assert!(matches!(error, BuildError::NotCdylib { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("crate-type = [\"cdylib\"]"), "{message}");
        assert!(message.contains(GUEST_MANIFEST), "{message}");
    }
}

#[test]
fn a_manifest_that_is_no_package_is_refused() {
    let json = metadata(Some("0.3.1"), &["cdylib"], Value::Null);
    let error = Project::from_metadata(&json, Path::new("/work/Cargo.toml")).unwrap_err();
    assert!(matches!(error, BuildError::NotAPackage { .. }), "{error:?}");
    assert!(error.to_string().contains("/work/Cargo.toml"));
}

#[test]
fn output_that_is_not_metadata_is_an_error() {
    let error =
        Project::from_metadata(b"{\"packages\": 3}", Path::new(GUEST_MANIFEST)).unwrap_err();
    assert!(matches!(error, BuildError::Metadata { .. }), "{error:?}");
}
