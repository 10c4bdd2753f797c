//! Gathering what decides kubelet's node address: `kubelet.service` as systemd would start it (via
//! `gather::systemd`), the flags on its expanded command line (`--node-ip`, `--hostname-override`,
//! `--cloud-provider`, each traced to its file and line), a kubeadm configuration's flags standing in
//! for `$KUBELET_KUBEADM_ARGS` when one is given, the node name, and — only when kubelet would look
//! it up — how that name resolves here (`gather::name_lookup`). Also the container runtime endpoint
//! kubelet is configured with: `--container-runtime-endpoint`, else `containerRuntimeEndpoint` in
//! the configuration file `--config` names (the flag wins, as in kubelet).

use crate::facts::kubelet::{
    FlagValue, KubeadmNodeRegistration, KubeletConfigFile, KubeletFacts, KubeletFlags,
};
use crate::facts::systemd::{EnvVar, ExecArg};
use crate::host_root::HostRoot;

/// The unit kubelet runs as.
pub const KUBELET_UNIT: &str = "kubelet.service";
/// The variable kubeadm's drop-in fills from `/var/lib/kubelet/kubeadm-flags.env`.
pub const KUBEADM_ARGS_VAR: &str = "KUBELET_KUBEADM_ARGS";

/// The kubelet flags a command line sets, the last occurrence of each winning (pflag), with
/// `--flag=value` and `--flag value` forms and `_` read as `-` (kubelet normalises flag names).
/// Parsing stops at `--`.
pub fn flags_from_argv(argv: &[ExecArg]) -> KubeletFlags {
    let mut flags = KubeletFlags::default();
    let mut words = argv.iter().skip(1).peekable();
    while let Some(arg) = words.next() {
        if arg.value == "--" {
            break;
        }
        let Some(body) = arg.value.strip_prefix("--") else {
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.replace('_', "-"), Some(v.to_string())),
            None => (body.replace('_', "-"), None),
        };
        let slot = match name.as_str() {
            "node-ip" => &mut flags.node_ip,
            "hostname-override" => &mut flags.hostname_override,
            "cloud-provider" => &mut flags.cloud_provider,
            "container-runtime-endpoint" => &mut flags.container_runtime_endpoint,
            "config" => &mut flags.config,
            _ => continue,
        };
        let value = match inline {
            Some(v) => v,
            None => match words.next() {
                Some(next) => next.value.clone(),
                None => String::new(),
            },
        };
        *slot = Some(FlagValue {
            value,
            source: arg.origin.clone(),
        });
    }
    flags
}

/// The flags kubeadm writes into `KUBELET_KUBEADM_ARGS` at join time for this configuration:
/// `--hostname-override` when `nodeRegistration.name` differs from the host name kubeadm sees, then
/// `kubeletExtraArgs` (a name given there replaces kubeadm's own).
pub fn kubeadm_flags(config: &KubeadmNodeRegistration, hostname: &str) -> Vec<(String, String)> {
    let mut flags: Vec<(String, String)> = Vec::new();
    if let Some(name) = config.name.as_deref() {
        if name != hostname.trim().to_lowercase() {
            flags.push(("hostname-override".into(), name.to_string()));
        }
    }
    for (name, value) in &config.kubelet_extra_args {
        flags.retain(|(n, _)| n != name);
        flags.push((name.clone(), value.clone()));
    }
    flags
}

