//! The order index: one tantivy document per work order, following the database's change
//! sequence. The database stays the source of truth: the index remembers (in its commit
//! payload) which database it was built from and up to which change, and is rebuilt when it
//! is missing, from another database, from an older schema or built with other words.

use crate::query::{self, Needles};
use crate::snippet::{Snippet, snippet};
use crate::tokens::{BigramTokenizer, Words, word_analyzer};
use lianxin_domain::scope::Scope;
use serde::{Deserialize, Serialize};
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TantivyDocument, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order as SortOrder, ReloadPolicy, Term};

/// Bumped whenever the schema or what a document holds changes: an index of another
/// version is rebuilt.
pub const SCHEMA_VERSION: u32 = 1;

const WORDS: &str = "lx_words";
const BIGRAMS: &str = "lx_bigrams";

/// Memory the index writer may fill before it writes a segment.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Directory(String),
}

/// What an order contributes to the index.
#[derive(Debug, Clone, Default)]
pub struct OrderDoc {
    pub number: String,
    /// Title, content, address and the unit's reply: what a search matches and a snippet
    /// shows.
    pub text: String,
    pub status: String,
    /// The leaf category code; its groups (every prefix before a `.`) are indexed too.
    pub category: String,
    pub request_type: String,
    pub channel: String,
    pub street: Option<String>,
    pub district: Option<String>,
    pub lead_unit: Option<String>,
    /// Lead and assisting units.
    pub units: Vec<String>,
    pub confidential: bool,
    pub created_at: i64,
}

/// Where the index stands: which database, up to which change, built with which words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexState {
    pub schema: u32,
    /// The database's identity (`meta.instance_id`).
    pub db: String,
    /// Every change up to this one is in the index.
    pub seq: i64,
    /// A fingerprint of the city's own dictionary words the text was segmented with.
    pub words: String,
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
}

/// The filters of the order list, in the index's terms.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<String>,
    pub categories: Vec<String>,
    /// Lead or assisting unit.
    pub unit: Option<String>,
    /// Lead unit.
    pub lead_unit: Option<String>,
    pub street: Option<String>,
    pub district: Option<String>,
    pub request_type: Option<String>,
    pub channel: Option<String>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub hide_confidential: bool,
}

/// One found order.
#[derive(Debug, Clone)]
pub struct Hit {
    pub number: String,
    pub score: f32,
    pub snippet: Snippet,
}

#[derive(Debug, Clone, Default)]
pub struct Hits {
    /// How many orders match (within scope and filters).
    pub total: usize,
    pub hits: Vec<Hit>,
}

#[derive(Clone, Copy)]
struct Fields {
    number: Field,
    text: Field,
    bigrams: Field,
    status: Field,
    category: Field,
    request_type: Field,
    channel: Field,
    street: Field,
    district: Field,
    lead: Field,
    units: Field,
    confidential: Field,
    created_at: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(WORDS).set_index_option(IndexRecordOption::WithFreqs),
        )
        .set_stored();
    let bigrams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(BIGRAMS).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let f = Fields {
        number: b.add_text_field("number", STRING | STORED),
        text: b.add_text_field("text", words),
        bigrams: b.add_text_field("bigrams", bigrams),
        status: b.add_text_field("status", STRING),
        category: b.add_text_field("category", STRING),
        request_type: b.add_text_field("request_type", STRING),
        channel: b.add_text_field("channel", STRING),
        street: b.add_text_field("street", STRING),
        district: b.add_text_field("district", STRING),
        lead: b.add_text_field("lead", STRING),
        units: b.add_text_field("units", STRING),
        confidential: b.add_text_field("confidential", STRING),
        created_at: b.add_i64_field("created_at", INDEXED | FAST),
    };
    (b.build(), f)
}

/// The order index of one server.
pub struct OrderIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    words: Words,
}

impl OrderIndex {
    /// Opens the index in `dir` (created when missing; recreated when it is of another
    /// schema version or unreadable), or an index in memory when `dir` is `None`.
    pub fn open(dir: Option<&Path>, words: Words) -> Result<OrderIndex, SearchError> {
        let (schema, fields) = schema();
        let index = match dir {
            None => Index::create_in_ram(schema),
            Some(dir) => open_dir(dir, schema)?,
        };
        index.tokenizers().register(WORDS, word_analyzer(words.clone(), true));
        index.tokenizers().register(BIGRAMS, BigramTokenizer);
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(OrderIndex { index, reader, writer: Mutex::new(writer), fields, words })
    }

    /// The segmenter this index tokenizes with.
    pub fn words(&self) -> &Words {
        &self.words
    }

    /// Where the last commit left the index; `None` for a new (or foreign) index.
    pub fn state(&self) -> Option<IndexState> {
        let metas = self.index.load_metas().ok()?;
        let state: IndexState = serde_json::from_str(metas.payload.as_deref()?).ok()?;
        (state.schema == SCHEMA_VERSION).then_some(state)
    }

