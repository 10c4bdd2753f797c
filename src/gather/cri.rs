//! Asks the container runtime over its CRI socket: `runtime.v1.RuntimeService/Version` and
//! `RuntimeConfig` (the cgroup driver kubelet takes from the runtime), with tonic's gRPC client over
//! a Unix socket. The socket is kubelet's configured endpoint when it has one (its
//! `--container-runtime-endpoint` flag, else `containerRuntimeEndpoint` in its configuration file),
//! else `CONTAINER_RUNTIME_ENDPOINT` when set (as crictl reads it: a `unix://` URL or a path, as the
//! caller sees it), else the first well-known CRI socket present under the host root. Both calls share one deadline: a missing socket, a refused connection or a
//! runtime that accepts and never answers become a recorded fact, never an error or a hang.

use std::path::PathBuf;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tonic::transport::{Endpoint, Uri};
use tonic::Code;

use crate::facts::preflight::{CriRuntime, CriStatus};
use crate::host_root::HostRoot;

/// The messages and client generated from proto/cri_runtime_v1.proto by build.rs.
mod api {
    tonic::include_proto!("runtime.v1");
}

use api::runtime_service_client::RuntimeServiceClient;

/// Both calls together get this long.
pub const CRI_TIMEOUT: Duration = Duration::from_secs(2);

/// The runtime's answers are a few dozen bytes; anything larger is not a runtime talking.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The environment variable crictl reads for the runtime endpoint.
pub const ENDPOINT_VARIABLE: &str = "CONTAINER_RUNTIME_ENDPOINT";

/// The CRI API version nodecheck speaks (`VersionRequest.version`).
const API_VERSION: &str = "v1";

/// The socket to ask: the path to connect to, what to call it in the facts, and why it was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub connect: PathBuf,
    pub shown: String,
    pub selected_by: String,
}

/// kubelet's configured endpoint (`kubelet`: the endpoint and where it was set, from
/// [`super::kubelet::runtime_endpoint`]) — a host path under `root` — else
/// `CONTAINER_RUNTIME_ENDPOINT` when set, else the first CRI socket of
/// [`super::sockets::RUNTIME_SOCKETS`] (Docker's own socket is not CRI) present under `root`.
pub fn select_socket(root: &HostRoot, kubelet: Option<(String, String)>) -> Option<Target> {
    use std::os::unix::fs::FileTypeExt;
    if let Some((endpoint, source)) = kubelet {
        return Some(kubelet_target(root, &endpoint, source));
    }
    if let Ok(endpoint) = std::env::var(ENDPOINT_VARIABLE) {
        let path = endpoint.strip_prefix("unix://").unwrap_or(&endpoint);
        if !path.is_empty() {
            return Some(Target {
                connect: PathBuf::from(path),
                shown: path.to_string(),
                selected_by: ENDPOINT_VARIABLE.to_string(),
            });
        }
    }
    super::sockets::RUNTIME_SOCKETS
        .iter()
        .filter(|(runtime, _)| *runtime != "docker")
        .find(|(_, path)| root.metadata(path).is_ok_and(|m| m.file_type().is_socket()))
        .and_then(|(runtime, path)| {
            Some(Target {
                connect: root.path(path).ok()?,
                shown: (*path).to_string(),
                selected_by: format!("{runtime}'s well-known socket"),
            })
        })
}

/// The socket kubelet's endpoint names, read as kubelet does: a `unix://` URL's path, or a bare
/// path (kubelet still accepts one, with a deprecation notice). kubelet dials only Unix sockets; any
/// other scheme is kept as written and, not being a file under the host root, reported missing.
fn kubelet_target(root: &HostRoot, endpoint: &str, selected_by: String) -> Target {
    let path = endpoint.strip_prefix("unix://").unwrap_or(endpoint);
    let connect = if path.contains("://") {
        None
    } else {
        root.path(path).ok()
    };
    Target {
        connect: connect.unwrap_or_else(|| PathBuf::from(endpoint)),
        shown: path.to_string(),
        selected_by,
    }
}

