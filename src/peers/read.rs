//! Reading one peer input (a file or stdin) with bounded memory.
//!
//! A document up to [`MAX_IN_MEMORY`] is read whole into a buffer the caller reuses from file to file
//! (ten thousand snapshots, one allocation). A larger one — only a `kubectl get nodes -o json` list of
//! a big cluster is that large — is handed on as a stream, with a prefix already read for detection.

use std::io::Read;
use std::path::PathBuf;

/// Documents up to this size are held in memory; larger ones are streamed.
pub const MAX_IN_MEMORY: u64 = crate::facts::load::MAX_SNAPSHOT_BYTES;

/// How much of a large file is read ahead to detect its format.
const PROBE_PREFIX: u64 = 1 << 20;

/// One peer input.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    /// How reports name this input.
    pub fn label(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Stdin => "stdin".to_string(),
        }
    }
}

/// What [`open`] read.
pub enum Body {
    /// The whole document is in the buffer.
    Whole,
    /// The document is too large to hold: the buffer has its first part (enough to detect the
    /// format); `rest` yields what follows it.
    Stream { rest: Box<dyn Read> },
}

/// Why a peer input cannot be read as text, in the words shown beside its name.
#[derive(Debug, thiserror::Error)]
pub enum ReadProblem {
    #[error("{}", crate::input::describe_open_error(.0))]
    Open(std::io::Error),
    #[error("cannot stat: {0}")]
    Stat(std::io::Error),
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("empty file")]
    Empty,
    #[error("binary content, not JSON text (byte 0x{byte:02x} at offset {offset} is not UTF-8)")]
    NotUtf8 { byte: u8, offset: usize },
    #[error("binary content, not JSON text (NUL byte at offset {offset})")]
    Nul { offset: usize },
}

impl crate::error::ExitStatus for ReadProblem {
    /// A peer input the operator named that cannot be read is bad input.
    fn exit(&self) -> crate::error::Exit {
        crate::error::Exit::BadInput
    }
}

/// Reads `input` into `buf` (cleared first), whole or as a prefix plus a stream.
pub fn open(input: &Input, buf: &mut Vec<u8>) -> Result<Body, ReadProblem> {
    buf.clear();
    let (limit, mut reader): (u64, Box<dyn Read>) = match input {
        Input::Stdin => (MAX_IN_MEMORY + 1, Box::new(std::io::stdin().lock())),
        Input::File(path) => {
            let file = crate::input::open_regular_file(path).map_err(ReadProblem::Open)?;
            let meta = file.metadata().map_err(ReadProblem::Stat)?;
            let limit = if meta.len() > MAX_IN_MEMORY {
                PROBE_PREFIX
            } else {
                MAX_IN_MEMORY + 1
            };
            (limit, Box::new(file))
        }
    };
    (&mut reader)
        .take(limit)
        .read_to_end(buf)
        .map_err(ReadProblem::Read)?;
    if (buf.len() as u64) < limit {
        return Ok(Body::Whole);
    }
    Ok(Body::Stream { rest: reader })
}

/// Tells why a document in memory cannot be JSON text at all (empty, binary), if that is why.
pub fn check_text(bytes: &[u8]) -> Result<(), ReadProblem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadProblem::Empty);
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        let offset = e.valid_up_to();
        return Err(ReadProblem::NotUtf8 {
            byte: bytes[offset],
            offset,
        });
    }
    if let Some(offset) = bytes.iter().position(|b| *b == 0) {
        return Err(ReadProblem::Nul { offset });
    }
    Ok(())
}
