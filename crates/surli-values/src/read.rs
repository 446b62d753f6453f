//! Reading JSON (and command-line words) against a declared kind.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::{Map, Number as JsonNumber, Value as Json};
use surrealdb_types::{
    Array, Bytes, Datetime, Decimal, Duration, Geometry, Kind, KindLiteral, Number, Object,
    RecordId, RecordIdKey, Regex, Set, Table, Uuid, Value,
};

use crate::ValueError;
use crate::names::{json_sort, kind_name, show_json, show_word};

const DATETIME_HINT: &str = "not an RFC 3339 datetime such as 2024-01-01T00:00:00Z";
const DURATION_HINT: &str = "not a duration such as 1h30m";
const UUID_HINT: &str = "not a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8";
const DECIMAL_HINT: &str = "not a decimal number such as 12.50";
const DECIMAL_RANGE_HINT: &str = "beyond the range or precision of a decimal";
const REGEX_HINT: &str = "not a valid regular expression";
const BYTES_HINT: &str = "not pairs of hex digits such as cafe01";
const RECORD_HINT: &str =
    "not a record id such as person:tobie or {\"tb\": \"person\", \"id\": \"tobie\"}";
const GEOMETRY_HINT: &str = "not GeoJSON such as {\"type\": \"Point\", \"coordinates\": [0, 0]}";
const NOT_JSON_HINT: &str = "not JSON; quote text as \"…\"";

/// How a reading failed; decides how an either-kind reports its alternatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The JSON is of the wrong sort altogether (a string for an int).
    Type,
    /// The JSON is of the right sort but not the one value a literal allows.
    Literal,
    /// The JSON is of the right sort but not a valid value (a bad datetime).
    Invalid,
    /// The kind cannot be given at all.
    Unsupported,
}

/// One step into a value, for the place of a failure.
#[derive(Debug, Clone)]
enum Step {
    Index(usize),
    Key(String),
}

/// A failed reading, turned into a [`ValueError`] at the edge of the crate.
#[derive(Debug, Clone)]
pub(crate) struct Fail {
    /// The steps from the failure outwards: innermost first.
    path: Vec<Step>,
    expected: String,
    given: String,
    reason: Option<String>,
    class: Class,
}

impl Fail {
    fn new(class: Class, kind: &Kind, json: &Json, reason: Option<String>) -> Self {
        Fail {
            path: Vec::new(),
            expected: kind_name(kind),
            given: show_json(json),
            reason,
            class,
        }
    }

    /// The JSON is not of a sort the kind accepts.
    fn wrong_type(kind: &Kind, json: &Json) -> Self {
        Fail::new(Class::Type, kind, json, json_sort(json).map(str::to_owned))
    }

    /// The JSON is of the right sort but not a valid value, for `reason`.
    fn invalid(kind: &Kind, json: &Json, reason: impl Into<String>) -> Self {
        Fail::new(Class::Invalid, kind, json, Some(reason.into()))
    }

    fn unsupported(kind: &Kind, json: &Json) -> Self {
        Fail::new(Class::Unsupported, kind, json, None)
    }

    /// A command-line word that is not JSON, for a kind without a text form.
    pub(crate) fn not_json(kind: &Kind, word: &str) -> Self {
        Fail {
            path: Vec::new(),
            expected: kind_name(kind),
            given: show_word(word),
            reason: Some(NOT_JSON_HINT.to_owned()),
            class: Class::Type,
        }
    }

    /// The same failure, seen from the value that holds it at `step`.
    fn within(mut self, step: Step) -> Self {
        self.path.push(step);
        self
    }

    /// A failure at the top of the value that says only "not this kind":
    /// another alternative of an either-kind explains more.
    pub(crate) fn is_shallow(&self) -> bool {
        self.path.is_empty() && self.class != Class::Invalid
    }

    /// The failure in a few words, for a list of alternatives.
    fn brief(&self) -> String {
        match (&self.reason, self.path.is_empty()) {
            (Some(reason), true) => reason.clone(),
            _ => self.clone().into_error().to_string(),
        }
    }

    pub(crate) fn into_error(self) -> ValueError {
        let path = render_path(&self.path);
        match self.class {
            Class::Unsupported => ValueError::Unsupported {
                path,
                kind: self.expected,
            },
            Class::Type | Class::Literal | Class::Invalid => ValueError::Mismatch {
                path,
                expected: self.expected,
                given: self.given,
                reason: self.reason,
            },
        }
    }
}

