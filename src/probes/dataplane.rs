//! The opt-in data-plane probe (`check --probe-dataplane`, judged by `Dataplane-Probe`): before any
//! CNI exists, two throw-away network namespaces stand in for two pods. Each gets an address from
//! the pod CIDR and a veth pair to the host, wired the way Calico wires a pod (a /32 on the pod's
//! end, a default route through 169.254.1.1 on-link, a /32 route to the pod on the host's end), so
//! traffic between them crosses the host's forwarding path: `ip_forward`, the FORWARD hook's
//! chains, reverse-path filtering. TCP, UDP and a UDP datagram filling the overlay MTU with DF set
//! are exchanged between them.
//!
//! It is the one probe that changes host state, and it only adds and removes its own objects: it
//! sets no sysctl and no firewall rule. The namespaces are anonymous (held only by this process's
//! file descriptors, never bind-mounted under /run/netns), so the kernel destroys them, and the
//! veth pairs with them, when the process ends however it ends. The host ends are also deleted
//! explicitly on the way out (drop), SIGINT/SIGTERM during the probe end it early through the same
//! path, and links named `ncp<pid>h[ab]` of a process that no longer runs are removed before a run.
//! Everything is bounded by [`PROBE_BUDGET`].

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use ipnet::Ipv4Net;
use nix::sched::CloneFlags;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal};
use rtnetlink::packet_route::link::{LinkAttribute, LinkMessage};
use rtnetlink::packet_route::neighbour::NeighbourState;
use rtnetlink::packet_route::route::RouteScope;
use rtnetlink::{Handle, LinkUnspec, LinkVeth, RouteMessageBuilder};
use serde::{Deserialize, Serialize};

/// The whole probe, setup and cleanup included, ends within about this long.
pub const PROBE_BUDGET: Duration = Duration::from_secs(5);
/// One leg (TCP, UDP, the MTU-sized datagram) waits at most this long.
const LEG_TIMEOUT: Duration = Duration::from_millis(1400);
/// The on-link gateway the pods route through, as Calico's pods do.
const GATEWAY: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);
/// The port the pod standing for the server listens on (inside its own namespace).
const PORT: u16 = 7946;
/// IPv4 and UDP headers: a datagram of `mtu - 28` payload bytes fills the MTU.
const IPV4_UDP_HEADERS: u32 = 28;
/// IPv4 and TCP headers without options: the MSS at an MTU.
const IPV4_TCP_HEADERS: u32 = 40;

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataplaneProbe {
    /// The pod CIDR the two addresses come from.
    pub pod_cidr: String,
    /// The two pod addresses used (empty when none could be picked).
    pub addresses: Vec<Ipv4Addr>,
    /// The MTU of the veths and of the large datagram.
    pub mtu: u32,
    /// Host links named `ncp<pid>h[ab]` left by a run that no longer exists, removed first.
    #[serde(default)]
    pub leftovers_removed: Vec<String>,
    pub outcome: DataplaneOutcome,
}

/// How the probe ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum DataplaneOutcome {
    /// Not run as root: namespaces and links cannot be made.
    NeedsRoot,
    /// The pod CIDR has no two free IPv4 addresses.
    NoAddresses { reason: String },
    /// The namespaces, links or routes could not be made.
    SetupFailed { step: String, error: String },
    /// SIGINT or SIGTERM arrived during the probe; everything made was removed.
    Interrupted { signal: String },
    /// The legs ran.
    Ran { legs: Vec<Leg> },
}

/// One exchange between the two namespaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    pub kind: LegKind,
    /// Payload bytes sent (and expected back).
    pub bytes: u32,
    /// The round trip, when the payload came back whole.
    pub round_trip_us: Option<u64>,
    /// Why it did not.
    pub error: Option<String>,
}

/// The three legs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegKind {
    /// A TCP connection echoing a few full-size segments.
    Tcp,
    /// A small UDP datagram echoed.
    Udp,
    /// A UDP datagram that fills the MTU, sent with DF set.
    Mtu,
}

