//! From a query's words to a tantivy query. A word matches a text when the text has the
//! word (as jieba cut it), a synonym of it, or its characters in a row (the bigram field):
//! so 「小区路灯」 and 「路灯」 find each other however jieba cut either.

use crate::Synonyms;
use crate::tokens::{Words, is_han};
use tantivy::Term;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

/// The words a snippet marks: one group per query word (the word and its synonyms).
#[derive(Debug, Clone, Default)]
pub struct Needles {
    pub groups: Vec<Vec<String>>,
    /// The words inside compounds (marked too, not counted as shared words).
    pub parts: Vec<String>,
}

impl Needles {
    pub fn flat(&self) -> Vec<String> {
        let mut v: Vec<String> = self.groups.iter().flatten().chain(self.parts.iter()).cloned().collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
        v.dedup();
        v
    }
}

/// Words too common in callers' speech to say anything about a matter.
const STOP: &[&str] = &[
    "我", "你", "他", "她", "我们", "你们", "他们", "的", "了", "是", "在", "有", "和", "就", "都", "也", "很", "还",
    "把", "被", "给", "对", "让", "这", "那", "这个", "那个", "一个", "没有", "什么", "怎么", "已经", "可以", "希望",
    "请", "请问", "问题", "反映", "情况", "现在", "一直", "麻烦", "谢谢", "你好", "不", "吗", "呢", "啊", "吧", "要",
    "能", "会", "说", "到", "去", "来", "上", "下", "里", "又", "再", "因为", "所以", "但是", "而且", "还是", "或者",
    "如果", "the", "a", "an", "and", "or", "of", "to", "in", "on", "is", "are", "my", "i", "it", "for", "with", "at",
];

/// The words of a caller's text worth matching on (no stop words, no single characters
/// unless they are all there is), each once.
pub fn content_words(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words {
        if STOP.contains(&w.as_str()) || (w.chars().count() < 2 && w.chars().all(is_han)) {
            continue;
        }
        if !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}

/// The clause "this word, a synonym, its characters in a row, or (a compound) all the
/// words inside it".
fn word_clause(alts: &[String], words: &Words, text: Field, bigrams: Field) -> Box<dyn Query> {
    let mut any = term_clauses(alts, text, bigrams);
    if let Some(first) = alts.first() {
        let parts = words.parts(first);
        if parts.len() >= 2 {
            let all: Vec<(Occur, Box<dyn Query>)> = parts
                .iter()
                .map(|p| {
                    (
                        Occur::Must,
                        Box::new(BooleanQuery::new(term_clauses(std::slice::from_ref(p), text, bigrams)))
                            as Box<dyn Query>,
                    )
                })
                .collect();
            any.push((Occur::Should, Box::new(BooleanQuery::new(all))));
        }
    }
    Box::new(BooleanQuery::new(any))
}

fn term_clauses(alts: &[String], text: Field, bigrams: Field) -> Vec<(Occur, Box<dyn Query>)> {
    let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for a in alts {
        any.push((
            Occur::Should,
            Box::new(TermQuery::new(Term::from_field_text(text, a), IndexRecordOption::WithFreqs)),
        ));
        let chars: Vec<char> = a.chars().collect();
        if chars.len() >= 2 && chars.iter().all(|c| is_han(*c)) {
            let terms: Vec<Term> =
                chars.windows(2).map(|w| Term::from_field_text(bigrams, &w.iter().collect::<String>())).collect();
            if terms.len() == 1 {
                any.extend(terms.into_iter().map(|t| {
                    (Occur::Should, Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Box<dyn Query>)
                }));
            } else {
                any.push((Occur::Should, Box::new(PhraseQuery::new(terms))));
            }
        }
    }
    any
}

fn groups(words: &[String], synonyms: &Synonyms) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for w in words {
        if out.iter().any(|g| g.contains(w)) {
            continue;
        }
        out.push(synonyms.group_of(w));
    }
    out
}

/// Every word must match (single characters only add to the score, unless the query has
/// nothing else). `None` when the query has no word at all.
pub fn all_words(
    words: &[String],
    synonyms: &Synonyms,
    segmenter: &Words,
    text: Field,
    bigrams: Field,
) -> (Option<Box<dyn Query>>, Needles) {
    let groups = groups(words, synonyms);
    if groups.is_empty() {
        return (None, Needles::default());
    }
    let single = |g: &Vec<String>| g.len() == 1 && g[0].chars().count() == 1 && g[0].chars().all(is_han);
    let only_singles = groups.iter().all(single);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for g in &groups {
        let occur = if single(g) && !only_singles { Occur::Should } else { Occur::Must };
        clauses.push((occur, word_clause(g, segmenter, text, bigrams)));
    }
    let parts = groups.iter().map(|g| segmenter.parts(&g[0])).filter(|p| p.len() >= 2).flatten().collect();
    (Some(Box::new(BooleanQuery::new(clauses))), Needles { groups, parts })
}

/// Any word may match; more words matched rank higher.
pub fn any_words(
    words: &[String],
    synonyms: &Synonyms,
    segmenter: &Words,
    text: Field,
    bigrams: Field,
) -> (Box<dyn Query>, Needles) {
    let groups = groups(words, synonyms);
    let clauses = groups.iter().map(|g| (Occur::Should, word_clause(g, segmenter, text, bigrams))).collect();
    let parts = groups.iter().map(|g| segmenter.parts(&g[0])).filter(|p| p.len() >= 2).flatten().collect();
    (Box::new(BooleanQuery::new(clauses)), Needles { groups, parts })
}
