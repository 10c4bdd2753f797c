//! The predictor: what calico-node selects on one node for one `IP_AUTODETECTION_METHOD` value and one
//! address family, with the log line it writes and the walk that led there.
//!
//! It follows `FilteredEnumeration`: interfaces in reverse kernel dump order; the include list compiled
//! as one Go regex `(a)|(b)` and searched unanchored; the exclusion list likewise; the first Go
//! global-unicast address (in the CIDRs for `cidr=`) wins. `can-reach=` takes the source address from
//! the kernel (live) or from the snapshot's routes, then looks it up on every interface without filters;
//! `kubernetes-internal-ip` looks the node's InternalIP up the same way.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::Serialize;

use super::candidates::{calico_interfaces, ineligibility, CalicoAddress, CalicoInterface};
use super::exclusions::default_exclusions;
use super::go_format;
use super::go_regexp::{self, GoNamedGroups, GoRegex, GoRegexError};
use super::method::{parse_method, Method};
use crate::facts::{Facts, Family};
use crate::network::addresses::is_global_unicast;
use crate::network::routes;
use crate::profile::calico_version::CalicoVersion;

/// The first release assumed to be built with Go 1.22 or later (which accepts `(?<name>…)`).
pub const GO_1_22_SINCE: CalicoVersion = CalicoVersion::new(3, 28, 0);

/// Longest walk kept in a prediction's trace.
const TRACE_LIMIT: usize = 24;

/// Where a node's Kubernetes InternalIP comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InternalIpOrigin {
    /// `status.addresses` of the node in `kubectl get nodes -o json` input.
    Kubectl,
    /// No Node object given: the address kubelet will register, predicted from this node's kubelet
    /// inputs (`crate::kubelet`).
    KubeletModel,
    /// No Node object and no kubelet inputs (a snapshot without them): kubelet's last resort, the
    /// default-route interface's address, is assumed.
    KubeletAssumed,
    /// A cloud provider sets the node's addresses and no Node object was given.
    CloudProvider,
    /// Neither is known.
    Unknown,
}

/// The node's `status.addresses` entries of type InternalIP, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InternalIps {
    pub addresses: Vec<String>,
    pub origin: InternalIpOrigin,
    /// How kubelet's choice was made, when it was predicted (`/etc/hosts line 2 maps …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The prediction depends on DNS answering when kubelet starts.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dns_dependent: bool,
}

/// The kernel's answer to a UDP connect towards `destination` on the live host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelReach {
    pub destination: IpAddr,
    /// The local address, or Go's text of the connect error (`network is unreachable`).
    pub source: Result<IpAddr, String>,
}

/// A DNS name used by `can-reach=`, resolved once on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub name: String,
    pub addresses: Result<Vec<IpAddr>, String>,
}

/// One node to predict for.
#[derive(Debug, Clone)]
pub struct NodeInput<'a> {
    pub name: String,
    pub facts: &'a Facts,
    pub internal_ips: InternalIps,
    /// Kernel answers for `can-reach=` destinations; only the live host has them.
    pub kernel_reach: &'a [KernelReach],
}

/// Cluster-wide inputs of the model, and the regexes compiled so far.
///
/// The cache belongs to one thread (the model is `Send` but not `Sync`): a large fleet is predicted
/// by several threads, each with its own model from [`Model::for_another_thread`], which starts with
/// clones of the regexes compiled so far. A pattern is thus compiled once, no lock is taken per
/// lookup or per match, and each thread's regexes keep their own match caches.
#[derive(Debug)]
pub struct Model<'a> {
    pub version: &'a CalicoVersion,
    pub resolutions: &'a [Resolution],
    regex_cache: RefCell<HashMap<String, Result<Arc<GoRegex>, GoRegexError>>>,
}