fn render_path(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps.iter().rev() {
        match step {
            Step::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
            Step::Key(key) if is_plain_key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Key(key) => {
                out.push('[');
                out.push_str(&Json::String(key.clone()).to_string());
                out.push(']');
            }
        }
    }
    out
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether a kind (or one of its alternatives) has a form written as text,
/// so that a bare command-line word can be read as that text.
pub(crate) fn admits_text(kind: &Kind) -> bool {
    match kind {
        Kind::Any
        | Kind::String
        | Kind::Datetime
        | Kind::Duration
        | Kind::Uuid
        | Kind::Decimal
        | Kind::Record(_)
        | Kind::Table(_)
        | Kind::Regex
        | Kind::Bytes
        | Kind::Literal(KindLiteral::String(_) | KindLiteral::Duration(_)) => true,
        Kind::Either(kinds) => kinds.iter().any(admits_text),
        _ => false,
    }
}

/// Whether a kind admits NONE, so that a parameter of it may be left out.
pub(crate) fn admits_none(kind: &Kind) -> bool {
    match kind {
        Kind::Any | Kind::None => true,
        Kind::Either(kinds) => kinds.iter().any(admits_none),
        _ => false,
    }
}

/// Reads `json` as a value of `kind`.
///
/// `raw` is the exact text of a number typed on the command line, when
/// `json` is that number: a decimal or float is then read from the text
/// itself rather than from the `f64` JSON parsing made of it.
pub(crate) fn read(json: &Json, kind: &Kind, raw: Option<&str>) -> Result<Value, Fail> {
    match kind {
        Kind::Any => Ok(any(json, raw)),
        Kind::None => match json {
            Json::Null => Ok(Value::None),
            _ => Err(Fail::wrong_type(kind, json)),
        },
        Kind::Null => match json {
            Json::Null => Ok(Value::Null),
            _ => Err(Fail::wrong_type(kind, json)),
        },
        Kind::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            _ => Err(Fail::wrong_type(kind, json)),
        },
        Kind::String => match json {
            Json::String(s) => Ok(Value::String(s.clone())),
            _ => Err(Fail::wrong_type(kind, json)),
        },
        Kind::Int => int(json, kind),
        Kind::Float => match json {
            Json::Number(n) => match exact_f64(n, raw) {
                Some(f) => Ok(Value::Number(Number::Float(f))),
                None => Err(Fail::invalid(kind, json, "not a finite number")),
            },
            _ => Err(Fail::wrong_type(kind, json)),
        },
        Kind::Number => match json {
            Json::Number(n) => match (n.as_i64(), exact_f64(n, raw)) {
                (Some(i), _) => Ok(Value::Number(Number::Int(i))),
                (None, Some(f)) => Ok(Value::Number(Number::Float(f))),
                (None, None) => Err(Fail::invalid(kind, json, "not a finite number")),
            },
            _ => Err(Fail::wrong_type(kind, json)),
        },
        Kind::Decimal => decimal(json, kind, raw),
        Kind::Datetime => text(json, kind, |s| {
            Datetime::from_str(s)
                .map(Value::Datetime)
                .map_err(|_| DATETIME_HINT.to_owned())
        }),
        Kind::Duration => text(json, kind, |s| {
            Duration::from_str(s)
                .map(Value::Duration)
                .map_err(|_| DURATION_HINT.to_owned())
        }),
        Kind::Uuid => text(json, kind, |s| {
            Uuid::from_str(s)
                .map(Value::Uuid)
                .map_err(|_| UUID_HINT.to_owned())
        }),
        Kind::Regex => text(json, kind, |s| {
            // The JSON form of a regex is its SurrealQL literal `/…/`.
            let pattern = s
                .strip_prefix('/')
                .and_then(|rest| rest.strip_suffix('/'))
                .unwrap_or(s);
            Regex::from_str(pattern)
                .map(Value::Regex)
                .map_err(|_| REGEX_HINT.to_owned())
        }),
        Kind::Table(tables) => text(json, kind, |s| {
            if s.is_empty() {
                return Err("an empty table name".to_owned());
            }
            check_table(s, tables)?;
            Ok(Value::Table(Table::new(s)))
        }),
        Kind::Record(tables) => {
            let id = match json {
                Json::String(s) => record_from_text(s),
                Json::Object(map) => record_from_object(map),
                _ => return Err(Fail::wrong_type(kind, json)),
            };
            id.and_then(|id| check_table(id.table.as_str(), tables).map(|()| id))
                .map(Value::RecordId)
                .map_err(|why| Fail::invalid(kind, json, why))
        }
        Kind::Bytes => bytes(json, kind),
        Kind::Object => match json {
            Json::Object(map) => Ok(Value::Object(any_object(map))),
            _ => Err(Fail::wrong_type(kind, json)),
        },
        Kind::Array(inner, max) => {
            let values = elements(json, kind, inner, *max)?;
            Ok(Value::Array(Array::from(values)))
        }
        Kind::Set(inner, max) => {
            let set = Set::from(elements(json, kind, inner, None)?);
            match max {
                Some(max) if set.len() as u64 > *max => Err(Fail::invalid(
                    kind,
                    json,
                    format!("{} distinct elements, at most {max} allowed", set.len()),
                )),
                _ => Ok(Value::Set(set)),
            }
        }
        Kind::Either(kinds) => either(json, kind, kinds, raw),
        Kind::Literal(literal) => read_literal(json, kind, literal, raw),
        Kind::Geometry(kinds) => {
            let Json::Object(_) = json else {
                return Err(Fail::wrong_type(kind, json));
            };
            let geometry = geometry(json).map_err(|why| Fail::invalid(kind, json, why))?;
            let sort = geometry.kind();
            if kinds.is_empty() || kinds.contains(&sort) {
                Ok(Value::Geometry(geometry))
            } else {
                Err(Fail::invalid(kind, json, format!("a {sort}")))
            }
        }
        Kind::Range | Kind::Function(..) | Kind::File(_) => Err(Fail::unsupported(kind, json)),
    }
}

