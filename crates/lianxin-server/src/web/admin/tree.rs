//! The jurisdiction, unit and category trees: search, create, and one page per item with
//! all its fields, deactivate / reactivate and its change history.

use super::{
    Errs, Field, HistoryRow, Opt, Posted, Tab, boxed, fail, field_label, flash, item_history, label, matches, tabs,
    tree_kind,
};
use crate::admin;
use crate::error::ApiError;
use crate::setup::Kind;
use crate::state::AppState;
use crate::web::i18n::Tr;
use crate::web::page::{Page, html};
use crate::web::page_for;
use crate::web::session::{self, Console, enc};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lianxin_domain::calendar::TimeLimit;
use lianxin_domain::reference::{Directory, TimeLimits};
use lianxin_domain::*;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A node of a tree, whatever its kind.
pub(super) struct Node {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) parent: Option<String>,
    pub(super) active: bool,
    pub(super) info: String,
    pub(super) sort: (i64, String),
}

fn level_label(t: Tr, l: JurisdictionLevel) -> String {
    label(t, &format!("adm.level.{}", l.as_str()), l.as_str())
}

fn limits_text(t: Tr, l: &TimeLimits) -> String {
    [l.normal, l.urgent, l.emergency].map(|x| t.limit(x)).join(" / ")
}

