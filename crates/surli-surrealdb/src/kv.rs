use std::collections::HashMap;
use std::fmt;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use surli_config::PackageMeta;
use surli_kv::{KeyRange, KvError, KvLimits, KvStore, KvValue, ReadBudget};
use surrealdb::types::{
    Array, Bytes, Object, RecordId, RecordIdKey, RecordIdKeyRange, Table, ToSql, Value,
};
use surrealdb::{Connection, Surreal};

use crate::response::{is_conflict, succeeded};

/// How many records one read asks for at a time: a read that would break
/// `max_read_bytes` stops at the page that breaks it, instead of loading
/// the whole range first.
const KEY_PAGE: usize = 1024;
const VALUE_PAGE: usize = 64;

/// How often a write is tried when the database reports a transaction
/// conflict with a concurrent writer, and the first pause between tries
/// (doubled each time).
const WRITE_ATTEMPTS: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(2);

/// What a transaction throws when it would break `max_entries`, followed by
/// the count it would have reached. The store turns it back into
/// [`KvError::TooManyEntries`].
const TOO_MANY: &str = "surli-kv:too-many-entries:";

/// The table of the per-store guard records (see `SurrealKvStore::guard`).
const GUARD_TABLE: &str = "surli_kv_guard";

/// A module's KV store kept in SurrealDB: one table per module, one record
/// per key.
///
/// The record id is `table:[key]` (an array key holding the key string),
/// which SurrealDB orders byte-wise by the key's UTF-8 bytes, the order of
/// the in-memory store; an array also admits the empty key, which a plain
/// string id does not. The value is the guest's encoded bytes in field `v`,
/// stored as given. Ranges are record-id range scans; nothing in a query's
/// text comes from the guest or the module (keys, values, the table name
/// and the ranges are all bound variables).
///
/// With a file-backed engine (`surrealkv://`) the store survives restarts;
/// with a clustered one (TiKV) every host sees the same store. The handle
/// should be the embedder's own (not a caller's) with the namespace and
/// database chosen: the store belongs to the module, whoever calls it.
///
/// # Limits and atomicity
///
/// The [`KvLimits`] are those of the in-memory store, checked in the same
/// order. `set` of a new key and `set_batch` check the entry count inside
/// the same transaction as the write, so concurrent writers cannot
/// overshoot it together; a failed batch, whatever fails, leaves nothing
/// behind. Counting is a scan of the table's ids, so with `max_entries`
/// set a write of a new key costs time in proportion to the store's size.
/// Writes that conflict with a concurrent transaction are retried a few
/// times before the conflict is reported as [`KvError::Backend`].
///
/// A read that spans more than one page (1,024 keys, or 64 values) is not
/// one snapshot: a write that lands between pages may or may not be seen,
/// but a key present throughout is returned exactly once, in order.
pub struct SurrealKvStore<C: Connection> {
    db: Surreal<C>,
    table: Table,
    limits: KvLimits,
    /// Set once the tables are known to exist (SurrealDB 3 refuses to read
    /// from a table that was never defined).
    ready: AtomicBool,
}

impl<C: Connection> SurrealKvStore<C> {
    /// The store of the module `meta` names, in the table
    /// [`table_name`](Self::table_name) gives it, enforcing `limits`.
    pub fn for_module(db: Surreal<C>, meta: &PackageMeta, limits: KvLimits) -> Self {
        Self::new(db, Self::table_name(meta), limits)
    }

    /// A store in `table`, enforcing `limits`. Give every module a table of
    /// its own: the records carry no module of their own.
    pub fn new(db: Surreal<C>, table: impl Into<String>, limits: KvLimits) -> Self {
        Self {
            db,
            table: Table::new(table.into()),
            limits,
            ready: AtomicBool::new(false),
        }
    }

    /// The table a module's store lives in:
    /// `surli_kv/ORGANISATION/NAME@VERSION`, e.g.
    /// `surli_kv/fixtures/demo@0.1.0`. A new version of a module starts with
    /// an empty store.
    pub fn table_name(meta: &PackageMeta) -> String {
        format!(
            "surli_kv/{}/{}@{}",
            meta.organisation, meta.name, meta.version
        )
    }