impl LegKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LegKind::Tcp => "TCP",
            LegKind::Udp => "UDP",
            LegKind::Mtu => "large packet at MTU",
        }
    }
}

/// What to probe with.
pub struct DataplaneRequest {
    pub pod_cidr: Ipv4Net,
    /// Addresses already on this host's interfaces, never picked.
    pub used: Vec<Ipv4Addr>,
    pub mtu: u32,
}

/// Two addresses of `cidr` from its top, skipping the broadcast address and `used`.
pub fn pick_addresses(cidr: Ipv4Net, used: &[Ipv4Addr]) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let mut free = cidr
        .hosts()
        .rev()
        .filter(|a| *a != cidr.broadcast() && *a != cidr.network() && !used.contains(a));
    let high = free.next()?;
    let low = free.next()?;
    Some((low, high))
}

/// Why a step of the probe could not be done.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("{0}")]
    Netlink(#[from] rtnetlink::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Errno(#[from] nix::Error),
    #[error("did not finish in time")]
    Timeout,
    #[error("link {0} not found")]
    NoLink(String),
    #[error("a probe thread panicked")]
    Panicked,
    #[error("interrupted by {0}")]
    Interrupted(String),
}

/// Runs the probe (root only); see the module documentation.
pub fn probe(request: &DataplaneRequest) -> DataplaneProbe {
    let mut result = DataplaneProbe {
        pod_cidr: request.pod_cidr.to_string(),
        addresses: Vec::new(),
        mtu: request.mtu,
        leftovers_removed: Vec::new(),
        outcome: DataplaneOutcome::NeedsRoot,
    };
    if !nix::unistd::geteuid().is_root() {
        return result;
    }
    let Some((a, b)) = pick_addresses(request.pod_cidr, &request.used) else {
        result.outcome = DataplaneOutcome::NoAddresses {
            reason: format!("{} has no two free addresses", request.pod_cidr),
        };
        return result;
    };
    result.addresses = vec![a, b];
    let deadline = Instant::now() + PROBE_BUDGET;
    let signals = SignalGuard::install();
    result.leftovers_removed = remove_leftovers(deadline);
    let mut made = Made::default();
    result.outcome = match run(&mut made, a, b, request.mtu, deadline) {
        Ok(legs) => DataplaneOutcome::Ran { legs },
        Err((_, StepError::Interrupted(signal))) => DataplaneOutcome::Interrupted { signal },
        Err((step, error)) => DataplaneOutcome::SetupFailed {
            step: step.to_string(),
            error: error.to_string(),
        },
    };
    drop(made);
    if let Some(signal) = signals.received() {
        result.outcome = DataplaneOutcome::Interrupted { signal };
    }
    result
}

/// Link names of this process: pod ends `ncp<pid>a`/`b`, host ends `ncp<pid>ha`/`hb`.
fn link_name(pid: u32, end: &str) -> String {
    format!("ncp{pid}{end}")
}

/// The pid in a host-end name `ncp<pid>h[ab]`.
fn leftover_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("ncp")?;
    let digits = rest
        .strip_suffix("ha")
        .or_else(|| rest.strip_suffix("hb"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Deletes host ends left by probes whose process is gone (only a kill before the kernel had torn
/// the namespaces down leaves any); returns their names.
fn remove_leftovers(deadline: Instant) -> Vec<String> {
    let names = netlink(deadline, |handle| async move {
        let mut names = Vec::new();
        let mut links = handle.link().get().execute();
        while let Some(link) = links.try_next().await? {
            if let Some(name) = name_of(&link) {
                names.push(name);
            }
        }
        Ok(names)
    })
    .unwrap_or_default();
    let stale: Vec<String> = names
        .into_iter()
        .filter(|n| {
            leftover_pid(n).is_some_and(|pid| {
                pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            })
        })
        .collect();
    for name in &stale {
        let _ = delete_link(name, deadline);
    }
    stale
}

fn name_of(link: &LinkMessage) -> Option<String> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    })
}

