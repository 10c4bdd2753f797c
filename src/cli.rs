//! The command line: raw clap arguments for every subcommand (`commands::run` dispatches them).
//!
//! The shape is a contract (README, man page): subcommand and flag names are not renamed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::checks::Phase;
use crate::report::{ColorChoice, ReportFormat};

const EXIT_CODES: &str = "\
Exit codes:
  0  no check failed (warnings allowed)
  1  nodecheck itself failed
  2  bad input: usage, profile, peer or facts file
  3  at least one check failed (with --strict: or warned)";

const FIX_EXIT_CODES: &str = "\
Exit codes:
  --check, --diff:  0 nothing to change, 3 changes pending
  --apply:          0 applied (or nothing to do), 1 a step failed (the run was rolled back)
  --rollback:       0 rolled back, 1 refused (changed since; --force) or a step failed
  all:              2 bad input (usage, profile, peers; --apply or --rollback without root)";

/// Checks a Linux host against its Kubernetes cluster profile and its peers, before `kubeadm join`,
/// after it and on every boot, and tells which Calico IP_AUTODETECTION_METHOD is right on every node.
#[derive(Debug, Parser)]
#[command(name = "nodecheck", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// When to use colour in human output (never when NO_COLOR is set).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print this host's facts: interfaces in kernel order, routes, IPv6, sysctls, modules, docker, ports.
    Facts(FactsArgs),
    /// Judge this host (or a saved snapshot) against the cluster profile, its peers and its baseline.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Predict Calico's address autodetection here and on peers; recommend the method right on every node.
    #[command(after_help = EXIT_CODES)]
    Calico(CalicoArgs),
    /// Show the node address every component of the cluster's stack picks here and on peers.
    #[command(after_help = EXIT_CODES)]
    Addresses(AddressesArgs),
    /// Create, validate and describe cluster profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Record this node's facts at join time, for post-boot drift checks.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Re-run the checks on an interval and serve /metrics, /healthz and /report.json (the DaemonSet).
    Serve(ServeArgs),
    /// Bring this host to its profile: plan (default), show diffs, apply, roll back (docs/fix.md).
    #[command(after_help = FIX_EXIT_CODES)]
    Fix(FixArgs),
    /// Write the man pages and shell completions into DIR (used when building packages).
    #[command(hide = true)]
    GenerateAssets(GenerateAssetsArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FactsFormat {
    Json,
    Yaml,
    Table,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = FactsFormat::Json)]
    pub format: FactsFormat,
    #[command(flatten)]
    pub host: HostRootArgs,
    #[command(flatten)]
    pub kubelet: KubeletArgs,
}

/// kubelet inputs that are not on the host yet before the join.
#[derive(Debug, Clone, Default, Args)]
pub struct KubeletArgs {
    /// The kubeadm InitConfiguration/JoinConfiguration (v1beta3 or v1beta4) this node will join
    /// with: its nodeRegistration.name and kubeletExtraArgs stand in for the flags kubeadm writes
    /// to /var/lib/kubelet/kubeadm-flags.env at join time.
    #[arg(long, value_name = "FILE")]
    pub kubeadm_config: Option<PathBuf>,
}

/// Where the live host's files are read from (every command that gathers facts takes it).
#[derive(Debug, Clone, Default, Args)]
pub struct HostRootArgs {
    /// Read the host's files, /proc and /sys under DIR instead of / (a DaemonSet mounts the node's /
    /// at /host). Netlink and sockets stay this process's network namespace. Not used with --facts.
    #[arg(long, value_name = "DIR", env = crate::host_root::HOST_ROOT_ENV)]
    pub host_root: Option<PathBuf>,
}

