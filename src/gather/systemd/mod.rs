//! Reading a systemd service the way systemd loads it, without asking systemd (nodecheck runs before
//! the join, in containers and against scratch host trees where no systemd answers): the unit file
//! from the unit search path, its drop-ins in systemd's order, the environment from `Environment=`
//! and `EnvironmentFile=`, and the expanded `ExecStart=`.
//!
//! Written by hand because no maintained crate parses unit files with systemd's semantics (drop-in
//! precedence, resets by empty assignments, environment-file quoting, `$VAR` word splitting); the
//! rules followed are those of systemd.unit(5), systemd.exec(5) and systemd.service(5).
//!
//! This module is the host reader: every file is read under the [`HostRoot`] (`/` on the live host)
//! with a size bound. The pure parsers it hands the text to are its submodules, public for other
//! readers of systemd files and re-exported here: [`unit_file`] (unit-file syntax), [`environment`]
//! (`Environment=` values and environment files) and [`exec`] (`ExecStart=` expansion).

pub mod environment;
pub mod exec;
pub mod unit_file;

pub use crate::facts::systemd::split_command_line;
pub use environment::{
    is_env_name, parse_environment_file, parse_environment_setting, FileAssignment,
};
pub use exec::{expand_exec_argv, Expansion, MAX_EXPANDED_COMMAND_BYTES, MAX_EXPANDED_WORD_BYTES};
pub use unit_file::{parse_unit_text, UnitSetting};

use std::collections::BTreeMap;
use std::path::Path;

use crate::facts::systemd::{
    EnvVar, EnvironmentFileRead, EnvironmentFileState, ExecStart, ServiceUnit,
};
use crate::host_root::HostRoot;

/// The system unit search path, highest precedence first (systemd.unit(5)); `/lib/systemd/system`
/// is searched on distributions that have not merged `/usr`.
pub const SYSTEM_UNIT_DIRS: [&str; 11] = [
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
];

/// Unit and environment files are a few KiB; systemd itself refuses lines over 1 MiB.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// More drop-ins than this for one unit is not a real configuration.
const MAX_DROP_INS: usize = 256;

/// The variable names a command line refers to as `$NAME` or `${NAME}`.
fn referenced_variables(command_line: &str) -> std::collections::HashSet<&str> {
    let mut names = std::collections::HashSet::new();
    let mut rest = command_line;
    while let Some(pos) = rest.find('$') {
        let after = &rest[pos + 1..];
        let (body, braced) = match after.strip_prefix('{') {
            Some(b) => (b, true),
            None => (after, false),
        };
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        if end > 0 && (!braced || body[end..].starts_with('}')) {
            names.insert(&body[..end]);
        }
        rest = after;
    }
    names
}

/// What of a unit's environment goes into the facts: the values nodecheck reads (kubelet's and
/// kubeadm's argument variables, the proxy variables, and whatever `ExecStart=` expands) with URL
/// credentials masked, every other variable by name only.
fn record_environment(env: &mut [EnvVar], command_line: Option<&str>) {
    let referenced = command_line.map(referenced_variables).unwrap_or_default();
    for var in env {
        if crate::facts::redact::is_recorded_variable(&var.name)
            || referenced.contains(var.name.as_str())
        {
            crate::facts::redact::mask_in_place(&mut var.value);
        } else {
            var.value.clear();
            var.withheld = true;
        }
    }
}

/// Whether a host path is a symbolic link to `/dev/null` (a masked unit or drop-in).
fn is_masked(root: &HostRoot, host_path: &str) -> bool {
    root.read_link(host_path)
        .is_ok_and(|t| t == Path::new("/dev/null"))
}

fn read_text(root: &HostRoot, host_path: &str) -> std::io::Result<String> {
    root.read_bounded(host_path, MAX_FILE_BYTES)
}

/// The unit file that wins the search path and whether it is masked.
fn find_fragment(root: &HostRoot, unit: &str) -> Option<(String, bool)> {
    SYSTEM_UNIT_DIRS.iter().find_map(|dir| {
        let path = format!("{dir}/{unit}");
        if is_masked(root, &path) {
            return Some((path, true));
        }
        root.metadata(&path)
            .is_ok_and(|m| m.is_file())
            .then_some((path, false))
    })
}

