//! A small builder for dynamic SQL with `$n` placeholders.

use sqlx::any::AnyArguments;
use sqlx::{Any, query::Query};

#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    /// A NULL typed as text, and one typed as an integer (PostgreSQL checks the type).
    NullText,
    NullInt,
}

#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    params: Vec<Param>,
    /// `?` placeholders instead of `$n` (SQLite only): sqlx's SQLite driver looks every `$n`
    /// up by name, which grows with the square of a statement's parameters.
    positional: bool,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), params: Vec::new(), positional: false }
    }

    /// A statement for `backend`: on SQLite with `?` placeholders, for many-row statements.
    pub fn for_backend(text: &str, backend: crate::Backend) -> Sql {
        Sql { text: text.to_owned(), params: Vec::new(), positional: backend == crate::Backend::Sqlite }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder bound to `p`.
    pub fn bind(&mut self, p: Param) -> &mut Self {
        self.params.push(p);
        if self.positional {
            self.text.push('?');
        } else {
            self.text.push('$');
            self.text.push_str(&self.params.len().to_string());
        }
        self
    }

    pub fn text(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Param::Text(s.into()))
    }

    pub fn int(&mut self, i: i64) -> &mut Self {
        self.bind(Param::Int(i))
    }

    pub fn opt_text(&mut self, s: Option<impl Into<String>>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.bind(Param::NullText),
        }
    }

    pub fn opt_int(&mut self, i: Option<i64>) -> &mut Self {
        match i {
            Some(i) => self.int(i),
            None => self.bind(Param::NullInt),
        }
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
                Param::NullText => q.bind(None::<String>),
                Param::NullInt => q.bind(None::<i64>),
            };
        }
        q
    }
}
