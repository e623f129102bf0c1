//! The OpenAPI document, generated from the handlers' annotations.

use crate::api::{orders, reference, session};
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
    ),
    components(schemas(views::OrderOut, views::EventOut, orders::OrderList, session::LoginOut, session::UserOut,
                       reference::CategoryNode, reference::UnitOut, reference::JurisdictionNode)),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "reference"), (name = "orders"))
)]
pub struct ApiDoc;
