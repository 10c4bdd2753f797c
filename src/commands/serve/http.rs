//! The HTTP side of `serve`: hyper's HTTP/1 server with three GET endpoints over the cached run —
//! `/metrics` (the Prometheus text `--textfile` writes, plus the server's own run counters),
//! `/healthz` (200 when no check failed, 503 naming the failed IDs) and `/report.json`. Nothing else
//! is served (404; other methods 405). Bounded: at most [`MAX_CONNECTIONS`] connections at once (more
//! are closed at once), headers must arrive within [`HEADER_TIMEOUT`], a whole connection lasts at
//! most [`CONNECTION_TIMEOUT`], and connections are not kept alive.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;

use super::{current, Latest, Outcome, Shared};

/// Connections served at once; a slow client holds one for at most [`CONNECTION_TIMEOUT`].
pub const MAX_CONNECTIONS: usize = 64;
/// Time for a client to send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for a whole connection: request, response and all.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until the process is stopped.
pub fn serve(listen: SocketAddr, shared: Shared) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| crate::error::BadInput(format!("--listen {listen}: {e}")))?;
        eprintln!(
            "nodecheck: serving /metrics, /healthz and /report.json on http://{}",
            listener.local_addr()?
        );
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                drop(stream);
                continue;
            };
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let latest = current(&shared);
                    async move { Ok::<_, Infallible>(respond(&request, &latest)) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .keep_alive(false)
                    .serve_connection(TokioIo::new(stream), service);
                let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
                drop(slot);
            });
        }
    })
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
fn respond(request: &Request<Incoming>, latest: &Latest) -> Response<Full<Bytes>> {
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
    match (request.uri().path(), &latest.outcome) {
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
            "not found: nodecheck serves /metrics, /healthz and /report.json\n".into(),
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
         nodecheck_serve_last_run_duration_seconds {:.3}\n",
        latest.runs, latest.finished_at, latest.duration
    )
}
