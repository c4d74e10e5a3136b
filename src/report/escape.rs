//! Escaping of text that comes from a log (instance names, counter names, file and zip-entry
//! names, warnings) before it goes out: one function per kind of output (HTML, Markdown, CSV
//! cells, JSON text, the terminal). A process can be named anything, including markup, escape
//! sequences that clear the screen or set the window title, and bidi overrides that show text
//! in another order than it has.

use std::borrow::Cow;

/// Characters that reorder the text around them (bidi embeddings, overrides, isolates and
/// marks): shown raw, `exe.txt` can be made to read as `txt.exe`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// C0 and C1 control characters, DEL and bidi controls: what no output may pass on raw.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Text safe to print on a terminal: control characters (C0 but line breaks and tabs, DEL, C1)
/// and bidi controls are shown as Rust-style escapes (`\u{1b}`), so a name can neither run
/// an escape sequence nor reorder what is printed. Text without them is borrowed as it is.
pub fn escape_terminal(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| is_unsafe_char(c) && c != '\n' && c != '\t')
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe_char(c) && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape_terminal`] for text printed inside one line (a table row of the terminal
/// summary): line breaks and tabs are escaped too, so a name cannot break the row apart.
pub fn escape_terminal_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if is_unsafe_char(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// JSON text (as serde_json writes it, where C0 characters are escaped already) with C1, DEL
/// and bidi controls written as `\uXXXX` escapes too: the same JSON value, but safe to show on
/// a terminal. Outside strings JSON holds none of these characters.
pub fn escape_json_text(json: String) -> String {
    // Line breaks and tabs outside strings are JSON's own whitespace (pretty printing).
    let unsafe_in_json = |c: char| is_unsafe_char(c) && !matches!(c, '\n' | '\r' | '\t');
    if !json.chars().any(unsafe_in_json) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_in_json(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Cells a spreadsheet would run as a formula start with one of these.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A CSV text cell as a spreadsheet will show it and never evaluate it: risky ones get a
/// leading single quote; control and bidi characters become U+FFFD (the file is also read with
/// `cat`). Log, process and counter names come from the logs, so anyone can choose them.
pub fn escape_csv_cell(cell: &str) -> Cow<'_, str> {
    let cleaned: Cow<str> = if cell.chars().any(is_unsafe_char) {
        cell.chars()
            .map(|c| if is_unsafe_char(c) { '\u{FFFD}' } else { c })
            .collect::<String>()
            .into()
    } else {
        cell.into()
    };
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cleaned}").into()
    } else {
        cleaned
    }
}

/// Text safe inside HTML element content and inside double- or single-quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not valid in HTML text; bidi
            // controls would reorder the page around the name.
            c if is_unsafe_char(c) && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text safe inside a Markdown paragraph or table cell: punctuation that Markdown (or the HTML
/// a ticket system lets through) would act on is backslash-escaped, and line breaks, which
/// would end a table row, become spaces.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            // With `[` and `]` escaped no link or image can form, so `(`, `)` and `!` stay
            // as they are and names like `svchost (netsvcs)` read naturally.
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(ch);
            }
            '\r' | '\n' => out.push(' '),
            c if is_unsafe_char(c) && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_markup_becomes_text() {
        assert_eq!(
            escape_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape_html(r#"a "b" & 'c'"#),
            "a &quot;b&quot; &amp; &#39;c&#39;"
        );
        assert_eq!(escape_html("svchost#1 (Dienst)"), "svchost#1 (Dienst)");
        assert_eq!(escape_html("QQ进程"), "QQ进程");
        assert_eq!(escape_html("a\u{0}b"), "a\u{FFFD}b");
    }

    #[test]
    fn html_escaping_is_not_undone_by_double_application() {
        assert_eq!(escape_html("&lt;"), "&amp;lt;");
    }

    #[test]
    fn terminal_text_runs_no_escape_sequence() {
        assert_eq!(escape_terminal("w3wp#1"), "w3wp#1");
        assert!(matches!(escape_terminal("a\nb\tc"), Cow::Borrowed(_)));
        assert_eq!(
            escape_terminal("\u{1b}]0;owned\u{7}\u{1b}[2J"),
            "\\u{1b}]0;owned\\u{7}\\u{1b}[2J"
        );
        assert_eq!(escape_terminal("a\u{9b}b\u{7f}"), "a\\u{9b}b\\u{7f}");
        assert_eq!(escape_terminal("x\u{202e}gpj.exe"), "x\\u{202e}gpj.exe");
        assert_eq!(escape_terminal("\u{2066}\u{200f}"), "\\u{2066}\\u{200f}");
        assert_eq!(escape_terminal("QQ进程"), "QQ进程");
    }

    #[test]
    fn a_terminal_row_is_not_broken_by_a_name() {
        assert!(matches!(escape_terminal_line("QQ进程#1"), Cow::Borrowed(_)));
        assert_eq!(escape_terminal_line("a\nb\tc"), "a\\u{a}b\\u{9}c");
        assert_eq!(escape_terminal_line("\u{1b}[2J"), "\\u{1b}[2J");
    }

    #[test]
    fn json_text_keeps_its_value() {
        let json = serde_json::to_string_pretty(&["a\u{1b}b\u{9b}c\u{202e}d"]).unwrap();
        let safe = escape_json_text(json);
        assert!(safe.contains('\n'), "pretty printing kept: {safe}");
        assert!(
            !safe.chars().any(|c| is_unsafe_char(c) && c != '\n'),
            "{safe}"
        );
        let back: Vec<String> = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, ["a\u{1b}b\u{9b}c\u{202e}d"]);
    }

    #[test]
    fn csv_cells_neither_compute_nor_control_the_terminal() {
        assert_eq!(escape_csv_cell("=1+1"), "'=1+1");
        assert_eq!(escape_csv_cell("w3wp"), "w3wp");
        assert_eq!(escape_csv_cell("a\u{1b}[2Jb"), "a\u{FFFD}[2Jb");
        assert_eq!(escape_csv_cell("\tx\u{202e}"), "'\u{FFFD}x\u{FFFD}");
    }

    #[test]
    fn bidi_controls_do_not_reach_documents() {
        assert_eq!(escape_html("a\u{202e}b"), "a\u{FFFD}b");
        assert_eq!(escape_markdown("a\u{2067}b\u{9b}"), "a\u{FFFD}b\u{FFFD}");
    }

    #[test]
    fn markdown_punctuation_is_inert() {
        assert_eq!(escape_markdown("a|b"), r"a\|b");
        assert_eq!(escape_markdown("<img src=x>"), r"\<img src=x\>");
        assert_eq!(escape_markdown("*bold* _x_"), r"\*bold\* \_x\_");
        assert_eq!(escape_markdown("line\nbreak"), "line break");
        assert_eq!(escape_markdown("[link](http://x)"), r"\[link\](http://x)");
        assert_eq!(
            escape_markdown("![img](x) svchost#1"),
            r"!\[img\](x) svchost#1"
        );
    }
}
