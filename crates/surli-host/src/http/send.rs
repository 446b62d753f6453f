//! The sender: check, connect, send, and hand the guest a bounded response.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::Instant;

use http::uri::Scheme;
use http_body_util::BodyExt;
use rustls::pki_types::ServerName;
use surli_net::Refusal;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, WasiBody};

use super::body::{Direction, Guarded};
use super::{HttpCounters, HttpLimits};
use crate::ModuleEnv;

/// Everything one request needs from its instance and call.
pub(super) struct Outbound {
    pub(super) env: Arc<ModuleEnv>,
    pub(super) counters: Arc<HttpCounters>,
    pub(super) limits: HttpLimits,
    pub(super) call_ended: CancellationToken,
    pub(super) deadline: Option<Instant>,
    pub(super) permit: Option<OwnedSemaphorePermit>,
}

type Connection = Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>;

/// The error a guest sees for work its call left open when it ended.
pub(super) fn call_ended() -> Error {
    Error::InternalError(Some(
        "the call that started this HTTP request has ended".to_owned(),
    ))
}

/// `request` with its body counted and bounded, and kept open for the
/// guest until it finishes writing it, whatever becomes of the request: a
/// body dropped unread (a refusal, an error, a GET hyper sends without a
/// body) is read and thrown away instead, so the guest's client sees the
/// request's own outcome rather than a closed stream.
pub(super) fn guard_request(
    request: http::Request<WasiBody>,
    limits: HttpLimits,
    counters: &Arc<HttpCounters>,
    call_ended: &CancellationToken,
    deadline: Option<Instant>,
) -> http::Request<WasiBody> {
    let leftover = discard(call_ended.clone(), deadline, limits.max_request_bytes);
    request.map(|body| {
        Guarded::new(
            body,
            Direction::Sent,
            limits.max_request_bytes,
            Arc::clone(counters),
            call_ended.clone(),
            deadline,
            None,
        )
        .with_leftover(leftover)
        .boxed_unsync()
    })
}

/// Sends `request` for the guest, or says why not.
pub(super) async fn send(
    outbound: Outbound,
    request: http::Request<WasiBody>,
) -> wasmtime_wasi_http::Result<(http::Response<WasiBody>, Connection)> {
    let call_ended = outbound.call_ended.clone();
    let deadline = outbound.deadline;
    let work = until(
        deadline,
        Error::ConnectionTimeout,
        exchange(outbound, request),
    );
    tokio::select! {
        biased;
        () = call_ended.cancelled() => Err(self::call_ended()),
        result = work => result,
    }
}

/// Awaits `work`, or fails with `late` once `deadline` has passed.
async fn until<T>(
    deadline: Option<Instant>,
    late: Error,
    work: impl Future<Output = wasmtime_wasi_http::Result<T>>,
) -> wasmtime_wasi_http::Result<T> {
    match deadline {
        None => work.await,
        Some(deadline) => tokio::time::timeout_at(deadline.into(), work)
            .await
            .unwrap_or(Err(late)),
    }
}

fn refused(counters: &HttpCounters, error: Error, why: impl std::fmt::Display) -> Error {
    counters.refused();
    tracing::debug!(%why, "guest HTTP request refused");
    error
}

