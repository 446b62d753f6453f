use crate::KvError;
use crate::memory::to_u64;

/// Tracks how many bytes one read has gathered, so a store can refuse it
/// with [`KvError::ReadTooLarge`] as soon as it passes
/// [`KvLimits::max_read_bytes`](crate::KvLimits::max_read_bytes), rather
/// than after copying the whole range.
///
/// ```
/// use surli_kv::{KvError, ReadBudget};
///
/// let mut budget = ReadBudget::new(Some(10));
/// assert!(budget.charge(4).is_ok());
/// assert!(budget.charge(6).is_ok()); // exactly the limit is allowed
/// assert!(matches!(budget.charge(1), Err(KvError::ReadTooLarge { limit: 10 })));
/// ```
#[derive(Debug)]
pub struct ReadBudget {
    limit: Option<u64>,
    used: u64,
}

impl ReadBudget {
    /// A budget of `limit` bytes; `None` never refuses.
    pub fn new(limit: Option<u64>) -> Self {
        Self { limit, used: 0 }
    }

    /// Adds `bytes` to the read.
    ///
    /// # Errors
    ///
    /// [`KvError::ReadTooLarge`] once the total passes the limit.
    pub fn charge(&mut self, bytes: usize) -> Result<(), KvError> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        self.used = self.used.saturating_add(to_u64(bytes));
        if self.used > limit {
            return Err(KvError::ReadTooLarge { limit });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_budget_allows_exactly_the_limit() {
        let mut budget = ReadBudget::new(Some(10));
        assert!(budget.charge(4).is_ok());
        assert!(budget.charge(6).is_ok());
        assert!(matches!(
            budget.charge(1),
            Err(KvError::ReadTooLarge { limit: 10 })
        ));
    }

    #[test]
    fn read_budget_without_limit_never_refuses() {
        let mut budget = ReadBudget::new(None);
        assert!(budget.charge(usize::MAX).is_ok());
        assert!(budget.charge(usize::MAX).is_ok());
    }

    #[test]
    fn read_budget_saturates_instead_of_overflowing() {
        let mut budget = ReadBudget::new(Some(u64::MAX));
        assert!(budget.charge(usize::MAX).is_ok());
        assert!(budget.charge(usize::MAX).is_ok());
    }
}
