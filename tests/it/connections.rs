//! The connection budget under clients that send nothing, a byte, or HTTP/2: HTTP/1.1 only,
//! every connection has the header timeout from accept, a request head has a size cap, and an
//! oversized body is refused before it is sent.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use firegate::http::MAX_HEAD_BYTES;

use crate::common::TestApp;

/// Reads until the peer closes or `limit` passes; `None` when it was still open then.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + limit;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return Some(received),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(received),
        }
    }
    None
}

#[tokio::test]
async fn idle_connections_are_closed_and_cannot_hold_the_budget() {
    let app = TestApp::builder()
        .header_timeout_secs(1)
        .flags(&["--max-connections", "4"])
        .start()
        .await;
    let addr = app.addr;
    let outcome = tokio::task::spawn_blocking(move || {
        // The whole budget: two silent sockets, one that sent a byte, one a partial head.
        let mut idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
        idle[2].write_all(b"P").unwrap();
        idle[3]
            .write_all(b"POST /login/ HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        idle.iter_mut()
            .map(|s| read_until_closed(s, Duration::from_secs(20)).is_some())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(
        outcome, [true; 4],
        "every idle connection is closed by the server"
    );
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "the budget is free again");
}

#[tokio::test]
async fn a_keep_alive_connection_that_goes_quiet_is_closed() {
    let app = TestApp::builder().header_timeout_secs(1).start().await;
    let addr = app.addr;
    let (answered, closed) = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let received = read_until_closed(&mut stream, Duration::from_secs(20));
        (received.clone().unwrap_or_default(), received.is_some())
    })
    .await
    .unwrap();
    assert!(
        String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answered)
    );
    assert!(
        closed,
        "the idle keep-alive connection is closed after the header timeout"
    );
}

#[tokio::test]
async fn http2_is_not_spoken() {
    let app = TestApp::builder().header_timeout_secs(2).start().await;
    let addr = app.addr;
    let received = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        // The HTTP/2 connection preface and an empty SETTINGS frame (prior knowledge).
        stream
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            .unwrap();
        read_until_closed(&mut stream, Duration::from_secs(20))
    })
    .await
    .unwrap()
    .expect("the connection is closed");
    // An HTTP/2 server answers with its own SETTINGS frame (type 4 at byte 3).
    let is_h2_settings = received.len() >= 9 && received[3] == 4;
    assert!(!is_h2_settings, "answered in HTTP/2: {received:?}");
    assert!(
        received.is_empty() || received.starts_with(b"HTTP/1.1 "),
        "{}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_it_is_sent() {
    let app = TestApp::builder().start().await;
    let addr = app.addr;
    let received = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(
                b"POST /login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Content-Length: 10000000\r\n\r\n",
            )
            .unwrap();
        // No body follows: the answer must come without it (the request deadline is 30 s).
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).unwrap_or(0);
        buf[..n].to_vec()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("body_too_large"), "{text}");
}

#[tokio::test]
async fn a_full_budget_of_idle_sockets_gives_way_to_a_new_client() {
    // A long header timeout: here only eviction can make room.
    let app = TestApp::builder()
        .header_timeout_secs(120)
        .flags(&["--max-connections", "4"])
        .start()
        .await;
    let addr = app.addr;
    // Connected one after the other, they wait in the kernel's accept queue in that order, and
    // the server accepts them in that order before the client below, which queues behind them.
    let mut idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for round in 0..3 {
        let health = client.get(app.url("/healthz")).send().await;
        assert_eq!(
            health.map(|r| r.status().as_u16()).ok(),
            Some(200),
            "round {round}: a new client is served although idle sockets fill the budget"
        );
    }
    // The sockets that made room were the idle ones, oldest first.
    let closed = tokio::task::spawn_blocking(move || {
        idle.iter_mut()
            .map(|s| read_until_closed(s, Duration::from_secs(2)).is_some())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(closed[0], "the longest-idle socket was closed: {closed:?}");
    assert!(!closed[3], "the newest idle socket was kept: {closed:?}");
}

/// `count` header lines of about 1 KiB each, without the blank line that ends a head.
fn header_lines(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| format!("X-Filler-{i}: {}\r\n", "a".repeat(1000)).into_bytes())
        .collect()
}

#[tokio::test]
async fn a_request_head_over_the_cap_is_refused_without_reading_on() {
    // A long header timeout: here only the cap can end the connection.
    let app = TestApp::builder().header_timeout_secs(120).start().await;
    let addr = app.addr;
    let received = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        let mut head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec();
        // A little past the cap, and no end of head: a server that buffered on would wait.
        head.extend(header_lines(MAX_HEAD_BYTES / 1000 + 4));
        stream.write_all(&head).unwrap();
        read_until_closed(&mut stream, Duration::from_secs(20))
    })
    .await
    .unwrap()
    .expect("the connection is answered and closed, not left waiting for the head's end");
    // The answer may be lost to the reset caused by the unread rest; if it arrives, it is 431.
    let text = String::from_utf8_lossy(&received);
    assert!(
        received.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{text}"
    );
}

#[tokio::test]
async fn a_request_with_ordinary_headers_is_served() {
    let app = TestApp::builder().start().await;
    // What a signed-in client may send: an ID token, an App Check token, cookies, a trace.
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("authorization", format!("Bearer {}", "i".repeat(1500)))
        .header("x-firebase-appcheck", "c".repeat(1000))
        .header("cookie", "k".repeat(4000))
        .header(
            "x-cloud-trace-context",
            "105445aa7843bc8bf206b12000100000/1;o=1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
