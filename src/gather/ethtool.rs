//! Offload features of a few links, read through ethtool's generic-netlink family
//! (`ETHTOOL_MSG_FEATURES_GET`, Linux 5.6+) with the `ethtool` crate of the rust-netlink family: the
//! TX checksum and UDP-tunnel segmentation features `Nic-ChecksumOffload` judges ([`Offload`]).
//!
//! Only the links that can matter are asked about (see [`wanted`]), one request each, all within
//! [`DEADLINE`]: a kernel without the family (before 5.6, or built without `CONFIG_ETHTOOL_NETLINK`),
//! a link that vanished or a kernel that does not answer leaves that link's features unknown with
//! the reason, never a hang and never an error of the whole gathering.
//!
//! The crate speaks the same netlink-packet-core 0.9 and netlink-sys 0.9 as `rtnetlink`; it brings
//! its own netlink-proto (0.13 beside rtnetlink's 0.14), which only carries the byte stream. The
//! namespace tests compare every recorded feature with what `ethtool -k` shows on a real link.

use std::time::Duration;

use ethtool::{
    EthtoolAttr, EthtoolCmd, EthtoolFeatureAttr, EthtoolFeatureBit, EthtoolHeader, EthtoolMessage,
};
use futures_util::StreamExt;
use netlink_packet_generic::GenlMessage;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_REQUEST};

use crate::facts::{FeatureState, Interface, Offload, Route};

/// How long all the feature reads of one gathering may take together.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// The links whose features are read: those backed by a device (a physical or paravirtual NIC:
/// where the driver's offloads live), the devices of the default routes (the node NIC when it is a
/// bond, VLAN or bridge), and Calico's VXLAN devices. Every other link (pod veths, Docker bridges) is
/// left out: a node with thousands of them pays nothing for this.
pub fn wanted(interfaces: &[Interface], routes: &[Route]) -> Vec<(u32, String)> {
    let default_devices: Vec<&str> = routes
        .iter()
        .filter(|r| r.is_default())
        .flat_map(|r| {
            r.device
                .as_deref()
                .into_iter()
                .chain(r.nexthops.iter().filter_map(|h| h.device.as_deref()))
        })
        .collect();
    interfaces
        .iter()
        .filter(|i| {
            i.physical.is_some()
                || default_devices.contains(&i.name.as_str())
                || crate::facts::is_calico_vxlan_device(&i.name)
        })
        .map(|i| (i.index, i.name.to_string()))
        .collect()
}

/// Reads the features of `links` (ifindex, name). One answer per link, in order: the features, or
/// why they are unknown.
pub async fn read_offloads(links: &[(u32, String)]) -> Vec<(u32, Result<Offload, String>)> {
    if links.is_empty() {
        return Vec::new();
    }
    let mut answers: Vec<(u32, Result<Offload, String>)> = links
        .iter()
        .map(|(index, _)| {
            (
                *index,
                Err(format!(
                    "ethtool netlink did not answer within {} s",
                    DEADLINE.as_secs()
                )),
            )
        })
        .collect();
    let (connection, mut handle, _) = match ethtool::new_connection() {
        Ok(c) => c,
        Err(e) => {
            let reason = format!("cannot open a generic netlink socket: {e}");
            for (_, answer) in &mut answers {
                *answer = Err(reason.clone());
            }
            return answers;
        }
    };
    let connection = tokio::spawn(connection);
    let reads = async {
        // Without the family every request would fail the same way: say so for each link once.
        if let Err(reason) = resolve_family(&handle).await {
            for (_, answer) in &mut answers {
                *answer = Err(reason.clone());
            }
            return;
        }
        for (i, (index, _)) in links.iter().enumerate() {
            answers[i].1 = read_one(&mut handle, *index).await;
        }
    };
    let _ = tokio::time::timeout(DEADLINE, reads).await;
    connection.abort();
    answers
}

/// Resolves the `ethtool` generic netlink family (cached by the handle for the requests after it).
async fn resolve_family(handle: &ethtool::EthtoolHandle) -> Result<(), String> {
    match handle
        .handle
        .resolve_family::<ethtool::EthtoolMessage>()
        .await
    {
        Ok(_) => Ok(()),
        Err(genetlink::GenetlinkError::NetlinkError(e))
            if e.kind() == std::io::ErrorKind::NotFound =>
        {
            Err("the kernel has no ethtool netlink family (it needs Linux 5.6+ built with CONFIG_ETHTOOL_NETLINK)".into())
        }
        Err(e) => Err(format!("cannot resolve ethtool's generic netlink family: {e}")),
    }
}

