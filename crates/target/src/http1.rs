//! A lean HTTP/1.1 client for plain-`http://` endpoints (vLLM, ollama, llama.cpp server on a local
//! port): keep-alive connections owned by the request that uses them, the request written with one
//! system call, the answer parsed by `httparse` (hyper's own parser) in the calling task.
//!
//! Why not reqwest here: against a local server the client's CPU per request is what bounds a run,
//! and reqwest's general machinery (a connection task and a channel per request, header maps,
//! middleware layers) cost about twice the CPU of this path. `https://` endpoints and anything behind
//! a proxy still go through reqwest (see [`usable_for`]).
//!
//! What can fail, and how it is reported: a connect or I/O error, an answer that is not HTTP/1.x,
//! an oversized head, a bad chunk, and an early end of the body are all [`Http1Error`]s, which the
//! target records as `transport` faults after its retries. A kept-alive connection that the server
//! closed while it sat idle fails before any byte of an answer arrives; that request is sent once
//! more on a fresh connection, as browsers and hyper do.

use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The head of an answer may not exceed this (a chat-completions head is a few hundred bytes).
const MAX_HEAD: usize = 64 * 1024;
/// Headers read from one answer at most.
const MAX_HEADERS: usize = 64;
/// Idle buffers above this capacity are dropped rather than kept with their connection.
const KEEP_BUF: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Http1Error {
    #[error("connecting to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the server closed the connection before the answer was complete")]
    Closed,
    #[error("the answer is not HTTP/1.x: {0}")]
    Malformed(String),
}

/// One answer: status, the `Retry-After` header if any, and the whole body (chunks joined).
#[derive(Debug)]
pub struct Http1Response {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

/// True when `url` can go through this client: plain `http://` with no proxy configured in the
/// environment (reqwest honours `HTTP_PROXY` and friends; this client does not, so it steps aside).
pub fn usable_for(url: &str) -> bool {
    let proxied = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
    let Some(rest) = url.strip_prefix("http://") else { return false };
    // Credentials in the URL are reqwest's business (basic auth).
    let authority = rest.split('/').next().unwrap_or("");
    !authority.contains('@') && !proxied
}

/// A keep-alive connection and its read buffer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// POSTs to one URL over a pool of kept-alive connections.
pub struct Http1Client {
    /// `host:port` to connect to.
    addr: String,
    /// Everything of the request head before `Content-Length`: request line, Host, fixed headers.
    head: Vec<u8>,
    idle: Mutex<Vec<Conn>>,
    max_idle: usize,
}

impl Http1Client {
    /// A client for `url` (`http://host[:port]/path`), sending `headers` (name, value) with every
    /// request. Header values were checked by the caller; a CR or LF in one is refused here too.
    pub fn new(url: &str, headers: &[(String, String)], max_idle: usize) -> Result<Self, Http1Error> {
        let rest =
            url.strip_prefix("http://").ok_or_else(|| Http1Error::Malformed(format!("not an http:// URL: {url}")))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(Http1Error::Malformed("unsupported URL authority (empty, or with credentials)".into()));
        }
        let addr = if authority.starts_with('[') {
            if authority.contains("]:") {
                authority.to_string()
            } else {
                format!("{authority}:80")
            }
        } else if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let mut head =
            format!("POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nAccept: */*\r\n");
        for (name, value) in headers {
            if [name, value].iter().any(|s| s.contains(['\r', '\n'])) {
                return Err(Http1Error::Malformed(format!("header `{name}` has a line break")));
            }
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        Ok(Self { addr, head: head.into_bytes(), idle: Mutex::new(Vec::new()), max_idle: max_idle.max(1) })
    }

    /// Sends `body` and reads the whole answer. A reused connection that turns out closed is
    /// replaced once by a fresh one.
    pub async fn post(&self, body: &[u8]) -> Result<Http1Response, Http1Error> {
        let mut request = Vec::with_capacity(self.head.len() + 32 + body.len());
        request.extend_from_slice(&self.head);
        request.extend_from_slice(b"Content-Length: ");
        request.extend_from_slice(body.len().to_string().as_bytes());
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(body);

        let reused = self.idle.lock().expect("pool lock").pop();
        if let Some(mut conn) = reused {
            match exchange(&mut conn, &request).await {
                Ok((resp, keep)) => {
                    self.put_back(conn, keep);
                    return Ok(resp);
                }
                // Closed before any answer: the server dropped the idle connection. Try a fresh one.
                Err(Exchange::Stale) => {}
                Err(Exchange::Failed(e)) => return Err(e),
            }
        }
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|source| Http1Error::Connect { addr: self.addr.clone(), source })?;
        stream.set_nodelay(true)?;
        let mut conn = Conn { stream, buf: Vec::with_capacity(8192) };
        match exchange(&mut conn, &request).await {
            Ok((resp, keep)) => {
                self.put_back(conn, keep);
                Ok(resp)
            }
            Err(Exchange::Stale) => Err(Http1Error::Closed),
            Err(Exchange::Failed(e)) => Err(e),
        }
    }

