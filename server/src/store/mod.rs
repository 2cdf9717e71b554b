//! Repositories over SeaORM: the only code that builds queries. Each submodule owns one
//! aggregate and converts rows into domain types.

pub mod audit;
pub mod broker_logins;
pub mod catalog;
pub mod clients;
pub mod codes;
pub mod consents;
pub mod credentials;
pub mod directories;
pub mod exchange;
pub mod federated_identities;
pub mod identity_providers;
pub mod interactions;
pub mod key_state;
pub mod keys;
pub mod mail;
pub mod one_time;
pub mod realm_document;
pub mod realms;
pub mod refresh;
pub mod registration;
pub mod revocations;
pub mod roles;
mod rows;
mod traced;
pub use rows::Keyset;
pub mod sessions;
pub mod users;

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, Statement, TransactionTrait,
};
use serde_json::Value;

use sea_orm::sqlx::postgres::PgListener;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(DbErr),
    /// The database cannot be reached (no connection within the acquire timeout, connection
    /// refused or lost): a 503 with `Retry-After`, not a 500 (CONTRACT §1).
    #[error("database unavailable: {0}")]
    Unavailable(DbErr),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            crate::outage::note();
            StoreError::Unavailable(err)
        } else {
            StoreError::Db(err)
        }
    }
}

/// How long a request waits for a pooled connection when `TESSERA_DB_ACQUIRE_TIMEOUT` is not
/// given (CONTRACT §1).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Which database family a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// Whether `err` says the database is out of reach rather than that a statement failed: the
/// pool timed out or closed, the socket failed, or the server is shutting down or starting.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx;
    let sqlx_err = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx_err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // Class 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown,
            // cannot connect now (starting up or shutting down).
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}
/// How SQLite commits (`PRAGMA synchronous` in WAL mode). `Normal` syncs the log at
/// checkpoints, not at every commit: a power loss (not a crash of Tessera) may drop the last
/// commits, never corrupt the database. `Full` syncs every commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSync {
    #[default]
    Normal,
    Full,
}

impl SqliteSync {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "normal" => Some(Self::Normal),
            "full" => Some(Self::Full),
            _ => None,
        }
    }
}

/// Holds a lock named `scope` + `name` until the transaction `db` is in ends, across
/// processes: Postgres's advisory transaction lock. SQLite needs none: its transactions take
/// turns at the one writer already.
pub async fn advisory_lock(db: &impl Conn, scope: &str, name: &str) -> StoreResult<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1 || $2))",
            [scope.into(), name.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Postgres connections idle at least this long are pinged before they are lent (the server
/// may have restarted meanwhile); busier ones are not, which saves a round trip per statement.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// The Postgres pool: 16 connections, and a ping only for a connection that sat idle. sqlx
/// pings every connection it lends by default, one more round trip before each statement; a
/// connection in steady use has just proved itself, and one that broke under use is closed
/// when it is returned.
async fn connect_postgres(
    url: &str,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    let conn_err = |e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e));
    let connect = url
        .parse::<PgConnectOptions>()
        .map_err(conn_err)?
        .disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .min_connections(1)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(connect)
        .await
        .map_err(conn_err)?;
    Ok(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(
        pool,
    ))
}

/// The database handle shared by every repository.
#[derive(Debug, Clone)]
pub struct Store {
    pub db: DatabaseConnection,
    /// SQLite: a pool of one connection that every transaction runs on. Writers then queue
    /// for it in the pool, in order and without blocking a thread, instead of meeting inside
    /// SQLite and sleeping in its busy handler (which, with many at once, costs most of the
    /// write path's throughput). Readers keep the shared pool: WAL never makes them wait.
    /// `None` on Postgres (its own locking is row by row) and for in-memory databases.
    writer: Option<DatabaseConnection>,
    pub kind: DatabaseKind,
}

impl Store {
    /// Opens the database with the defaults (SQLite: WAL, `synchronous=NORMAL`).
    pub async fn connect(url: &str, kind: DatabaseKind) -> Result<Self, DbErr> {
        Self::connect_with(url, kind, DEFAULT_ACQUIRE_TIMEOUT, SqliteSync::default()).await
    }

    /// Opens the database; a request waits at most `acquire_timeout` for a connection, so an
    /// outage answers 503 promptly instead of hanging. Every SQLite connection of the pool gets
    /// WAL (readers never wait for the writer), foreign keys, `sync`, and a busy timeout so a
    /// writer waits for another instead of failing.
    pub async fn connect_with(
        url: &str,
        kind: DatabaseKind,
        acquire_timeout: Duration,
        sync: SqliteSync,
    ) -> Result<Self, DbErr> {
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        if kind == DatabaseKind::Postgres {
            return Ok(Self {
                db: connect_postgres(url, acquire_timeout).await?,
                writer: None,
                kind,
            });
        }
        let mut options = ConnectOptions::new(url.to_string());
        options
            .connect_timeout(acquire_timeout)
            .acquire_timeout(acquire_timeout)
            .sqlx_logging(false);
        if kind == DatabaseKind::Sqlite {
            // sqlx pings a connection before lending it by default: for SQLite that is one more
            // hand-off to the connection's thread and back per statement, and a local file
            // cannot have gone away.
            options.test_before_acquire(false);
            options.map_sqlx_sqlite_opts(move |sqlite| {
                sqlite
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
                    .synchronous(match sync {
                        SqliteSync::Normal => SqliteSynchronous::Normal,
                        SqliteSync::Full => SqliteSynchronous::Full,
                    })
            });
        }
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let writer = if kind == DatabaseKind::Sqlite && !in_memory {
            let mut lane = options.clone();
            lane.max_connections(1).min_connections(1);
            Some(Database::connect(lane).await?)
        } else {
            None
        };
        let db = Database::connect(options).await?;
        Ok(Self { db, writer, kind })
    }

