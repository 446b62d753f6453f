//! Outbound HTTP for guests: `wasi:http/outgoing-handler`, behind the
//! module's `allow_net` and its HTTP limits.
//!
//! wasmtime-wasi-http turns the guest's resources into an
//! [`http::Request`] and hands it to [`WasiHttpHooks::send_request`]; surli
//! implements that hook ([`HttpHooks`]) instead of using the crate's default
//! sender, so that every request is checked and bounded before a byte
//! leaves the host:
//!
//! 1. **Counted and limited**: at most `max_requests_per_call` per call and
//!    `max_concurrent_requests` open per instance, else refused at once.
//! 2. **Checked**: the URL's host and port against `allow_net`
//!    ([`NetAllowList::destinations`](surli_net::NetAllowList::destinations)):
//!    an address must be allowed as a socket connect would be; a name must
//!    be listed as written, and is resolved now, keeping only the allowed
//!    addresses. The client connects to those addresses, never to the name
//!    again, and gives TLS the name.
//! 3. **Bounded**: a declared body over its limit is refused with the limit
//!    named (before sending, or on the response's headers); an undeclared
//!    body is cut where it passes it, the limit named too (for a request
//!    body, found in hyper's error by `p2_error_from_hyper`); everything
//!    (look-up, connect, TLS,
//!    headers, body) ends at the call's deadline, or after
//!    [`NO_DEADLINE_LIMIT`] for a call without one; and when the call ends,
//!    whatever it left open (a pending response, an unread body, the
//!    connection, its slot among the open requests) fails or is given back
//!    from then on, so nothing reaches the next call of a pooled instance.
//!
//! Refusals are HTTP errors the guest sees (`error-code`), never traps, and
//! are counted in [`HttpCounts`]. Redirects are the guest's own business:
//! `outgoing-handler` does not follow them, so each hop is a new request,
//! checked again.

mod body;
mod send;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

use crate::ModuleEnv;

/// How long outbound HTTP work may take in a call that has no deadline of
/// its own (a module on the fast engine, which runs without timeouts, and
/// the describing calls at load).
pub(crate) const NO_DEADLINE_LIMIT: Duration = Duration::from_secs(60);

/// The outbound HTTP limits of one module: its effective limits, merged
/// from the server's and the module's as every other limit is. `None` is no
/// limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct HttpLimits {
    /// The most requests one call may make (each redirect hop is one).
    pub max_requests_per_call: Option<u64>,
    /// The most requests one instance may have open at once: from sending
    /// until the response body is read to its end or dropped.
    pub max_concurrent_requests: Option<u64>,
    /// The largest request body a guest may send.
    pub max_request_bytes: Option<u64>,
    /// The largest response body a guest may receive.
    pub max_response_bytes: Option<u64>,
}

impl HttpLimits {
    /// These limits with `max_requests_per_call` set.
    #[must_use]
    pub fn with_max_requests_per_call(mut self, max: Option<u64>) -> Self {
        self.max_requests_per_call = max;
        self
    }

    /// These limits with `max_concurrent_requests` set.
    #[must_use]
    pub fn with_max_concurrent_requests(mut self, max: Option<u64>) -> Self {
        self.max_concurrent_requests = max;
        self
    }

    /// These limits with `max_request_bytes` set.
    #[must_use]
    pub fn with_max_request_bytes(mut self, max: Option<u64>) -> Self {
        self.max_request_bytes = max;
        self
    }

    /// These limits with `max_response_bytes` set.
    #[must_use]
    pub fn with_max_response_bytes(mut self, max: Option<u64>) -> Self {
        self.max_response_bytes = max;
        self
    }
}

/// What one module's guests did over outbound HTTP, since it loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct HttpCounts {
    /// Requests guests asked the host to send, refused ones included.
    pub requests: u64,
    /// Requests refused by `allow_net` or a limit, and bodies cut at a
    /// limit.
    pub refused: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Response body bytes delivered to guests.
    pub bytes_received: u64,
}

/// The counters behind [`HttpCounts`], shared by every instance of a
/// module.
#[derive(Debug, Default)]
pub(crate) struct HttpCounters {
    requests: AtomicU64,
    refused: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

impl HttpCounters {
    pub(crate) fn snapshot(&self) -> HttpCounts {
        HttpCounts {
            requests: self.requests.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
        }
    }

    fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    fn sent(&self, bytes: u64) {
        self.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
    }