impl<'a> Model<'a> {
    pub fn new(version: &'a CalicoVersion, resolutions: &'a [Resolution]) -> Model<'a> {
        Model {
            version,
            resolutions,
            regex_cache: RefCell::new(HashMap::new()),
        }
    }

    /// A model for another thread: the same inputs, and its own copy of the regexes compiled so far
    /// (a cloned `regex::Regex` shares the compiled program and gets its own match cache).
    pub fn for_another_thread(&self) -> Model<'a> {
        let compiled = self
            .regex_cache
            .borrow()
            .iter()
            .map(|(pattern, re)| {
                let own = re.as_ref().map(|r| Arc::new(GoRegex::clone(r)));
                (pattern.clone(), own.map_err(Clone::clone))
            })
            .collect();
        Model {
            version: self.version,
            resolutions: self.resolutions,
            regex_cache: RefCell::new(compiled),
        }
    }

    /// Compiles a Go regex for this model's Calico release, once per pattern.
    pub fn regex(&self, pattern: &str) -> Result<Arc<GoRegex>, GoRegexError> {
        if let Some(hit) = self.regex_cache.borrow().get(pattern) {
            return hit.clone();
        }
        let compiled = go_regexp::compile(pattern, named_groups(self.version)).map(Arc::new);
        self.regex_cache
            .borrow_mut()
            .insert(pattern.to_string(), compiled.clone());
        compiled
    }
}

/// What calico-node's autodetection returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Verdict {
    /// An address: calico-node stores it as the node's address (`projectcalico.org/IPv4Address`).
    Selected {
        interface: String,
        address: CalicoAddress,
        /// The line calico-node logs.
        log: String,
    },
    /// Autodetection returned nothing; these are the method's own log lines.
    Failed { log: Vec<String> },
    /// The method string is not recognised: calico-node terminates at once.
    Terminated { log: String },
    /// nodecheck cannot tell from its inputs.
    Undetermined { reason: String },
}

/// A prediction for one node, method and family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prediction {
    pub node: String,
    pub method: String,
    pub family: Family,
    pub verdict: Verdict,
    /// The walk: which interfaces were skipped and why, in calico-node's order.
    pub trace: Vec<String>,
    /// Assumptions and Go/Rust differences that bear on this verdict.
    pub notes: Vec<String>,
    /// Traps in the configuration or the host that make this answer fragile (an unanchored regex, a
    /// second eligible address on the chosen interface, a can-reach target held by this node).
    pub warnings: Vec<String>,
}

impl Prediction {
    pub fn selected(&self) -> Option<(&str, &CalicoAddress)> {
        match &self.verdict {
            Verdict::Selected {
                interface, address, ..
            } => Some((interface.as_str(), address)),
            _ => None,
        }
    }
}

struct Walk {
    trace: Vec<String>,
    notes: Vec<String>,
    warnings: Vec<String>,
    skipped_more: usize,
}

impl Walk {
    fn new() -> Walk {
        Walk {
            trace: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
            skipped_more: 0,
        }
    }
    fn step(&mut self, line: String) {
        if self.trace.len() < TRACE_LIMIT {
            self.trace.push(line);
        } else {
            self.skipped_more += 1;
        }
    }
    fn finish(mut self) -> (Vec<String>, Vec<String>, Vec<String>) {
        if self.skipped_more > 0 {
            self.trace
                .push(format!("… and {} more interfaces", self.skipped_more));
        }
        self.notes.dedup();
        (self.trace, self.notes, self.warnings)
    }
}

/// Why `FilteredEnumeration` returned no address.
enum EnumerationError {
    /// Go's text, as calico-node logs it after the method's prefix.
    Go(String),
    /// The model cannot evaluate this (an untranslatable regex, or an interface order the facts do
    /// not keep).
    Unmodelled(String),
}

/// Why a node's interface order matters and is not known: "cannot tell from Ansible facts: …".
fn order_unknown(facts: &Facts, qualifying: &[String]) -> String {
    format!(
        "cannot tell {}: {} qualify, and calico-node takes the one it meets first in the kernel's \
         interface order, which these facts do not keep",
        facts.partial_source().unwrap_or("from these facts"),
        qualifying.join(", ")
    )
}

