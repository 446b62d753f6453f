//! Readers that refuse to hand out more than a fixed number of bytes.
//!
//! The tar reader wraps every I/O error in its own, so an error alone cannot
//! say whether a cap was hit. Each capped reader therefore records what it
//! saw in a [`Meter`] that the caller keeps a handle to, and looks at after
//! any failure.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use crate::error::PackageError;

/// How many bytes went through a [`CappedReader`], and whether it refused.
#[derive(Debug)]
pub(crate) struct Meter {
    limit: u64,
    read: Cell<u64>,
    tripped: Cell<bool>,
}

impl Meter {
    pub(crate) fn new(limit: u64) -> Rc<Self> {
        Rc::new(Self {
            limit,
            read: Cell::new(0),
            tripped: Cell::new(false),
        })
    }

    pub(crate) fn read(&self) -> u64 {
        self.read.get()
    }

    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    pub(crate) fn tripped(&self) -> bool {
        self.tripped.get()
    }
}

/// Passes reads through until more than the meter's limit has gone by, then
/// fails every read.
///
/// It never asks its inner reader for more than one byte past the limit, so
/// the meter's count is at most `limit + 1` when it trips.
#[derive(Debug)]
pub(crate) struct CappedReader<R> {
    inner: R,
    meter: Rc<Meter>,
}

impl<R> CappedReader<R> {
    pub(crate) fn new(inner: R, meter: Rc<Meter>) -> Self {
        Self { inner, meter }
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let so_far = self.meter.read.get();
        if so_far > self.meter.limit {
            return Err(self.refuse());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // One byte past the limit is enough to know the limit was broken.
        let allowed = (self.meter.limit - so_far).saturating_add(1);
        let want = usize::try_from(allowed).map_or(buf.len(), |allowed| allowed.min(buf.len()));
        let got = self.inner.read(&mut buf[..want])?;
        let now = so_far.saturating_add(got as u64);
        self.meter.read.set(now);
        if now > self.meter.limit {
            return Err(self.refuse());
        }
        Ok(got)
    }
}

impl<R> CappedReader<R> {
    fn refuse(&self) -> io::Error {
        self.meter.tripped.set(true);
        io::Error::other(format!(
            "more than {} bytes read, over the cap",
            self.meter.limit
        ))
    }
}

/// The meters of one read: decompressed bytes, and compressed bytes when the
/// package is streamed rather than held in memory.
#[derive(Debug)]
pub(crate) struct Meters {
    pub(crate) total: Rc<Meter>,
    pub(crate) package: Option<Rc<Meter>>,
}

impl Meters {
    /// Turns a failure of the archive stream into the error a user can act
    /// on: a cap if one was hit, otherwise a corrupt package.
    pub(crate) fn stream_error(&self, error: io::Error) -> PackageError {
        if let Some(package) = self.package.as_ref().filter(|m| m.tripped()) {
            return PackageError::PackageTooLarge {
                size: package.read(),
                limit: package.limit(),
            };
        }
        if self.total.tripped() {
            return PackageError::TooMuchData {
                read: self.total.read(),
                limit: self.total.limit(),
            };
        }
        PackageError::Corrupt {
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stops_one_byte_past_the_limit() {
        let meter = Meter::new(10);
        let mut reader = CappedReader::new(io::repeat(7), Rc::clone(&meter));
        let mut sink = Vec::new();
        assert!(reader.read_to_end(&mut sink).is_err());
        assert!(meter.tripped());
        assert_eq!(meter.read(), 11);
        assert!(reader.read(&mut [0; 4]).is_err());
    }

    #[test]
    fn exactly_the_limit_is_fine() {
        let meter = Meter::new(10);
        let mut reader = CappedReader::new(&[1u8; 10][..], Rc::clone(&meter));
        let mut sink = Vec::new();
        assert_eq!(reader.read_to_end(&mut sink).unwrap(), 10);
        assert!(!meter.tripped());
    }
}
