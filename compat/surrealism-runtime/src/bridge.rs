//! 0.6.5's `InvocationContext` seen through surli's.
//!
//! The two traits differ in shape: 0.6.5's methods take `&mut self` and a
//! controller swaps its context between requests; surli shares a context
//! (`&self`, behind an `Arc`) for a whole lease. A [`Bridge`] is the one
//! surli context a controller's lease holds; it keeps the embedder's boxed
//! context in a slot, takes it out for the length of one host call, and
//! puts it back when the call ends (also when the call's future is dropped
//! midway). No lock is held across an await.
//!
//! The KV store of a call is the embedder's too: the guest's `kv-*` calls
//! reach whatever the context's `kv()` returns. When that is the module's
//! own store (as in SurrealDB, which hands back `Runtime::kv_store()`), the
//! bridge gives surli that store's bytes directly, so the common case pays
//! no conversion; any other store is reached through [`KvBridge`], which
//! decodes and encodes values at the boundary.

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use parking_lot::Mutex;
use surli::kv::{KeyRange, KvError, KvStore, KvValue};
use surli::{CallInfo, ContextError};
use surrealdb_types::{Object, Value};

use crate::config::SurrealismConfig;
use crate::host::{InvocationContext, NullContext};
use crate::kv::{BTreeMapStore, KVStore};

type Output = Arc<dyn Fn(&str) + Send + Sync>;

/// The surli context of one controller.
pub(crate) struct Bridge {
    config: Arc<SurrealismConfig>,
    /// The embedder's context; empty only while a host call uses it.
    slot: Mutex<Option<Box<dyn InvocationContext>>>,
    stdout: Mutex<Output>,
    stderr: Mutex<Output>,
    /// The module's own store, recognised when a context hands it back.
    module_store: Arc<BTreeMapStore>,
    /// The way to any other store a context hands out.
    kv: Arc<KvBridge>,
}

impl Bridge {
    pub(crate) fn new(
        config: Arc<SurrealismConfig>,
        module_store: Arc<BTreeMapStore>,
        context: Box<dyn InvocationContext>,
    ) -> Arc<Self> {
        let stdout = context.stdout_callback();
        let stderr = context.stderr_callback();
        Arc::new_cyclic(|bridge| Self {
            config,
            slot: Mutex::new(Some(context)),
            stdout: Mutex::new(stdout),
            stderr: Mutex::new(stderr),
            module_store,
            kv: Arc::new(KvBridge {
                bridge: Weak::clone(bridge),
            }),
        })
    }

    /// Installs `context` (and its output callbacks) for what follows.
    pub(crate) fn set(&self, context: Box<dyn InvocationContext>) {
        *self.stdout.lock() = context.stdout_callback();
        *self.stderr.lock() = context.stderr_callback();
        *self.slot.lock() = Some(context);
    }

    /// Installs the context that refuses everything.
    pub(crate) fn clear(&self) {
        self.set(Box::new(NullContext));
    }

    /// The embedder's context, out of its slot until the guard drops.
    fn take(&self) -> Result<Taken<'_>, String> {
        let context =
            self.slot.lock().take().ok_or_else(|| {
                "the invocation context is in use by another host call".to_owned()
            })?;
        Ok(Taken {
            bridge: self,
            context: Some(context),
        })
    }
}

/// A context taken out of its bridge, put back on drop.
struct Taken<'a> {
    bridge: &'a Bridge,
    context: Option<Box<dyn InvocationContext>>,
}

impl Taken<'_> {
    fn context(&mut self) -> Result<&mut Box<dyn InvocationContext>, String> {
        self.context
            .as_mut()
            .ok_or_else(|| "the invocation context is gone".to_owned())
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        let mut slot = self.bridge.slot.lock();
        // A context installed meanwhile wins over the one being returned.
        if slot.is_none() {
            *slot = self.context.take();
        }
    }
}

#[async_trait]
impl surli::InvocationContext for Bridge {
    async fn sql(
        &self,
        _call: &CallInfo,
        query: &str,
        vars: Object,
    ) -> Result<Value, ContextError> {
        let mut taken = self.take()?;
        taken
            .context()?
            .sql(&self.config, query.to_owned(), vars)
            .await
            .map_err(ContextError::new)
    }

    async fn run(
        &self,
        _call: &CallInfo,
        function: &str,
        version: Option<&str>,
        args: Vec<Value>,
    ) -> Result<Value, ContextError> {
        let mut taken = self.take()?;
        taken
            .context()?
            .run(
                &self.config,
                function.to_owned(),
                version.map(str::to_owned),
                args,
            )
            .await
            .map_err(ContextError::new)
    }

    fn kv(&self, _call: &CallInfo) -> Option<Arc<dyn KvStore>> {
        let module_store = self.take().ok().and_then(|mut taken| {
            let store = taken.context().ok()?.kv().ok()?;
            let own = Arc::as_ptr(&self.module_store);
            std::ptr::addr_eq(store as *const dyn KVStore, own).then_some(())
        });
        Some(match module_store {
            Some(()) => self.module_store.shared() as Arc<dyn KvStore>,
            None => Arc::clone(&self.kv) as Arc<dyn KvStore>,
        })
    }