/// Asks the runtime at `target` (none: records that there is no socket). Never fails.
pub async fn query_runtime(target: Option<Target>) -> CriRuntime {
    let Some(target) = target else {
        return CriRuntime {
            status: CriStatus::NoSocket,
            detail: Some("no CRI socket exists at the well-known paths".into()),
            ..Default::default()
        };
    };
    let mut facts = CriRuntime {
        socket: Some(target.shown.clone()),
        selected_by: Some(target.selected_by.clone()),
        ..Default::default()
    };
    if !target.connect.exists() {
        facts.status = CriStatus::NoSocket;
        facts.detail = Some(format!("{} does not exist", target.shown));
        return facts;
    }
    match tokio::time::timeout(CRI_TIMEOUT, ask(target.connect.clone(), &mut facts)).await {
        Ok(Ok(())) => facts.status = CriStatus::Answered,
        Ok(Err(detail)) => {
            facts.status = CriStatus::Error;
            facts.detail = Some(format!("{}: {detail}", target.shown));
        }
        Err(_) => {
            facts.status = CriStatus::Timeout;
            facts.detail = Some(format!(
                "{} did not answer within {} s",
                target.shown,
                CRI_TIMEOUT.as_secs()
            ));
        }
    }
    facts
}

/// `Version`, then `RuntimeConfig`, filling `facts` as the answers come.
async fn ask(socket: PathBuf, facts: &mut CriRuntime) -> Result<(), String> {
    // The URI is required by the HTTP/2 layer but never resolved: the connector dials the socket.
    let channel = Endpoint::from_static("http://cri.invalid")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move {
                tokio::net::UnixStream::connect(socket)
                    .await
                    .map(TokioIo::new)
            }
        }))
        .await
        .map_err(|e| connect_error(&e))?;
    let mut client = RuntimeServiceClient::new(channel).max_decoding_message_size(MAX_ANSWER_BYTES);
    let version = client
        .version(api::VersionRequest {
            version: API_VERSION.into(),
        })
        .await
        .map_err(|s| format!("Version: {}", status_words(&s)))?
        .into_inner();
    facts.runtime_name = Some(version.runtime_name);
    facts.runtime_version = Some(version.runtime_version);
    facts.runtime_api_version = Some(version.runtime_api_version);
    match client.runtime_config(api::RuntimeConfigRequest {}).await {
        Ok(answer) => {
            facts.runtime_config = Some(true);
            facts.cgroup_driver = answer
                .into_inner()
                .linux
                .map(|linux| cgroup_driver_name(linux.cgroup_driver).to_string());
        }
        Err(status) if status.code() == Code::Unimplemented => facts.runtime_config = Some(false),
        Err(status) => return Err(format!("RuntimeConfig: {}", status_words(&status))),
    }
    Ok(())
}

/// The CRI `CgroupDriver` enum's value as kubelet's `cgroupDriver` spells it.
fn cgroup_driver_name(value: i32) -> &'static str {
    match api::CgroupDriver::try_from(value) {
        Ok(api::CgroupDriver::Systemd) => "systemd",
        Ok(api::CgroupDriver::Cgroupfs) => "cgroupfs",
        Err(_) => "unknown",
    }
}

/// A connection failure in words: the OS error under tonic's transport error.
fn connect_error(error: &tonic::transport::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied (run as root)".to_string()
                }
                std::io::ErrorKind::ConnectionRefused => {
                    "connection refused (is the runtime running?)".to_string()
                }
                _ => io.to_string(),
            };
        }
        source = e.source();
    }
    format!("cannot connect: {error}")
}

/// A gRPC status in words: its code and the runtime's message.
fn status_words(status: &tonic::Status) -> String {
    if status.message().is_empty() {
        format!("{:?}", status.code())
    } else {
        format!("{:?}: {}", status.code(), status.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_driver_names() {
        assert_eq!(cgroup_driver_name(0), "systemd");
        assert_eq!(cgroup_driver_name(1), "cgroupfs");
        assert_eq!(cgroup_driver_name(7), "unknown");
    }
}
