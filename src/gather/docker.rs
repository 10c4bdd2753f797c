//! Docker, seen two ways: bridges named like Docker's in the netlink dump (known even when the daemon
//! is down), and the daemon's own list of networks over its API socket (name, driver, subnets, bridge
//! device, compose project/network labels), which ties a `br-<id>` bridge to the compose project that
//! made it.
//!
//! The API is spoken with a minimal HTTP/1.0 client over a Unix socket (the response parsed by
//! [`super::http`]), bounded by one overall timeout and a size cap: a missing, refused, denied or
//! hanging socket becomes a recorded fact, never an error or a hang.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::facts::{DockerApi, DockerApiStatus, DockerNetwork};

pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// Budget for the whole API exchange: connect, request, response.
pub const API_TIMEOUT: Duration = Duration::from_secs(2);
/// A network list larger than this is not a Docker daemon talking (a daemon with a thousand networks
/// answers about 1 MiB); a larger answer is refused, not read.
pub const MAX_RESPONSE_BYTES: u64 = 4 << 20;

/// The API socket: `DOCKER_HOST` when it names a `unix://` socket (a path as the caller sees it),
/// else Docker's default under the host root.
pub fn api_socket_path(root: &crate::host_root::HostRoot) -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|host| host.strip_prefix("unix://").map(str::to_string))
        .filter(|path| !path.is_empty())
        .unwrap_or_else(|| {
            // A link loop under the host root: an empty path, which no connect reaches.
            root.path(DEFAULT_SOCKET)
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        })
}

/// What to record when the query task itself died (it does not panic; this keeps gathering total).
pub fn query_failed(
    root: &crate::host_root::HostRoot,
    error: &dyn std::fmt::Display,
) -> (DockerApi, Vec<DockerNetwork>) {
    let api = DockerApi {
        socket: api_socket_path(root),
        status: DockerApiStatus::Error,
        detail: Some(format!("the Docker API query failed: {error}")),
    };
    (api, Vec::new())
}

/// Asks the daemon for its networks. Never fails: what happened is in the returned [`DockerApi`].
pub async fn query_networks(socket: String) -> (DockerApi, Vec<DockerNetwork>) {
    let socket = socket.as_str();
    let api = |status, detail: String| DockerApi {
        socket: socket.to_string(),
        status,
        detail: Some(detail),
    };
    let exchange = tokio::time::timeout(API_TIMEOUT, http_get(Path::new(socket), "/networks"));
    let response = match exchange.await {
        Err(_) => {
            let detail = format!(
                "the Docker API did not answer within {} s",
                API_TIMEOUT.as_secs()
            );
            return (api(DockerApiStatus::Timeout, detail), Vec::new());
        }
        Ok(Err(e)) => {
            let (status, detail) = match e.kind() {
                std::io::ErrorKind::NotFound => (
                    DockerApiStatus::NoSocket,
                    format!("{socket} does not exist"),
                ),
                std::io::ErrorKind::PermissionDenied => (
                    DockerApiStatus::PermissionDenied,
                    format!(
                        "{socket}: permission denied (run as root or a member of the docker group)"
                    ),
                ),
                std::io::ErrorKind::ConnectionRefused => (
                    DockerApiStatus::Error,
                    format!("{socket}: connection refused (is dockerd running?)"),
                ),
                _ => (DockerApiStatus::Error, format!("{socket}: {e}")),
            };
            return (api(status, detail), Vec::new());
        }
        Ok(Ok(bytes)) => bytes,
    };
    match parse_http_response(&response).and_then(|(status, body)| {
        if status == 200 {
            parse_networks(&body)
        } else {
            Err(format!(
                "GET /networks answered HTTP {status}: {}",
                String::from_utf8_lossy(&body).trim()
            ))
        }
    }) {
        Ok(networks) => (
            DockerApi {
                socket: socket.to_string(),
                status: DockerApiStatus::Answered,
                detail: None,
            },
            networks,
        ),
        Err(detail) => (api(DockerApiStatus::Error, detail), Vec::new()),
    }
}

