//! Loading peers from files, directories and stdin; the format is detected from content.
//!
//! Each `--peers` path is a file, a directory (its regular files, hidden ones left out, sorted by name,
//! not recursive) or `-` for stdin. Files are parsed one at a time per worker (two workers on a small
//! machine) and only the parsed [`Facts`]/[`KubeNode`] are kept, never the documents. A file that cannot
//! be used becomes a [`PeerProblem`] and the others are still loaded; only a path that does not exist at
//! all is bad input.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::detect::{detect_slice, Format};
use super::identity::{assemble, Record};
use super::read::{check_text, open, Body, Input};
use super::{ansible, kubectl, snapshot, KubeNode, Peer};
use crate::error::BadInput;
use crate::facts::Facts;

/// What loading the `--peers` inputs produced.
#[derive(Debug, Default)]
pub struct PeerSet {
    /// Peers that loaded, this node's own snapshot excluded.
    pub peers: Vec<Peer>,
    /// Inputs that could not be read or parsed; the others are still compared.
    pub problems: Vec<PeerProblem>,
    /// Kubernetes' view of this node, when a kubectl node list holds it (it is not a peer).
    pub this_node: Option<KubeNode>,
    /// Sources recognised as this node's own snapshot or node object, and so not compared.
    pub this_node_sources: Vec<String>,
    /// Files and streams read.
    pub inputs: usize,
    /// Records merged into a peer already loaded from another source (same machine).
    pub merged: usize,
}

/// One unreadable or corrupt peer input.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerProblem {
    pub source: String,
    pub message: String,
}

/// At most this many files are parsed at once.
const MAX_WORKERS: usize = 2;

/// Loads every peer input. Fails (exit 2) only when a named path does not exist at all.
pub fn load_peers(paths: &[PathBuf], this_node: &Facts) -> Result<PeerSet, BadInput> {
    let mut problems = Vec::new();
    let mut inputs = Vec::new();
    for path in paths {
        expand(path, &mut inputs, &mut problems)?;
    }
    let mut records = Vec::new();
    for (input, outcome) in inputs.iter().zip(parse_all(&inputs)) {
        match outcome {
            Ok(parsed) => {
                records.extend(parsed.records);
                problems.extend(parsed.problems);
            }
            Err(message) => problems.push(PeerProblem {
                source: input.label(),
                message,
            }),
        }
    }
    let assembled = assemble(records, &this_node.host);
    Ok(PeerSet {
        peers: assembled.peers,
        problems,
        this_node: assembled.this_node,
        this_node_sources: assembled.this_node_sources,
        inputs: inputs.len(),
        merged: assembled.merged,
    })
}

/// Adds the inputs one `--peers` path stands for.
fn expand(
    path: &Path,
    inputs: &mut Vec<Input>,
    problems: &mut Vec<PeerProblem>,
) -> Result<(), BadInput> {
    if path.as_os_str() == "-" {
        inputs.push(Input::Stdin);
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|e| {
        BadInput(format!(
            "--peers {}: {}",
            path.display(),
            match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                _ => e.to_string(),
            }
        ))
    })?;
    if !meta.is_dir() {
        inputs.push(Input::File(path.to_path_buf()));
        return Ok(());
    }
    let problem = |message: String| PeerProblem {
        source: path.display().to_string(),
        message,
    };
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(problem(format!("cannot list the directory: {e}")));
            return Ok(());
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| !entry.file_name().as_encoded_bytes().starts_with(b"."))
        // Follows symbolic links: a link to a snapshot is a snapshot.
        .filter(|entry| entry.path().metadata().is_ok_and(|m| m.is_file()))
        .map(|entry| entry.path())
        .collect();
    if files.is_empty() {
        problems.push(problem(
            "no peer files in this directory (hidden files and subdirectories are not read)".into(),
        ));
        return Ok(());
    }
    files.sort();
    inputs.extend(files.into_iter().map(Input::File));
    Ok(())
}

/// The nodes one input held, and problems with parts of it (a list item without a name).
#[derive(Default)]
struct Parsed {
    records: Vec<Record>,
    problems: Vec<PeerProblem>,
}

/// Parses every input, in parallel, keeping the inputs' order in the result.
fn parse_all(inputs: &[Input]) -> Vec<Result<Parsed, String>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS)
        .min(inputs.len());
    if workers <= 1 {
        let mut buf = Vec::new();
        return inputs.iter().map(|i| parse_input(i, &mut buf)).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Parsed, String>>>> =
        inputs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut buf = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    let parsed = parse_input(input, &mut buf);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(parsed);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Err("not read (a parser thread stopped)".to_string()))
        })
        .collect()
}

