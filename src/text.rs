//! Strings from the environment on their way out: a terminal must not obey them (escape
//! sequences, bidi overrides) and a text report must not carry invisible controls.

use std::borrow::Cow;
use std::fmt::Write;

/// Bidirectional-text controls and invisible format characters (zero-width spaces and joiners,
/// line and paragraph separators, the byte order mark) that can make a line read differently
/// from what it holds.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// For a terminal line: every control character and bidi override shown escaped (`\x1b`,
/// `\u{202e}`), so a value can neither move the cursor nor reorder the line.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// For text reports (Markdown, CSV, HTML text): control characters dropped, except the line
/// breaks and tabs `keep` names; bidi overrides shown as their code point.
pub fn visible<'a>(s: &'a str, keep: &[char]) -> Cow<'a, str> {
    if !s.chars().any(|c| is_unsafe(c) && !keep.contains(&c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if keep.contains(&c) || !is_unsafe(c) {
            out.push(c);
        } else if is_bidi_control(c) {
            let _ = write!(out, "[U+{:04X}]", c as u32);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes() {
        assert_eq!(terminal("dc1:445"), "dc1:445");
        assert_eq!(
            terminal("a\u{1b}[2Jb\u{7}c\u{202e}d\0"),
            "a\\x1b[2Jb\\x07c\\u{202e}d\\x00"
        );
        assert_eq!(terminal("x\ny"), "x\\ny");
        assert_eq!(terminal("\u{9b}31m"), "\\x9b31m", "C1 CSI too");
    }

    #[test]
    fn visible_drops_controls() {
        assert_eq!(visible("a\u{1b}[31mb\rc\nd", &['\n']), "a[31mbc\nd");
        assert_eq!(visible("x\u{202e}y", &[]), "x[U+202E]y");
        assert_eq!(
            visible("a\u{61c}b\u{2067}c\u{feff}", &[]),
            "a[U+061C]b[U+2067]c[U+FEFF]"
        );
        assert_eq!(terminal("a\u{2028}b"), "a\\u{2028}b");
        assert_eq!(visible("plain text", &[]), "plain text");
    }
}
