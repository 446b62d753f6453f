//! Every item of 0.6.5 that SurrealDB 3.3.5 names (`surrealdb-core`'s
//! `surrealism` modules, `ctx/context.rs`, `legacy/expr/module.rs`,
//! `statements/info.rs`, and `surrealdb-server`'s `cli/module`), named the
//! way that code names it: if this file compiles, SurrealDB's uses of the
//! crate resolve. Struct literals name every field, as SurrealDB's do, so a
//! field added or renamed fails here first.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use surrealism_runtime::capabilities::{FunctionTargets, SurrealismCapabilities};
use surrealism_runtime::config::{AbiVersion, SurrealismConfig, SurrealismMeta, Target};
use surrealism_runtime::controller::Controller;
use surrealism_runtime::exports::{ExportsManifest, FunctionExport};
use surrealism_runtime::host::InvocationContext;
use surrealism_runtime::kv::{BTreeMapStore, KVStore, MAX_KV_KEY_BYTES};
use surrealism_runtime::package::{
    AttachedFs, DEFAULT_MAX_FS_BYTES, MAX_LOGO_BYTES, SurrealismPackage, UnpackOptions,
    exports_manifest_from_reader, verify_logo,
};
use surrealism_runtime::runtime::Runtime;
use surrealism_runtime::{
    PrefixErr, ResolvedNetAllow, SDK_VERSION, SurrealismError, resolve_allow_net,
};

/// A context shaped like SurrealDB's `Host` and the server's `DemoHost`.
struct Host {
    kv: Arc<BTreeMapStore>,
}

#[async_trait::async_trait]
impl InvocationContext for Host {
    async fn sql(
        &mut self,
        config: &SurrealismConfig,
        _query: String,
        vars: surrealdb_types::Object,
    ) -> anyhow::Result<surrealdb_types::Value> {
        if !config.capabilities.allow_arbitrary_queries {
            anyhow::bail!("no");
        }
        Ok(surrealdb_types::Value::Object(vars))
    }

    async fn run(
        &mut self,
        config: &SurrealismConfig,
        fnc: String,
        _version: Option<String>,
        args: Vec<surrealdb_types::Value>,
    ) -> anyhow::Result<surrealdb_types::Value> {
        if !config.capabilities.allow_functions.allows(&fnc) {
            anyhow::bail!("not allowed");
        }
        Ok(surrealdb_types::Value::Array(args.into()))
    }

    fn kv(&mut self) -> anyhow::Result<&dyn KVStore> {
        Ok(&*self.kv)
    }

    fn stdout(&mut self, _output: &str) -> anyhow::Result<()> {
        Ok(())
    }

    fn stderr(&mut self, _output: &str) -> anyhow::Result<()> {
        Ok(())
    }

    fn stdout_callback(&self) -> Arc<dyn Fn(&str) + Send + Sync> {
        Arc::new(|_| {})
    }

    fn stderr_callback(&self) -> Arc<dyn Fn(&str) + Send + Sync> {
        Arc::new(|_| {})
    }
}

/// SurrealDB core: loading a module from a bucket's bytes, then a call.
#[allow(dead_code)]
async fn core_uses(surli: Vec<u8>, temp: &Path) -> anyhow::Result<surrealdb_types::Value> {
    let unpack_opts = UnpackOptions {
        temp_base: Some(temp),
        temp_prefix: "SURREAL_MODFS_",
        max_fs_bytes: DEFAULT_MAX_FS_BYTES,
    };
    let package = SurrealismPackage::from_reader(std::io::Cursor::new(surli), &unpack_opts)?;
    let caps: &SurrealismCapabilities = &package.config.capabilities;
    let _ = (
        caps.allow_scripting,
        &caps.allow_net,
        caps.allow_arbitrary_queries,
    );
    match &caps.allow_functions {
        FunctionTargets::None | FunctionTargets::All => {}
        FunctionTargets::Some(patterns) => {
            let _: &Vec<String> = patterns;
        }
    }
    let _org: String = package.config.meta.organisation.clone();
    let _name: String = package.config.meta.name.clone();
    let runtime = tokio::task::spawn_blocking(move || {
        Runtime::new(
            package,
            8,
            Some(1 << 20),
            Some(Duration::from_millis(5)),
            Some(10),
            Some(100),
        )
    })
    .await??;
    let runtime = Arc::new(runtime);
    let kv: Arc<BTreeMapStore> = Arc::clone(runtime.kv_store());
    let export: &FunctionExport = runtime.get_signature(Some("f"))?;
    let _ = (&export.args, &export.returns, export.writeable);
    let manifest: &ExportsManifest = runtime.exports();
    for f in &manifest.functions {
        let _ = (&f.name, &f.args, &f.returns, f.writeable, &f.comment);
    }
    let mut controller: Controller = runtime.acquire_controller(Box::new(Host { kv })).await?;
    let args: Vec<surrealdb_types::Value> = vec![];
    let result = controller
        .invoke_with_timeout(Some("f".to_owned()), args, Some(Duration::from_secs(1)))
        .await;
    if result.as_ref().is_err_and(|e| e.is_trap()) {
        drop(controller);
    } else {
        runtime.release_controller(controller);
    }
    let _ = exports_manifest_from_reader(std::io::Cursor::new(Vec::<u8>::new()))?;
    Ok(result?)
}

