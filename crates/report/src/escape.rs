//! Escaping of untrusted text (model output, case text) for each output format.

/// For a Markdown table cell or inline text: neutralises Markdown and HTML syntax and keeps the
/// text on one line, so model output cannot inject links, images, headings, HTML or table breaks.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push_str(" ⏎ "),
            // Enough to stop emphasis, code, links, images and headings; table cells never start a
            // line, so list markers (`-`, `+`, `1.`) need nothing.
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// For HTML text and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// For a CSV cell opened by a spreadsheet: a leading `= + - @` (or tab/CR) would run as a formula.
pub fn csv_formula(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// Cuts to at most `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_neutralises_injection() {
        let evil = "ok | <script>alert(1)</script>\n# Heading ![img](http://x/y.png) [link](javascript:1) `code`";
        let e = markdown(evil);
        assert!(!e.contains("<script>"));
        assert!(!e.contains('\n'));
        assert!(!e.contains("![img]("));
        assert!(!e.contains(" | "));
        assert!(e.contains("&lt;script&gt;"));
        assert!(e.contains("\\#"));
    }

    #[test]
    fn html_and_csv() {
        assert_eq!(html("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(csv_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_formula("fine"), "fine");
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("hé", 2), "hé");
    }
}
