//! The Markdown layout of today's support articles: YAML front matter (`title`, `description`,
//! `ms.date`, `ms.prod`/`ms.service`, ...), a `#` title, `_Applies to:_`-style lines, `##`
//! sections, lists, tables, quotes and code blocks. Read into the same [`Parsed`] parts as
//! the classic layout, so one set of rules reads both.

use super::layout::{flush, Parsed};
use super::{layout_error, ImportError};

/// Section names (upper case) the classic layout also uses; other headings are a guide's own.
const STANDARD_SECTIONS: [&str; 10] = [
    "SYMPTOMS",
    "CAUSE",
    "RESOLUTION",
    "WORKAROUND",
    "STATUS",
    "MORE INFORMATION",
    "REFERENCES",
    "SUMMARY",
    "APPLIES TO",
    "SEE ALSO",
];

/// A text that starts with a `---` front-matter block holding a `title:`.
pub(super) fn has_front_matter(text: &str) -> bool {
    let lines: Vec<&str> = text
        .lines()
        .take(300)
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let (pairs, _) = front_matter(&lines);
    pairs.iter().any(|(k, _)| k == "title")
}

/// A text that starts with front matter or a `#` title reads as Markdown.
pub(super) fn looks_like_markdown(text: &str) -> bool {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_end() == "---" || l.starts_with("# "))
}

pub(super) fn parse_markdown(text: &str, origin: &str) -> Result<Parsed, ImportError> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let (front, body_start) = front_matter(&lines);
    let field = |key: &str| -> String {
        front
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut body = Body::default();
    body.read(&lines[body_start..]);
    let title = if body.heading.is_empty() {
        field("title")
    } else {
        body.heading.clone()
    };
    if title.is_empty() {
        return Err(layout_error(
            origin,
            body_start + 1,
            1,
            "Markdown article without a title (no front-matter 'title:' and no '# ' heading)"
                .into(),
        ));
    }
    let kb_number = body
        .meta("original kb number")
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>();
    let id = if kb_number.len() >= 5 {
        format!("KB{kb_number}")
    } else {
        slug(&title)
    };
    let mut applies = Vec::new();
    for key in ["applies to", "original product version", "product version"] {
        let value = body.meta(key);
        if !value.is_empty() {
            applies.push(value);
        }
    }
    for key in ["appliesto", "ms.prod", "ms.service"] {
        let value = field(key);
        if !value.is_empty() {
            applies.push(value);
        }
    }
    let mut sections = body.sections;
    let description = field("description");
    if !description.is_empty() {
        sections.insert(0, ("DESCRIPTION".into(), inline_text(&description)));
    }
    Ok(Parsed {
        id,
        tag: String::new(),
        title: inline_text(&title),
        product: String::new(),
        prod_ver: applies.join("; "),
        keywords: String::new(),
        issue_type: field("ms.topic"),
        sections,
        markdown: true,
        date: field("ms.date"),
        code: body.code,
    })
}

