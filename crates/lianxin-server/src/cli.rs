//! The command-line side of setting up a city: `lianxin user`, `lianxin import` and
//! `lianxin export` (API.md, "Setting up a city"). They work on the database directly, so
//! a city can be set up before the server first starts.

use crate::setup::{self, ImportError, Importer, Kind, table::Format};
use anyhow::{Context as _, bail};
use lianxin_domain::calendar::Calendar;
use lianxin_domain::*;
use lianxin_store::{AdminChange, Store, UserRecord, UserWrite, redact};
use std::io::BufRead;

/// `lianxin user …`.
pub enum UserCommand {
    Add {
        username: String,
        roles: Vec<String>,
        unit: Option<String>,
        display_name: Option<String>,
        database_url: String,
    },
    Passwd {
        username: String,
        database_url: String,
    },
}

/// The stored working calendar, or the default one.
pub async fn load_calendar(store: &Store) -> anyhow::Result<Calendar> {
    Ok(match store.meta("calendar").await? {
        Some(json) => {
            serde_json::from_str(&json).map_err(|e| anyhow::anyhow!("the stored calendar is unreadable: {e}"))?
        }
        None => Calendar::default(),
    })
}

/// Opens a database as every command does: migrated, its rollups dated by its calendar's
/// offset, the hotspot cells of older orders and the per-unit cells counted (once).
pub async fn open(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url).await.with_context(|| format!("opening {}", redact(url)))?;
    let cal = load_calendar(&store).await?;
    store.set_utc_offset(cal.utc_offset_minutes);
    store.backfill_place_cells().await?;
    store.ensure_scope_cells().await?;
    Ok(store)
}

/// Opens the target of `db copy`: migrated and dated, but nothing counted, since the copy
/// brings the source's rollups and their `meta` marks.
pub async fn open_copy_target(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url).await.with_context(|| format!("opening {}", redact(url)))?;
    let cal = load_calendar(&store).await?;
    store.set_utc_offset(cal.utc_offset_minutes);
    Ok(store)
}

/// Reads one line (the password) from standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let p = line.trim_end_matches(['\n', '\r']).to_owned();
    if p.is_empty() {
        bail!("no password on standard input: pipe one line, e.g. `echo 'a long secret' | lianxin user add …`");
    }
    Ok(p)
}

fn now() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// `lianxin user add` and `lianxin user passwd`.
pub async fn user(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { username, roles, unit, display_name, database_url } => {
            let username = setup::check_username(username.trim()).map_err(anyhow::Error::msg)?;
            let roles = setup::parse_roles(&roles.join("|")).map_err(anyhow::Error::msg)?;
            let unit = unit.map(|u| UnitCode::parse(&u)).transpose().map_err(anyhow::Error::msg)?;
            let store = open(&database_url).await?;
            if store.user(&username).await?.is_some() {
                bail!("the account `{username}` exists already; to reset its password: lianxin user passwd {username}");
            }
            let dir = store.load_directory().await?;
            let hash = setup::new_password_hash(read_password()?).await.map_err(anyhow::Error::msg)?;
            let user = UserRecord {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username: username.clone(),
                password_hash: hash,
                roles,
                unit,
                active: true,
            };
            if let Some((field, m)) = setup::check_user(&dir, &user).into_iter().next() {
                bail!("{field}: {m}");
            }
            let change = AdminChange {
                at: now(),
                actor: "cli".into(),
                kind: "user".into(),
                code: username.clone(),
                action: "create".into(),
                before: None,
                after: Some(setup::user_json(&user).to_string()),
            };
            store.write_users(&[UserWrite { user, set_password: true }], &[change], now()).await?;
            println!("created the account `{username}`");
        }
        UserCommand::Passwd { username, database_url } => {
            let store = open(&database_url).await?;
            let Some(mut user) = store.user(username.trim()).await? else {
                bail!("no account `{}`", username.trim());
            };
            user.password_hash = setup::new_password_hash(read_password()?).await.map_err(anyhow::Error::msg)?;
            let change = AdminChange {
                at: now(),
                actor: "cli".into(),
                kind: "user".into(),
                code: user.username.clone(),
                action: "password".into(),
                before: None,
                after: None,
            };
            let name = user.username.clone();
            store.write_users(&[UserWrite { user, set_password: true }], &[change], now()).await?;
            println!("set a new password for `{name}`; its sessions have ended");
        }
    }
    Ok(())
}