pub(super) fn nodes(dir: &Directory, kind: Kind, t: Tr) -> Vec<Node> {
    match kind {
        Kind::Jurisdictions => dir
            .jurisdictions()
            .map(|j| Node {
                code: j.code.to_string(),
                name: j.name.clone(),
                parent: j.parent.as_ref().map(|p| p.to_string()),
                active: j.active,
                info: level_label(t, j.level),
                sort: (0, j.code.to_string()),
            })
            .collect(),
        Kind::Units => dir
            .units()
            .map(|u| {
                let place = u.jurisdiction.as_ref().and_then(|j| dir.jurisdiction(j)).map(|j| j.name.clone());
                Node {
                    code: u.code.to_string(),
                    name: u.name.clone(),
                    parent: u.parent.as_ref().map(|p| p.to_string()),
                    active: u.active,
                    info: match place {
                        Some(p) => format!("{} · {p}", t.unit_kind(u.kind.as_str())),
                        None => t.unit_kind(u.kind.as_str()),
                    },
                    sort: (UnitKind::ALL.iter().position(|k| *k == u.kind).unwrap_or(0) as i64, u.code.to_string()),
                }
            })
            .collect(),
        Kind::Categories => dir
            .categories()
            .map(|c| Node {
                code: c.code.to_string(),
                name: c.name.clone(),
                parent: c.parent.as_ref().map(|p| p.to_string()),
                active: c.active,
                info: match &c.leaf {
                    Some(l) => {
                        let rt =
                            l.request_type.map(|r| format!(" · {}", t.request_type(r.as_str()))).unwrap_or_default();
                        format!("{}{rt}", limits_text(t, &l.time_limits))
                    }
                    None => t.s("adm.group").to_owned(),
                },
                sort: (c.position, c.code.to_string()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The nodes in depth-first order from the roots: `(index, depth)`.
fn tree_order(nodes: &[Node]) -> Vec<(usize, usize)> {
    let codes: BTreeSet<&str> = nodes.iter().map(|n| n.code.as_str()).collect();
    let mut kids: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let p = n.parent.as_deref().filter(|p| codes.contains(p) && *p != n.code);
        kids.entry(p).or_default().push(i);
    }
    for v in kids.values_mut() {
        v.sort_by(|a, b| nodes[*a].sort.cmp(&nodes[*b].sort));
    }
    let mut out = Vec::with_capacity(nodes.len());
    let mut seen = BTreeSet::new();
    let mut stack: Vec<(usize, usize)> =
        kids.get(&None).map(|v| v.iter().rev().map(|i| (*i, 0)).collect()).unwrap_or_default();
    while let Some((i, d)) = stack.pop() {
        if !seen.insert(i) {
            continue;
        }
        out.push((i, d));
        if let Some(k) = kids.get(&Some(nodes[i].code.as_str())) {
            stack.extend(k.iter().rev().map(|c| (*c, d + 1)));
        }
    }
    // Nodes on a cycle (never stored) are shown, not lost.
    for i in 0..nodes.len() {
        if !seen.contains(&i) {
            out.push((i, 0));
        }
    }
    out
}

/// One line of a rendered tree: a node opening a group (`open`), a node without shown
/// children (`leaf`), or the end of a group (`close`).
pub struct Line {
    pub tag: &'static str,
    pub code: String,
    pub name: String,
    pub info: String,
    pub active: bool,
    pub hit: bool,
    pub open: bool,
    pub href: String,
    pub children: usize,
}

fn item_href(kind: Kind, code: &str) -> String {
    format!("/console/admin/{}/{}", kind.as_str(), enc(code))
}

/// The tree as lines; with a query, only the matching nodes and their ancestors, open.
fn lines(kind: Kind, nodes: &[Node], q: &str) -> (Vec<Line>, usize) {
    let order = tree_order(nodes);
    let by_code: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.code.as_str(), i)).collect();
    let hits: BTreeSet<usize> = (0..nodes.len()).filter(|i| matches(q, &nodes[*i].name, &nodes[*i].code)).collect();
    let mut shown: BTreeSet<usize> = BTreeSet::new();
    for &h in &hits {
        let mut cur = Some(h);
        while let Some(i) = cur {
            if !shown.insert(i) {
                break;
            }
            cur = nodes[i].parent.as_deref().and_then(|p| by_code.get(p)).copied();
        }
    }
    let mut child_count: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if let Some(p) = n.parent.as_deref().and_then(|p| by_code.get(p))
            && *p != i
        {
            *child_count.entry(*p).or_default() += 1;
        }
    }
    let visible: Vec<(usize, usize)> = order.into_iter().filter(|(i, _)| shown.contains(i)).collect();
    let mut out = Vec::new();
    let mut depth_stack: Vec<usize> = Vec::new();
    for (k, &(i, d)) in visible.iter().enumerate() {
        while depth_stack.last().is_some_and(|open| *open >= d) {
            depth_stack.pop();
            out.push(close());
        }
        let next_deeper = visible.get(k + 1).is_some_and(|(_, nd)| *nd > d);
        let n = &nodes[i];
        out.push(Line {
            tag: if next_deeper { "open" } else { "leaf" },
            code: n.code.clone(),
            name: n.name.clone(),
            info: n.info.clone(),
            active: n.active,
            hit: !q.is_empty() && hits.contains(&i),
            open: !q.is_empty() || d == 0,
            href: item_href(kind, &n.code),
            children: child_count.get(&i).copied().unwrap_or(0),
        });
        if next_deeper {
            depth_stack.push(d);
        }
    }
    for _ in depth_stack {
        out.push(close());
    }
    (out, hits.len())
}

fn close() -> Line {
    Line {
        tag: "close",
        code: String::new(),
        name: String::new(),
        info: String::new(),
        active: true,
        hit: false,
        open: false,
        href: String::new(),
        children: 0,
    }
}

/// Options of a parent picker: `（无）` and the nodes in tree order, indented.
pub(super) fn tree_options(t: Tr, nodes: &[Node], except: Option<&str>, keep: impl Fn(&Node) -> bool) -> Vec<Opt> {
    let mut out = vec![Opt::new("", t.s("adm.none_option"))];
    for (i, d) in tree_order(nodes) {
        let n = &nodes[i];
        if Some(n.code.as_str()) == except || !keep(n) {
            continue;
        }
        let mut o = Opt::new(n.code.clone(), format!("{}{} ({})", "\u{3000}".repeat(d), n.name, n.code));
        o.initials = super::initials(&n.name);
        o.muted = !n.active;
        out.push(o);
    }
    out
}

/// What a form shows in each field: the item as stored, or what was posted.
type Values<'a> = &'a dyn Fn(&str) -> String;

/// The fields of the create or edit form of `kind`.
fn fields(
    state: &AppState,
    kind: Kind,
    t: Tr,
    form: &str,
    editing: Option<&str>,
    v: Values,
    errs: &Errs,
) -> Vec<Field> {
    let dir = state.directory();
    let f = |name: &'static str, input: &'static str| {
        Field::new(form, name, field_label(t, name), input).value(v(name)).errs(errs)
    };
    let code = match editing {
        Some(c) => f("code", "fixed").value(c),
        None => f("code", "text").required().placeholder(t.s(&format!("adm.ph.code_{}", kind.as_str()))),
    };
    let name = f("name", "text").required();
    let mut out = vec![code, name];
    match kind {
        Kind::Jurisdictions => {
            let levels = JurisdictionLevel::ALL.iter().map(|l| Opt::new(l.as_str(), level_label(t, *l))).collect();
            out.push(f("level", "select").required().options(with_blank(t, levels)));
            let all = nodes(&dir, kind, t);
            let communities: BTreeSet<String> = dir
                .jurisdictions()
                .filter(|j| j.level == JurisdictionLevel::Community)
                .map(|j| j.code.to_string())
                .collect();
            let parents = tree_options(t, &all, editing, |n| !communities.contains(&n.code));
            out.push(f("parent", "select").options(parents).hint(t.s("adm.hint.parent_jurisdiction")));
        }
        Kind::Units => {
            let kinds = UnitKind::ALL.iter().map(|k| Opt::new(k.as_str(), t.unit_kind(k.as_str()))).collect();
            out.push(f("kind", "select").required().options(with_blank(t, kinds)));
            let units = nodes(&dir, kind, t);
            out.push(f("parent", "select").options(tree_options(t, &units, editing, |_| true)));
            let places = nodes(&dir, Kind::Jurisdictions, t);
            out.push(f("jurisdiction", "select").options(tree_options(t, &places, None, |_| true)));
        }
        Kind::Categories => {
            let cats = nodes(&dir, kind, t);
            out.push(f("parent", "select").options(tree_options(t, &cats, editing, |_| true)));
            let inherited = editing
                .and_then(|c| CategoryCode::parse(c).ok())
                .map(|c| inherited_limits(&dir, &c))
                .unwrap_or(TimeLimits::DEFAULT);
            for (name, u) in [
                ("limit_normal", Urgency::Normal),
                ("limit_urgent", Urgency::Urgent),
                ("limit_emergency", Urgency::Emergency),
            ] {
                let inh = inherited.for_urgency(u);
                out.push(f(name, "text").placeholder(inh.to_string()).hint(format!(
                    "{} {} ({inh})",
                    t.s("adm.hint.inherits"),
                    t.limit(inh)
                )));
            }
            let mut types = vec![Opt::new("", t.s("adm.inherit_option"))];
            types.extend(RequestType::ALL.iter().map(|r| Opt::new(r.as_str(), t.request_type(r.as_str()))));
            out.push(f("request_type", "select").options(types));
            out.push(f("prompts", "textarea").hint(t.s("adm.hint.prompts")));
            out.push(f("keywords", "textarea").hint(t.s("adm.hint.keywords")));
        }
        _ => {}
    }
    out
}

fn with_blank(t: Tr, mut opts: Vec<Opt>) -> Vec<Opt> {
    opts.insert(0, Opt::new("", t.s("adm.choose_option")));
    opts
}

/// The limits a category would have from its parent chain if it set none itself.
fn inherited_limits(dir: &Directory, code: &CategoryCode) -> TimeLimits {
    let chain = dir.category_chain(code);
    let from = |u: Urgency| -> TimeLimit {
        chain.iter().skip(1).find_map(|c| c.spec.time_limits.get(u)).unwrap_or(TimeLimits::DEFAULT.for_urgency(u))
    };
    TimeLimits { normal: from(Urgency::Normal), urgent: from(Urgency::Urgent), emergency: from(Urgency::Emergency) }
}

/// A stored item's fields as form values.
fn stored_values(item: &Map<String, Value>) -> BTreeMap<String, String> {
    item.iter()
        .map(|(k, v)| {
            let s = match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n"),
                other => other.to_string(),
            };
            (k.clone(), s)
        })
        .collect()
}

