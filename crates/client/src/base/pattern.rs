//! Pattern mutes checked and compiled: regular expressions on note text
//! through the `regex` crate, whose matching is linear in the text (no
//! backtracking, so no pattern can hang a feed), with a length limit and
//! a compiled-size limit. Pure.

/// The longest pattern accepted, in characters.
pub const MAX_PATTERN_CHARS: usize = 256;
/// How much memory the compiled patterns may take (the `regex` crate's
/// size limit): a pattern that would need more is refused.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// How much of a note's text patterns look at.
pub(crate) const PATTERN_SCAN_BYTES: usize = 64 * 1024;

/// Why a pattern mute was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PatternError {
    /// Longer than [`MAX_PATTERN_CHARS`].
    #[error("the pattern is {0} characters long; at most {MAX_PATTERN_CHARS} are allowed")]
    TooLong(usize),
    /// Not a regular expression, or too large once compiled.
    #[error("not a usable regular expression: {0}")]
    Invalid(String),
}

pub(crate) fn builder(patterns: &[&str]) -> regex::RegexSetBuilder {
    let mut b = regex::RegexSetBuilder::new(patterns);
    b.case_insensitive(true)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_SIZE_LIMIT);
    b
}

/// Checks a pattern mute before it is added. The `regex` crate matches in
/// time linear in the text (no backtracking), so no pattern can hang a
/// feed; size and length limits bound its memory.
pub fn check_pattern(pattern: &str) -> Result<(), PatternError> {
    let chars = pattern.chars().count();
    if chars > MAX_PATTERN_CHARS {
        return Err(PatternError::TooLong(chars));
    }
    builder(&[pattern])
        .build()
        .map(|_| ())
        .map_err(|e| PatternError::Invalid(e.to_string()))
}
