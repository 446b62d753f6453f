//! What a module exports, asked of the module itself, and how that
//! compares with its `exports.toml`.

use std::collections::BTreeMap;
use std::sync::Arc;

use surli_host::{CallInfo, NullContext};
use surli_package::{ExportsManifest, FunctionExport};
use surrealdb_types::Kind;

use crate::error::{CallError, CallPhase};
use crate::instance::Instance;
use crate::module::ModuleInner;

/// One exported function, as the module reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSignature {
    /// The name; `None` for the default export.
    pub name: Option<String>,
    /// Argument names and kinds, in order.
    pub args: Vec<(String, Kind)>,
    /// The return kind.
    pub returns: Kind,
    /// Whether the function may write.
    pub writeable: bool,
    /// The author's comment.
    pub comment: Option<String>,
    args_encoded: Vec<u8>,
    returns_encoded: Vec<u8>,
}

impl FunctionSignature {
    /// The function as an `exports.toml` entry, in the form the official
    /// build tool writes: the module's own FlatBuffers bytes (hex in the
    /// file) plus their text forms.
    pub fn to_export(&self) -> FunctionExport {
        FunctionExport {
            name: self.name.clone(),
            args: self.args_encoded.clone(),
            returns: self.returns_encoded.clone(),
            args_text: Some(
                self.args
                    .iter()
                    .map(|(name, kind)| format!("{name}: {kind}"))
                    .collect(),
            ),
            returns_text: Some(self.returns.to_string()),
            writeable: self.writeable,
            comment: self.comment.clone(),
            extra: Default::default(),
        }
    }
}

impl FunctionSignature {
    /// About how many bytes the signature holds, for bounds in bytes.
    pub(crate) fn weight(&self) -> u64 {
        let name = self.name.as_ref().map_or(0, String::len);
        let comment = self.comment.as_ref().map_or(0, String::len);
        let args: usize = self.args.iter().map(|(name, _)| name.len() + 32).sum();
        (name + comment + args + self.args_encoded.len() + self.returns_encoded.len() + 64) as u64
    }

    /// The signature an `exports.toml` entry written by
    /// [`to_export`](Self::to_export) holds, decoded from its bytes.
    pub(crate) fn from_export(export: &FunctionExport) -> Result<Self, surli_host::HostError> {
        Ok(Self {
            name: export.name.clone(),
            args: surli_host::codec::decode_arguments(&export.args)?,
            returns: surli_host::codec::decode_kind(&export.returns)?,
            writeable: export.writeable,
            comment: export.comment.clone(),
            args_encoded: export.args.clone(),
            returns_encoded: export.returns.clone(),
        })
    }
}

/// An `exports.toml` manifest for these functions.
pub fn exports_manifest(functions: &[FunctionSignature]) -> ExportsManifest {
    ExportsManifest {
        functions: functions.iter().map(FunctionSignature::to_export).collect(),
        extra: Default::default(),
    }
}

/// Instantiates the module once, without `init` (as the official build
/// tool does), and asks it for every function's signature. `None` when the
/// module cannot describe itself: the describing exports are optional in
/// the world, and a module without `list-functions`, `function-args` or
/// `function-returns`, or one of whose describing exports answers with an
/// error, still runs, with its signatures unknown.
pub(crate) async fn probe(
    module: &ModuleInner,
) -> Result<Option<Vec<FunctionSignature>>, CallError> {
    match describe_all(module).await {
        Err(CallError::MissingExport { export, .. }) => {
            tracing::debug!(module = %module.id, export, "the module does not describe itself");
            Ok(None)
        }
        // A describing export that answers with an error: the module runs
        // (the original never asked at load), its signatures are unknown.
        Err(CallError::Guest { message }) => {
            tracing::debug!(module = %module.id, %message, "the module refused to describe itself");
            Ok(None)
        }
        other => other.map(Some),
    }
}