/// One regex list compiled as calico-node compiles it.
struct RegexList {
    joined: Arc<GoRegex>,
    /// Each entry compiled alone (when it compiles), to say which one matched.
    parts: Vec<(String, Option<Arc<GoRegex>>)>,
}

fn named_groups(version: &CalicoVersion) -> GoNamedGroups {
    if version.triple() >= GO_1_22_SINCE.triple() {
        GoNamedGroups::AngleToo
    } else {
        GoNamedGroups::POnly
    }
}

fn compile_list(
    entries: &[String],
    model: &Model,
    walk: &mut Walk,
) -> Result<Option<RegexList>, EnumerationError> {
    if entries.is_empty() {
        return Ok(None);
    }
    let version = model.version;
    let joined_text = format!("({})", entries.join(")|("));
    let named = named_groups(version);
    let joined = model.regex(&joined_text).map_err(|e| match e {
        GoRegexError::Go(text) => EnumerationError::Go(text),
        GoRegexError::Untranslatable(text) => EnumerationError::Unmodelled(text),
    })?;
    walk.notes.extend(joined.notes.iter().cloned());
    if named == GoNamedGroups::AngleToo && joined_text.contains("(?<") {
        walk.notes.push(format!(
            "assumed: Calico {version} is built with Go 1.22 or later (nodecheck assumes so from {GO_1_22_SINCE})"
        ));
    }
    let parts = entries
        .iter()
        .map(|e| (e.clone(), model.regex(e).ok()))
        .collect();
    Ok(Some(RegexList { joined, parts }))
}

impl RegexList {
    fn is_match(&self, name: &str) -> bool {
        go_regexp::matches(&self.joined, name)
    }
    /// The entry that matched `name`, shown as Go source (`^docker.*`).
    fn which(&self, name: &str) -> String {
        self.parts
            .iter()
            .find(|(_, re)| re.as_ref().is_some_and(|r| go_regexp::matches(r, name)))
            .map(|(text, _)| format!("`{text}`"))
            .unwrap_or_else(|| "the joined regex".to_string())
    }
}

/// `FilteredEnumeration(incl, excl, cidrs, version)`.
/// The interface regexes of a `FilteredEnumeration`: the include list, the exclusion list and how
/// to name the exclusion list in the walk.
#[derive(Clone, Copy, Default)]
struct Filters<'r> {
    include: Option<&'r RegexList>,
    exclude: Option<&'r RegexList>,
    exclude_label: &'r str,
}

fn filtered_enumeration<'a>(
    interfaces: &[CalicoInterface<'a>],
    filters: Filters,
    cidrs: &[IpNet],
    family: Family,
    facts: &Facts,
    walk: &mut Walk,
) -> Result<(String, CalicoAddress), EnumerationError> {
    let Filters {
        include,
        exclude,
        exclude_label,
    } = filters;
    let selected = walk_enumeration(
        interfaces,
        include,
        exclude,
        exclude_label,
        cidrs,
        family,
        walk,
    )?;
    if facts.interface_order_known() {
        return Ok(selected);
    }
    // The interfaces' order is not the kernel's: the answer holds only if no other interface qualifies.
    let mut qualifying: Vec<String> = interfaces
        .iter()
        .filter(|ci| include.is_none_or(|inc| inc.is_match(&ci.interface.go_name())))
        .filter(|ci| !exclude.is_some_and(|exc| exc.is_match(&ci.interface.go_name())))
        .filter(|ci| {
            ci.addresses.iter().any(|a| {
                is_global_unicast(&a.ip)
                    && (cidrs.is_empty() || cidrs.iter().any(|c| c.contains(&a.ip)))
            })
        })
        .map(|ci| ci.interface.name.to_string())
        .collect();
    if qualifying.len() > 1 {
        qualifying.sort();
        return Err(EnumerationError::Unmodelled(order_unknown(
            facts,
            &qualifying,
        )));
    }
    Ok(selected)
}

