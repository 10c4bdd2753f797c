//! HTTP/1.x responses as nodecheck's two local clients read them: the Docker API over its Unix
//! socket (`gather::docker`) and Felix's health endpoint over TCP (`probes::http`). The head is
//! parsed by `httparse` (the parser hyper uses); the chunked transfer coding is undone here. Reading
//! stays with each client, which bounds the bytes and the time.

/// Headers beyond this many make the response malformed (a health endpoint or the Docker API sends
/// a handful).
const MAX_HEADERS: usize = 64;

/// The head of a response: its status, where the body starts, and how the body is framed.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub status: u16,
    /// Bytes of status line and headers, the blank line included.
    pub len: usize,
    pub content_length: Option<usize>,
    pub chunked: bool,
}

/// What the bytes received so far hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// The whole head.
    Head(Head),
    /// The status line, but not yet the end of the headers.
    StatusOnly(u16),
    /// Not even the status line.
    Nothing,
}

/// Parses the head of `raw`, which may be cut anywhere. An error says what is not HTTP about it.
pub fn parse_head(raw: &[u8]) -> Result<Parsed, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let config = lenient();
    let complete = match config.parse_response(&mut response, raw) {
        Ok(httparse::Status::Complete(len)) => Some(len),
        Ok(httparse::Status::Partial) => None,
        Err(e) => return Err(not_http(raw, e)),
    };
    let status = match response.code {
        Some(code) if (100..=999).contains(&code) => code,
        Some(code) => return Err(format!("status {code} is not an HTTP status")),
        None => return Ok(Parsed::Nothing),
    };
    let Some(len) = complete else {
        return Ok(Parsed::StatusOnly(status));
    };
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    Ok(Parsed::Head(Head {
        status,
        len,
        content_length: header("content-length").and_then(|v| v.parse().ok()),
        chunked: header("transfer-encoding").is_some_and(|v| v.contains("chunked")),
    }))
}

/// Servers in the wild bend the header syntax; only the status and the framing matter here.
fn lenient() -> httparse::ParserConfig {
    let mut config = httparse::ParserConfig::default();
    config
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .ignore_invalid_headers_in_responses(true);
    config
}

fn not_http(raw: &[u8], e: httparse::Error) -> String {
    let first_line = raw
        .split(|&b| b == b'\n')
        .next()
        .map(|l| {
            String::from_utf8_lossy(&l[..l.len().min(80)])
                .trim_end()
                .to_string()
        })
        .unwrap_or_default();
    format!("{e} in {first_line:?}")
}

/// Whether `raw` holds a whole response whose length the head announces (`Content-Length`, or
/// the chunked coding's last chunk), so a client may stop reading before the server closes.
pub fn is_complete(raw: &[u8]) -> bool {
    match parse_head(raw) {
        Ok(Parsed::Head(head)) if head.chunked => dechunk(&raw[head.len..]).is_ok(),
        Ok(Parsed::Head(head)) => head
            .content_length
            .is_some_and(|len| raw.len() >= head.len + len),
        _ => false,
    }
}

/// A whole response: the status and the body (chunked coding undone). `None` for the body when the
/// response ends before its headers do.
pub fn parse_response(raw: &[u8]) -> Result<(u16, Option<Vec<u8>>), String> {
    match parse_head(raw)? {
        Parsed::Head(head) => {
            let body = &raw[head.len..];
            let body = if head.chunked {
                dechunk(body)?
            } else {
                body.to_vec()
            };
            Ok((head.status, Some(body)))
        }
        Parsed::StatusOnly(status) => Ok((status, None)),
        Parsed::Nothing => Err(format!(
            "no status line in {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(80)])
        )),
    }
}

/// Decodes a chunked body (RFC 9112 §7.1): hex sizes (extensions ignored), then the last chunk.
pub fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunked body")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| format!("bad chunk size {size_hex:?}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_and_bent_responses() {
        // Plain and chunked bodies: see the Docker API's and the felix probe's tests.
        // Cut after the status line: the status is known, the body is not.
        assert_eq!(
            parse_response(b"HTTP/1.0 200 OK\r\nContent-Ty").unwrap(),
            (200, None)
        );
        // A header name with a space before its colon is still read.
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok").unwrap(),
            (200, Some(b"ok".to_vec()))
        );
    }

    #[test]
    fn what_is_not_http_is_refused() {
        for raw in [
            b"SSH-2.0-OpenSSH_9.2\r\n".as_slice(),
            b"SSH-2.0\r\n\r\n",
            b"HTTP/1.1 abc\r\n\r\n",
            b"garbage",
            b"",
            b"HTTP/1.1 099 Low\r\n\r\n",
        ] {
            assert!(parse_response(raw).is_err(), "{raw:?}");
        }
        assert!(dechunk(b"5\r\nab").is_err());
        assert!(dechunk(b"zz\r\n").is_err());
    }

    #[test]
    fn completes_on_content_length_or_the_last_chunk() {
        assert!(!is_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no"
        ));
        assert!(is_complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        ));
        assert!(!is_complete(b"HTTP/1.1 200 OK\r\n\r\nok"));
        assert!(!is_complete(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n"
        ));
        assert!(is_complete(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        ));
    }
}
