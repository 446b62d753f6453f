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

/// What a transaction throws when it would break `max_bytes`, followed by
/// the bytes it would have reached: [`KvError::StoreFull`].
const TOO_BIG: &str = "surli-kv:store-full:";

/// The table of the per-store guard records (see `SurrealKvStore::guard`).
const GUARD_TABLE: &str = "surli_kv_guard";

/// The bytes one record counts against `max_bytes`, in SurrealQL: its key's
/// UTF-8 bytes and its value's bytes, as `KvLimits::entry_bytes` counts them.
macro_rules! record_bytes {
    () => {
        "bytes::len(v) + bytes::len(<bytes> record::id(id)[0])"
    };
}
const RECORD_BYTES: &str = record_bytes!();

/// The end of every write: the guard's totals moved by `$added` entries and
/// `$grown` bytes (either may be negative), then checked against the limits
/// bound as `$max_entries` / `$max_bytes` (NONE when unset) where the write
/// added entries or bytes. A guard without totals (deleted by hand, or
/// written by a surli that kept none) is recounted from the table, this
/// write included, instead of being moved from nothing.
const UPDATE_TOTALS: &str = concat!(
    "IF $guard.entries = NONE OR $guard.bytes = NONE { \
        LET $sizes = SELECT VALUE ",
    record_bytes!(),
    " FROM $all; \
        UPSERT $guard CONTENT { entries: array::len($sizes), bytes: math::sum($sizes) } \
            RETURN NONE; \
     } ELSE { \
        UPSERT $guard SET entries += $added, bytes += $grown RETURN NONE; \
     }; \
     IF $max_entries != NONE AND $added > 0 AND $guard.entries > $max_entries { \
        THROW $too_many + <string> $guard.entries \
     }; \
     IF $max_bytes != NONE AND $grown > 0 AND $guard.bytes > $max_bytes { \
        THROW $too_big + <string> $guard.bytes \
     };"
);