    /// The table this store lives in.
    pub fn table(&self) -> &str {
        self.table.as_str()
    }

    /// The limits this store enforces.
    pub fn limits(&self) -> &KvLimits {
        &self.limits
    }

    /// Defines the store's table, and the guard table, when this store has
    /// not seen them yet. Both are `PERMISSIONS NONE`: record users cannot
    /// see or touch a module's store; the owner and editors can.
    async fn ensure_tables(&self) -> Result<(), KvError> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        // The name goes into the query text through the client's own
        // identifier escaping: `DEFINE TABLE` takes no variable.
        let query = format!(
            "DEFINE TABLE IF NOT EXISTS {} SCHEMALESS PERMISSIONS NONE; \
             DEFINE TABLE IF NOT EXISTS {GUARD_TABLE} SCHEMALESS PERMISSIONS NONE;",
            self.table.to_sql()
        );
        self.run_raw(&query, Object::new(), 0, true).await?;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// The record every write of a new key under `max_entries` also writes:
    /// two transactions that each count the table and add a key would both
    /// pass the count on their own snapshot; writing one common record makes
    /// the second of them conflict, retry, and count again.
    fn guard(&self) -> Value {
        Value::RecordId(RecordId::new(
            Table::new(GUARD_TABLE),
            RecordIdKey::from(Array::from(vec![Value::String(
                self.table.as_str().to_owned(),
            )])),
        ))
    }

    fn id(&self, key: &str) -> Value {
        Value::RecordId(RecordId::new(self.table.clone(), array_key(key)))
    }

    fn ids(&self, keys: &[String]) -> Value {
        Value::Array(Array::from(
            keys.iter().map(|key| self.id(key)).collect::<Vec<_>>(),
        ))
    }

    fn range(&self, start: Bound<String>, end: Bound<String>) -> Value {
        let bound = |bound: Bound<String>| match bound {
            Bound::Included(key) => Bound::Included(array_key(&key)),
            Bound::Excluded(key) => Bound::Excluded(array_key(&key)),
            Bound::Unbounded => Bound::Unbounded,
        };
        let range = RecordIdKeyRange {
            start: bound(start),
            end: bound(end),
        };
        Value::RecordId(RecordId::new(self.table.clone(), RecordIdKey::from(range)))
    }

    /// `$range` bound to `range`, or `None` for a range that holds nothing.
    fn range_vars(&self, range: KeyRange) -> Option<Object> {
        if range.is_empty_or_inverted() {
            return None;
        }
        let (start, end) = range.into_bounds();
        let mut vars = Object::new();
        vars.insert("range".to_owned(), self.range(start, end));
        Some(vars)
    }

    /// Runs `query` with `vars` and returns the value of statement `take`.
    /// Writes (`retry`) are tried again on a transaction conflict.
    async fn run(
        &self,
        query: &str,
        vars: Object,
        take: usize,
        retry: bool,
    ) -> Result<Value, KvError> {
        self.ensure_tables().await?;
        self.run_raw(query, vars, take, retry).await
    }

    async fn run_raw(
        &self,
        query: &str,
        vars: Object,
        take: usize,
        retry: bool,
    ) -> Result<Value, KvError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match self.run_once(query, vars.clone(), take).await {
                Err(error) if retry && attempt < WRITE_ATTEMPTS && is_conflict(&error) => {
                    tracing::debug!(
                        target: "surli::kv",
                        table = self.table.as_str(),
                        attempt,
                        "kv write conflicted with another transaction; retrying"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
                outcome => return outcome.map_err(|error| self.kv_error(&error)),
            }
        }
    }

    async fn run_once(
        &self,
        query: &str,
        vars: Object,
        take: usize,
    ) -> Result<Value, surrealdb::Error> {
        let response = self.db.query(query).bind(vars).await?;
        succeeded(response)?.take::<Value>(take)
    }

