//! Tokenizers: words by jieba with the hotline's dictionary, and character bigrams as the
//! safety net for words jieba splits differently in a query and in a text.
//!
//! jieba is shared: every tokenizer tantivy clones (one per segment writer, one per query)
//! holds the same [`Words`], so the dictionary is loaded once per process and a word an
//! admin adds is seen by all of them.

use jieba_rs::{Jieba, TokenizeMode};
use std::sync::{Arc, LazyLock, RwLock};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The hotline vocabulary shipped with Lianxin: one word per line, `word [frequency]`.
pub const HOTLINE_DICTIONARY: &str = include_str!("../dict/hotline.txt");

/// jieba's own dictionary plus the shipped hotline words, built once per process.
static BASE: LazyLock<Arc<Jieba>> = LazyLock::new(|| {
    let mut j = Jieba::new();
    for (word, freq) in dictionary_lines(HOTLINE_DICTIONARY) {
        j.add_word(word, freq, None);
    }
    Arc::new(j)
});

/// The `word [frequency]` lines of a dictionary text (`#` starts a comment).
fn dictionary_lines(text: &str) -> impl Iterator<Item = (&str, Option<usize>)> {
    text.lines().filter_map(|l| {
        let l = l.split('#').next().unwrap_or("").trim();
        let mut parts = l.split_whitespace();
        let word = parts.next()?;
        Some((word, parts.next().and_then(|f| f.parse().ok())))
    })
}

/// The segmenter in use: the base dictionary, or a copy with the city's own words added.
#[derive(Clone)]
pub struct Words {
    current: Arc<RwLock<Arc<Jieba>>>,
}

impl Default for Words {
    fn default() -> Self {
        Words::new()
    }
}

impl Words {
    /// jieba with the hotline dictionary.
    pub fn new() -> Words {
        Words { current: Arc::new(RwLock::new(BASE.clone())) }
    }

    /// Replaces the city's own words: the base dictionary plus `words` (which jieba then
    /// keeps whole). An empty list returns to the base.
    pub fn set_city_words<S: AsRef<str>>(&self, words: &[S]) {
        let next = if words.is_empty() {
            BASE.clone()
        } else {
            let mut j = (**BASE).clone();
            for w in words {
                let w = w.as_ref().trim();
                if !w.is_empty() {
                    // A high frequency: the admin said this is one word.
                    j.add_word(w, Some(50_000), None);
                }
            }
            Arc::new(j)
        };
        if let Ok(mut c) = self.current.write() {
            *c = next;
        }
    }

    fn jieba(&self) -> Arc<Jieba> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The words inside a compound `word` (补办身份证 → 补办, 身份证): a text that has them
    /// all, apart, also answers a query for the compound. Empty for a word of one or two
    /// characters or one jieba does not split.
    pub fn parts(&self, word: &str) -> Vec<String> {
        if word.chars().count() < 3 || !word.chars().all(is_han) {
            return Vec::new();
        }
        let jieba = self.jieba();
        let mut out: Vec<String> = Vec::new();
        for t in jieba.cut_for_search(word, false) {
            let w = t.word;
            if w != word && w.chars().count() >= 2 && !out.iter().any(|o| o.contains(w)) {
                out.retain(|o| !w.contains(o.as_str()));
                out.push(w.to_owned());
            }
        }
        out
    }

    /// The words of `text` as a query sees them (jieba's default mode, lower-cased and
    /// stemmed like the index), without punctuation.
    pub fn query_words(&self, text: &str) -> Vec<String> {
        let mut a = word_analyzer(self.clone(), false);
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }
}

/// Whether a character is written in Han script (what bigrams are made of).
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2EBEF)
}

/// Whether a token carries meaning: not only punctuation, symbols or spaces.
fn meaningful(word: &str) -> bool {
    word.chars().any(|c| c.is_alphanumeric())
}

/// Tokenizes into jieba words: in search mode a long word also yields the words inside it
/// (北京大学 → 北京, 大学, 北京大学), so a query for either part finds it.
#[derive(Clone)]
pub struct WordTokenizer {
    words: Words,
    search_mode: bool,
}

pub struct WordStream {
    tokens: Vec<Token>,
    at: usize,
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        if self.at < self.tokens.len() {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        let jieba = self.words.jieba();
        let mode = if self.search_mode { TokenizeMode::Search } else { TokenizeMode::Default };
        let mut tokens = Vec::new();
        for t in jieba.tokenize(text, mode, true) {
            if !meaningful(t.word) {
                continue;
            }
            let position = tokens.len();
            tokens.push(Token {
                offset_from: t.byte_start,
                offset_to: t.byte_start + t.word.len(),
                position,
                text: t.word.to_owned(),
                position_length: 1,
            });
        }
        WordStream { tokens, at: 0 }
    }
}