/// Where the profile, this node's facts and its peers come from (shared by `check` and `calico`).
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Cluster profile (YAML). Default: /etc/nodecheck/profile.yaml if it exists, else the built-in
    /// kubeadm + Calico profile.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Judge this saved snapshot (`nodecheck facts` JSON, `-` for stdin) instead of the live host.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// Other nodes: a nodecheck snapshot, an Ansible fact-cache file, `kubectl get nodes -o json`
    /// output, a directory of those, or `-` for stdin. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub peers: Vec<PathBuf>,
    #[command(flatten)]
    pub host: HostRootArgs,
    #[command(flatten)]
    pub kubelet: KubeletArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Which checks run: pre-join (host vs profile and peers), post-join (plus Calico health,
    /// routes, cluster DNS), post-boot (plus drift since the baseline).
    #[arg(long, value_enum, default_value_t = Phase::PreJoin)]
    pub phase: Phase,
    /// Snapshot recorded at join time (`nodecheck baseline record`). Default for post-boot:
    /// /var/lib/nodecheck/baseline.json.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Check IDs to skip, comma-separated (a trailing `*` matches a prefix). Added to the profile's `skip:`.
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Treat warnings as failures for the exit code.
    #[arg(long)]
    pub strict: bool,
    /// Fail Peers-Input when a peer's snapshot is older than this (counted from this node's facts):
    /// 90m, 12h, 2d.
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub max_peer_age: Option<std::time::Duration>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Calico version to model (overrides the profile).
    #[arg(long, value_name = "VERSION")]
    pub calico_version: Option<String>,
    /// The Calico configuration the cluster runs: a calico-node DaemonSet (calico.yaml or `kubectl get
    /// ds calico-node -o yaml|json`), an operator Installation, tigera-operator Helm values, or a
    /// kubectl List of them; `-` reads stdin. Its method is the current one, ahead of the profile's.
    #[arg(long, value_name = "PATH")]
    pub calico_config: Option<PathBuf>,
    /// Felix health port on localhost (post-join, post-boot). Default: the profile's
    /// post_join.felix_health_port, else 9099.
    #[arg(long, value_name = "PORT")]
    pub felix_port: Option<u16>,
    /// Cluster DNS server to query (post-join, post-boot): IP, IP:PORT or [IPv6]:PORT. Default: the
    /// profile's post_join.cluster_dns, else the kubelet config's first clusterDNS entry.
    #[arg(long, value_name = "IP[:PORT]", value_parser = crate::probes::config::parse_dns_server)]
    pub cluster_dns: Option<std::net::SocketAddr>,
    /// Cluster domain for the DNS query. Default: the profile's post_join.cluster_domain, else the
    /// kubelet config's clusterDomain, else cluster.local.
    #[arg(long, value_name = "DOMAIN", value_parser = crate::probes::config::parse_cluster_domain)]
    pub cluster_domain: Option<String>,
    /// API server endpoint to reach (TCP, 2 s), in addition to the profile's api_server.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_api_server)]
    pub api_server: Option<String>,
    /// The kubelet configuration holding clusterDNS and clusterDomain. Default:
    /// /var/lib/kubelet/config.yaml (under --host-root when given).
    #[arg(long, value_name = "FILE")]
    pub kubelet_config: Option<PathBuf>,
    /// Probe the host's forwarding path (needs root; the one check that changes host state): two
    /// throw-away network namespaces with pod-CIDR addresses, joined to the host by veth pairs,
    /// exchange TCP, UDP and a DF packet at the overlay MTU, then everything made is removed
    /// (Dataplane-Probe, at most about 5 s).
    #[arg(long)]
    pub probe_dataplane: bool,
    /// Also write the report as DIR/report.json (atomically) and log one line per warning or
    /// failure on stderr, for the systemd unit (which uses /run/nodecheck).
    #[arg(long, value_name = "DIR")]
    pub write_results: Option<PathBuf>,
    /// Also write the report in Prometheus text format to FILE (atomically), for node_exporter's
    /// textfile collector. Skipped with a notice when FILE's directory does not exist.
    #[arg(long, value_name = "FILE")]
    pub textfile: Option<PathBuf>,
    /// node-problem-detector custom-plugin mode: one line on stdout naming the failed check IDs, and
    /// NPD's exit codes instead of nodecheck's (0 OK, 1 a check failed, 2 unknown: could not run).
    #[arg(long, conflicts_with_all = ["format", "write_results", "textfile"])]
    pub npd: bool,
}