/// Drop-ins in application order: all `*.conf` in `<dir>/<unit>.d/` and `<dir>/<type>.d/` over the
/// search path, one per file name (the highest-precedence directory's), sorted by file name. A
/// drop-in masked with `/dev/null` hides its name and is not applied.
fn find_drop_ins(root: &HostRoot, unit: &str) -> (Vec<String>, Option<String>) {
    let unit_type = unit.rsplit_once('.').map(|(_, t)| t).unwrap_or("service");
    let mut by_name: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut dropped = 0usize;
    for dir in SYSTEM_UNIT_DIRS {
        for drop_dir in [format!("{dir}/{unit}.d"), format!("{dir}/{unit_type}.d")] {
            let Ok(entries) = root.read_dir_names(&drop_dir) else {
                continue;
            };
            let names: Vec<String> = entries
                .into_iter()
                .filter_map(|n| n.into_string().ok())
                .filter(|n| n.ends_with(".conf"))
                .collect();
            for name in names {
                if by_name.len() >= MAX_DROP_INS && !by_name.contains_key(&name) {
                    dropped += 1;
                    continue;
                }
                let path = format!("{drop_dir}/{name}");
                let masked = is_masked(root, &path);
                by_name
                    .entry(name)
                    .or_insert_with(|| (!masked).then_some(path));
            }
        }
    }
    let note = (dropped > 0).then(|| {
        format!(
            "{unit} has more than {MAX_DROP_INS} drop-ins; {dropped} more were not read, so the facts may miss settings systemd applies"
        )
    });
    (by_name.into_values().flatten().collect(), note)
}