/// The posted form as the item object `admin::save_item` reads: every column of `kind`
/// as text (empty = not given), the prompts and keywords one per line.
fn item_from_form(kind: Kind, posted: &Posted, code: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    for col in kind.columns() {
        let v = posted.get(col).unwrap_or("").trim();
        let value = match *col {
            "prompts" | "keywords" => Value::Array(
                v.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| Value::String(l.to_owned())).collect(),
            ),
            "active" if v.is_empty() => continue,
            _ => Value::String(v.to_owned()),
        };
        m.insert((*col).to_owned(), value);
    }
    if let Some(c) = code {
        m.insert("code".into(), Value::String(c.to_owned()));
    }
    m
}

#[derive(Template)]
#[template(path = "admin/tree.html")]
struct TreePage {
    p: Page,
    t: Tr,
    tabs: Vec<Tab>,
    kind: &'static str,
    heading: String,
    q: String,
    lines: Vec<Line>,
    hits: usize,
    total: usize,
    inactive: usize,
    fields: Vec<Field>,
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
}

fn heading(t: Tr, kind: Kind) -> String {
    t.s(&format!("adm.tab.{}", kind.as_str())).to_owned()
}

async fn tree_page(
    state: &AppState,
    c: &Console,
    kind: Kind,
    q: &str,
    refused: Option<(&ApiError, &Posted)>,
) -> Response {
    let t = c.t();
    let dir = state.directory();
    let all = nodes(&dir, kind, t);
    let query = q.trim().to_lowercase();
    let (lines, hits) = lines(kind, &all, &query);
    let mut p = page_for(state, c, &heading(t, kind));
    let (errs, posted) = match refused {
        Some((e, posted)) => {
            p.error = Some(boxed(t, e, "create"));
            (Errs::of(t, e), posted.clone())
        }
        None => (Errs::default(), Posted::default()),
    };
    let v = |k: &str| posted.get(k).unwrap_or("").to_owned();
    let fields = fields(state, kind, t, "new", None, &v, &errs);
    let status = refused.map(|(e, _)| e.status).unwrap_or(StatusCode::OK);
    let page = TreePage {
        tabs: tabs(c, &format!("/console/admin/{}", kind.as_str())),
        p,
        t,
        kind: kind.as_str(),
        heading: heading(t, kind),
        q: q.trim().to_owned(),
        lines,
        hits,
        total: all.len(),
        inactive: all.iter().filter(|n| !n.active).count(),
        fields,
    };
    html(status, &page)
}