/// `nodecheck serve`: the checks of a phase re-run on an interval, served over HTTP.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on, e.g. 0.0.0.0:9809 or [::1]:9809 (port 0: any free port).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// Time between two runs of the checks: 30s, 5m, 1h (at least 1s).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_interval)]
    pub interval: std::time::Duration,
    /// Deadline of one run of the checks: a run that takes longer is counted in
    /// nodecheck_serve_runs_timed_out_total, and /healthz turns unhealthy once the last finished
    /// run is older than three intervals plus this.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_interval)]
    pub run_timeout: std::time::Duration,
    /// TLS and basic authentication, in the Prometheus exporters' web configuration format
    /// (node_exporter's --web.config.file): tls_server_config and basic_auth_users.
    #[arg(long, value_name = "FILE", alias = "web.config.file")]
    pub web_config_file: Option<std::path::PathBuf>,
    /// Also serve /report.json, the whole report (the host's addresses, MACs and units): protect it
    /// with basic_auth_users in --web-config-file.
    #[arg(long)]
    pub report_json: bool,
    #[command(flatten)]
    pub check: CheckArgs,
}

/// An age: what [`parse_interval`] reads, and days (`2d`).
pub fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    match text.trim().strip_suffix('d') {
        Some(days) => days
            .parse::<u64>()
            .ok()
            .filter(|&d| d > 0)
            .map(|d| std::time::Duration::from_secs(d.saturating_mul(86400)))
            .ok_or_else(|| format!("`{text}` is not a duration (expected e.g. 90m, 12h, 2d)")),
        None => parse_interval(text),
    }
}

/// `30s`, `5m`, `1h`, `90` (seconds).
pub fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (expected e.g. 30s, 5m, 1h)"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("`{text}`: unknown unit `{unit}` (use s, m or h)")),
    };
    if seconds == 0 {
        return Err("the interval must be at least 1s".to_string());
    }
    Ok(std::time::Duration::from_secs(seconds))
}

