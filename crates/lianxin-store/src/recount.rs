//! The KPI recount of `verify`, in bounded memory: orders arrive by number, so by the day of
//! their number (their local registration day), and an order contributes to no day before
//! its registration (every anchor — sign, reply, callback, deadline — comes later). Once the
//! pass has moved past a day, that day's recounted cells are final: they are compared with
//! the stored rollup rows of that day and dropped. Memory holds the cells of the days still
//! open (from the day being read to the latest anchor of an order read so far), not the
//! cells of the whole history.
//!
//! A contribution dated before a day already compared (which consistent data never has; a
//! change of the calendar's UTC offset could make some) is kept aside and settled at the end
//! against the stored cell, so the result equals a full recount in every case.

use crate::rollup::stored;
use lianxin_domain::Order;
use lianxin_domain::calendar::Calendar;
use lianxin_domain::kpi::{Counter, Dimension, contributions};
use lianxin_domain::scope::Anchors;
use std::collections::{BTreeMap, HashMap};

/// A rollup cell as stored: (dimension, day, key, counter).
pub(crate) type CellName = (String, String, String, String);

/// At most this many differing cells are remembered; one is reported.
const MAX_DIFFS: usize = 1000;

#[derive(Debug, Default)]
pub(crate) struct Recount {
    /// Interned keys (units, categories, districts, channels, `all`): bounded by reference data.
    names: HashMap<String, u32>,
    texts: Vec<String>,
    /// Recounted cells of the days not yet compared, by day: (stored dim, key, counter) with
    /// the dim and key interned.
    open: BTreeMap<String, HashMap<(u32, u32, Counter), i64>>,
    /// Days before this one have been compared.
    compared_before: String,
    /// Contributions to days already compared.
    late: BTreeMap<CellName, i64>,
    /// Cells found different: recounted and stored values.
    diffs: BTreeMap<CellName, (i64, i64)>,
    /// More than [`MAX_DIFFS`] cells differed.
    overflow: bool,
}

impl Recount {
    fn id(&mut self, s: String) -> u32 {
        if let Some(id) = self.names.get(&s) {
            return *id;
        }
        let id = self.texts.len() as u32;
        self.texts.push(s.clone());
        self.names.insert(s, id);
        id
    }

    /// Adds what an order contributes (as `rollup_deltas(None, o)` does).
    pub(crate) fn add(&mut self, o: &Order, cal: &Calendar, anchors: &Anchors) {
        let mut keys: Vec<(Dimension, u32, u32)> = Vec::new();
        for d in Dimension::ALL {
            for key in d.keys(o, anchors, cal) {
                let (dim, key) = stored(*d, &key);
                let (dim, key) = (dim.into_owned(), key.to_owned());
                keys.push((*d, self.id(dim), self.id(key)));
            }
        }
        for c in contributions(o, cal) {
            if c.day < self.compared_before {
                for (_, dim, key) in keys.iter().filter(|(d, _, _)| d.takes(c.counter)) {
                    let name = (
                        self.texts[*dim as usize].clone(),
                        c.day.clone(),
                        self.texts[*key as usize].clone(),
                        c.counter.as_str().to_owned(),
                    );
                    *self.late.entry(name).or_default() += c.value;
                }
                continue;
            }
            let cells = self.open.entry(c.day).or_default();
            for (_, dim, key) in keys.iter().filter(|(d, _, _)| d.takes(c.counter)) {
                *cells.entry((*dim, *key, c.counter)).or_default() += c.value;
            }
        }
    }

    /// The days with recounted cells before `day` (`YYYY-MM-DD`; every one: `None`), oldest
    /// first.
    pub(crate) fn open_days_before(&self, day: Option<&str>) -> Vec<String> {
        match day {
            Some(day) => self
                .open
                .range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Excluded(day)))
                .map(|(d, _)| d.clone())
                .collect(),
            None => self.open.keys().cloned().collect(),
        }
    }

    /// Marks every day before `day` as compared.
    pub(crate) fn close_before(&mut self, day: &str) {
        if day > self.compared_before.as_str() {
            self.compared_before = day.to_owned();
        }
    }

    /// Compares one day's recount with its stored cells (dimension, key, counter, value) and
    /// forgets it.
    pub(crate) fn compare_day(&mut self, day: &str, stored: Vec<(String, String, String, i64)>) {
        let mut cells = self.open.remove(day).unwrap_or_default();
        for (dim, key, counter, value) in stored {
            let cell = match (self.names.get(&dim), self.names.get(&key), Counter::parse(&counter)) {
                (Some(d), Some(k), Some(c)) => Some((*d, *k, c)),
                _ => None,
            };
            let recounted = cell.and_then(|c| cells.remove(&c)).unwrap_or(0);
            if recounted != value {
                self.differ((dim, day.to_owned(), key, counter), recounted, value);
            }
        }
        let mut rest: Vec<_> = cells.into_iter().filter(|(_, v)| *v != 0).collect();
        rest.sort_unstable();
        for ((dim, key, counter), v) in rest {
            let name = (
                self.texts[dim as usize].clone(),
                day.to_owned(),
                self.texts[key as usize].clone(),
                counter.as_str().to_owned(),
            );
            self.differ(name, v, 0);
        }
    }

    fn differ(&mut self, name: CellName, recounted: i64, stored: i64) {
        if self.diffs.len() >= MAX_DIFFS && !self.diffs.contains_key(&name) {
            self.overflow = true;
            return;
        }
        if recounted == stored {
            self.diffs.remove(&name);
        } else {
            self.diffs.insert(name, (recounted, stored));
        }
    }

    /// The contributions that came after their day was compared, for [`Recount::settle`].
    pub(crate) fn late_cells(&self) -> Vec<CellName> {
        self.late.iter().filter(|(_, v)| **v != 0).map(|(k, _)| k.clone()).collect()
    }

    /// Settles a late cell given its stored value (0 when absent).
    pub(crate) fn settle(&mut self, name: CellName, stored: i64) {
        let late = self.late.remove(&name).unwrap_or(0);
        // A cell without a difference recounted to its stored value when it was compared.
        let recounted = self.diffs.get(&name).map(|d| d.0).unwrap_or(stored) + late;
        self.differ(name, recounted, stored);
    }

    /// The first difference, in the words `verify` reports; `None` when the rollups equal the
    /// recount. Call after every day was compared and every late cell settled.
    pub(crate) fn finding(&self) -> Option<String> {
        if let Some((k, (recounted, stored))) = self.diffs.iter().next() {
            return Some(if *recounted != 0 {
                let stored = (*stored != 0).then_some(*stored);
                format!("{k:?}: recount {recounted}, stored {stored:?}")
            } else {
                format!("{k:?}: stored {stored}, recount none")
            });
        }
        self.overflow.then(|| format!("more than {MAX_DIFFS} cells differ"))
    }
}
