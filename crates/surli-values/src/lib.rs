//! SurrealDB values at the edges of a host: read them from command-line text
//! and JSON against the kinds a function declares, and write them as
//! SurrealQL or JSON.
//!
//! `surli call` and `surli run` read their arguments with
//! [`args_from_text`] and [`args_from_json`]; an embedder that receives JSON
//! arguments for a plugin function (an HTTP gateway, say) does the same with
//! the parameter kinds the function declares. Results go out with
//! [`to_surrealql`], [`to_surrealql_pretty`] or [`to_json`].
//!
//! The values and kinds are those of `surrealdb-types`
//! ([`surrealdb_types::Value`], [`surrealdb_types::Kind`]).
//!
//! # How arguments are read
//!
//! JSON is read against the declared kind by [`value_from_json`]:
//!
//! | Declared kind | Accepted JSON | Value |
//! |---|---|---|
//! | `any` | anything | `null` → NULL, `true`/`false` → bool, an integer that fits 64 bits → int, any other number → float, string → string, array → array, object → object (all the way down) |
//! | `none` | `null` | NONE |
//! | `null` | `null` | NULL |
//! | `bool` | `true`, `false` | bool |
//! | `string` | a string | string |
//! | `int` | an integer that fits 64 bits (`2.0`, `1e3` and `1.5` are refused) | int |
//! | `float` | any number | float (`3` becomes `3.0`) |
//! | `number` | any number | int when it is an integer that fits 64 bits, else float |
//! | `decimal` | a string such as `"12.50"` (exact: the way to give every digit), or a number (read from its JSON text; digits beyond what an `f64` holds are lost when the JSON went through `f64`) | decimal |
//! | `datetime` | a string in RFC 3339 (`"2024-01-01T00:00:00Z"`, `"2024-01-01T10:00:00+02:00"`) or a bare date (`"2024-01-01"`, midnight UTC) | datetime |
//! | `duration` | a string in SurrealQL duration form: `"1h30m"`, `"2d"`, `"500ms"`, `"1µs"` or `"1us"`, `"10ns"` (units `y w d h m s ms us µs ns`) | duration |
//! | `uuid` | a string: `"67e55044-10b1-426f-9247-bb680e5fe0c8"` (upper case, no hyphens, braces and `urn:uuid:` are accepted too) | uuid |
//! | `regex` | a string: the pattern itself (`"a.c"`), or the SurrealQL literal `"/a.c/"` (the slashes are taken off) | regex |
//! | `table`, `table<a \| b>` | a string, the table name (one of those declared, if any) | table |
//! | `record`, `record<a \| b>` | a string `"table:key"` (SurrealQL form: backticks around a table or key that needs them), or an object `{"tb": "person", "id": key}`; the table must be one of those declared, if any | record id (see below for keys) |
//! | `bytes` | a string of hex digits in pairs (`"cafe01"`, upper or lower case, `0x` in front allowed), or an array of numbers 0–255 (the form [`to_json`] writes) | bytes |
//! | `object` | an object | object, its values read as `any` |
//! | `array<T>`, `array<T, n>` | an array (at most `n` elements) | array, each element read as `T` |
//! | `set<T>`, `set<T, n>` | an array | set (duplicates dropped, ordered), each element read as `T`; at most `n` distinct elements |
//! | `option<T>`, `A \| B \| …` | `null` → NONE when `none` is among the kinds (as in `option<T>`), else NULL when `null` is; otherwise the first alternative, in the declared order, that accepts the JSON | that alternative's value |
//! | a literal (`"a"`, `1`, `true`, `[int, string]`, `{ a: int }`) | JSON read as the literal's own kind (a string, int, float, decimal, duration, bool; an array of exactly those kinds; an object of exactly those fields) that equals the literal | that value |
//! | `geometry`, `geometry<point \| …>` | a GeoJSON geometry object: `Point`, `LineString`, `Polygon`, `MultiPoint`, `MultiLineString`, `MultiPolygon` (with `coordinates`) or `GeometryCollection` (with `geometries`); other members such as `bbox` are ignored; its sort must be one of those declared, if any | geometry |
//! | `range`, `function`, `file` | nothing: refused with "values of kind … cannot be given as arguments here" | |
//!
//! The key of a record id written as `table:key` is read as SurrealQL prints
//! it: an unquoted integer (`person:1`, `person:-7`) is an integer key, an
//! unquoted `u'…'` a uuid key, anything else a string key, with a key in
//! backticks always a string (`` person:`1` `` has the string key `"1"`).
//! Array, object and range keys are not read from this form (they stay
//! strings); give an array or object key with `{"tb": …, "id": […]}`. In
//! the object form a string `id` is always a string key and an integer `id`
//! an integer key.
//!
//! A command-line argument is read by [`value_from_arg`]:
//!
//! | The argument | Read as |
//! |---|---|
//! | valid JSON (`1`, `"text"`, `[1,2]`, `{"a":1}`, `null`, `true`) | that JSON, against the kind as above; a number that is the whole argument is read from its exact text (so a `decimal` keeps every digit, and a `float` is the one nearest to the text) |
//! | valid JSON that is a number, `true`, `false` or `null` the kind refuses outright, where the kind has a text form | the text itself as a JSON string: `123` for a `string` is `"123"`, `null` for a `string` is `"null"` |
//! | not JSON, where the kind (or one alternative) has a text form: `string`, `datetime`, `duration`, `uuid`, `decimal`, `record`, `table`, `regex`, `bytes`, `any`, a string or duration literal | the text as a JSON string: `2024-01-01T00:00:00Z` is a datetime where one is declared, `1h30m` a duration, `person:tobie` a record id, `cafe01` bytes, `hello` a string (also for `any`: a bare word is never guessed to be anything but a string) |
//! | not JSON, for any other kind | refused: ``expected int, got `abc` (not JSON; quote text as "…")`` |
//!
//! [`args_from_text`] and [`args_from_json`] read a whole argument list:
//! more arguments than parameters is an error, and so is leaving out a
//! parameter unless it and every one after it admits NONE (`option<T>`,
//! `none`, `any`, or an either-kind with one of them): those are given NONE.
//! Every error names the argument by position (from 1) and parameter name.
//!
//! # How values come out as JSON
//!
//! [`to_json`] is `surrealdb-types`' own `Value::into_json_value`:
//!
//! | Value | JSON |
//! |---|---|
//! | NONE, NULL | `null` |
//! | bool | `true`, `false` |
//! | int | a number: `42` |
//! | float | a number: `1.5`; a float with no fraction keeps it in JSON text (`1.0`); NaN and ±infinity become `null` |
//! | decimal | a string with the exact digits and scale: `"12.50"` |
//! | string | a string |
//! | duration | a string in SurrealQL duration form: `"1h30m"`, `"1y2w3d"`, `"1s500ms"`, `"3µs"`, `"0ns"` for zero |
//! | datetime | a string in RFC 3339, in UTC with `Z`, with 0, 3, 6 or 9 fraction digits as needed: `"2024-01-01T00:00:00Z"`, `"2024-01-01T00:00:00.500Z"` |
//! | uuid | a string, lower-case with hyphens: `"67e55044-10b1-426f-9247-bb680e5fe0c8"` |
//! | bytes | an array of numbers 0–255: `[202, 254]` |
//! | array | an array |
//! | set | an array, in the set's order, without duplicates |
//! | object | an object |
//! | geometry | a GeoJSON object: `{"type": "Point", "coordinates": [x, y]}`, also `LineString`, `Polygon`, `MultiPoint`, `MultiLineString`, `MultiPolygon`, and `GeometryCollection` with `geometries`; coordinates are floats (`[1.0, 2.0]`) |
//! | table | a string, the bare name, unescaped: `"person"` |
//! | record id | a string in SurrealQL form: `"person:tobie"`, `"person:1"` (integer key), ``"person:`1`"`` (string key `"1"`), ``"`my table`:`a b`"``, `"person:u'67e55044-…'"` (uuid key), `"person:[1, 2]"` (array key) |
//! | regex | a string, the SurrealQL literal: `"/a.c/"` |
//! | file | a string, the SurrealQL literal: `"f\"bucket:/a.txt\""` |
//! | range | a string in SurrealQL form: `"1..5"`, `"1..=5"` |
//!
//! # What reads back
//!
//! For most values `value_from_json(&to_json(v), &kind) == v` with the kind
//! the value has. This crate's tests check it for bool, int, finite float,
//! decimal, string, datetime, duration, uuid, bytes and record ids with
//! string, integer and uuid keys, for arrays, sets and options of those, and
//! for objects and `any` values made of JSON's own sorts. What does not read
//! back:
//!
//! - NONE and NULL both become `null`; `null` reads back as NONE where the
//!   kind admits NONE, else as NULL.
//! - A non-finite float becomes `null` and does not read back as a float.
//! - Under `any`, or `object` (whose values are `any`), only JSON's own sorts
//!   come back: a datetime, duration, uuid, decimal, record id, table or regex
//!   comes back as a string, bytes as an array of ints, a set as an array, a
//!   geometry as an object. The declared kind is what makes them read back.
//! - A float with no fraction is written `1.0` and reads back as a float;
//!   a JSON reader that does not keep `1.0` apart from `1` (JavaScript) makes
//!   it an integer, which a `float` or `number` parameter still accepts.
//! - A decimal reads back exactly through its string; given as a JSON number
//!   it is only as exact as the number was when parsed.
//! - Record ids with array, object or range keys do not read back from their
//!   string (their key comes back a string).
//! - A polygon reads back with its rings closed, as `surrealdb-types` builds
//!   them (the JSON written is already closed).
//! - Ranges, files and functions cannot be read at all.
//!
//! # Errors
//!
//! A [`ValueError`] names the declared kind and what was given (shortened to
//! about 60 characters), why when that helps, and where inside the value:
//! `at [2].name: expected datetime, got "yesterday" (not an RFC 3339 datetime
//! such as 2024-01-01T00:00:00Z)`. An [`ArgsError`] adds the argument:
//! ``argument 2 `b`: expected int, got "x" (a string)``.
#![deny(missing_docs)]

