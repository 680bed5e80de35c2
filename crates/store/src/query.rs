//! NIP-01 filter queries (plus NIP-50 search) over the store.
//!
//! Each filter is answered on its own and the answers are merged (OR). For a
//! filter the planner picks one *driving* index — ids, then authors, then a
//! tag, then kinds, then time — and checks the remaining conditions per row.
//! When the driver walks one index range in time order (one author, one kind,
//! plain time), SQLite stops after `limit` rows. When it would have to seek
//! many ranges (a follow list of 1,000 authors, several tag values) and sort
//! them all, the query runs over growing *time windows* instead, newest
//! first, until `limit` events are found: the work stays proportional to the
//! page, not to the history of everyone followed.

use std::collections::HashSet;

use nostr::prelude::{Event, Filter, Timestamp};
use rusqlite::types::Value;
use rusqlite::Connection;

use crate::codec::{encode_tag_value, EventRow, EVENT_COLUMNS};
use crate::error::StoreResult;
use crate::search::fts_query;
use crate::Store;

/// First time window tried by a windowed query, in seconds.
const INITIAL_WINDOW: i64 = 3_600;
/// Searches matching at most this many events are answered from the full-text
/// index directly; more common words are checked row by row, newest first.
const SMALL_SEARCH: i64 = 2_000;

/// How a filter reaches its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    Ids,
    Authors {
        with_kinds: bool,
    },
    Tag,
    Kinds,
    Time,
    /// Rows come from a small full-text match list.
    SearchList,
}

/// A filter turned into SQL pieces.
struct Plan {
    driver: Driver,
    /// Conditions on `e` (and `t` for the tag driver), AND-ed.
    conditions: Vec<String>,
    params: Vec<Value>,
    /// The driving tag's condition, for the tag driver.
    tag_driver: Option<(String, Vec<Value>)>,
    limit: usize,
    /// Rows one time window may need: `limit` events, each matched at most
    /// once per value of the driving tag.
    window_rows: usize,
    since: i64,
    until: i64,
    /// True when SQLite can walk one index range newest first and stop at `limit`.
    ordered: bool,
}

