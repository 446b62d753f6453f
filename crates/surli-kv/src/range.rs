use std::ops::Bound;

/// A range of keys: everything between `start` and `end`, in byte-wise key
/// order.
///
/// The bounds mean exactly what they mean to [`BTreeMap::range`]
/// (`Unbounded`, `Included`, `Excluded` at either end), with one difference:
/// a range whose start lies after its end, or whose start equals its end
/// with both ends excluded, is simply empty. `BTreeMap::range` panics on
/// those, and the bounds come from the guest, so passing them through would
/// let a plugin panic the host.
///
/// [`BTreeMap::range`]: std::collections::BTreeMap::range
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRange {
    /// Where the range starts.
    pub start: Bound<String>,
    /// Where the range ends.
    pub end: Bound<String>,
}

impl KeyRange {
    /// The range holding every key.
    pub fn all() -> Self {
        Self::new(Bound::Unbounded, Bound::Unbounded)
    }

    /// The range from `start` to `end`.
    ///
    /// Any pair of bounds is accepted, including inverted ones; see
    /// [`KeyRange::is_empty_or_inverted`].
    pub fn new(start: Bound<String>, end: Bound<String>) -> Self {
        Self { start, end }
    }

    /// Whether the range is inverted (start after end) or collapsed to a
    /// single key that one of its ends excludes.
    ///
    /// True when both ends are bounded and either the start lies after the
    /// end, or they are equal and at least one of them is excluded. This
    /// covers every range [`BTreeMap::range`] panics on, and stores answer
    /// these ranges with nothing (and delete nothing) instead of passing
    /// them on.
    ///
    /// It is a check on the bounds, not a full emptiness test: a range such
    /// as `(Excluded("a"), Excluded("a\0"))` admits no string either, yet is
    /// not flagged, because the ordinary range walk already finds nothing in
    /// it without panicking.
    ///
    /// ```
    /// use std::ops::Bound::{Excluded, Included, Unbounded};
    /// use surli_kv::KeyRange;
    ///
    /// let range = |start, end| KeyRange::new(start, end);
    /// assert!(range(Included("b".into()), Included("a".into())).is_empty_or_inverted());
    /// assert!(range(Excluded("a".into()), Excluded("a".into())).is_empty_or_inverted());
    /// assert!(range(Included("a".into()), Excluded("a".into())).is_empty_or_inverted());
    /// assert!(!range(Included("a".into()), Included("a".into())).is_empty_or_inverted());
    /// assert!(!range(Unbounded, Included("a".into())).is_empty_or_inverted());
    /// ```
    ///
    /// [`BTreeMap::range`]: std::collections::BTreeMap::range
    pub fn is_empty_or_inverted(&self) -> bool {
        match (&self.start, &self.end) {
            (Bound::Included(start), Bound::Included(end)) => start > end,
            (
                Bound::Included(start) | Bound::Excluded(start),
                Bound::Included(end) | Bound::Excluded(end),
            ) => start >= end,
            _ => false,
        }
    }

    /// The bounds as a pair, in the form [`BTreeMap::range`] takes.
    ///
    /// [`BTreeMap::range`]: std::collections::BTreeMap::range
    pub fn into_bounds(self) -> (Bound<String>, Bound<String>) {
        (self.start, self.end)
    }
}

impl Default for KeyRange {
    /// The range holding every key, like [`KeyRange::all`].
    fn default() -> Self {
        Self::all()
    }
}

impl From<(Bound<String>, Bound<String>)> for KeyRange {
    fn from((start, end): (Bound<String>, Bound<String>)) -> Self {
        Self::new(start, end)
    }
}
