//! Rewriting a component section by section: dropping custom sections and
//! replacing its core modules, at any depth of nesting.
//!
//! wasmparser finds the sections and wasm-encoder writes them back; every
//! section that is kept is copied as the same bytes under a fresh header.

use std::ops::Range;

use wasm_encoder::{Component, Module, ModuleSection, NestedComponentSection, RawSection};
use wasmparser::{Chunk, Encoding, Parser, Payload, Validator, WasmFeatures};

use crate::error::BuildError;

/// Whether a release build drops the custom section `name`: the list
/// `surreal module build` strips (debug info, names, source maps, linker
/// metadata, target features and producers). Everything else stays,
/// `component-type*` sections included.
pub fn is_stripped_section(name: &str) -> bool {
    name.starts_with(".debug")
        || name.starts_with("reloc.")
        || name.starts_with("linking")
        || matches!(
            name,
            "name" | "sourceMappingURL" | "target_features" | "producers"
        )
}

/// Drops the custom sections [`is_stripped_section`] names from a component
/// and from every core module and component nested in it (or from a core
/// module, if that is what `wasm` is). Every other section is kept, in
/// order and byte for byte.
pub fn strip_custom_sections(wasm: &[u8]) -> Result<Vec<u8>, BuildError> {
    match encoding(wasm)? {
        Encoding::Module => Ok(core_module(wasm)?.finish()),
        Encoding::Component => Ok(component(wasm, &mut |bytes| core_module(bytes))?.finish()),
    }
}

/// Rebuilds a component with every core module (at any depth) replaced by
/// what `replace` makes of it; custom sections are stripped on the way.
/// `replace` sees the modules in the order they appear in the binary.
pub(crate) fn replace_modules(
    wasm: &[u8],
    replace: &mut dyn FnMut(&[u8]) -> Result<Module, BuildError>,
) -> Result<Vec<u8>, BuildError> {
    Ok(component(wasm, replace)?.finish())
}

/// Checks that `wasm` is a valid component (or module).
pub(crate) fn validate(wasm: &[u8]) -> Result<(), BuildError> {
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(wasm)
        .map(|_| ())
        .map_err(|e| BuildError::wasm("the rewritten component does not validate", &e))
}

/// A core module with the stripped custom sections dropped.
pub(crate) fn core_module(wasm: &[u8]) -> Result<Module, BuildError> {
    let mut module = Module::new();
    for section in sections(wasm)? {
        match section {
            Section::Raw { id, data } => {
                module.section(&RawSection { id, data });
            }
            Section::Custom { name, data } => {
                if !is_stripped_section(name) {
                    module.section(&RawSection { id: 0, data });
                }
            }
            Section::Module(_) | Section::Component(_) => {
                return Err(BuildError::Wasm {
                    message: "a core module holds a nested module or component, which \
                              WebAssembly does not allow"
                        .to_owned(),
                });
            }
        }
    }
    Ok(module)
}

fn component(
    wasm: &[u8],
    replace: &mut dyn FnMut(&[u8]) -> Result<Module, BuildError>,
) -> Result<Component, BuildError> {
    let mut component = Component::new();
    for section in sections(wasm)? {
        match section {
            Section::Raw { id, data } => {
                component.section(&RawSection { id, data });
            }
            Section::Custom { name, data } => {
                if !is_stripped_section(name) {
                    component.section(&RawSection { id: 0, data });
                }
            }
            Section::Module(bytes) => {
                let module = replace(bytes)?;
                component.section(&ModuleSection(&module));
            }
            Section::Component(bytes) => {
                let nested = self::component(bytes, replace)?;
                component.section(&NestedComponentSection(&nested));
            }
        }
    }
    Ok(component)
}

/// One top-level section of a module or component.
enum Section<'a> {
    /// Any section but the ones below: its id and contents.
    Raw { id: u8, data: &'a [u8] },
    /// A custom section: its name, and its contents (the name included).
    Custom { name: &'a str, data: &'a [u8] },
    /// A nested core module, whole.
    Module(&'a [u8]),
    /// A nested component, whole.
    Component(&'a [u8]),
}

fn encoding(wasm: &[u8]) -> Result<Encoding, BuildError> {
    let parsed = Parser::new(0)
        .parse(wasm, true)
        .map_err(|e| BuildError::wasm("not a WebAssembly binary", &e))?;
    match parsed {
        Chunk::Parsed {
            payload: Payload::Version { encoding, .. },
            ..
        } => Ok(encoding),
        _ => Err(BuildError::Wasm {
            message: "not a WebAssembly binary: it does not start with a version".to_owned(),
        }),
    }
}

/// The top-level sections of `wasm`, without descending into nested
/// modules and components or into function bodies.
fn sections(wasm: &[u8]) -> Result<Vec<Section<'_>>, BuildError> {
    let slice = |range: Range<usize>| {
        wasm.get(range.clone()).ok_or_else(|| BuildError::Wasm {
            message: format!(
                "a section at bytes {}..{} runs past the end of the WebAssembly binary ({} bytes)",
                range.start,
                range.end,
                wasm.len()
            ),
        })
    };
    let mut parser = Parser::new(0);
    let mut offset = 0;
    let mut found = Vec::new();
    loop {
        let rest = wasm.get(offset..).unwrap_or_default();
        let (consumed, payload) = match parser
            .parse(rest, true)
            .map_err(|e| BuildError::wasm("cannot read the WebAssembly binary", &e))?
        {
            Chunk::Parsed { consumed, payload } => (consumed, payload),
            Chunk::NeedMoreData(_) => {
                return Err(BuildError::Wasm {
                    message: "the WebAssembly binary is truncated".to_owned(),
                });
            }
        };
        offset += consumed;
        match payload {
            Payload::Version { .. } => {}
            Payload::End(_) => break,
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                offset = unchecked_range.end;
                found.push(Section::Module(slice(unchecked_range)?));
            }
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                offset = unchecked_range.end;
                found.push(Section::Component(slice(unchecked_range)?));
            }
            Payload::CodeSectionStart { range, .. } => {
                // The bodies are copied whole, not parsed one by one.
                parser.skip_section();
                offset = range.end;
                found.push(Section::Raw {
                    id: wasm_encoder::SectionId::Code as u8,
                    data: slice(range)?,
                });
            }
            Payload::CustomSection(reader) => found.push(Section::Custom {
                name: reader.name(),
                data: slice(reader.range())?,
            }),
            other => {
                if let Some((id, range)) = other.as_section() {
                    found.push(Section::Raw {
                        id,
                        data: slice(range)?,
                    });
                }
            }
        }
    }
    Ok(found)
}