async fn exchange(
    outbound: Outbound,
    mut request: http::Request<WasiBody>,
) -> wasmtime_wasi_http::Result<(http::Response<WasiBody>, Connection)> {
    let Outbound {
        env,
        counters,
        limits,
        call_ended,
        deadline,
        permit,
    } = outbound;

    let uri = request.uri().clone();
    let tls = match uri.scheme() {
        Some(scheme) if *scheme == Scheme::HTTPS => true,
        Some(scheme) if *scheme == Scheme::HTTP => false,
        _ => return Err(Error::HttpProtocolError),
    };
    let authority = uri.authority().ok_or(Error::HttpRequestUriInvalid)?;
    // User information would travel in the Host header, and a port that is
    // not a number (or past 65535) would leave the request going to the
    // default port with another in its Host header: both are refused.
    if authority.as_str().contains('@')
        || (authority.port_u16().is_none() && authority.as_str() != authority.host())
    {
        return Err(refused(
            &counters,
            Error::HttpRequestUriInvalid,
            format_args!("authority `{authority}` has user information or a bad port"),
        ));
    }
    let host = authority.host().to_owned();
    let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let head = request.method() == http::Method::HEAD;

    if let (Some(limit), Some(length)) =
        (limits.max_request_bytes, declared_length(request.headers()))
        && length > limit
    {
        return Err(refused(
            &counters,
            Error::HttpRequestBodySize(Some(limit)),
            format_args!("request body of {length} bytes over max_http_request_bytes {limit}"),
        ));
    }

    let addrs = destinations(&env, &host, port)
        .await
        .map_err(|refusal| match &refusal {
            // Not a refusal: the name is listed, and did not resolve.
            Refusal::Resolve { .. } => {
                tracing::debug!(%refusal, "guest HTTP request's host did not resolve");
                Error::DnsError {
                    rcode: None,
                    info_code: None,
                }
            }
            Refusal::AddressNotAllowed { .. } | Refusal::ResolvedOutside { .. } => {
                refused(&counters, Error::DestinationIpProhibited, refusal)
            }
            _ => refused(&counters, Error::HttpRequestDenied, refusal),
        })?;

    let stream = connect(&addrs).await?;
    let stream: Box<dyn Stream> = if tls {
        let name = server_name(&host)?;
        let connector = tokio_rustls::TlsConnector::from(tls_config()?);
        Box::new(connector.connect(name, stream).await.map_err(Error::Tls)?)
    } else {
        Box::new(stream)
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(Error::from)?;

    // HTTP/1 sends the path alone; the host went into the Host header.
    let path = uri
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str);
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| Error::HttpRequestUriInvalid)?;

    // The connection must be driven while the response is awaited.
    let mut connection = Some(connection);
    let mut response = pin!(sender.send_request(request));
    let response = std::future::poll_fn(|cx| {
        if let Poll::Ready(result) = response.as_mut().poll(cx) {
            return Poll::Ready(result.map_err(Error::from));
        }
        if let Some(driving) = connection.as_mut()
            && let Poll::Ready(result) = Pin::new(driving).poll(cx)
        {
            connection = None;
            if let Err(error) = result {
                return Poll::Ready(Err(Error::from(error)));
            }
            return response.as_mut().poll(cx).map_err(Error::from);
        }
        Poll::Pending
    })
    .await?;

    // A HEAD's answer, a 204 and a 304 declare a length they never send.
    let bodiless = head
        || response.status() == http::StatusCode::NO_CONTENT
        || response.status() == http::StatusCode::NOT_MODIFIED;
    if let (false, Some(limit), Some(length)) = (
        bodiless,
        limits.max_response_bytes,
        declared_length(response.headers()),
    ) && length > limit
    {
        return Err(refused(
            &counters,
            Error::HttpResponseBodySize(Some(limit)),
            format_args!("response body of {length} bytes over max_http_response_bytes {limit}"),
        ));
    }

    let response = response.map(|body| {
        Guarded::new(
            body,
            Direction::Received,
            limits.max_response_bytes,
            counters,
            call_ended.clone(),
            deadline,
            permit,
        )
        .boxed_unsync()
    });
    let driver: Connection = Box::new(async move {
        let Some(connection) = connection else {
            return Ok(());
        };
        let driving = until(deadline, Error::ConnectionReadTimeout, async {
            connection.await.map_err(Error::from)
        });
        tokio::select! {
            biased;
            () = call_ended.cancelled() => Ok(()),
            result = driving => result,
        }
    });
    Ok((response, driver))
}

