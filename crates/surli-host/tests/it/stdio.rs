//! Guest output: line by line, bounded, to the context of the call that
//! wrote it.

use std::sync::Arc;

use surli_config::Capabilities;
use surli_host::{
    CallInfo, CallKind, GuestOutput, HostState, MemoryLimiter, ModuleEnv, StdioChannel, StdioLimits,
};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use crate::{Recording, Seen, in_call, meta, store};

fn state_with_cap(max_line_bytes: usize) -> (HostState, Arc<Recording>) {
    let env = ModuleEnv::new(meta(), Capabilities::default(), store()).with_stdio_limits(
        StdioLimits::default()
            .with_max_line_bytes(max_line_bytes)
            // Lines are the subject here, not what one call may print.
            .with_max_call_bytes(u64::MAX)
            .with_max_call_lines(u64::MAX),
    );
    let mut state = HostState::new(Arc::new(env), MemoryLimiter::default()).unwrap();
    let ctx = Recording::new();
    let info = CallInfo::invoke(Arc::clone(state.env().module()), Some("printer"));
    state.set_call(ctx.clone(), info);
    (state, ctx)
}

/// Writes through a WASI output stream, the way the guest's writes arrive.
fn guest_write(output: &GuestOutput, bytes: &[u8]) {
    let mut stream = output.p2_stream();
    for chunk in bytes.chunks(stream.check_write().unwrap()) {
        stream.write(bytes::Bytes::copy_from_slice(chunk)).unwrap();
    }
}

fn guest_flush(output: &GuestOutput) {
    output.p2_stream().flush().unwrap();
}

#[test]
fn complete_lines_reach_the_current_context_with_the_call() {
    let (state, ctx) = in_call(Capabilities::default(), "printer");
    guest_write(state.stdout(), b"hello\nworld\n");
    guest_write(state.stderr(), b"oops\n");
    let seen = ctx.seen();
    assert_eq!(seen.len(), 3);
    let Seen::Stdout { call, line } = &seen[0] else {
        panic!("{seen:?}");
    };
    assert_eq!(line, "hello");
    assert_eq!(call.function(), Some("printer"));
    assert_eq!(call.kind(), CallKind::Invoke);
    assert!(matches!(&seen[1], Seen::Stdout { line, .. } if line == "world"));
    assert!(matches!(&seen[2], Seen::Stderr { line, .. } if line == "oops"));
    assert_eq!(state.stdout().channel(), StdioChannel::Stdout);
    assert_eq!(state.stderr().channel(), StdioChannel::Stderr);
    assert!(!state.stdout().is_terminal());
}

#[test]
fn a_line_written_in_pieces_through_several_handles_is_one_line() {
    let (state, ctx) = in_call(Capabilities::default(), "printer");
    guest_write(state.stdout(), b"hel");
    guest_write(state.stdout(), b"lo wor");
    assert!(ctx.seen().is_empty());
    assert_eq!(state.stdout().pending_bytes(), 9);
    guest_write(state.stdout(), b"ld\nnext");
    assert_eq!(ctx.stdout_lines(), ["hello world"]);
    assert_eq!(state.stdout().pending_bytes(), 4);
}

