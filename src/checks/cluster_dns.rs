//! `ClusterDNS-Query`: judges the live cluster-DNS probe. The verdicts keep apart what an operator
//! must not confuse: "no DNS server reachable" (a network problem: look at Calico first) is not
//! "name missing" (the DNS path works; CoreDNS does not know the name).

use crate::checks::{Area, CheckResult, Context};
use crate::probes::{ClusterDnsProbe, DnsVerdict};

pub fn evaluate(ctx: &Context) -> Vec<CheckResult> {
    vec![query(ctx)]
}

fn query(ctx: &Context) -> CheckResult {
    let id = "ClusterDNS-Query";
    let Some(probe) = ctx.live.and_then(|l| l.cluster_dns.as_ref()) else {
        return CheckResult::skip(id, Area::ClusterDns, super::calico_health::NO_LIVE_PROBES);
    };
    let ClusterDnsProbe {
        server,
        server_source,
        name,
        verdict,
        elapsed_ms,
    } = probe;
    let server_text = match (server, server_source) {
        (Some(s), Some(src)) => format!("{s} ({})", src),
        (Some(s), None) => s.to_string(),
        _ => String::new(),
    };
    let name = name.as_deref().unwrap_or_default();
    let network_fix = "the cluster DNS Service is not reachable from this node: check Calico first (Calico-FelixReady, Calico-NodeAddress, Calico-Routes), then kube-proxy's rules for the DNS ClusterIP (`iptables-save -t nat | grep <IP>` or `ipvsadm -Ln`), then the CoreDNS pods and their Endpoints";
    let r = match verdict {
        DnsVerdict::Answered { addresses } => {
            let shown: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
            CheckResult::ok(
                id,
                Area::ClusterDns,
                format!(
                    "{name} → {}, answered by {server_text} in {elapsed_ms} ms",
                    shown.join(", ")
                ),
            )
        }
        DnsVerdict::NoData => CheckResult::warn(
            id,
            Area::ClusterDns,
            format!("{server_text} answered NOERROR but no address for {name}"),
        )
        .fix("the DNS path works; CoreDNS serves the zone but has no A record for the API Service: check `kubectl get svc kubernetes -n default` and CoreDNS's kubernetes plugin"),
        DnsVerdict::NameMissing => CheckResult::fail(
            id,
            Area::ClusterDns,
            format!(
                "{server_text} answered NXDOMAIN for {name}: the DNS path works; the name is missing"
            ),
        )
        .fix("a server answers, so this is not a network problem: check the cluster domain (kubelet clusterDomain, profile post_join.cluster_domain, --cluster-domain) and the zone of CoreDNS's kubernetes plugin (`kubectl -n kube-system get configmap coredns -o yaml`)"),
        DnsVerdict::Refused { rcode } => CheckResult::fail(
            id,
            Area::ClusterDns,
            format!(
                "{server_text} answered {} for {name}: a server is reachable but does not resolve",
                rcode
            ),
        )
        .fix("look at the CoreDNS pods' logs (`kubectl -n kube-system logs -l k8s-app=kube-dns`): SERVFAIL usually means CoreDNS cannot reach the API server or its upstream; REFUSED, that the server asked is not CoreDNS"),
        DnsVerdict::NoServer { reason } => CheckResult::fail(
            id,
            Area::ClusterDns,
            format!(
                "no DNS server reachable at {server_text}: {} — pods on this node see \"no DNS server\", not \"unknown host\"",
                reason
            ),
        )
        .fix(network_fix),
        DnsVerdict::BadReply { reason } => CheckResult::fail(
            id,
            Area::ClusterDns,
            format!("{server_text} did not answer DNS: {}", reason),
        )
        .fix("something other than a DNS server answers on the cluster DNS address: check the address (kubelet clusterDNS) and kube-proxy's rules for it"),
        DnsVerdict::NotConfigured { reason } => {
            CheckResult::skip(id, Area::ClusterDns, reason.clone())
        }
    };
    r.with(
        "probe",
        serde_json::to_value(probe).unwrap_or(serde_json::Value::Null),
    )
}

#[cfg(test)]
mod tests {
    use crate::checks::testing::{baseline, expect, profile, run};
    use crate::checks::{Phase, Status};
    use crate::probes::{ClusterDnsProbe, DnsVerdict, LiveProbes};

    fn dns(verdict: DnsVerdict) -> LiveProbes {
        LiveProbes {
            api_server: Vec::new(),
            dataplane: None,
            felix: None,
            cluster_dns: Some(ClusterDnsProbe {
                server: Some("10.96.0.10:53".parse().unwrap()),
                server_source: Some("kubelet config /var/lib/kubelet/config.yaml".into()),
                name: Some("kubernetes.default.svc.cluster.local".into()),
                verdict,
                elapsed_ms: 4,
            }),
        }
    }

    fn check(verdict: DnsVerdict, status: Status, fragments: &[&str]) {
        let (f, p) = (baseline(), profile("{}"));
        let live = dns(verdict);
        let r = run(&f, &p, Phase::PostJoin, &[], None, Some(&live));
        expect(&r, "ClusterDNS-Query", status, fragments);
    }

    #[test]
    fn the_verdicts_read_differently() {
        check(
            DnsVerdict::Answered {
                addresses: vec!["10.96.0.1".parse().unwrap()],
            },
            Status::Ok,
            &[
                "kubernetes.default.svc.cluster.local → 10.96.0.1",
                "10.96.0.10:53",
            ],
        );
        check(
            DnsVerdict::NameMissing,
            Status::Fail,
            &["NXDOMAIN", "the DNS path works; the name is missing"],
        );
        check(
            DnsVerdict::Refused {
                rcode: "SERVFAIL".into(),
            },
            Status::Fail,
            &["answered SERVFAIL", "reachable"],
        );
        check(
            DnsVerdict::NoServer {
                reason: "no answer from 10.96.0.10:53 within 2000 ms".into(),
            },
            Status::Fail,
            &["no DNS server reachable", "\"no DNS server\""],
        );
        check(
            DnsVerdict::NotConfigured {
                reason: "no cluster DNS address".into(),
            },
            Status::Skip,
            &["no cluster DNS address"],
        );
    }
}
