//! Reading: a NIP-01 filter turned into SQL conditions with numbered
//! parameters, under the same bounds as the SQLite store.

use nostr::prelude::*;
use samizdat_store::{StoreConfig, StoreResult};
use tokio_postgres::types::ToSql;

/// SQL text and its parameters, numbered as they are pushed.
#[derive(Default)]
pub(super) struct Sql {
    pub(super) text: String,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Sql {
    /// Pushes a parameter and returns its placeholder (`$n`).
    pub(super) fn param(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }

    /// `column = $n` for one value (so an index can be walked in order and
    /// stopped at the limit), `column = ANY($n)` for several.
    pub(super) fn any<T>(&mut self, column: &str, mut values: Vec<T>) -> String
    where
        T: ToSql + Sync + Send + 'static,
        Vec<T>: ToSql + Sync + Send + 'static,
    {
        if values.len() == 1 {
            if let Some(one) = values.pop() {
                return format!("{column} = {}", self.param(one));
            }
        }
        format!("{column} = ANY({})", self.param(values))
    }

    pub(super) fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The WHERE conditions of one filter (after `e.`), or `None` when it
/// cannot match; errors for the same bounds the SQLite store enforces.
/// `driving`: the tag whose index the query walks (joined, so not checked
/// again: a second look at the same tag made PostgreSQL hash every row of
/// the tag and sort them, instead of walking the index and stopping at the
/// limit).
pub(super) fn conditions(
    filter: &Filter,
    sql: &mut Sql,
    now: i64,
    driving: Option<&SingleLetterTag>,
) -> StoreResult<Option<String>> {
    samizdat_store::rules::check_filter_size(filter, &StoreConfig::default())?;
    if samizdat_store::has_empty_list(filter) {
        return Ok(None);
    }
    let mut parts = vec![format!(
        "(e.expires_at IS NULL OR e.expires_at > {})",
        sql.param(now)
    )];
    if let Some(ids) = &filter.ids {
        let ids: Vec<Vec<u8>> = ids.iter().map(|i| i.as_bytes().to_vec()).collect();
        parts.push(sql.any("e.id", ids));
    }
    if let Some(authors) = &filter.authors {
        let keys: Vec<Vec<u8>> = authors.iter().map(|k| k.to_bytes().to_vec()).collect();
        parts.push(sql.any("e.pubkey", keys));
    }
    if let Some(kinds) = &filter.kinds {
        let kinds: Vec<i32> = kinds.iter().map(|k| i32::from(k.as_u16())).collect();
        parts.push(sql.any("e.kind", kinds));
    }
    if let Some(since) = filter.since {
        let since = since.as_secs().min(i64::MAX as u64) as i64;
        parts.push(format!("e.created_at >= {}", sql.param(since)));
    }
    if let Some(until) = filter.until {
        let until = until.as_secs().min(i64::MAX as u64) as i64;
        parts.push(format!("e.created_at <= {}", sql.param(until)));
    }
    for (letter, values) in &filter.generic_tags {
        if Some(letter) == driving {
            continue;
        }
        let values: Vec<String> = values.iter().cloned().collect();
        let name = sql.param(letter.as_char().to_string());
        let value = sql.any("t.value", values);
        parts.push(format!(
            "EXISTS (SELECT 1 FROM tags t WHERE t.event = e.seq AND t.name = {name} AND {value})"
        ));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        parts.push(format!(
            "e.searchable AND to_tsvector('simple', e.content) @@ plainto_tsquery('simple', {})",
            sql.param(search.to_string())
        ));
    }
    Ok(Some(parts.join(" AND ")))
}

/// The query answering one filter, and the filter's limit; `None` when it
/// cannot match. A filter with tags and no ids or authors walks the tag
/// index of its most selective tag, newest first (PostgreSQL would otherwise
/// walk every event by time and probe its tags). An event matches once per
/// value at most, so `limit × values` rows hold `limit` distinct events.
pub(super) fn select(filter: &Filter, now: i64) -> StoreResult<Option<(Sql, usize)>> {
    let limit = samizdat_store::rules::filter_limit(filter)?;
    let mut sql = Sql::default();
    let driver = (filter.ids.is_none() && filter.authors.is_none())
        .then(|| filter.generic_tags.iter().min_by_key(|(_, v)| v.len()))
        .flatten();
    let Some(cond) = conditions(filter, &mut sql, now, driver.map(|(letter, _)| letter))? else {
        return Ok(None);
    };
    if limit == 0 {
        return Ok(None);
    }
    let (from, order, fetch) = match driver {
        Some((letter, values)) => {
            let name = sql.param(letter.as_char().to_string());
            let values_len = values.len();
            let values = sql.any("d.value", values.iter().cloned().collect::<Vec<String>>());
            (
                format!("tags d JOIN events e ON e.seq = d.event AND d.name = {name} AND {values}"),
                "d.created_at DESC, e.id ASC",
                limit.saturating_mul(values_len.max(1)),
            )
        }
        None => ("events e".to_string(), "e.created_at DESC, e.id ASC", limit),
    };
    let fetch = sql.param(fetch.min(i64::MAX as usize) as i64);
    sql.text = format!(
        "SELECT e.seq, e.created_at, e.id, e.raw FROM {from} WHERE {cond}
         ORDER BY {order} LIMIT {fetch}"
    );
    Ok(Some((sql, limit)))
}
