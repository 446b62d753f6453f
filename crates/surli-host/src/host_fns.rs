//! The `surrealism:plugin/host` functions: check, decode, delegate, encode.
//!
//! Every failure becomes the `result` error the guest receives; none traps
//! and none can panic the host (decoding runs under the guard of
//! [`codec`](crate::codec)).

use std::sync::Arc;

use surli_kv::{KvError, KvStore, KvValue};
use surrealdb_types::{Object, Value};

use crate::bindings::surrealism::plugin::host::Host;
use crate::codec;
use crate::context::ModuleLabel;
use crate::{CallInfo, HostError, HostState};

type GuestResult<T> = Result<T, String>;

fn kv_error(error: KvError) -> String {
    error.to_string()
}

fn codec_error(error: HostError) -> String {
    error.to_string()
}

/// Decodes stored values for a reply. They were checked when stored, so a
/// failure means the store holds bytes it was not given by this host.
fn decode_stored(bytes: &[u8]) -> GuestResult<Value> {
    codec::decode_value(bytes)
        .map_err(|error| format!("kv store holds an unreadable value: {error}"))
}

impl HostState {
    /// Encodes the answer of `function` for the guest, refusing one over
    /// the module's answer limit before it reaches guest memory.
    fn answer(&self, function: &'static str, value: &Value) -> GuestResult<Vec<u8>> {
        let bytes = codec::encode_value(value).map_err(codec_error)?;
        let limit = self.env().max_answer_bytes();
        if bytes.len() > limit {
            return Err(HostError::AnswerTooLarge {
                function,
                size: bytes.len(),
                limit,
            }
            .to_string());
        }
        Ok(bytes)
    }

    /// The store of this host call: the one the call's context supplies,
    /// or else the module's. Cloned out: a borrow of `self` held across an
    /// await would need `HostState: Sync`, which WASI's state is not.
    fn kv(&self) -> Arc<dyn KvStore> {
        let call = self.active_call();
        call.ctx
            .kv(&call.info)
            .unwrap_or_else(|| Arc::clone(self.env().kv()))
    }

    /// The call's info as `sql` and `run` hand it to the context: with the
    /// functions the module may call, so a context that runs queries can
    /// hold the module's queries to them.
    fn granted(&self, info: &CallInfo) -> CallInfo {
        info.clone()
            .with_allowed_functions(Arc::clone(self.env().allowed_functions()))
    }

    fn check_sql_allowed(&self) -> GuestResult<()> {
        if self.env().capabilities().allow_arbitrary_queries {
            Ok(())
        } else {
            Err(format!(
                "sql is not allowed for module {}: set capabilities.allow_arbitrary_queries = true \
                 in surrealism.toml",
                ModuleLabel(self.env().module())
            ))
        }
    }

    fn check_run_allowed(&self, function: &str) -> GuestResult<()> {
        if self.env().capabilities().allow_functions.allows(function) {
            Ok(())
        } else {
            let family = function
                .split_once("::")
                .map_or(function, |(family, _)| family);
            Err(format!(
                "function `{function}` is not allowed for module {}: add \"{function}\" (or \
                 \"{family}::*\") to capabilities.allow_functions in surrealism.toml",
                ModuleLabel(self.env().module())
            ))
        }
    }
}

impl Host for HostState {
    async fn sql(&mut self, query: String, vars: Vec<u8>) -> GuestResult<Vec<u8>> {
        self.check_sql_allowed()?;
        // The WIT allows an empty buffer for "no variables"; the original
        // runtime failed to decode it.
        let vars = if vars.is_empty() {
            Object::new()
        } else {
            codec::decode_entries(&vars)
                .map_err(codec_error)?
                .into_iter()
                .collect()
        };
        let call = self.active_call();
        let info = self.granted(&call.info);
        let value = call
            .ctx
            .sql(&info, &query, vars)
            .await
            .map_err(|error| error.to_string())?;
        self.answer("sql", &value)
    }

