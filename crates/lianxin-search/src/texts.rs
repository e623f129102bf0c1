//! A small index in memory for the texts an operator reads at intake: knowledge-base
//! articles, intake templates, referral entries and announcements. They number in the
//! thousands, so the server rebuilds it from the database whenever they change.

use crate::orders::SearchError;
use crate::query;
use crate::snippet::{Snippet, snippet};
use crate::tokens::{BigramTokenizer, Words, word_analyzer};
use std::sync::Mutex;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TantivyDocument, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

/// One text.
#[derive(Debug, Clone, Default)]
pub struct TextDoc {
    /// `kb`, `template`, `referral`, `announcement`.
    pub kind: String,
    pub id: String,
    pub title: String,
    pub body: String,
    /// Category codes (their groups are indexed too).
    pub categories: Vec<String>,
    /// Tags and keywords: matched like the title.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TextHit {
    pub id: String,
    pub title: String,
    pub score: f32,
    pub snippet: Snippet,
}

#[derive(Clone, Copy)]
struct Fields {
    kind: Field,
    id: Field,
    title: Field,
    title_bigrams: Field,
    body: Field,
    /// Title, tags and body together: what a text must match.
    all: Field,
    all_bigrams: Field,
    category: Field,
}

pub struct TextIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    words: Words,
}

const WORDS: &str = "lx_words";
const BIGRAMS: &str = "lx_bigrams";

impl TextIndex {
    pub fn new(words: Words) -> Result<TextIndex, SearchError> {
        let mut b = Schema::builder();
        let w = |stored: bool| {
            let o = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default().set_tokenizer(WORDS).set_index_option(IndexRecordOption::WithFreqs),
            );
            if stored { o.set_stored() } else { o }
        };
        let bi = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(BIGRAMS)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields = Fields {
            kind: b.add_text_field("kind", STRING),
            id: b.add_text_field("id", STRING | STORED),
            title: b.add_text_field("title", w(true)),
            title_bigrams: b.add_text_field("title_bigrams", bi.clone()),
            body: b.add_text_field("body", TextOptions::default().set_stored()),
            all: b.add_text_field("all", w(false)),
            all_bigrams: b.add_text_field("all_bigrams", bi),
            category: b.add_text_field("category", STRING),
        };
        let index = Index::create_in_ram(b.build());
        index.tokenizers().register(WORDS, word_analyzer(words.clone(), true));
        index.tokenizers().register(BIGRAMS, BigramTokenizer);
        let writer = index.writer_with_num_threads(1, 15_000_000)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(TextIndex { reader, writer: Mutex::new(writer), fields, words })
    }

    /// Replaces every text of `kind` with `docs`.
    pub fn replace(&self, kind: &str, docs: &[TextDoc]) -> Result<(), SearchError> {
        let f = self.fields;
        let mut w = match self.writer.lock() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        w.delete_term(Term::from_field_text(f.kind, kind));
        for d in docs {
            let mut doc = TantivyDocument::default();
            doc.add_text(f.kind, kind);
            doc.add_text(f.id, &d.id);
            let title = if d.tags.is_empty() { d.title.clone() } else { format!("{} {}", d.title, d.tags.join(" ")) };
            doc.add_text(f.title, &title);
            doc.add_text(f.title_bigrams, &title);
            doc.add_text(f.body, &d.body);
            let all = format!("{title}\n{}", d.body);
            doc.add_text(f.all, &all);
            doc.add_text(f.all_bigrams, &all);
            for c in &d.categories {
                let mut cat = c.as_str();
                doc.add_text(f.category, cat);
                while let Some((parent, _)) = cat.rsplit_once('.') {
                    doc.add_text(f.category, parent);
                    cat = parent;
                }
            }
            w.add_document(doc)?;
        }
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// Texts of `kind` matching `text`: with `all` every word must match (a search box),
    /// else any word may (what a caller is saying). `category` ranks texts of the caller's
    /// category first.
    pub fn search(
        &self,
        kind: &str,
        text: &str,
        all: bool,
        synonyms: &crate::Synonyms,
        category: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TextHit>, SearchError> {
        let f = self.fields;
        let mut words = self.words.query_words(text);
        if !all {
            words = query::content_words(&words);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            Box::new(TermQuery::new(Term::from_field_text(f.kind, kind), IndexRecordOption::Basic)),
        )];
        let mut needles = query::Needles::default();
        if !words.is_empty() {
            let (matching, n) = if all {
                match query::all_words(&words, synonyms, &self.words, f.all, f.all_bigrams) {
                    (Some(q), n) => (q, n),
                    (None, n) => (Box::new(BooleanQuery::new(vec![])) as Box<dyn Query>, n),
                }
            } else {
                query::any_words(&words, synonyms, &self.words, f.all, f.all_bigrams)
            };
            // A word in the title counts three times more.
            let (in_title, _) = query::any_words(&words, synonyms, &self.words, f.title, f.title_bigrams);
            needles = n;
            clauses.push((Occur::Must, matching));
            clauses.push((Occur::Should, Box::new(BoostQuery::new(in_title, 3.0))));
        } else if category.is_none() {
            return Ok(Vec::new());
        }
        if let Some(c) = category {
            let q: Box<dyn Query> =
                Box::new(TermQuery::new(Term::from_field_text(f.category, c), IndexRecordOption::Basic));
            let occur = if words.is_empty() { Occur::Must } else { Occur::Should };
            clauses.push((occur, Box::new(BoostQuery::new(q, 2.0))));
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        let flat = needles.flat();
        let mut out = Vec::new();
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let get = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            let body = get(f.body);
            out.push(TextHit { id: get(f.id), title: get(f.title), score, snippet: snippet(&body, &flat) });
        }
        Ok(out)
    }
}
