//! Which functions a module's query may call, checked before it runs.
//!
//! SurrealDB's own host runs a module's queries with the database's
//! capabilities narrowed to what the module declares in `allow_functions`.
//! The client library this crate drives sets capabilities per connection
//! only, so the narrowing is done here, before the query reaches the
//! database: the query is parsed with SurrealDB's own parser, and every
//! function it can call is checked against the module's grant. A query
//! that could call an ungranted function is refused whole, so nothing of
//! it runs.
//!
//! What "could call" covers:
//! - every function named in the query (built-in, `ml::`, `mod::`,
//!   `silo::`, and `fn::` custom functions, whose names are checked as
//!   `fn::name`, as SurrealDB checks them);
//! - the bodies of the custom functions it calls, read from the database
//!   and checked the same way, transitively: SurrealDB checks the functions
//!   a custom function calls against the module's grant too;
//! - method syntax (`$x.len()`): which function a method runs depends on
//!   the type its receiver has when the query runs, which no check before
//!   the run can know, so a module whose grant is not `"*"` cannot use it
//!   (it calls the function by name instead: `string::len($x)`).
//!
//! What it does not cover, and why that is the database owner's code rather
//! than the module's: functions called by the table events, field
//! expressions and views the owner defined, which the module's writes can
//! set off. SurrealDB checks those against the module's grant as well.

use std::collections::BTreeSet;
use std::convert::Infallible;

use surli_config::FunctionTargets;
use surrealdb::types::Value;
use surrealdb::{Connection, Surreal};
use surrealdb_expr::expr::visit::{Visit, Visitor};
use surrealdb_expr::expr::{Function, LogicalPlan, Part};

use crate::response::last_value;

/// The most custom-function bodies one check reads, so a database with a
/// very deep chain of functions cannot make one query's check unbounded.
const MAX_BODIES: usize = 256;

/// Refuses `query` unless every function it could call is in `allowed`.
pub(crate) async fn check<C: Connection>(
    db: &Surreal<C>,
    query: &str,
    allowed: &FunctionTargets,
) -> Result<(), String> {
    if *allowed == FunctionTargets::All {
        return Ok(());
    }
    let mut calls = Calls::default();
    calls.walk(query)?;
    let mut checked: BTreeSet<String> = BTreeSet::new();
    loop {
        calls.judge(allowed)?;
        let pending: Vec<String> = calls
            .custom
            .iter()
            .filter(|name| !checked.contains(*name))
            .cloned()
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        if checked.len() + pending.len() > MAX_BODIES {
            return Err(format!(
                "the query calls more than {MAX_BODIES} custom functions, directly or through \
                 others: too many to check against the module's allow_functions"
            ));
        }
        let bodies = definitions(db).await?;
        for name in pending {
            let body = bodies
                .iter()
                .find(|(defined, _)| *defined == name)
                .ok_or_else(|| {
                    format!(
                        "the query calls `fn::{name}`, whose definition could not be read to check \
                     the functions it calls against the module's allow_functions"
                    )
                })?;
            calls.walk(&body.1)?;
            checked.insert(name);
        }
    }
}

/// The custom functions of the session's database, by name (without
/// `fn::`), each with its `DEFINE FUNCTION` statement.
async fn definitions<C: Connection>(db: &Surreal<C>) -> Result<Vec<(String, String)>, String> {
    let unreadable = |error: &dyn std::fmt::Display| {
        format!(
            "the definitions of the database's custom functions could not be read to check the \
             query against the module's allow_functions: {error}"
        )
    };
    let response = db
        .clone()
        .query("RETURN (INFO FOR DB).functions")
        .await
        .map_err(|e| unreadable(&e))?;
    let value = last_value(response).map_err(|e| unreadable(&e))?;
    let Value::Object(functions) = value else {
        return Err(unreadable(&"the database answered with no function list"));
    };
    Ok(functions
        .into_iter()
        .filter_map(|(name, definition)| match definition {
            Value::String(text) => Some((name, text)),
            _ => None,
        })
        .collect())
}

/// What a query, and the function bodies read so far, could call.
#[derive(Default)]
struct Calls {
    /// Functions checked by name as they are: built-ins, `ml::`, `mod::`,
    /// `silo::`.
    named: BTreeSet<String>,
    /// Custom functions, without `fn::`.
    custom: BTreeSet<String>,
    /// Methods called with method syntax.
    methods: BTreeSet<String>,
}

impl Calls {
    /// Adds what `text` (a query, or a function's definition) calls.
    fn walk(&mut self, text: &str) -> Result<(), String> {
        let ast = surrealdb_syn::parse(text).map_err(|error| {
            format!(
                "the query could not be parsed to check it against the module's \
                 allow_functions: {error}"
            )
        })?;
        let plan = LogicalPlan::from(ast);
        for expression in &plan.expressions {
            let Ok(()) = self.visit_top_level_expr(expression);
        }
        Ok(())
    }