/// calico-node's walk over the interfaces in its order: the first eligible address wins.
fn walk_enumeration<'a>(
    interfaces: &[CalicoInterface<'a>],
    include: Option<&RegexList>,
    exclude: Option<&RegexList>,
    exclude_label: &str,
    cidrs: &[IpNet],
    family: Family,
    walk: &mut Walk,
) -> Result<(String, CalicoAddress), EnumerationError> {
    let mut passed = 0usize;
    for ci in interfaces {
        let name = &ci.interface.name;
        // What calico-node's regexes see: a name that is not UTF-8 reads as U+FFFD per invalid byte.
        let go_name = ci.interface.go_name();
        if let Some(inc) = include {
            if !inc.is_match(&go_name) {
                walk.step(format!("{name}: name does not match the interface regexes"));
                continue;
            }
        }
        if let Some(exc) = exclude {
            if exc.is_match(&go_name) {
                walk.step(format!(
                    "{name}: excluded by {} ({exclude_label})",
                    exc.which(&go_name)
                ));
                continue;
            }
        }
        passed += 1;
        if ci.addresses.is_empty() {
            walk.step(format!("{name}: no IPv{} address", family.number()));
            continue;
        }
        let mut reasons = Vec::new();
        for a in &ci.addresses {
            if !is_global_unicast(&a.ip) {
                reasons.push(format!("{a} is {}", ineligibility(&a.ip)));
            } else if !cidrs.is_empty() && !cidrs.iter().any(|c| c.contains(&a.ip)) {
                reasons.push(format!("{a} is outside the cidrs"));
            } else {
                let mut why = format!("{name}: selected {a}");
                if !reasons.is_empty() {
                    why.push_str(&format!(" (skipped {})", reasons.join(", ")));
                }
                if !ci.interface.admin_up || ci.interface.operstate == "down" {
                    why.push_str(&format!(
                        "; note: {name} is {} (calico-node does not check)",
                        if ci.interface.admin_up {
                            "operstate down"
                        } else {
                            "administratively down"
                        }
                    ));
                }
                walk.step(why);
                let others: Vec<String> = ci
                    .addresses
                    .iter()
                    .filter(|o| *o != a && is_global_unicast(&o.ip))
                    .filter(|o| cidrs.is_empty() || cidrs.iter().any(|c| c.contains(&o.ip)))
                    .map(|o| o.to_string())
                    .collect();
                if !others.is_empty() {
                    walk.warnings.push(format!(
                        "{name} holds {} eligible addresses: {a} is taken because the kernel lists it first; also {}",
                        others.len() + 1,
                        others.join(", ")
                    ));
                }
                return Ok((name.to_string(), *a));
            }
        }
        walk.step(format!(
            "{name}: no eligible address ({})",
            reasons.join(", ")
        ));
    }
    if passed == 0 {
        Err(EnumerationError::Go(
            "no valid host interfaces found".into(),
        ))
    } else {
        Err(EnumerationError::Go(format!(
            "no valid IPv{} addresses found on the host interfaces",
            family.number()
        )))
    }
}

fn finish(
    node: &NodeInput,
    method: &str,
    family: Family,
    verdict: Verdict,
    walk: Walk,
) -> Prediction {
    let (trace, notes, warnings) = walk.finish();
    Prediction {
        node: node.name.clone(),
        method: method.to_string(),
        family,
        verdict,
        trace,
        notes,
        warnings,
    }
}

/// The verdict of a `FilteredEnumeration` result, with the method's success and failure log lines.
fn verdict_of(
    result: Result<(String, CalicoAddress), EnumerationError>,
    selected_log: impl FnOnce(&str, &CalicoAddress) -> String,
    failed_log: impl FnOnce(&str) -> String,
) -> Verdict {
    match result {
        Ok((interface, address)) => Verdict::Selected {
            log: selected_log(&interface, &address),
            interface,
            address,
        },
        Err(EnumerationError::Go(err)) => Verdict::Failed {
            log: vec![failed_log(&err)],
        },
        Err(EnumerationError::Unmodelled(reason)) => Verdict::Undetermined { reason },
    }
}