/// Sends `GET <path>` as HTTP/1.0 (the server closes the connection after the response) and returns
/// the raw response.
async fn http_get(socket: &Path, path: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = tokio::net::UnixStream::connect(socket).await?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: docker\r\nAccept: application/json\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream
        .take(MAX_RESPONSE_BYTES + 1)
        .read_to_end(&mut response)
        .await?;
    if response.len() as u64 > MAX_RESPONSE_BYTES {
        return Err(std::io::Error::other(format!(
            "the Docker API answered more than {} MiB for GET {path}; not read",
            MAX_RESPONSE_BYTES >> 20
        )));
    }
    Ok(response)
}

/// Splits a raw HTTP response into its status code and body (see [`super::http`]).
pub fn parse_http_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    match super::http::parse_response(raw) {
        Ok((status, Some(body))) => Ok((status, body)),
        Ok((_, None)) => {
            Err("the Docker API sent an incomplete HTTP response (no end of headers)".into())
        }
        Err(e) => Err(format!("the Docker API sent a malformed response: {e}")),
    }
}

/// Docker networks from the `GET /networks` JSON body, in the daemon's order. The body is read into
/// the few fields nodecheck keeps (everything else is skipped unread), so memory stays near the
/// body's size whatever the daemon sends; a field of an unexpected type counts as absent.
pub fn parse_networks(body: &[u8]) -> Result<Vec<DockerNetwork>, String> {
    let list: Vec<ApiNetwork> = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            format!("the Docker API's network list is not a JSON array of networks: {e}")
        } else {
            format!("the Docker API's network list is not JSON: {e}")
        }
    })?;
    Ok(list.into_iter().map(network).collect())
}

/// One entry of `GET /networks`, as far as nodecheck reads it.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ApiNetwork {
    #[serde(rename = "Id")]
    id: Lenient,
    #[serde(rename = "Name")]
    name: Lenient,
    #[serde(rename = "Driver")]
    driver: Lenient,
    #[serde(rename = "IPAM")]
    ipam: Option<ApiIpam>,
    #[serde(rename = "Options")]
    options: Option<ApiOptions>,
    #[serde(rename = "Labels")]
    labels: Option<ApiLabels>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ApiIpam {
    #[serde(rename = "Config")]
    config: Option<Vec<ApiIpamConfig>>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ApiIpamConfig {
    #[serde(rename = "Subnet")]
    subnet: Lenient,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ApiOptions {
    #[serde(rename = "com.docker.network.bridge.name")]
    bridge_name: Lenient,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ApiLabels {
    #[serde(rename = "com.docker.compose.project")]
    compose_project: Lenient,
    #[serde(rename = "com.docker.compose.network")]
    compose_network: Lenient,
}

/// A string field; any other JSON value (null, a number, an object) is skipped and counts as absent.
#[derive(Default)]
struct Lenient(Option<String>);

impl<'de> serde::Deserialize<'de> for Lenient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Lenient, E> {
                Ok(Lenient(Some(v.to_string())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_unit<E>(self) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Lenient, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Lenient, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Lenient(None))
            }
        }
        d.deserialize_any(V)
    }
}

fn network(v: ApiNetwork) -> DockerNetwork {
    let id = v.id.0.unwrap_or_default();
    let name = v.name.0.unwrap_or_default();
    let driver = v.driver.0.unwrap_or_default();
    let subnets = v
        .ipam
        .and_then(|ipam| ipam.config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.subnet.0?.parse::<ipnet::IpNet>().ok())
        .collect();
    let bridge_device = (driver == "bridge").then(|| {
        v.options
            .and_then(|o| o.bridge_name.0)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| default_bridge_device(&name, &id))
    });
    let labels = v.labels.unwrap_or_default();
    DockerNetwork {
        bridge_device,
        compose_project: labels.compose_project.0,
        compose_network: labels.compose_network.0,
        id,
        name,
        driver,
        subnets,
    }
}