    /// Refuses the first call `allowed` does not grant.
    fn judge(&self, allowed: &FunctionTargets) -> Result<(), String> {
        if *allowed == FunctionTargets::All {
            return Ok(());
        }
        let custom = self.custom.iter().map(|name| format!("fn::{name}"));
        if let Some(name) = self
            .named
            .iter()
            .cloned()
            .chain(custom)
            .find(|name| !allowed.allows(name))
        {
            return Err(format!("Function '{name}' is not allowed to be executed"));
        }
        if let Some(method) = self.methods.iter().next() {
            return Err(format!(
                "method syntax (`.{method}()`) is not allowed for a module whose allow_functions \
                 is not \"*\": which function it runs depends on its receiver's type at run time; \
                 call the function by its full name instead (for example `string::len($x)`)"
            ));
        }
        Ok(())
    }
}

impl Visitor for Calls {
    type Error = Infallible;

    fn visit_function(&mut self, function: &Function) -> Result<(), Infallible> {
        match function {
            Function::Normal(name) => {
                self.named.insert(name.clone());
            }
            Function::Custom(name) => {
                self.custom.insert(name.clone());
            }
            Function::Model(model) => {
                self.named
                    .insert(format!("ml::{}<{}>", model.name, model.version));
            }
            Function::Module(module, sub) => {
                let name = match sub {
                    Some(sub) => format!("mod::{module}::{sub}"),
                    None => format!("mod::{module}"),
                };
                self.named.insert(name);
            }
            Function::Silo {
                org,
                pkg,
                major,
                minor,
                patch,
                sub,
            } => {
                let base = format!("silo::{org}::{pkg}::<{major}.{minor}.{patch}>");
                self.named.insert(match sub {
                    Some(sub) => format!("{base}::{sub}"),
                    None => base,
                });
            }
            // Embedded scripts are compiled out of this crate's SurrealDB
            // (no `scripting` feature): the database refuses them itself.
            Function::Script(_) => {}
        }
        function.visit(self)
    }

    fn visit_part(&mut self, part: &Part) -> Result<(), Infallible> {
        if let Part::Method(name, _) = part {
            self.methods.insert(name.to_string());
        }
        part.visit(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn calls(query: &str) -> Calls {
        let mut calls = Calls::default();
        calls.walk(query).unwrap();
        calls
    }

    fn grant(patterns: &[&str]) -> FunctionTargets {
        FunctionTargets::Some(patterns.iter().map(|p| (*p).to_owned()).collect())
    }

    #[test]
    fn every_function_a_query_names_is_found_wherever_it_sits() {
        let found = calls(
            "LET $x = string::len('a'); \
             SELECT count() AS n, math::max([1, 2]) FROM t WHERE crypto::md5(name) = 'x' \
                GROUP ALL; \
             CREATE t SET v = fn::helper(array::len([1])); \
             RETURN IF true { time::now() } ELSE { rand::uuid() };",
        );
        let named: Vec<&str> = found.named.iter().map(String::as_str).collect();
        assert_eq!(
            named,
            [
                "array::len",
                "count",
                "crypto::md5",
                "math::max",
                "rand::uuid",
                "string::len",
                "time::now"
            ]
        );
        assert_eq!(found.custom.iter().collect::<Vec<_>>(), ["helper"]);
    }

    #[test]
    fn a_grant_refuses_what_it_does_not_name_with_surrealdbs_words() {
        let found = calls("RETURN [string::len('a'), count([1])]");
        assert_eq!(found.judge(&grant(&["string::*", "count"])), Ok(()));
        assert_eq!(
            found.judge(&grant(&["string::*"])),
            Err("Function 'count' is not allowed to be executed".to_owned())
        );
        let custom = calls("RETURN fn::helper(1)");
        assert_eq!(
            custom.judge(&grant(&["string::*"])),
            Err("Function 'fn::helper' is not allowed to be executed".to_owned())
        );
        assert_eq!(custom.judge(&grant(&["fn::helper"])), Ok(()));
    }

    #[test]
    fn method_syntax_is_refused_under_a_narrow_grant() {
        let found = calls("RETURN 'abc'.len()");
        assert!(found.judge(&grant(&["string::*"])).is_err());
        assert_eq!(found.judge(&FunctionTargets::All), Ok(()));
    }

    #[test]
    fn a_query_that_does_not_parse_is_refused_with_the_parsers_reason() {
        let mut found = Calls::default();
        let error = found.walk("SELECT FROM WHERE").unwrap_err();
        assert!(error.contains("could not be parsed"), "{error}");
    }
}
