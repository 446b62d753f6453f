//! A complete embedding: load a package, answer the guest's `sql` and `run`
//! yourself, call its functions, read the module's stats.
//!
//! `cargo xtask fixtures && cargo run -p surli --example embed -- target/fixtures/demo.surli`
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use surli::{
    CallInfo, ContextError, InvocationContext, Object, Package, ReadOptions, Runtime,
    RuntimeOptions, ServerLimits, SurrealValue, Value, async_trait,
};

/// What a database puts here: its query engine, under the rights of the
/// user the module runs for. surli checked the module's capabilities first.
struct MyDatabase {
    user: String,
}

#[async_trait]
impl InvocationContext for MyDatabase {
    async fn sql(&self, call: &CallInfo, q: &str, _: Object) -> Result<Value, ContextError> {
        println!("{:?} runs `{q}` as {}", call.function(), self.user);
        Ok(Value::None)
    }

    async fn run(
        &self,
        _: &CallInfo,
        f: &str,
        _: Option<&str>,
        _: Vec<Value>,
    ) -> Result<Value, ContextError> {
        Err(format!("{f} is not available here").into())
    }

    fn stdout(&self, call: &CallInfo, line: &str) {
        println!("[{} says] {line}", call.module().name);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1);
    let path = path.as_deref().unwrap_or("target/fixtures/demo.surli");
    let server = ServerLimits::default()
        .with_max_execution_time(Some(std::time::Duration::from_secs(2)))
        .with_max_memory_bytes(Some(64 << 20));
    let runtime = Runtime::new(RuntimeOptions::default().with_server(server))?;
    let module = runtime
        .load(Package::read_file(path, &ReadOptions::default())?)
        .await?;

    let ctx = Arc::new(MyDatabase {
        user: "alice".into(),
    });
    let args = vec![20i64.into_value(), 22i64.into_value()];
    println!(
        "add = {:?}",
        module.call(ctx.clone(), Some("add"), args).await?
    );

    // Several calls on one instance: pooled again on drop, unless broken.
    let mut lease = module.lease(ctx).await?;
    for by in [1i64, 2, 3] {
        let total = lease
            .call(Some("counter::bump"), vec![by.into_value()])
            .await?;
        println!("counter::bump({by}) = {total:?}");
    }
    drop(lease);
    println!("{:?}", module.stats());
    Ok(())
}