impl Store {
    /// Answers NIP-01 filters, OR-ed: every matching event once, newest first
    /// (ties by lowest id). Each filter's `limit` applies to that filter.
    pub fn query(&self, filters: &[Filter]) -> StoreResult<Vec<Event>> {
        let conn = self.reader()?;
        let now = Timestamp::now().as_secs() as i64;
        let mut seen = HashSet::new();
        let mut rows = Vec::new();
        for filter in filters {
            let Some(plan) = self.plan(&conn, filter, now)? else {
                continue;
            };
            for row in self.run(&conn, &plan, now)? {
                if seen.insert(row.seq) {
                    rows.push(row);
                }
            }
        }
        rows.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// NIP-45: how many stored events match any of `filters` (each counted
    /// once), leaving out events of `hidden_kinds`. Answered from the indexes
    /// the same planner picks for a query, without reading any event's
    /// content; `limit` is ignored.
    pub fn count(&self, filters: &[Filter], hidden_kinds: &[u16]) -> StoreResult<u64> {
        let conn = self.reader()?;
        let now = Timestamp::now().as_secs() as i64;
        let mut parts = Vec::new();
        let mut params = Vec::new();
        for filter in filters {
            let mut filter = filter.clone();
            filter.limit = Some(1);
            let Some(mut plan) = self.plan(&conn, &filter, now)? else {
                continue;
            };
            if !hidden_kinds.is_empty() {
                plan.conditions.push(format!(
                    "e.kind NOT IN ({})",
                    placeholders(hidden_kinds.len())
                ));
                plan.params
                    .extend(hidden_kinds.iter().map(|k| Value::Integer(i64::from(*k))));
            }
            let (sql, p) = plan.sql_selecting(None, "e.seq AS seq", false);
            parts.push(sql);
            params.extend(p);
        }
        if parts.is_empty() {
            return Ok(0);
        }
        // An event matches through several tag values or filters: each once.
        let sql = format!(
            "SELECT count(DISTINCT seq) FROM ({})",
            parts.join(" UNION ALL ")
        );
        let n: i64 = conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(params), |r| r.get(0)))
            .map_err(|e| self.err("counting events", e))?;
        Ok(n as u64)
    }

    /// SQLite's query plan for the first step of answering `filter`, one line
    /// per plan node. For tests and diagnostics: it shows which index drives.
    pub fn explain(&self, filter: &Filter) -> StoreResult<Vec<String>> {
        let conn = self.reader()?;
        let now = Timestamp::now().as_secs() as i64;
        let Some(plan) = self.plan(&conn, filter, now)? else {
            return Ok(vec!["matches nothing".into()]);
        };
        let window = (!plan.ordered).then_some((plan.since, plan.until));
        let (sql, params) = plan.sql(window);
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .map_err(|e| self.err("explaining query", e))?;
        let lines = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                r.get::<_, String>(3)
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err("explaining query", e))?;
        Ok(lines)
    }

    /// Turns a filter into a plan, or `None` when it cannot match anything.
    fn plan(&self, conn: &Connection, filter: &Filter, now: i64) -> StoreResult<Option<Plan>> {
        crate::rules::check_filter_size(filter, &self.config)?;
        let limit = crate::rules::filter_limit(filter)?;
        let since = filter
            .since
            .map_or(0, |t| t.as_secs().min(i64::MAX as u64) as i64);
        let until = filter
            .until
            .map_or(i64::MAX, |t| t.as_secs().min(i64::MAX as u64) as i64);
        // An empty list means "any of none": nothing matches.
        let empty_list = crate::matching::has_empty_list(filter);
        if limit == 0 || since > until || empty_list {
            return Ok(None);
        }

        let mut conditions = vec!["(e.expires_at IS NULL OR e.expires_at > ?)".to_string()];
        let mut params = vec![Value::Integer(now)];
        let mut push_in = |conditions: &mut Vec<String>, column: &str, vals: Vec<Value>| {
            conditions.push(format!("{column} IN ({})", placeholders(vals.len())));
            params.extend(vals);
        };

        if let Some(ids) = &filter.ids {
            let vals = ids
                .iter()
                .map(|id| Value::Blob(id.as_bytes().to_vec()))
                .collect();
            push_in(&mut conditions, "e.id", vals);
        }
        let mut author_count = 0;
        if let Some(authors) = &filter.authors {
            let ids = self.author_ids(conn, authors)?;
            if ids.is_empty() {
                return Ok(None);
            }
            author_count = ids.len();
            push_in(
                &mut conditions,
                "e.author",
                ids.into_iter().map(Value::Integer).collect(),
            );
        }
        let kind_count = filter.kinds.as_ref().map_or(0, |k| k.len());
        if let Some(kinds) = &filter.kinds {
            let vals = kinds
                .iter()
                .map(|k| Value::Integer(i64::from(k.as_u16())))
                .collect();
            push_in(&mut conditions, "e.kind", vals);
        }

        let mut driver = if filter.ids.is_some() {
            Driver::Ids
        } else if author_count > 0 {
            Driver::Authors {
                with_kinds: kind_count > 0,
            }
        } else if !filter.generic_tags.is_empty() {
            Driver::Tag
        } else if kind_count > 0 {
            Driver::Kinds
        } else {
            Driver::Time
        };

        // The tag with the fewest values drives when tags drive; the others
        // are checked per row with an exact primary-key probe.
        let mut tags: Vec<_> = filter.generic_tags.iter().collect();
        tags.sort_by_key(|(_, v)| v.len());
        let mut tag_driver = None;
        let tag_values = tags.first().map_or(0, |(_, v)| v.len());
        for (i, (letter, vals)) in tags.into_iter().enumerate() {
            let name = Value::Integer(i64::from(letter.as_char() as u8));
            let vals: Vec<Value> = vals.iter().map(|v| encode_tag_value(v)).collect();
            if i == 0 && driver == Driver::Tag {
                let cond = format!("t.name = ? AND t.value IN ({})", placeholders(vals.len()));
                let mut p = vec![name];
                p.extend(vals);
                tag_driver = Some((cond, p));
            } else {
                conditions.push(format!(
                    "EXISTS (SELECT 1 FROM tags t2 WHERE t2.name = ? AND t2.value IN ({}) \
                     AND t2.created_at = e.created_at AND t2.event = e.seq)",
                    placeholders(vals.len())
                ));
                params.push(name);
                params.extend(vals);
            }
        }

        if let Some(search) = filter.search.as_deref().and_then(fts_query) {
            let matches: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM (SELECT rowid FROM events_fts WHERE events_fts MATCH ?1 LIMIT ?2)",
                )
                .and_then(|mut s| s.query_row(rusqlite::params![search, SMALL_SEARCH + 1], |r| r.get(0)))
                .map_err(|e| self.err("counting search matches", e))?;
            if matches == 0 {
                return Ok(None);
            }
            if matches <= SMALL_SEARCH && driver != Driver::Ids {
                driver = Driver::SearchList;
                if let Some((cond, p)) = tag_driver.take() {
                    conditions.push(format!(
                        "EXISTS (SELECT 1 FROM tags t WHERE {cond} AND t.created_at = e.created_at AND t.event = e.seq)"
                    ));
                    params.extend(p);
                }
                // Pushed last: its parameter is the search string pushed below.
                conditions.push(
                    "e.seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)".into(),
                );
            } else {
                conditions.push(
                    "EXISTS (SELECT 1 FROM events_fts WHERE events_fts MATCH ? AND rowid = e.seq)"
                        .into(),
                );
            }
            params.push(Value::Text(search));
        }

        let ordered = match driver {
            Driver::Ids | Driver::Time | Driver::SearchList => true,
            Driver::Authors { .. } => author_count == 1 && kind_count <= 1,
            Driver::Kinds => kind_count == 1,
            // One value: one range of the tag index, walked newest first and
            // stopped at the limit (the soak's REQ p99 grew with the database
            // while a one-hashtag page read the whole first hour's window).
            Driver::Tag => tag_values == 1,
        };
        Ok(Some(Plan {
            driver,
            conditions,
            params,
            tag_driver,
            limit,
            window_rows: limit.saturating_mul(tag_values.max(1)),
            since,
            until,
            ordered,
        }))
    }

    /// Runs a plan: one SQL query when ordered, growing time windows otherwise.
    fn run(&self, conn: &Connection, plan: &Plan, now: i64) -> StoreResult<Vec<EventRow>> {
        if plan.ordered {
            return self.fetch(conn, plan, None);
        }
        let anchor = plan.until.min(now);
        let mut upper = plan.until;
        let mut span = INITIAL_WINDOW;
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        loop {
            let lower = anchor.saturating_sub(span).max(plan.since).min(upper);
            for row in self.fetch(conn, plan, Some((lower, upper)))? {
                if seen.insert(row.seq) {
                    rows.push(row);
                }
            }
            if rows.len() >= plan.limit || lower <= plan.since {
                break;
            }
            upper = lower - 1;
            let covered = (anchor - lower).max(1);
            span = if rows.is_empty() {
                span.saturating_mul(16)
            } else {
                // Aim for twice the rows still missing at the density seen so far.
                let want = covered.saturating_mul(2 * plan.limit as i64) / rows.len() as i64;
                want.max(covered.saturating_mul(2))
            };
        }
        rows.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        rows.truncate(plan.limit);
        Ok(rows)
    }

    fn fetch(
        &self,
        conn: &Connection,
        plan: &Plan,
        window: Option<(i64, i64)>,
    ) -> StoreResult<Vec<EventRow>> {
        let (sql, params) = plan.sql(window);
        let mut stmt = conn
            .prepare_cached(&sql)
            .map_err(|e| self.err("preparing query", e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), EventRow::from_row)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err("running query", e))?;
        Ok(rows)
    }

    /// Internal author ids of the given public keys; unknown keys are skipped.
    fn author_ids(
        &self,
        conn: &Connection,
        authors: &std::collections::BTreeSet<nostr::prelude::PublicKey>,
    ) -> StoreResult<Vec<i64>> {
        let mut ids = Vec::with_capacity(authors.len());
        let keys: Vec<_> = authors.iter().map(|a| a.to_bytes()).collect();
        for chunk in keys.chunks(500) {
            let sql = format!(
                "SELECT id FROM authors WHERE pubkey IN ({})",
                placeholders(chunk.len())
            );
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(|e| self.err("resolving authors", e))?;
            let found = stmt
                .query_map(
                    rusqlite::params_from_iter(chunk.iter().map(|k| &k[..])),
                    |r| r.get(0),
                )
                .and_then(|rows| rows.collect::<Result<Vec<i64>, _>>())
                .map_err(|e| self.err("resolving authors", e))?;
            ids.extend(found);
        }
        ids.sort_unstable();
        Ok(ids)
    }
}

