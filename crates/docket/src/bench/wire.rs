//! A small HTTP/1.1 client over one kept-alive connection, for the benchmarks that must control
//! the connection itself (that it is reused, its `TCP_NODELAY`) and spend little CPU of their
//! own: a request is written whole in one call, its answer read by `content-length` or chunked
//! encoding; the body, if chunked, can be watched as it arrives (server-sent events).

use std::io;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

/// Most bytes of a head line or of one chunk this client reads.
const MAX_LINE: usize = 16 * 1024;
/// Most bytes of a body this client keeps.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// An answer: its status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// One connection, reused for every request sent on it.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: BufReader<TcpStream>,
    line: Vec<u8>,
}

impl Connection {
    /// Connects to `addr` (`host:port`), with `TCP_NODELAY` on this side.
    pub(crate) async fn open(addr: &str) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream: BufReader::new(stream), line: Vec::with_capacity(256) })
    }

    /// Sends `request` (a whole HTTP/1.1 request) and reads its answer.
    pub(crate) async fn send(&mut self, request: &[u8]) -> io::Result<Answer> {
        self.send_watching(request, |_| {}).await
    }

    /// Sends `request` and reads its answer, showing `watch` the body as it grows (after each
    /// chunk, or once when the body is not chunked).
    pub(crate) async fn send_watching(&mut self, request: &[u8], watch: impl FnMut(&[u8])) -> io::Result<Answer> {
        self.stream.get_mut().write_all(request).await?;
        self.answer(watch).await
    }

    async fn answer(&mut self, mut watch: impl FnMut(&[u8])) -> io::Result<Answer> {
        self.read_line().await?;
        let status = std::str::from_utf8(&self.line)
            .ok()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| invalid("a status line"))?;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        loop {
            self.read_line().await?;
            let line = trim_crlf(&self.line);
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = std::str::from_utf8(line).ok().and_then(|l| l.split_once(':')) else {
                return Err(invalid("a header line"));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse().map_err(|_| invalid("a content-length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                self.read_line().await?;
                let size = std::str::from_utf8(trim_crlf(&self.line))
                    .ok()
                    .map(|l| l.split(';').next().unwrap_or_default().trim())
                    .and_then(|hex| usize::from_str_radix(hex, 16).ok())
                    .ok_or_else(|| invalid("a chunk size"))?;
                if size == 0 {
                    // Trailers, if any, up to the empty line.
                    loop {
                        self.read_line().await?;
                        if trim_crlf(&self.line).is_empty() {
                            break;
                        }
                    }
                    break;
                }
                if body.len() + size > MAX_BODY {
                    return Err(invalid("a body within the client's limit"));
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.stream.read_exact(body.get_mut(start..).unwrap_or_default()).await?;
                self.read_line().await?;
                watch(&body);
            }
        } else {
            let length = length.unwrap_or(0);
            if length > MAX_BODY {
                return Err(invalid("a body within the client's limit"));
            }
            body.resize(length, 0);
            self.stream.read_exact(&mut body).await?;
            watch(&body);
        }
        Ok(Answer { status, body })
    }

    async fn read_line(&mut self) -> io::Result<()> {
        self.line.clear();
        let read = (&mut self.stream).take(MAX_LINE as u64).read_until(b'\n', &mut self.line).await?;
        if read == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
        }
        if !self.line.ends_with(b"\n") {
            return Err(invalid("a line within the client's limit"));
        }
        Ok(())
    }
}

/// An HTTP/1.1 request, kept alive, with `headers` and `body`.
pub(crate) fn request(method: &str, path: &str, host: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\n").as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !body.is_empty() || method == "POST" {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn trim_crlf(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("the answer did not have {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer_of(raw: &'static [u8]) -> io::Result<(Answer, Vec<Vec<u8>>)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await?;
            let mut head = [0u8; 1024];
            let _ = socket.read(&mut head).await?;
            socket.write_all(raw).await?;
            Ok::<_, io::Error>(socket)
        });
        let mut connection = Connection::open(&addr).await?;
        let mut seen = Vec::new();
        let answer =
            connection.send_watching(&request("GET", "/", "x", &[], b""), |body| seen.push(body.to_vec())).await?;
        let _ = server.await;
        Ok((answer, seen))
    }

    #[tokio::test]
    async fn reads_a_sized_answer() -> io::Result<()> {
        let (answer, seen) = answer_of(b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello").await?;
        assert_eq!((answer.status, answer.body.as_slice()), (201, b"hello".as_slice()));
        assert_eq!(seen, [b"hello".to_vec()]);
        Ok(())
    }

    #[tokio::test]
    async fn reads_a_chunked_answer_chunk_by_chunk() -> io::Result<()> {
        let raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let (answer, seen) = answer_of(raw).await?;
        assert_eq!((answer.status, answer.body.as_slice()), (200, b"abcde".as_slice()));
        assert_eq!(seen, [b"abc".to_vec(), b"abcde".to_vec()]);
        Ok(())
    }

    #[tokio::test]
    async fn a_garbled_answer_is_an_error() {
        let error = answer_of(b"HTTP/1.1 200 OK\r\ncontent-length: many\r\n\r\n").await.err();
        assert_eq!(error.map(|e| e.kind()), Some(io::ErrorKind::InvalidData));
    }

    #[test]
    fn requests_carry_their_length() {
        let text = request("POST", "/a", "h:1", &[("x-y", "z")], b"body");
        assert_eq!(text, b"POST /a HTTP/1.1\r\nhost: h:1\r\nx-y: z\r\ncontent-length: 4\r\n\r\nbody");
    }
}