/// The analyzer of the word field: jieba words, lower-cased, English words stemmed.
pub fn word_analyzer(words: Words, search_mode: bool) -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer { words, search_mode })
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Overlapping pairs of Han characters (路灯不亮 → 路灯, 灯不, 不亮); a run of one Han
/// character yields that character. Runs are separated by two positions, so a phrase never
/// spans punctuation or a Latin word.
#[derive(Clone, Default)]
pub struct BigramTokenizer;

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        WordStream { tokens: bigrams(text), at: 0 }
    }
}

/// The bigram tokens of `text` (see [`BigramTokenizer`]).
pub fn bigrams(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut run: Vec<(usize, char)> = Vec::new();
    let mut position = 0;
    let flush = |run: &mut Vec<(usize, char)>, position: &mut usize, tokens: &mut Vec<Token>| {
        match run.len() {
            0 => return,
            1 => {
                let (b, c) = run[0];
                tokens.push(Token {
                    offset_from: b,
                    offset_to: b + c.len_utf8(),
                    position: *position,
                    text: c.to_string(),
                    position_length: 1,
                });
                *position += 1;
            }
            _ => {
                for w in run.windows(2) {
                    let (b, c) = w[0];
                    let (b2, c2) = w[1];
                    let mut s = String::with_capacity(6);
                    s.push(c);
                    s.push(c2);
                    tokens.push(Token {
                        offset_from: b,
                        offset_to: b2 + c2.len_utf8(),
                        position: *position,
                        text: s,
                        position_length: 1,
                    });
                    *position += 1;
                }
            }
        }
        *position += 2;
        run.clear();
    };
    for (b, c) in text.char_indices() {
        if is_han(c) {
            run.push((b, c));
        } else {
            flush(&mut run, &mut position, &mut tokens);
        }
    }
    flush(&mut run, &mut position, &mut tokens);
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut a = word_analyzer(Words::new(), true);
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }

    #[test]
    fn hotline_words_stay_whole() {
        for (text, word) in [
            ("小区路灯不亮", "路灯"),
            ("门口井盖缺失", "井盖"),
            ("商铺占道经营严重", "占道经营"),
            ("楼上噪音扰民", "噪音扰民"),
            ("老板拖欠工资三个月", "拖欠工资"),
            ("物业费太贵", "物业费"),
            ("社保卡丢了", "社保卡"),
            ("提取公积金", "公积金"),
            ("小区门口违章停车", "违章停车"),
        ] {
            assert!(words(text).iter().any(|w| w == word), "{text}: {:?}", words(text));
        }
    }

    #[test]
    fn a_compound_has_its_parts() {
        assert_eq!(Words::new().parts("补办身份证"), vec!["补办", "身份证"]);
        assert!(Words::new().parts("路灯").is_empty());
    }

    #[test]
    fn english_is_lower_cased_and_stemmed() {
        assert_eq!(words("Road Closures"), vec!["road", "closur"]);
    }

    #[test]
    fn punctuation_is_no_word() {
        assert!(!words("路灯，不亮！").iter().any(|w| w == "，" || w == "！"));
    }

    #[test]
    fn bigrams_pair_han_characters_within_a_run() {
        let t: Vec<String> = bigrams("路灯不亮, 井").into_iter().map(|t| t.text).collect();
        assert_eq!(t, vec!["路灯", "灯不", "不亮", "井"]);
        let p: Vec<usize> = bigrams("路灯不亮, 井").into_iter().map(|t| t.position).collect();
        assert_eq!(p, vec![0, 1, 2, 5]);
    }

    #[test]
    fn a_city_word_is_kept_whole_after_it_is_added() {
        let w = Words::new();
        let before = w.query_words("莲心湾片区积水");
        assert!(!before.iter().any(|x| x == "莲心湾片区"), "{before:?}");
        w.set_city_words(&["莲心湾片区"]);
        assert!(w.query_words("莲心湾片区积水").iter().any(|x| x == "莲心湾片区"));
        w.set_city_words::<&str>(&[]);
        assert!(!w.query_words("莲心湾片区积水").iter().any(|x| x == "莲心湾片区"));
    }
}
