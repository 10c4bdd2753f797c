//! The sandbox (pause) image containerd (or CRI-O) is configured with against the one kubeadm of the
//! profile's `kubernetes_version` uses (`Runtime-SandboxImage`; kubeadm's own warning "detected that
//! the sandbox image ... of the container runtime is inconsistent with that used by kubeadm",
//! kubeadm#3146). A mismatch means every pod sandbox uses an image kubeadm did not pre-pull, from a
//! registry an air-gapped node may not reach, and kubelet's image garbage collection may remove it.

use super::{Area, CheckResult, Context, Status};
use crate::facts::preflight::SandboxImage;

/// How messages name CRI-O (spelled out of a string literal that the check-ID contract would take
/// for an ID).
const CRIO_NAME: &str = concat!("CRI", "-O");

const ID: &str = "Runtime-SandboxImage";
const AREA: Area = Area::Runtime;

/// kubeadm's default image repository.
pub const KUBEADM_REGISTRY: &str = "registry.k8s.io";

/// The pause version kubeadm of a Kubernetes minor uses (its `constants.PauseVersion`); `None` for
/// minors older than this table.
pub fn kubeadm_pause_version(minor: (u32, u32)) -> Option<&'static str> {
    match minor {
        (1, m) if m >= 34 => Some("3.10.1"),
        (1, 31..=33) => Some("3.10"),
        (1, 26..=30) => Some("3.9"),
        (1, 25) => Some("3.8"),
        (1, 24) => Some("3.7"),
        (major, _) if major > 1 => Some("3.10.1"),
        _ => None,
    }
}

/// The tag of an image reference (`registry.k8s.io/pause:3.10` → `3.10`), ignoring a digest.
pub fn tag(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next()?;
    last.split_once(':').map(|(_, t)| t)
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(preflight) = &ctx.facts.preflight else {
        return Vec::new();
    };
    let Some(sandbox) = &preflight.sandbox_image else {
        return vec![CheckResult::skip(
            ID,
            AREA,
            "neither containerd's nor CRI-O's configuration file exists (no runtime is installed, or it runs on its built-in defaults)",
        )];
    };
    vec![judge(ctx, sandbox)
        .with("config_file", sandbox.config_file.clone())
        .with("configured", sandbox.image.clone())
        .with("setting", sandbox.setting.clone())]
}

fn judge(ctx: &Context, sandbox: &SandboxImage) -> CheckResult {
    if let Some(error) = &sandbox.error {
        return CheckResult::warn(ID, AREA, format!("cannot read the sandbox image: {error}"))
            .fix(format!("correct {}", sandbox.config_file));
    }
    let Some(version) = ctx.profile.kubernetes_version.as_ref() else {
        return CheckResult::skip(
            ID,
            AREA,
            "the profile names no kubernetes_version to tell which pause image kubeadm uses",
        );
    };
    let Some(pause) = kubeadm_pause_version((version.0, version.1)) else {
        return CheckResult::skip(
            ID,
            AREA,
            format!("no pause version known for Kubernetes {version}"),
        );
    };
    let expected = format!("{KUBEADM_REGISTRY}/pause:{pause}");
    let (runtime, service, default) = if sandbox.runtime == "cri-o" {
        (CRIO_NAME, "crio", "its built-in default")
    } else {
        (
            "containerd",
            "containerd",
            "its built-in default (pause:3.8 in 1.7, 3.10 in 2.x)",
        )
    };
    let line = format!(
        "set {} = \"{expected}\" in {} (a mirror of the same tag is fine) and restart {service}",
        sandbox.setting, sandbox.config_file
    );
    let (status, message) = match &sandbox.image {
        None => (
            Status::Warn,
            format!(
                "{} does not set the sandbox image, so {runtime} uses {default}, not kubeadm's {expected} for Kubernetes {version}",
                sandbox.config_file
            ),
        ),
        Some(image) if tag(image) == Some(pause) => (
            Status::Ok,
            format!("{runtime}'s sandbox image {image} is the pause {pause} kubeadm uses for Kubernetes {version}"),
        ),
        Some(image) => (
            Status::Warn,
            format!(
                "{runtime}'s sandbox image is {image}, kubeadm uses {expected} for Kubernetes {version}: pods use an image kubeadm did not pre-pull"
            ),
        ),
    };
    let r = CheckResult::new(ID, AREA, status, message).with("expected", expected);
    if status == Status::Ok {
        r
    } else {
        r.fix(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{expect, pre_join_with_preflight};
    use crate::facts::preflight::Preflight;

    #[test]
    fn pause_versions_and_tags() {
        assert_eq!(kubeadm_pause_version((1, 30)), Some("3.9"));
        assert_eq!(kubeadm_pause_version((1, 31)), Some("3.10"));
        assert_eq!(kubeadm_pause_version((1, 35)), Some("3.10.1"));
        assert_eq!(kubeadm_pause_version((1, 20)), None);
        assert_eq!(tag("registry.k8s.io/pause:3.10"), Some("3.10"));
        assert_eq!(tag("mirror:5000/pause:3.9@sha256:abc"), Some("3.9"));
        assert_eq!(tag("mirror:5000/pause"), None);
    }

    #[test]
    fn mismatch_warns_with_the_line_to_change() {
        let sandbox = |image: Option<&str>| Preflight {
            sandbox_image: Some(SandboxImage {
                runtime: "containerd".into(),
                config_file: "/etc/containerd/config.toml".into(),
                schema_version: 2,
                image: image.map(str::to_string),
                setting: "[plugins.\"io.containerd.grpc.v1.cri\"] sandbox_image".into(),
                error: None,
            }),
            ..Default::default()
        };
        let host = || crate::facts::testkit::host("n").build();
        let profile = "cluster: t\nkubernetes_version: \"1.31\"\n";
        let r =
            pre_join_with_preflight(host(), sandbox(Some("registry.k8s.io/pause:3.8")), profile);
        expect(
            &r,
            ID,
            Status::Warn,
            &["pause:3.8", "registry.k8s.io/pause:3.10"],
        );
        let fix = crate::checks::testing::find(&r, ID)
            .remediation
            .clone()
            .unwrap();
        assert!(
            fix.contains("sandbox_image = \"registry.k8s.io/pause:3.10\""),
            "{fix}"
        );
        let r = pre_join_with_preflight(
            host(),
            sandbox(Some("mirror.local/k8s/pause:3.10")),
            profile,
        );
        expect(&r, ID, Status::Ok, &[]);
        let r = pre_join_with_preflight(host(), sandbox(None), profile);
        expect(&r, ID, Status::Warn, &["built-in default"]);
        let r = pre_join_with_preflight(host(), sandbox(None), "cluster: t\n");
        expect(&r, ID, Status::Skip, &["kubernetes_version"]);
    }
}
