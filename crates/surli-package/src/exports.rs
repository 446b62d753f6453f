//! `surrealism/exports.toml`: the functions a module exports and their
//! signatures.
//!
//! Signatures are FlatBuffers (`ArgumentList` and `Kind` of
//! `surrealdb-types`), stored hex-encoded. This crate does not decode them:
//! it keeps the bytes, checks only that the hex is valid, and writes them
//! back exactly. The `*_text` keys hold the same signature in words for
//! people and are what [`FunctionExport::args_display`] shows.

use serde::Serialize;
use toml::{Table, Value};

use crate::error::PackageError;

/// The parsed `exports.toml`.
///
/// Keys this crate does not know, at the top level and in each function, are
/// kept in `extra` and written back, so a manifest written by a newer tool
/// survives a round trip through this one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportsManifest {
    /// `[[functions]]`, in file order.
    pub functions: Vec<FunctionExport>,
    /// Top-level keys other than `functions`.
    pub extra: Table,
}

/// One `[[functions]]` table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionExport {
    /// `name`: the function's name; `None` for the module's default export.
    pub name: Option<String>,
    /// `args`: the FlatBuffers `ArgumentList`, decoded from hex.
    pub args: Vec<u8>,
    /// `returns`: the FlatBuffers `Kind`, decoded from hex.
    pub returns: Vec<u8>,
    /// `args_text`: each argument as `"name: kind"`, if recorded.
    pub args_text: Option<Vec<String>>,
    /// `returns_text`: the return kind in words, if recorded.
    pub returns_text: Option<String>,
    /// `writeable`: whether the function may write to the database.
    pub writeable: bool,
    /// `comment`: the function's doc comment, if any.
    pub comment: Option<String>,
    /// Keys of the table other than the ones above.
    pub extra: Table,
}

impl ExportsManifest {
    /// Parses an `exports.toml`.
    ///
    /// `functions` is required, as the original runtime requires it; each
    /// function needs `args` and `returns` as hex strings. Errors name the
    /// function (`` `name` ``, or `#index` for the default export) and key.
    pub fn parse(text: &str) -> Result<Self, PackageError> {
        let mut document: Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            PackageError::exports(None, format!("line {line}: {}", e.message().trim()))
        })?;
        let functions = match document.remove("functions") {
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(PackageError::exports(
                    None,
                    format!(
                        "`functions` must be an array of tables, not {}",
                        other.type_str()
                    ),
                ));
            }
            None => {
                return Err(PackageError::exports(
                    None,
                    "missing key `functions`; write `functions = []` for a module that exports \
                     nothing",
                ));
            }
        };
        let functions = functions
            .into_iter()
            .enumerate()
            .map(|(index, item)| FunctionExport::from_value(index, item))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            functions,
            extra: document,
        })
    }

    /// Writes the manifest as TOML that the original runtime reads: known
    /// keys first in its order, signatures as lowercase hex, `functions`
    /// always present.
    pub fn to_toml(&self) -> Result<String, PackageError> {
        let out = OutManifest {
            functions: self.functions.iter().map(OutFunction::from).collect(),
            extra: &self.extra,
        };
        toml::to_string(&out)
            .map_err(|e| PackageError::exports(None, format!("cannot write the manifest: {e}")))
    }

    /// The function called `name`, or the default export when `name` is
    /// `None`. With duplicate names, the first one.
    pub fn get(&self, name: Option<&str>) -> Option<&FunctionExport> {
        self.functions.iter().find(|f| f.name.as_deref() == name)
    }
}

impl FunctionExport {
    fn from_value(index: usize, item: Value) -> Result<Self, PackageError> {
        let Value::Table(mut table) = item else {
            return Err(PackageError::exports(
                Some(format!("#{index}")),
                format!("must be a table, not {}", item.type_str()),
            ));
        };
        let name = match table.remove("name") {
            None => None,
            Some(Value::String(name)) => Some(name),
            Some(other) => {
                return Err(PackageError::exports(
                    Some(format!("#{index}")),
                    format!("key `name` must be a string, not {}", other.type_str()),
                ));
            }
        };
        let label = match &name {
            Some(name) => format!("`{name}`"),
            None => format!("#{index} (the default export)"),
        };
        let mut fields = Fields {
            table: &mut table,
            label: &label,
        };
        let args = fields.hex("args")?;
        let returns = fields.hex("returns")?;
        let args_text = fields.string_list("args_text")?;
        let returns_text = fields.string("returns_text")?;
        let writeable = fields.boolean("writeable")?.unwrap_or(false);
        let comment = fields.string("comment")?;
        Ok(Self {
            name,
            args,
            returns,
            args_text,
            returns_text,
            writeable,
            comment,
            extra: table,
        })
    }