#[test]
fn a_wasi_flush_does_not_cut_a_line() {
    // Rust's unbuffered stderr writes `eprintln!("error {i}")` as "error ",
    // "1" and "\n", each followed by blocking-write-and-flush.
    let (state, ctx) = in_call(Capabilities::default(), "printer");
    for piece in [&b"error "[..], b"1", b"\n", b"error ", b"2", b"\n"] {
        guest_write(state.stderr(), piece);
        guest_flush(state.stderr());
    }
    let lines: Vec<_> = ctx
        .seen()
        .into_iter()
        .map(|seen| match seen {
            Seen::Stderr { line, .. } => line,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(lines, ["error 1", "error 2"]);
}

#[test]
fn an_explicit_flush_delivers_the_partial_line() {
    let (state, ctx) = in_call(Capabilities::default(), "printer");
    guest_write(state.stdout(), b"no newline yet");
    guest_flush(state.stdout());
    assert!(ctx.seen().is_empty());
    state.stdout().flush();
    assert_eq!(ctx.stdout_lines(), ["no newline yet"]);
    assert_eq!(state.stdout().pending_bytes(), 0);
    // A flush with nothing pending delivers nothing.
    state.stdout().flush();
    assert_eq!(ctx.stdout_lines().len(), 1);
}

#[tokio::test]
async fn the_async_stream_behaves_the_same() {
    use tokio::io::AsyncWriteExt;
    let (state, ctx) = in_call(Capabilities::default(), "printer");
    let mut stream = Box::into_pin(state.stdout().async_stream());
    stream.write_all(b"one\ntw").await.unwrap();
    assert_eq!(ctx.stdout_lines(), ["one"]);
    stream.flush().await.unwrap();
    assert_eq!(ctx.stdout_lines(), ["one"]);
    stream.write_all(b"o\nthree").await.unwrap();
    stream.shutdown().await.unwrap();
    assert_eq!(ctx.stdout_lines(), ["one", "two", "three"]);
}

#[test]
fn clear_call_delivers_the_partial_line_to_the_call_that_wrote_it() {
    let (mut state, ctx) = in_call(Capabilities::default(), "printer");
    guest_write(state.stdout(), b"unfinished");
    state.clear_call();
    assert_eq!(ctx.stdout_lines(), ["unfinished"]);
    assert_eq!(state.stdout().pending_bytes(), 0);
}

#[test]
fn lines_after_clear_call_go_to_the_null_context_not_the_old_one() {
    let (mut state, ctx) = in_call(Capabilities::default(), "printer");
    guest_write(state.stdout(), b"during\n");
    state.clear_call();
    guest_write(state.stdout(), b"after\n");
    guest_write(state.stderr(), b"after\n");
    assert_eq!(ctx.stdout_lines(), ["during"]);
    assert_eq!(ctx.seen().len(), 1);
}

#[test]
fn lines_follow_the_context_of_the_current_call() {
    let (mut state, first) = in_call(Capabilities::default(), "first");
    guest_write(state.stdout(), b"one\n");
    let second = Recording::new();
    let info = CallInfo::invoke(Arc::clone(state.env().module()), Some("second"));
    state.set_call(second.clone(), info);
    guest_write(state.stdout(), b"two\n");
    assert_eq!(first.stdout_lines(), ["one"]);
    assert_eq!(second.stdout_lines(), ["two"]);
    let Seen::Stdout { call, .. } = crate::only(second.seen()) else {
        panic!("expected one line");
    };
    assert_eq!(call.function(), Some("second"));
}

#[test]
fn a_ten_mib_line_arrives_in_bounded_chunks_with_nothing_lost() {
    const CAP: usize = 64 * 1024;
    let (state, ctx) = state_with_cap(CAP);
    let total: usize = 10 * 1024 * 1024;
    // Not a multiple of the cap, so the last piece is partial.
    let line: Vec<u8> = (0..total + 123).map(|i| b'a' + (i % 26) as u8).collect();
    let output = state.stdout();
    let mut stream = output.p2_stream();
    let permit = stream.check_write().unwrap();
    for chunk in line.chunks(permit) {
        stream.write(bytes::Bytes::copy_from_slice(chunk)).unwrap();
        assert!(output.pending_bytes() <= CAP, "{}", output.pending_bytes());
    }
    output.flush();
    let pieces = ctx.stdout_lines();
    assert!(pieces.iter().all(|piece| piece.len() <= CAP));
    assert_eq!(pieces.len(), (total + 123).div_ceil(CAP));
    assert_eq!(pieces.concat().as_bytes(), line.as_slice());
}

#[test]
fn one_huge_write_is_bounded_too() {
    let (state, ctx) = state_with_cap(1000);
    let line = vec![b'x'; 1_000_000];
    state.stdout().write(&line);
    assert!(state.stdout().pending_bytes() <= 1000);
    state.stdout().flush();
    let pieces = ctx.stdout_lines();
    assert_eq!(pieces.len(), 1000);
    assert_eq!(pieces.iter().map(String::len).sum::<usize>(), line.len());
}

#[test]
fn multi_byte_characters_are_never_split() {
    // A cap of 10 bytes against 3- and 4-byte characters, which can never
    // all line up with it.
    let (state, ctx) = state_with_cap(10);
    let text = "€😀€😀€€😀😀 a€b😀c".repeat(50);
    for chunk in text.as_bytes().chunks(7) {
        state.stdout().write(chunk);
    }
    state.stdout().flush();
    let pieces = ctx.stdout_lines();
    assert!(pieces.iter().all(|piece| !piece.contains('\u{fffd}')));
    assert!(pieces.iter().all(|piece| piece.len() <= 10));
    assert_eq!(pieces.concat(), text);
}

#[test]
fn a_cap_below_one_character_still_holds_one() {
    let (state, ctx) = state_with_cap(0);
    state.stdout().write("😀😀\n".as_bytes());
    assert_eq!(ctx.stdout_lines(), ["😀", "😀"]);
}

#[test]
fn invalid_utf8_arrives_with_replacement_characters() {
    let (state, ctx) = in_call(Capabilities::default(), "printer");
    state.stdout().write(b"ok \xff\xfe!\n");
    assert_eq!(ctx.stdout_lines(), ["ok \u{fffd}\u{fffd}!"]);
}

#[test]
fn empty_lines_are_delivered() {
    let (state, ctx) = in_call(Capabilities::default(), "printer");
    state.stdout().write(b"\n\na\n");
    assert_eq!(ctx.stdout_lines(), ["", "", "a"]);
}

#[test]
fn the_default_line_cap_is_64_kib() {
    assert_eq!(StdioLimits::default().max_line_bytes, 64 * 1024);
    assert_eq!(StdioLimits::DEFAULT_MAX_LINE_BYTES, 64 * 1024);
}

fn state_with_call_limits(max_call_bytes: u64, max_call_lines: u64) -> (HostState, Arc<Recording>) {
    let env = ModuleEnv::new(meta(), Capabilities::default(), store()).with_stdio_limits(
        StdioLimits::default()
            .with_max_call_bytes(max_call_bytes)
            .with_max_call_lines(max_call_lines),
    );
    let mut state = HostState::new(Arc::new(env), MemoryLimiter::default()).unwrap();
    let ctx = Recording::new();
    let info = CallInfo::invoke(Arc::clone(state.env().module()), Some("printer"));
    state.set_call(ctx.clone(), info);
    (state, ctx)
}

fn lines(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .map(|seen| match seen {
            Seen::Stdout { line, .. } => format!("out:{line}"),
            Seen::Stderr { line, .. } => format!("err:{line}"),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn a_calls_output_stops_at_its_line_limit_with_one_notice() {
    let (mut state, ctx) = state_with_call_limits(1 << 20, 3);
    guest_write(state.stdout(), b"1\n2\n");
    guest_write(state.stderr(), b"3\n4\n");
    guest_write(state.stdout(), b"5\n6\n");
    let seen = lines(&ctx.seen());
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[..3], ["out:1", "out:2", "err:3"]);
    assert!(
        seen[3].starts_with("err:[surli]") && seen[3].contains("3 lines"),
        "{seen:?}"
    );
    let output = state.clear_call();
    assert!(output.truncated());
    assert_eq!((output.dropped_lines, output.dropped_bytes), (3, 3));
}

#[test]
fn a_calls_output_stops_at_its_byte_limit_and_the_next_call_starts_afresh() {
    let (mut state, ctx) = state_with_call_limits(10, 1000);
    // Ten bytes of lines fit (line ends are not counted); the eleventh
    // byte, in an unfinished line flushed when the call ends, does not.
    guest_write(state.stdout(), b"12345\n67890\nx");
    assert_eq!(lines(&ctx.seen()), ["out:12345", "out:67890"]);
    let output = state.clear_call();
    assert_eq!((output.dropped_lines, output.dropped_bytes), (1, 1));
    let seen = lines(&ctx.seen());
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[2].contains("10 bytes"), "{seen:?}");

    // A new call has its whole budget again.
    let next = Recording::new();
    let info = CallInfo::invoke(Arc::clone(state.env().module()), Some("printer"));
    state.set_call(next.clone(), info);
    guest_write(state.stdout(), b"abcdefghij\n");
    assert_eq!(lines(&next.seen()), ["out:abcdefghij"]);
    assert!(!state.clear_call().truncated());
}
