//! Outbound HTTP (`wasi:http`) from the `http` fixture, against a server
//! the test runs on 127.0.0.1, under the fixture's `allow_net`:
//! `127.0.0.1` (any port), `localhost` (any port) and `127.0.0.4:9`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use surli_config::ServerLimits;
use surli_net::{Resolver, SystemResolver, async_trait};
use surli_pool::{CallError, Module, Runtime, RuntimeOptions, TimeoutWatch};
use surrealdb_types::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support::{Recorder, package, text};

/// A small HTTP/1.1 server: one request per connection, answered by path.
///
/// - `/hello`: `hello`
/// - `/echo`: the request's method and body
/// - `/big?N`: N bytes of `x`, with a Content-Length
/// - `/stream?N`: N bytes of `x`, chunked, no Content-Length
/// - `/to?URL`: a 302 redirect to URL
/// - `/stall`: never answers
/// - anything else: 404
struct Server {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
}

impl Server {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&requests);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let _ = answer(stream, &seen).await;
                });
            }
        });
        Self { addr, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn answer(stream: tokio::net::TcpStream, seen: &AtomicUsize) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
            if name.eq_ignore_ascii_case("transfer-encoding") && value.contains("chunked") {
                chunked = true;
            }
        }
    }
    // Read the whole body, chunked or not: closing with unread bytes would
    // reset the connection under the client's feet.
    let body = if chunked {
        read_chunked(&mut reader).await?
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        body
    };
    seen.fetch_add(1, Ordering::SeqCst);

    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut stream = reader.into_inner();
    let reply = |status: &str, headers: &str, body: &[u8]| {
        let mut out = format!(
            "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: {}\r\n{headers}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    };
    let out = match path {
        "/hello" => reply("200 OK", "", b"hello"),
        "/echo" => {
            let mut echoed = format!("{method} ").into_bytes();
            echoed.extend_from_slice(&body);
            reply("200 OK", "", &echoed)
        }
        "/big" => reply("200 OK", "", &vec![b'x'; query.parse().unwrap_or(0)]),
        "/stream" => {
            let n: usize = query.parse().unwrap_or(0);
            let mut out =
                b"HTTP/1.1 200 OK\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n"
                    .to_vec();
            for chunk in vec![b'x'; n].chunks(1000) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        }
        "/to" => reply("302 Found", &format!("location: {query}\r\n"), b""),
        "/stall" => {
            std::future::pending::<()>().await;
            Vec::new()
        }
        _ => reply("404 Not Found", "", b"no such path"),
    };
    stream.write_all(&out).await?;
    stream.shutdown().await
}

async fn read_chunked(reader: &mut BufReader<tokio::net::TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).await?;
        let size = size.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16).unwrap_or(0);
        if size == 0 {
            // Trailers, if any, up to the blank line.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk).await?;
        body.extend_from_slice(&chunk);
        let mut end = String::new();
        reader.read_line(&mut end).await?;
    }
}

/// The system's resolver, except that `localhost` answers what the test
/// says (by default the loopback address the server listens on).
struct Dns {
    localhost: Mutex<Vec<std::net::IpAddr>>,
}

impl Dns {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            localhost: Mutex::new(vec![[127, 0, 0, 1].into()]),
        })
    }
}

#[async_trait]
impl Resolver for Dns {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        if host == "localhost" {
            let ips = self.localhost.lock().clone();
            return Ok(ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect());
        }
        SystemResolver.resolve(host, port).await
    }
}

async fn load_with(server: ServerLimits, dns: Arc<Dns>) -> Module {
    let runtime = Runtime::new(
        RuntimeOptions::default()
            .with_server(server)
            .with_resolver(dns),
    )
    .unwrap();
    runtime.load(package("http")).await.unwrap()
}

async fn load() -> Module {
    load_with(ServerLimits::default(), Dns::new()).await
}

async fn get(module: &Module, url: &str) -> Result<Value, CallError> {
    module
        .call(Recorder::new(Value::None), Some("get"), vec![text(url)])
        .await
}