    /// How many orders the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many segments a search visits (background merges make them fewer).
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Closes the index once its background merges have finished and been committed (a
    /// dropped index abandons the merges in progress).
    pub fn close(self) -> Result<(), SearchError> {
        let OrderIndex { writer, .. } = self;
        let w = match writer.into_inner() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        w.wait_merging_threads()?;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        match self.writer.lock() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        }
    }

    /// Replaces the documents of `docs`' orders and commits, recording `state`; the new
    /// documents are searchable when this returns.
    pub fn apply(&self, docs: &[OrderDoc], state: &IndexState) -> Result<(), SearchError> {
        let mut w = self.lock();
        for d in docs {
            w.delete_term(Term::from_field_text(self.fields.number, &d.number));
            w.add_document(self.document(d))?;
        }
        commit(&mut w, state)?;
        drop(w);
        self.reader.reload()?;
        Ok(())
    }

    /// Starts a rebuild: until [`Rebuild::finish`] searches see the index as it was.
    pub fn rebuild(&self) -> Result<Rebuild<'_>, SearchError> {
        let w = self.lock();
        w.delete_all_documents()?;
        Ok(Rebuild { index: self, writer: Some(w), added: 0 })
    }

    fn document(&self, d: &OrderDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.number, &d.number);
        doc.add_text(f.text, &d.text);
        doc.add_text(f.bigrams, &d.text);
        doc.add_text(f.status, &d.status);
        let mut cat = d.category.as_str();
        doc.add_text(f.category, cat);
        while let Some((parent, _)) = cat.rsplit_once('.') {
            doc.add_text(f.category, parent);
            cat = parent;
        }
        doc.add_text(f.request_type, &d.request_type);
        doc.add_text(f.channel, &d.channel);
        if let Some(s) = &d.street {
            doc.add_text(f.street, s);
        }
        if let Some(s) = &d.district {
            doc.add_text(f.district, s);
        }
        if let Some(u) = &d.lead_unit {
            doc.add_text(f.lead, u);
        }
        for u in &d.units {
            doc.add_text(f.units, u);
        }
        doc.add_text(f.confidential, if d.confidential { "1" } else { "0" });
        doc.add_i64(f.created_at, d.created_at);
        doc
    }

    /// The query's filter clauses: the scope and the list's filters.
    fn filter_clauses(&self, scope: &Scope, filter: &Filter) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let term = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic))
        };
        let set = |field: Field, vs: &mut dyn Iterator<Item = &str>| -> Box<dyn Query> {
            Box::new(TermSetQuery::new(vs.map(|v| Term::from_field_text(field, v)).collect::<Vec<_>>()))
        };
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Scope::Limited { units, district } = scope {
            // The store's translation of the same scope: led or assisted by one of the
            // units, or (a district government) located in its district.
            let mut any: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Should, set(f.units, &mut units.iter().map(|u| u.as_str())))];
            if let Some(d) = district {
                any.push((Occur::Should, term(f.district, d.as_str())));
            }
            out.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if !filter.statuses.is_empty() {
            out.push((Occur::Must, set(f.status, &mut filter.statuses.iter().map(String::as_str))));
        }
        if !filter.categories.is_empty() {
            out.push((Occur::Must, set(f.category, &mut filter.categories.iter().map(String::as_str))));
        }
        for (field, v) in [
            (f.units, &filter.unit),
            (f.lead, &filter.lead_unit),
            (f.street, &filter.street),
            (f.district, &filter.district),
            (f.request_type, &filter.request_type),
            (f.channel, &filter.channel),
        ] {
            if let Some(v) = v {
                out.push((Occur::Must, term(field, v)));
            }
        }
        if filter.hide_confidential {
            out.push((Occur::Must, term(f.confidential, "0")));
        }
        if filter.created_from.is_some() || filter.created_to.is_some() {
            let lo = filter
                .created_from
                .map_or(Bound::Unbounded, |t| Bound::Included(Term::from_field_i64(f.created_at, t)));
            let hi =
                filter.created_to.map_or(Bound::Unbounded, |t| Bound::Excluded(Term::from_field_i64(f.created_at, t)));
            out.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    /// Orders matching every word of `text` (each word, a synonym of it, or its characters
    /// in a row), within `scope` and `filter`, `limit` from `offset`.
    pub fn search(
        &self,
        text: &str,
        synonyms: &crate::Synonyms,
        scope: &Scope,
        filter: &Filter,
        sort: Sort,
        offset: usize,
        limit: usize,
    ) -> Result<Hits, SearchError> {
        let words = self.words.query_words(text);
        let (matching, needles) =
            query::all_words(&words, synonyms, &self.words, self.fields.text, self.fields.bigrams);
        let Some(matching) = matching else { return Ok(Hits::default()) };
        let mut clauses = self.filter_clauses(scope, filter);
        clauses.push((Occur::Must, matching));
        let q = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let limit = limit.max(1);
        let (total, addrs): (usize, Vec<(f32, DocAddress)>) = match sort {
            Sort::Relevance => {
                searcher.search(&q, &(Count, TopDocs::with_limit(limit).and_offset(offset).order_by_score()))?
            }
            Sort::Newest => {
                let (n, top) = searcher.search(
                    &q,
                    &(
                        Count,
                        TopDocs::with_limit(limit)
                            .and_offset(offset)
                            .order_by_fast_field::<i64>("created_at", SortOrder::Desc),
                    ),
                )?;
                (n, top.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        };
        let hits = self.hits(&searcher, addrs, &needles)?;
        Ok(Hits { total, hits })
    }

    /// Orders like `text`: any of its words, ranked by how many they share (the caller
    /// weighs place and category).
    pub fn similar(
        &self,
        text: &str,
        synonyms: &crate::Synonyms,
        scope: &Scope,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<Similar>, SearchError> {
        let words = query::content_words(&self.words.query_words(text));
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let (matching, needles) =
            query::any_words(&words, synonyms, &self.words, self.fields.text, self.fields.bigrams);
        let mut clauses = self.filter_clauses(scope, filter);
        clauses.push((Occur::Must, matching));
        let q = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher.search(&q, &TopDocs::with_limit(limit.max(1) * 4).order_by_score())?;
        let mut out = Vec::new();
        for (_, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let number = doc.get_first(self.fields.number).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            let stored = doc.get_first(self.fields.text).and_then(|v| v.as_str()).unwrap_or("");
            let shared: Vec<String> = needles
                .groups
                .iter()
                .filter(|g| g.iter().any(|n| stored.contains(n.as_str())))
                .map(|g| g[0].clone())
                .collect();
            out.push(Similar {
                number,
                shared_words: shared,
                snippet: snippet(stored, &needles.flat()),
                of: needles.groups.len(),
            });
        }
        Ok(out)
    }

    fn hits(
        &self,
        searcher: &tantivy::Searcher,
        addrs: Vec<(f32, DocAddress)>,
        needles: &Needles,
    ) -> Result<Vec<Hit>, SearchError> {
        let flat = needles.flat();
        let mut hits = Vec::with_capacity(addrs.len());
        for (score, addr) in addrs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let number = doc.get_first(self.fields.number).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            let text = doc.get_first(self.fields.text).and_then(|v| v.as_str()).unwrap_or("");
            hits.push(Hit { number, score, snippet: snippet(text, &flat) });
        }
        Ok(hits)
    }
}

/// An open order like the caller's words, before the caller of [`OrderIndex::similar`]
/// weighs place and category.
#[derive(Debug, Clone)]
pub struct Similar {
    pub number: String,
    /// The query's words (the first of each synonym group) found in the order.
    pub shared_words: Vec<String>,
    /// How many distinct words the query had.
    pub of: usize,
    pub snippet: Snippet,
}

fn commit(w: &mut IndexWriter, state: &IndexState) -> Result<(), SearchError> {
    let payload = serde_json::to_string(state).map_err(|e| SearchError::Directory(e.to_string()))?;
    let mut c = w.prepare_commit()?;
    c.set_payload(&payload);
    c.commit()?;
    Ok(())
}

/// A rebuild in progress (holds the index writer).
pub struct Rebuild<'a> {
    index: &'a OrderIndex,
    writer: Option<std::sync::MutexGuard<'a, IndexWriter>>,
    added: u64,
}

impl Rebuild<'_> {
    pub fn add(&mut self, docs: &[OrderDoc]) -> Result<(), SearchError> {
        if let Some(w) = &self.writer {
            for d in docs {
                w.add_document(self.index.document(d))?;
            }
            self.added += docs.len() as u64;
        }
        Ok(())
    }

    /// Commits the rebuilt index at `state`; returns how many orders it holds.
    pub fn finish(mut self, state: &IndexState) -> Result<u64, SearchError> {
        if let Some(mut w) = self.writer.take() {
            commit(&mut w, state)?;
        }
        self.index.reader.reload()?;
        Ok(self.added)
    }
}

impl Drop for Rebuild<'_> {
    fn drop(&mut self) {
        // Abandoned: the deletions and additions are rolled back.
        if let Some(mut w) = self.writer.take() {
            let _ = w.rollback();
        }
    }
}

/// Opens the index in `dir`, or makes a new one there when there is none or it cannot be
/// read with this schema (an older version: rebuilt from the database).
fn open_dir(dir: &Path, schema: Schema) -> Result<Index, SearchError> {
    std::fs::create_dir_all(dir).map_err(|e| SearchError::Directory(format!("{}: {e}", dir.display())))?;
    if let Ok(index) = Index::open_in_dir(dir)
        && index.schema() == schema
    {
        return Ok(index);
    }
    // Not ours (or of another schema): start again in an empty directory.
    for entry in std::fs::read_dir(dir).map_err(|e| SearchError::Directory(format!("{}: {e}", dir.display())))? {
        let p = entry.map_err(|e| SearchError::Directory(e.to_string()))?.path();
        let r = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        r.map_err(|e| SearchError::Directory(format!("{}: {e}", p.display())))?;
    }
    Ok(Index::create_in_dir(dir, schema)?)
}
