//! The OpenAPI document, generated from the handlers' annotations.

use crate::api::{admin, calendar, orders, reference, session, stats, supervision};
use crate::views;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API description served at `/api/v1/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Lianxin (连心) hotline API", version = "1",
         description = "Work orders of a city's government service hotline (12345/311). Errors are `{\"error\":{\"code\",\"message\"}}`; 422 adds `fields`."),
    paths(
        session::login, session::logout, session::me,
        reference::categories, reference::units, reference::jurisdictions,
        orders::create, orders::list, orders::get, orders::events, orders::act, orders::caller_orders,
        calendar::get, calendar::put, calendar::import,
        supervision::queue, supervision::sweep, supervision::qa_sample, supervision::notifications, supervision::mark_read,
        stats::kpis, stats::ranking, stats::get_weights, stats::put_weights,
        admin::import, admin::export, admin::put_item, admin::get_item, admin::toggle_item,
        admin::routes, admin::put_route, admin::delete_route,
        admin::users, admin::get_user, admin::put_user, admin::set_password, admin::toggle_user, admin::history,
        admin::logins,
    ),
    components(schemas(views::OrderOut, views::EventOut, orders::OrderList, session::LoginOut, session::UserOut,
                       reference::CategoryNode, reference::UnitOut, reference::JurisdictionNode,
                       calendar::CalendarDoc, calendar::PeriodDoc, calendar::HolidayYear, calendar::HolidayDay,
                       supervision::NotificationOut, supervision::NotificationList, supervision::Marked,
                       crate::jobs::SweepReport, crate::jobs::SampleReport,
                       stats::KpiRow, stats::KpiReport, stats::RankedUnit, stats::Ranking,
                       crate::setup::Report, crate::setup::ChangeOut, admin::RouteOut, admin::AccountOut, admin::ChangeRecord,
                       admin::LoginAttemptOut, admin::LoginLog)),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "reference"), (name = "orders"), (name = "calendar"), (name = "supervision"), (name = "stats"), (name = "admin"))
)]
pub struct ApiDoc;
