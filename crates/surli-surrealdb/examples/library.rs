//! A module against a real SurrealDB: the caller's rights for `sql` and
//! `run`, and the module's KV store in the same database.
//!
//! `cargo xtask fixtures && cargo run -p surli-surrealdb --example library`
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use surli::{ModuleOptions, Package, ReadOptions, Runtime, RuntimeOptions, SurrealValue};
use surli_surrealdb::surrealdb::opt::auth::Record;
use surli_surrealdb::surrealdb::types::{Object, Value};
use surli_surrealdb::{SurrealContext, SurrealKvStore, connect};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The database: `mem://` here; `surrealkv://PATH` keeps it on disk,
    //    and a remote one comes from your own `surrealdb` dependency.
    let db = connect("mem://", "shop", "shop").await?;
    db.query(
        "DEFINE ACCESS reader ON DATABASE TYPE RECORD
             SIGNIN (SELECT * FROM reader WHERE name = $name) DURATION FOR SESSION 1h;
         DEFINE TABLE book SCHEMALESS
             PERMISSIONS FOR select FULL FOR create WHERE $auth.admin = true;
         DEFINE FUNCTION fn::blurb($title: string) { RETURN 'A book called ' + $title };
         CREATE reader:ada SET name = 'ada', admin = true;",
    )
    .await?
    .check()?;

    // 2. The module, with its KV store in a table of its own.
    let path = std::env::args().nth(1);
    let path = path.as_deref().unwrap_or("target/fixtures/library.surli");
    let package = Package::read_file(path, &ReadOptions::default())?;
    let runtime = Runtime::new(RuntimeOptions::default())?;
    let limits = runtime.kv_limits(package.config());
    let kv = SurrealKvStore::for_module(db.clone(), &package.config().meta, limits);
    let options = ModuleOptions::default().with_kv(Arc::new(kv));
    let module = runtime.load_with(package, options).await?;

    // 3. A call as a user: a session of its own, signed in as that user.
    let ada = db.clone();
    let mut who = Object::new();
    who.insert("name".to_owned(), Value::String("ada".to_owned()));
    ada.signin(Record {
        namespace: "shop".to_owned(),
        database: "shop".to_owned(),
        access: "reader".to_owned(),
        params: Value::Object(who),
    })
    .await?;
    let as_ada = Arc::new(SurrealContext::new(ada));

    let titles = vec!["Dune".to_owned(), "Emma".to_owned()].into_value();
    let shelved = module
        .call(as_ada.clone(), Some("shelve"), vec![titles])
        .await?;
    println!("shelve = {shelved:?}");
    let blurb = module
        .call(as_ada, Some("blurb"), vec!["Emma".to_owned().into_value()])
        .await?;
    println!("blurb  = {blurb:?}");
    Ok(())
}