/// Docker's own naming when no bridge name option is set: `docker0` for the default `bridge`
/// network, else `br-` and the first 12 characters of the network id.
fn default_bridge_device(name: &str, id: &str) -> String {
    if name == "bridge" {
        "docker0".to_string()
    } else {
        format!("br-{}", id.get(..12).unwrap_or(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_response_plain_and_chunked() {
        let (status, body) =
            parse_http_response(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[]")
                .unwrap();
        assert_eq!((status, body.as_slice()), (200, b"[]".as_slice()));
        let (status, body) = parse_http_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[{}\r\n1;x=y\r\n]\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((status, body.as_slice()), (200, b"[{}]".as_slice()));
        assert_eq!(
            parse_http_response(b"HTTP/1.0 403 Forbidden\r\n\r\nno")
                .unwrap()
                .0,
            403
        );
        assert!(parse_http_response(b"garbage").is_err());
        assert!(parse_http_response(b"SSH-2.0\r\n\r\n").is_err());
        assert!(parse_http_response(b"HTTP/1.0 200 OK\r\n").is_err());
    }

    #[test]
    fn networks_with_bridge_devices_and_compose_labels() {
        let body = br#"[
          {"Name":"bridge","Id":"9a8b7c6d5e4f3a2b1c0d","Driver":"bridge",
           "IPAM":{"Config":[{"Subnet":"172.17.0.0/16","Gateway":"172.17.0.1"}]},
           "Options":{"com.docker.network.bridge.name":"docker0"},"Labels":{}},
          {"Name":"incident41_backend","Id":"3f2a1b4c5d6e7f8091a2b3c4","Driver":"bridge",
           "IPAM":{"Config":[{"Subnet":"10.20.41.0/24"},{"Subnet":"fd41::/64"}]},
           "Options":{},"Labels":{"com.docker.compose.project":"incident41","com.docker.compose.network":"backend"}},
          {"Name":"host","Id":"ffff","Driver":"host","IPAM":{"Config":null},"Options":null,"Labels":null}
        ]"#;
        let networks = parse_networks(body).unwrap();
        assert_eq!(networks.len(), 3);
        assert_eq!(networks[0].bridge_device.as_deref(), Some("docker0"));
        assert_eq!(networks[0].subnets, vec!["172.17.0.0/16".parse().unwrap()]);
        let compose = &networks[1];
        assert_eq!(compose.bridge_device.as_deref(), Some("br-3f2a1b4c5d6e"));
        assert_eq!(compose.compose_project.as_deref(), Some("incident41"));
        assert_eq!(compose.compose_network.as_deref(), Some("backend"));
        assert_eq!(compose.subnets.len(), 2);
        assert_eq!(networks[2].bridge_device, None);
        assert!(networks[2].subnets.is_empty());
        assert!(parse_networks(b"{\"message\":\"x\"}").is_err());
        let odd = parse_networks(br#"[{"Name": 7, "Driver": "bridge", "Id": "abcdefabcdef99", "IPAM": {"Config": [{"Subnet": null}, {"Subnet": "10.9.0.0/16"}]}, "Labels": []}]"#).unwrap();
        assert_eq!(odd[0].name, "");
        assert_eq!(odd[0].bridge_device.as_deref(), Some("br-abcdefabcdef"));
        assert_eq!(odd[0].subnets.len(), 1);
    }

    #[test]
    fn an_oversized_api_answer_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = conn.read(&mut request);
            let _ = conn.write_all(b"HTTP/1.0 200 OK\r\n\r\n[");
            let chunk = vec![b' '; 1 << 20];
            for _ in 0..=(MAX_RESPONSE_BYTES >> 20) + 1 {
                if conn.write_all(&chunk).is_err() {
                    break;
                }
            }
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (api, networks) = runtime.block_on(query_networks(socket.display().to_string()));
        assert_eq!(api.status, DockerApiStatus::Error, "{api:?}");
        assert!(api.detail.unwrap().contains("more than 4 MiB"));
        assert!(networks.is_empty());
        drop(runtime);
        let _ = server.join();
    }

    #[test]
    fn default_bridge_without_option_is_docker0() {
        assert_eq!(default_bridge_device("bridge", "abc"), "docker0");
        assert_eq!(
            default_bridge_device("n", "0123456789abcdef"),
            "br-0123456789ab"
        );
    }
}
