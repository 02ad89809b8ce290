//! The figures in SQLite: the `page_views` and `referrers` tables (step 12
//! of `comments/schema.sql`), in the data folder's one database, on their
//! own connection so a minute's write never waits on comments.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, params};

use super::{Channel, Day, Kind, Tally};

pub struct FiguresStore {
    conn: Mutex<Connection>,
}

/// One page's figures over a span of days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFigures {
    pub page: String,
    pub views: u64,
    pub prints: u64,
    pub shares: u64,
}

impl FiguresStore {
    /// Opens the database the comments store has already brought up to date.
    pub fn open(path: &Path) -> rusqlite::Result<FiguresStore> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;")?;
        // Fail at start-up, not at the first write, if a table is missing.
        conn.query_row("SELECT count(*) FROM page_views, referrers LIMIT 1", [], |row| row.get::<_, i64>(0))?;
        Ok(FiguresStore { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // Each write is one transaction, so a panic cannot leave it half-done.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a tally to the stored counts, all or nothing.
    pub fn add(&self, tally: &Tally) -> rusqlite::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut page = tx.prepare_cached(
                "INSERT INTO page_views (day, page, kind, count) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (day, page, kind) DO UPDATE SET count = count + excluded.count",
            )?;
            for (day, path, kind, count) in tally.rows() {
                page.execute(params![day, path, kind.as_str(), count as i64])?;
            }
            let mut referrer = tx.prepare_cached(
                "INSERT INTO referrers (day, host, count) VALUES (?1, ?2, ?3)
                 ON CONFLICT (day, host) DO UPDATE SET count = count + excluded.count",
            )?;
            for (day, day_tally) in &tally.days {
                for (host, count) in &day_tally.referrers {
                    referrer.execute(params![day, host, *count as i64])?;
                }
            }
        }
        tx.commit()
    }

    /// Views (not prints or shares) of all pages together, per day from
    /// `from` to `to` inclusive, days without any included as 0.
    pub fn views_per_day(&self, from: Day, to: Day) -> rusqlite::Result<Vec<(Day, u64)>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT day, sum(count) FROM page_views WHERE kind = 'view' AND day BETWEEN ?1 AND ?2 GROUP BY day",
        )?;
        let found: std::collections::HashMap<Day, u64> = statement
            .query_map(params![from, to], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)? as u64)))?
            .collect::<Result<_, _>>()?;
        Ok((from..=to).map(|day| (day, found.get(&day).copied().unwrap_or(0))).collect())
    }

    /// Every page with any figure from `from` to `to`, most viewed first.
    pub fn per_page(&self, from: Day, to: Day) -> rusqlite::Result<Vec<PageFigures>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT page,
                    sum(CASE WHEN kind = 'view' THEN count ELSE 0 END),
                    sum(CASE WHEN kind = 'print' THEN count ELSE 0 END),
                    sum(CASE WHEN kind LIKE 'share-%' THEN count ELSE 0 END)
             FROM page_views WHERE day BETWEEN ?1 AND ?2
             GROUP BY page ORDER BY 2 DESC, page",
        )?;
        statement
            .query_map(params![from, to], |row| {
                Ok(PageFigures {
                    page: row.get(0)?,
                    views: row.get::<_, i64>(1)? as u64,
                    prints: row.get::<_, i64>(2)? as u64,
                    shares: row.get::<_, i64>(3)? as u64,
                })
            })?
            .collect()
    }

    /// The sites that sent the most readers from `from` to `to`, at most
    /// `limit`, most first.
    pub fn referrers(&self, from: Day, to: Day, limit: usize) -> rusqlite::Result<Vec<(String, u64)>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT host, sum(count) FROM referrers WHERE day BETWEEN ?1 AND ?2
             GROUP BY host ORDER BY 2 DESC, host LIMIT ?3",
        )?;
        statement
            .query_map(params![from, to, limit as i64], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u64)))?
            .collect()
    }

    /// Uses of each share control from `from` to `to`, every channel listed.
    pub fn shares(&self, from: Day, to: Day) -> rusqlite::Result<Vec<(Channel, u64)>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT kind, sum(count) FROM page_views WHERE kind LIKE 'share-%' AND day BETWEEN ?1 AND ?2 GROUP BY kind",
        )?;
        let found: Vec<(String, i64)> =
            statement.query_map(params![from, to], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?;
        Ok(Channel::ALL
            .into_iter()
            .map(|channel| {
                let count = found.iter().find(|(kind, _)| Kind::parse(kind) == Some(Kind::Share(channel)));
                (channel, count.map_or(0, |(_, n)| *n as u64))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::Counter;

    #[test]
    fn writes_add_to_what_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.db");
        crate::comments::store::Store::open(&path).unwrap();
        let store = FiguresStore::open(&path).unwrap();
        let counter = Counter::default();
        counter.count(100, "/a/", Kind::View, Some("news.example"));
        counter.count(100, "/b/", Kind::View, None);
        counter.count(101, "/a/", Kind::View, None);
        counter.count(101, "/a/", Kind::Share(Channel::Copy), None);
        counter.count(101, "/a/print/", Kind::Print, None);
        store.add(&counter.take()).unwrap();
        counter.count(101, "/a/", Kind::View, Some("news.example"));
        store.add(&counter.take()).unwrap();
        assert_eq!(store.views_per_day(99, 102).unwrap(), [(99, 0), (100, 2), (101, 2), (102, 0)]);
        let pages = store.per_page(100, 101).unwrap();
        assert_eq!(pages[0], PageFigures { page: "/a/".into(), views: 3, prints: 0, shares: 1 });
        assert_eq!(pages.iter().find(|p| p.page == "/a/print/").unwrap().prints, 1);
        assert_eq!(store.per_page(101, 101).unwrap()[0].views, 2);
        assert_eq!(store.referrers(0, 200, 10).unwrap(), [("news.example".to_string(), 2)]);
        let shares = store.shares(0, 200).unwrap();
        assert_eq!(shares[0], (Channel::Copy, 1));
        assert_eq!(shares.len(), Channel::ALL.len());
    }
}
