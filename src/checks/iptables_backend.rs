//! Whether the host's iptables rules all live in one backend (`Iptables-Backend`). iptables 1.8
//! writes either nftables (`iptables-nft`) or the kernel's x_tables (`iptables-legacy`), and the
//! kernel enforces both. kubelet writes its `KUBE-IPTABLES-HINT` chain with the host's `iptables`;
//! kube-proxy's and the CNIs' images (iptables-wrappers) look for that hint, else count the
//! rules of each backend, and write where it points. A host whose `iptables` is one backend
//! while the other already holds tables (an older Docker, a firewall script, a distribution
//! upgrade that switched the alternative) splits the node's rules: what drops packets in one is
//! invisible to `iptables -L` in the other, and the wrappers may pick either.

use super::{Area, CheckResult, Context};
use crate::facts::preflight::{IptablesBackend, IptablesMode};

const ID: &str = "Iptables-Backend";
const AREA: Area = Area::Host;

fn nft_tables(ctx: &Context) -> Vec<String> {
    let mut tables: Vec<String> = ctx
        .facts
        .preflight
        .as_ref()
        .and_then(|p| p.forward.as_ref())
        .map(|f| {
            f.nftables
                .iter()
                .filter(|c| c.family == "ip")
                .map(|c| format!("ip {}", c.table))
                .collect()
        })
        .unwrap_or_default();
    tables.dedup();
    tables
}

fn describe(b: &IptablesBackend) -> String {
    match (&b.link, &b.target) {
        (Some(link), Some(target)) => format!("{link} → {target}"),
        _ => "no iptables command".into(),
    }
}

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    let Some(backend) = ctx
        .facts
        .preflight
        .as_ref()
        .and_then(|p| p.iptables.as_ref())
    else {
        return Vec::new();
    };
    let legacy: &[String] = backend.legacy_tables.as_deref().unwrap_or_default();
    let r = match backend.mode {
        None => CheckResult::skip(
            ID,
            AREA,
            format!(
                "which iptables the host runs is not known ({}): nothing to compare",
                describe(backend)
            ),
        ),
        Some(IptablesMode::Nft) if !legacy.is_empty() => CheckResult::warn(
            ID,
            AREA,
            format!(
                "iptables is iptables-nft ({}), yet the legacy x_tables hold the table(s) {}: rules written there by iptables-legacy still filter packets, `iptables -L` does not show them, and kube-proxy's iptables wrapper may follow either backend",
                describe(backend),
                legacy.join(", ")
            ),
        )
        .fix(
            "find what still writes iptables-legacy (`iptables-legacy-save`), move it to iptables-nft, flush the legacy tables (`iptables-legacy -F; iptables-legacy -t nat -F`) and reboot so ip_tables unloads",
        ),
        Some(IptablesMode::Legacy) if !nft_tables(ctx).is_empty() => CheckResult::warn(
            ID,
            AREA,
            format!(
                "iptables is iptables-legacy ({}), yet nftables holds iptables-nft's table(s) {}: both backends filter packets, and kube-proxy's iptables wrapper may write to the one `iptables` does not show",
                describe(backend),
                nft_tables(ctx).join(", ")
            ),
        )
        .fix(
            "use one backend: `update-alternatives --set iptables /usr/sbin/iptables-nft` (and ip6tables) when the nftables rules are the ones meant, or remove them (`nft delete table ip filter`) when legacy is",
        ),
        Some(mode) => CheckResult::ok(
            ID,
            AREA,
            format!(
                "iptables is iptables-{} ({}); the other backend holds no tables",
                if mode == IptablesMode::Nft { "nft" } else { "legacy" },
                describe(backend)
            ),
        ),
    };
    vec![r
        .with("link", backend.link.clone().unwrap_or_default())
        .with("target", backend.target.clone().unwrap_or_default())
        .with("legacy_tables", legacy.join(","))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{expect, pre_join_with_forward_chains};
    use crate::checks::Status;
    use crate::facts::preflight::NftForwardChain;

    fn judge(backend: IptablesBackend, nft: Vec<NftForwardChain>) -> Vec<CheckResult> {
        pre_join_with_forward_chains(nft, Some(backend))
    }

    fn backend(mode: Option<IptablesMode>, legacy: Option<&[&str]>) -> IptablesBackend {
        IptablesBackend {
            link: Some("/etc/alternatives/iptables".into()),
            target: Some("/usr/sbin/iptables-nft".into()),
            mode,
            legacy_tables: legacy.map(|l| l.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn filter_forward() -> NftForwardChain {
        NftForwardChain {
            family: "ip".into(),
            table: "filter".into(),
            chain: "FORWARD".into(),
            policy: "accept".into(),
            priority: 0,
        }
    }

    #[test]
    fn nft_with_legacy_tables_is_split() {
        let r = judge(
            backend(Some(IptablesMode::Nft), Some(&["filter", "nat"])),
            Vec::new(),
        );
        expect(&r, ID, Status::Warn, &["filter, nat", "iptables-nft"]);
    }

    #[test]
    fn legacy_with_nft_tables_is_split() {
        let r = judge(
            backend(Some(IptablesMode::Legacy), None),
            vec![filter_forward()],
        );
        expect(&r, ID, Status::Warn, &["ip filter"]);
    }

    #[test]
    fn one_backend_is_fine_and_unknown_is_skipped() {
        let r = judge(
            backend(Some(IptablesMode::Nft), Some(&[])),
            vec![filter_forward()],
        );
        expect(&r, ID, Status::Ok, &["the other backend holds no tables"]);
        let r = judge(
            backend(Some(IptablesMode::Legacy), Some(&["filter"])),
            Vec::new(),
        );
        expect(&r, ID, Status::Ok, &["iptables-legacy"]);
        expect(
            &judge(backend(None, None), Vec::new()),
            ID,
            Status::Skip,
            &["not known"],
        );
    }
}
