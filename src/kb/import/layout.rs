//! The classic plain-text layout of a KB article: the `DOCUMENT:` line, header fields,
//! `=`-underlined sections, the keyword footer; and its prose cut into sentences.

use super::{layout_error, ImportError};

/// The parts of an article the extraction reads.
pub(super) struct Parsed {
    pub(super) id: String,
    /// Product tag from the DOCUMENT line (`winnt`, `exchange`, `vbwin`, ...), lower case.
    pub(super) tag: String,
    pub(super) title: String,
    pub(super) product: String,
    pub(super) prod_ver: String,
    pub(super) keywords: String,
    pub(super) issue_type: String,
    /// (heading in upper case, paragraphs joined into single lines)
    pub(super) sections: Vec<(String, String)>,
    /// Read from the Markdown layout (front matter, `##` sections).
    pub(super) markdown: bool,
    /// The date the text carries (`DOCUMENT:` line, `ms.date`), as written.
    pub(super) date: String,
    /// The text of code and output blocks: facts (event ids), never sentences.
    pub(super) code: String,
}

pub(super) fn parse(text: &str, origin: &str) -> Result<Parsed, ImportError> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let document = lines.get(first).map(|l| l.trim()).unwrap_or("");
    let Some(rest) = document.strip_prefix("DOCUMENT:") else {
        return Err(layout_error(
            origin,
            first + 1,
            1,
            "not a KB article text (expected a 'DOCUMENT:Q...' line)".into(),
        ));
    };
    let id = rest.split_whitespace().next().unwrap_or("").to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(layout_error(
            origin,
            first + 1,
            10,
            "no article id after 'DOCUMENT:'".into(),
        ));
    }
    let tag = rest
        .split_once('[')
        .and_then(|(_, t)| t.split_once(']'))
        .map(|(t, _)| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let header = |key: &str| -> String {
        lines
            .iter()
            .take(first + 12)
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == key).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let title = header("TITLE");
    if title.is_empty() {
        return Err(layout_error(
            origin,
            first + 2,
            1,
            format!("article {id} has no 'TITLE   :' line"),
        ));
    }
    let product = header("PRODUCT");
    let prod_ver = header("PROD/VER");
    let keywords = header("KEYWORDS");
    let issue_type = lines
        .iter()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "Issue type").then(|| v.trim().to_string())
        })
        .unwrap_or_default();

    // Body: from the first heading to the "Additional query words" line or the footer rule.
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let mut paragraph = String::new();
    let mut i = first + 1;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.starts_with("Additional query words")
            || trimmed.starts_with("Keywords          :")
        {
            break;
        }
        let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or("");
        let is_heading = !trimmed.is_empty()
            && next.len() >= 3
            && next.chars().all(|c| c == '=')
            && next.len() <= trimmed.len() + 2
            && trimmed.chars().any(|c| c.is_ascii_uppercase());
        if is_heading {
            if let Some((name, mut paras)) = current.take() {
                flush(&mut paragraph, &mut paras);
                sections.push((name, paras.join("\n")));
            }
            current = Some((trimmed.to_ascii_uppercase(), Vec::new()));
            i += 2;
            continue;
        }
        if let Some((_, paras)) = current.as_mut() {
            if trimmed.is_empty() || trimmed.chars().all(|c| c == '-' || c == '=') {
                flush(&mut paragraph, paras);
            } else {
                // Bullets and table rows stand alone; prose lines join into one paragraph.
                if trimmed.starts_with("- ") || trimmed.starts_with('|') || line.starts_with("   ")
                {
                    flush(&mut paragraph, paras);
                }
                if !paragraph.is_empty() {
                    paragraph.push(' ');
                }
                paragraph.push_str(trimmed);
            }
        }
        i += 1;
    }
    if let Some((name, mut paras)) = current.take() {
        flush(&mut paragraph, &mut paras);
        sections.push((name, paras.join("\n")));
    }
    Ok(Parsed {
        id,
        tag,
        title,
        product,
        prod_ver,
        keywords,
        issue_type,
        sections,
        markdown: false,
        date: rest.split_whitespace().nth(1).unwrap_or("").to_string(),
        code: String::new(),
    })
}

pub(super) fn flush(paragraph: &mut String, paras: &mut Vec<String>) {
    if !paragraph.is_empty() {
        paras.push(std::mem::take(paragraph));
    }
}

impl Parsed {
    pub(super) fn section(&self, name: &str) -> &str {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_str())
            .unwrap_or("")
    }

    /// The sections that say what goes wrong (not how to fix it).
    pub(super) fn problem_text(&self) -> String {
        self.problem_text_without("")
    }

    /// The problem text less one more section.
    pub(super) fn problem_text_without(&self, left_out: &str) -> String {
        let mut out = String::new();
        for (name, body) in &self.sections {
            let fix = matches!(
                name.as_str(),
                "RESOLUTION" | "STATUS" | "REFERENCES" | "SEE ALSO"
            );
            if !fix && name != left_out {
                out.push_str(body);
                out.push('\n');
            }
        }
        out
    }
}

/// Splits prose into sentences (on `. `, `? `, `! ` and paragraph ends).
pub(super) fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut start = 0;
        let bytes = para.as_bytes();
        for i in 0..bytes.len() {
            let end_mark = matches!(bytes[i], b'.' | b'?' | b'!')
                && bytes.get(i + 1).is_some_and(|b| *b == b' ')
                && bytes.get(i + 2).is_some_and(|b| b.is_ascii_uppercase());
            if end_mark {
                out.push(para[start..=i].trim());
                start = i + 1;
            }
        }
        let tail = para[start..].trim();
        if !tail.is_empty() {
            out.push(tail);
        }
    }
    out
}