fn delete_link(name: &str, deadline: Instant) -> Result<(), StepError> {
    let name = name.to_string();
    netlink(deadline, |handle| async move {
        handle
            .link()
            .del_with_message(LinkUnspec::new_with_name(&name).build())
            .execute()
            .await?;
        Ok(())
    })
}

/// What the probe made: deleted when dropped (host ends by name, which takes their pod ends with
/// them; the namespaces go when their last descriptor closes).
#[derive(Default)]
struct Made {
    host_links: Vec<String>,
    namespaces: Vec<OwnedFd>,
}

impl Drop for Made {
    fn drop(&mut self) {
        // Cleanup gets its own short budget: the probe's may be spent.
        let deadline = Instant::now() + Duration::from_secs(2);
        for name in self.host_links.drain(..) {
            let _ = delete_link(&name, deadline);
        }
        self.namespaces.clear();
    }
}

fn run(
    made: &mut Made,
    a: Ipv4Addr,
    b: Ipv4Addr,
    mtu: u32,
    deadline: Instant,
) -> Result<Vec<Leg>, (&'static str, StepError)> {
    let pid = std::process::id();
    for (end, address) in [("a", a), ("b", b)] {
        interrupted().map_err(|e| ("start", e))?;
        let namespace = new_namespace().map_err(|e| ("create a network namespace", e))?;
        let (host_end, pod_end) = (link_name(pid, &format!("h{end}")), link_name(pid, end));
        let fd = namespace.as_raw_fd();
        made.namespaces.push(namespace);
        let created = {
            let (host_end, pod_end) = (host_end.clone(), pod_end.clone());
            netlink(deadline, move |handle| async move {
                handle
                    .link()
                    .add(LinkVeth::new(&host_end, &pod_end).mtu(mtu).up().build())
                    .execute()
                    .await?;
                Ok(())
            })
        };
        // Recorded before the result is looked at: a half-made pair is still removed.
        made.host_links.push(host_end.clone());
        created.map_err(|e| ("create a veth pair", e))?;
        let host_mac = host_side(&host_end, &pod_end, fd, address, mtu, deadline)
            .map_err(|e| ("wire a veth pair on the host", e))?;
        let namespace = made.namespaces.last().expect("just pushed");
        in_namespace(namespace, || {
            pod_side(&pod_end, address, &host_mac, deadline)
        })
        .map_err(|e| ("configure a probe namespace", e))?;
    }
    interrupted().map_err(|e| ("start", e))?;
    let (listener, udp) = in_namespace(&made.namespaces[1], || {
        let listener = TcpListener::bind(SocketAddrV4::new(b, PORT))?;
        let udp = UdpSocket::bind(SocketAddrV4::new(b, PORT))?;
        Ok::<_, StepError>((listener, udp))
    })
    .map_err(|e| ("listen in a probe namespace", e))?;
    let stop = AtomicBool::new(false);
    let server = SocketAddr::V4(SocketAddrV4::new(b, PORT));
    std::thread::scope(|scope| {
        scope.spawn(|| serve_tcp(&listener, &stop));
        scope.spawn(|| serve_udp(&udp, &stop));
        let legs = in_namespace(&made.namespaces[0], || {
            Ok::<_, StepError>(legs(a, server, mtu, deadline))
        });
        stop.store(true, Ordering::SeqCst);
        let legs = legs.map_err(|e| ("send from a probe namespace", e))?;
        interrupted().map_err(|e| ("exchange", e))?;
        Ok(legs)
    })
}