/// Predicts calico-node's autodetection on one node.
pub fn predict(model: &Model, node: &NodeInput, method_value: &str, family: Family) -> Prediction {
    let version = model.version;
    let v = family.number();
    let mut walk = Walk::new();
    let method = parse_method(method_value, version);
    let interfaces = calico_interfaces(node.facts, family, version);
    let verdict = match &method {
        Method::Invalid { value } => Verdict::Terminated {
            log: format!("Invalid IP autodetection method: {value}"),
        },
        Method::FirstFound | Method::SkipInterface { .. } => {
            let defaults: Vec<String> = default_exclusions(version)
                .into_iter()
                .map(String::from)
                .collect();
            let (mut exclusions, label, user) = match &method {
                Method::SkipInterface { regexes } => (
                    defaults,
                    format!("Calico {version} default list + skip-interface"),
                    Some(regexes.clone()),
                ),
                _ => (defaults, format!("Calico {version} default list"), None),
            };
            if let Some(user) = &user {
                let findings =
                    super::lint::lint_regex_list(user, false, node.facts, |p| model.regex(p));
                walk.warnings.extend(findings.warnings);
                walk.notes.extend(findings.notes);
                exclusions.extend(user.iter().cloned());
            }
            let result = compile_list(&exclusions, model, &mut walk).and_then(|exc| {
                filtered_enumeration(
                    &interfaces,
                    Filters {
                        exclude: exc.as_ref(),
                        exclude_label: &label,
                        ..Filters::default()
                    },
                    &[],
                    family,
                    node.facts,
                    &mut walk,
                )
            });
            match &user {
                None => verdict_of(
                    result,
                    |iface, a| {
                        format!("Using autodetected IPv{v} address on interface {iface}: {a}")
                    },
                    |err| format!("Unable to auto-detect an IPv{v} address: {err}"),
                ),
                Some(user) => verdict_of(
                    result,
                    |iface, a| {
                        format!(
                        "Using autodetected IPv{v} address on interface {iface}: {a} while skipping matching interfaces"
                    )
                    },
                    |err| {
                        format!(
                            "Unable to auto-detect an IPv{v} address while excluding {}: {err}",
                            go_format::slice(user)
                        )
                    },
                ),
            }
        }
        Method::Interface { regexes } => {
            let findings =
                super::lint::lint_regex_list(regexes, true, node.facts, |p| model.regex(p));
            walk.warnings.extend(findings.warnings);
            walk.notes.extend(findings.notes);
            let result = compile_list(regexes, model, &mut walk).and_then(|inc| {
                filtered_enumeration(
                    &interfaces,
                    Filters {
                        include: inc.as_ref(),
                        ..Filters::default()
                    },
                    &[],
                    family,
                    node.facts,
                    &mut walk,
                )
            });
            verdict_of(
                result,
                |iface, a| {
                    format!("Using autodetected IPv{v} address {a} on matching interface {iface}")
                },
                |err| {
                    format!(
                        "Unable to auto-detect an IPv{v} address using interface regexes {}: {err}",
                        go_format::slice(regexes)
                    )
                },
            )
        }
        Method::Cidr { entries } => predict_cidr(
            entries,
            method_value,
            &interfaces,
            family,
            node.facts,
            &mut walk,
        ),
        Method::CanReach { destination } => {
            predict_can_reach(model, node, destination, &interfaces, family, &mut walk)
        }
        Method::KubernetesInternalIp => predict_internal_ip(node, &interfaces, family, &mut walk),
    };
    finish(node, method_value, family, verdict, walk)
}

