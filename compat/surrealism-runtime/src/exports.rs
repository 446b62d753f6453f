//! `surrealism/exports.toml`: the signatures baked into a package, in
//! 0.6.5's model (argument lists and kinds decoded).
//!
//! In the file, `args` and `returns` are the `surrealdb-types` FlatBuffers
//! encodings of the argument list and the return kind, as hex. surli keeps
//! them as opaque bytes; this model decodes them, as 0.6.5 does, through
//! surli's guarded decoders (a hostile blob is an error, never a panic).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use surli::codec;
use surrealdb_types::Kind;
use surrealism_types::err::{PrefixErr, SurrealismResult};

/// Every exported function of a module.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportsManifest {
    /// The functions, in the order the module lists them.
    pub functions: Vec<FunctionExport>,
}

/// One exported function.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionExport {
    /// The name; `None` for the default export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The arguments' names and kinds, in order.
    #[serde(with = "hex_arguments")]
    pub args: Vec<(String, Kind)>,
    /// The return kind.
    #[serde(with = "hex_kind")]
    pub returns: Kind,
    /// The arguments as the module author wrote them, when the build tool
    /// recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_text: Option<Vec<String>>,
    /// The return type as the module author wrote it, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns_text: Option<String>,
    /// Whether the function may write (`#[surrealism(writeable)]`).
    #[serde(default)]
    pub writeable: bool,
    /// The author's comment (doc comment or `comment = "..."`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl FunctionExport {
    /// The arguments for display: the recorded text, or `name: kind` pairs.
    pub fn args_display(&self) -> String {
        match &self.args_text {
            Some(text) => text.join(", "),
            None => self
                .args
                .iter()
                .map(|(name, kind)| format!("{name}: {kind}"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The return type for display: the recorded text, or the kind.
    pub fn returns_display(&self) -> String {
        match &self.returns_text {
            Some(text) => text.clone(),
            None => self.returns.to_string(),
        }
    }
}

impl ExportsManifest {
    /// A manifest with no functions, as the build tool starts from.
    pub fn empty() -> Self {
        Self {
            functions: Vec::new(),
        }
    }

    /// Reads `exports.toml` text.
    pub fn parse(s: &str) -> SurrealismResult<Self> {
        toml::from_str(s).prefix_err(|| "Failed to parse exports manifest")
    }

    /// Writes the manifest as `exports.toml` text.
    pub fn to_toml(&self) -> SurrealismResult<String> {
        toml::to_string(self).prefix_err(|| "Failed to serialize exports manifest")
    }

    /// The function named `name`; `None` finds the default export.
    pub fn get_signature(&self, name: Option<&str>) -> Option<&FunctionExport> {
        self.functions.iter().find(|f| f.name.as_deref() == name)
    }

    /// The same manifest in surli's model, kinds encoded again.
    pub(crate) fn to_surli(&self) -> SurrealismResult<surli::package::ExportsManifest> {
        let functions = self
            .functions
            .iter()
            .map(|f| {
                Ok(surli::package::FunctionExport {
                    name: f.name.clone(),
                    args: encode_arguments(&f.args)?,
                    returns: surrealdb_types::encode_kind(&f.returns)
                        .prefix_err(|| "Failed to encode a return kind")?,
                    args_text: f.args_text.clone(),
                    returns_text: f.returns_text.clone(),
                    writeable: f.writeable,
                    comment: f.comment.clone(),
                    extra: Default::default(),
                })
            })
            .collect::<SurrealismResult<_>>()?;
        Ok(surli::package::ExportsManifest {
            functions,
            extra: Default::default(),
        })
    }

    /// A manifest read by surli, its kinds decoded.
    pub(crate) fn from_surli(manifest: &surli::package::ExportsManifest) -> SurrealismResult<Self> {
        let functions = manifest
            .functions
            .iter()
            .map(|f| {
                let shown = f.name.as_deref().unwrap_or("<default>");
                Ok(FunctionExport {
                    name: f.name.clone(),
                    args: codec::decode_arguments(&f.args).prefix_err(|| {
                        format!("Failed to parse exports.toml: args of `{shown}`")
                    })?,
                    returns: codec::decode_kind(&f.returns).prefix_err(|| {
                        format!("Failed to parse exports.toml: returns of `{shown}`")
                    })?,
                    args_text: f.args_text.clone(),
                    returns_text: f.returns_text.clone(),
                    writeable: f.writeable,
                    comment: f.comment.clone(),
                })
            })
            .collect::<SurrealismResult<_>>()?;
        Ok(Self { functions })
    }
}

fn encode_arguments(args: &[(String, Kind)]) -> SurrealismResult<Vec<u8>> {
    let pairs: Vec<(&str, Kind)> = args
        .iter()
        .map(|(name, kind)| (name.as_str(), kind.clone()))
        .collect();
    surrealdb_types::encode_argument_list(&pairs).prefix_err(|| "Failed to encode an argument list")
}

/// `returns`: a kind, as hex of its encoding.
mod hex_kind {
    use super::{Deserialize, Deserializer, Kind, Serializer};

    pub(super) fn serialize<S: Serializer>(kind: &Kind, s: S) -> Result<S::Ok, S::Error> {
        let bytes = surrealdb_types::encode_kind(kind).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text).map_err(serde::de::Error::custom)?;
        surli::codec::decode_kind(&bytes).map_err(serde::de::Error::custom)
    }
}

/// `args`: an argument list, as hex of its encoding.
mod hex_arguments {
    use super::{Deserialize, Deserializer, Kind, Serializer};

    pub(super) fn serialize<S: Serializer>(
        args: &[(String, Kind)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let bytes = super::encode_arguments(args).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(String, Kind)>, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text).map_err(serde::de::Error::custom)?;
        surli::codec::decode_arguments(&bytes).map_err(serde::de::Error::custom)
    }
}