/// The flat `key: value` pairs of the front matter (a `- item` list under a key is joined with
/// `; `), and the line where the body starts. Anything else in it is passed over.
fn front_matter(lines: &[&str]) -> (Vec<(String, String)>, usize) {
    let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    if lines.get(first).map(|l| l.trim_end()) != Some("---") {
        return (Vec::new(), first);
    }
    let Some(end) = lines[first + 1..]
        .iter()
        .position(|l| l.trim_end() == "---" || l.trim_end() == "...")
        .map(|p| first + 1 + p)
    else {
        return (Vec::new(), first);
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for line in &lines[first + 1..end] {
        let trimmed = line.trim();
        if let Some(item) = trimmed.strip_prefix("- ") {
            if let Some((_, value)) = pairs.last_mut() {
                if !value.is_empty() {
                    value.push_str("; ");
                }
                value.push_str(unquote(item));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) || trimmed.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = trimmed.split_once(':') {
            let key = key.trim();
            if !key.is_empty() && !key.contains(' ') {
                pairs.push((key.to_string(), unquote(value.trim()).to_string()));
            }
        }
    }
    (pairs, end + 1)
}

fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// A stable id for an article without a KB number: its title in lower-case words joined by `-`.
pub(super) fn slug(title: &str) -> String {
    let mut out = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.len() + word.len() > 60 {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    if out.is_empty() {
        "untitled".into()
    } else {
        out
    }
}

/// The body as it is read: the `#` title, `_Key:_ value` lines, sections of paragraphs, and
/// the text of code blocks (kept apart: facts such as event ids, never sentences).
#[derive(Default)]
struct Body {
    heading: String,
    meta: Vec<(String, String)>,
    sections: Vec<(String, String)>,
    code: String,
}

impl Body {
    fn meta(&self, key: &str) -> String {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn read(&mut self, lines: &[&str]) {
        let mut name = "SUMMARY".to_string();
        let mut paras: Vec<String> = Vec::new();
        let mut paragraph = String::new();
        let mut fence: Option<&str> = None;
        for line in lines {
            let trimmed = line.trim();
            if let Some(marker) = fence {
                if trimmed.starts_with(marker) {
                    fence = None;
                } else {
                    self.code.push_str(trimmed);
                    self.code.push('\n');
                }
                continue;
            }
            let unquoted = unquote_block(trimmed);
            if let Some(marker) = ["```", "~~~"]
                .into_iter()
                .find(|m| unquoted.trim_start_matches("- ").starts_with(m))
            {
                flush(&mut paragraph, &mut paras);
                fence = Some(marker);
                continue;
            }
            if let Some(level_text) = heading(unquoted) {
                let (level, text) = level_text;
                flush(&mut paragraph, &mut paras);
                let text = inline_text(text);
                if level == 1 && self.heading.is_empty() {
                    self.heading = text;
                } else if level <= 2 {
                    let done = std::mem::replace(&mut name, text.to_ascii_uppercase());
                    self.push_section(done, std::mem::take(&mut paras));
                    if !STANDARD_SECTIONS.contains(&name.as_str()) {
                        // A guide's own heading says what the section is about.
                        paras.push(text);
                    }
                } else {
                    paras.push(text);
                }
                continue;
            }
            if skipped_line(unquoted) {
                flush(&mut paragraph, &mut paras);
                continue;
            }
            if let Some((key, value)) = meta_line(unquoted) {
                flush(&mut paragraph, &mut paras);
                self.meta.push((key, value));
                continue;
            }
            if unquoted.starts_with('|') {
                flush(&mut paragraph, &mut paras);
                if let Some(row) = table_row(unquoted) {
                    paras.push(row);
                }
                continue;
            }
            if unquoted.is_empty() {
                flush(&mut paragraph, &mut paras);
                continue;
            }
            // List items stand alone, written as the classic layout's bullets.
            if let Some(item) = list_item(unquoted) {
                flush(&mut paragraph, &mut paras);
                paragraph.push_str("- ");
                paragraph.push_str(&inline_text(item));
                continue;
            }
            if !paragraph.is_empty() {
                paragraph.push(' ');
            }
            paragraph.push_str(&inline_text(unquoted));
        }
        flush(&mut paragraph, &mut paras);
        self.push_section(name, paras);
    }

    fn push_section(&mut self, name: String, paras: Vec<String>) {
        let paras: Vec<String> = paras.into_iter().filter(|p| !p.trim().is_empty()).collect();
        if paras.is_empty() {
            return;
        }
        // Repeated headings ("## Option 1", ...) add to one section.
        if let Some((_, body)) = self.sections.iter_mut().find(|(n, _)| *n == name) {
            body.push('\n');
            body.push_str(&paras.join("\n"));
        } else {
            self.sections.push((name, paras.join("\n")));
        }
    }
}

/// `> text` -> `text` (quotes are read as text; nested quotes too).
fn unquote_block(line: &str) -> &str {
    let mut rest = line;
    while let Some(inner) = rest.strip_prefix('>') {
        rest = inner.trim_start();
    }
    rest
}

/// `## Cause` -> (2, "Cause").
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    rest.starts_with(' ')
        .then(|| (level, rest.trim().trim_end_matches('#').trim()))
}

/// Callouts, includes and images carry no prose of the article.
fn skipped_line(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.starts_with("[!note]")
        || lower.starts_with("[!important]")
        || lower.starts_with("[!caution]")
        || lower.starts_with("[!warning]")
        || lower.starts_with("[!tip]")
        || lower.starts_with("[!include")
        || lower.starts_with(":::")
        || lower.starts_with("![")
        || lower.starts_with("<!--")
        || (lower.starts_with('<') && lower.ends_with('>') && !lower.contains(' '))
}

/// `_Applies to:_ &nbsp; Windows Server 2012 R2` -> ("applies to", "Windows Server 2012 R2").
fn meta_line(line: &str) -> Option<(String, String)> {
    let text = inline_text(line);
    let (key, value) = text.split_once(':')?;
    let key = key.trim().to_ascii_lowercase();
    let known = [
        "applies to",
        "original kb number",
        "original product version",
        "product version",
    ];
    let marked = line.starts_with('_') || line.starts_with('*');
    (marked && known.contains(&key.as_str())).then(|| (key, value.trim().to_string()))
}

/// `| a | b |` -> `a; b`; the `|---|` rule -> nothing.
fn table_row(line: &str) -> Option<String> {
    let cells: Vec<String> = line
        .trim_matches('|')
        .split('|')
        .map(|c| inline_text(c.trim()))
        .collect();
    if cells
        .iter()
        .all(|c| c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
    {
        return None;
    }
    Some(cells.join("; "))
}

/// `- item`, `* item`, `+ item`, `1. item` -> `item`.
fn list_item(line: &str) -> Option<&str> {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return Some(rest);
        }
    }
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    if (1..=3).contains(&digits) {
        let rest = &line[digits..];
        if let Some(item) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(item);
        }
    }
    None
}

/// Markdown inline markup -> its text: links keep their text and lose the address, images,
/// bare addresses and HTML tags go, emphasis and code marks go, entities become characters.
pub(super) fn inline_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '!' if chars.get(i + 1) == Some(&'[') => {
                // An image: drop the alt text and the address.
                i = link_at(&chars, i + 1).map_or(i + 1, |(_, next)| next);
            }
            '[' => match link_at(&chars, i) {
                Some((text, next)) => {
                    out.push_str(&inline_text(&text));
                    i = next;
                }
                None => {
                    out.push('[');
                    i += 1;
                }
            },
            '<' => {
                let close = chars[i..].iter().position(|c| *c == '>').map(|p| i + p);
                match close {
                    Some(end) if is_tag(&chars[i + 1..end]) => {
                        out.push(' ');
                        i = end + 1;
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            '*' | '`' => i += 1,
            '_' => {
                // Emphasis marks sit at word edges; `ASP_PERFMON` keeps its underscore.
                let before = i.checked_sub(1).and_then(|p| chars.get(p));
                let after = chars.get(i + 1);
                let inner = before.is_some_and(|b| b.is_alphanumeric())
                    && after.is_some_and(|a| a.is_alphanumeric());
                if inner {
                    out.push('_');
                }
                i += 1;
            }
            '&' => {
                let entity: String = chars[i..].iter().take(8).collect();
                let known = [
                    ("&nbsp;", ' '),
                    ("&amp;", '&'),
                    ("&lt;", '<'),
                    ("&gt;", '>'),
                    ("&quot;", '"'),
                    ("&#39;", '\''),
                ];
                match known.iter().find(|(e, _)| entity.starts_with(e)) {
                    Some((e, ch)) => {
                        out.push(*ch);
                        i += e.len();
                    }
                    None => {
                        out.push('&');
                        i += 1;
                    }
                }
            }
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            'h' if starts_with_url(&chars[i..]) => {
                while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ')' {
                    i += 1;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn starts_with_url(chars: &[char]) -> bool {
    let head: String = chars.iter().take(8).collect();
    head.starts_with("http://") || head.starts_with("https://")
}

/// `<br>`, `</sup>`, `<https://...>`: markup, not text.
fn is_tag(inner: &[char]) -> bool {
    let text: String = inner.iter().collect();
    let name = text.trim_start_matches('/');
    starts_with_url(inner)
        || (!name.is_empty()
            && name.len() <= 40
            && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '/' | '=' | '"' | '-'))
            && [
                "br", "sup", "sub", "b", "i", "p", "a ", "div", "span", "img", "kbd",
            ]
            .iter()
            .any(|t| name.to_ascii_lowercase().starts_with(t)))
}

/// At a `[`: the link text and the index after `[text](address)` or `[text][ref]`; None when
/// the bracket is not a link.
fn link_at(chars: &[char], open: usize) -> Option<(String, usize)> {
    let mut depth = 0;
    let mut close = None;
    for (j, c) in chars.iter().enumerate().skip(open) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let text: String = chars[open + 1..close].iter().collect();
    let after = close + 1;
    let target_end = match chars.get(after) {
        Some('(') => matching(chars, after, '(', ')'),
        Some('[') => matching(chars, after, '[', ']'),
        _ => None,
    };
    // `[text]` alone is text: the caller reads on from the `[`.
    target_end.map(|end| (text, end + 1))
}

fn matching(chars: &[char], open: usize, left: char, right: char) -> Option<usize> {
    let mut depth = 0;
    for (j, c) in chars.iter().enumerate().skip(open) {
        if *c == left {
            depth += 1;
        } else if *c == right {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_text_and_lose_addresses() {
        assert_eq!(
            inline_text("see [KB 322756](https://support.microsoft.com/help/322756) now"),
            "see KB 322756 now"
        );
        assert_eq!(
            inline_text("**Private Bytes** of `w3wp.exe` and _ASP_PERFMON_ <br/> x"),
            "Private Bytes of w3wp.exe and ASP_PERFMON x"
        );
        assert_eq!(
            inline_text("a ![shot](media/a.png) b <https://aka.ms/x> c &nbsp; d"),
            "a b c d"
        );
        assert_eq!(
            inline_text("[a [nested] link](x(y)) [plain]"),
            "a [nested] link [plain]"
        );
    }

    #[test]
    fn front_matter_reads_flat_keys_and_lists() {
        let lines = [
            "---",
            "title: \"A: title\"",
            "ms.date: 01/02/2024",
            "appliesto:",
            "- Exchange Server 2010 Standard",
            "  - Exchange Server 2010 Enterprise",
            "nested:",
            "  key: ignored",
            "---",
            "# Body",
        ];
        let (pairs, start) = front_matter(&lines);
        assert_eq!(start, 9);
        assert_eq!(pairs[0], ("title".into(), "A: title".into()));
        assert_eq!(
            pairs[2].1,
            "Exchange Server 2010 Standard; Exchange Server 2010 Enterprise"
        );
    }

    #[test]
    fn sections_tables_and_code_are_read_apart() {
        let text = "---\ntitle: t\n---\n# The title\n\n_Original KB number:_ &nbsp; 123456\n\n\
                    ## Symptoms\n\nMemory grows.\nStill the same paragraph.\n\n- item one\n\n\
                    | A | B |\n|---|---|\n| w3wp | 5 |\n\n```output\nEvent ID: 2020\n```\n\n\
                    ## Cause\n\n> A quoted cause.\n";
        let parsed = parse_markdown(text, "t.md").expect("markdown");
        assert_eq!(parsed.id, "KB123456");
        assert_eq!(parsed.title, "The title");
        assert_eq!(
            parsed.section("SYMPTOMS"),
            "Memory grows. Still the same paragraph.\n- item one\nA; B\nw3wp; 5"
        );
        assert_eq!(parsed.section("CAUSE"), "A quoted cause.");
        assert_eq!(parsed.code, "Event ID: 2020\n");
    }
}
