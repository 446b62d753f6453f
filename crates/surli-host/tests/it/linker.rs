//! The linker defines everything a guest may import.

use surli_host::build_linker;
use wasmtime::Store;

use crate::components::{component, engine, importer, wrong_import};
use crate::state;

#[tokio::test]
async fn every_host_function_and_wasi_at_any_0_2_version_links() {
    let engine = engine();
    let linker = build_linker(&engine).unwrap();
    let component = component(&engine, &importer());
    // Type-checks every import against the linker's definitions.
    let pre = linker.instantiate_pre(&component).unwrap();
    let mut store = Store::new(&engine, state());
    store.limiter(|state| state.limiter_mut());
    pre.instantiate_async(&mut store).await.unwrap();
}

#[test]
fn a_mistyped_import_is_refused() {
    let engine = engine();
    let linker = build_linker(&engine).unwrap();
    let component = component(&engine, &wrong_import());
    let Err(error) = linker.instantiate_pre(&component) else {
        panic!("a mistyped import was accepted");
    };
    assert!(format!("{error:#}").contains("kv-count"), "{error:#}");
}