/// `GET /console/admin/{kind}`: the tree with search and the create form.
pub async fn list(
    State(state): State<AppState>,
    c: Console,
    Path(kind): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let Some(kind) = tree_kind(&kind) else { return fail(&state, &c, &ApiError::not_found("page")) };
    if let Err(e) = admin::require_admin(&c.user) {
        return fail(&state, &c, &e);
    }
    tree_page(&state, &c, kind, q.q.as_deref().unwrap_or(""), None).await
}

fn code_exists(dir: &Directory, kind: Kind, code: &str) -> bool {
    match kind {
        Kind::Jurisdictions => JurisdictionCode::parse(code).ok().is_some_and(|c| dir.jurisdiction(&c).is_some()),
        Kind::Units => UnitCode::parse(code).ok().is_some_and(|c| dir.unit(&c).is_some()),
        Kind::Categories => CategoryCode::parse(code).ok().is_some_and(|c| dir.category(&c).is_some()),
        _ => false,
    }
}

/// `POST /console/admin/{kind}`: creates an item.
pub async fn create(State(state): State<AppState>, Path(kind): Path<String>, form: session::Posted) -> Response {
    let c = &form.console;
    let Some(kind) = tree_kind(&kind) else { return fail(&state, c, &ApiError::not_found("page")) };
    if let Err(e) = admin::require_admin(&c.user) {
        return fail(&state, c, &e);
    }
    let posted = Posted(form.fields.clone());
    let code = posted.get("code").unwrap_or("").trim().to_owned();
    if !code.is_empty() && code_exists(&state.directory(), kind, &code) {
        let e = ApiError::invalid(BTreeMap::from([("code".to_owned(), "already exists".to_owned())]));
        return tree_page(&state, c, kind, "", Some((&e, &posted))).await;
    }
    let item = item_from_form(kind, &posted, None);
    match admin::save_item(&state, &c.user, kind, item).await {
        Ok(_) => Redirect::to(&format!("{}?done=create", item_href(kind, &code))).into_response(),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            tree_page(&state, c, kind, "", Some((&e, &posted))).await
        }
        Err(e) => fail(&state, c, &e),
    }
}