mod args;
mod error;
mod names;
mod read;

use serde_json::Value as Json;
use surrealdb_types::{Kind, ToSql, Value};

pub use error::{ArgsError, ValueError};
pub use names::kind_name;

use read::{Fail, admits_text, read};

/// Reads one command-line argument against the kind the function declares.
///
/// The text is JSON when it parses as JSON (`1`, `"text"`, `[1,2]`,
/// `{"a":1}`, `null`, `true`); otherwise it is a bare word, taken as a
/// string, then read as the kind: so `2024-01-01T00:00:00Z` becomes a
/// datetime where a datetime is declared, `1h30m` a duration, `person:tobie`
/// a record id, and likewise a uuid, a decimal, or bytes as hex. A bare word
/// where the kind admits no string-like form is an error.
///
/// A number, `true`, `false` or `null` that the kind refuses outright is
/// read as the word it is where the kind has a text form: `123` for a
/// `string` parameter is the string `"123"` (this happens here only, never
/// in [`value_from_json`]).
pub fn value_from_arg(text: &str, kind: &Kind) -> Result<Value, ValueError> {
    let Ok(json) = serde_json::from_str::<Json>(text) else {
        if admits_text(kind) {
            return read(&Json::String(text.to_owned()), kind, None).map_err(Fail::into_error);
        }
        return Err(Fail::not_json(kind, text).into_error());
    };
    let raw = json.is_number().then_some(text);
    let fail = match read(&json, kind, raw) {
        Ok(value) => return Ok(value),
        Err(fail) => fail,
    };
    let scalar = matches!(json, Json::Null | Json::Bool(_) | Json::Number(_));
    if scalar && fail.is_shallow() && admits_text(kind) {
        return read(&Json::String(text.to_owned()), kind, None).map_err(Fail::into_error);
    }
    Err(fail.into_error())
}

