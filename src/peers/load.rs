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

use super::detect::{detect_slice, Format, Undetected};
use super::identity::{assemble, Record};
use super::input_error::PeerInputError;
use super::multi::{self, Layout};
use super::read::{check_text, open, Body, Input};
use super::{ansible, ansible_setup, ansible_text, kubectl, snapshot, KubeNode, Peer};
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
                for record in parsed.records {
                    match overlong_name(&record) {
                        Some(message) => problems.push(PeerProblem {
                            source: input.label(),
                            message,
                        }),
                        None => records.push(record),
                    }
                }
                problems.extend(parsed.problems);
            }
            Err(e) => problems.push(PeerProblem {
                source: input.label(),
                message: e.to_string(),
            }),
        }
    }
    let assembled = assemble(records, this_node);
    Ok(PeerSet {
        peers: assembled.peers,
        problems,
        this_node: assembled.this_node,
        this_node_sources: assembled.this_node_sources,
        inputs: inputs.len(),
        merged: assembled.merged,
    })
}

/// The longest DNS name, and so the longest host or node name (RFC 1035; Kubernetes node names too).
const MAX_NAME_BYTES: usize = 253;

/// Why a record is refused for its name: longer than any host or node name can be (a 10 MB name
/// would otherwise be copied into every message and report that names the peer).
fn overlong_name(record: &Record) -> Option<String> {
    let name = match record {
        Record::Snapshot { facts, .. } => facts.host.hostname.as_str(),
        Record::Kube { node, .. } => node.name.as_str(),
    };
    (name.len() > MAX_NAME_BYTES).then(|| {
        let start: String = name.chars().take(40).collect();
        format!(
            "the host name {start:?}… is {} bytes long, over the {MAX_NAME_BYTES} bytes a host or node name can have; this peer is refused",
            name.len()
        )
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
fn parse_all(inputs: &[Input]) -> Vec<Result<Parsed, PeerInputError>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS)
        .min(inputs.len());
    if workers <= 1 {
        let mut buf = Vec::new();
        return inputs.iter().map(|i| parse_input(i, &mut buf)).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Parsed, PeerInputError>>>> =
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
                .unwrap_or(Err(PeerInputError::NotRead))
        })
        .collect()
}

/// A buffer that grew past this for one large file is given back before the next.
const KEPT_BUFFER: usize = 4 << 20;

fn parse_input(input: &Input, buf: &mut Vec<u8>) -> Result<Parsed, PeerInputError> {
    let outcome = match open(input, buf)? {
        Body::Whole => parse_document(input, buf),
        Body::Stream { rest } => parse_stream(input, buf, rest),
    };
    if buf.capacity() > KEPT_BUFFER {
        *buf = Vec::new();
    }
    outcome
}

/// Parses one in-memory document as `--peers` does (its format told from content: a snapshot, any
/// Ansible layout, ad-hoc text, YAML, a kubectl list) and counts the peer records and per-host
/// problems it gave. The entry point of the `ansible_facts` and `peer_document` fuzz targets.
pub fn parse_document_bytes(bytes: &[u8]) -> Result<(usize, usize), PeerInputError> {
    let parsed = parse_document(&Input::Stdin, bytes)?;
    Ok((parsed.records.len(), parsed.problems.len()))
}

fn parse_document(input: &Input, bytes: &[u8]) -> Result<Parsed, PeerInputError> {
    match multi::split(bytes) {
        Layout::Single => {}
        Layout::Invalid(e) => return Err(PeerInputError::Layout(e)),
        Layout::Parts(parts) => return Ok(parse_parts(&input.label(), bytes, parts)),
    }
    // A binary or empty file fails to parse anyway; it is told as such only then, so that good files
    // are not scanned twice.
    match parse_json_document(&input.label(), bytes) {
        Ok(parsed) => Ok(parsed),
        Err(NotJson(json_error)) => {
            check_text(bytes)?;
            parse_text_document(input, bytes, json_error)
        }
        Err(Failed(e)) => Err(check_text(bytes).err().map_or(e, PeerInputError::Read)),
    }
}

/// The documents of a multi-document file, each told on its own; a document that cannot be used is a
/// problem of its own and the others still load.
fn parse_parts(source: &str, bytes: &[u8], parts: Vec<multi::Part>) -> Parsed {
    let mut parsed = Parsed::default();
    if parts.is_empty() {
        parsed.problems.push(PeerProblem {
            source: source.to_string(),
            message: "an empty JSON array: no peer documents".to_string(),
        });
    }
    for part in parts {
        let at = format!("{source}{}", part.position);
        match parse_json_document(&at, &bytes[part.range]) {
            Ok(one) => {
                parsed.records.extend(one.records);
                parsed.problems.extend(one.problems);
            }
            Err(NotJson(e) | Failed(e)) => parsed.problems.push(PeerProblem {
                source: at,
                message: e.to_string(),
            }),
        }
    }
    parsed
}

