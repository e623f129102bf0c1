//! Import and export: paste (or pick) a CSV or JSON file of one kind, preview what it would
//! change (a dry run: counts, each change, or every bad row with its line and column), then
//! apply the same content. Export links download what import reads.

use super::{Tab, boxed, diff_values, fail, label, message, tabs};
use crate::admin;
use crate::error::ApiError;
use crate::setup::table::Format;
use crate::setup::{Kind, Report};
use crate::state::AppState;
use crate::web::i18n::Tr;
use crate::web::page::{Page, html, secure_headers};
use crate::web::page_for;
use crate::web::session::{self, Console};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

/// A kind of the picker.
pub struct KindOpt {
    pub value: &'static str,
    pub label: String,
    pub columns: String,
    pub selected: bool,
}

/// One change a preview shows.
pub struct ChangeRow {
    pub code: String,
    pub action_wire: String,
    pub action: String,
    pub diff: Vec<(String, String, String)>,
}

/// One bad row of a refused file.
pub struct BadRow {
    pub line: String,
    pub column: String,
    pub message: String,
    pub raw: String,
}

/// A dry run's or an import's outcome, as the page shows it.
pub struct Outcome {
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub changes: Vec<ChangeRow>,
    pub more: usize,
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    p: Page,
    t: Tr,
    tabs: Vec<Tab>,
    kinds: Vec<KindOpt>,
    format: String,
    content: String,
    outcome: Option<Outcome>,
    bad: Vec<BadRow>,
    exports: Vec<(&'static str, String)>,
}

fn kind_label(t: Tr, k: Kind) -> String {
    label(t, &format!("adm.kind.{}", k.as_str()), k.as_str())
}

fn outcome(t: Tr, r: &Report) -> Outcome {
    let changes: Vec<ChangeRow> = r
        .changes
        .iter()
        .map(|c| ChangeRow {
            code: c.code.clone(),
            action_wire: c.action.clone(),
            action: label(t, &format!("adm.action.{}", c.action), &c.action),
            diff: diff_values(t, c.before.as_ref(), c.after.as_ref()),
        })
        .collect();
    Outcome {
        dry_run: r.dry_run,
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
        more: (r.created + r.updated).saturating_sub(changes.len()),
        changes,
    }
}

/// The bad rows of a refused import (`admin::rows_error` names each `line N: column`), in
/// line order.
fn bad_rows(t: Tr, e: &ApiError) -> Vec<BadRow> {
    let mut out: Vec<(usize, BadRow)> = e
        .fields
        .iter()
        .flatten()
        .map(|(k, v)| {
            let rest = k.strip_prefix("line ").unwrap_or(k);
            let (line, column) = rest.split_once(": ").unwrap_or((rest, ""));
            let m = message(t, v);
            let raw = if m == *v { String::new() } else { v.clone() };
            let n = line.trim().parse::<usize>().unwrap_or(usize::MAX);
            (n, BadRow { line: line.trim().to_owned(), column: column.to_owned(), message: m, raw })
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1.column).cmp(&(b.0, &b.1.column)));
    out.into_iter().map(|(_, r)| r).collect()
}

#[derive(serde::Deserialize, Default)]
pub struct FormQuery {
    kind: Option<String>,
    done: Option<String>,
    created: Option<usize>,
    updated: Option<usize>,
    unchanged: Option<usize>,
}

struct Shown<'a> {
    kind: Kind,
    format: &'a str,
    content: &'a str,
    outcome: Option<Outcome>,
    error: Option<&'a ApiError>,
    flash: Option<String>,
}

fn page(state: &AppState, c: &Console, s: Shown) -> Response {
    let t = c.t();
    let mut p = page_for(state, c, t.s("adm.tab.import"));
    p.flash = s.flash;
    let mut bad = Vec::new();
    let mut status = StatusCode::OK;
    if let Some(e) = s.error {
        status = e.status;
        let mut eb = boxed(t, e, "import");
        if e.code == "invalid_rows" {
            bad = bad_rows(t, e);
            eb.fields.clear();
            eb.message = format!("{} {}", t.s("adm.err.invalid_rows_file"), bad.len());
        }
        p.error = Some(eb);
    }
    let kinds = Kind::ALL
        .iter()
        .map(|k| KindOpt {
            value: k.as_str(),
            label: kind_label(t, *k),
            columns: k.columns().join(","),
            selected: *k == s.kind,
        })
        .collect();
    let exports = Kind::ALL.iter().map(|k| (k.as_str(), kind_label(t, *k))).collect();
    let page = ImportPage {
        p,
        t,
        tabs: tabs(c, "/console/admin/import"),
        kinds,
        format: s.format.to_owned(),
        content: s.content.to_owned(),
        outcome: s.outcome,
        bad,
        exports,
    };
    html(status, &page)
}