/// A parser of SurrealQL value literals: `Some` for text that is one value
/// (the CLI passes SurrealDB's own, `surrealdb::parse::value`), `None` for
/// text that is not. This crate does not depend on SurrealDB's parser.
pub type SurrealQl<'a> = &'a dyn Fn(&str) -> Option<Value>;

/// [`value_from_arg`], with words written as SurrealQL values besides: text
/// that is not JSON but that `surrealql` reads as a value of `kind` is that
/// value. So `NONE`, `d'2024-01-01T00:00:00Z'`, `person:42`, `1.5dec`,
/// `u'…'` or `<bytes>"…"` reach an `any` parameter as what they say, not
/// as strings. A bare name, which SurrealQL reads as a table, stays a word
/// (a string where one is allowed), and JSON stays JSON.
pub fn value_from_word(
    text: &str,
    kind: &Kind,
    surrealql: SurrealQl<'_>,
) -> Result<Value, ValueError> {
    if serde_json::from_str::<Json>(text).is_err()
        && let Some(value) = surrealql(text)
        && !matches!(value, Value::Table(_))
        && value.is_kind(kind)
    {
        return Ok(value);
    }
    value_from_arg(text, kind)
}

/// [`args_from_text`] with every word read by [`value_from_word`].
pub fn args_from_words(
    texts: &[String],
    params: &[(String, Kind)],
    surrealql: SurrealQl<'_>,
) -> Result<Vec<Value>, ArgsError> {
    args::read_args(texts, params, |text, kind| {
        value_from_word(text, kind, surrealql)
    })
}

