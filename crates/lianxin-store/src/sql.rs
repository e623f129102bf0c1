//! A small builder for dynamic SQL with `$n` placeholders.

use sqlx::any::AnyArguments;
use sqlx::{Any, query::Query};

#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    params: Vec<Param>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), params: Vec::new() }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder bound to `p`.
    pub fn bind(&mut self, p: Param) -> &mut Self {
        self.params.push(p);
        self.text.push('$');
        self.text.push_str(&self.params.len().to_string());
        self
    }

    pub fn text(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Param::Text(s.into()))
    }

    pub fn int(&mut self, i: i64) -> &mut Self {
        self.bind(Param::Int(i))
    }

    /// `($1, $2, …)` for a non-empty list.
    pub fn list(&mut self, items: impl IntoIterator<Item = String>) -> &mut Self {
        self.push("(");
        for (i, s) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.text(s);
        }
        self.push(")")
    }

    pub fn query(&self) -> Query<'static, Any, AnyArguments> {
        // The text is built only from literals; every value goes through a bound parameter.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text.clone()));
        for p in &self.params {
            q = match p {
                Param::Text(s) => q.bind(s.clone()),
                Param::Int(i) => q.bind(*i),
            };
        }
        q
    }
}