/// `GET /console/admin/import`.
pub async fn form(State(state): State<AppState>, c: Console, Query(q): Query<FormQuery>) -> Response {
    if let Err(e) = admin::require_admin(&c.user) {
        return fail(&state, &c, &e);
    }
    let t = c.t();
    let kind = q.kind.as_deref().and_then(Kind::parse).unwrap_or(Kind::Units);
    let flash = (q.done.as_deref() == Some("import")).then(|| {
        format!(
            "{} · {}：{} {} · {} {} · {} {}",
            t.s("adm.done.import"),
            kind_label(t, kind),
            t.s("adm.created"),
            q.created.unwrap_or(0),
            t.s("adm.updated"),
            q.updated.unwrap_or(0),
            t.s("adm.unchanged"),
            q.unchanged.unwrap_or(0)
        )
    });
    page(&state, &c, Shown { kind, format: "auto", content: "", outcome: None, error: None, flash })
}

fn format_of(choice: &str, content: &str) -> Format {
    match choice {
        "json" => Format::Json,
        "csv" => Format::Csv,
        _ if content.trim_start().starts_with('[') => Format::Json,
        _ => Format::Csv,
    }
}

/// `POST /console/admin/import`: `op=preview` runs a dry run and shows it; `op=apply`
/// imports and returns to the form with the counts.
pub async fn submit(State(state): State<AppState>, form: session::Posted) -> Response {
    let c = &form.console;
    if let Err(e) = admin::require_admin(&c.user) {
        return fail(&state, c, &e);
    }
    let Some(kind) = form.get("kind").and_then(Kind::parse) else {
        let e = ApiError::invalid([("kind".to_owned(), "is required".to_owned())].into());
        return page(
            &state,
            c,
            Shown {
                kind: Kind::Units,
                format: "auto",
                content: form.get("content").unwrap_or(""),
                outcome: None,
                error: Some(&e),
                flash: None,
            },
        );
    };
    let content = form.get("content").unwrap_or("").replace("\r\n", "\n");
    let choice = form.get("format").unwrap_or("auto").to_owned();
    let apply = form.get("op") == Some("apply");
    if content.trim().is_empty() {
        let e = ApiError::invalid([("content".to_owned(), "must not be empty".to_owned())].into());
        return page(
            &state,
            c,
            Shown { kind, format: &choice, content: &content, outcome: None, error: Some(&e), flash: None },
        );
    }
    let format = format_of(&choice, &content);
    match admin::import(&state, &c.user, kind, content.as_bytes(), format, !apply).await {
        Ok(r) if apply => Redirect::to(&format!(
            "/console/admin/import?done=import&kind={}&created={}&updated={}&unchanged={}",
            kind.as_str(),
            r.created,
            r.updated,
            r.unchanged
        ))
        .into_response(),
        Ok(r) => {
            let o = outcome(c.t(), &r);
            page(
                &state,
                c,
                Shown { kind, format: &choice, content: &content, outcome: Some(o), error: None, flash: None },
            )
        }
        Err(e) if matches!(e.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => page(
            &state,
            c,
            Shown { kind, format: &choice, content: &content, outcome: None, error: Some(&e), flash: None },
        ),
        Err(e) => fail(&state, c, &e),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct ExportQuery {
    format: Option<String>,
}

/// `GET /console/admin/export/{kind}`: the file `import` reads, as a download (CSV, or
/// JSON with `?format=json`).
pub async fn export(
    State(state): State<AppState>,
    c: Console,
    Path(kind): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let Some(kind) = Kind::parse(kind.trim_end_matches(".csv").trim_end_matches(".json")) else {
        return fail(&state, &c, &ApiError::not_found("page"));
    };
    let json = q.format.as_deref() == Some("json");
    let format = if json { Format::Json } else { Format::Csv };
    match admin::export(&state, &c.user, kind, format).await {
        Ok(bytes) => {
            let (ct, ext) =
                if json { ("application/json; charset=utf-8", "json") } else { ("text/csv; charset=utf-8", "csv") };
            let mut resp = (StatusCode::OK, bytes).into_response();
            let h = resp.headers_mut();
            secure_headers(h);
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"lianxin-{}.{ext}\"", kind.as_str())) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
        Err(e) => fail(&state, &c, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;
    use std::collections::BTreeMap;

    #[test]
    fn bad_rows_come_back_in_line_order() {
        let t = Tr::new(Lang::En);
        let mut f = BTreeMap::new();
        f.insert("line 10: name".to_owned(), "must not be empty".to_owned());
        f.insert("line 2: kind".to_owned(), "`x` is not a unit kind; one of: a, b".to_owned());
        f.insert("line 2".to_owned(), "the row has 2 cells, the header 3".to_owned());
        let mut e = ApiError::invalid(f);
        e.code = "invalid_rows";
        let rows = bad_rows(t, &e);
        let got: Vec<(&str, &str)> = rows.iter().map(|r| (r.line.as_str(), r.column.as_str())).collect();
        assert_eq!(got, [("2", ""), ("2", "kind"), ("10", "name")]);
    }

    #[test]
    fn json_is_recognised_by_its_bracket() {
        assert_eq!(format_of("auto", "  [{\"code\":\"x\"}]"), Format::Json);
        assert_eq!(format_of("auto", "code,name\n"), Format::Csv);
        assert_eq!(format_of("json", "code"), Format::Json);
    }
}