    fn kv_error(&self, error: &surrealdb::Error) -> KvError {
        let message = error.message();
        if let Some(at) = message.find(TOO_MANY) {
            let digits: String = message[at + TOO_MANY.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let (Ok(would_be), Some(limit)) = (digits.parse(), self.limits.max_entries) {
                return KvError::TooManyEntries { would_be, limit };
            }
        }
        KvError::Backend(format!("table `{}`: {message}", self.table.as_str()))
    }

    /// Reads `range` page by page, handing each record's key and (when
    /// `with_values`) value to `each`, which charges the read budget.
    async fn scan(
        &self,
        range: KeyRange,
        with_values: bool,
        mut each: impl FnMut(String, Option<KvValue>) -> Result<(), KvError>,
    ) -> Result<(), KvError> {
        if range.is_empty_or_inverted() {
            return Ok(());
        }
        let (mut start, end) = range.into_bounds();
        let (query, page) = if with_values {
            (
                "SELECT VALUE [record::id(id)[0], v] FROM $range LIMIT $page",
                VALUE_PAGE,
            )
        } else {
            (
                "SELECT VALUE record::id(id)[0] FROM $range LIMIT $page",
                KEY_PAGE,
            )
        };
        loop {
            let mut vars = Object::new();
            vars.insert("range".to_owned(), self.range(start, end.clone()));
            vars.insert("page".to_owned(), Value::from_t(clamp_i64(to_u64(page))));
            let rows = into_array(self.run(query, vars, 0, false).await?)?;
            let fetched = rows.len();
            let mut last = None;
            for row in rows {
                let (key, value) = if with_values {
                    let (key, value) = key_and_value(row)?;
                    (key, Some(value))
                } else {
                    (into_string(row)?, None)
                };
                last = Some(key.clone());
                each(key, value)?;
            }
            match last {
                Some(key) if fetched >= page => {
                    start = Bound::Excluded(key);
                }
                _ => return Ok(()),
            }
        }
    }
}

impl<C: Connection> fmt::Debug for SurrealKvStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SurrealKvStore")
            .field("table", &self.table.as_str())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<C: Connection> KvStore for SurrealKvStore<C> {
    async fn get(&self, key: &str) -> Result<Option<KvValue>, KvError> {
        let mut vars = Object::new();
        vars.insert("id".to_owned(), self.id(key));
        let found = self.run("SELECT VALUE v FROM $id", vars, 0, false).await?;
        into_array(found)?
            .into_iter()
            .next()
            .map(into_bytes)
            .transpose()
    }

    async fn set(&self, key: String, value: KvValue) -> Result<(), KvError> {
        self.limits.check_key(&key)?;
        self.limits.check_value(&key, &value)?;
        let mut vars = Object::new();
        vars.insert("id".to_owned(), self.id(&key));
        vars.insert("v".to_owned(), bytes(&value));
        match self.limits.max_entries {
            None => {
                self.run("UPSERT $id CONTENT { v: $v } RETURN NONE", vars, 0, true)
                    .await?;
            }
            Some(max) => {
                vars.insert(
                    "all".to_owned(),
                    self.range(Bound::Unbounded, Bound::Unbounded),
                );
                vars.insert("max".to_owned(), Value::from_t(clamp_i64(max)));
                vars.insert("too_many".to_owned(), Value::String(TOO_MANY.to_owned()));
                vars.insert("guard".to_owned(), self.guard());
                self.run(
                    "BEGIN; \
                     LET $new = !record::exists($id); \
                     UPSERT $id CONTENT { v: $v } RETURN NONE; \
                     IF $new { \
                        UPSERT $guard CONTENT {} RETURN NONE; \
                        LET $n = count(SELECT VALUE id FROM $all); \
                        IF $n > $max { THROW $too_many + <string> $n }; \
                     }; \
                     COMMIT;",
                    vars,
                    0,
                    true,
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn del(&self, key: &str) -> Result<(), KvError> {
        let mut vars = Object::new();
        vars.insert("id".to_owned(), self.id(key));
        self.run("DELETE $id RETURN NONE", vars, 0, true).await?;
        Ok(())
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        let mut vars = Object::new();
        vars.insert("id".to_owned(), self.id(key));
        match self
            .run("RETURN record::exists($id)", vars, 0, false)
            .await?
        {
            Value::Bool(found) => Ok(found),
            other => Err(unexpected("a bool", &other)),
        }
    }

    async fn del_range(&self, range: KeyRange) -> Result<u64, KvError> {
        let Some(vars) = self.range_vars(range) else {
            return Ok(0);
        };
        // Statements: BEGIN, LET, DELETE, RETURN, COMMIT.
        let removed = self
            .run(
                "BEGIN; \
                 LET $n = count(SELECT VALUE id FROM $range); \
                 DELETE $range RETURN NONE; \
                 RETURN $n; \
                 COMMIT;",
                vars,
                3,
                true,
            )
            .await?;
        into_u64(removed)
    }

    async fn get_batch(&self, keys: &[String]) -> Result<Vec<Option<KvValue>>, KvError> {
        let mut budget = ReadBudget::new(self.limits.max_read_bytes);
        let mut found: HashMap<String, KvValue> = HashMap::new();
        // How often each key was asked for: a value is charged once per
        // time, as the in-memory store does. Counted once up front, since
        // the guest chooses how many keys a batch holds.
        let mut asked: HashMap<&str, usize> = HashMap::new();
        for key in keys {
            *asked.entry(key.as_str()).or_default() += 1;
        }
        let mut distinct: Vec<String> = asked.keys().map(|key| (*key).to_owned()).collect();
        distinct.sort_unstable();
        for chunk in distinct.chunks(VALUE_PAGE) {
            let mut vars = Object::new();
            vars.insert("ids".to_owned(), self.ids(chunk));
            let rows = into_array(
                self.run(
                    "SELECT VALUE [record::id(id)[0], v] FROM $ids",
                    vars,
                    0,
                    false,
                )
                .await?,
            )?;
            for row in rows {
                let (key, value) = key_and_value(row)?;
                let times = asked.get(key.as_str()).copied().unwrap_or(0);
                budget.charge(value.len().saturating_mul(times))?;
                found.insert(key, value);
            }
        }
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    async fn set_batch(&self, entries: Vec<(String, KvValue)>) -> Result<(), KvError> {
        for (key, value) in &entries {
            self.limits.check_key(key)?;
            self.limits.check_value(key, value)?;
        }
        if entries.is_empty() {
            return Ok(());
        }
        // A later entry for the same key wins: keep only the last of each.
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (index, (key, _)) in entries.iter().enumerate() {
            last.insert(key.as_str(), index);
        }
        let rows: Vec<Value> = entries
            .iter()
            .enumerate()
            .filter(|(index, (key, _))| last.get(key.as_str()) == Some(index))
            .map(|(_, (key, value))| Value::Array(Array::from(vec![self.id(key), bytes(value)])))
            .collect();
        let mut vars = Object::new();
        vars.insert("rows".to_owned(), Value::Array(Array::from(rows)));
        vars.insert(
            "all".to_owned(),
            self.range(Bound::Unbounded, Bound::Unbounded),
        );
        vars.insert("too_many".to_owned(), Value::String(TOO_MANY.to_owned()));
        let query = match self.limits.max_entries {
            None => {
                "BEGIN; \
                 FOR $row IN $rows { UPSERT $row[0] CONTENT { v: $row[1] } RETURN NONE; }; \
                 COMMIT;"
            }
            Some(max) => {
                vars.insert("max".to_owned(), Value::from_t(clamp_i64(max)));
                vars.insert("guard".to_owned(), self.guard());
                "BEGIN; \
                 FOR $row IN $rows { UPSERT $row[0] CONTENT { v: $row[1] } RETURN NONE; }; \
                 UPSERT $guard CONTENT {} RETURN NONE; \
                 LET $n = count(SELECT VALUE id FROM $all); \
                 IF $n > $max { THROW $too_many + <string> $n }; \
                 COMMIT;"
            }
        };
        self.run(query, vars, 0, true).await?;
        Ok(())
    }

    async fn del_batch(&self, keys: &[String]) -> Result<(), KvError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut vars = Object::new();
        vars.insert("ids".to_owned(), self.ids(keys));
        // One statement is one transaction: all the keys go, or none.
        self.run("DELETE $ids RETURN NONE", vars, 0, true).await?;
        Ok(())
    }

    async fn keys(&self, range: KeyRange) -> Result<Vec<String>, KvError> {
        let mut budget = ReadBudget::new(self.limits.max_read_bytes);
        let mut keys = Vec::new();
        self.scan(range, false, |key, _| {
            budget.charge(key.len())?;
            keys.push(key);
            Ok(())
        })
        .await?;
        Ok(keys)
    }

    async fn values(&self, range: KeyRange) -> Result<Vec<KvValue>, KvError> {
        let mut budget = ReadBudget::new(self.limits.max_read_bytes);
        let mut values = Vec::new();
        self.scan(range, true, |_, value| {
            if let Some(value) = value {
                budget.charge(value.len())?;
                values.push(value);
            }
            Ok(())
        })
        .await?;
        Ok(values)
    }

    async fn entries(&self, range: KeyRange) -> Result<Vec<(String, KvValue)>, KvError> {
        let mut budget = ReadBudget::new(self.limits.max_read_bytes);
        let mut entries = Vec::new();
        self.scan(range, true, |key, value| {
            if let Some(value) = value {
                budget.charge(key.len().saturating_add(value.len()))?;
                entries.push((key, value));
            }
            Ok(())
        })
        .await?;
        Ok(entries)
    }

    async fn count(&self, range: KeyRange) -> Result<u64, KvError> {
        let Some(vars) = self.range_vars(range) else {
            return Ok(0);
        };
        let count = self
            .run("RETURN count(SELECT VALUE id FROM $range)", vars, 0, false)
            .await?;
        into_u64(count)
    }
}

/// The record-id key of a KV key: an array holding the key string.
fn array_key(key: &str) -> RecordIdKey {
    RecordIdKey::from(Array::from(vec![Value::String(key.to_owned())]))
}

fn bytes(value: &KvValue) -> Value {
    Value::Bytes(Bytes::from(value.to_vec()))
}

fn into_array(value: Value) -> Result<Vec<Value>, KvError> {
    match value {
        Value::Array(array) => Ok(array.into_vec()),
        other => Err(unexpected("an array", &other)),
    }
}

fn into_string(value: Value) -> Result<String, KvError> {
    match value {
        Value::String(string) => Ok(string),
        other => Err(unexpected("a key string", &other)),
    }
}

fn into_bytes(value: Value) -> Result<KvValue, KvError> {
    match value {
        Value::Bytes(bytes) => Ok(KvValue::from(&bytes.into_inner()[..])),
        other => Err(unexpected("the value's bytes", &other)),
    }
}

fn key_and_value(row: Value) -> Result<(String, KvValue), KvError> {
    let mut pair = into_array(row)?.into_iter();
    match (pair.next(), pair.next(), pair.next()) {
        (Some(key), Some(value), None) => Ok((into_string(key)?, into_bytes(value)?)),
        _ => Err(KvError::Backend(
            "the database returned a KV row that is not a [key, value] pair; was the table \
             written by something other than surli?"
                .to_owned(),
        )),
    }
}

fn into_u64(value: Value) -> Result<u64, KvError> {
    match value.into_t::<i64>() {
        Ok(count) => u64::try_from(count)
            .map_err(|_| KvError::Backend(format!("the database counted {count} records"))),
        Err(error) => Err(KvError::Backend(format!(
            "the database returned a count that is not an integer: {error}"
        ))),
    }
}

fn unexpected(wanted: &str, got: &Value) -> KvError {
    KvError::Backend(format!(
        "the database returned {got:?} where {wanted} was expected; was the table written by \
         something other than surli?"
    ))
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn clamp_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