    fn received(&self, bytes: u64) {
        self.bytes_received.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// The HTTP side of one instance's store: the hook wasmtime-wasi-http
/// calls to send, and what it needs from the module and the current call.
pub(crate) struct HttpHooks {
    env: Arc<ModuleEnv>,
    /// Permits for requests open at once in this instance, made anew for
    /// every call (calls on one instance never overlap), so what one call
    /// left open cannot hold the next call's slots; `None` when unlimited.
    open: Option<Arc<Semaphore>>,
    /// Cancelled when the call that owns the requests ends.
    call_ended: CancellationToken,
    deadline: Option<Instant>,
    requests_this_call: u64,
}

impl HttpHooks {
    pub(crate) fn new(env: Arc<ModuleEnv>) -> Self {
        let open = open_slots(env.http_limits());
        Self {
            env,
            open,
            call_ended: CancellationToken::new(),
            deadline: None,
            requests_this_call: 0,
        }
    }

    /// Ends the previous call's requests, and starts counting for a call
    /// that must finish by `deadline`.
    pub(crate) fn begin_call(&mut self, deadline: Option<Instant>) {
        self.call_ended.cancel();
        self.call_ended = CancellationToken::new();
        self.deadline = deadline;
        self.requests_this_call = 0;
        self.open = open_slots(self.env.http_limits());
    }

    fn refuse(&self, error: wasmtime_wasi_http::Error, why: &str) -> SendFuture {
        self.env.http_counters().refused();
        tracing::debug!(module = %crate::context::ModuleLabel(self.env.module()), why, "guest HTTP request refused");
        Box::new(std::future::ready(Err(error)))
    }
}

/// The slots for requests open at once, or `None` when unlimited.
fn open_slots(limits: HttpLimits) -> Option<Arc<Semaphore>> {
    limits.max_concurrent_requests.map(|max| {
        // A limit above what a semaphore holds is no limit in practice.
        let permits = usize::try_from(max)
            .unwrap_or(Semaphore::MAX_PERMITS)
            .min(Semaphore::MAX_PERMITS);
        Arc::new(Semaphore::new(permits))
    })
}

/// What [`WasiHttpHooks::send_request`] returns.
type SendFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

/// The WASI error code of a guest's HTTP request.
type ErrorCode = wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;

impl WasiHttpHooks for HttpHooks {
    /// hyper reports a request body surli cut at its limit as a body error
    /// of its own; the limit is found in the chain and named to the guest.
    /// Everything here is logged at debug level (the crate's default warns),
    /// so a guest cannot fill an operator's log.
    fn p2_error_from_hyper(&mut self, error: &hyper::Error) -> ErrorCode {
        let mut cause = std::error::Error::source(error);
        while let Some(inner) = cause {
            if let Some(wasmtime_wasi_http::Error::HttpRequestBodySize(limit)) =
                inner.downcast_ref::<wasmtime_wasi_http::Error>()
            {
                return ErrorCode::HttpRequestBodySize(*limit);
            }
            cause = inner.source();
        }
        tracing::debug!(%error, "guest HTTP request failed");
        ErrorCode::HttpProtocolError
    }

    fn p2_error_from_connect(&mut self, error: &std::io::Error) -> ErrorCode {
        tracing::debug!(%error, "guest HTTP request could not connect");
        ErrorCode::ConnectionRefused
    }

    /// A certificate the roots do not vouch for (or for another name) is a
    /// certificate error; anything else in TLS a protocol error.
    fn p2_error_from_tls(&mut self, error: &std::io::Error) -> ErrorCode {
        tracing::debug!(%error, "guest HTTP request failed in TLS");
        let rustls_error = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        match rustls_error {
            Some(rustls::Error::InvalidCertificate(_)) => ErrorCode::TlsCertificateError,
            _ => ErrorCode::TlsProtocolError,
        }
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _response_errors: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> SendFuture {
        let counters = Arc::clone(self.env.http_counters());
        counters.request();
        let limits = self.env.http_limits();
        let deadline = self
            .deadline
            .or_else(|| Instant::now().checked_add(NO_DEADLINE_LIMIT));
        // From here on, dropping the request leaves the guest's body
        // writable (and thrown away), so a refusal reaches the guest as the
        // response's error, not as a closed body stream.
        let request = send::guard_request(request, limits, &counters, &self.call_ended, deadline);

        self.requests_this_call = self.requests_this_call.saturating_add(1);
        if let Some(max) = limits.max_requests_per_call
            && self.requests_this_call > max
        {
            return self.refuse(
                wasmtime_wasi_http::Error::HttpRequestDenied,
                "over max_http_requests_per_call",
            );
        }
        let permit = match &self.open {
            None => None,
            Some(open) => match Arc::clone(open).try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    return self.refuse(
                        wasmtime_wasi_http::Error::ConnectionLimitReached,
                        "over max_http_concurrent_requests",
                    );
                }
            },
        };
        Box::new(send::send(
            send::Outbound {
                env: Arc::clone(&self.env),
                counters,
                limits,
                call_ended: self.call_ended.clone(),
                deadline,
                permit,
            },
            request,
        ))
    }
}

impl Drop for HttpHooks {
    fn drop(&mut self) {
        self.call_ended.cancel();
    }
}