    /// The connection writes in a transaction of their own go through (see `writer`).
    pub fn writer(&self) -> &(impl Conn + sea_orm::TransactionTrait) {
        self.writer.as_ref().unwrap_or(&self.db)
    }

    /// Postgres `NOTIFY` on `channel` (other processes LISTEN; see `changes`).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), DbErr> {
        let statement = sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [channel.into(), payload.into()],
        );
        self.db.execute(statement).await.map(|_| ())
    }

    /// The connection, for repository functions outside a transaction.
    pub fn conn(&self) -> &impl Conn {
        &self.db
    }

    /// Starts a transaction; repository functions take it as their connection.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(Tx(self.writer().begin().await?))
    }

    /// Postgres `LISTEN` on `channel` over a connection of its own (see `changes`).
    pub async fn listen(&self, channel: &str) -> StoreResult<Listener> {
        let pool = self.db.get_postgres_connection_pool().clone();
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(listen_error)?;
        listener.listen(channel).await.map_err(listen_error)?;
        Ok(Listener(listener))
    }

    /// Readiness: the database answers a trivial query within `within`. The ping runs on its
    /// own task, so giving up on it never cancels a statement half-way on a pooled connection.
    /// Connections open and idle in the pool.
    pub fn pool_stats(&self) -> Option<(u32, usize)> {
        match self.kind {
            DatabaseKind::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                Some((pool.size(), pool.num_idle()))
            }
            DatabaseKind::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                Some((pool.size(), pool.num_idle()))
            }
        }
    }

    pub async fn ping(&self, within: Duration) -> bool {
        let db = self.db.clone();
        let probe = tokio::spawn(async move { db.ping().await.is_ok() });
        matches!(tokio::time::timeout(within, probe).await, Ok(Ok(true)))
    }
}

/// Whether a database error is a unique-constraint violation (both backends).
pub fn is_unique_violation(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("UNIQUE constraint failed")
        || text.contains("duplicate key value violates unique constraint")
}

/// A unique-constraint violation as `Conflict(what)`, anything else as a database error.
pub fn conflict_or_db(err: DbErr, what: impl FnOnce() -> String) -> StoreError {
    if is_unique_violation(&err) {
        StoreError::Conflict(what())
    } else {
        StoreError::from(err)
    }
}

/// A list kept as JSON array text, or null when empty.
pub fn optional_list(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| Value::from(items.to_vec()).to_string())
}

/// Reads a list kept by [`optional_list`].
pub fn read_optional_list(text: Option<&str>, column: &str) -> StoreResult<Vec<String>> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text)
            .map_err(|_| StoreError::Corrupt(format!("{column} is not a list of strings"))),
    }
}

/// Decodes a JSON object column of strings (a mapping), tolerating nothing else.
pub fn string_map(
    value: &Value,
    column: &str,
) -> StoreResult<std::collections::BTreeMap<String, String>> {
    match value {
        Value::Object(items) => items
            .iter()
            .map(|(key, item)| {
                item.as_str()
                    .map(|text| (key.clone(), text.to_string()))
                    .ok_or_else(|| StoreError::Corrupt(format!("{column} holds a non-string")))
            })
            .collect(),
        Value::Null => Ok(Default::default()),
        _ => Err(StoreError::Corrupt(format!("{column} is not an object"))),
    }
}

/// Decodes a JSON array column of strings, tolerating nothing else.
pub fn string_list(value: &Value, column: &str) -> StoreResult<Vec<String>> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| StoreError::Corrupt(format!("{column} holds a non-string")))
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        _ => Err(StoreError::Corrupt(format!("{column} is not an array"))),
    }
}

pub fn json_list(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

/// Runs `f` for connections and transactions alike.
pub trait Conn: ConnectionTrait {}
impl<T: ConnectionTrait> Conn for T {}

/// A transaction callers outside the store can hold without naming SeaORM: pass `&tx` to
/// repository functions, then `commit` or `rollback` (dropping it rolls back).
pub struct Tx(DatabaseTransaction);

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        Ok(self.0.commit().await?)
    }

    pub async fn rollback(self) -> StoreResult<()> {
        Ok(self.0.rollback().await?)
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Tx {
    fn get_database_backend(&self) -> DbBackend {
        self.0.get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.0.execute(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.0.execute_unprepared(sql).await
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.0.query_one(stmt).await
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.0.query_all(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.0.support_returning()
    }
}

/// A Postgres `LISTEN` (`Store::listen`).
pub struct Listener(PgListener);

/// What a `Listener` hears next.
#[derive(Debug)]
pub enum Heard {
    /// A `NOTIFY` payload.
    Payload(String),
    /// The connection dropped: notifications may have been lost, listen anew.
    ConnectionLost,
}

impl Listener {
    /// Waits for the next notification; an error means the listener is gone.
    pub async fn next(&mut self) -> StoreResult<Heard> {
        match self.0.try_recv().await.map_err(listen_error)? {
            Some(notification) => Ok(Heard::Payload(notification.payload().to_string())),
            None => Ok(Heard::ConnectionLost),
        }
    }
}

fn listen_error(e: sea_orm::sqlx::Error) -> StoreError {
    StoreError::Db(DbErr::Custom(format!("LISTEN: {e}")))
}