/// One step up the tree, for the item page's path.
pub struct Crumb {
    pub href: String,
    pub name: String,
}

/// A child of the item.
pub struct Child {
    pub href: String,
    pub name: String,
    pub code: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin/item.html")]
struct ItemPage {
    p: Page,
    t: Tr,
    tabs: Vec<Tab>,
    kind: &'static str,
    kind_heading: String,
    href: String,
    code: String,
    name: String,
    info: String,
    active: bool,
    crumbs: Vec<Crumb>,
    children: Vec<Child>,
    fields: Vec<Field>,
    history: Vec<HistoryRow>,
    history_error: String,
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn item_page(
    state: &AppState,
    c: &Console,
    kind: Kind,
    code: &str,
    done: Option<&str>,
    refused: Option<(&ApiError, &Posted, &'static str)>,
) -> Response {
    let t = c.t();
    let Some(item) = admin::item_object(state, kind, code) else {
        return fail(state, c, &ApiError::not_found(format!("no {} `{code}`", kind.item())));
    };
    let dir = state.directory();
    let all = nodes(&dir, kind, t);
    let by_code: BTreeMap<&str, &Node> = all.iter().map(|n| (n.code.as_str(), n)).collect();
    let Some(node) = by_code.get(code) else {
        return fail(state, c, &ApiError::not_found(format!("no {} `{code}`", kind.item())));
    };
    let mut crumbs = Vec::new();
    let mut cur = node.parent.as_deref();
    while let Some(pc) = cur {
        let Some(pn) = by_code.get(pc) else { break };
        if crumbs.len() > 32 {
            break;
        }
        crumbs.push(Crumb { href: item_href(kind, pc), name: pn.name.clone() });
        cur = pn.parent.as_deref();
    }
    crumbs.reverse();
    let mut children: Vec<&Node> = all.iter().filter(|n| n.parent.as_deref() == Some(code)).collect();
    children.sort_by(|a, b| a.sort.cmp(&b.sort));
    let children = children
        .into_iter()
        .map(|n| Child { href: item_href(kind, &n.code), name: n.name.clone(), code: n.code.clone(), active: n.active })
        .collect();
    let stored = stored_values(&item);
    let mut p = page_for(state, c, &node.name);
    p.flash = flash(t, done, "");
    let (errs, posted, status) = match refused {
        Some((e, posted, form)) => {
            p.error = Some(boxed(t, e, form));
            let posted = if form == "edit" { Some(posted.clone()) } else { None };
            (Errs::of(t, e), posted, e.status)
        }
        None => (Errs::default(), None, StatusCode::OK),
    };
    let v = |k: &str| match &posted {
        Some(ps) => ps.get(k).unwrap_or("").to_owned(),
        None => stored.get(k).cloned().unwrap_or_default(),
    };
    let fields = fields(state, kind, t, "edit", Some(code), &v, &errs);
    let (history, history_error) = match item_history(state, c, kind.item(), code).await {
        Ok(h) => (h, String::new()),
        Err(e) => (Vec::new(), e.message),
    };
    let page = ItemPage {
        tabs: tabs(c, &format!("/console/admin/{}", kind.as_str())),
        p,
        t,
        kind: kind.as_str(),
        kind_heading: heading(t, kind),
        href: item_href(kind, code),
        code: code.to_owned(),
        name: node.name.clone(),
        info: node.info.clone(),
        active: node.active,
        crumbs,
        children,
        fields,
        history,
        history_error,
    };
    html(status, &page)
}

/// `GET /console/admin/{kind}/{code}`: the edit page of one item.
pub async fn show(
    State(state): State<AppState>,
    c: Console,
    Path((kind, code)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let Some(kind) = tree_kind(&kind) else { return fail(&state, &c, &ApiError::not_found("page")) };
    if let Err(e) = admin::require_admin(&c.user) {
        return fail(&state, &c, &e);
    }
    item_page(&state, &c, kind, &code, q.done.as_deref(), None).await
}

/// `POST /console/admin/{kind}/{code}`: saves the edit form.
pub async fn save(
    State(state): State<AppState>,
    Path((kind, code)): Path<(String, String)>,
    form: session::Posted,
) -> Response {
    let c = &form.console;
    let Some(kind) = tree_kind(&kind) else { return fail(&state, c, &ApiError::not_found("page")) };
    if let Err(e) = admin::require_admin(&c.user) {
        return fail(&state, c, &e);
    }
    if admin::item_object(&state, kind, &code).is_none() {
        return fail(&state, c, &ApiError::not_found(format!("no {} `{code}`", kind.item())));
    }
    let posted = Posted(form.fields.clone());
    let item = item_from_form(kind, &posted, Some(&code));
    match admin::save_item(&state, &c.user, kind, item).await {
        Ok(r) => {
            let done = if r.created + r.updated == 0 { "unchanged" } else { "update" };
            Redirect::to(&format!("{}?done={done}", item_href(kind, &code))).into_response()
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
            item_page(&state, c, kind, &code, None, Some((&e, &posted, "edit"))).await
        }
        Err(e) => fail(&state, c, &e),
    }
}

/// `POST /console/admin/{kind}/{code}/active`: deactivates (`active=false`) or
/// reactivates an item.
pub async fn active(
    State(state): State<AppState>,
    Path((kind, code)): Path<(String, String)>,
    form: session::Posted,
) -> Response {
    let c = &form.console;
    let Some(kind) = tree_kind(&kind) else { return fail(&state, c, &ApiError::not_found("page")) };
    let on = form.get("active") == Some("true");
    match admin::set_active(&state, &c.user, kind, &code, on).await {
        Ok(_) => {
            let done = if on { "activate" } else { "deactivate" };
            Redirect::to(&format!("{}?done={done}", item_href(kind, &code))).into_response()
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
            let posted = Posted(form.fields.clone());
            item_page(&state, c, kind, &code, None, Some((&e, &posted, "active"))).await
        }
        Err(e) => fail(&state, c, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(code: &str, parent: Option<&str>) -> Node {
        Node {
            code: code.into(),
            name: code.into(),
            parent: parent.map(str::to_owned),
            active: true,
            info: String::new(),
            sort: (0, code.into()),
        }
    }

    #[test]
    fn a_tree_opens_and_closes_its_groups() {
        let nodes = vec![node("a", None), node("a.x", Some("a")), node("a.y", Some("a")), node("b", None)];
        let (ls, hits) = lines(Kind::Categories, &nodes, "");
        let tags: Vec<&str> = ls.iter().map(|l| l.tag).collect();
        assert_eq!(tags, ["open", "leaf", "leaf", "close", "leaf"]);
        assert_eq!(hits, 4);
        let (ls, hits) = lines(Kind::Categories, &nodes, "a.y");
        let codes: Vec<&str> = ls.iter().map(|l| l.code.as_str()).collect();
        assert_eq!(codes, ["a", "a.y", ""], "a hit is shown under its ancestors");
        assert_eq!(hits, 1);
        assert!(ls[1].hit && !ls[0].hit);
    }
}
