//! Chinese full-text search for Lianxin: jieba words with the hotline's dictionary, a
//! character-bigram field as the safety net, synonyms at query time, and snippets.
//!
//! The crate knows tantivy and the domain's [`Scope`](lianxin_domain::scope::Scope); it
//! reads no database. The server feeds it documents in the database's change order and
//! checks its answers against the database.

pub mod orders;
pub mod query;
pub mod snippet;
pub mod texts;
pub mod tokens;

pub use orders::{
    Filter, Hit, Hits, IndexState, OrderDoc, OrderIndex, Rebuild, SCHEMA_VERSION, SearchError, Similar, Sort,
};
pub use snippet::Snippet;
pub use texts::{TextDoc, TextHit, TextIndex};
pub use tokens::Words;

use std::collections::BTreeMap;

/// Groups of words a search treats as one (摆摊 ≈ 占道经营).
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    group: BTreeMap<String, usize>,
    groups: Vec<Vec<String>>,
}

impl Synonyms {
    /// From groups of words (each group two or more words; a word in two groups joins
    /// them).
    pub fn new<I, G, S>(groups: I) -> Synonyms
    where
        I: IntoIterator<Item = G>,
        G: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut s = Synonyms::default();
        for g in groups {
            let words: Vec<String> =
                g.into_iter().map(|w| w.as_ref().trim().to_lowercase()).filter(|w| !w.is_empty()).collect();
            let existing: Vec<usize> = words.iter().filter_map(|w| s.group.get(w).copied()).collect();
            let id = match existing.first() {
                Some(&id) => id,
                None => {
                    s.groups.push(Vec::new());
                    s.groups.len() - 1
                }
            };
            for other in existing.iter().skip(1) {
                if *other != id {
                    let moved = std::mem::take(&mut s.groups[*other]);
                    for w in moved {
                        s.group.insert(w.clone(), id);
                        if !s.groups[id].contains(&w) {
                            s.groups[id].push(w);
                        }
                    }
                }
            }
            for w in words {
                if !s.groups[id].contains(&w) {
                    s.groups[id].push(w.clone());
                }
                s.group.insert(w, id);
            }
        }
        s
    }

    /// `word` first, then its synonyms.
    pub fn group_of(&self, word: &str) -> Vec<String> {
        let mut out = vec![word.to_owned()];
        if let Some(&id) = self.group.get(word) {
            out.extend(self.groups[id].iter().filter(|w| w.as_str() != word).cloned());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_in_two_groups_joins_them() {
        let s = Synonyms::new([vec!["摆摊", "占道经营"], vec!["小贩", "摆摊"]]);
        let mut g = s.group_of("小贩");
        g.sort();
        assert_eq!(g, vec!["占道经营", "小贩", "摆摊"]);
        assert_eq!(s.group_of("路灯"), vec!["路灯"]);
    }
}
