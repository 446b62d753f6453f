//! The guest's standard output and error: line-buffered, bounded, and
//! delivered to the context of the call that wrote them.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::call::{ActiveCall, Admit, CallSlot};

/// The most bytes a guest may hand over in one WASI `write`. Each write is
/// copied out of guest memory first, and `write-zeroes` allocates this many
/// zeroes, so it stays modest; the guest loops for more.
const WRITE_PERMIT: usize = 64 * 1024;

/// Which stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StdioChannel {
    /// Standard output, delivered to
    /// [`InvocationContext::stdout`](crate::InvocationContext::stdout).
    Stdout,
    /// Standard error, delivered to
    /// [`InvocationContext::stderr`](crate::InvocationContext::stderr).
    Stderr,
}

/// One of an instance's output streams, as WASI sees it.
///
/// Every handle the guest opens on the stream (and every clone of this
/// value) shares one line buffer, so a line written in pieces through
/// several handles is still one line. Bytes are delivered while the guest
/// writes, synchronously, to the context of the call in progress:
///
/// - each complete line, without its `\n`;
/// - a line longer than the line cap in pieces of at most the cap, cut
///   where a UTF-8 character starts;
/// - the unfinished rest of a line when the call ends
///   ([`HostState::clear_call`](crate::HostState::clear_call)), so output
///   never reaches the next call's context, or on [`flush`](Self::flush).
///
/// A WASI `flush` from the guest does not cut a line short. Rust's standard
/// error is unbuffered and its `eprintln!` writes a line in several
/// pieces, each with WASI's `blocking-write-and-flush`; delivering on flush
/// split every such line into fragments, as the original runtime does.
///
/// Invalid UTF-8 is delivered with replacement characters.
///
/// The pool has no use for this type; it is public so that tests and tools
/// can write into an instance's streams as the guest would.
#[derive(Clone)]
pub struct GuestOutput {
    shared: Arc<Shared>,
}

struct Shared {
    channel: StdioChannel,
    slot: CallSlot,
    buffer: Mutex<LineBuffer>,
    /// Whether the buffer holds part of a line: set and cleared under the
    /// buffer's lock, read without it, so a call that printed nothing (or
    /// only whole lines) ends without taking the lock at all.
    unfinished: AtomicBool,
}

impl GuestOutput {
    pub(crate) fn new(channel: StdioChannel, slot: CallSlot, max_line_bytes: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                channel,
                slot,
                buffer: Mutex::new(LineBuffer::new(max_line_bytes)),
                unfinished: AtomicBool::new(false),
            }),
        }
    }

    /// Which stream this is.
    pub fn channel(&self) -> StdioChannel {
        self.shared.channel
    }

    /// Bytes received but not delivered yet: the start of an unfinished
    /// line. Never more than the line cap.
    pub fn pending_bytes(&self) -> usize {
        self.shared.buffer.lock().pending.len()
    }

    /// Takes `bytes` as if the guest wrote them, delivering every complete
    /// line (and every full piece of an over-long one).
    pub fn write(&self, bytes: &[u8]) {
        self.shared.write(bytes);
    }

    /// Delivers the unfinished rest of a line, if any, to the current call.
    pub fn flush(&self) {
        self.shared.flush();
    }

    /// Delivers the unfinished rest of a line to `call`; used when a call
    /// ends, so the rest goes to the call that wrote it.
    pub(crate) fn flush_to(&self, call: &ActiveCall) {
        self.shared.flush_to(call);
    }
}

impl Shared {
    fn write(&self, bytes: &[u8]) {
        let call = self.slot.current();
        // Held while delivering so that concurrent writers (not possible
        // from one guest, which writes from one thread) cannot reorder
        // pieces of a line. Contexts have no way back into this buffer.
        let mut buffer = self.buffer.lock();
        buffer.push(bytes, |piece| self.deliver(&call, piece));
        self.unfinished
            .store(!buffer.pending.is_empty(), Ordering::Release);
    }

    fn flush(&self) {
        let call = self.slot.current();
        self.flush_to(&call);
    }

    fn flush_to(&self, call: &ActiveCall) {
        if !self.unfinished.load(Ordering::Acquire) {
            return;
        }
        let mut buffer = self.buffer.lock();
        buffer.finish(|piece| self.deliver(call, piece));
        self.unfinished.store(false, Ordering::Release);
    }

    fn deliver(&self, call: &ActiveCall, piece: &[u8]) {
        match call.output.admit(piece.len()) {
            Admit::Yes => {
                let text = String::from_utf8_lossy(piece);
                match self.channel {
                    StdioChannel::Stdout => call.ctx.stdout(&call.info, &text),
                    StdioChannel::Stderr => call.ctx.stderr(&call.info, &text),
                }
            }
            Admit::FirstDropped => call.ctx.stderr(&call.info, &call.output.notice()),
            Admit::Dropped => {}
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(GuestOutputStream {
            shared: Arc::clone(&self.shared),
        })
    }

    // wasmtime's default adapter hands writes to a background task, which
    // would deliver them after the call that wrote them may have ended; this
    // stream delivers during the write itself.
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(GuestOutputStream {
            shared: Arc::clone(&self.shared),
        })
    }
}

/// One handle the guest holds on a [`GuestOutput`].
struct GuestOutputStream {
    shared: Arc<Shared>,
}