/// Converts JSON to a value of `kind`, recursively through arrays, sets,
/// objects and options or other either-kinds. The crate documentation has
/// the table of what each kind accepts.
pub fn value_from_json(json: &Json, kind: &Kind) -> Result<Value, ValueError> {
    read(json, kind, None).map_err(Fail::into_error)
}

/// Reads a whole command-line argument list against named parameters, each
/// argument with [`value_from_arg`].
///
/// Checks the count, and names the argument (position from 1, parameter
/// name) in every error. Missing trailing arguments whose kinds admit NONE
/// (`option<int>`, `any`) become `Value::None`; other missing ones and extra
/// ones are errors.
pub fn args_from_text(
    texts: &[String],
    params: &[(String, Kind)],
) -> Result<Vec<Value>, ArgsError> {
    args::read_args(texts, params, |text, kind| value_from_arg(text, kind))
}

/// Reads a whole JSON argument list against named parameters, each argument
/// with [`value_from_json`]; counted and named as in [`args_from_text`].
pub fn args_from_json(values: &[Json], params: &[(String, Kind)]) -> Result<Vec<Value>, ArgsError> {
    args::read_args(values, params, value_from_json)
}

/// The value in SurrealQL, on one line (`surrealdb-types`' own `ToSql`):
/// `{ a: 1, b: d'2024-01-01T00:00:00Z' }`.
pub fn to_surrealql(value: &Value) -> String {
    value.to_sql()
}

/// The value in SurrealQL, nested arrays and objects indented over several
/// lines (`surrealdb-types`' own pretty `ToSql`).
pub fn to_surrealql_pretty(value: &Value) -> String {
    value.to_sql_pretty()
}

/// The value as JSON (`surrealdb-types`' own `Value::into_json_value`); the
/// crate documentation has the table of what each value becomes.
pub fn to_json(value: Value) -> Json {
    value.into_json_value()
}
