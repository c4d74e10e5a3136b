//! Escaping of text that comes from a log (instance names, counter names, warnings) before it
//! goes into HTML or Markdown: a process can be named anything, including markup.

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
            // Control characters other than tab and newline are not valid in HTML text.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
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
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '(' | ')' | '#' | '|'
            | '!' | '~' | '&' => {
                out.push('\\');
                out.push(ch);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() && c != '\t' => out.push('\u{FFFD}'),
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
    fn markdown_punctuation_is_inert() {
        assert_eq!(escape_markdown("a|b"), r"a\|b");
        assert_eq!(escape_markdown("<img src=x>"), r"\<img src=x\>");
        assert_eq!(escape_markdown("*bold* _x_"), r"\*bold\* \_x\_");
        assert_eq!(escape_markdown("line\nbreak"), "line break");
        assert_eq!(escape_markdown("[link](http://x)"), r"\[link\]\(http://x\)");
    }
}