    fn put_back(&self, mut conn: Conn, keep: bool) {
        if !keep {
            return;
        }
        if conn.buf.capacity() > KEEP_BUF {
            conn.buf = Vec::with_capacity(8192);
        }
        let mut idle = self.idle.lock().expect("pool lock");
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }
}

enum Exchange {
    /// The connection ended before one byte of the answer: safe to send again elsewhere.
    Stale,
    Failed(Http1Error),
}

impl From<std::io::Error> for Exchange {
    fn from(e: std::io::Error) -> Self {
        Exchange::Failed(Http1Error::Io(e))
    }
}

impl From<Http1Error> for Exchange {
    fn from(e: Http1Error) -> Self {
        Exchange::Failed(e)
    }
}

/// One request and its answer on `conn`. Returns the answer and whether the connection can be
/// kept for another request.
async fn exchange(conn: &mut Conn, request: &[u8]) -> Result<(Http1Response, bool), Exchange> {
    conn.buf.clear();
    match conn.stream.write_all(request).await {
        Ok(()) => {}
        Err(e) if is_reset(&e) => return Err(Exchange::Stale),
        Err(e) => return Err(e.into()),
    }
    // Read until the head is complete. After an interim answer the buffer may already hold the
    // next head, so it is parsed before anything more is read.
    let mut need_read = true;
    let (status, retry_after, framing, close, head_len) = loop {
        if need_read {
            let n = match conn.stream.read_buf(&mut conn.buf).await {
                Ok(n) => n,
                Err(e) if conn.buf.is_empty() && is_reset(&e) => return Err(Exchange::Stale),
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return Err(if conn.buf.is_empty() { Exchange::Stale } else { Http1Error::Closed.into() });
            }
        }
        need_read = true;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&conn.buf) {
            Ok(httparse::Status::Complete(len)) => {
                let status = resp.code.unwrap_or(0);
                if (100..200).contains(&status) {
                    // An interim answer (100 Continue, 103 Early Hints): drop it, read the real one.
                    conn.buf.drain(..len);
                    need_read = conn.buf.is_empty();
                    continue;
                }
                let mut framing = Framing::UntilClose;
                let mut close = resp.version == Some(0);
                let mut retry_after = None;
                for h in resp.headers.iter() {
                    let value = || String::from_utf8_lossy(h.value).trim().to_string();
                    if h.name.eq_ignore_ascii_case("content-length") {
                        let n = value()
                            .parse::<usize>()
                            .map_err(|_| Http1Error::Malformed(format!("bad Content-Length `{}`", value())))?;
                        if !matches!(framing, Framing::Chunked) {
                            framing = Framing::Length(n);
                        }
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        if value().to_ascii_lowercase().ends_with("chunked") {
                            framing = Framing::Chunked;
                        }
                    } else if h.name.eq_ignore_ascii_case("connection") {
                        let v = value().to_ascii_lowercase();
                        close = v.contains("close") || (resp.version == Some(0) && !v.contains("keep-alive"));
                    } else if h.name.eq_ignore_ascii_case("retry-after") {
                        retry_after = Some(value());
                    }
                }
                if status == 204 || status == 304 {
                    framing = Framing::Length(0);
                }
                break (status, retry_after, framing, close, len);
            }
            Ok(httparse::Status::Partial) if conn.buf.len() > MAX_HEAD => {
                return Err(Http1Error::Malformed(format!("answer head over {MAX_HEAD} bytes")).into())
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(Http1Error::Malformed(e.to_string()).into()),
        }
    };
    let body = match framing {
        Framing::Length(n) => {
            while conn.buf.len() < head_len + n {
                conn.buf.reserve(head_len + n - conn.buf.len());
                if conn.stream.read_buf(&mut conn.buf).await? == 0 {
                    return Err(Http1Error::Closed.into());
                }
            }
            if conn.buf.len() > head_len + n {
                // Bytes past the answer: a confused server. Do not reuse this connection.
                return Ok((
                    Http1Response { status, retry_after, body: conn.buf[head_len..head_len + n].to_vec() },
                    false,
                ));
            }
            conn.buf[head_len..].to_vec()
        }
        Framing::Chunked => read_chunked(conn, head_len).await?,
        Framing::UntilClose => {
            while conn.stream.read_buf(&mut conn.buf).await? != 0 {}
            return Ok((Http1Response { status, retry_after, body: conn.buf[head_len..].to_vec() }, false));
        }
    };
    Ok((Http1Response { status, retry_after, body }, !close))
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Decodes a chunked body starting at `pos` of the connection's buffer, reading more as needed.
async fn read_chunked(conn: &mut Conn, mut pos: usize) -> Result<Vec<u8>, Exchange> {
    let mut body = Vec::new();
    loop {
        // The size line.
        let line_end = loop {
            if let Some(i) = find_crlf(&conn.buf[pos..]) {
                break pos + i;
            }
            if conn.buf.len() - pos > 1024 {
                return Err(Http1Error::Malformed("chunk size line too long".into()).into());
            }
            fill(conn).await?;
        };
        let line = std::str::from_utf8(&conn.buf[pos..line_end])
            .map_err(|_| Http1Error::Malformed("chunk size line is not text".into()))?;
        let hex = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(hex, 16).map_err(|_| Http1Error::Malformed(format!("bad chunk size `{hex}`")))?;
        pos = line_end + 2;
        if size == 0 {
            // Trailers, then an empty line.
            loop {
                let end = loop {
                    if let Some(i) = find_crlf(&conn.buf[pos..]) {
                        break pos + i;
                    }
                    if conn.buf.len() - pos > MAX_HEAD {
                        return Err(Http1Error::Malformed("chunk trailers too long".into()).into());
                    }
                    fill(conn).await?;
                };
                let empty = end == pos;
                pos = end + 2;
                if empty {
                    return Ok(body);
                }
            }
        }
        while conn.buf.len() < pos + size + 2 {
            fill(conn).await?;
        }
        body.extend_from_slice(&conn.buf[pos..pos + size]);
        if &conn.buf[pos + size..pos + size + 2] != b"\r\n" {
            return Err(Http1Error::Malformed("chunk not followed by CRLF".into()).into());
        }
        pos += size + 2;
    }
}

async fn fill(conn: &mut Conn) -> Result<(), Exchange> {
    conn.buf.reserve(8192);
    if conn.stream.read_buf(&mut conn.buf).await? == 0 {
        return Err(Http1Error::Closed.into());
    }
    Ok(())
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

fn is_reset(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::net::TcpListener;

    /// A raw server: for each connection, reads requests and answers each with the next of
    /// `answers` (raw bytes); `close_after` answers per connection, then it closes. Counts
    /// connections and requests.
    async fn serve(answers: Vec<Vec<u8>>, close_after: usize) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/chat/completions", listener.local_addr().unwrap());
        let (conns, reqs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let answers = Arc::new(answers);
        let (c2, r2) = (conns.clone(), reqs.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                c2.fetch_add(1, Ordering::SeqCst);
                let (answers, reqs) = (answers.clone(), r2.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    for _ in 0..close_after {
                        // Read one request: head, then Content-Length bytes.
                        let body_start = loop {
                            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break i + 4;
                            }
                            let mut chunk = [0u8; 4096];
                            let n = sock.read(&mut chunk).await.unwrap_or(0);
                            if n == 0 {
                                return;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                        };
                        let head = String::from_utf8_lossy(&buf[..body_start]).to_string();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .map(|v| v.trim().parse().unwrap())
                            .unwrap_or(0);
                        while buf.len() < body_start + len {
                            let mut chunk = [0u8; 4096];
                            let n = sock.read(&mut chunk).await.unwrap_or(0);
                            if n == 0 {
                                return;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                        }
                        buf.drain(..body_start + len);
                        let i = reqs.fetch_add(1, Ordering::SeqCst);
                        let answer = &answers[i.min(answers.len() - 1)];
                        if sock.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (url, conns, reqs)
    }

    fn answer(status: &str, headers: &str, body: &str) -> Vec<u8> {
        format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    #[tokio::test]
    async fn content_length_answers_reuse_one_connection() {
        let (url, conns, reqs) = serve(vec![answer("200 OK", "", "{\"a\":1}")], 100).await;
        let c = Http1Client::new(&url, &[("X-Test".into(), "yes".into())], 4).unwrap();
        for _ in 0..5 {
            let r = c.post(b"{}").await.unwrap();
            assert_eq!((r.status, r.body.as_slice()), (200, b"{\"a\":1}".as_slice()));
        }
        assert_eq!(reqs.load(Ordering::SeqCst), 5);
        assert_eq!(conns.load(Ordering::SeqCst), 1, "kept alive");
    }

    #[tokio::test]
    async fn chunked_bodies_are_joined_and_trailers_skipped() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:12\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n".to_vec();
        let (url, conns, _) = serve(vec![chunked], 100).await;
        let c = Http1Client::new(&url, &[], 4).unwrap();
        for _ in 0..2 {
            let r = c.post(b"{}").await.unwrap();
            assert_eq!(String::from_utf8(r.body).unwrap(), "{\"a\":12}");
        }
        assert_eq!(conns.load(Ordering::SeqCst), 1, "a chunked answer keeps the connection");
    }

    #[tokio::test]
    async fn status_and_retry_after_are_read_and_interim_answers_skipped() {
        let mut a = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        a.extend(answer("429 Too Many Requests", "Retry-After: 7\r\n", "slow down"));
        let (url, _, _) = serve(vec![a], 100).await;
        let r = Http1Client::new(&url, &[], 1).unwrap().post(b"{}").await.unwrap();
        assert_eq!((r.status, r.retry_after.as_deref()), (429, Some("7")));
        assert_eq!(r.body, b"slow down");
    }

    #[tokio::test]
    async fn connection_close_is_honoured_and_a_closed_idle_connection_is_replaced() {
        // The server answers once per connection and closes: every request after the first finds
        // its kept connection closed and must go out again on a fresh one, exactly once.
        let (url, conns, reqs) = serve(vec![answer("200 OK", "", "ok")], 1).await;
        let c = Http1Client::new(&url, &[], 4).unwrap();
        for _ in 0..3 {
            assert_eq!(c.post(b"{}").await.unwrap().body, b"ok");
        }
        assert_eq!(reqs.load(Ordering::SeqCst), 3, "no request answered twice");
        assert_eq!(conns.load(Ordering::SeqCst), 3);
        let (url, conns, _) = serve(vec![answer("200 OK", "Connection: close\r\n", "ok")], 100).await;
        let c = Http1Client::new(&url, &[], 4).unwrap();
        for _ in 0..2 {
            c.post(b"{}").await.unwrap();
        }
        assert_eq!(conns.load(Ordering::SeqCst), 2, "Connection: close is not reused");
    }

    #[tokio::test]
    async fn broken_answers_are_errors_not_responses() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"garbage\r\n\r\n".to_vec(), "not HTTP"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"trunc".to_vec(), "truncated body"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(), "bad chunk size"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n".to_vec(), "bad length"),
        ];
        for (raw, what) in cases {
            // One answer, then the connection closes.
            let (url, _, _) = serve(vec![raw], 1).await;
            let r = Http1Client::new(&url, &[], 1).unwrap().post(b"{}").await;
            assert!(r.is_err(), "{what}: {r:?}");
        }
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        drop(listener);
        let e = Http1Client::new(&url, &[], 1).unwrap().post(b"{}").await.unwrap_err();
        assert!(matches!(e, Http1Error::Connect { .. }), "{e}");
    }

    #[test]
    fn urls_and_headers() {
        assert!(usable_for("http://127.0.0.1:8000/v1/chat/completions") || std::env::var_os("http_proxy").is_some());
        assert!(!usable_for("https://api.example.com/v1"));
        assert!(!usable_for("http://user:pw@host/v1"), "credentials in the URL are reqwest's");
        let c = Http1Client::new("http://localhost:8000/v1/chat/completions", &[("A".into(), "b".into())], 1).unwrap();
        assert_eq!(c.addr, "localhost:8000");
        let head = String::from_utf8(c.head.clone()).unwrap();
        assert!(head.starts_with("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:8000\r\n"), "{head}");
        assert!(head.contains("\r\nA: b\r\n"));
        assert_eq!(Http1Client::new("http://example.com", &[], 1).unwrap().addr, "example.com:80");
        assert!(Http1Client::new("http://h/v1", &[("X".into(), "a\r\nInjected: 1".into())], 1).is_err());
    }
}