/// How many statements [`UPDATE_TOTALS`] is.
const UPDATE_TOTALS_STATEMENTS: usize = 3;

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
/// order. The store's totals (entries, and bytes of keys and values) live
/// in a guard record beside the table, which every write moves inside its
/// own transaction and checks against `max_entries` and `max_bytes` there,
/// so concurrent writers (in this process or another) cannot overshoot a
/// limit together, and a write costs the same however large the store is;
/// a failed batch, whatever fails, leaves nothing behind. The first store
/// to open a table whose guard holds no totals (a new table, or one written
/// before surli kept them) counts them with one scan of the table, and so
/// does any write that finds them gone. Writes
/// to one module's store therefore conflict with each other and are
/// retried a few times (pauses of 2 ms, doubling, jittered) before a conflict is
/// reported as [`KvError::Backend`]. Anything that edits the table other
/// than through this store must delete the guard record: the next write
/// counts the table again.
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
    ///
    /// Distinct modules never share a table: `%`, `/` and `@` in the
    /// organisation and the name are written as `%25`, `%2F` and `%40`, so
    /// organisation `a/b` with name `c` (`surli_kv/a%2Fb/c@…`) and
    /// organisation `a` with name `b/c` (`surli_kv/a/b%2Fc@…`) stay apart. A
    /// version cannot hold any of the three. Names without them keep the
    /// plain form.
    pub fn table_name(meta: &PackageMeta) -> String {
        format!(
            "surli_kv/{}/{}@{}",
            escape_part(&meta.organisation),
            escape_part(&meta.name),
            meta.version
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
        let mut vars = Object::new();
        vars.insert("guard".to_owned(), self.guard());
        vars.insert(
            "all".to_owned(),
            self.range(Bound::Unbounded, Bound::Unbounded),
        );
        let count = format!(
            "BEGIN; \
             IF $guard.entries = NONE OR $guard.bytes = NONE {{ \
                LET $sizes = SELECT VALUE {RECORD_BYTES} FROM $all; \
                UPSERT $guard CONTENT {{ \
                    entries: array::len($sizes), bytes: math::sum($sizes) \
                }} RETURN NONE; \
             }}; \
             COMMIT;"
        );
        self.run_raw(&count, vars, 0, true).await?;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// The variables every write binds for [`UPDATE_TOTALS`], `$added`
    /// and `$grown` aside.
    fn write_vars(&self) -> Object {
        let limit = |limit: Option<u64>| limit.map_or(Value::None, |n| Value::from_t(clamp_i64(n)));
        let mut vars = Object::new();
        vars.insert("guard".to_owned(), self.guard());
        vars.insert("max_entries".to_owned(), limit(self.limits.max_entries));
        vars.insert("max_bytes".to_owned(), limit(self.limits.max_bytes));
        vars.insert("too_many".to_owned(), Value::String(TOO_MANY.to_owned()));
        vars.insert("too_big".to_owned(), Value::String(TOO_BIG.to_owned()));
        vars.insert(
            "all".to_owned(),
            self.range(Bound::Unbounded, Bound::Unbounded),
        );
        vars
    }

    /// The record holding the store's totals, which every write moves: two
    /// transactions that each read the totals and write would both pass a
    /// limit on their own snapshot; writing one common record makes the
    /// second of them conflict, retry, and read again.
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

    /// Deletes the records `target` names (an array of distinct record ids,
    /// or a range) in one transaction that also moves the totals, and
    /// returns how many there were.
    async fn delete(&self, target: Value) -> Result<u64, KvError> {
        let mut vars = self.write_vars();
        vars.insert("target".to_owned(), target);
        let query = format!(
            "BEGIN; \
             LET $before = SELECT VALUE {RECORD_BYTES} FROM $target; \
             DELETE $target RETURN NONE; \
             LET $added = 0 - array::len($before); \
             LET $grown = 0 - math::sum($before); \
             {UPDATE_TOTALS} \
             RETURN array::len($before); \
             COMMIT;"
        );
        // BEGIN, LET, DELETE, two LETs, then the totals' statements.
        let returned = 5 + UPDATE_TOTALS_STATEMENTS;
        into_u64(self.run(&query, vars, returned, true).await?)
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
                    tokio::time::sleep(jittered(backoff)).await;
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
        let thrown = |marker: &str| -> Option<u64> {
            let at = message.find(marker)?;
            let digits: String = message[at + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        };
        if let (Some(would_be), Some(limit)) = (thrown(TOO_MANY), self.limits.max_entries) {
            return KvError::TooManyEntries { would_be, limit };
        }
        if let (Some(would_be), Some(limit)) = (thrown(TOO_BIG), self.limits.max_bytes) {
            return KvError::StoreFull { would_be, limit };
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
        let mut vars = self.write_vars();
        vars.insert("ids".to_owned(), self.ids(std::slice::from_ref(&key)));
        vars.insert(
            "size".to_owned(),
            Value::from_t(clamp_i64(KvLimits::entry_bytes(&key, &value))),
        );
        vars.insert("id".to_owned(), self.id(&key));
        vars.insert("v".to_owned(), bytes(&value));
        let query = format!(
            "BEGIN; \
             LET $before = SELECT VALUE {RECORD_BYTES} FROM $ids; \
             UPSERT $id CONTENT {{ v: $v }} RETURN NONE; \
             LET $added = 1 - array::len($before); \
             LET $grown = $size - math::sum($before); \
             {UPDATE_TOTALS} \
             COMMIT;"
        );
        self.run(&query, vars, 0, true).await?;
        Ok(())
    }

    async fn del(&self, key: &str) -> Result<(), KvError> {
        self.delete(self.ids(&[key.to_owned()])).await?;
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
        if range.is_empty_or_inverted() {
            return Ok(0);
        }
        let (start, end) = range.into_bounds();
        self.delete(self.range(start, end)).await
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
        let written: Vec<&(String, KvValue)> = entries
            .iter()
            .enumerate()
            .filter(|(index, (key, _))| last.get(key.as_str()) == Some(index))
            .map(|(_, entry)| entry)
            .collect();
        let size = written
            .iter()
            .map(|(key, value)| KvLimits::entry_bytes(key, value))
            .fold(0u64, u64::saturating_add);
        let keys: Vec<String> = written.iter().map(|(key, _)| key.clone()).collect();
        let rows: Vec<Value> = written
            .iter()
            .map(|(key, value)| Value::Array(Array::from(vec![self.id(key), bytes(value)])))
            .collect();
        let mut vars = self.write_vars();
        vars.insert("ids".to_owned(), self.ids(&keys));
        vars.insert("rows".to_owned(), Value::Array(Array::from(rows)));
        vars.insert("size".to_owned(), Value::from_t(clamp_i64(size)));
        let query = format!(
            "BEGIN; \
             LET $before = SELECT VALUE {RECORD_BYTES} FROM $ids; \
             FOR $row IN $rows {{ UPSERT $row[0] CONTENT {{ v: $row[1] }} RETURN NONE; }}; \
             LET $added = array::len($rows) - array::len($before); \
             LET $grown = $size - math::sum($before); \
             {UPDATE_TOTALS} \
             COMMIT;"
        );
        self.run(&query, vars, 0, true).await?;
        Ok(())
    }

    async fn del_batch(&self, keys: &[String]) -> Result<(), KvError> {
        if keys.is_empty() {
            return Ok(());
        }
        // Each key once, so that none is subtracted from the totals twice.
        let mut distinct = keys.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        self.delete(self.ids(&distinct)).await?;
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

/// `backoff` plus a random part of it again: writers that conflicted with
/// each other (every write to one store moves its guard record) do not
/// retry in step and conflict again.
fn jittered(backoff: Duration) -> Duration {
    use std::hash::BuildHasher as _;
    // A fresh `RandomState` is seeded per instance: random enough to spread
    // retries, with no dependency for it.
    let random = std::collections::hash_map::RandomState::new().hash_one(0u8);
    let nanos = u64::try_from(backoff.as_nanos()).unwrap_or(u64::MAX).max(1);
    backoff.saturating_add(Duration::from_nanos(random % nanos))
}

/// A part of a module's identity as it goes into a table name: `%`, `/` and
/// `@` percent-encoded, everything else as it is.
fn escape_part(part: &str) -> String {
    let mut escaped = String::with_capacity(part.len());
    for c in part.chars() {
        match c {
            '%' => escaped.push_str("%25"),
            '/' => escaped.push_str("%2F"),
            '@' => escaped.push_str("%40"),
            c => escaped.push(c),
        }
    }
    escaped
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
