//! What an operator reads at the moment of the call: knowledge-base articles (知识库),
//! intake templates (受理模板), the referral directory (转介目录, "zero detour") and
//! announcements (公告) for an area and a time window. The checks here are pure; the
//! store keeps the rows and every article version.

use crate::error::FieldErrors;
use crate::model::{CategoryCode, JurisdictionCode, JurisdictionLevel, UnitCode};
use crate::reference::Directory;
use crate::{Millis, text};
use serde::{Deserialize, Serialize};

/// Longest article body.
pub const MAX_BODY: usize = 20_000;
/// Longest title.
pub const MAX_TITLE: usize = 200;

/// A knowledge-base article as written (one version of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Article {
    pub title: String,
    pub body: String,
    pub categories: Vec<CategoryCode>,
    /// The unit that owns the answer (and whose admins may edit it).
    pub unit: Option<UnitCode>,
    pub tags: Vec<String>,
    /// First and last local day the answer holds (`YYYY-MM-DD`), both included.
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

fn short(errs: &mut FieldErrors, field: &str, v: &str, max: usize) {
    if v.trim().is_empty() {
        errs.add(field, "is required");
    } else if v.chars().count() > max {
        errs.add(field, format!("is longer than {max} characters"));
    } else if let Err(m) = text::check(v) {
        errs.add(field, m);
    }
}

/// Whether `v` is a `YYYY-MM-DD` date.
pub fn is_day(v: &str) -> bool {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() && v.len() == 10
}

impl Article {
    /// Every problem, each named by its field.
    pub fn check(&self, dir: &Directory, errs: &mut FieldErrors) {
        short(errs, "title", &self.title, MAX_TITLE);
        short(errs, "body", &self.body, MAX_BODY);
        for c in &self.categories {
            if dir.category(c).is_none() {
                errs.add("categories", format!("unknown category `{c}`"));
            }
        }
        if self.categories.len() > 10 {
            errs.add("categories", "at most 10 categories");
        }
        if let Some(u) = &self.unit
            && dir.unit(u).is_none()
        {
            errs.add("unit", format!("unknown unit `{u}`"));
        }
        if self.tags.len() > 20 {
            errs.add("tags", "at most 20 tags");
        }
        for t in &self.tags {
            if t.trim().is_empty() || t.chars().count() > 30 || text::check(t).is_err() {
                errs.add("tags", format!("`{t}` must be 1 to 30 characters"));
            }
        }
        for (k, v) in [("valid_from", &self.valid_from), ("valid_to", &self.valid_to)] {
            if let Some(v) = v
                && !is_day(v)
            {
                errs.add(k, "must be a date like 2026-01-01");
            }
        }
        if let (Some(a), Some(b)) = (&self.valid_from, &self.valid_to)
            && is_day(a)
            && is_day(b)
            && b < a
        {
            errs.add("valid_to", "must not be before valid_from");
        }
    }

    /// Whether the article holds on local day `day` (`YYYY-MM-DD`).
    pub fn valid_on(&self, day: &str) -> bool {
        self.valid_from.as_deref().is_none_or(|f| f <= day) && self.valid_to.as_deref().is_none_or(|t| day <= t)
    }
}

/// An intake template: the content's skeleton for a category, with the facts to ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub category: CategoryCode,
    pub name: String,
    pub body: String,
}

impl Template {
    pub fn check(&self, dir: &Directory, errs: &mut FieldErrors) {
        match dir.leaf(&self.category) {
            Some(_) => {}
            None => errs.add("category", format!("`{}` is not a leaf category", self.category)),
        }
        short(errs, "name", &self.name, 60);
        short(errs, "body", &self.body, 2000);
    }
}

/// A body outside the hotline a caller is referred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Referral {
    pub name: String,
    /// What it handles: when to refer a caller there.
    pub handles: String,
    pub phone: String,
    pub address: String,
    pub hours: String,
    pub keywords: Vec<String>,
}

impl Referral {
    pub fn check(&self, errs: &mut FieldErrors) {
        short(errs, "name", &self.name, 100);
        short(errs, "handles", &self.handles, 1000);
        short(errs, "phone", &self.phone, 100);
        for (k, v) in [("address", &self.address), ("hours", &self.hours)] {
            if v.chars().count() > 200 || text::check(v).is_err() {
                errs.add(k, "must be at most 200 characters of text");
            }
        }
        if self.keywords.len() > 30 {
            errs.add("keywords", "at most 30 keywords");
        }
    }
}

/// What an announcement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementKind {
    Outage,
    RoadClosure,
    RouteChange,
    Other,
}

impl AnnouncementKind {
    pub const ALL: &'static [AnnouncementKind] = &[
        AnnouncementKind::Outage,
        AnnouncementKind::RoadClosure,
        AnnouncementKind::RouteChange,
        AnnouncementKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementKind::Outage => "outage",
            AnnouncementKind::RoadClosure => "road_closure",
            AnnouncementKind::RouteChange => "route_change",
            AnnouncementKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<AnnouncementKind> {
        AnnouncementKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn allowed() -> String {
        AnnouncementKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// An announcement (an outage, a road closure, a route change) for an area and a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub title: String,
    pub body: String,
    pub kind: AnnouncementKind,
    /// Whole districts it concerns.
    pub districts: Vec<JurisdictionCode>,
    /// Streets it concerns.
    pub streets: Vec<JurisdictionCode>,
    pub starts_at: Millis,
    pub ends_at: Millis,
    /// The unit that published it (`None`: the hotline).
    pub unit: Option<UnitCode>,
}

impl Announcement {
    pub fn check(&self, dir: &Directory, errs: &mut FieldErrors) {
        short(errs, "title", &self.title, MAX_TITLE);
        short(errs, "body", &self.body, 5000);
        for d in &self.districts {
            if dir.jurisdiction(d).is_none_or(|j| j.level != JurisdictionLevel::District) {
                errs.add("districts", format!("`{d}` is not a district"));
            }
        }
        for s in &self.streets {
            if dir
                .jurisdiction(s)
                .is_none_or(|j| !matches!(j.level, JurisdictionLevel::Street | JurisdictionLevel::Community))
            {
                errs.add("streets", format!("`{s}` is not a street"));
            }
        }
        if self.districts.is_empty() && self.streets.is_empty() {
            errs.add("streets", "name at least one district or street");
        }
        if self.ends_at <= self.starts_at {
            errs.add("ends_at", "must be after starts_at");
        }
        if let Some(u) = &self.unit
            && dir.unit(u).is_none()
        {
            errs.add("unit", format!("unknown unit `{u}`"));
        }
    }

    /// Whether it is in force at `now`.
    pub fn active_at(&self, now: Millis) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// Whether it concerns a caller in `street` (or, without a street, in `district`).
    pub fn covers(
        &self,
        dir: &Directory,
        street: Option<&JurisdictionCode>,
        district: Option<&JurisdictionCode>,
    ) -> bool {
        let district = street.and_then(|s| dir.district_of(s)).map(|d| d.code.clone()).or_else(|| district.cloned());
        street.is_some_and(|s| self.streets.contains(s)) || district.is_some_and(|d| self.districts.contains(&d))
    }
}
