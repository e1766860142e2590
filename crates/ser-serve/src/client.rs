//! A minimal HTTP/1.1 client for loopback tests and the load generator: one keep-alive
//! connection, requests with a body, responses with `Content-Length` (what this server sends).

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One HTTP response, body read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
    }
}

/// One request to send.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// Send `Expect: 100-continue` and the body only once the server asks for it, as curl does
    /// for large uploads: a server that rejects by headers alone never has to read the body.
    pub expect_continue: bool,
    /// Send the body in pieces of [`PACED_PIECE`] bytes with this pause between them, as a
    /// slow client on a poor link does.
    pub pace: Option<std::time::Duration>,
}

/// Bytes per piece of a paced body.
pub const PACED_PIECE: usize = 16 * 1024;

impl<'a> Request<'a> {
    pub fn new(method: &'a str, path: &'a str) -> Self {
        Self {
            method,
            path,
            content_type: None,
            body: &[],
            expect_continue: false,
            pace: None,
        }
    }

    pub fn body(mut self, content_type: &'a str, body: &'a [u8]) -> Self {
        self.content_type = Some(content_type);
        self.body = body;
        self
    }

    pub fn expect_continue(mut self) -> Self {
        self.expect_continue = true;
        self
    }

    pub fn paced(mut self, pause: std::time::Duration) -> Self {
        self.pace = Some(pause);
        self
    }
}

/// A keep-alive connection to one server.
pub struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Connection {
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
            host: addr.to_string(),
        })
    }

    pub async fn send(&mut self, request: Request<'_>) -> io::Result<Response> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            request.method,
            request.path,
            self.host,
            request.body.len()
        );
        if let Some(content_type) = request.content_type {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        if request.expect_continue {
            head.push_str("Expect: 100-continue\r\n");
        }
        head.push_str("\r\n");
        self.stream.get_mut().write_all(head.as_bytes()).await?;
        if request.expect_continue {
            let response = self.read_response().await?;
            if response.status != 100 {
                return Ok(response);
            }
        }
        match request.pace {
            Some(pause) => {
                for (index, piece) in request.body.chunks(PACED_PIECE).enumerate() {
                    if index > 0 {
                        tokio::time::sleep(pause).await;
                    }
                    self.stream.get_mut().write_all(piece).await?;
                }
            }
            None => self.stream.get_mut().write_all(request.body).await?,
        }
        loop {
            // Skip interim responses (a 100 Continue the server sent anyway).
            let response = self.read_response().await?;
            if response.status >= 200 {
                return Ok(response);
            }
        }
    }

    async fn read_response(&mut self) -> io::Result<Response> {
        let status_line = self.read_line().await?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| invalid(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.read_line().await?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| invalid(format!("bad header line {line:?}")))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if status < 200 {
            return Ok(response);
        }
        if response.header("transfer-encoding").is_some() {
            return Err(invalid("chunked responses are not supported".to_owned()));
        }
        match response.header("content-length") {
            Some(length) => {
                let length: usize = length
                    .parse()
                    .map_err(|_| invalid(format!("bad content-length {length:?}")))?;
                response.body.resize(length, 0);
                self.stream.read_exact(&mut response.body).await?;
            }
            None => {
                self.stream.read_to_end(&mut response.body).await?;
            }
        }
        Ok(response)
    }

    async fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