fn guest_error(outcome: Result<Value, CallError>) -> String {
    match outcome {
        Err(CallError::Guest { message }) => message,
        other => panic!("expected the guest's error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_get_and_post_answer() {
    let server = Server::start().await;
    let module = load().await;

    assert_eq!(
        get(&module, &server.url("/hello")).await.unwrap(),
        text("hello")
    );
    let posted = module
        .call(
            Recorder::new(Value::None),
            Some("post"),
            vec![text(&server.url("/echo")), text("a body")],
        )
        .await
        .unwrap();
    assert_eq!(posted, text("POST a body"));
    // By a listed name, resolved by the host.
    let by_name = format!("http://localhost:{}/hello", server.port());
    assert_eq!(get(&module, &by_name).await.unwrap(), text("hello"));

    let stats = module.stats().http;
    assert_eq!(stats.requests, 3);
    assert_eq!(stats.refused, 0);
    assert_eq!(stats.bytes_sent, "a body".len() as u64);
    assert_eq!(
        stats.bytes_received,
        ("hello".len() + "POST a body".len() + "hello".len()) as u64
    );
    assert_eq!(server.requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_and_ports_outside_allow_net_are_refused_before_anything_is_sent() {
    let server = Server::start().await;
    let module = load().await;
    let port = server.port();

    // An address not listed; a port not listed for an address that is; a
    // name not listed (it is never looked up).
    // An IPv4-mapped IPv6 address is the IPv4 host it reaches.
    for url in [
        format!("http://127.0.0.2:{port}/hello"),
        "http://127.0.0.4:8080/hello".to_owned(),
        format!("http://example.invalid:{port}/hello"),
        format!("http://[::ffff:127.0.0.2]:{port}/hello"),
    ] {
        let message = guest_error(get(&module, &url).await);
        assert!(
            message.contains("DestinationIpProhibited") || message.contains("HttpRequestDenied"),
            "{url}: {message}"
        );
    }
    // User information would reach the server in the Host header.
    let message = guest_error(
        get(
            &module,
            &format!("http://user:secret@127.0.0.1:{port}/hello"),
        )
        .await,
    );
    assert!(message.contains("HttpRequestUriInvalid"), "{message}");
    assert_eq!(server.requests(), 0);
    let stats = module.stats().http;
    assert_eq!((stats.requests, stats.refused), (5, 5));
    let mapped = format!("http://[::ffff:127.0.0.1]:{port}/hello");
    assert_eq!(get(&module, &mapped).await.unwrap(), text("hello"));

    // The module serves on.
    assert_eq!(
        get(&module, &server.url("/hello")).await.unwrap(),
        text("hello")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_name_that_now_resolves_to_a_refused_address_is_refused() {
    let server = Server::start().await;
    let dns = Dns::new();
    let module = load_with(ServerLimits::default(), Arc::clone(&dns)).await;
    let url = format!("http://localhost:{}/hello", server.port());
    assert_eq!(get(&module, &url).await.unwrap(), text("hello"));

    // After the load the name is made to point at the cloud metadata
    // address: the host resolves per request, and refuses it.
    *dns.localhost.lock() = vec![[169, 254, 169, 254].into()];
    let message = guest_error(get(&module, &url).await);
    assert!(message.contains("DestinationIpProhibited"), "{message}");
    assert_eq!(server.requests(), 1);
    assert_eq!(module.stats().http.refused, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_redirect_hop_is_checked_as_a_request_of_its_own() {
    let server = Server::start().await;
    let module = load().await;

    let allowed = server.url(&format!("/to?{}", server.url("/hello")));
    assert_eq!(get(&module, &allowed).await.unwrap(), text("hello"));

    let refused = server.url(&format!("/to?http://127.0.0.2:{}/hello", server.port()));
    let message = guest_error(get(&module, &refused).await);
    assert!(message.contains("DestinationIpProhibited"), "{message}");
    // The redirect itself was served; its target never was.
    assert_eq!(server.requests(), 3);
    let stats = module.stats().http;
    assert_eq!((stats.requests, stats.refused), (4, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_past_the_per_call_limit_are_refused() {
    let server = Server::start().await;
    let module = load_with(
        ServerLimits::default().with_max_http_requests_per_call(Some(2)),
        Dns::new(),
    )
    .await;
    let twice = server.url(&format!("/to?{}", server.url("/hello")));
    assert_eq!(get(&module, &twice).await.unwrap(), text("hello"));
    let thrice = server.url(&format!(
        "/to?{}",
        server.url(&format!("/to?{}", server.url("/hello")))
    ));
    let message = guest_error(get(&module, &thrice).await);
    assert!(message.contains("HttpRequestDenied"), "{message}");
    // The count is per call: the next call may send again.
    assert_eq!(
        get(&module, &server.url("/hello")).await.unwrap(),
        text("hello")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_their_limits_are_refused_with_the_limit_named() {
    let server = Server::start().await;
    let module = load_with(
        ServerLimits::default()
            .with_max_http_response_bytes(Some(1000))
            .with_max_http_request_bytes(Some(100)),
        Dns::new(),
    )
    .await;

    assert_eq!(
        get(&module, &server.url("/big?1000")).await.unwrap(),
        text(&"x".repeat(1000))
    );
    // Declared too large: refused on the headers.
    let message = guest_error(get(&module, &server.url("/big?1001")).await);
    assert!(
        message.contains("HttpResponseBodySize(Some(1000))"),
        "{message}"
    );
    // Not declared: cut where it passes the limit.
    guest_error(get(&module, &server.url("/stream?5000")).await);
    // What reached the guest of the cut body is at most the limit (how
    // much depends on how the frames fell).
    let received = module.stats().http.bytes_received;
    assert!((1000..=2000).contains(&received), "{received}");

    let message = guest_error(
        module
            .call(
                Recorder::new(Value::None),
                Some("post"),
                vec![text(&server.url("/echo")), text(&"y".repeat(101))],
            )
            .await,
    );
    assert!(
        message.contains("HttpRequestBodySize(Some(100))"),
        "{message}"
    );
    assert_eq!(module.stats().http.refused, 3);

    // Not declared: cut where it passes the limit, and the limit named.
    let message = guest_error(
        module
            .call(
                Recorder::new(Value::None),
                Some("post_streamed"),
                vec![text(&server.url("/echo")), text(&"z".repeat(101))],
            )
            .await,
    );
    assert!(
        message.contains("HttpRequestBodySize(Some(100))"),
        "{message}"
    );
    assert_eq!(module.stats().http.refused, 4);
    let streamed = module
        .call(
            Recorder::new(Value::None),
            Some("post_streamed"),
            vec![text(&server.url("/echo")), text("short")],
        )
        .await
        .unwrap();
    assert_eq!(streamed, text("POST short"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_server_that_speaks_no_tls_is_a_tls_error_the_guest_sees() {
    let server = Server::start().await;
    let module = load().await;
    let url = format!("https://127.0.0.1:{}/hello", server.port());
    let message = guest_error(get(&module, &url).await);
    assert!(message.contains("TlsProtocolError"), "{message}");
    assert_eq!(
        get(&module, &server.url("/hello")).await.unwrap(),
        text("hello")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_is_cut_off_at_the_calls_deadline_and_the_module_serves_on() {
    let server = Server::start().await;
    let module = load().await;
    let stalled = module
        .call_with_timeout(
            Recorder::new(Value::None),
            Some("get"),
            vec![text(&server.url("/stall"))],
            Some(Duration::from_millis(300)),
        )
        .await;
    // The request ended at the call's deadline and the guest ran again:
    // either it answered the HTTP timeout itself, or the epoch stopped it
    // when it resumed. Never the wall-clock guard, which fires only for a
    // guest still blocked in the host past its time.
    match stalled {
        Err(CallError::Guest { message }) => {
            assert!(message.contains("Timeout"), "{message}");
        }
        Err(CallError::Timeout { watch, .. }) => assert_eq!(watch, TimeoutWatch::Epoch),
        other => panic!("expected the request cut at the deadline, got {other:?}"),
    }
    assert_eq!(
        get(&module, &server.url("/hello")).await.unwrap(),
        text("hello")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_left_open_by_a_call_fails_in_the_next_one() {
    let server = Server::start().await;
    // One instance, so the second call meets what the first one left.
    let module = load_with(
        ServerLimits::default().with_max_pool_size(std::num::NonZeroUsize::MIN),
        Dns::new(),
    )
    .await;
    let started = module
        .call(
            Recorder::new(Value::None),
            Some("start"),
            vec![text(&server.addr.to_string()), text("/stall")],
        )
        .await
        .unwrap();
    assert_eq!(started, Value::Bool(true));
    let message = guest_error(
        module
            .call(Recorder::new(Value::None), Some("finish"), vec![])
            .await,
    );
    // Not "nothing was started": the same instance, and the host ended
    // the request with the call that made it.
    assert!(
        message.contains("the call that started this HTTP request has ended"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_past_the_open_limit_are_refused_and_each_call_starts_with_every_slot() {
    let server = Server::start().await;
    let module = load_with(
        ServerLimits::default()
            .with_max_http_concurrent_requests(Some(2))
            .with_max_pool_size(std::num::NonZeroUsize::MIN),
        Dns::new(),
    )
    .await;
    for _ in 0..2 {
        let answer = module
            .call(
                Recorder::new(Value::None),
                Some("burst"),
                vec![
                    text(&server.addr.to_string()),
                    text("/hello"),
                    Value::Number(surrealdb_types::Number::Int(3)),
                ],
            )
            .await
            .unwrap();
        let Value::Array(outcomes) = answer else {
            panic!("burst answers an array, got {answer:?}");
        };
        let outcomes: Vec<String> = outcomes
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(outcomes[..2], ["status 200", "status 200"], "{outcomes:?}");
        assert!(
            outcomes[2].contains("ConnectionLimitReached"),
            "{outcomes:?}"
        );
    }
}