fn predict_cidr(
    entries: &[String],
    method_value: &str,
    interfaces: &[CalicoInterface],
    family: Family,
    facts: &Facts,
    walk: &mut Walk,
) -> Verdict {
    let v = family.number();
    let mut cidrs = Vec::new();
    for e in entries {
        match go_format::parse_cidr(e) {
            Some(n) => cidrs.push(n),
            None => {
                return Verdict::Failed {
                    log: vec![format!(
                        "Invalid CIDR {} for IP autodetection method: {method_value}",
                        go_format::quote(e)
                    )],
                }
            }
        }
    }
    let shown = format!(
        "[{}]",
        cidrs
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    verdict_of(
        filtered_enumeration(interfaces, Filters::default(), &cidrs, family, facts, walk),
        |iface, a| {
            format!(
                "Using autodetected IPv{v} address {a} on interface {iface} matching cidrs {shown}"
            )
        },
        |err| {
            format!("Unable to auto-detect an IPv{v} address using interface cidr {shown}: {err}")
        },
    )
}

/// The first address equal to `ip` on any interface, walking calico-node's order with no filters.
fn find_local<'a>(
    interfaces: &'a [CalicoInterface],
    ip: IpAddr,
) -> Option<(&'a str, CalicoAddress)> {
    interfaces.iter().find_map(|ci| {
        ci.addresses
            .iter()
            .find(|a| a.ip == ip)
            .map(|a| (ci.interface.name.as_str(), *a))
    })
}

fn predict_can_reach(
    model: &Model,
    node: &NodeInput,
    destination: &str,
    interfaces: &[CalicoInterface],
    family: Family,
    walk: &mut Walk,
) -> Verdict {
    let v = family.number();
    let fail = |err: String| Verdict::Failed {
        log: vec![format!(
            "Unable to auto-detect IPv{v} address by connecting to {destination}: {err}"
        )],
    };
    // Go dials "[DEST]:80"; an empty or unspecified host means the local system.
    let resolved: Vec<IpAddr> = if destination.is_empty() {
        vec![match family {
            Family::Ipv4 => IpAddr::from([127, 0, 0, 1]),
            Family::Ipv6 => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        }]
    } else if let Ok(ip) = destination.parse::<IpAddr>() {
        if ip.is_unspecified() {
            vec![match ip {
                IpAddr::V4(_) => IpAddr::from([127, 0, 0, 1]),
                IpAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            }]
        } else {
            vec![ip]
        }
    } else {
        match model.resolutions.iter().find(|r| r.name == destination) {
            Some(Resolution {
                addresses: Ok(list),
                ..
            }) => {
                walk.notes.push(format!(
                    "{destination} was resolved on the host running nodecheck ({}); calico-node resolves it with the node's resolver",
                    list.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
                ));
                list.clone()
            }
            Some(Resolution {
                addresses: Err(e), ..
            }) => {
                return fail(format!("dial udp{v}: lookup {destination}: {e}"));
            }
            None => {
                return Verdict::Undetermined {
                    reason: format!(
                        "{destination} is a DNS name that was not resolved (nodecheck resolves names only when run on a live host)"
                    ),
                }
            }
        }
    };
    let Some(dest) = resolved.iter().copied().find(|ip| Family::of(ip) == family) else {
        return fail(format!(
            "dial udp{v}: address {destination}: no suitable address found"
        ));
    };
    if let Some(holder) = crate::network::addresses::owner_of(node.facts, dest) {
        walk.warnings.push(format!(
            "{dest} is an address of this node (on {}): the kernel answers with {dest} itself, so calico-node selects it (a VIP held here); use an address that is on no node",
            &holder.name
        ));
    }
    let source = match node.kernel_reach.iter().find(|k| k.destination == dest) {
        Some(k) => match &k.source {
            Ok(src) => {
                walk.step(format!(
                    "the kernel chose source {src} for a UDP connect to {dest} (live lookup on this host)"
                ));
                *src
            }
            Err(e) => {
                return fail(format!(
                    "dial udp{v} {}: connect: {e}",
                    std::net::SocketAddr::new(dest, 80)
                ))
            }
        },
        None if !node.facts.knows("routes") => {
            return Verdict::Undetermined {
                reason: format!(
                    "cannot tell {}: the source address towards {dest} follows the node's routes, \
                     which they do not hold",
                    node.facts.partial_source().unwrap_or("from these facts")
                ),
            }
        }
        None => match routes::source_for(node.facts, dest) {
            Ok(choice) => {
                walk.step(format!(
                    "source {} for {dest}, evaluated from the snapshot's routes: {}",
                    choice.source, choice.how
                ));
                choice.source
            }
            Err(e) => {
                walk.step(format!(
                    "no usable route to {dest} in the snapshot's routes"
                ));
                return fail(format!(
                    "dial udp{v} {}: connect: {}",
                    std::net::SocketAddr::new(dest, 80),
                    e.0
                ));
            }
        },
    };
    match find_local(interfaces, source) {
        Some((iface, a)) => {
            walk.step(format!(
                "{}: holds {a}",
                iface
            ));
            Verdict::Selected {
                log: format!(
                    "Using autodetected IPv{v} address {a}, detected by connecting to {destination}"
                ),
                interface: iface.to_string(),
                address: a,
            }
        }
        None => fail(format!(
            "autodetected IPv{v} address does not match any addresses found on local interfaces: {source}"
        )),
    }
}

