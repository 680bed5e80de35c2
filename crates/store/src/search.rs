//! NIP-50 search strings turned into safe FTS5 queries.
//!
//! User text never reaches FTS5's query syntax directly: every word becomes a
//! quoted string, so `"`, `*`, `AND`, `NEAR(` and the like are just words and a
//! query can never be a syntax error. Words are AND-ed. NIP-50 extensions
//! (`key:value` with a known key) are recognised and dropped, since the local
//! store has no spam scores, languages or domains to filter on.

/// NIP-50 extension keys that are not words of the query.
const EXTENSIONS: &[&str] = &["include", "domain", "language", "sentiment", "nsfw"];

/// Builds the FTS5 MATCH expression for a NIP-50 search string, or `None`
/// when the string holds no words (then it constrains nothing).
pub(crate) fn fts_query(search: &str) -> Option<String> {
    let terms: Vec<String> = search
        .split_whitespace()
        .filter(|word| {
            !word
                .split_once(':')
                .is_some_and(|(key, _)| EXTENSIONS.contains(&key.to_ascii_lowercase().as_str()))
        })
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn words_are_quoted_and_anded() {
        assert_eq!(
            fts_query("nostr relays").as_deref(),
            Some("\"nostr\" \"relays\"")
        );
    }

    #[test]
    fn fts_syntax_is_neutralised() {
        assert_eq!(
            fts_query("a\"b NEAR( *").as_deref(),
            Some("\"a\"\"b\" \"NEAR(\"")
        );
    }

    #[test]
    fn extensions_and_empty_strings_constrain_nothing() {
        assert_eq!(fts_query("include:spam language:en").as_deref(), None);
        assert_eq!(fts_query("   ").as_deref(), None);
        assert_eq!(fts_query("rust include:spam").as_deref(), Some("\"rust\""));
    }
}
