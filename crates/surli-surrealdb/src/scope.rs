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
//! Under a grant that is not `"*"`, what runs code the walk cannot see is
//! refused whole: calling a closure held in a value (`$f()`), `ALTER`
//! (other than of a table: a function's new body, an API's actions),
//! `DEFINE API`, `DEFINE MODULE`, `DEFINE ANALYZER … FUNCTION`, `USE`
//! (another database's functions are not the ones read), and the functions
//! that run text or stored code (`type::field`, `type::fields`, `eval::*`,
//! `api::invoke`, `search::analyze`), even when granted.
//!
//! What it does not cover, and why that is the database owner's code rather
//! than the module's: functions called by the table events, field
//! expressions, views and full-text analyzers the owner defined, which the
//! module's writes can set off. SurrealDB checks those against the module's
//! grant as well.

use std::collections::BTreeSet;
use std::convert::Infallible;

use surli_config::FunctionTargets;
use surrealdb::types::Value;
use surrealdb::{Connection, Surreal};
use surrealdb_expr::expr::operator::PostfixOperator;
use surrealdb_expr::expr::statements::define::DefineStatement;
use surrealdb_expr::expr::statements::r#use::UseStatement;
use surrealdb_expr::expr::statements::{
    AlterStatement, SelectStatement, UpdateStatement, UpsertStatement,
};
use surrealdb_expr::expr::visit::{Visit, Visitor};
use surrealdb_expr::expr::{Expr, Function, LogicalPlan, Part};

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
    // Read once, the first time a custom function is met.
    let mut bodies: Option<Vec<(String, String)>> = None;
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
        if bodies.is_none() {
            bodies = Some(definitions(db).await?);
        }
        let bodies = bodies.as_deref().unwrap_or_default();
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
    /// Constructs whose functions no check before the run can know (code
    /// the query stores or runs that the walk cannot see), each with why.
    opaque: BTreeSet<&'static str>,
}