/// The natural value of any JSON: what `any` reads.
fn any(json: &Json, raw: Option<&str>) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), exact_f64(n, raw)) {
            (Some(i), _) => Value::Number(Number::Int(i)),
            (None, Some(f)) => Value::Number(Number::Float(f)),
            // Only reachable with serde_json's arbitrary precision: keep the text.
            (None, None) => Value::String(n.to_string()),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(any_array(items)),
        Json::Object(map) => Value::Object(any_object(map)),
    }
}

fn any_array(items: &[Json]) -> Array {
    Array::from(
        items
            .iter()
            .map(|item| any(item, None))
            .collect::<Vec<Value>>(),
    )
}

fn any_object(map: &Map<String, Json>) -> Object {
    map.iter()
        .map(|(key, item)| (key.clone(), any(item, None)))
        .collect()
}

/// The `f64` of a JSON number: from the typed text when there is one (Rust's
/// parsing is exact), else from serde_json.
fn exact_f64(n: &JsonNumber, raw: Option<&str>) -> Option<f64> {
    raw.and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|f| f.is_finite())
        .or_else(|| n.as_f64())
}

fn int(json: &Json, kind: &Kind) -> Result<Value, Fail> {
    let Json::Number(n) = json else {
        return Err(Fail::wrong_type(kind, json));
    };
    if let Some(i) = n.as_i64() {
        return Ok(Value::Number(Number::Int(i)));
    }
    let why = if n.is_u64() {
        "out of range for a 64-bit integer"
    } else {
        match n.as_f64() {
            Some(f) if f.fract() != 0.0 => "a number with a fraction",
            Some(f) if !(-9.3e18..=9.3e18).contains(&f) => "out of range for a 64-bit integer",
            _ => "written as a float; an int has no `.` or exponent",
        }
    };
    Err(Fail::invalid(kind, json, why))
}