/// Reads `unit` (e.g. `kubelet.service`) under `root` as systemd would load it. `None` when neither
/// a unit file nor a drop-in exists (the service is not installed).
pub fn read_service(root: &HostRoot, unit: &str) -> Option<ServiceUnit> {
    let fragment = find_fragment(root, unit);
    let (drop_ins, drop_in_note) = find_drop_ins(root, unit);
    if fragment.is_none() && drop_ins.is_empty() {
        return None;
    }
    let mut notes: Vec<String> = drop_in_note.into_iter().collect();
    let masked = fragment.as_ref().is_some_and(|(_, m)| *m);
    let mut files: Vec<String> = Vec::new();
    if let Some((path, false)) = &fragment {
        files.push(path.clone());
    }
    files.extend(drop_ins.iter().cloned());

    // Settings in application order, each with its FILE:LINE.
    let mut environment: Vec<(String, String, String)> = Vec::new();
    let mut env_files: Vec<(String, bool, String)> = Vec::new();
    let mut exec_starts: Vec<(String, String)> = Vec::new();
    for file in &files {
        let text = match read_text(root, file) {
            Ok(t) => t,
            Err(e) => {
                notes.push(format!("{file}: cannot read: {e}"));
                continue;
            }
        };
        for setting in parse_unit_text(&text) {
            if setting.section != "Service" {
                continue;
            }
            let at = format!("{file}:{}", setting.line);
            match setting.key.as_str() {
                "Environment" if setting.value.is_empty() => environment.clear(),
                "Environment" => {
                    let (assignments, problems) = parse_environment_setting(&setting.value);
                    notes.extend(problems.into_iter().map(|p| format!("{at}: {p}")));
                    environment.extend(assignments.into_iter().map(|(n, v)| (n, v, at.clone())));
                }
                "EnvironmentFile" if setting.value.is_empty() => env_files.clear(),
                "EnvironmentFile" => {
                    let (optional, path) = match setting.value.strip_prefix('-') {
                        Some(p) => (true, p),
                        None => (false, setting.value.as_str()),
                    };
                    env_files.push((path.to_string(), optional, at));
                }
                "ExecStart" if setting.value.is_empty() => exec_starts.clear(),
                "ExecStart" => exec_starts.push((setting.value.clone(), at)),
                _ => {}
            }
        }
    }

    // By name in first-definition order; the index keeps merging linear in the number of assignments.
    let mut env: Vec<EnvVar> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut set = |name: String, value: String, source: String| match index.get(&name) {
        Some(&at) => {
            env[at].value = value;
            env[at].source = source;
        }
        None => {
            index.insert(name.clone(), env.len());
            env.push(EnvVar {
                name,
                value,
                source,
                withheld: false,
            });
        }
    };
    for (name, value, source) in environment {
        set(name, value, source);
    }
    let mut environment_files = Vec::new();
    for (path, optional, declared_at) in env_files {
        let (state, detail) = match read_text(root, &path) {
            Ok(text) => {
                let (assignments, problems) = parse_environment_file(&text);
                notes.extend(problems.into_iter().map(|p| format!("{path}: {p}")));
                for a in assignments {
                    set(a.name, a.value, format!("{path}:{}", a.line));
                }
                (EnvironmentFileState::Read, None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && optional => {
                (EnvironmentFileState::Missing, None)
            }
            Err(e) => {
                notes.push(format!(
                    "{declared_at}: EnvironmentFile={path} cannot be read ({e}); systemd refuses to start {unit}"
                ));
                (EnvironmentFileState::Failed, Some(e.to_string()))
            }
        };
        environment_files.push(EnvironmentFileRead {
            path,
            optional,
            declared_at,
            state,
            detail,
        });
    }

    let exec_start = match exec_starts.as_slice() {
        [] => None,
        [(command_line, declared_at)] => match split_command_line(command_line) {
            Ok(mut words) => {
                if let Some(program) = words.first_mut() {
                    *program = program
                        .trim_start_matches(['-', '@', ':', '+', '!'])
                        .to_string();
                }
                let expansion = expand_exec_argv(&words, &env, declared_at);
                if let Some(capped) = &expansion.capped {
                    notes.push(format!("{declared_at}: ExecStart= {capped}"));
                }
                let mut argv = expansion.argv;
                for arg in &mut argv {
                    crate::facts::redact::mask_in_place(&mut arg.value);
                }
                Some(ExecStart {
                    declared_at: declared_at.clone(),
                    command_line: crate::facts::redact::url_credentials(command_line).into_owned(),
                    argv,
                })
            }
            Err(e) => {
                notes.push(format!("{declared_at}: ExecStart= cannot be parsed: {e}"));
                None
            }
        },
        several => {
            let at: Vec<&str> = several.iter().map(|(_, a)| a.as_str()).collect();
            notes.push(format!(
                "{unit} has more than one ExecStart= ({}) and is not Type=oneshot: systemd refuses to load it; a drop-in that replaces the command must first reset it with an empty `ExecStart=`",
                at.join(", ")
            ));
            None
        }
    };

    record_environment(
        &mut env,
        exec_starts
            .last()
            .filter(|_| exec_starts.len() == 1)
            .map(|(line, _)| line.as_str()),
    );
    for note in &mut notes {
        crate::facts::redact::mask_in_place(note);
    }
    Some(ServiceUnit {
        name: unit.to_string(),
        fragment: fragment.map(|(p, _)| p),
        masked,
        drop_ins,
        environment: env,
        environment_files,
        exec_start,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn under(root: &Path, host_path: &str) -> std::path::PathBuf {
        root.join(host_path.trim_start_matches('/'))
    }

    fn host(dir: &tempfile::TempDir) -> HostRoot {
        HostRoot::at(dir.path()).unwrap()
    }

    fn write(root: &Path, host_path: &str, text: &str) {
        let path = under(root, host_path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// kubelet.service as systemd would load it from a host tree holding `files` (path, text).
    fn kubelet_unit(files: &[(&str, &str)]) -> ServiceUnit {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            write(dir.path(), path, text);
        }
        read_service(&host(&dir), "kubelet.service").unwrap()
    }

    const KUBEADM_DROP_IN: &str = "\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"
Environment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
";

    #[test]
    fn kubeadm_drop_in_expands_into_kubelet_flags_with_their_sources() {
        let unit = kubelet_unit(&[
            (
                "/lib/systemd/system/kubelet.service",
                "[Unit]\nDescription=kubelet\n[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n",
            ),
            (
                "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
                KUBEADM_DROP_IN,
            ),
            (
                "/var/lib/kubelet/kubeadm-flags.env",
                "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9\"\n",
            ),
            (
                "/etc/default/kubelet",
                "# pinned\nKUBELET_EXTRA_ARGS=--node-ip=10.20.41.41 --hostname-override='worker-41'\n",
            ),
        ]);
        assert_eq!(
            unit.fragment.as_deref(),
            Some("/lib/systemd/system/kubelet.service")
        );
        assert_eq!(
            unit.drop_ins,
            vec!["/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"]
        );
        let exec = unit.exec_start.unwrap();
        let words: Vec<&str> = exec.argv.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(
            words,
            [
                "/usr/bin/kubelet",
                "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                "--kubeconfig=/etc/kubernetes/kubelet.conf",
                "--config=/var/lib/kubelet/config.yaml",
                "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
                "--pod-infra-container-image=registry.k8s.io/pause:3.9",
                "--node-ip=10.20.41.41",
                "--hostname-override=worker-41",
            ]
        );
        assert_eq!(
            exec.argv[6].origin,
            "$KUBELET_EXTRA_ARGS from /etc/default/kubelet:2"
        );
        assert_eq!(
            exec.declared_at,
            "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf:8"
        );
        assert!(unit.notes.is_empty(), "{:?}", unit.notes);
    }

    #[test]
    fn drop_ins_sort_by_name_across_directories_and_etc_hides_the_same_name() {
        let unit = kubelet_unit(&[
            (
                "/usr/lib/systemd/system/kubelet.service",
                "[Service]\nExecStart=/usr/bin/kubelet $A\n",
            ),
            (
                "/usr/lib/systemd/system/kubelet.service.d/20-b.conf",
                "[Service]\nEnvironment=A=from-usr-20\n",
            ),
            (
                "/etc/systemd/system/kubelet.service.d/20-b.conf",
                "[Service]\nEnvironment=A=from-etc-20\n",
            ),
            (
                "/usr/lib/systemd/system/kubelet.service.d/30-c.conf",
                "[Service]\nEnvironment=\"A=--x=from usr 30\"\n",
            ),
            (
                "/etc/systemd/system/kubelet.service.d/10-a.conf",
                "[Service]\nEnvironment=A=from-etc-10\n",
            ),
        ]);
        assert_eq!(
            unit.drop_ins,
            [
                "/etc/systemd/system/kubelet.service.d/10-a.conf",
                "/etc/systemd/system/kubelet.service.d/20-b.conf",
                "/usr/lib/systemd/system/kubelet.service.d/30-c.conf",
            ]
        );
        let a = unit.env("A").unwrap();
        assert_eq!(a.value, "--x=from usr 30");
        assert_eq!(
            a.source,
            "/usr/lib/systemd/system/kubelet.service.d/30-c.conf:2"
        );
        let argv: Vec<&str> = unit
            .exec_start
            .as_ref()
            .unwrap()
            .argv
            .iter()
            .map(|a| a.value.as_str())
            .collect();
        assert_eq!(argv, ["/usr/bin/kubelet", "--x=from", "usr", "30"]);
    }

    #[test]
    fn environment_files_override_environment_and_a_missing_required_file_is_noted() {
        let unit = kubelet_unit(&[
            (
                "/etc/systemd/system/kubelet.service",
                "[Service]\nEnvironmentFile=/etc/sysconfig/kubelet\nEnvironment=KUBELET_EXTRA_ARGS=--node-ip=1.1.1.1\nEnvironmentFile=/etc/sysconfig/missing\nExecStart=/usr/bin/kubelet $KUBELET_EXTRA_ARGS\n",
            ),
            (
                "/etc/sysconfig/kubelet",
                "KUBELET_EXTRA_ARGS=--node-ip=2.2.2.2\n",
            ),
        ]);
        assert_eq!(
            unit.env("KUBELET_EXTRA_ARGS").unwrap().value,
            "--node-ip=2.2.2.2"
        );
        assert_eq!(
            unit.environment_files[1].state,
            EnvironmentFileState::Failed
        );
        assert!(unit.notes[0].contains("systemd refuses to start kubelet.service"));
    }

    #[test]
    fn a_second_exec_start_without_a_reset_makes_systemd_refuse_the_unit() {
        let unit = kubelet_unit(&[
            (
                "/lib/systemd/system/kubelet.service",
                "[Service]\nExecStart=/usr/bin/kubelet\n",
            ),
            (
                "/etc/systemd/system/kubelet.service.d/override.conf",
                "[Service]\nExecStart=/usr/bin/kubelet --node-ip=1.2.3.4\n",
            ),
        ]);
        assert!(unit.exec_start.is_none());
        assert!(unit.notes[0].contains("more than one ExecStart="));
    }

    #[test]
    fn masked_units_and_masked_drop_ins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "/lib/systemd/system/kubelet.service",
            "[Service]\nExecStart=/usr/bin/kubelet\n",
        );
        write(
            root,
            "/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
            KUBEADM_DROP_IN,
        );
        std::fs::create_dir_all(under(root, "/etc/systemd/system/kubelet.service.d")).unwrap();
        std::os::unix::fs::symlink(
            "/dev/null",
            under(
                root,
                "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            ),
        )
        .unwrap();
        let unit = read_service(&host(&dir), "kubelet.service").unwrap();
        assert!(unit.drop_ins.is_empty());
        assert!(!unit.masked);
        std::os::unix::fs::symlink(
            "/dev/null",
            under(root, "/etc/systemd/system/kubelet.service"),
        )
        .unwrap();
        let unit = read_service(&host(&dir), "kubelet.service").unwrap();
        assert!(unit.masked);
        assert!(unit.exec_start.is_none());
        assert!(read_service(&host(&dir), "nothing.service").is_none());
    }

    #[test]
    fn exec_start_expansion_is_capped_and_says_so() {
        let big = "x".repeat(200 * 1024);
        let words = " $A".repeat(20);
        let unit = kubelet_unit(&[(
            "/lib/systemd/system/kubelet.service",
            &format!(
                "[Service]\nEnvironment=A={big}\nEnvironment=B=--b\nExecStart=/usr/bin/kubelet --x=${{A}}${{A}}{words} $B\n"
            ),
        )]);
        let argv = &unit.exec_start.as_ref().unwrap().argv;
        let total: usize = argv.iter().map(|a| a.value.len() + 1).sum();
        assert!(total <= MAX_EXPANDED_COMMAND_BYTES, "{total} bytes");
        assert!(argv
            .iter()
            .all(|a| a.value.len() <= MAX_EXPANDED_WORD_BYTES));
        assert_eq!(
            argv[1].value.len(),
            MAX_EXPANDED_WORD_BYTES,
            "--x=${{A}}${{A}} is cut"
        );
        let notes = unit.notes.join("\n");
        assert!(notes.contains("ExecStart= an argument"), "{notes}");
    }

    #[test]
    fn more_drop_ins_than_the_limit_are_noted() {
        let mut files: Vec<(String, String)> = vec![(
            "/lib/systemd/system/kubelet.service".into(),
            "[Service]\nExecStart=/usr/bin/kubelet\n".into(),
        )];
        for n in 0..300 {
            files.push((
                format!("/etc/systemd/system/kubelet.service.d/{n:03}.conf"),
                "[Service]\n".into(),
            ));
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let unit = kubelet_unit(&refs);
        assert_eq!(unit.drop_ins.len(), MAX_DROP_INS);
        assert!(
            unit.notes[0].contains("more than 256 drop-ins; 44 more were not read"),
            "{:?}",
            unit.notes
        );
    }

    #[test]
    fn only_the_variables_read_keep_their_values_and_url_passwords_are_masked() {
        let unit = kubelet_unit(&[
            (
                "/lib/systemd/system/kubelet.service",
                "[Service]\nEnvironment=\"HTTPS_PROXY=http://u:pw@proxy:3128\" TOKEN=t0k OTHER=o\nEnvironment=FLAGS=--v=2\nExecStart=/usr/bin/kubelet ${FLAGS} --registry=https://r:regpw@registry\n",
            ),
        ]);
        assert_eq!(
            unit.env("HTTPS_PROXY").unwrap().value,
            "http://u:***@proxy:3128"
        );
        let token = unit.env("TOKEN").unwrap();
        assert!(token.withheld && token.value.is_empty());
        assert_eq!(
            unit.env("FLAGS").unwrap().value,
            "--v=2",
            "ExecStart= expands it"
        );
        let exec = unit.exec_start.unwrap();
        assert!(
            !exec.command_line.contains("regpw"),
            "{}",
            exec.command_line
        );
        assert_eq!(exec.argv[2].value, "--registry=https://r:***@registry");
    }
}