/// Why a document did not load as JSON.
enum JsonOutcome {
    /// It is not JSON text: it may be another text form.
    NotJson(PeerInputError),
    Failed(PeerInputError),
}
use JsonOutcome::{Failed, NotJson};

impl<E: Into<PeerInputError>> From<E> for JsonOutcome {
    fn from(e: E) -> JsonOutcome {
        Failed(e.into())
    }
}

/// Text that is not JSON: Ansible's ad-hoc output, else a YAML document (an Ansible YAML fact cache,
/// a snapshot or node list as YAML).
fn parse_text_document(
    input: &Input,
    bytes: &[u8],
    json_error: PeerInputError,
) -> Result<Parsed, PeerInputError> {
    let source = input.label();
    let text = std::str::from_utf8(bytes).map_err(PeerInputError::NotUtf8)?;
    if let Some(hosts) = ansible_text::parse_ad_hoc(text) {
        let mut parsed = Parsed::default();
        for host in hosts.map_err(PeerInputError::Text)? {
            let at = format!("{source}#{}", host.host);
            match host.facts {
                Ok(facts) => parsed.records.push(Record::Snapshot {
                    source: at,
                    facts: Box::new(facts),
                }),
                Err(e) => parsed.problems.push(PeerProblem {
                    source: at,
                    message: e.to_string(),
                }),
            }
        }
        return Ok(parsed);
    }
    if !ansible_text::looks_like_yaml(text) {
        return Err(json_error);
    }
    let value = ansible_text::parse_yaml(text).map_err(PeerInputError::Text)?;
    parse_value_document(&source, value)
}

/// A document already parsed into a value (from YAML), told by its top-level keys like JSON is.
fn parse_value_document(source: &str, value: serde_json::Value) -> Result<Parsed, PeerInputError> {
    use serde_json::Value;
    let Value::Object(map) = &value else {
        return Err(PeerInputError::YamlNotAMapping(match value {
            Value::Array(_) => "a sequence",
            Value::Null => "empty",
            _ => "a scalar",
        }));
    };
    let has = |key: &str| map.contains_key(key);
    let facts = if has("schema_version") {
        let mut facts: Facts =
            serde_json::from_value(value).map_err(PeerInputError::YamlSnapshot)?;
        snapshot::compact(&mut facts);
        facts
    } else if has("apiVersion") || has("kind") || has("items") {
        let bytes = serde_json::to_vec(&value).map_err(PeerInputError::YamlToJson)?;
        return Ok(nodes(source, kubectl::parse_slice(&bytes)?));
    } else if has("ansible_facts") {
        ansible::facts_from_value(value, ansible::Shape::ModuleResult)?
    } else if let Some(Value::String(payload)) = map.get("__payload__") {
        let inner = serde_json::from_str(payload).map_err(PeerInputError::PayloadNotJson)?;
        ansible::facts_from_value(inner, ansible::Shape::FactCache)?
    } else if has("nodecheck") || map.keys().any(|k| k.starts_with("ansible_")) {
        ansible::facts_from_value(value, ansible::Shape::FactCache)?
    } else {
        return Err(PeerInputError::UnknownYamlMapping {
            keys: ansible_setup::top_keys(map),
        });
    };
    Ok(Parsed {
        records: vec![Record::Snapshot {
            source: source.to_string(),
            facts: Box::new(facts),
        }],
        problems: Vec::new(),
    })
}

fn parse_json_document(source: &str, bytes: &[u8]) -> Result<Parsed, JsonOutcome> {
    let source = source.to_string();
    let format = match detect_slice(bytes) {
        Ok(format) => format,
        // Ad-hoc output may open with a `[WARNING]: …` line, which reads as the start of an array.
        Err(e @ (Undetected::InvalidJson(_) | Undetected::NotAnObject(_))) => {
            return Err(NotJson(PeerInputError::Undetected(e)))
        }
        Err(e) => return Err(Failed(PeerInputError::Undetected(e))),
    };
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
fn parse_stream(
    input: &Input,
    prefix: &[u8],
    rest: Box<dyn Read>,
) -> Result<Parsed, PeerInputError> {
    let mib = super::read::MAX_IN_MEMORY / (1024 * 1024);
    match detect_slice(prefix) {
        Ok(Format::Kubernetes) => {}
        Ok(_) => return Err(PeerInputError::TooLarge { mib }),
        Err(start) => return Err(PeerInputError::TooLargeUndetected { mib, start }),
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

    fn stream(document: &'static [u8], prefix_len: usize) -> Result<Parsed, PeerInputError> {
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
        assert!(matches!(e, PeerInputError::TooLarge { mib: 64 }), "{e}");
        assert_eq!(
            e.to_string(),
            "larger than 64 MiB; only kubectl node lists may be that large"
        );
        let e = stream(b"[1, 2, 3]", 4).err().unwrap().to_string();
        assert!(
            e.starts_with("larger than 64 MiB, and its start is not a nodecheck snapshot"),
            "{e}"
        );
    }
}
