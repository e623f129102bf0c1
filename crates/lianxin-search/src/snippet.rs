//! Snippets: the stretch of a text where a query's words are densest, with the words
//! marked. Computed on the stored text by plain matching, so a word found through the
//! bigram field is marked as well as one jieba cut the same way.

use serde::Serialize;

/// A piece of a text and where in it the query's words are (character offsets into
/// `text`, end exclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<(usize, usize)>,
}

/// Characters a snippet shows.
const WIDTH: usize = 90;

/// The snippet of `text` for `needles` (longest first).
pub fn snippet(text: &str, needles: &[String]) -> Snippet {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = text.to_lowercase().chars().collect();
    // Lower-casing can change the length of a few characters; then match case-sensitively.
    let hay = if lower.len() == chars.len() { &lower } else { &chars };
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for n in needles {
        let n: Vec<char> = n.to_lowercase().chars().collect();
        if n.is_empty() || n.len() > hay.len() {
            continue;
        }
        let mut i = 0;
        while i + n.len() <= hay.len() {
            if hay[i..i + n.len()] == n[..] {
                let (s, e) = (i, i + n.len());
                if !marks.iter().any(|&(a, b)| s < b && a < e) {
                    marks.push((s, e));
                }
                i += n.len();
            } else {
                i += 1;
            }
        }
    }
    marks.sort_unstable();
    // The window with the most marks (starting a little before a mark).
    let mut start = 0;
    if chars.len() > WIDTH && !marks.is_empty() {
        let mut best = (0usize, 0usize);
        for (k, &(s, _)) in marks.iter().enumerate() {
            let from = s.saturating_sub(12);
            let n = marks[k..].iter().take_while(|&&(_, e)| e <= from + WIDTH).count();
            if n > best.0 {
                best = (n, from);
            }
        }
        start = best.1.min(chars.len() - WIDTH);
    }
    let end = (start + WIDTH).min(chars.len());
    let mut piece: String = chars[start..end].iter().collect();
    let mut offset = 0;
    if start > 0 {
        piece.insert(0, '…');
        offset = 1;
    }
    if end < chars.len() {
        piece.push('…');
    }
    let highlights = marks
        .into_iter()
        .filter(|&(s, e)| s >= start && e <= end)
        .map(|(s, e)| (s - start + offset, e - start + offset))
        .collect();
    Snippet { text: piece, highlights }
}

impl Snippet {
    /// The snippet as HTML with `<mark>` around the words (everything else escaped).
    pub fn to_html(&self) -> String {
        let chars: Vec<char> = self.text.chars().collect();
        let mut out = String::new();
        let mut at = 0;
        let esc = |out: &mut String, cs: &[char]| {
            for c in cs {
                match c {
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '&' => out.push_str("&amp;"),
                    '"' => out.push_str("&quot;"),
                    '\'' => out.push_str("&#39;"),
                    c => out.push(*c),
                }
            }
        };
        for &(s, e) in &self.highlights {
            if s < at || e > chars.len() {
                continue;
            }
            esc(&mut out, &chars[at..s]);
            out.push_str("<mark>");
            esc(&mut out, &chars[s..e]);
            out.push_str("</mark>");
            at = e;
        }
        esc(&mut out, &chars[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_marked_in_the_densest_window() {
        let text = format!("{}小区路灯不亮，路灯杆倒了{}", "前".repeat(200), "后".repeat(200));
        let s = snippet(&text, &["路灯".into()]);
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert_eq!(s.highlights.len(), 2);
        let chars: Vec<char> = s.text.chars().collect();
        for (a, b) in &s.highlights {
            assert_eq!(chars[*a..*b].iter().collect::<String>(), "路灯");
        }
    }

    #[test]
    fn html_escapes_the_text_and_marks_the_words() {
        let s = snippet("<b>路灯</b> & 井盖", &["路灯".into()]);
        assert_eq!(s.to_html(), "&lt;b&gt;<mark>路灯</mark>&lt;/b&gt; &amp; 井盖");
    }
}
