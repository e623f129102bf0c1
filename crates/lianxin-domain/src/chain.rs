//! The tamper-evident hash chain over each order's events.
//!
//! `hash(n) = SHA-256(hash(n-1) ‖ fields of event n)`, starting from [`GENESIS`]. The hash
//! covers the stored text of every column, so editing any column of any event, deleting an
//! event or swapping two breaks the chain from that point on.

use sha2::{Digest, Sha256};

/// The `prev_hash` of an order's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The stored form of an event, exactly as the hash covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub order: String,
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub unit: Option<String>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub comment: Option<String>,
    /// The JSON text of the [`crate::Change`].
    pub payload: String,
    pub prev_hash: String,
}

/// Computes an event's hash from its stored fields and its predecessor's hash.
pub fn hash(rec: &EventRecord) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        // Length-prefixing keeps field boundaries unambiguous.
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    field(&rec.prev_hash);
    field(&rec.order);
    field(&rec.seq.to_string());
    field(&rec.at.to_string());
    field(&rec.actor);
    field(rec.unit.as_deref().unwrap_or("\u{0}"));
    field(&rec.action);
    field(rec.from_status.as_deref().unwrap_or("\u{0}"));
    field(&rec.to_status);
    field(rec.comment.as_deref().unwrap_or("\u{0}"));
    field(&rec.payload);
    hex::encode(h.finalize())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rec() -> EventRecord {
        EventRecord {
            order: "2026112400001".into(),
            seq: 1,
            at: 1,
            actor: "operator".into(),
            unit: None,
            action: "register".into(),
            from_status: None,
            to_status: "registered".into(),
            comment: None,
            payload: "{}".into(),
            prev_hash: GENESIS.into(),
        }
    }

    #[test]
    fn any_field_change_changes_the_hash() {
        let base = hash(&rec());
        let mut r = rec();
        r.comment = Some(String::new());
        assert_ne!(hash(&r), base, "None and empty comment differ");
        let mut r = rec();
        r.actor = "operator2".into();
        assert_ne!(hash(&r), base);
        let mut r = rec();
        r.seq = 2;
        assert_ne!(hash(&r), base);
        assert_eq!(hash(&rec()), base);
    }
}
