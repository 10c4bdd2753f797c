//! kubelet's command line as nodecheck reconstructs it: an environment file (`kubeadm-flags.env`,
//! `/etc/default/kubelet`), a unit's `Environment=` and `ExecStart=`, `$VAR` expansion, then the flag
//! parser (`--node-ip`, `--hostname-override`, `--cloud-provider`, both `--flag=v` and `--flag v`)
//! and what the node name and name lookup follow from it. The input is the environment file and the
//! unit text, split at the first NUL byte.
#![no_main]
use nodecheck::facts::systemd::EnvVar;
use nodecheck::gather::kubelet::{flags_from_argv, needs_lookup, node_name};
use nodecheck::gather::systemd::{
    expand_exec_argv, parse_environment_file, parse_environment_setting, parse_unit_text,
    split_command_line,
};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (env_file, unit) = text.split_once('\0').unwrap_or((
        text,
        "ExecStart=/usr/bin/kubelet $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS",
    ));
    let mut env: Vec<EnvVar> = Vec::new();
    let mut set = |name: String, value: String, source: String| {
        env.retain(|v| v.name != name);
        env.push(EnvVar {
            name,
            value,
            source,
            withheld: false,
        });
    };
    let mut exec = None;
    for setting in parse_unit_text(unit) {
        match setting.key.as_str() {
            "Environment" => {
                for (name, value) in parse_environment_setting(&setting.value).0 {
                    set(name, value, format!("unit:{}", setting.line));
                }
            }
            "ExecStart" => exec = Some(setting.value),
            _ => {}
        }
    }
    for assignment in parse_environment_file(env_file).0 {
        set(
            assignment.name,
            assignment.value,
            format!("env:{}", assignment.line),
        );
    }
    let Some(Ok(words)) = exec.as_deref().map(split_command_line) else {
        return;
    };
    let expansion = expand_exec_argv(&words, &env, "unit:1");
    let flags = flags_from_argv(&expansion.argv);
    for hostname in ["worker-41", " Worker-41. ", "10.20.41.41", ""] {
        let name = node_name(&flags, hostname);
        let _ = needs_lookup(&flags, &name);
    }
});
