//! `allow_functions` must grant exactly what the original grants. The
//! expectations below are the original's answers, quirks included.

use surli_config::FunctionTargets;

fn targets(patterns: &[&str]) -> FunctionTargets {
    let toml = format!(
        "allow_functions = [{}]",
        patterns
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    #[derive(serde::Deserialize)]
    struct Holder {
        allow_functions: FunctionTargets,
    }
    toml::from_str::<Holder>(&toml).unwrap().allow_functions
}

#[test]
fn empty_list_denies_everything_and_star_allows_everything() {
    let none = targets(&[]);
    assert_eq!(none, FunctionTargets::None);
    assert!(!none.allows("string::len"));
    assert!(!none.allows("fn::x"));

    for list in [&["*"][..], &["fn::x", "*"], &["*", "http::get"]] {
        let all = targets(list);
        assert_eq!(all, FunctionTargets::All, "{list:?}");
        assert!(all.allows("anything::at::all"));
        assert!(all.allows("fn::x"));
    }
}

#[test]
fn patterns_match_as_in_the_original() {
    // (pattern, function, allowed?)
    let cases = [
        ("http::*", "http::get", true),
        ("http::*", "http::post::raw", true),
        ("http::*", "http", true),
        ("http::*", "https::get", false),
        ("http", "http::get", true),
        ("http", "http", true),
        ("http", "httpx::get", false),
        ("http::get", "http::get", true),
        ("http::get", "http::post", false),
        ("http::get", "http", false),
        ("http::get", "http::get::x", false),
        ("fn::a::b", "fn::a::b", true),
        ("fn::a::b", "fn::a", false),
        ("fn::a::*", "fn::a::b", false),
        ("fn::a::*", "fn::a", false),
        ("fn::a::*", "fn", false),
        ("string::*", "string::len", true),
        ("string::len", "String::len", false),
    ];
    for (pattern, function, allowed) in cases {
        assert_eq!(
            targets(&[pattern]).allows(function),
            allowed,
            "pattern {pattern:?} on {function:?}"
        );
    }
}

#[test]
fn any_pattern_in_the_list_may_grant() {
    let list = targets(&["fn::a", "math::*"]);
    assert!(list.allows("fn::a"));
    assert!(list.allows("math::abs"));
    assert!(!list.allows("fn::b"));
}

#[test]
fn never_matching_patterns_are_found_and_useful_ones_are_not() {
    let list = targets(&["fn::a::*", "fn::*", "http", "a::b::c", "fn::*x", "", "fn::"]);
    let flagged: Vec<String> = list.never_matching().into_iter().map(|(p, _)| p).collect();
    assert_eq!(flagged, ["fn::a::*", "fn::*x", "", "fn::"]);
    // Every flagged pattern really matches nothing plausible.
    for pattern in &flagged {
        let single = targets(&[pattern.as_str()]);
        for function in ["fn::a::b", "fn::a", "fn", "fn::x", "http::get"] {
            assert!(!single.allows(function), "{pattern} allowed {function}");
        }
    }
}