fn decimal(json: &Json, kind: &Kind, raw: Option<&str>) -> Result<Value, Fail> {
    let (text, hint) = match json {
        Json::Number(n) => (
            raw.map_or_else(|| n.to_string(), |text| text.trim().to_owned()),
            DECIMAL_RANGE_HINT,
        ),
        Json::String(s) => (s.clone(), DECIMAL_HINT),
        _ => return Err(Fail::wrong_type(kind, json)),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map(|d| Value::Number(Number::Decimal(d)))
        .map_err(|_| Fail::invalid(kind, json, hint))
}

/// Reads a kind whose only form is a JSON string, with `parse` giving the
/// reason of a refusal.
fn text(
    json: &Json,
    kind: &Kind,
    parse: impl FnOnce(&str) -> Result<Value, String>,
) -> Result<Value, Fail> {
    match json {
        Json::String(s) => parse(s).map_err(|why| Fail::invalid(kind, json, why)),
        _ => Err(Fail::wrong_type(kind, json)),
    }
}

fn check_table(name: &str, tables: &[Table]) -> Result<(), String> {
    if tables.is_empty() || tables.iter().any(|t| t.as_str() == name) {
        return Ok(());
    }
    let allowed = tables
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Err(format!("table `{name}` is not one of: {allowed}"))
}

/// Reads `table:key`, the SurrealQL form of a record id with the escaping
/// `surrealdb-types` prints: backticks around a table or key that needs them.
///
/// `RecordId::parse_simple` always gives a string key; here an unquoted key
/// that is an integer (`person:1`) becomes an integer key and an unquoted
/// `u'…'` a uuid key, as SurrealQL reads them and as they are printed.
fn record_from_text(text: &str) -> Result<RecordId, String> {
    let Ok(mut id) = RecordId::parse_simple(text) else {
        return Err(RECORD_HINT.to_owned());
    };
    if id.table.is_empty() {
        return Err("the table name is empty".to_owned());
    }
    let RecordIdKey::String(key) = &id.key else {
        return Ok(id);
    };
    // A quoted key ends with the closing backtick: it stays a string, even
    // an empty one (`person:```).
    if text.ends_with('`') {
        return Ok(id);
    }
    if key.is_empty() {
        return Err("the key is empty".to_owned());
    }
    let digits = key.strip_prefix('-').unwrap_or(key);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(number) = key.parse::<i64>() {
            id.key = RecordIdKey::Number(number);
        }
    } else if let Some(inner) = key
        .strip_prefix("u'")
        .and_then(|rest| rest.strip_suffix('\''))
        .or_else(|| {
            key.strip_prefix("u\"")
                .and_then(|rest| rest.strip_suffix('"'))
        })
        && let Ok(uuid) = Uuid::from_str(inner)
    {
        id.key = RecordIdKey::Uuid(uuid);
    }
    Ok(id)
}

/// Reads `{"tb": "person", "id": …}`: a string, integer, array or object key.
fn record_from_object(map: &Map<String, Json>) -> Result<RecordId, String> {
    let (Some(Json::String(table)), Some(key), 2) = (map.get("tb"), map.get("id"), map.len())
    else {
        return Err(RECORD_HINT.to_owned());
    };
    if table.is_empty() {
        return Err("the table name is empty".to_owned());
    }
    let key = match key {
        Json::String(s) if s.is_empty() => return Err("the key is empty".to_owned()),
        Json::String(s) => RecordIdKey::String(s.clone()),
        Json::Number(n) => match n.as_i64() {
            Some(i) => RecordIdKey::Number(i),
            None => return Err("a number key must be a 64-bit integer".to_owned()),
        },
        Json::Array(items) => RecordIdKey::Array(any_array(items)),
        Json::Object(map) => RecordIdKey::Object(any_object(map)),
        Json::Null | Json::Bool(_) => {
            return Err("the key must be a string, integer, array or object".to_owned());
        }
    };
    Ok(RecordId::new(table.as_str(), key))
}

fn bytes(json: &Json, kind: &Kind) -> Result<Value, Fail> {
    match json {
        Json::String(s) => {
            let digits = s
                .strip_prefix("0x")
                .or_else(|| s.strip_prefix("0X"))
                .unwrap_or(s);
            hex::decode(digits)
                .map(|b| Value::Bytes(Bytes::from(b)))
                .map_err(|_| Fail::invalid(kind, json, BYTES_HINT))
        }
        Json::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item.as_u64().and_then(|n| u8::try_from(n).ok()) {
                    Some(byte) => out.push(byte),
                    None => {
                        return Err(Fail::invalid(
                            kind,
                            json,
                            format!("element [{i}] is not a byte from 0 to 255"),
                        ));
                    }
                }
            }
            Ok(Value::Bytes(Bytes::from(out)))
        }
        _ => Err(Fail::wrong_type(kind, json)),
    }
}

