//! Values as Entra ID compares them: case-insensitive, trimmed, the proxy type prefix in one case,
//! no trailing dot on the domain.

/// The type prefix of a proxy address ("SMTP", "smtp", "X500") and the rest; None without a colon.
pub fn split_type(value: &str) -> Option<(&str, &str)> {
    let (kind, rest) = value.split_once(':')?;
    let plain = !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric());
    plain.then_some((kind, rest))
}

/// The comparison key of a value of `attribute` (a rule's `format` tells whether it has a type).
pub fn normalise(value: &str, typed: bool) -> String {
    let mut v = value.trim().to_lowercase();
    if typed {
        // SMTP:/smtp: differ only in case (primary vs secondary); the lowercase fold already
        // makes them one key, other types (x500:, sip:) stay distinct.
        if let Some((kind, rest)) = split_type(&v) {
            v = format!("{kind}:{}", rest.trim());
        }
    }
    while v.ends_with('.') {
        v.pop();
    }
    v
}

/// Latin letters with diacritical marks folded to ASCII, for a suggested value; other non-ASCII
/// characters are dropped (sync would turn them into underscores).
pub fn fold_ascii(value: &str) -> String {
    const FROM: &str = "àáâãäåçèéêëìíîïñòóôõöøùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝŸß";
    const TO: &str = "aaaaaaceeeeiiiinoooooouuuuyyAAAAAACEEEEIIIINOOOOOOUUUUYYs";
    value
        .chars()
        .filter_map(|c| {
            if c.is_ascii() {
                return Some(c);
            }
            FROM.chars()
                .position(|f| f == c)
                .and_then(|i| TO.chars().nth(i))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_prefix_and_trailing_dot() {
        assert_eq!(
            normalise("SMTP:Ann@Contoso.com", true),
            "smtp:ann@contoso.com"
        );
        assert_eq!(
            normalise("smtp:ann@contoso.com.", true),
            "smtp:ann@contoso.com"
        );
        assert_eq!(normalise(" Ann@Contoso.COM ", false), "ann@contoso.com");
        assert_ne!(normalise("X500:/o=a", true), normalise("smtp:/o=a", true));
        assert_eq!(normalise("sip: Ann@x.com", true), "sip:ann@x.com");
    }

    #[test]
    fn unicode_case_folds() {
        assert_eq!(normalise("ÅSA@contoso.com", false), "åsa@contoso.com");
        assert_eq!(normalise("ΣΊΣΥΦΟΣ", false), normalise("σίσυφος", false));
    }

    #[test]
    fn split_type_needs_a_plain_prefix() {
        assert_eq!(split_type("SMTP:a@b.com"), Some(("SMTP", "a@b.com")));
        assert_eq!(split_type("a:b@c.com"), Some(("a", "b@c.com")));
        assert_eq!(split_type("no prefix"), None);
        assert_eq!(split_type(":x"), None);
    }

    #[test]
    fn fold_ascii_keeps_ascii() {
        assert_eq!(fold_ascii("Jöhn Müller"), "John Muller");
        assert_eq!(fold_ascii("a\u{202e}b"), "ab");
    }
}
