//! Why one `--peers` input (a file, a document inside it, or stdin) gave no peers: the typed errors
//! of each format's parser, and the loader's own. Each becomes a peer problem shown beside the input's
//! name while the other inputs still load; as an exit code every one is bad input.

use super::ansible::AnsibleFactsError;
use super::ansible_text::AnsibleTextError;
use super::detect::Undetected;
use super::kubectl::KubeDocumentError;
use super::read::ReadProblem;
use super::snapshot::SnapshotError;
use crate::error::{Exit, ExitStatus};

#[derive(Debug, thiserror::Error)]
pub enum PeerInputError {
    #[error(transparent)]
    Read(#[from] ReadProblem),
    #[error("{0}")]
    Undetected(Undetected),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Ansible(#[from] AnsibleFactsError),
    #[error(transparent)]
    Kubernetes(#[from] KubeDocumentError),
    /// A JSON Lines or JSON array file that does not split into documents.
    #[error("{0}")]
    Layout(String),
    /// Ansible ad-hoc output or YAML that does not parse (the parser's words, with the line).
    #[error(transparent)]
    Text(#[from] AnsibleTextError),
    #[error("{0}")]
    NotUtf8(std::str::Utf8Error),
    #[error("a YAML document that is not a mapping: {0}")]
    YamlNotAMapping(&'static str),
    #[error("not a valid nodecheck snapshot: {0}")]
    YamlSnapshot(serde_json::Error),
    #[error("{0}")]
    YamlToJson(serde_json::Error),
    #[error("an Ansible fact cache whose `__payload__` is not JSON: {0}")]
    PayloadNotJson(serde_json::Error),
    /// `keys`: the mapping's top keys, as `top_keys` shows them.
    #[error("not a nodecheck snapshot, Ansible facts or kubectl node list: a YAML mapping with top-level keys {keys}")]
    UnknownYamlMapping { keys: String },
    #[error("larger than {mib} MiB; only kubectl node lists may be that large")]
    TooLarge { mib: u64 },
    #[error("larger than {mib} MiB, and its start is {start}")]
    TooLargeUndetected { mib: u64, start: Undetected },
    #[error("not read (a parser thread stopped)")]
    NotRead,
}

impl ExitStatus for PeerInputError {
    fn exit(&self) -> Exit {
        Exit::BadInput
    }
}