/// The elements of a JSON array read as `inner`, at most `max` of them.
fn elements(json: &Json, kind: &Kind, inner: &Kind, max: Option<u64>) -> Result<Vec<Value>, Fail> {
    let Json::Array(items) = json else {
        return Err(Fail::wrong_type(kind, json));
    };
    if let Some(max) = max
        && items.len() as u64 > max
    {
        return Err(Fail::invalid(
            kind,
            json,
            format!("{} elements, at most {max} allowed", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| read(item, inner, None).map_err(|fail| fail.within(Step::Index(i))))
        .collect()
}

fn either(json: &Json, kind: &Kind, kinds: &[Kind], raw: Option<&str>) -> Result<Value, Fail> {
    if json.is_null() {
        if kinds.contains(&Kind::None) {
            return Ok(Value::None);
        }
        if kinds.contains(&Kind::Null) {
            return Ok(Value::Null);
        }
    }
    let mut fails = Vec::with_capacity(kinds.len());
    for alternative in kinds {
        if matches!(alternative, Kind::None | Kind::Null) {
            // They take only null, handled above: nothing to learn from them.
            continue;
        }
        match read(json, alternative, raw) {
            Ok(value) => return Ok(value),
            Err(fail) => fails.push((alternative, fail)),
        }
    }
    if !fails.is_empty() && fails.iter().all(|(_, f)| f.class == Class::Unsupported) {
        return Err(Fail::unsupported(kind, json));
    }
    let mut telling: Vec<(&Kind, Fail)> = fails
        .iter()
        .filter(|(_, f)| !f.is_shallow())
        .cloned()
        .collect();
    match telling.len() {
        0 => {
            // Every alternative refused the value outright: say what it is
            // when that is the whole story (every refusal was of its sort).
            let all_type = fails
                .iter()
                .all(|(_, f)| matches!(f.class, Class::Type | Class::Unsupported));
            let reason = if all_type {
                json_sort(json).map(str::to_owned)
            } else {
                None
            };
            let class = if all_type {
                Class::Type
            } else {
                Class::Literal
            };
            Err(Fail::new(class, kind, json, reason))
        }
        1 => {
            let (_, mut fail) = telling.remove(0);
            if fail.path.is_empty() {
                fail.expected = kind_name(kind);
            }
            Err(fail)
        }
        _ => {
            let reasons = telling
                .iter()
                .map(|(alternative, fail)| format!("{}: {}", kind_name(alternative), fail.brief()))
                .collect::<Vec<_>>()
                .join("; ");
            Err(Fail::invalid(kind, json, reasons))
        }
    }
}

fn read_literal(
    json: &Json,
    kind: &Kind,
    literal: &KindLiteral,
    raw: Option<&str>,
) -> Result<Value, Fail> {
    let read_value = match literal {
        KindLiteral::String(_) => read(json, &Kind::String, raw),
        KindLiteral::Integer(_) => read(json, &Kind::Int, raw),
        KindLiteral::Float(_) => read(json, &Kind::Float, raw),
        KindLiteral::Decimal(_) => read(json, &Kind::Decimal, raw),
        KindLiteral::Duration(_) => read(json, &Kind::Duration, raw),
        KindLiteral::Bool(_) => read(json, &Kind::Bool, raw),
        KindLiteral::Array(kinds) => literal_array(json, kind, kinds),
        KindLiteral::Object(kinds) => literal_object(json, kind, kinds),
    };
    match read_value {
        Ok(value) if literal.matches(&value) => Ok(value),
        Ok(_) => Err(Fail::new(Class::Literal, kind, json, None)),
        Err(mut fail) if fail.path.is_empty() => {
            fail.expected = kind_name(kind);
            // A scalar literal is one value: "expected 1, got 2" says it all.
            let scalar = !matches!(literal, KindLiteral::Array(_) | KindLiteral::Object(_));
            if scalar && fail.class != Class::Type {
                fail.class = Class::Literal;
                fail.reason = None;
            }
            Err(fail)
        }
        Err(fail) => Err(fail),
    }
}

/// A literal array kind such as `[int, string]`: exactly that many elements.
fn literal_array(json: &Json, kind: &Kind, kinds: &[Kind]) -> Result<Value, Fail> {
    let Json::Array(items) = json else {
        return Err(Fail::wrong_type(kind, json));
    };
    if items.len() != kinds.len() {
        return Err(Fail::invalid(
            kind,
            json,
            format!("{} elements, not {}", items.len(), kinds.len()),
        ));
    }
    let values = items
        .iter()
        .zip(kinds)
        .enumerate()
        .map(|(i, (item, kind))| read(item, kind, None).map_err(|f| f.within(Step::Index(i))))
        .collect::<Result<Vec<Value>, Fail>>()?;
    Ok(Value::Array(Array::from(values)))
}

/// A literal object kind such as `{ name: string, age: int }`: exactly those
/// fields, those of a kind that admits NONE (`none | string`, `option<T>`,
/// `any`) optional.
fn literal_object(json: &Json, kind: &Kind, kinds: &BTreeMap<String, Kind>) -> Result<Value, Fail> {
    let Json::Object(map) = json else {
        return Err(Fail::wrong_type(kind, json));
    };
    if let Some(extra) = map.keys().find(|key| !kinds.contains_key(*key)) {
        return Err(Fail::invalid(
            kind,
            json,
            format!("no field `{extra}` is declared"),
        ));
    }
    let mut object = Object::new();
    for (key, field_kind) in kinds {
        let Some(item) = map.get(key) else {
            // A field that may be NONE may be left out, and reads as NONE,
            // as the official SDK reads a missing field (and as `null`
            // reads for it here).
            if admits_none(field_kind) {
                object.insert(key.clone(), Value::None);
                continue;
            }
            return Err(Fail::invalid(
                kind,
                json,
                format!("the field `{key}` is missing"),
            ));
        };
        let value = read(item, field_kind, None).map_err(|f| f.within(Step::Key(key.clone())))?;
        object.insert(key.clone(), value);
    }
    Ok(Value::Object(object))
}

/// Reads a GeoJSON geometry; the reason of a refusal as the error.
fn geometry(json: &Json) -> Result<Geometry, String> {
    let Json::Object(map) = json else {
        return Err(GEOMETRY_HINT.to_owned());
    };
    let Some(Json::String(sort)) = map.get("type") else {
        return Err(GEOMETRY_HINT.to_owned());
    };
    match sort.as_str() {
        "GeometryCollection" => {
            let Some(Json::Array(members)) = map.get("geometries") else {
                return Err("a GeometryCollection needs `geometries`, an array".to_owned());
            };
            let members = members
                .iter()
                .map(geometry)
                .collect::<Result<Vec<Geometry>, String>>()?;
            Ok(Geometry::Collection(members))
        }
        "Point" | "LineString" | "Polygon" | "MultiPoint" | "MultiLineString" | "MultiPolygon" => {
            let Some(coordinates) = map.get("coordinates") else {
                return Err(format!("a {sort} needs `coordinates`"));
            };
            let mut object = Object::new();
            object.insert("type", Value::String(sort.clone()));
            object.insert("coordinates", coordinate_value(coordinates)?);
            Geometry::try_from_object(&object)
                .ok_or_else(|| format!("the coordinates are not those of a {sort}"))
        }
        other => Err(format!("`{other}` is not a GeoJSON geometry type")),
    }
}

/// Nested arrays of numbers, the numbers as floats (what `surrealdb-types`
/// builds points from).
fn coordinate_value(json: &Json) -> Result<Value, String> {
    match json {
        Json::Number(n) => n
            .as_f64()
            .map(|f| Value::Number(Number::Float(f)))
            .ok_or_else(|| "a coordinate is not a finite number".to_owned()),
        Json::Array(items) => Ok(Value::Array(Array::from(
            items
                .iter()
                .map(coordinate_value)
                .collect::<Result<Vec<Value>, String>>()?,
        ))),
        _ => Err("coordinates must be numbers in arrays".to_owned()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_from_the_outside_in() {
        let fail = Fail::invalid(&Kind::Int, &Json::Null, "x")
            .within(Step::Key("name".into()))
            .within(Step::Index(2))
            .within(Step::Key("odd key".into()));
        assert_eq!(render_path(&fail.path), "[\"odd key\"][2].name");
    }

    #[test]
    fn admits_none_and_text() {
        assert!(admits_none(&Kind::option(Kind::Int)));
        assert!(admits_none(&Kind::Any));
        assert!(!admits_none(&Kind::Int));
        assert!(admits_text(&Kind::option(Kind::Datetime)));
        assert!(!admits_text(&Kind::Array(Box::new(Kind::String), None)));
    }
}
