//! The attached directory on both sides: extracting `surrealism/fs/` into a
//! private temporary directory when reading, and walking a source directory
//! when packing.

use std::fs::{self, File};
use std::io;
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

/// Creates files and directories under a temporary directory made on first
/// use, so a package without `fs/` never touches the disk.
///
/// Nothing here follows an existing link or overwrites an existing file:
/// the temporary directory is private to this process and only ever gains
/// directories and new regular files.
pub(crate) struct Extractor<'o> {
    options: &'o ReadOptions,
    fs: Option<AttachedFs>,
}

impl<'o> Extractor<'o> {
    pub(crate) fn new(options: &'o ReadOptions) -> Self {
        Self { options, fs: None }
    }

    /// The extraction root, created on the first call.
    pub(crate) fn root(
        &mut self,
        warnings: &mut Vec<PackageWarning>,
    ) -> Result<&Path, PackageError> {
        let fs = match self.fs.take() {
            Some(fs) => fs,
            None => self.create(warnings)?,
        };
        Ok(&self.fs.insert(fs).root)
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
        Ok(AttachedFs { root, _dir: dir })
    }

    /// Creates the directory at `relative` (a path under `fs/` that passed
    /// [`layout::problem`]) and its parents.
    pub(crate) fn dir(
        &mut self,
        relative: &str,
        warnings: &mut Vec<PackageWarning>,
    ) -> Result<(), PackageError> {
        let path = join(self.root(warnings)?, relative);
        fs::create_dir_all(&path).map_err(|e| PackageError::io(path, e))
    }

    /// Creates a new, empty file at `relative` and its parent directories.
    /// Fails if anything already exists there.
    pub(crate) fn file(
        &mut self,
        relative: &str,
        warnings: &mut Vec<PackageWarning>,
    ) -> Result<(File, PathBuf), PackageError> {
        let path = join(self.root(warnings)?, relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| PackageError::io(parent.to_path_buf(), e))?;
        }
        let file = File::create_new(&path).map_err(|e| PackageError::io(path.clone(), e))?;
        Ok((file, path))
    }

    pub(crate) fn finish(self) -> Option<AttachedFs> {
        self.fs
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
