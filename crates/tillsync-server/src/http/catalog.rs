//! The catalog the polling path reads (the published packages of the down
//! tables, the layouts of the up tables) and the copy kept while its
//! generation holds: read once per generation, and read again in the
//! background once it is [`CATALOG_MAX_AGE`] old, the calls going on with
//! the kept one meanwhile.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tillsync_core::Direction;
use tillsync_db::StoreError;
use tillsync_server_db::store::ServerStore;

use crate::http::error::HttpError;

/// What the polling path reads of the catalog: the published packages of
/// the down tables and the layouts of the up tables.
pub struct Catalog {
    /// The [`TillStore::catalog_generation`] it was read at.
    generation: Option<i64>,
    /// When it was read.
    read_at: Instant,
    /// Published packages of the tables registered down.
    pub published: Vec<tillsync_wire::index::IndexEntry>,
    /// The up tables with their layouts.
    pub up_tables: Vec<tillsync_wire::api::UpTable>,
}

/// A catalog read at the current generation is used again for at most
/// this long: the generation follows the sync tables and packages, not the
/// columns of the up tables, so a column added to one (by the back office's
/// own tools) reaches the tills within this time.
pub const CATALOG_MAX_AGE: Duration = Duration::from_secs(5);

impl Catalog {
    /// Read it from `db`, after `generation` was read (it is at least as
    /// new as that generation).
    pub fn read(db: &dyn ServerStore, generation: Option<i64>) -> Result<Self, StoreError> {
        let down: Vec<String> = db
            .sync_tables()?
            .into_iter()
            .filter(|t| t.direction == Direction::Down)
            .map(|t| t.table)
            .collect();
        let published = db
            .published()?
            .into_iter()
            .filter(|e| down.contains(&e.table))
            .collect();
        let up_tables = db
            .up_table_layouts()?
            .into_iter()
            .map(|(table, layout)| tillsync_wire::api::UpTable { table, layout })
            .collect();
        Ok(Catalog {
            generation,
            read_at: Instant::now(),
            published,
            up_tables,
        })
    }
}

/// The catalog last read, kept while the generation holds
/// ([`KeptCatalog::get`]).
#[derive(Default)]
pub struct KeptCatalog {
    /// The catalog last read.
    kept: Mutex<Option<Arc<Catalog>>>,
    /// Held while the catalog is read for keeping.
    reading: Arc<tokio::sync::Mutex<()>>,
}

impl KeptCatalog {
    /// The catalog as of `generation` (read with the till's credentials):
    /// the one kept when it was read at that generation, else read now (and
    /// kept). Once the kept one is [`CATALOG_MAX_AGE`] old, one task reads
    /// it again while the calls go on with it: the generation is the same,
    /// only a column added to an up table can be missing from it, so no
    /// call waits for that read. Without a generation, read every time.
    /// `read` reads the catalog from the database (after `generation` was
    /// read: at least as new as it).
    pub async fn get<R, F>(
        self: &Arc<Self>,
        generation: Option<i64>,
        read: R,
    ) -> Result<Arc<Catalog>, HttpError>
    where
        R: Fn(Option<i64>) -> F,
        F: Future<Output = Result<Catalog, HttpError>> + Send + 'static,
    {
        if generation.is_none() {
            return Ok(Arc::new(read(None).await?));
        }
        // The kept catalog of this generation, and whether it is old.
        let kept = || {
            let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            kept.as_ref()
                .filter(|c| c.generation == generation)
                .map(|c| (c.clone(), c.read_at.elapsed() >= CATALOG_MAX_AGE))
        };
        match kept() {
            Some((c, false)) => return Ok(c),
            Some((c, true)) => {
                if let Ok(reading) = self.reading.clone().try_lock_owned() {
                    let (catalog, read) = (self.clone(), read(generation));
                    tokio::spawn(async move {
                        let _reading = reading;
                        if let Err(e) = catalog.keep(generation, read).await {
                            tracing::warn!(error = e.message(), "reading the catalog again failed");
                        }
                    });
                }
                return Ok(c);
            }
            None => {}
        }
        // One read at a time: the calls that find no catalog of their
        // generation together wait for the first one's read rather than
        // all reading.
        let _reading = self.reading.lock().await;
        if let Some((c, _)) = kept() {
            return Ok(c);
        }
        self.keep(generation, read(generation)).await
    }

    /// The catalog `read` (after `generation` was read: at least as new as
    /// it), kept unless a newer generation is kept.
    async fn keep(
        &self,
        generation: Option<i64>,
        read: impl Future<Output = Result<Catalog, HttpError>>,
    ) -> Result<Arc<Catalog>, HttpError> {
        let read = Arc::new(read.await?);
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.as_ref().is_none_or(|c| c.generation <= generation) {
            *kept = Some(read.clone());
        }
        Ok(read)
    }
}