/// The host end: the pod end moved into its namespace with the MTU, and a /32 route to the pod.
/// Returns the host end's MAC address (the pod's gateway).
fn host_side(
    host_end: &str,
    pod_end: &str,
    namespace: std::os::fd::RawFd,
    address: Ipv4Addr,
    mtu: u32,
    deadline: Instant,
) -> Result<Vec<u8>, StepError> {
    let (host_end, pod_end) = (host_end.to_string(), pod_end.to_string());
    netlink(deadline, move |handle| async move {
        handle
            .link()
            .set(
                LinkUnspec::new_with_name(&pod_end)
                    .mtu(mtu)
                    .setns_by_fd(namespace)
                    .build(),
            )
            .execute()
            .await?;
        let (index, mac) = link_index_and_mac(&handle, &host_end).await?;
        handle
            .route()
            .add(
                RouteMessageBuilder::<Ipv4Addr>::new()
                    .destination_prefix(address, 32)
                    .output_interface(index)
                    .scope(RouteScope::Link)
                    .build(),
            )
            .execute()
            .await?;
        Ok(mac)
    })
}

/// The pod end inside its namespace: up, the /32 address, the gateway's MAC, the default route.
fn pod_side(
    pod_end: &str,
    address: Ipv4Addr,
    gateway_mac: &[u8],
    deadline: Instant,
) -> Result<(), StepError> {
    let pod_end = pod_end.to_string();
    let gateway_mac = gateway_mac.to_vec();
    netlink(deadline, move |handle| async move {
        let (index, _) = link_index_and_mac(&handle, &pod_end).await?;
        handle
            .link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await?;
        handle
            .address()
            .add(index, address.into(), 32)
            .execute()
            .await?;
        handle
            .neighbours()
            .add(index, GATEWAY.into())
            .link_layer_address(&gateway_mac)
            .state(NeighbourState::Permanent)
            .execute()
            .await?;
        handle
            .route()
            .add(
                RouteMessageBuilder::<Ipv4Addr>::new()
                    .gateway(GATEWAY)
                    .output_interface(index)
                    .onlink()
                    .build(),
            )
            .execute()
            .await?;
        Ok(())
    })
}

async fn link_index_and_mac(handle: &Handle, name: &str) -> Result<(u32, Vec<u8>), StepError> {
    let mut links = handle.link().get().match_name(name.to_string()).execute();
    let link = links
        .try_next()
        .await?
        .ok_or_else(|| StepError::NoLink(name.to_string()))?;
    let mac = link
        .attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::Address(mac) => Some(mac.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Ok((link.header.index, mac))
}

/// Runs netlink requests on a connection opened in the calling thread's network namespace, on a
/// current-thread runtime, bounded by `deadline`.
fn netlink<T, F, Fut>(deadline: Instant, requests: F) -> Result<T, StepError>
where
    F: FnOnce(Handle) -> Fut,
    Fut: std::future::Future<Output = Result<T, StepError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (connection, handle, _) = rtnetlink::new_connection()?;
        tokio::spawn(connection);
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout(left, requests(handle))
            .await
            .map_err(|_| StepError::Timeout)?
    })
}

/// A new anonymous network namespace, made by a thread that leaves it at once: only the returned
/// descriptor keeps it alive.
fn new_namespace() -> Result<OwnedFd, StepError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                nix::sched::unshare(CloneFlags::CLONE_NEWNET)?;
                let file = std::fs::File::open("/proc/thread-self/ns/net")?;
                Ok(OwnedFd::from(file))
            })
            .join()
            .unwrap_or(Err(StepError::Panicked))
    })
}

/// Runs `work` on a dedicated thread that has entered `namespace` (threads it starts are in it
/// too; the caller's thread never changes namespace).
fn in_namespace<T: Send>(
    namespace: &OwnedFd,
    work: impl FnOnce() -> Result<T, StepError> + Send,
) -> Result<T, StepError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                nix::sched::setns(namespace, CloneFlags::CLONE_NEWNET)?;
                work()
            })
            .join()
            .unwrap_or(Err(StepError::Panicked))
    })
}