/// Go's `utils.IsIPv4String` / `IsIPv6String`.
fn internal_ip_of_family(text: &str, family: Family) -> Option<IpAddr> {
    let ip: IpAddr = text.parse().ok()?;
    let is_v4 = match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some(),
    };
    match (family, is_v4) {
        (Family::Ipv4, true) => Some(match ip {
            IpAddr::V6(v6) => IpAddr::V4(
                v6.to_ipv4_mapped()
                    .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
            ),
            v4 => v4,
        }),
        (Family::Ipv6, false) => Some(ip),
        _ => None,
    }
}

fn predict_internal_ip(
    node: &NodeInput,
    interfaces: &[CalicoInterface],
    family: Family,
    walk: &mut Walk,
) -> Verdict {
    match node.internal_ips.origin {
        InternalIpOrigin::Unknown => {
            return Verdict::Undetermined {
                reason: format!(
                    "the InternalIP of {} is unknown: give `kubectl get nodes -o json` output with --peers",
                    &node.name
                ),
            }
        }
        InternalIpOrigin::CloudProvider => {
            return Verdict::Undetermined {
                reason: format!(
                    "the cloud provider sets the InternalIP of {}: give `kubectl get nodes -o json` output with --peers",
                    &node.name
                ),
            }
        }
        InternalIpOrigin::KubeletAssumed => walk.notes.push(format!(
            "assumed: no Kubernetes Node object and no kubelet inputs for {} were given, so kubelet's last resort (the default-route interface's address) stands in for its InternalIP",
            &node.name
        )),
        InternalIpOrigin::KubeletModel => {
            let reason = node.internal_ips.reason.as_deref().unwrap_or("no reason");
            walk.step(format!(
                "no Node object for {} was given; kubelet's InternalIP there is predicted: {reason}",
                &node.name
            ));
            if node.internal_ips.dns_dependent {
                walk.notes.push(format!(
                    "kubelet's InternalIP on {} depends on DNS answering when it starts",
                    &node.name
                ));
            }
        }
        InternalIpOrigin::Kubectl => {}
    }
    let Some(ip) = node
        .internal_ips
        .addresses
        .iter()
        .find_map(|a| internal_ip_of_family(a, family))
    else {
        walk.step(format!("the Node has no IPv{} InternalIP", family.number()));
        return Verdict::Failed {
            log: vec!["Unable to parse CIDR  : invalid CIDR address: ".to_string()],
        };
    };
    walk.step(format!(
        "the Node's first IPv{} InternalIP is {ip}",
        family.number()
    ));
    match find_local(interfaces, ip) {
        Some((iface, a)) => {
            walk.step(format!("{}: holds {a}", iface));
            Verdict::Selected {
                log: format!("Including CIDR information from host interface. CIDR=\"{a}\""),
                interface: iface.to_string(),
                address: a,
            }
        }
        None => Verdict::Failed {
            log: vec![
                format!("Unable to find matching host interface for IP {ip}"),
                format!("Unable to parse CIDR {ip} : invalid CIDR address: {ip}"),
            ],
        },
    }
}
