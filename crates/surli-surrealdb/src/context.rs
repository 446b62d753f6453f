use async_trait::async_trait;
use surli_host::{CallInfo, ContextError, InvocationContext};
use surrealdb::types::{Object, Value};
use surrealdb::{Connection, Surreal};

use crate::response::last_value;

/// Answers a module's `sql` and `run` with a real SurrealDB, as the caller.
///
/// Build one per call (or per caller) from a handle signed in as that
/// caller, with the namespace and database the call should see:
///
/// ```no_run
/// # async fn example(db: surrealdb::Surreal<surrealdb::engine::any::Any>) -> Result<(), Box<dyn std::error::Error>> {
/// use surrealdb::opt::auth::Record;
/// use surli_surrealdb::SurrealContext;
///
/// let caller = db.clone(); // a session of its own
/// caller
///     .signin(Record {
///         namespace: "shop".into(),
///         database: "shop".into(),
///         access: "user".into(),
///         params: surrealdb::types::Object::new(),
///     })
///     .await?;
/// let context = SurrealContext::new(caller);
/// # let _ = context; Ok(()) }
/// ```
///
/// # What a module can and cannot do
///
/// - Every `sql` and `run` runs on a fresh session cloned from the handle:
///   the same namespace, database and identity, so the database's own
///   permissions apply to the module exactly as to the caller. A `USE` or
///   `LET` inside one query does not carry over to the next.
/// - `sql` returns the value of the query's last statement (one statement
///   is the common case; `BEGIN ... COMMIT` in one query is a
///   transaction). If any statement fails, the guest gets the first
///   failure's message instead.
/// - `run` calls the function with the arguments bound as variables, never
///   spliced into the query text; the name must be a plain path such as
///   `string::uppercase`, `fn::custom` or `silo::org::pkg::fn`, and the
///   version digits, letters, `.`, `-` and `+`.
/// - The runtime checks the module's capabilities before any of this
///   (`allow_arbitrary_queries`, `allow_functions`); a refused call never
///   reaches the database.
/// - A module's query may call only the functions its `allow_functions`
///   grants, as under SurrealDB's own host: the query is parsed and every
///   function it names, and every function the custom functions it calls
///   name in turn, is checked before anything runs; a query that could call
///   another is refused whole ("Function 'count' is not allowed to be
///   executed"). Method syntax (`$x.len()`) is refused unless the grant is
///   `"*"`, since its function depends on a type known only at run time,
///   and so is whatever runs code the check cannot see (see the crate's
///   `scope` notes in ARCHITECTURE.md). Functions set off by the database
///   owner's table events, field expressions, views and full-text
///   analyzers are not checked.
/// - Database errors reach the guest as their message, never as a panic.
#[derive(Debug, Clone)]
pub struct SurrealContext<C: Connection> {
    session: Surreal<C>,
}

impl<C: Connection> SurrealContext<C> {
    /// A context that runs every query as `session` does: its namespace,
    /// database and identity.
    pub fn new(session: Surreal<C>) -> Self {
        Self { session }
    }

    /// The handle queries are cloned from.
    pub fn session(&self) -> &Surreal<C> {
        &self.session
    }

    /// Refuses `query` when it could call a function the module's
    /// `allow_functions` does not grant (when the call says what they are).
    async fn within_grant(&self, call: &CallInfo, query: &str) -> Result<(), ContextError> {
        match call.allowed_functions() {
            Some(allowed) => crate::scope::check(&self.session, query, allowed)
                .await
                .map_err(ContextError::from),
            None => Ok(()),
        }
    }

    /// Runs `query` with `vars` on a session of its own and returns its
    /// last statement's value.
    async fn answer(&self, query: &str, vars: Object) -> Result<Value, ContextError> {
        let session = self.session.clone();
        let response = session
            .query(query)
            .bind(vars)
            .await
            .map_err(ContextError::new)?;
        last_value(response).map_err(ContextError::new)
    }
}

#[async_trait]
impl<C: Connection> InvocationContext for SurrealContext<C> {
    async fn sql(&self, call: &CallInfo, query: &str, vars: Object) -> Result<Value, ContextError> {
        self.within_grant(call, query).await?;
        self.answer(query, vars).await
    }

    async fn run(
        &self,
        call: &CallInfo,
        function: &str,
        version: Option<&str>,
        args: Vec<Value>,
    ) -> Result<Value, ContextError> {
        let (query, vars) = function_call(function, version, args)?;
        self.within_grant(call, &query).await?;
        self.answer(&query, vars).await
    }
}

/// `RETURN name<version>($surli_arg_0, ...)` and its variables, after
/// checking that the name and version cannot change the query's shape.
fn function_call(
    function: &str,
    version: Option<&str>,
    args: Vec<Value>,
) -> Result<(String, Object), ContextError> {
    let plain = |part: &str| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    if !function.split("::").all(plain) {
        return Err(format!(
            "`{function}` is not a function name: use a path such as `string::uppercase` or \
             `fn::name`"
        )
        .into());
    }
    let mut query = format!("RETURN {function}");
    if let Some(version) = version {
        let valid = !version.is_empty()
            && version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
        if !valid {
            return Err(format!("`{version}` is not a function version").into());
        }
        query.push('<');
        query.push_str(version);
        query.push('>');
    }
    let mut vars = Object::new();
    query.push('(');
    for (index, arg) in args.into_iter().enumerate() {
        if index > 0 {
            query.push_str(", ");
        }
        let name = format!("surli_arg_{index}");
        query.push('$');
        query.push_str(&name);
        vars.insert(name, arg);
    }
    query.push(')');
    Ok((query, vars))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_bound_never_spliced() {
        let (query, vars) = function_call(
            "fn::greet",
            None,
            vec![Value::String("x); DELETE user; (".into())],
        )
        .unwrap();
        assert_eq!(query, "RETURN fn::greet($surli_arg_0)");
        assert_eq!(
            vars.get("surli_arg_0"),
            Some(&Value::String("x); DELETE user; (".into()))
        );
    }

    #[test]
    fn a_version_goes_between_angle_brackets() {
        let (query, _) =
            function_call("silo::acme::geo::distance", Some("1.2.0"), Vec::new()).unwrap();
        assert_eq!(query, "RETURN silo::acme::geo::distance<1.2.0>()");
    }

    #[test]
    fn names_and_versions_that_could_change_the_query_are_refused() {
        for name in [
            "",
            "fn::",
            "::x",
            "fn::x; DELETE user",
            "fn::x()",
            "fn::x<1>",
            "a b",
        ] {
            let refused = function_call(name, None, Vec::new());
            assert!(refused.is_err(), "`{name}` was accepted");
        }
        for version in ["", "1>(); DELETE user; RETURN x<1", "1 2"] {
            let refused = function_call("fn::x", Some(version), Vec::new());
            assert!(refused.is_err(), "version `{version}` was accepted");
        }
    }
}