    async fn run(
        &mut self,
        fnc: String,
        version: Option<String>,
        args: Vec<u8>,
    ) -> GuestResult<Vec<u8>> {
        self.check_run_allowed(&fnc)?;
        let args = codec::decode_args(&args).map_err(codec_error)?;
        let call = self.active_call();
        let info = self.granted(&call.info);
        let value = call
            .ctx
            .run(&info, &fnc, version.as_deref(), args)
            .await
            .map_err(|error| error.to_string())?;
        self.answer("run", &value)
    }

    async fn kv_get(&mut self, key: String) -> GuestResult<Option<Vec<u8>>> {
        let value = self.kv().get(&key).await.map_err(kv_error)?;
        Ok(value.map(|bytes| bytes.to_vec()))
    }

    async fn kv_set(&mut self, key: String, value: Vec<u8>) -> GuestResult<()> {
        // Stored bytes are handed back verbatim and decoded by later batch
        // reads, so only a well-formed value may get in.
        codec::decode_value(&value).map_err(|error| format!("kv-set of key `{key}`: {error}"))?;
        self.kv()
            .set(key, KvValue::from(value))
            .await
            .map_err(kv_error)
    }

    async fn kv_del(&mut self, key: String) -> GuestResult<()> {
        self.kv().del(&key).await.map_err(kv_error)
    }

    async fn kv_exists(&mut self, key: String) -> GuestResult<bool> {
        self.kv().exists(&key).await.map_err(kv_error)
    }

    async fn kv_del_rng(&mut self, range: Vec<u8>) -> GuestResult<()> {
        let range = codec::decode_range(&range).map_err(codec_error)?;
        self.kv().del_range(range).await.map_err(kv_error)?;
        Ok(())
    }

    async fn kv_get_batch(&mut self, keys: Vec<String>) -> GuestResult<Vec<u8>> {
        let found = self.kv().get_batch(&keys).await.map_err(kv_error)?;
        let values = found
            .iter()
            .map(|value| value.as_deref().map(decode_stored).transpose())
            .collect::<GuestResult<Vec<_>>>()?;
        codec::encode_optional_values(&values).map_err(codec_error)
    }

    async fn kv_set_batch(&mut self, entries: Vec<u8>) -> GuestResult<()> {
        let entries = codec::decode_entries(&entries)
            .map_err(codec_error)?
            .into_iter()
            .map(|(key, value)| {
                let bytes = codec::encode_value(&value).map_err(codec_error)?;
                Ok((key, KvValue::from(bytes)))
            })
            .collect::<GuestResult<Vec<_>>>()?;
        self.kv().set_batch(entries).await.map_err(kv_error)
    }

    async fn kv_del_batch(&mut self, keys: Vec<String>) -> GuestResult<()> {
        self.kv().del_batch(&keys).await.map_err(kv_error)
    }

    async fn kv_keys(&mut self, range: Vec<u8>) -> GuestResult<Vec<String>> {
        let range = codec::decode_range(&range).map_err(codec_error)?;
        self.kv().keys(range).await.map_err(kv_error)
    }

    async fn kv_values(&mut self, range: Vec<u8>) -> GuestResult<Vec<u8>> {
        let range = codec::decode_range(&range).map_err(codec_error)?;
        let stored = self.kv().values(range).await.map_err(kv_error)?;
        let values = stored
            .iter()
            .map(|bytes| decode_stored(bytes))
            .collect::<GuestResult<Vec<_>>>()?;
        codec::encode_values(&values).map_err(codec_error)
    }

    async fn kv_entries(&mut self, range: Vec<u8>) -> GuestResult<Vec<u8>> {
        let range = codec::decode_range(&range).map_err(codec_error)?;
        let stored = self.kv().entries(range).await.map_err(kv_error)?;
        let entries = stored
            .into_iter()
            .map(|(key, bytes)| Ok((key, decode_stored(&bytes)?)))
            .collect::<GuestResult<Vec<_>>>()?;
        codec::encode_entries(&entries).map_err(codec_error)
    }

    async fn kv_count(&mut self, range: Vec<u8>) -> GuestResult<u64> {
        let range = codec::decode_range(&range).map_err(codec_error)?;
        self.kv().count(range).await.map_err(kv_error)
    }
}
