//! [`Label`]: a word from the kernel's small vocabularies (address and route scopes, route protocols
//! and types, address flags, operstates, link kinds), kept as a 4-byte number instead of a string.
//!
//! A peer snapshot holds a few dozen of these, and ten thousand peers are loaded at once: as strings
//! they took a quarter of each peer's memory (a route alone carried three). Words the table below
//! knows cost nothing to make; any other word (a numeric protocol, a link kind from a newer kernel, a
//! hand-written snapshot) is interned once per process in a table that only grows with distinct words,
//! so it stays as small as the vocabulary of the inputs, and every label still reads as its `&str`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, Mutex, MutexGuard};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A word from one of the kernel's vocabularies; reads, compares, prints and serialises as its text.
/// The default is the empty word.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Label(u32);

/// The words gathering writes, so that they never take the interning lock. A label is found by a
/// linear search, so the words every snapshot holds many times come first.
const KNOWN: &[&str] = &[
    "", // the default
    "global",
    "link",
    "host",
    "universe",
    "unicast",
    "kernel",
    "permanent",
    "up",
    "unknown",
    "static",
    "boot",
    "bird",
    "dhcp",
    "ra",
    "down",
    "veth",
    "bridge",
    "ipip",
    "vxlan",
    "local",
    "noprefixroute",
    "secondary",
    "lowerlayerdown",
    // Scopes, route types and protocols (iproute2's rt_protos names) seen less often.
    "site",
    "nowhere",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
    "redirect",
    "zebra",
    "bgp",
    "isis",
    "ospf",
    "rip",
    "eigrp",
    "keepalived",
    "babel",
    "openr",
    "mrt",
    "gated",
    "xorp",
    "ntk",
    "dnrouted",
    "mrouted",
    "unspec",
    // Operstates.
    "dormant",
    "notpresent",
    "testing",
    // Address flags.
    "deprecated",
    "tentative",
    "temporary",
    "mngtmpaddr",
    "nodad",
    "optimistic",
    "homeaddress",
    "dadfailed",
    "autojoin",
    "stable-privacy",
    "mcautojoin",
    // Link kinds.
    "ip6tnl",
    "sit",
    "gre",
    "gretap",
    "geneve",
    "bond",
    "team",
    "vlan",
    "macvlan",
    "macvtap",
    "ipvlan",
    "tun",
    "wireguard",
    "dummy",
    "vrf",
    "nlmon",
    "ifb",
];

/// Words outside [`KNOWN`], each stored once for the life of the process: label `KNOWN.len() + i` is
/// `words[i]`, and `index` finds a word's `i` in constant time, so a hostile input of a million
/// distinct words costs a million insertions, not a million linear searches.
#[derive(Default)]
struct Others {
    words: Vec<&'static str>,
    index: HashMap<&'static str, u32>,
}

static OTHERS: LazyLock<Mutex<Others>> = LazyLock::new(Mutex::default);

fn others() -> MutexGuard<'static, Others> {
    OTHERS.lock().unwrap_or_else(|e| e.into_inner())
}

impl Label {
    /// The label of `word`.
    pub fn new(word: &str) -> Label {
        if let Some(i) = KNOWN.iter().position(|k| *k == word) {
            return Label(i as u32);
        }
        let mut others = others();
        if let Some(&i) = others.index.get(word) {
            return Label(i);
        }
        let i = (KNOWN.len() + others.words.len()) as u32;
        let word: &'static str = Box::leak(word.into());
        others.words.push(word);
        others.index.insert(word, i);
        Label(i)
    }

    pub fn as_str(&self) -> &'static str {
        let i = self.0 as usize;
        match KNOWN.get(i) {
            Some(word) => word,
            None => others()
                .words
                .get(i - KNOWN.len())
                .copied()
                .unwrap_or_default(),
        }
    }
}

impl std::ops::Deref for Label {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Label {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Label {
    fn from(word: &str) -> Label {
        Label::new(word)
    }
}

impl From<String> for Label {
    fn from(word: String) -> Label {
        Label::new(&word)
    }
}

impl PartialEq<str> for Label {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Label {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Label> for &str {
    fn eq(&self, other: &Label) -> bool {
        *self == other.as_str()
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Label, D::Error> {
        struct Word;
        impl serde::de::Visitor<'_> for Word {
            type Value = Label;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, word: &str) -> Result<Label, E> {
                Ok(Label::new(word))
            }
        }
        deserializer.deserialize_str(Word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_other_words_read_back_as_written() {
        for word in [
            "global",
            "bird",
            "",
            "proto-42",
            "a-kind-from-a-newer-kernel",
            "global",
        ] {
            let label = Label::new(word);
            assert_eq!(label.as_str(), word);
            assert_eq!(label, word);
            assert_eq!(label, Label::from(word.to_string()));
        }
        assert_ne!(Label::new("link"), Label::new("host"));
        assert_eq!(Label::default(), "");
    }

    #[test]
    fn a_word_outside_the_table_is_stored_once() {
        let first = Label::new("proto-7f3a-only-here");
        let count = || others().words.len();
        let before = count();
        let again = Label::new("proto-7f3a-only-here");
        assert_eq!(first, again);
        assert_eq!(count(), before);
    }

    #[test]
    fn json_is_the_word() {
        let labels: Vec<Label> = serde_json::from_str(r#"["permanent", "weird flag"]"#).unwrap();
        assert_eq!(labels[0], "permanent");
        assert_eq!(
            serde_json::to_string(&labels).unwrap(),
            r#"["permanent","weird flag"]"#
        );
        assert!(serde_json::from_str::<Label>("7").is_err());
    }

    #[test]
    fn every_known_word_is_listed_once() {
        for (i, word) in KNOWN.iter().enumerate() {
            assert_eq!(KNOWN.iter().position(|k| k == word), Some(i), "{word}");
        }
    }
}
