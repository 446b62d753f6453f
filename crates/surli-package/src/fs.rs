//! The attached directory on both sides: extracting `surrealism/fs/` into a
//! private temporary directory when reading, and walking a source directory
//! when packing.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::error::{PackageError, PackageWarning};
use crate::layout::{self, FS_ENTRY};
use crate::limits::{PackageLimits, ReadOptions};

/// The attached directory of a loaded package, extracted to a private
/// temporary directory.
///
/// The guest sees [`path`](Self::path) as `/`. The directory and everything
/// in it are removed when this value is dropped, so keep it (or the
/// [`Package`](crate::Package) that owns it) alive for as long as any
/// instance of the module runs.
#[derive(Debug)]
pub struct AttachedFs {
    root: PathBuf,
    _dir: TempDir,
}

impl AttachedFs {
    /// The directory to mount at `/` in the guest: `<tmp>/surrealism/fs`.
    pub fn path(&self) -> &Path {
        &self.root
    }
}

/// Stages `surrealism/fs/` while the archive is read, and writes it out
/// only once the whole archive has passed every check.
///
/// File contents go to one anonymous spool file as they are read; the
/// directory tree is created from it in [`finish`](Self::finish). A hostile
/// package of many tiny entries (creating each file costs a system call or
/// several) is therefore refused by the entry cap before a single file
/// exists, as fast as any other refusal. A package without `fs/` never
/// touches the disk.
///
/// Nothing here follows an existing link or overwrites an existing file:
/// the temporary directory is private to this process and only ever gains
/// directories and new regular files.
pub(crate) struct Extractor<'o> {
    options: &'o ReadOptions,
    staged: Vec<Staged>,
    spool: Option<File>,
    spooled: u64,
}

/// One thing to create under the root, in archive order.
enum Staged {
    /// The root itself (an `fs/` entry).
    Root,
    Dir(String),
    File {
        relative: String,
        offset: u64,
        len: u64,
    },
}

impl<'o> Extractor<'o> {
    pub(crate) fn new(options: &'o ReadOptions) -> Self {
        Self {
            options,
            staged: Vec::new(),
            spool: None,
            spooled: 0,
        }
    }

    /// Notes that the package has an attached directory.
    pub(crate) fn root(&mut self) {
        self.staged.push(Staged::Root);
    }

    /// Notes the directory at `relative` (a path under `fs/` that passed
    /// [`layout::problem`]).
    pub(crate) fn dir(&mut self, relative: &str) {
        self.staged.push(Staged::Dir(relative.to_owned()));
    }

    /// Where the next file's bytes go: the spool, at its end.
    pub(crate) fn spool(&mut self) -> Result<&mut File, PackageError> {
        let spool = match self.spool.take() {
            Some(spool) => spool,
            None => self.new_spool()?,
        };
        Ok(self.spool.insert(spool))
    }

    /// Notes the file at `relative` whose `len` bytes were just written to
    /// the spool.
    pub(crate) fn file(&mut self, relative: &str, len: u64) {
        self.staged.push(Staged::File {
            relative: relative.to_owned(),
            offset: self.spooled,
            len,
        });
        self.spooled = self.spooled.saturating_add(len);
    }

    fn new_spool(&self) -> Result<File, PackageError> {
        let base = self.options.temp_base.as_deref();
        // An unusable base is reported once, when the directory itself is
        // made in `finish`; the spool quietly falls back.
        match base.map(tempfile::tempfile_in) {
            Some(Ok(file)) => Ok(file),
            _ => tempfile::tempfile().map_err(|e| PackageError::io(std::env::temp_dir(), e)),
        }
    }

    /// Creates everything staged under a new private temporary directory:
    /// `None` when the package has no attached directory.
    pub(crate) fn finish(
        mut self,
        warnings: &mut Vec<PackageWarning>,
    ) -> Result<Option<AttachedFs>, PackageError> {
        if self.staged.is_empty() {
            return Ok(None);
        }
        let fs = self.create(warnings)?;
        let mut spool = self.spool.take();
        for staged in std::mem::take(&mut self.staged) {
            match staged {
                Staged::Root => {}
                Staged::Dir(relative) => {
                    let path = join(&fs.root, &relative);
                    fs::create_dir_all(&path).map_err(|e| PackageError::io(path, e))?;
                }
                Staged::File {
                    relative,
                    offset,
                    len,
                } => {
                    let path = join(&fs.root, &relative);
                    if let Some(parent) = path.parent() {
                        fs::create_dir_all(parent)
                            .map_err(|e| PackageError::io(parent.to_path_buf(), e))?;
                    }
                    let mut file =
                        File::create_new(&path).map_err(|e| PackageError::io(path.clone(), e))?;
                    if len > 0 {
                        let spool = spool.as_mut().ok_or_else(|| {
                            PackageError::io(path.clone(), io::Error::other("the spool is gone"))
                        })?;
                        copy_range(spool, offset, len, &mut file)
                            .map_err(|e| PackageError::io(path.clone(), e))?;
                    }
                }
            }
        }
        Ok(Some(fs))
    }

    fn create(&self, warnings: &mut Vec<PackageWarning>) -> Result<AttachedFs, PackageError> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(&self.options.temp_prefix);
        let dir = match &self.options.temp_base {
            Some(base) => match builder.tempdir_in(base) {
                Ok(dir) => Ok(dir),
                Err(error) => {
                    let warning = PackageWarning::TempBaseUnusable {
                        path: base.clone(),
                        reason: error.to_string(),
                    };
                    tracing::warn!("{warning}");
                    warnings.push(warning);
                    builder.tempdir()
                }
            },
            None => builder.tempdir(),
        }
        .map_err(|e| PackageError::io(std::env::temp_dir(), e))?;
        let root = dir.path().join("surrealism").join("fs");
        fs::create_dir_all(&root).map_err(|e| PackageError::io(root.clone(), e))?;
        #[cfg(test)]
        created::bump();
        Ok(AttachedFs { root, _dir: dir })
    }
}