/// Look-ups of HTTP host names in flight at once, in the whole process. A
/// look-up that outlives its call (a name server that never answers keeps
/// the system resolver's thread for its own timeout) keeps its slot until
/// it returns, so guests cannot fill tokio's blocking pool with them; a
/// request that finds every slot taken waits, within its deadline.
static LOOKUPS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(32);

/// Where a request to `host` and `port` may connect ([`surli_net`]'s
/// check), with a name looked up on a task of its own that holds one of
/// the [`LOOKUPS`] until the resolver returns, whatever becomes of the
/// request.
async fn destinations(
    env: &Arc<ModuleEnv>,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, Refusal> {
    if surli_net::host_ip(host).is_some() {
        return env.net().destinations(host, port, env.resolver()).await;
    }
    let resolve_error = |error: std::io::Error| Refusal::Resolve {
        host: host.to_owned(),
        error,
    };
    let slot = LOOKUPS
        .acquire()
        .await
        .map_err(|closed| resolve_error(std::io::Error::other(closed)))?;
    let (env, name) = (Arc::clone(env), host.to_owned());
    tokio::spawn(async move {
        let result = env.net().destinations(&name, port, env.resolver()).await;
        drop(slot);
        result
    })
    .await
    .unwrap_or_else(|failed| Err(resolve_error(std::io::Error::other(failed))))
}

/// What becomes of a request body hyper drops before its end (a GET's body
/// of unknown length, which it sends as no body): read and thrown away, so
/// the guest's writes to it succeed, until the guest finishes it, the call
/// ends, the deadline passes or `limit` bytes have gone.
fn discard(
    call_ended: CancellationToken,
    deadline: Option<Instant>,
    limit: Option<u64>,
) -> super::body::Leftover<WasiBody> {
    Box::new(move |mut body: WasiBody| {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let mut seen = 0u64;
            let drain = async {
                while let Some(Ok(frame)) = body.frame().await {
                    let len = frame.data_ref().map_or(0, |data| data.len() as u64);
                    seen = seen.saturating_add(len);
                    if limit.is_some_and(|limit| seen > limit) {
                        break;
                    }
                }
                Ok(())
            };
            tokio::select! {
                () = call_ended.cancelled() => {}
                _ = until(deadline, Error::ConnectionWriteTimeout, drain) => {}
            }
        });
    })
}

/// The `Content-Length` a message declares, if one, readable, is there.
fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Connects to the first of `addrs` that answers, in order.
async fn connect(addrs: &[SocketAddr]) -> wasmtime_wasi_http::Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last = Some(error),
        }
    }
    Err(match last {
        Some(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
            Error::ConnectionRefused
        }
        Some(error) if error.kind() == std::io::ErrorKind::TimedOut => Error::ConnectionTimeout,
        Some(error) => Error::Connect(error),
        None => Error::DestinationNotFound,
    })
}

/// The name TLS checks the certificate against: the URL's host.
fn server_name(host: &str) -> wasmtime_wasi_http::Result<ServerName<'static>> {
    if let Some(ip) = surli_net::host_ip(host) {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(host.to_owned()).map_err(|_| Error::HttpRequestUriInvalid)
}

/// One TLS client configuration for the process: ring, named here rather
/// than taken from a process-wide default, and Mozilla's root certificates.
///
/// rustls 0.23.48 marks ring's provider deprecated because it offers no
/// post-quantum key exchange; it is still supported. The alternative,
/// aws-lc-rs, would be rustls's second provider in this tree (SurrealDB's
/// HTTP client builds it with ring), and with two, every unqualified
/// `ClientConfig::builder()` in the process (hyper-rustls has several)
/// panics.
#[allow(deprecated)]
fn tls_config() -> wasmtime_wasi_http::Result<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map(|builder| Arc::new(builder.with_root_certificates(roots).with_no_client_auth()))
            .map_err(|error| error.to_string())
        })
        .clone()
        .map_err(|error| Error::InternalError(Some(format!("TLS configuration: {error}"))))
}
