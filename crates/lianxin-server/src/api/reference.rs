//! Reference data: categories, units, jurisdictions.

use crate::auth::CurrentUser;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use lianxin_domain::calendar::TimeLimit;
use lianxin_domain::reference::Category;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A node of the category tree. Leaves carry `time_limits` (e.g. `5wd` = 5 working days,
/// `4wh` = 4 working hours, `2h` = 2 hours) per urgency.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryNode {
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_limits: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompts: Option<Vec<String>>,
    /// False for a deactivated category: it stays on old orders, intake refuses it.
    pub active: bool,
    #[schema(no_recursion)]
    pub children: Vec<CategoryNode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitOut {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent: Option<String>,
    pub jurisdiction: Option<String>,
    /// False for a deactivated unit: it stays on old orders, dispatch refuses it.
    pub active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JurisdictionNode {
    pub code: String,
    pub name: String,
    pub level: String,
    /// False for a deactivated node: it stays on old orders, intake refuses it.
    pub active: bool,
    #[schema(no_recursion)]
    pub children: Vec<JurisdictionNode>,
}

fn category_node(c: &Category, by_parent: &BTreeMap<Option<String>, Vec<&Category>>) -> CategoryNode {
    let children = by_parent
        .get(&Some(c.code.to_string()))
        .map(|cs| cs.iter().map(|x| category_node(x, by_parent)).collect())
        .unwrap_or_default();
    let limit = |l: TimeLimit| l.to_string();
    CategoryNode {
        code: c.code.to_string(),
        name: c.name.clone(),
        request_type: c.leaf.as_ref().and_then(|l| l.request_type.map(|r| r.to_string())),
        time_limits: c.leaf.as_ref().map(|l| {
            BTreeMap::from([
                ("normal".to_owned(), limit(l.time_limits.normal)),
                ("urgent".to_owned(), limit(l.time_limits.urgent)),
                ("emergency".to_owned(), limit(l.time_limits.emergency)),
            ])
        }),
        prompts: c.leaf.as_ref().map(|l| l.prompts.clone()),
        active: c.active,
        children,
    }
}

/// The category tree.
#[utoipa::path(get, path = "/api/v1/categories", tag = "reference", operation_id = "list_categories",
    responses((status = 200, description = "The category tree", body = [CategoryNode])), security(("bearer" = [])))]
pub async fn categories(State(state): State<AppState>, _user: CurrentUser) -> Json<Vec<CategoryNode>> {
    let dir = state.directory();
    let mut by_parent: BTreeMap<Option<String>, Vec<&Category>> = BTreeMap::new();
    for c in dir.categories() {
        by_parent.entry(c.parent.as_ref().map(|p| p.to_string())).or_default().push(c);
    }
    for v in by_parent.values_mut() {
        v.sort_by(|a, b| (a.position, &a.code).cmp(&(b.position, &b.code)));
    }
    let roots = by_parent.get(&None).cloned().unwrap_or_default();
    Json(roots.iter().map(|c| category_node(c, &by_parent)).collect())
}

/// All units.
#[utoipa::path(get, path = "/api/v1/units", tag = "reference", operation_id = "list_units",
    responses((status = 200, description = "Every unit", body = [UnitOut])), security(("bearer" = [])))]
pub async fn units(State(state): State<AppState>, _user: CurrentUser) -> Json<Vec<UnitOut>> {
    let dir = state.directory();
    Json(
        dir.units()
            .map(|u| UnitOut {
                code: u.code.to_string(),
                name: u.name.clone(),
                kind: u.kind.to_string(),
                parent: u.parent.as_ref().map(|p| p.to_string()),
                jurisdiction: u.jurisdiction.as_ref().map(|p| p.to_string()),
                active: u.active,
            })
            .collect(),
    )
}

/// The jurisdiction tree.
#[utoipa::path(get, path = "/api/v1/jurisdictions", tag = "reference", operation_id = "list_jurisdictions",
    responses((status = 200, description = "The jurisdiction tree", body = [JurisdictionNode])), security(("bearer" = [])))]
pub async fn jurisdictions(State(state): State<AppState>, _user: CurrentUser) -> Json<Vec<JurisdictionNode>> {
    let dir = state.directory();
    let mut by_parent: BTreeMap<Option<String>, Vec<_>> = BTreeMap::new();
    for j in dir.jurisdictions() {
        by_parent.entry(j.parent.as_ref().map(|p| p.to_string())).or_default().push(j);
    }
    fn node(
        j: &lianxin_domain::reference::Jurisdiction,
        by_parent: &BTreeMap<Option<String>, Vec<&lianxin_domain::reference::Jurisdiction>>,
    ) -> JurisdictionNode {
        JurisdictionNode {
            code: j.code.to_string(),
            name: j.name.clone(),
            level: j.level.to_string(),
            active: j.active,
            children: by_parent
                .get(&Some(j.code.to_string()))
                .map(|cs| cs.iter().map(|c| node(c, by_parent)).collect())
                .unwrap_or_default(),
        }
    }
    let roots = by_parent.get(&None).cloned().unwrap_or_default();
    Json(roots.iter().map(|j| node(j, &by_parent)).collect())
}