async fn describe_all(module: &ModuleInner) -> Result<Vec<FunctionSignature>, CallError> {
    let mut instance = module.new_instance(None).await?;
    // The probe is never pooled: `init` did not run in it.
    module.counters.instance_discarded();
    // The epoch deadline armed at instantiation stops a guest that loops;
    // the wall clock stops one blocked in a host call (a KV store that
    // never answers), so a load cannot hang on the probe.
    let limit = crate::instance::own_limit(module, CallPhase::Describe);
    crate::instance::guard(module, limit, ask(module, &mut instance)).await?
}

/// Asks the probe instance for every function's signature.
async fn ask(
    module: &ModuleInner,
    instance: &mut Instance,
) -> Result<Vec<FunctionSignature>, CallError> {
    let info = CallInfo::introspect(Arc::clone(module.env.module()), None);
    let (exports, store) = instance.parts();
    store.data_mut().set_call(Arc::new(NullContext), info);
    let missing = |export| CallError::MissingExport {
        module: module.id.clone(),
        export,
    };
    let trap = |e: surli_engine::wasmtime::Error| CallError::Trap {
        message: format!("{e:#}"),
    };
    let guest = |message| CallError::Guest { message };

    let names = exports
        .list_functions(&mut *store)
        .await
        .map_err(trap)?
        .ok_or_else(|| missing("list-functions"))?;
    let mut signatures = Vec::with_capacity(names.len());
    for name in names {
        let n = name.as_deref();
        let args_encoded = exports
            .function_args(&mut *store, n)
            .await
            .map_err(trap)?
            .ok_or_else(|| missing("function-args"))?
            .map_err(guest)?;
        let returns_encoded = exports
            .function_returns(&mut *store, n)
            .await
            .map_err(trap)?
            .ok_or_else(|| missing("function-returns"))?
            .map_err(guest)?;
        let writeable = exports
            .function_writeable(&mut *store, n)
            .await
            .map_err(trap)?
            .transpose()
            .map_err(guest)?
            .unwrap_or(false);
        let comment = exports
            .function_comment(&mut *store, n)
            .await
            .map_err(trap)?
            .transpose()
            .map_err(guest)?
            .flatten();
        signatures.push(FunctionSignature {
            args: surli_host::codec::decode_arguments(&args_encoded).map_err(CallError::Codec)?,
            returns: surli_host::codec::decode_kind(&returns_encoded).map_err(CallError::Codec)?,
            name,
            writeable,
            comment,
            args_encoded,
            returns_encoded,
        });
    }
    Ok(signatures)
}

/// Every way `manifest` disagrees with what the module reports.
pub(crate) fn compare(manifest: &ExportsManifest, live: &[FunctionSignature]) -> Vec<String> {
    let shown = |name: &Option<String>| name.clone().unwrap_or_else(|| "<default>".to_owned());
    let listed: BTreeMap<Option<String>, &FunctionExport> = manifest
        .functions
        .iter()
        .map(|f| (f.name.clone(), f))
        .collect();
    let mut problems = Vec::new();
    for function in live {
        let Some(entry) = listed.get(&function.name) else {
            problems.push(format!(
                "`{}` is exported by the module but not listed",
                shown(&function.name)
            ));
            continue;
        };
        if entry.writeable != function.writeable {
            problems.push(format!(
                "`{}` is {} in the module but {} in exports.toml",
                shown(&function.name),
                writeable_word(function.writeable),
                writeable_word(entry.writeable)
            ));
        }
        match surli_host::codec::decode_arguments(&entry.args) {
            Ok(args) if args == function.args => {}
            Ok(_) => problems.push(format!("`{}` has other arguments", shown(&function.name))),
            Err(e) => problems.push(format!("`{}` args: {e}", shown(&function.name))),
        }
        match surli_host::codec::decode_kind(&entry.returns) {
            Ok(kind) if kind == function.returns => {}
            Ok(_) => problems.push(format!(
                "`{}` has another return kind",
                shown(&function.name)
            )),
            Err(e) => problems.push(format!("`{}` returns: {e}", shown(&function.name))),
        }
    }
    for name in listed.keys() {
        if !live.iter().any(|f| &f.name == name) {
            problems.push(format!(
                "`{}` is listed but the module does not export it",
                shown(name)
            ));
        }
    }
    problems
}

fn writeable_word(writeable: bool) -> &'static str {
    if writeable { "writeable" } else { "read-only" }
}