/// A buffer that grew past this for one large file is given back before the next.
const KEPT_BUFFER: usize = 4 << 20;

fn parse_input(input: &Input, buf: &mut Vec<u8>) -> Result<Parsed, String> {
    let outcome = match open(input, buf)? {
        Body::Whole => parse_document(input, buf),
        Body::Stream { rest } => parse_stream(input, buf, rest),
    };
    if buf.capacity() > KEPT_BUFFER {
        *buf = Vec::new();
    }
    outcome
}

fn parse_document(input: &Input, bytes: &[u8]) -> Result<Parsed, String> {
    // A binary or empty file fails to parse anyway; it is told as such only then, so that good files
    // are not scanned twice.
    parse_json_document(input, bytes).map_err(|e| check_text(bytes).err().unwrap_or(e))
}

fn parse_json_document(input: &Input, bytes: &[u8]) -> Result<Parsed, String> {
    let source = input.label();
    let format = detect_slice(bytes).map_err(|e| e.to_string())?;
    let facts = match format {
        Format::Snapshot { schema_version } => snapshot::parse_snapshot(bytes, schema_version)?,
        Format::AnsibleResult => ansible::parse_ansible(bytes, ansible::Shape::ModuleResult)?,
        Format::AnsibleFactCache => ansible::parse_ansible(bytes, ansible::Shape::FactCache)?,
        Format::AnsiblePayloadCache => ansible::parse_payload_cache(bytes)?,
        Format::Kubernetes => return Ok(nodes(&source, kubectl::parse_slice(bytes)?)),
    };
    Ok(Parsed {
        records: vec![Record::Snapshot {
            source,
            facts: Box::new(facts),
        }],
        problems: Vec::new(),
    })
}

/// A document larger than [`super::read::MAX_IN_MEMORY`]: only a node list may be that large.
fn parse_stream(input: &Input, prefix: &[u8], rest: Box<dyn Read>) -> Result<Parsed, String> {
    let too_large = format!(
        "larger than {} MiB",
        super::read::MAX_IN_MEMORY / (1024 * 1024)
    );
    match detect_slice(prefix) {
        Ok(Format::Kubernetes) => {}
        Ok(_) => {
            return Err(format!(
                "{too_large}; only kubectl node lists may be that large"
            ))
        }
        Err(e) => return Err(format!("{too_large}, and its start is {e}")),
    }
    let reader = std::io::BufReader::new(std::io::Cursor::new(prefix).chain(rest));
    Ok(nodes(&input.label(), kubectl::parse_reader(reader)?))
}

fn nodes(source: &str, doc: kubectl::NodeDocument) -> Parsed {
    let at = |position: &str| match position {
        "" => source.to_string(),
        p => format!("{source}#{p}"),
    };
    Parsed {
        problems: doc
            .item_problems
            .iter()
            .map(|p| PeerProblem {
                source: source.to_string(),
                message: p.clone(),
            })
            .collect(),
        records: doc
            .nodes
            .into_iter()
            .map(|(position, node)| Record::Kube {
                source: at(&position),
                node: Box::new(node),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE_LIST: &[u8] = include_bytes!("../../tests/fixtures/fleet/kubectl/nodes.json");
    const SNAPSHOT: &[u8] = include_bytes!("../../tests/fixtures/fleet/incident/worker-1.json");

    fn stream(document: &'static [u8], prefix_len: usize) -> Result<Parsed, String> {
        let (prefix, rest) = document.split_at(prefix_len);
        parse_stream(&Input::Stdin, prefix, Box::new(rest))
    }

    #[test]
    fn a_large_node_list_is_parsed_from_its_prefix_and_the_stream() {
        let parsed = stream(NODE_LIST, 100).unwrap();
        let sources: Vec<String> = parsed
            .records
            .iter()
            .map(|r| match r {
                Record::Kube { source, node } => format!("{source} {}", node.name),
                Record::Snapshot { .. } => panic!("a node list holds no snapshot"),
            })
            .collect();
        assert_eq!(
            sources,
            [
                "stdin#items[0] worker-1",
                "stdin#items[1] worker-2",
                "stdin#items[2] worker-3",
                "stdin#items[3] worker-41",
            ]
        );
    }

    #[test]
    fn only_node_lists_may_be_larger_than_memory_allows() {
        let e = stream(SNAPSHOT, 100).err().unwrap();
        assert_eq!(
            e,
            "larger than 64 MiB; only kubectl node lists may be that large"
        );
        let e = stream(b"[1, 2, 3]", 4).err().unwrap();
        assert!(
            e.starts_with("larger than 64 MiB, and its start is not a nodecheck snapshot"),
            "{e}"
        );
    }
}
