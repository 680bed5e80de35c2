//! Names that look like someone else's: a display name that matches or
//! closely resembles the name of a person the user follows, on another key.
//!
//! Names are compared in a folded form: invisible characters and bidi
//! controls removed (they change nothing a reader sees, or reorder it),
//! lowercased, mapped through Unicode's confusables skeleton (UTS #39:
//! Cyrillic "а" and Latin "a", "rn" and "m", fullwidth letters), and only
//! letters and digits kept (so "Jack Dorsey", "jack.dorsey" and
//! "JACK DORSEY ⚡" are one name). Pure; no I/O.

use std::collections::HashMap;

use crate::base::trust::Key;

/// Folded names shorter than this are not compared (too many people share
/// "al" or "jo" honestly).
pub const MIN_FOLDED_CHARS: usize = 3;

/// Characters that render as nothing or reorder text: Unicode's default
/// ignorable code points, the bidi controls among them.
pub fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

/// Whether `name` holds invisible characters or bidi controls.
pub fn has_hidden_characters(name: &str) -> bool {
    name.chars().any(is_invisible)
}

/// The form names are compared in.
pub fn fold(name: &str) -> String {
    let visible: String = name
        .chars()
        .filter(|c| !is_invisible(*c))
        .flat_map(char::to_lowercase)
        .collect();
    unicode_security::confusable_detection::skeleton(&visible)
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The names of the people the user follows, folded, to test others' names
/// against.
#[derive(Debug, Default, Clone)]
pub struct NameIndex {
    by_fold: HashMap<String, Key>,
}

impl NameIndex {
    /// An index of `(person, display name)` for the people followed.
    pub fn new<'a>(names: impl IntoIterator<Item = (Key, &'a str)>) -> Self {
        let mut by_fold = HashMap::new();
        for (who, name) in names {
            let folded = fold(name);
            if folded.chars().count() >= MIN_FOLDED_CHARS {
                by_fold.entry(folded).or_insert(who);
            }
        }
        Self { by_fold }
    }

    /// The followed person whose name `name` (worn by `who`) matches or
    /// resembles, unless that is `who` themself.
    pub fn resembles(&self, who: &Key, name: &str) -> Option<Key> {
        let folded = fold(name);
        if folded.chars().count() < MIN_FOLDED_CHARS {
            return None;
        }
        self.by_fold.get(&folded).copied().filter(|k| k != who)
    }

    /// How many names are indexed.
    pub fn len(&self) -> usize {
        self.by_fold.len()
    }

    /// Whether no name is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_fold.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes_fold_to_the_same_name() {
        let alice = [1u8; 32];
        let index = NameIndex::new([(alice, "Alice Liddell"), ([2; 32], "jo")]);
        let mallory = [9u8; 32];
        for fake in [
            "Alice Liddell",
            "alice liddell",
            "ALICE.LIDDELL ⚡",
            "Аlice Liddell",         // Cyrillic А
            "Alice Lidde\u{217C}l",  // small roman numeral fifty
            "Al\u{200B}ice Liddell", // zero-width space
            "\u{202E}Alice Liddell", // bidi override
            "Ａｌｉｃｅ Liddell",    // fullwidth
        ] {
            assert_eq!(index.resembles(&mallory, fake), Some(alice), "{fake:?}");
        }
        assert_eq!(
            index.resembles(&alice, "Alice Liddell"),
            None,
            "her own name"
        );
        assert_eq!(index.resembles(&mallory, "Alicia Liddell"), None);
        assert_eq!(
            index.resembles(&mallory, "jo"),
            None,
            "too short to compare"
        );
        assert!(has_hidden_characters("a\u{2066}b"));
        assert!(!has_hidden_characters("plain"));
    }
}
