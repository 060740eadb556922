//! Which statements a sample can be made for: exactly one `UPDATE t SET … [WHERE …]` or
//! `DELETE FROM t [WHERE …]` of one table, without joins, `FROM`/`USING` tables, `ORDER BY` or
//! `LIMIT` (MySQL), parsed with `sqlparser` in the engine's dialect. The table, its alias and
//! the `WHERE` are printed back as SQL (placeholders stay `$n`) for the sample's own queries.

use sqlparser::ast::{FromTable, ObjectName, Statement, TableFactor, TableWithJoins};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::section::Engine;

/// What the statement does to the rows it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    Update,
    Delete,
}

/// A single-table `UPDATE` or `DELETE`, as the sample needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) verb: Verb,
    /// The table's name, each part unquoted (`["public", "accounts"]`), for the catalog.
    pub(crate) name: Vec<String>,
    /// The table's name as written (`"Shop".orders`), for PostgreSQL's `regclass`.
    pub(crate) table: String,
    /// The table and its alias as SQL (`public.accounts AS a`).
    pub(crate) relation: String,
    /// What qualifies the table's columns: its alias, or its name.
    pub(crate) qualifier: String,
    /// The `WHERE` condition as SQL, with the statement's `$n`.
    pub(crate) filter: Option<String>,
}

/// The shape of `statement` on `engine`, or why no sample can be made for it.
pub(crate) fn shape(statement: &str, engine: Engine) -> Result<Shape, String> {
    let dialect: &dyn Dialect = match engine {
        Engine::Postgres => &PostgreSqlDialect {},
        Engine::MySql => &MySqlDialect {},
        Engine::Sqlite => &SQLiteDialect {},
    };
    let not = |what: &str| Err(format!("{what} (only an UPDATE or DELETE of one table is sampled)"));
    let Ok(mut statements) = Parser::parse_sql(dialect, statement) else {
        return not("Docket could not read the statement");
    };
    let (Some(statement), None) = (statements.pop(), statements.pop()) else {
        return not("not one statement");
    };
    match statement {
        Statement::Update(update) => {
            if update.from.is_some() || !update.order_by.is_empty() || update.limit.is_some() {
                return not("the UPDATE reads other tables or limits its rows");
            }
            one_table(Verb::Update, &update.table, update.selection.as_ref().map(ToString::to_string))
        }
        Statement::Delete(delete) => {
            let from = match &delete.from {
                FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from) => from,
            };
            let [table] = from.as_slice() else { return not("the DELETE names several tables") };
            if !delete.tables.is_empty()
                || delete.using.is_some()
                || !delete.order_by.is_empty()
                || delete.limit.is_some()
            {
                return not("the DELETE reads other tables or limits its rows");
            }
            one_table(Verb::Delete, table, delete.selection.as_ref().map(ToString::to_string))
        }
        _ => not("the statement is neither an UPDATE nor a DELETE"),
    }
}

fn one_table(verb: Verb, table: &TableWithJoins, filter: Option<String>) -> Result<Shape, String> {
    let reason = "the statement joins tables (only an UPDATE or DELETE of one table is sampled)";
    if !table.joins.is_empty() {
        return Err(reason.to_owned());
    }
    let TableFactor::Table { name, alias, args: None, .. } = &table.relation else {
        return Err(reason.to_owned());
    };
    let parts = parts(name).ok_or_else(|| reason.to_owned())?;
    let qualifier = alias.as_ref().map_or_else(|| name.to_string(), |a| a.name.to_string());
    Ok(Shape { verb, name: parts, table: name.to_string(), relation: table.relation.to_string(), qualifier, filter })
}

fn parts(name: &ObjectName) -> Option<Vec<String>> {
    name.0.iter().map(|part| part.as_ident().map(|ident| ident.value.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(sql: &str, engine: Engine) -> Shape {
        shape(sql, engine).unwrap_or_else(|why| panic!("{sql}: {why}"))
    }

    #[test]
    fn reads_updates_and_deletes_of_one_table() {
        let s = ok("update accounts set status = $1, note = $2 where owner = $3", Engine::Postgres);
        assert_eq!(s.verb, Verb::Update);
        assert_eq!(s.name, ["accounts"]);
        assert_eq!((s.relation.as_str(), s.qualifier.as_str()), ("accounts", "accounts"));
        assert_eq!(s.filter.as_deref(), Some("owner = $3"));

        let s = ok("DELETE FROM \"Shop\".orders AS o WHERE o.placed < $1::date", Engine::Postgres);
        assert_eq!(s.verb, Verb::Delete);
        assert_eq!(s.name, ["Shop", "orders"]);
        assert_eq!((s.relation.as_str(), s.qualifier.as_str()), ("\"Shop\".orders AS o", "o"));
        assert_eq!(s.filter.as_deref(), Some("o.placed < $1::DATE"));

        let s = ok("update `order lines` set qty = qty + 1 where id in ($1, $2)", Engine::MySql);
        assert_eq!(s.name, ["order lines"]);
        assert_eq!(s.qualifier, "`order lines`");
        assert_eq!(s.filter.as_deref(), Some("id IN ($1, $2)"));

        let s = ok("delete from t", Engine::Sqlite);
        assert_eq!((s.verb, s.filter), (Verb::Delete, None));
    }

    #[test]
    fn says_why_other_shapes_have_no_sample() {
        for (sql, engine, why) in [
            ("update a set x = 1 from b where a.id = b.id", Engine::Postgres, "reads other tables"),
            ("delete from a using b where a.id = b.id", Engine::Postgres, "reads other tables"),
            ("delete from a order by id limit 3", Engine::MySql, "limits its rows"),
            ("insert into a values (1)", Engine::Postgres, "neither an UPDATE nor a DELETE"),
            ("with x as (select 1) update a set y = 1", Engine::Postgres, "neither an UPDATE nor a DELETE"),
            ("update a join b on a.id = b.id set a.x = 1", Engine::MySql, "joins tables"),
            ("updat a", Engine::Sqlite, "could not read"),
        ] {
            let error = shape(sql, engine).expect_err(sql);
            assert!(error.contains(why), "{sql}: {error}");
        }
    }
}