/// Echoes every TCP connection until `stop`.
fn serve_tcp(listener: &TcpListener, stop: &AtomicBool) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => echo_stream(stream, stop),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Writes back what `stream` reads until it ends or `stop`, waking every 50 ms to look at `stop`.
fn echo_stream(mut stream: TcpStream, stop: &AtomicBool) {
    if stream.set_nonblocking(false).is_err()
        || stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .is_err()
    {
        return;
    }
    let mut buffer = vec![0u8; 16 * 1024];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => {
                if stream.write_all(&buffer[..n]).is_err() {
                    return;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return,
        }
    }
}

/// Echoes every UDP datagram until `stop`.
fn serve_udp(socket: &UdpSocket, stop: &AtomicBool) {
    let _ = socket.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buffer = vec![0u8; 65536];
    while !stop.load(Ordering::SeqCst) {
        if let Ok((n, from)) = socket.recv_from(&mut buffer) {
            let _ = socket.send_to(&buffer[..n], from);
        }
    }
}

/// The three legs from the client namespace, each bounded by [`LEG_TIMEOUT`] and the deadline.
fn legs(client: Ipv4Addr, server: SocketAddr, mtu: u32, deadline: Instant) -> Vec<Leg> {
    let tcp_bytes = mtu.saturating_sub(IPV4_TCP_HEADERS) * 4;
    let udp_bytes = 32;
    let mtu_bytes = mtu.saturating_sub(IPV4_UDP_HEADERS);
    vec![
        leg(LegKind::Tcp, tcp_bytes, deadline, |payload, budget| {
            tcp_echo(server, payload, budget)
        }),
        leg(LegKind::Udp, udp_bytes, deadline, |payload, budget| {
            udp_echo(client, server, payload, budget)
        }),
        leg(LegKind::Mtu, mtu_bytes, deadline, |payload, budget| {
            udp_echo(client, server, payload, budget)
        }),
    ]
}

fn leg(
    kind: LegKind,
    bytes: u32,
    deadline: Instant,
    exchange: impl FnOnce(&[u8], Duration) -> Result<(), String>,
) -> Leg {
    let payload: Vec<u8> = (0..bytes).map(|i| (i % 251) as u8).collect();
    let budget = LEG_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
    let started = Instant::now();
    let outcome = if interrupted().is_err() {
        Err("interrupted".to_string())
    } else if budget.is_zero() {
        Err("no time left".to_string())
    } else {
        exchange(&payload, budget)
    };
    Leg {
        kind,
        bytes,
        round_trip_us: outcome
            .is_ok()
            .then(|| started.elapsed().as_micros().try_into().unwrap_or(u64::MAX)),
        error: outcome.err(),
    }
}

fn tcp_echo(server: SocketAddr, payload: &[u8], budget: Duration) -> Result<(), String> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&server, budget)
        .map_err(|e| format!("connect to {server}: {}", describe(&e)))?;
    let left = budget
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    stream
        .set_read_timeout(Some(left))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(left))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(payload)
        .and_then(|_| stream.shutdown(Shutdown::Write))
        .map_err(|e| format!("send: {}", describe(&e)))?;
    let mut back = Vec::with_capacity(payload.len());
    stream.read_to_end(&mut back).map_err(|e| {
        format!(
            "connected, but the echo did not come back: {}",
            describe(&e)
        )
    })?;
    if back != payload {
        return Err(format!(
            "{} of {} bytes came back",
            back.len(),
            payload.len()
        ));
    }
    Ok(())
}

