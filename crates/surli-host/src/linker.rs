//! The linker every instance of a Surrealism plugin is created from.

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings::surrealism::plugin::host;
use crate::{HostError, HostState};

/// A linker with everything a Surrealism guest may import: all of WASI 0.2
/// (async), `wasi:http` 0.2 for outbound requests (`types` and
/// `outgoing-handler`; surli's extension, see `http`), and
/// `surrealism:plugin/host`.
///
/// Build it once per engine and share it; instantiate with
/// `instantiate_pre` once per component. WASI is defined at the version
/// wasmtime-wasi implements (0.2.x); wasmtime matches a guest's import of
/// any other 0.2 version to it by semver, so guests built against WASI
/// 0.2.0 and later minor versions all link. The `surrealism:plugin/types`
/// interface holds only types and needs no definition.
///
/// The engine must have async support on (wasmtime 48 does so whenever its
/// `async` feature is built), because the host functions are async.
///
/// # Errors
///
/// [`HostError::Linker`] if a definition clashes, which would be a bug.
pub fn build_linker(engine: &Engine) -> Result<Linker<HostState>, HostError> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|error| HostError::Linker {
        message: format!("wasi: {error:#}"),
    })?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(|error| {
        HostError::Linker {
            message: format!("wasi:http: {error:#}"),
        }
    })?;
    host::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state).map_err(
        |error| HostError::Linker {
            message: format!("surrealism:plugin/host: {error:#}"),
        },
    )?;
    Ok(linker)
}
