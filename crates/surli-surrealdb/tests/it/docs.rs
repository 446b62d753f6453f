//! The embedding guide shows the example that is compiled with the tests,
//! character for character, so the page cannot drift from working code.

#[test]
fn embedding_md_carries_the_library_example_verbatim() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let guide = std::fs::read_to_string(format!("{root}/docs/EMBEDDING.md")).unwrap();
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/library.rs"))
            .unwrap();
    let block = format!("```rust\n{example}```");
    assert!(
        guide.contains(&block),
        "docs/EMBEDDING.md no longer shows crates/surli-surrealdb/examples/library.rs as it \
         is: paste the file into the page's rust block"
    );
}

#[test]
fn embedding_md_carries_the_serve_example_verbatim() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let guide = std::fs::read_to_string(format!("{root}/docs/EMBEDDING.md")).unwrap();
    let example =
        std::fs::read_to_string(format!("{root}/crates/surli/examples/serve.rs")).unwrap();
    let block = format!("```rust\n{example}```");
    assert!(
        guide.contains(&block),
        "docs/EMBEDDING.md no longer shows crates/surli/examples/serve.rs as it is: paste the \
         file into the page's second rust block"
    );
}