    /// The arguments in words, e.g. `a: int, b: int`; when the manifest has
    /// no `args_text`, a note of how many signature bytes there are.
    pub fn args_display(&self) -> String {
        match &self.args_text {
            Some(args) => args.join(", "),
            None => format!("<{} bytes of signature>", self.args.len()),
        }
    }

    /// The return kind in words, e.g. `int`; when the manifest has no
    /// `returns_text`, a note of how many signature bytes there are.
    pub fn returns_display(&self) -> String {
        match &self.returns_text {
            Some(returns) => returns.clone(),
            None => format!("<{} bytes of signature>", self.returns.len()),
        }
    }

    /// The whole signature, e.g. `add(a: int, b: int) -> int`; the default
    /// export shows as `<default>`.
    pub fn signature(&self) -> String {
        format!(
            "{}({}) -> {}",
            self.name.as_deref().unwrap_or("<default>"),
            self.args_display(),
            self.returns_display()
        )
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Takes typed keys out of one function table, naming the function and key
/// in every error.
struct Fields<'a> {
    table: &'a mut Table,
    label: &'a str,
}

impl Fields<'_> {
    fn error(&self, key: &str, message: impl std::fmt::Display) -> PackageError {
        PackageError::exports(
            Some(self.label.to_owned()),
            format!("key `{key}` {message}"),
        )
    }

    fn hex(&mut self, key: &str) -> Result<Vec<u8>, PackageError> {
        match self.table.remove(key) {
            Some(Value::String(text)) => hex::decode(&text)
                .map_err(|e| self.error(key, format_args!("is not valid hex: {e}"))),
            Some(other) => Err(self.error(
                key,
                format_args!("must be a hex string, not {}", other.type_str()),
            )),
            None => Err(self.error(key, "is missing")),
        }
    }

    fn string(&mut self, key: &str) -> Result<Option<String>, PackageError> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.error(
                key,
                format_args!("must be a string, not {}", other.type_str()),
            )),
        }
    }

    fn boolean(&mut self, key: &str) -> Result<Option<bool>, PackageError> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(Value::Boolean(value)) => Ok(Some(value)),
            Some(other) => Err(self.error(
                key,
                format_args!("must be a boolean, not {}", other.type_str()),
            )),
        }
    }

    fn string_list(&mut self, key: &str) -> Result<Option<Vec<String>>, PackageError> {
        let items = match self.table.remove(key) {
            None => return Ok(None),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(self.error(
                    key,
                    format_args!("must be an array of strings, not {}", other.type_str()),
                ));
            }
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                other => Err(self.error(
                    key,
                    format_args!("must hold only strings, not {}", other.type_str()),
                )),
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

/// The manifest as written. Field order is the order of the keys on disk,
/// which is the original's.
#[derive(Serialize)]
struct OutManifest<'a> {
    functions: Vec<OutFunction<'a>>,
    #[serde(flatten)]
    extra: &'a Table,
}

#[derive(Serialize)]
struct OutFunction<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    args: String,
    returns: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    args_text: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    returns_text: Option<&'a str>,
    writeable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    #[serde(flatten)]
    extra: &'a Table,
}

impl<'a> From<&'a FunctionExport> for OutFunction<'a> {
    fn from(function: &'a FunctionExport) -> Self {
        Self {
            name: function.name.as_deref(),
            args: hex::encode(&function.args),
            returns: hex::encode(&function.returns),
            args_text: function.args_text.as_deref(),
            returns_text: function.returns_text.as_deref(),
            writeable: function.writeable,
            comment: function.comment.as_deref(),
            extra: &function.extra,
        }
    }
}