/// A flag list as one environment value that systemd's `$VAR` splitting turns back into the same
/// words.
fn as_env_value(flags: &[(String, String)]) -> String {
    flags
        .iter()
        .map(|(n, v)| {
            let word = format!("--{n}={v}");
            format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The effective kubelet command line: the unit's, with `$KUBELET_KUBEADM_ARGS` replaced by what
/// the kubeadm configuration would write when one is given. Without a unit, the configuration's
/// flags alone.
pub fn effective_argv(
    unit: Option<&crate::facts::systemd::ServiceUnit>,
    kubeadm: Option<&KubeadmNodeRegistration>,
    hostname: &str,
) -> Vec<ExecArg> {
    let exec = unit.and_then(|u| u.exec_start.as_ref());
    let Some(config) = kubeadm else {
        return exec.map(|e| e.argv.clone()).unwrap_or_default();
    };
    let flags = kubeadm_flags(config, hostname);
    let source = format!("{} {} in {}", config.kind, config.api_version, config.file);
    match (unit, exec) {
        (Some(unit), Some(exec)) => {
            let mut env: Vec<EnvVar> = unit
                .environment
                .iter()
                .filter(|v| v.name != KUBEADM_ARGS_VAR)
                .cloned()
                .collect();
            env.push(EnvVar {
                name: KUBEADM_ARGS_VAR.into(),
                value: as_env_value(&flags),
                source,
                withheld: false,
            });
            let words =
                crate::gather::systemd::split_command_line(&exec.command_line).unwrap_or_default();
            let mut words = words;
            if let Some(program) = words.first_mut() {
                *program = program
                    .trim_start_matches(['-', '@', ':', '+', '!'])
                    .to_string();
            }
            crate::gather::systemd::expand_exec_argv(&words, &env, &exec.declared_at).argv
        }
        _ => std::iter::once(ExecArg {
            value: "kubelet".into(),
            origin: source.clone(),
        })
        .chain(flags.iter().map(|(n, v)| ExecArg {
            value: format!("--{n}={v}"),
            origin: source.clone(),
        }))
        .collect(),
    }
}

/// kubelet's node name without a cloud provider: `--hostname-override`, else the host name, trimmed
/// and lower-cased.
pub fn node_name(flags: &KubeletFlags, hostname: &str) -> String {
    flags
        .hostname_override
        .as_ref()
        .map(|f| f.value.as_str())
        .filter(|v| !v.trim().is_empty())
        .unwrap_or(hostname)
        .trim()
        .to_lowercase()
}

/// Whether kubelet resolves its node name: no cloud provider, no usable first `--node-ip`, and a
/// name that is not an IP address itself.
pub fn needs_lookup(flags: &KubeletFlags, node_name: &str) -> bool {
    if flags
        .cloud_provider
        .as_ref()
        .is_some_and(|c| !c.value.is_empty())
    {
        return false;
    }
    let first_node_ip = flags
        .node_ip
        .as_ref()
        .and_then(|f| f.value.split(',').next().map(str::trim).map(str::to_string))
        .filter(|v| !v.is_empty());
    if let Some(first) = first_node_ip {
        match crate::network::addresses::parse_ip_sloppy(&first) {
            Some(ip) if !ip.is_unspecified() => return false,
            Some(_) => {}
            // kubelet refuses to start with a --node-ip it cannot parse.
            None => return false,
        }
    }
    crate::network::addresses::parse_ip_sloppy(node_name).is_none() && !node_name.is_empty()
}

/// A kubelet configuration file is a few KiB; anything this big is not one.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The settings of a `KubeletConfiguration` nodecheck reads; every other field is ignored, so a
/// kubelet newer than nodecheck still reads.
#[derive(serde::Deserialize)]
struct ConfigSettings {
    #[serde(rename = "containerRuntimeEndpoint", default)]
    container_runtime_endpoint: Option<String>,
    #[serde(rename = "evictionHard", default)]
    eviction_hard: Option<std::collections::BTreeMap<String, String>>,
    #[serde(rename = "mergeDefaultEvictionSettings", default)]
    merge_default_eviction_settings: Option<bool>,
}

/// Parses a kubelet configuration file's text into the settings nodecheck reads.
pub fn parse_config_file(path: &str, text: &str) -> KubeletConfigFile {
    match serde_saphyr::from_str::<Option<ConfigSettings>>(text) {
        Ok(Some(settings)) => KubeletConfigFile {
            path: path.to_string(),
            container_runtime_endpoint: settings.container_runtime_endpoint,
            eviction_hard: settings.eviction_hard,
            merge_default_eviction_settings: settings.merge_default_eviction_settings,
            error: None,
        },
        Ok(None) => KubeletConfigFile {
            path: path.to_string(),
            ..Default::default()
        },
        Err(e) => KubeletConfigFile {
            path: path.to_string(),
            error: Some(e.to_string()),
            ..Default::default()
        },
    }
}

/// Reads the configuration file `--config` names (bounded, under `root`); `None` without the flag.
pub fn read_config_file(root: &HostRoot, flags: &KubeletFlags) -> Option<KubeletConfigFile> {
    let path = flags.config.as_ref()?.value.as_str();
    if path.is_empty() {
        return None;
    }
    Some(match root.read_bounded(path, MAX_CONFIG_BYTES) {
        Ok(text) => parse_config_file(path, &text),
        Err(e) => KubeletConfigFile {
            path: path.to_string(),
            error: Some(format!("{}: {e}", root.show(path))),
            ..Default::default()
        },
    })
}

/// The CRI endpoint kubelet is configured with and where it was set: `--container-runtime-endpoint`
/// wins over the configuration file's `containerRuntimeEndpoint`, as in kubelet. `None` when
/// neither sets one.
pub fn runtime_endpoint(facts: &KubeletFacts) -> Option<(String, String)> {
    if let Some(flag) = facts
        .flags
        .container_runtime_endpoint
        .as_ref()
        .filter(|f| !f.value.is_empty())
    {
        return Some((
            flag.value.clone(),
            format!("kubelet's --container-runtime-endpoint ({})", flag.source),
        ));
    }
    let file = facts.config_file.as_ref()?;
    let endpoint = file
        .container_runtime_endpoint
        .as_ref()
        .filter(|e| !e.is_empty())?;
    Some((
        endpoint.clone(),
        format!("kubelet's containerRuntimeEndpoint in {}", file.path),
    ))
}

/// kubelet's unit, flags, configuration file and node name under `root` — file reads only; the
/// node-name lookup, which may wait on DNS, is [`lookup_node_name`]. `kubeadm` is the
/// configuration given with `--kubeadm-config`.
pub fn gather_kubelet_setup(
    root: &HostRoot,
    hostname: &str,
    kubeadm: Option<KubeadmNodeRegistration>,
) -> KubeletFacts {
    let unit = crate::gather::systemd::read_service(root, KUBELET_UNIT);
    let argv = effective_argv(unit.as_ref(), kubeadm.as_ref(), hostname);
    let flags = flags_from_argv(&argv);
    let node_name = node_name(&flags, hostname);
    let config_file = read_config_file(root, &flags);
    KubeletFacts {
        unit,
        kubeadm_config: kubeadm,
        flags,
        node_name,
        name_lookup: None,
        config_file,
    }
}

/// Fills in how the node name resolves, when kubelet would look it up.
pub fn lookup_node_name(root: &HostRoot, hostname: &str, facts: &mut KubeletFacts) {
    facts.name_lookup = needs_lookup(&facts.flags, &facts.node_name)
        .then(|| crate::gather::name_lookup::lookup(root, &facts.node_name, hostname));
}

/// Applies a kubeadm configuration to a saved snapshot: the flags and node name are recomputed
/// from the snapshot's unit; a lookup gathered for another name no longer applies.
pub fn apply_kubeadm_config(facts: &mut crate::facts::Facts, config: KubeadmNodeRegistration) {
    let hostname = facts.host.hostname.clone();
    let kubelet = facts.kubelet.get_or_insert_with(Default::default);
    let argv = effective_argv(kubelet.unit.as_ref(), Some(&config), &hostname);
    kubelet.flags = flags_from_argv(&argv);
    kubelet.node_name = node_name(&kubelet.flags, &hostname);
    if kubelet
        .name_lookup
        .as_ref()
        .is_some_and(|l| l.name != kubelet.node_name)
    {
        kubelet.name_lookup = None;
    }
    kubelet.kubeadm_config = Some(config);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<ExecArg> {
        words
            .iter()
            .enumerate()
            .map(|(i, w)| ExecArg {
                value: w.to_string(),
                origin: format!("w{i}"),
            })
            .collect()
    }

    #[test]
    fn last_flag_wins_in_both_forms_and_underscores_normalise() {
        let flags = flags_from_argv(&args(&[
            "/usr/bin/kubelet",
            "--node-ip=1.1.1.1",
            "--node_ip",
            "2.2.2.2",
            "--hostname-override=Worker-41",
            "--cloud-provider=",
            "--",
            "--node-ip=9.9.9.9",
        ]));
        let ip = flags.node_ip.unwrap();
        assert_eq!((ip.value.as_str(), ip.source.as_str()), ("2.2.2.2", "w2"));
        assert_eq!(flags.hostname_override.unwrap().value, "Worker-41");
        assert_eq!(flags.cloud_provider.unwrap().value, "");
    }

    #[test]
    fn kubeadm_name_becomes_hostname_override_only_when_it_differs() {
        let config = KubeadmNodeRegistration {
            file: "join.yaml".into(),
            api_version: "kubeadm.k8s.io/v1beta4".into(),
            kind: "JoinConfiguration".into(),
            name: Some("worker-41".into()),
            kubelet_extra_args: vec![("node-ip".into(), "10.20.41.41".into())],
        };
        assert_eq!(
            kubeadm_flags(&config, "Worker-41"),
            [("node-ip".to_string(), "10.20.41.41".to_string())]
        );
        let flags = kubeadm_flags(&config, "localhost");
        assert_eq!(flags[0].0, "hostname-override");
        let argv = effective_argv(None, Some(&config), "localhost");
        let parsed = flags_from_argv(&argv);
        assert_eq!(
            parsed.node_ip.unwrap().source,
            "JoinConfiguration kubeadm.k8s.io/v1beta4 in join.yaml"
        );
        assert_eq!(parsed.hostname_override.unwrap().value, "worker-41");
    }

    #[test]
    fn the_endpoint_flag_wins_over_the_configuration_file() {
        let flags = flags_from_argv(&args(&[
            "/usr/bin/kubelet",
            "--config=/var/lib/kubelet/config.yaml",
            "--container_runtime_endpoint",
            "unix:///run/crio/crio.sock",
        ]));
        assert_eq!(
            flags.config.as_ref().unwrap().value,
            "/var/lib/kubelet/config.yaml"
        );
        let file = parse_config_file(
            "/var/lib/kubelet/config.yaml",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
             containerRuntimeEndpoint: unix:///run/k3s/containerd/containerd.sock\n\
             cgroupDriver: systemd\n",
        );
        let mut facts = KubeletFacts {
            flags,
            config_file: Some(file),
            ..Default::default()
        };
        assert_eq!(
            runtime_endpoint(&facts),
            Some((
                "unix:///run/crio/crio.sock".to_string(),
                "kubelet's --container-runtime-endpoint (w2)".to_string()
            ))
        );
        facts.flags.container_runtime_endpoint = None;
        assert_eq!(
            runtime_endpoint(&facts),
            Some((
                "unix:///run/k3s/containerd/containerd.sock".to_string(),
                "kubelet's containerRuntimeEndpoint in /var/lib/kubelet/config.yaml".to_string()
            ))
        );
        facts.config_file = Some(parse_config_file("c.yaml", "kind: KubeletConfiguration\n"));
        assert_eq!(runtime_endpoint(&facts), None);
        let broken = parse_config_file("c.yaml", "containerRuntimeEndpoint: [\n");
        assert!(
            broken.error.unwrap().contains("line"),
            "a YAML error names its line"
        );
        assert_eq!(parse_config_file("c.yaml", "").error, None);
    }

    #[test]
    fn lookup_happens_only_without_a_usable_node_ip_or_ip_name() {
        let mut flags = KubeletFlags::default();
        assert!(needs_lookup(&flags, "worker-41"));
        assert!(!needs_lookup(&flags, "10.0.0.5"));
        flags.node_ip = Some(FlagValue {
            value: "0.0.0.0".into(),
            source: "s".into(),
        });
        assert!(needs_lookup(&flags, "worker-41"));
        flags.node_ip.as_mut().unwrap().value = "10.0.0.5".into();
        assert!(!needs_lookup(&flags, "worker-41"));
        flags.node_ip = None;
        flags.cloud_provider = Some(FlagValue {
            value: "external".into(),
            source: "s".into(),
        });
        assert!(!needs_lookup(&flags, "worker-41"));
    }
}
