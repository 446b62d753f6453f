#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests for surli-net, in one binary so they link once.

mod destination;
mod matching;
mod parse;
mod refuse;
mod resolve;

use surli_net::{NetAllowList, NetEntry, NetError, parse_entry};

/// Parses an entry the test expects to be valid.
fn entry(text: &str) -> NetEntry {
    parse_entry(text).unwrap_or_else(|error| panic!("`{text}` should parse: {error}"))
}

/// Parses an entry the test expects to be refused, and checks the message
/// quotes it.
fn refused(text: &str) -> NetError {
    let error = match parse_entry(text) {
        Ok(parsed) => panic!("`{text}` should be refused, got {parsed:?}"),
        Err(error) => error,
    };
    let message = error.to_string();
    assert!(
        message.contains(&format!("`{text}`")) || text.is_empty(),
        "message does not quote the entry: {message}"
    );
    error
}

/// An allow list of entries that need no DNS.
fn list(texts: &[&str]) -> NetAllowList {
    let entries: Vec<NetEntry> = texts.iter().map(|text| entry(text)).collect();
    finish_at_once(NetAllowList::resolve(&entries, &resolve::NoDns))
}

/// Drives a future that must finish without waiting on anything.
fn finish_at_once<T>(future: impl std::future::Future<Output = Result<T, NetError>>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(result) => result.unwrap(),
        std::task::Poll::Pending => panic!("future waited although no look-up was needed"),
    }
}
