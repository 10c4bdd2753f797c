//! Credentials stay on the host: the one place that decides which words of a service's environment
//! and command line may be recorded in the facts, and that masks the password of every URL
//! (`http://proxyuser:***@proxy.corp:3128`). The facts are copied to reports, baselines, Ansible fact
//! caches and the `serve` endpoints, so what is masked here is masked everywhere.

use std::borrow::Cow;
use std::sync::LazyLock;

/// What replaces a password (or a user-only token) in a URL.
pub const MASK: &str = "***";

/// `scheme://userinfo@`: the userinfo runs to the last `@` before the host part ends, so a password
/// holding an unencoded `@` is masked whole.
static URL_USERINFO: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"([A-Za-z][A-Za-z0-9+.\-]*://)([^/?#\s"'<>]*)@"#).expect("a valid pattern")
});

/// `user:password@host` without a scheme at the start of a word (Go's proxy settings accept it).
static BARE_USERINFO: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(^|[\s,;="'])([A-Za-z0-9._~%!$&()*+\-]+):([^\s/?#"'<>,;]*)@"#)
        .expect("a valid pattern")
});

/// `text` with the credentials of every URL in it masked: `user:password@` becomes `user:***@`, a
/// user-only `token@` becomes `***@`. Linear in the length of `text`.
pub fn url_credentials(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let with_scheme = URL_USERINFO.replace_all(text, |caps: &regex::Captures<'_>| {
        let userinfo = &caps[2];
        match userinfo.split_once(':') {
            Some((user, _)) => format!("{}{user}:{MASK}@", &caps[1]),
            None => format!("{}{MASK}@", &caps[1]),
        }
    });
    match BARE_USERINFO.replace_all(&with_scheme, |caps: &regex::Captures<'_>| {
        if &caps[3] == MASK {
            caps[0].to_string()
        } else {
            format!("{}{}:{MASK}@", &caps[1], &caps[2])
        }
    }) {
        Cow::Borrowed(_) => Cow::Owned(with_scheme.into_owned()),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// Masks URL credentials in `text` in place.
pub fn mask_in_place(text: &mut String) {
    if let Cow::Owned(masked) = url_credentials(text) {
        *text = masked;
    }
}

/// Whether a service environment variable's value is read by nodecheck's models and may be recorded
/// (its URL credentials masked): kubelet's and kubeadm's argument variables (`KUBELET_EXTRA_ARGS`,
/// `KUBELET_KUBEADM_ARGS`, …) and the proxy variables Go's HTTP clients read. Any other variable is
/// recorded by name only.
pub fn is_recorded_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    (upper.starts_with("KUBELET_") || upper.starts_with("KUBEADM_")) && upper.ends_with("_ARGS")
        || matches!(
            upper.as_str(),
            "HTTP_PROXY" | "HTTPS_PROXY" | "NO_PROXY" | "ALL_PROXY"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            url_credentials("http://proxyuser:S3cr3tPassw0rd@proxy.corp:3128"),
            "http://proxyuser:***@proxy.corp:3128"
        );
        assert_eq!(
            url_credentials("--a=https://ghp_token@github.com/x y"),
            "--a=https://***@github.com/x y"
        );
        assert_eq!(
            url_credentials("x http://u:p@ss@h:1/p?q=a@b"),
            "x http://u:***@h:1/p?q=a@b"
        );
        assert_eq!(
            url_credentials("HTTPS_PROXY=proxyuser:pw@proxy.corp:3128"),
            "HTTPS_PROXY=proxyuser:***@proxy.corp:3128"
        );
        assert_eq!(
            url_credentials("http://proxy.corp:3128"),
            "http://proxy.corp:3128"
        );
        assert_eq!(url_credentials("no urls here"), "no urls here");
        // Masking twice changes nothing.
        let once = url_credentials("http://a:b@c").into_owned();
        assert_eq!(url_credentials(&once), once);
    }

    #[test]
    fn only_argument_and_proxy_variables_are_recorded() {
        for name in [
            "KUBELET_EXTRA_ARGS",
            "KUBELET_KUBEADM_ARGS",
            "KUBELET_CONFIG_ARGS",
            "https_proxy",
            "NO_PROXY",
        ] {
            assert!(is_recorded_variable(name), "{name}");
        }
        for name in [
            "AWS_SECRET_ACCESS_KEY",
            "REGISTRY_TOKEN",
            "KUBELET_TOKEN",
            "HOME",
        ] {
            assert!(!is_recorded_variable(name), "{name}");
        }
    }
}