fn parse_api_server(text: &str) -> Result<String, String> {
    crate::profile::validate::check_endpoint(text).map(|_| text.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FamilyChoice {
    Ipv4,
    Ipv6,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CalicoFormat {
    /// The prediction table and the recommendation, for a person.
    Human,
    /// `IP_AUTODETECTION_METHOD=...` lines.
    Env,
    /// A shell-quoted `kubectl set env` command for the calico-node DaemonSet.
    Kubectl,
    /// An operator `Installation` patch (YAML).
    Operator,
    Json,
}

#[derive(Debug, Args)]
pub struct CalicoArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Address families to model. Default: the profile's calico.families (ipv4 unless it says otherwise).
    #[arg(long, value_enum)]
    pub family: Option<FamilyChoice>,
    /// Evaluate this exact IP_AUTODETECTION_METHOD value here and on each peer. Repeatable.
    #[arg(long, value_name = "METHOD")]
    pub method: Vec<String>,
    /// Calico version to model (decides first-found's exclusion list). Overrides the profile.
    #[arg(long, value_name = "VERSION")]
    pub calico_version: Option<String>,
    /// The Calico configuration the cluster runs: a calico-node DaemonSet (calico.yaml or `kubectl get
    /// ds calico-node -o yaml|json`), an operator Installation, tigera-operator Helm values, or a
    /// kubectl List of them; `-` reads stdin. Its method is the current one, ahead of the profile's.
    #[arg(long, value_name = "PATH")]
    pub calico_config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CalicoFormat::Human)]
    pub format: CalicoFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AddressesFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct AddressesArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The CNI configuration the cluster runs: kube-flannel.yml, canal.yaml, a k3s/RKE2
    /// config.yaml (or `kubectl get … -o yaml|json` of them); `-` reads stdin. Repeatable. It
    /// overrides the profile's `cni:` section.
    #[arg(long, value_name = "PATH")]
    pub cni_config: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AddressesFormat::Human)]
    pub format: AddressesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// Cluster profile (YAML). Default: /etc/nodecheck/profile.yaml if it exists, else the built-in
    /// kubeadm + Calico profile.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Other nodes (as for `check`): Docker's new address pools stay clear of their node networks.
    #[arg(long, value_name = "PATH")]
    pub peers: Vec<PathBuf>,
    /// Plan from this saved snapshot instead of the live host (`--apply` needs `--root` with it).
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    #[command(flatten)]
    pub kubelet: KubeletArgs,
    /// Check IDs to skip, as for `check` (added to the profile's `skip:`): a skipped check is never fixed.
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// The deployed calico-node DaemonSet, operator Installation or Helm values, as for `check`.
    #[arg(long, value_name = "FILE")]
    pub calico_config: Option<PathBuf>,
    /// Only fix these check IDs, comma-separated (a trailing `*` matches a prefix, as in `--skip`).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Write files under DIR instead of / (like `systemctl --root`); makes no live changes.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Show the plan and change nothing (the default).
    #[arg(long, conflicts_with_all = ["apply", "rollback", "history"])]
    pub check: bool,
    /// Show a unified diff for every file the plan writes (with --check or --apply).
    #[arg(long, conflicts_with_all = ["rollback", "history"])]
    pub diff: bool,
    /// Make the changes (needs root), then re-run the checks and show before → after.
    #[arg(long, conflicts_with_all = ["rollback", "history"])]
    pub apply: bool,
    /// Undo a run (default: the last applied one) exactly as its manifest recorded (needs root).
    #[arg(long, value_name = "RUN-ID", num_args = 0..=1, default_missing_value = "", conflicts_with = "history")]
    pub rollback: Option<String>,
    /// List the recorded runs, newest first.
    #[arg(long)]
    pub history: bool,
    /// Also restart the services a change needs restarted (docker); otherwise they are listed.
    #[arg(long)]
    pub restart_services: bool,
    /// Make held changes (a NIC name in the kernel's ethN namespace); roll back files changed since.
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FixFormat::Human)]
    pub format: FixFormat,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Write a profile describing this host (or a snapshot): capture a known-good node, apply it to new ones.
    Init(ProfileInitArgs),
    /// Validate a profile file; exit 2 with line:column on errors.
    Validate(ProfileValidateArgs),
    /// Print the profile's JSON Schema (for editors).
    Schema,
}

#[derive(Debug, Args)]
pub struct ProfileInitArgs {
    /// Build the profile from this snapshot instead of the live host.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// Write to this file instead of stdout (atomically; refuses to overwrite without --force).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    /// Cluster name to put in the profile.
    #[arg(long)]
    pub cluster: Option<String>,
    /// The node network, when it is not the default-route interface's subnet (e.g. 10.20.41.0/24).
    #[arg(long, value_name = "CIDR", value_parser = crate::profile::validate::parse_network_cidr)]
    pub node_network: Option<ipnet::IpNet>,
    /// The node NIC, when it is not the default-route interface.
    #[arg(long, value_name = "NAME")]
    pub node_nic: Option<String>,
    #[command(flatten)]
    pub host: HostRootArgs,
}

#[derive(Debug, Args)]
pub struct ProfileValidateArgs {
    /// The profile to validate.
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Save this node's facts (run right after a successful join).
    Record(BaselineRecordArgs),
}

#[derive(Debug, Args)]
pub struct BaselineRecordArgs {
    /// Where to write the baseline (atomically).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/var/lib/nodecheck/baseline.json"
    )]
    pub out: PathBuf,
    #[command(flatten)]
    pub host: HostRootArgs,
}

#[derive(Debug, Args)]
pub struct GenerateAssetsArgs {
    /// Directory to write `man/` and `completions/` into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}