/// Copies `len` bytes at `offset` of `from` to `to`, all of them or an error.
fn copy_range(from: &mut File, offset: u64, len: u64, to: &mut File) -> io::Result<()> {
    from.seek(SeekFrom::Start(offset))?;
    let copied = io::copy(&mut from.by_ref().take(len), to)?;
    if copied == len {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the spool held {copied} of the file's {len} bytes"),
        ))
    }
}

/// How many extraction directories this thread has created, for tests that
/// check nothing reaches the disk before an archive passes its checks.
#[cfg(test)]
pub(crate) mod created {
    use std::cell::Cell;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    pub(crate) fn bump() {
        COUNT.with(|count| count.set(count.get() + 1));
    }

    pub(crate) fn count() -> u64 {
        COUNT.with(Cell::get)
    }
}

/// Joins a validated relative path one plain segment at a time.
fn join(root: &Path, relative: &str) -> PathBuf {
    let mut path = root.to_path_buf();
    for segment in relative.split('/') {
        path.push(segment);
    }
    path
}

/// One thing to pack from the attached directory.
#[derive(Debug)]
pub(crate) struct SourceEntry {
    /// Its path in the package, under `surrealism/fs`.
    pub(crate) archive_path: String,
    /// Where it is on the host.
    pub(crate) host: PathBuf,
    /// The file size, or `None` for a directory.
    pub(crate) size: Option<u64>,
}

/// Lists `root` for packing: every directory (the root included) and regular
/// file, sorted by package path, under the package caps.
///
/// Links are refused rather than followed, so nothing outside `root` can end
/// up in a package; so are special files and names the reader would refuse.
/// `max_entries` is the number of entries left for the attached directory
/// once the fixed files are counted.
pub(crate) fn walk_source(
    root: &Path,
    limits: &PackageLimits,
    max_entries: u64,
) -> Result<Vec<SourceEntry>, PackageError> {
    let metadata =
        fs::symlink_metadata(root).map_err(|e| PackageError::io(root.to_path_buf(), e))?;
    if metadata.file_type().is_symlink() {
        return Err(PackageError::SourceLink {
            path: root.to_path_buf(),
        });
    }
    if !metadata.is_dir() {
        return Err(PackageError::io(
            root.to_path_buf(),
            io::Error::new(
                io::ErrorKind::NotADirectory,
                "the attached directory is not a directory",
            ),
        ));
    }

    let mut found = vec![SourceEntry {
        archive_path: FS_ENTRY.to_owned(),
        host: root.to_path_buf(),
        size: None,
    }];
    let mut total: u64 = 0;
    let mut pending = vec![(root.to_path_buf(), FS_ENTRY.to_owned())];
    while let Some((dir, prefix)) = pending.pop() {
        let mut children = fs::read_dir(&dir)
            .and_then(|entries| entries.collect::<io::Result<Vec<_>>>())
            .map_err(|e| PackageError::io(dir.clone(), e))?;
        // Sorted so that which error comes first never depends on the order
        // the file system lists a directory in.
        children.sort_by_key(fs::DirEntry::file_name);
        for child in children {
            let host = child.path();
            let Some(name) = child.file_name().to_str().map(str::to_owned) else {
                return Err(PackageError::SourceName {
                    path: host,
                    reason: "its name is not UTF-8",
                });
            };
            let archive_path = format!("{prefix}/{name}");
            if let Err(reason) = layout::problem(&archive_path) {
                return Err(PackageError::SourceName { path: host, reason });
            }
            let file_type = child
                .file_type()
                .map_err(|e| PackageError::io(host.clone(), e))?;
            let size = if file_type.is_symlink() {
                return Err(PackageError::SourceLink { path: host });
            } else if file_type.is_dir() {
                pending.push((host.clone(), archive_path.clone()));
                None
            } else if file_type.is_file() {
                let size = child
                    .metadata()
                    .map_err(|e| PackageError::io(host.clone(), e))?
                    .len();
                if size > limits.max_fs_entry_bytes {
                    return Err(PackageError::EntryTooLarge {
                        path: archive_path,
                        size,
                        limit: limits.max_fs_entry_bytes,
                        cap: "max_fs_entry_bytes",
                    });
                }
                total = total.saturating_add(size);
                if total > limits.max_fs_bytes {
                    return Err(PackageError::FsTooLarge {
                        path: archive_path,
                        total,
                        limit: limits.max_fs_bytes,
                    });
                }
                Some(size)
            } else {
                return Err(PackageError::SourceSpecial {
                    path: host,
                    kind: special_kind(&file_type),
                });
            };
            found.push(SourceEntry {
                archive_path,
                host,
                size,
            });
            if found.len() as u64 > max_entries {
                return Err(PackageError::TooManyEntries {
                    limit: limits.max_entries,
                });
            }
        }
    }
    found.sort_by(|a, b| a.archive_path.cmp(&b.archive_path));
    Ok(found)
}

fn special_kind(file_type: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "fifo";
        }
        if file_type.is_socket() {
            return "socket";
        }
        if file_type.is_block_device() {
            return "block device";
        }
        if file_type.is_char_device() {
            return "character device";
        }
    }
    #[cfg(not(unix))]
    let _ = file_type;
    "special file"
}
