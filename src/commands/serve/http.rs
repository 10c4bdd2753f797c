//! The HTTP side of `serve`: hyper's HTTP/1 server, over TLS when the web configuration asks
//! ([`super::web_config`]), with GET endpoints over the cached run — `/metrics` (the Prometheus text
//! `--textfile` writes, plus the server's own counters), `/healthz` (200 when no check failed and the
//! last run is recent, 503 naming the failed IDs or the stale run) and, only with `--report-json`,
//! `/report.json` (the whole report: addresses, MACs, units). Nothing else is served (404; other
//! methods 405). With `basic_auth_users` every endpoint asks for a password (401).
//!
//! Bounded: at most [`MAX_CONNECTIONS`] connections at once, a new one evicting the oldest that has
//! not sent its request yet ([`super::connections`]); the TLS handshake and the request headers must
//! arrive within [`HEADER_TIMEOUT`]; a whole connection lasts at most [`CONNECTION_TIMEOUT`];
//! connections are not kept alive.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use super::auth::BasicAuth;
use super::connections::{Connections, Ticket};
use super::{current, Latest, Outcome, Shared};

/// Connections open at once (the soft file-descriptor limit is raised to fit, see [`serve`]).
pub const MAX_CONNECTIONS: usize = 1024;
/// Time for a client to finish the TLS handshake and send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(3);
/// Time for a whole connection: request, response and all.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server needs besides the cached run.
pub struct Site {
    pub shared: Shared,
    pub auth: Option<Arc<BasicAuth>>,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Serve `/report.json`.
    pub report_json: bool,
    /// `/healthz` fails when the last finished run is older than this (seconds).
    pub stale_after: f64,
}

/// Binds `listen` (an address in use is the tool failing, exit 1, not bad input).
pub fn bind(listen: SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Serves until the process is stopped.
pub fn serve(listener: std::net::TcpListener, site: Site) -> anyhow::Result<()> {
    let limit = MAX_CONNECTIONS.min(raise_open_file_limit().saturating_sub(64).max(16));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let site = Arc::new(site);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let scheme = if site.tls.is_some() { "https" } else { "http" };
        let report = if site.report_json {
            " and /report.json"
        } else {
            ""
        };
        eprintln!(
            "nodecheck: serving /metrics, /healthz{report} on {scheme}://{}",
            listener.local_addr()?
        );
        let connections = Connections::new(limit);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let Some(ticket) = connections.admit() else {
                drop(stream);
                continue;
            };
            tokio::spawn(connection(stream, ticket, Arc::clone(&site)));
        }
    })
}

/// One connection, until it is answered, times out or is evicted.
async fn connection(stream: tokio::net::TcpStream, mut ticket: Ticket, site: Arc<Site>) {
    let requested = Arc::clone(&ticket.requested);
    let work = async {
        match &site.tls {
            Some(acceptor) => {
                let handshake = tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream));
                if let Ok(Ok(tls)) = handshake.await {
                    serve_connection(tls, Arc::clone(&site), requested).await;
                }
            }
            None => serve_connection(stream, Arc::clone(&site), requested).await,
        }
    };
    tokio::select! {
        _ = tokio::time::timeout(CONNECTION_TIMEOUT, work) => {}
        _ = &mut ticket.evicted => {}
    }
}

async fn serve_connection<I>(io: I, site: Arc<Site>, requested: Arc<AtomicBool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        requested.store(true, Ordering::Release);
        let site = Arc::clone(&site);
        async move { Ok::<_, Infallible>(answer(request, &site).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(false)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// Raises the soft limit on open files to the hard limit (as Go programs do at start), so that the
/// connection limit, not `EMFILE`, decides who is served. Returns the soft limit now in force.
fn raise_open_file_limit() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
}

/// Authentication first (when configured), then the cached run.
async fn answer(request: Request<Incoming>, site: &Site) -> Response<Full<Bytes>> {
    if let Some(auth) = &site.auth {
        let header: Option<Vec<u8>> = request
            .headers()
            .get(AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec());
        if !auth.allows(header.as_deref()).await {
            let mut response = text(
                StatusCode::UNAUTHORIZED,
                PLAIN,
                "authentication required\n".into(),
            );
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"nodecheck\""),
            );
            return response;
        }
    }
    let latest = current(&site.shared);
    respond(&request, &latest, site)
}
fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

const PLAIN: &str = "text/plain; charset=utf-8";

/// The answer to one request, from the cached run only.
fn respond(request: &Request<Incoming>, latest: &Latest, site: &Site) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            PLAIN,
            "only GET and HEAD\n".into(),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let unavailable = |why: &str| text(StatusCode::SERVICE_UNAVAILABLE, PLAIN, format!("{why}\n"));
    let path = request.uri().path();
    if path == "/report.json" && !site.report_json {
        return text(
            StatusCode::NOT_FOUND,
            PLAIN,
            "not served: /report.json carries the host's addresses, MACs and units; start serve with --report-json (and a web configuration with basic_auth_users) to serve it\n".into(),
        );
    }
    if path == "/healthz" {
        if let Some(stale) = super::staleness(latest, site.stale_after, super::now()) {
            return unavailable(&stale);
        }
    }
    match (path, &latest.outcome) {
        ("/metrics" | "/healthz" | "/report.json", Outcome::Pending) => {
            unavailable("no check run has finished yet")
        }
        ("/metrics" | "/healthz" | "/report.json", Outcome::Error(e)) => {
            unavailable(&format!("the last check run failed: {e}"))
        }
        ("/metrics", Outcome::Ran { metrics, .. }) => text(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            format!("{metrics}{}", serve_metrics(latest)),
        ),
        ("/healthz", Outcome::Ran { failed, .. }) if failed.is_empty() => {
            text(StatusCode::OK, PLAIN, "ok\n".into())
        }
        ("/healthz", Outcome::Ran { failed, .. }) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            PLAIN,
            format!("failed: {}\n", failed.join(", ")),
        ),
        ("/report.json", Outcome::Ran { report_json, .. }) => {
            text(StatusCode::OK, "application/json", report_json.clone())
        }
        _ => text(
            StatusCode::NOT_FOUND,
            PLAIN,
            "not found: nodecheck serves /metrics, /healthz and (with --report-json) /report.json\n"
                .into(),
        ),
    }
}

/// The server's own counters, after the report's metrics.
fn serve_metrics(latest: &Latest) -> String {
    format!(
        "# HELP nodecheck_serve_runs_total Check runs finished since nodecheck serve started.\n\
         # TYPE nodecheck_serve_runs_total counter\n\
         nodecheck_serve_runs_total {}\n\
         # HELP nodecheck_serve_last_run_timestamp_seconds When the last check run finished (Unix time).\n\
         # TYPE nodecheck_serve_last_run_timestamp_seconds gauge\n\
         nodecheck_serve_last_run_timestamp_seconds {:.3}\n\
         # HELP nodecheck_serve_last_run_duration_seconds How long the last check run took.\n\
         # TYPE nodecheck_serve_last_run_duration_seconds gauge\n\
         nodecheck_serve_last_run_duration_seconds {:.3}\n\
         # HELP nodecheck_serve_runs_timed_out_total Check runs that did not finish within --run-timeout.\n\
         # TYPE nodecheck_serve_runs_timed_out_total counter\n\
         nodecheck_serve_runs_timed_out_total {}\n",
        latest.runs, latest.finished_at, latest.duration, latest.timed_out
    )
}