/// One FEATURES_GET for the link with this ifindex: by index, not name, so that a name that is not
/// UTF-8 or a rename since the link dump cannot make it ask about another link.
async fn read_one(handle: &mut ethtool::EthtoolHandle, index: u32) -> Result<Offload, String> {
    let request = EthtoolMessage {
        cmd: EthtoolCmd::FeatureGet,
        nlas: vec![EthtoolAttr::Feature(EthtoolFeatureAttr::Header(vec![
            EthtoolHeader::DevIndex(index),
        ]))],
    };
    let mut message = NetlinkMessage::from(GenlMessage::from_payload(request));
    message.header.flags = NLM_F_REQUEST;
    let mut stream = handle.request(message).await.map_err(|e| describe(&e))?;
    let mut offload = None;
    while let Some(answer) = stream.next().await {
        let answer = answer.map_err(|e| format!("ethtool netlink: undecodable answer: {e}"))?;
        match answer.payload {
            NetlinkPayload::InnerMessage(genl) => offload = Some(offload_of(&genl.payload.nlas)),
            NetlinkPayload::Error(e) if e.code.is_some() => {
                return Err(format!("ethtool netlink: {}", e.to_io()))
            }
            _ => {}
        }
    }
    offload.ok_or_else(|| "the kernel sent no features".to_string())
}

/// A failure of one request, without the crate's wording around the kernel's answer.
fn describe(error: &ethtool::EthtoolError) -> String {
    match error {
        ethtool::EthtoolError::NetlinkError(e) => format!("ethtool netlink: {}", e.to_io()),
        other => format!("ethtool netlink: {other}"),
    }
}

/// The recorded features from one FEATURES_GET answer: on when in the `ACTIVE` set, changeable
/// when in the `HW` set and not in `NOCHANGE` (what `ethtool -k` marks `[fixed]` otherwise).
fn offload_of(attributes: &[EthtoolAttr]) -> Offload {
    let mut active: &[EthtoolFeatureBit] = &[];
    let mut hw: &[EthtoolFeatureBit] = &[];
    let mut nochange: &[EthtoolFeatureBit] = &[];
    for attribute in attributes {
        match attribute {
            EthtoolAttr::Feature(EthtoolFeatureAttr::Active(bits)) => active = bits,
            EthtoolAttr::Feature(EthtoolFeatureAttr::Hw(bits)) => hw = bits,
            EthtoolAttr::Feature(EthtoolFeatureAttr::NoChange(bits)) => nochange = bits,
            _ => {}
        }
    }
    let set =
        |bits: &[EthtoolFeatureBit], name: &str| bits.iter().any(|b| b.name == name && b.value);
    let mut offload = Offload::default();
    for name in Offload::NAMES {
        offload.set(
            name,
            FeatureState::from_bits(set(active, name), set(hw, name) && !set(nochange, name)),
        );
    }
    offload
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(links: &[(u32, String)]) -> Vec<(u32, Result<Offload, String>)> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(read_offloads(links))
    }

    /// The kernel answers for `lo` (ifindex 1 in every namespace), and a link that does not exist
    /// leaves its features unknown with the kernel's reason, without failing the others.
    #[test]
    fn a_missing_link_is_unknown_with_the_reason_and_the_others_are_read() {
        let answers = read(&[(u32::MAX - 1, "gone0".into()), (1, "lo".into())]);
        assert_eq!(answers.len(), 2);
        let (index, missing) = &answers[0];
        assert_eq!(*index, u32::MAX - 1);
        let reason = missing.as_ref().unwrap_err();
        assert!(reason.starts_with("ethtool netlink: "), "{reason}");
        assert!(reason.contains("No such device"), "{reason}");
        let lo = answers[1].1.as_ref().expect("lo's features");
        // Loopback computes no checksums: its TX checksum offload is always on and fixed.
        assert_eq!(lo.tx_checksum_ip_generic, Some(FeatureState::OnFixed));
    }

    #[test]
    fn nothing_wanted_asks_nothing() {
        assert!(read(&[]).is_empty());
    }
}
