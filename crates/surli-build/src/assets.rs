//! The files a package carries besides the component: the optional
//! `logo.png` and the `[attach] fs` directory.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use surli_config::ModuleConfig;
use surli_package::PNG_SIGNATURE;

use crate::error::BuildError;

/// The largest logo a package may carry, as the original runtime and
/// surli's reader both enforce.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// The logo's file name, in the project's root.
pub const LOGO_FILE: &str = "logo.png";

/// Reads `logo.png` from the project's root, if there is one, and checks
/// it as the original tool does: a PNG signature and at most
/// [`MAX_LOGO_BYTES`].
pub fn read_logo(project_dir: &Path) -> Result<Option<Vec<u8>>, BuildError> {
    let path = project_dir.join(LOGO_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(BuildError::Logo {
                path,
                problem: format!("it cannot be read: {e}"),
            });
        }
    };
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(BuildError::Logo {
            path,
            problem: format!(
                "it is {} bytes, more than the {} KiB a package's logo may have; make it smaller",
                bytes.len(),
                MAX_LOGO_BYTES / 1024
            ),
        });
    }
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(BuildError::Logo {
            path,
            problem: "it is not a PNG file (it does not start with the PNG signature); save it \
                      as PNG or remove it"
                .to_owned(),
        });
    }
    Ok(Some(bytes))
}

/// The directory `[attach] fs` names, resolved against the project's
/// directory when relative, and checked to be an existing directory.
/// `None` when the key is absent or empty.
pub fn attach_dir(
    config: &ModuleConfig,
    project_dir: &Path,
) -> Result<Option<PathBuf>, BuildError> {
    let Some(written) = config.attach.fs_dir() else {
        return Ok(None);
    };
    let path = project_dir.join(written);
    let problem = |problem: String| BuildError::AttachDir {
        written: written.to_owned(),
        path: path.clone(),
        problem,
    };
    match std::fs::metadata(&path) {
        Ok(metadata) if metadata.is_dir() => Ok(Some(path.clone())),
        Ok(_) => Err(problem(
            "which is not a directory; attach a directory (its files are mounted read-only at \
             `/` in the guest)"
                .to_owned(),
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(problem(
            "which does not exist; create it, or remove `[attach] fs` from surrealism.toml"
                .to_owned(),
        )),
        Err(e) => Err(problem(format!("which cannot be read: {e}"))),
    }
}