impl Plan {
    /// The SQL and its parameters, for the whole range or one time window.
    /// A window's query is sorted and cut too: windows run newest first, so
    /// a window holding more than `window_rows` rows fills the page alone.
    fn sql(&self, window: Option<(i64, i64)>) -> (String, Vec<Value>) {
        self.sql_selecting(window, EVENT_COLUMNS, true)
    }

    /// The SQL selecting `columns`, newest first and limited when `ordered`.
    fn sql_selecting(
        &self,
        window: Option<(i64, i64)>,
        columns: &str,
        ordered: bool,
    ) -> (String, Vec<Value>) {
        let (lower, upper) = window.unwrap_or((self.since, self.until));
        let mut params = Vec::new();
        let mut sql;
        if let Some((cond, tag_params)) = &self.tag_driver {
            sql = format!(
                "SELECT {columns} FROM tags t CROSS JOIN events e ON e.seq = t.event \
                 CROSS JOIN authors a ON a.id = e.author WHERE {cond} AND t.created_at >= ? AND t.created_at <= ?"
            );
            params.extend(tag_params.iter().cloned());
        } else {
            let index = match self.driver {
                Driver::Authors { with_kinds: true } => "INDEXED BY events_author_kind_time",
                Driver::Authors { with_kinds: false } => "INDEXED BY events_author_time",
                Driver::Kinds => "INDEXED BY events_kind_time",
                Driver::Time => "INDEXED BY events_time",
                // Rows come by rowid from the match list, never by walking an index.
                Driver::SearchList => "NOT INDEXED",
                Driver::Ids | Driver::Tag => "",
            };
            sql = format!(
                "SELECT {columns} FROM events e {index} CROSS JOIN authors a ON a.id = e.author \
                 WHERE e.created_at >= ? AND e.created_at <= ?"
            );
        }
        params.push(Value::Integer(lower));
        params.push(Value::Integer(upper));
        for cond in &self.conditions {
            sql.push_str(" AND ");
            sql.push_str(cond);
        }
        params.extend(self.params.iter().cloned());
        if ordered {
            // The tag driver's own column: the same time (tags carry their
            // event's), in the index SQLite walks.
            let time = if self.tag_driver.is_some() {
                "t.created_at"
            } else {
                "e.created_at"
            };
            sql.push_str(&format!(" ORDER BY {time} DESC, e.id LIMIT ?"));
            let rows = if window.is_some() {
                self.window_rows
            } else {
                self.limit
            };
            params.push(Value::Integer(rows.min(i64::MAX as usize) as i64));
        }
        (sql, params)
    }
}

/// `?, ?, ?` with `n` placeholders.
fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s
}
