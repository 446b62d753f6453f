//! A body that counts its bytes, stops at a limit, at the call's deadline
//! and when the call ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use wasmtime_wasi_http::Error;

use super::HttpCounters;
use super::send::call_ended;

/// Which way the bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// A request body, from the guest out.
    Sent,
    /// A response body, to the guest.
    Received,
}

/// What to do with a body hyper let go of before its end.
pub(super) type Leftover<B> = Box<dyn FnOnce(B) + Send>;

/// `inner`, guarded. Once it has failed it ends.
pub(super) struct Guarded<B> {
    inner: Option<B>,
    /// Called with `inner` when the body is dropped before its end (see
    /// [`Guarded::with_leftover`]).
    leftover: Option<Leftover<B>>,
    direction: Direction,
    limit: Option<u64>,
    seen: u64,
    counters: Arc<HttpCounters>,
    call_ended: Pin<Box<WaitForCancellationFutureOwned>>,
    deadline: Option<Instant>,
    /// The deadline's timer, made at the first poll (which runs on tokio)
    /// rather than here (which may not).
    timer: Option<Pin<Box<Sleep>>>,
    /// The instance's slot for an open request, given back when the body is
    /// finished or dropped.
    permit: Option<OwnedSemaphorePermit>,
    done: bool,
}

impl<B> Guarded<B> {
    pub(super) fn new(
        inner: B,
        direction: Direction,
        limit: Option<u64>,
        counters: Arc<HttpCounters>,
        call_ended: CancellationToken,
        deadline: Option<Instant>,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Self {
        Self {
            inner: Some(inner),
            leftover: None,
            direction,
            limit,
            seen: 0,
            counters,
            call_ended: Box::pin(call_ended.cancelled_owned()),
            deadline,
            timer: None,
            permit,
            done: false,
        }
    }

    /// This body, handing `inner` to `leftover` if it is dropped before
    /// its end. hyper drops a GET's body of unknown length unread (it sends
    /// none), while the guest may still be writing its empty body: the
    /// leftover keeps the guest's side open until it finishes.
    pub(super) fn with_leftover(mut self, leftover: Leftover<B>) -> Self {
        self.leftover = Some(leftover);
        self
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        self.done = true;
        self.permit = None;
        Poll::Ready(Some(Err(error)))
    }

    fn over_limit(&mut self, limit: u64) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        self.counters.refused();
        let (error, key) = match self.direction {
            Direction::Sent => (
                Error::HttpRequestBodySize(Some(limit)),
                "max_http_request_bytes",
            ),
            Direction::Received => (
                Error::HttpResponseBodySize(Some(limit)),
                "max_http_response_bytes",
            ),
        };
        tracing::debug!(limit, key, "guest HTTP body cut at its limit");
        self.fail(error)
    }
}

impl<B> Body for Guarded<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Error>,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.call_ended.as_mut().poll(cx).is_ready() {
            return this.fail(call_ended());
        }
        if let Some(deadline) = this.deadline {
            let timer = this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
            if timer.as_mut().poll(cx).is_ready() {
                return this.fail(Error::ConnectionReadTimeout);
            }
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.done = true;
                this.permit = None;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => this.fail(error.into()),
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, |data| data.len() as u64);
                this.seen = this.seen.saturating_add(len);
                if let Some(limit) = this.limit
                    && this.seen > limit
                {
                    return this.over_limit(limit);
                }
                match this.direction {
                    Direction::Sent => this.counters.sent(len),
                    Direction::Received => this.counters.received(len),
                }
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl<B> Drop for Guarded<B> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let (Some(inner), Some(leftover)) = (self.inner.take(), self.leftover.take()) {
            leftover(inner);
        }
    }
}