/// `lianxin report --period P --out DIR [--unit CODE]`: the report of the whole hotline (or
/// of a unit's scope, as the unit's own accounts see it) as HTML and `.xlsx`. Prints the two
/// paths and the summary.
pub async fn report(period: &str, out: &str, unit: Option<&str>, database_url: &str) -> anyhow::Result<()> {
    use crate::api::stats::Within;
    use lianxin_domain::scope::{Area, area_of};
    let period = crate::report::Period::parse(period).map_err(|m| anyhow::anyhow!(m))?;
    let store = open(database_url).await?;
    let dir = store.load_directory().await?;
    let cal = load_calendar(&store).await?;
    let (within, area) = match unit {
        None => (Within::City, Area::All),
        Some(code) => {
            let code = lianxin_domain::UnitCode::parse(code).map_err(|m| anyhow::anyhow!("--unit: {m}"))?;
            if dir.unit(&code).is_none() {
                anyhow::bail!("--unit: no unit `{code}` in this database");
            }
            // The unit's own view: what a handler of it sees.
            let actor = lianxin_domain::command::Actor {
                username: "report".into(),
                roles: vec![lianxin_domain::Role::Handler],
                unit: Some(code),
            };
            (crate::api::stats::within_of(&actor, &dir), area_of(&actor, &dir))
        }
    };
    let weights = match store.meta("assessment_weights").await? {
        Some(json) => serde_json::from_str(&json).unwrap_or_default(),
        None => lianxin_domain::kpi::Weights::default(),
    };
    let now = chrono::Utc::now().timestamp_millis();
    let cx = crate::report::Context { store: &store, dir: &dir, cal: &cal, within, area, weights, now };
    let r = crate::report::build(&cx, &period).await?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {out}"))?;
    let base = std::path::Path::new(out).join(format!("report-{}", period.name.replace("..", "_")));
    let html_path = base.with_extension("html");
    let xlsx_path = base.with_extension("xlsx");
    std::fs::write(&html_path, crate::report::html(&r, true)?)
        .with_context(|| format!("writing {}", html_path.display()))?;
    std::fs::write(&xlsx_path, crate::report::workbook(&r).map_err(|e| anyhow::anyhow!("the workbook: {e}"))?)
        .with_context(|| format!("writing {}", xlsx_path.display()))?;
    println!("{}", html_path.display());
    println!("{}", xlsx_path.display());
    println!("{}", r.summary);
    store.close().await;
    Ok(())
}

fn kind(s: &str) -> anyhow::Result<Kind> {
    Kind::parse(s).ok_or_else(|| {
        anyhow::anyhow!("unknown kind `{s}`: one of jurisdictions, units, categories, routes, users, orders")
    })
}

/// `lianxin import KIND FILE [--dry-run]`.
pub async fn import(kind_name: &str, file: &str, dry_run: bool, database_url: &str) -> anyhow::Result<()> {
    let kind = kind(kind_name)?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
    let store = open(database_url).await?;
    let dir = store.load_directory().await?;
    let cal = load_calendar(&store).await?;
    let who = Importer { actor: "cli".into(), now: now() };
    let started = std::time::Instant::now();
    match setup::import(&store, &dir, &cal, kind, (&bytes, Format::of_path(file)), dry_run, &who).await {
        Ok(r) => {
            let verb = if dry_run { "would create" } else { "created" };
            let upd = if dry_run { "would update" } else { "updated" };
            println!(
                "{kind_name}: {verb} {}, {upd} {}, {} unchanged{} ({:.1} s)",
                r.created,
                r.updated,
                r.unchanged,
                if dry_run { "; nothing was written (--dry-run)" } else { "" },
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Err(ImportError::Rows(errs)) => {
            eprintln!("{}", setup::format_errors(file, &errs));
            bail!(
                "{} bad row(s) in {file}; nothing was written",
                errs.iter().map(|e| e.line).collect::<std::collections::BTreeSet<_>>().len()
            )
        }
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

/// `lianxin export KIND [--out FILE]`.
pub async fn export(kind_name: &str, out: Option<&str>, database_url: &str) -> anyhow::Result<()> {
    let kind = kind(kind_name)?;
    let store = open(database_url).await?;
    let dir = store.load_directory().await?;
    let cal = load_calendar(&store).await?;
    let format = out.map(Format::of_path).unwrap_or(Format::Csv);
    let bytes = setup::export(&store, &dir, &cal, kind, format).await?;
    match out {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {path}"))?;
            eprintln!("wrote {kind_name} to {path}");
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}