/// SurrealDB server: `surreal module build`, `run`, `info`, `sig`, `init`,
/// `version`.
#[allow(dead_code)]
async fn server_uses(path: PathBuf, wasm: Vec<u8>, out: PathBuf) -> anyhow::Result<()> {
    let _version: &str = SDK_VERSION;
    let mut config = SurrealismConfig::parse("").prefix_err(|| "Failed to parse")?;
    config.abi = AbiVersion::CURRENT;
    if config.target != Target::Rust {
        anyhow::bail!("{}", config.target);
    }
    let new = SurrealismConfig {
        target: Target::Rust,
        meta: SurrealismMeta {
            organisation: "o".to_owned(),
            name: "n".to_owned(),
            version: semver::Version::new(1, 0, 0),
        },
        capabilities: Default::default(),
        abi: AbiVersion::CURRENT,
        attach: Default::default(),
    };
    let _toml: String = new.to_toml()?;
    let _file: String = new.file_name();
    let _fs: &Option<String> = &new.attach.fs;

    let temp_package = SurrealismPackage {
        config: config.clone(),
        wasm: wasm.clone(),
        exports: ExportsManifest::empty(),
        fs: None,
        logo: None,
    };
    let runtime = Runtime::new(temp_package, 1, None, None, None, None)?;
    let mut controller = runtime
        .new_controller(Box::new(Host {
            kv: Arc::new(BTreeMapStore::new()),
        }))
        .await
        .prefix_err(|| "Failed to load WASM module")?;
    let mut functions = Vec::new();
    for name in controller.list().await? {
        let args = controller.args(name.clone()).await?;
        let returns = controller.returns(name.clone()).await?;
        let writeable = controller.writeable(name.clone()).await?;
        let comment = controller.comment(name.clone()).await?;
        functions.push(FunctionExport {
            name,
            args,
            returns,
            args_text: None,
            returns_text: None,
            writeable,
            comment,
        });
    }
    let package = SurrealismPackage {
        config,
        wasm,
        exports: ExportsManifest { functions },
        fs: None,
        logo: None,
    };
    package.pack(out.clone(), Some(path.as_path()))?;

    let package = SurrealismPackage::from_file(out)?;
    let _: Option<&AttachedFs> = package.fs.as_ref();
    if let Some(logo) = &package.logo {
        verify_logo(logo)?;
        let _ = MAX_LOGO_BYTES / 1024;
    }
    if let Some(export) = package.exports.get_signature(None) {
        let _: (String, String) = (export.args_display(), export.returns_display());
    }
    let runtime = Runtime::new(package, 8, None, None, None, None)?;
    let mut controller = runtime
        .new_controller(Box::new(Host {
            kv: Arc::new(BTreeMapStore::with_limits(None, None)),
        }))
        .await?;
    controller.init().await?;
    let _value: surrealdb_types::Value = controller
        .invoke(None, Vec::<surrealdb_types::Value>::new())
        .await?;
    Ok(())
}

/// The rest of the crate root and the types SurrealDB names in bounds.
#[allow(dead_code)]
fn root_items(error: SurrealismError) -> anyhow::Result<()> {
    let _trap: bool = error.is_trap();
    let rules: Arc<Vec<ResolvedNetAllow>> = resolve_allow_net(&["127.0.0.1".to_owned()])?;
    let _ = (rules, MAX_KV_KEY_BYTES);
    Err(error.into())
}

#[test]
fn the_crate_reads_as_0_6_5() {
    assert_eq!(SDK_VERSION, "0.6.5");
    assert_eq!(AbiVersion::CURRENT, AbiVersion(2));
}