/// Functions whose arguments are themselves code, parsed and run at run
/// time: granting one would grant every function.
/// `api::invoke` and `search::analyze` run code stored in the database (an
/// API's actions, an analyzer's function) that the check does not read.
const RUNS_ITS_ARGUMENTS: &[&str] = &[
    "type::field",
    "type::fields",
    "api::invoke",
    "search::analyze",
];

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
        if let Some(name) = self
            .named
            .iter()
            .find(|name| RUNS_ITS_ARGUMENTS.contains(&name.as_str()) || name.starts_with("eval::"))
        {
            return Err(format!(
                "`{name}` is not allowed for a module whose allow_functions is not \"*\": it runs \
                 code (text given to it, or code stored in the database) whose functions cannot \
                 be checked before the run"
            ));
        }
        if let Some(what) = self.opaque.iter().next() {
            return Err(format!(
                "{what} is not allowed for a module whose allow_functions is not \"*\": the \
                 functions it would run cannot be checked against the grant before the run"
            ));
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
            // SurrealDB checks a model by its name alone.
            Function::Model(model) => {
                self.named.insert(format!("ml::{}", model.name));
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

    fn visit_expr(&mut self, expr: &Expr) -> Result<(), Infallible> {
        match expr {
            Expr::Postfix {
                op: PostfixOperator::MethodCall(name, _),
                ..
            } => {
                self.methods.insert(name.clone());
            }
            // A closure literal's body is walked; anything else called
            // (`$param()`) runs a body that is not in the query.
            Expr::Postfix {
                expr: target,
                op: PostfixOperator::Call(_),
            } if !matches!(&**target, Expr::Closure(_)) => {
                self.opaque
                    .insert("calling a closure held in a value (`$f()`)");
            }
            // ALTER keeps code (a function's new body, an API's actions)
            // that the walk does not reach.
            Expr::Alter(alter) if !matches!(**alter, AlterStatement::Table(_)) => {
                self.opaque.insert("ALTER (other than ALTER TABLE)");
            }
            Expr::Define(define) => match &**define {
                DefineStatement::Api(_) => {
                    self.opaque.insert("DEFINE API");
                }
                DefineStatement::Module(_) => {
                    self.opaque.insert("DEFINE MODULE");
                }
                DefineStatement::Analyzer(analyzer) if analyzer.function.is_some() => {
                    self.opaque.insert("DEFINE ANALYZER with a FUNCTION");
                }
                _ => {}
            },
            _ => {}
        }
        expr.visit(self)
    }

    // The visitor leaves out START and TIMEOUT, which take any expression.
    fn visit_select(&mut self, select: &SelectStatement) -> Result<(), Infallible> {
        if let Some(start) = &select.start {
            self.visit_expr(&start.0)?;
        }
        self.visit_expr(&select.timeout)?;
        select.visit(self)
    }

    fn visit_update(&mut self, update: &UpdateStatement) -> Result<(), Infallible> {
        self.visit_expr(&update.timeout)?;
        update.visit(self)
    }

    fn visit_upsert(&mut self, upsert: &UpsertStatement) -> Result<(), Infallible> {
        self.visit_expr(&upsert.timeout)?;
        upsert.visit(self)
    }

    // Another database's functions are not the ones read to check the
    // custom functions a query calls.
    fn visit_use(&mut self, _: &UseStatement) -> Result<(), Infallible> {
        self.opaque.insert("USE");
        Ok(())
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
    fn functions_in_start_and_timeout_clauses_are_found() {
        for query in [
            "SELECT * FROM t START crypto::md5('x')",
            "SELECT * FROM t TIMEOUT crypto::md5('x')",
            "UPDATE t SET a = 1 TIMEOUT crypto::md5('x')",
            "UPSERT t SET a = 1 TIMEOUT crypto::md5('x')",
        ] {
            let found = calls(query);
            assert_eq!(
                found.judge(&grant(&["string::*"])),
                Err("Function 'crypto::md5' is not allowed to be executed".to_owned()),
                "{query}"
            );
        }
    }

    #[test]
    fn code_the_walk_cannot_see_is_refused_under_a_narrow_grant() {
        let narrow = grant(&["string::*", "type::*", "eval::*", "fn::*"]);
        for (query, refused) in [
            (
                "ALTER FUNCTION fn::f($x: int) { RETURN crypto::md5('x') }",
                "ALTER",
            ),
            ("USE DB other; RETURN fn::f()", "USE"),
            (
                "DEFINE ANALYZER a FUNCTION fn::f TOKENIZERS blank",
                "DEFINE ANALYZER",
            ),
            ("LET $f = |$x| $x; RETURN $f(1)", "closure held in a value"),
            (
                "RETURN type::field('a[WHERE crypto::md5(b)]')",
                "type::field",
            ),
            ("RETURN (1).len()", "method syntax"),
        ] {
            let found = calls(query);
            let error = found.judge(&narrow).unwrap_err();
            assert!(error.contains(refused), "{query}: {error}");
            assert_eq!(found.judge(&FunctionTargets::All), Ok(()), "{query}");
        }
        // A closure written in the query is walked, not refused.
        let literal = calls("RETURN array::map([1], |$x| string::len('a'))");
        assert_eq!(literal.judge(&grant(&["string::*", "array::*"])), Ok(()));
    }

    #[test]
    fn a_model_is_checked_by_its_name_as_surrealdb_checks_it() {
        let found = calls("RETURN ml::classifier<1.0.0>([1, 2])");
        assert_eq!(found.judge(&grant(&["ml::classifier"])), Ok(()));
    }

    #[test]
    fn a_query_that_does_not_parse_is_refused_with_the_parsers_reason() {
        let mut found = Calls::default();
        let error = found.walk("SELECT FROM WHERE").unwrap_err();
        assert!(error.contains("could not be parsed"), "{error}");
    }
}