    fn stdout(&self, _call: &CallInfo, line: &str) {
        let output = Arc::clone(&self.stdout.lock());
        output(&format!("{line}\n"));
    }

    fn stderr(&self, _call: &CallInfo, line: &str) {
        let output = Arc::clone(&self.stderr.lock());
        output(&format!("{line}\n"));
    }
}

/// A context's own KV store (one that is not the module's), as surli's
/// byte-valued store.
#[derive(Debug)]
pub(crate) struct KvBridge {
    bridge: Weak<Bridge>,
}

fn backend(error: impl std::fmt::Display) -> KvError {
    KvError::Backend(error.to_string())
}

fn decode(bytes: &[u8]) -> Result<Value, KvError> {
    surli::codec::decode_value(bytes).map_err(backend)
}

fn encode(value: &Value) -> Result<KvValue, KvError> {
    surli::codec::encode_value(value)
        .map(KvValue::from)
        .map_err(backend)
}

impl KvBridge {
    fn bridge(&self) -> Result<Arc<Bridge>, KvError> {
        self.bridge
            .upgrade()
            .ok_or_else(|| backend("the controller is gone"))
    }
}

impl Taken<'_> {
    /// The store the taken context hands out.
    fn store(&mut self) -> Result<&dyn KVStore, KvError> {
        self.context().map_err(backend)?.kv().map_err(backend)
    }
}

/// Runs `$body` with `$store` bound to the store the controller's current
/// context hands out; the context is back in its slot afterwards.
macro_rules! with_store {
    ($kv:expr, |$store:ident| $body:expr) => {{
        let bridge = $kv.bridge()?;
        let mut taken = bridge.take().map_err(backend)?;
        let $store = taken.store()?;
        let outcome: anyhow::Result<_> = $body;
        outcome.map_err(backend)
    }};
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("module", &self.config.meta.name)
            .finish_non_exhaustive()
    }
}

fn bounds(range: KeyRange) -> (std::ops::Bound<String>, std::ops::Bound<String>) {
    (range.start, range.end)
}

#[async_trait]
impl KvStore for KvBridge {
    async fn get(&self, key: &str) -> Result<Option<KvValue>, KvError> {
        let found = with_store!(self, |s| s.get(key.to_owned()).await)?;
        found.as_ref().map(encode).transpose()
    }

    async fn set(&self, key: String, value: KvValue) -> Result<(), KvError> {
        let value = decode(&value)?;
        with_store!(self, |s| s.set(key, value).await)
    }

    async fn del(&self, key: &str) -> Result<(), KvError> {
        with_store!(self, |s| s.del(key.to_owned()).await)
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        with_store!(self, |s| s.exists(key.to_owned()).await)
    }

    async fn del_range(&self, range: KeyRange) -> Result<u64, KvError> {
        // An inverted range holds nothing, and some stores (0.6.5's own
        // among them) panic on one: it never reaches them.
        if range.is_empty_or_inverted() {
            return Ok(0);
        }
        let (start, end) = bounds(range);
        with_store!(self, |s| async {
            let count = s.count(start.clone(), end.clone()).await?;
            s.del_rng(start, end).await?;
            Ok(count)
        }
        .await)
    }

    async fn get_batch(&self, keys: &[String]) -> Result<Vec<Option<KvValue>>, KvError> {
        let found = with_store!(self, |s| s.get_batch(keys.to_vec()).await)?;
        found
            .iter()
            .map(|v| v.as_ref().map(encode).transpose())
            .collect()
    }

    async fn set_batch(&self, entries: Vec<(String, KvValue)>) -> Result<(), KvError> {
        let entries = entries
            .into_iter()
            .map(|(key, value)| Ok((key, decode(&value)?)))
            .collect::<Result<Vec<_>, KvError>>()?;
        with_store!(self, |s| s.set_batch(entries).await)
    }

    async fn del_batch(&self, keys: &[String]) -> Result<(), KvError> {
        with_store!(self, |s| s.del_batch(keys.to_vec()).await)
    }

    async fn keys(&self, range: KeyRange) -> Result<Vec<String>, KvError> {
        if range.is_empty_or_inverted() {
            return Ok(Vec::new());
        }
        let (start, end) = bounds(range);
        with_store!(self, |s| s.keys(start, end).await)
    }

    async fn values(&self, range: KeyRange) -> Result<Vec<KvValue>, KvError> {
        if range.is_empty_or_inverted() {
            return Ok(Vec::new());
        }
        let (start, end) = bounds(range);
        let values = with_store!(self, |s| s.values(start, end).await)?;
        values.iter().map(encode).collect()
    }

    async fn entries(&self, range: KeyRange) -> Result<Vec<(String, KvValue)>, KvError> {
        if range.is_empty_or_inverted() {
            return Ok(Vec::new());
        }
        let (start, end) = bounds(range);
        let entries = with_store!(self, |s| s.entries(start, end).await)?;
        entries
            .into_iter()
            .map(|(key, value)| Ok((key, encode(&value)?)))
            .collect()
    }

    async fn count(&self, range: KeyRange) -> Result<u64, KvError> {
        if range.is_empty_or_inverted() {
            return Ok(0);
        }
        let (start, end) = bounds(range);
        with_store!(self, |s| s.count(start, end).await)
    }
}