/// Sends `payload` with DF set (path MTU discovery "do": the kernel refuses to fragment) and waits
/// for the echo, resending every 300 ms within `budget`.
fn udp_echo(
    client: Ipv4Addr,
    server: SocketAddr,
    payload: &[u8],
    budget: Duration,
) -> Result<(), String> {
    let started = Instant::now();
    let socket = UdpSocket::bind(SocketAddrV4::new(client, 0)).map_err(|e| e.to_string())?;
    let do_not_fragment: libc::c_int = libc::IP_PMTUDISC_DO;
    // SAFETY: a valid socket and a pointer to a c_int of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            (&do_not_fragment as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(format!("set DF: {}", std::io::Error::last_os_error()));
    }
    let mut back = vec![0u8; payload.len() + 1];
    while started.elapsed() < budget {
        interrupted().map_err(|e| e.to_string())?;
        socket
            .send_to(payload, server)
            .map_err(|e| format!("send {} bytes with DF: {}", payload.len(), describe(&e)))?;
        let wait = budget
            .saturating_sub(started.elapsed())
            .min(Duration::from_millis(300))
            .max(Duration::from_millis(1));
        socket
            .set_read_timeout(Some(wait))
            .map_err(|e| e.to_string())?;
        match socket.recv_from(&mut back) {
            Ok((n, _)) if back[..n] == *payload => return Ok(()),
            Ok((n, _)) => return Err(format!("{n} of {} bytes came back", payload.len())),
            Err(_) => continue,
        }
    }
    Err(format!("no echo within {} ms", budget.as_millis()))
}

fn describe(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => "timed out".to_string(),
        _ => error.to_string(),
    }
}

/// The signal that arrived during the probe (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    SIGNAL.store(signal, Ordering::SeqCst);
}

fn interrupted() -> Result<(), StepError> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => Ok(()),
        signal => Err(StepError::Interrupted(signal_name(signal))),
    }
}

fn signal_name(signal: i32) -> String {
    Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| signal.to_string())
}

/// SIGINT and SIGTERM record themselves for the probe's duration, so it stops at the next step
/// and removes what it made; the previous dispositions come back on drop.
struct SignalGuard {
    previous: Vec<(Signal, SigAction)>,
}

impl SignalGuard {
    fn install() -> SignalGuard {
        SIGNAL.store(0, Ordering::SeqCst);
        let action = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::empty(),
            SigSet::empty(),
        );
        let mut previous = Vec::new();
        for signal in [Signal::SIGINT, Signal::SIGTERM] {
            // SAFETY: the handler only stores into an atomic, which is async-signal-safe.
            if let Ok(old) = unsafe { nix::sys::signal::sigaction(signal, &action) } {
                previous.push((signal, old));
            }
        }
        SignalGuard { previous }
    }

    fn received(&self) -> Option<String> {
        interrupted().err().map(|e| match e {
            StepError::Interrupted(signal) => signal,
            other => other.to_string(),
        })
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (signal, old) in self.previous.drain(..) {
            // SAFETY: restores the disposition sigaction returned.
            let _ = unsafe { nix::sys::signal::sigaction(signal, &old) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_from_the_top_of_the_cidr_skipping_used_ones() {
        let cidr: Ipv4Net = "192.168.0.0/16".parse().unwrap();
        assert_eq!(
            pick_addresses(cidr, &[]),
            Some((
                "192.168.255.253".parse().unwrap(),
                "192.168.255.254".parse().unwrap()
            ))
        );
        let used = ["192.168.255.254".parse().unwrap()];
        assert_eq!(
            pick_addresses(cidr, &used),
            Some((
                "192.168.255.252".parse().unwrap(),
                "192.168.255.253".parse().unwrap()
            ))
        );
        assert_eq!(pick_addresses("10.0.0.1/32".parse().unwrap(), &[]), None);
        assert_eq!(pick_addresses("10.0.0.0/31".parse().unwrap(), &[]), None);
    }

    #[test]
    fn only_host_ends_of_the_probe_are_leftovers() {
        assert_eq!(leftover_pid("ncp4242ha"), Some(4242));
        assert_eq!(leftover_pid("ncp4242hb"), Some(4242));
        assert_eq!(leftover_pid("ncp4242a"), None);
        assert_eq!(leftover_pid("ncphb"), None);
        assert_eq!(leftover_pid("ncp12x4ha"), None);
        assert_eq!(leftover_pid("eth0"), None);
    }
}
