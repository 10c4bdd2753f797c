//! The felix readiness probe against a local HTTP server answering 200, 503, nothing at all (the
//! connection is accepted and never answered), and no listener (refused).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use nodecheck::probes::felix::probe;
use nodecheck::probes::{FelixVerdict, PROBE_TIMEOUT};

const MARGIN: Duration = Duration::from_millis(700);

/// How the fake health endpoint behaves.
#[derive(Clone, Copy)]
pub enum Behaviour {
    Answer(u16, &'static str),
    /// Accept, read the request, never reply; hold the connection open.
    Silent,
}

/// Serves one behaviour on 127.0.0.1:<ephemeral> from a thread; returns the address and the
/// request line seen by the server (through the channel).
pub fn serve(behaviour: Behaviour) -> (SocketAddr, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    (addr, serve_on(listener, behaviour))
}

/// Serves one behaviour on an already bound listener (e.g. one bound inside a network namespace).
pub fn serve_on(listener: TcpListener, behaviour: Behaviour) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let request = read_request(&mut stream);
            let _ = tx.send(request.lines().next().unwrap_or_default().to_string());
            match behaviour {
                Behaviour::Answer(status, body) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
                Behaviour::Silent => {
                    std::thread::sleep(Duration::from_secs(10));
                }
            }
        }
    });
    rx
}

fn read_request(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn timed_probe(addr: SocketAddr) -> FelixVerdict {
    let started = Instant::now();
    let health = probe(addr, PROBE_TIMEOUT);
    let elapsed = started.elapsed();
    assert!(
        elapsed < PROBE_TIMEOUT + MARGIN,
        "probe of {addr} took {elapsed:?}"
    );
    assert_eq!(health.url, format!("http://{addr}/readiness"));
    health.verdict
}

#[test]
fn felix_ready_on_200() {
    let (addr, requests) = serve(Behaviour::Answer(200, "ok"));
    assert_eq!(timed_probe(addr), FelixVerdict::Ready { status: 200 });
    assert_eq!(requests.recv().unwrap(), "GET /readiness HTTP/1.0");
}

#[test]
fn felix_not_ready_on_503_with_the_body() {
    let body = "+------------------+---------+\n| COMPONENT | READY |\n| felix-startup | false |\n";
    let (addr, _) = serve(Behaviour::Answer(503, body));
    match timed_probe(addr) {
        FelixVerdict::NotReady { status, body_head } => {
            assert_eq!(status, 503);
            assert!(body_head.contains("felix-startup | false"), "{body_head}");
            assert!(!body_head.contains('\n'));
        }
        other => panic!("expected not ready, got {other:?}"),
    }
}

#[test]
fn felix_not_answering_when_silent_within_the_timeout() {
    let (addr, _) = serve(Behaviour::Silent);
    let started = Instant::now();
    match timed_probe(addr) {
        FelixVerdict::NotAnswering { reason } => assert!(reason.contains("no answer"), "{reason}"),
        other => panic!("expected not answering, got {other:?}"),
    }
    assert!(started.elapsed() >= PROBE_TIMEOUT - Duration::from_millis(50));
}

#[test]
fn felix_not_answering_when_nothing_listens() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    match timed_probe(addr) {
        FelixVerdict::NotAnswering { reason } => assert!(reason.contains("refused"), "{reason}"),
        other => panic!("expected refused, got {other:?}"),
    }
}
