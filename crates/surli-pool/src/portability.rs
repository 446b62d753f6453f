//! Imports only surli provides: a module that uses them does not load in
//! the original runtime or in stock SurrealDB.

/// Interface prefixes surli links that the original runtime (0.3.1 and
/// 0.6.5) does not: it links WASI 0.2 without `wasi:http`.
const SURLI_ONLY: &[&str] = &["wasi:http/"];

/// The warning for a component import named `import` (as in
/// `wasi:http/outgoing-handler@0.2.4`) when only surli provides it, or
/// `None` for an import every Surrealism host links.
#[must_use]
pub fn portability_warning(import: &str) -> Option<String> {
    SURLI_ONLY
        .iter()
        .any(|prefix| import.starts_with(prefix))
        .then(|| {
            format!(
                "the module imports `{import}`, which surli provides and the original \
                 runtime (surrealism-runtime) and stock SurrealDB do not: it will not load there"
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::portability_warning;

    #[test]
    fn only_surli_extensions_are_named() {
        let warning = portability_warning("wasi:http/outgoing-handler@0.2.4").unwrap();
        assert!(
            warning.contains("`wasi:http/outgoing-handler@0.2.4`"),
            "{warning}"
        );
        assert!(portability_warning("wasi:http/types@0.2.0").is_some());
        assert_eq!(portability_warning("wasi:io/streams@0.2.0"), None);
        assert_eq!(portability_warning("wasi:sockets/tcp@0.2.0"), None);
        assert_eq!(portability_warning("surrealism:plugin/host"), None);
    }
}