#[async_trait::async_trait]
impl Pollable for GuestOutputStream {
    // Writes complete at once, so the stream is always ready.
    async fn ready(&mut self) {}
}

impl OutputStream for GuestOutputStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.shared.write(&bytes);
        Ok(())
    }

    // Nothing is buffered on the way out, and a partial line waits for its
    // end or the end of the call (see `GuestOutput`).
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

impl AsyncWrite for GuestOutputStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.shared.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shared.flush();
        Poll::Ready(Ok(()))
    }
}

/// The unfinished line of one stream, never longer than the cap.
struct LineBuffer {
    pending: Vec<u8>,
    cap: usize,
}

impl LineBuffer {
    fn new(cap: usize) -> Self {
        Self {
            pending: Vec::new(),
            cap,
        }
    }

    /// Takes `data`, handing every complete line and every full piece of
    /// an over-long line to `emit`. Each byte is looked at once, so a guest
    /// writing a long line in small pieces costs linear time.
    fn push(&mut self, mut data: &[u8], mut emit: impl FnMut(&[u8])) {
        while let Some(newline) = data.iter().position(|&byte| byte == b'\n') {
            let (line, rest) = data.split_at(newline);
            data = rest.get(1..).unwrap_or_default();
            if self.pending.is_empty() && line.len() <= self.cap {
                // The common case: a whole line in one write, delivered
                // without a copy.
                emit(line);
            } else {
                self.append(line, &mut emit);
                emit(&self.pending);
                self.pending.clear();
            }
        }
        self.append(data, &mut emit);
    }

    /// Delivers whatever is pending.
    fn finish(&mut self, mut emit: impl FnMut(&[u8])) {
        if !self.pending.is_empty() {
            emit(&self.pending);
            self.pending.clear();
        }
    }

    /// Appends part of a line, delivering full pieces so that at most `cap`
    /// bytes stay pending.
    fn append(&mut self, mut data: &[u8], emit: &mut impl FnMut(&[u8])) {
        loop {
            let room = self.cap.saturating_sub(self.pending.len());
            if data.len() <= room {
                self.pending.extend_from_slice(data);
                return;
            }
            let (head, rest) = data.split_at(room);
            self.pending.extend_from_slice(head);
            data = rest;
            let cut = utf8_cut(&self.pending);
            emit(&self.pending[..cut]);
            self.pending.drain(..cut);
        }
    }
}

/// Where to cut a full buffer so that a UTF-8 character begun in its last
/// three bytes but not finished stays behind: the length, or the start of
/// that character. Invalid bytes are not looked for; they are cut anywhere
/// and become replacement characters either way.
fn utf8_cut(buffer: &[u8]) -> usize {
    let len = buffer.len();
    // A character is at most 4 bytes, so its start is among the last 4.
    for back in 1..=len.min(4) {
        let index = len - back;
        let byte = buffer[index];
        if byte & 0b1100_0000 == 0b1000_0000 {
            // A continuation byte: the start is further back.
            continue;
        }
        let width = match byte {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => 1,
        };
        return if back < width && index > 0 {
            index
        } else {
            len
        };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(cap: usize, writes: &[&[u8]]) -> (Vec<Vec<u8>>, usize) {
        let mut buffer = LineBuffer::new(cap);
        let mut out = Vec::new();
        for write in writes {
            buffer.push(write, |piece| out.push(piece.to_vec()));
        }
        let pending = buffer.pending.len();
        (out, pending)
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_one_piece() {
        let (out, pending) = pieces(4, &[b"abcd\n"]);
        assert_eq!(out, [b"abcd".to_vec()]);
        assert_eq!(pending, 0);
    }

    #[test]
    fn a_line_one_over_the_cap_is_two_pieces() {
        let (out, pending) = pieces(4, &[b"abcde\n"]);
        assert_eq!(out, [b"abcd".to_vec(), b"e".to_vec()]);
        assert_eq!(pending, 0);
    }

    #[test]
    fn a_character_across_the_cut_stays_whole() {
        // "aaé" is 4 bytes; with a cap of 4 after "aaa" the é would straddle.
        let (out, pending) = pieces(4, &["aaaé".as_bytes(), b"\n"]);
        assert_eq!(out, [b"aaa".to_vec(), "é".as_bytes().to_vec()]);
        assert_eq!(pending, 0);
    }

    #[test]
    fn the_cut_keeps_every_unfinished_width() {
        for ch in ['é', '€', '😀'] {
            let mut bytes = vec![b'a'; 8];
            let mut encoded = [0; 4];
            bytes.extend_from_slice(ch.encode_utf8(&mut encoded).as_bytes());
            for keep in 1..ch.len_utf8() {
                let full = &bytes[..8 + keep];
                assert_eq!(utf8_cut(full), 8, "{ch} cut after {keep} bytes");
            }
            assert_eq!(utf8_cut(&bytes), bytes.len(), "{ch} complete");
        }
    }

    #[test]
    fn invalid_bytes_do_not_stall_the_buffer() {
        let (out, pending) = pieces(4, &[&[0xff; 10]]);
        assert_eq!(out.iter().map(Vec::len).sum::<usize>() + pending, 10);
        assert!(pending <= 4);
    }
}
