//! The state file: the catalog as JSON, loaded at start and rewritten after every change.
//! Remote passwords of login mappings and login passwords are never written; a reloaded mapping
//! keeps `has_password` but connects with an empty password until it is set again.

use std::path::Path;

use super::catalog::{now, Catalog, Login, Secret, ServerRow};
use super::value::Collation;
use crate::config::InstanceConfig;

pub fn load(path: &Path) -> Result<Option<Catalog>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("bad state file {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read state file {}: {e}", path.display())),
    }
}

pub fn save(path: &Path, catalog: &Catalog) -> Result<(), String> {
    write(path, &render(catalog)?)
}

/// Writes the file unless it already holds exactly this catalog: a restart whose configuration
/// changes nothing leaves the file (and its modification time) alone.
pub fn save_if_changed(path: &Path, catalog: &Catalog) -> Result<(), String> {
    let text = render(catalog)?;
    if std::fs::read_to_string(path).is_ok_and(|stored| stored == text) {
        return Ok(());
    }
    write(path, &text)
}

fn render(catalog: &Catalog) -> Result<String, String> {
    serde_json::to_string_pretty(catalog).map_err(|e| e.to_string())
}

/// Write then rename, so a reader never sees half a file.
fn write(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

/// The catalog at start: the stored one (if any) with the configured logins merged in (stored
/// logins keep their principal ids; passwords and roles always come from the configuration).
pub fn initial_catalog(
    config: &InstanceConfig,
    collation: Collation,
    stored: Option<Catalog>,
) -> Result<Catalog, String> {
    let mut catalog = stored.unwrap_or_else(|| Catalog {
        servers: vec![ServerRow::local(&config.server_name)],
        linked_logins: Vec::new(),
        logins: Vec::new(),
    });
    // The local row always names this instance, whatever the file was written by.
    match catalog.servers.iter_mut().find(|s| s.server_id == 0) {
        Some(local) => {
            local.name = config.server_name.clone();
            local.data_source = Some(config.server_name.clone());
        }
        None => catalog
            .servers
            .insert(0, ServerRow::local(&config.server_name)),
    }
    let stored_logins = std::mem::take(&mut catalog.logins);
    let mut next_id = stored_logins
        .iter()
        .map(|l| l.principal_id)
        .max()
        .unwrap_or(0)
        .max(255)
        + 1;
    for spec in &config.logins {
        if catalog
            .logins
            .iter()
            .any(|l| collation.eq(&l.name, &spec.name))
        {
            return Err(format!("login '{}' is configured twice", spec.name));
        }
        let principal_id = match stored_logins
            .iter()
            .find(|l| collation.eq(&l.name, &spec.name))
        {
            Some(old) => old.principal_id,
            None if spec.name.eq_ignore_ascii_case("sa") => 1,
            None => {
                next_id += 1;
                next_id - 1
            }
        };
        catalog.logins.push(Login {
            name: spec.name.clone(),
            principal_id,
            password: Some(Secret::new(&spec.password)),
            role: spec.role,
            create_date: stored_logins
                .iter()
                .find(|l| l.principal_id == principal_id)
                .map_or_else(now, |l| l.create_date),
        });
    }
    Ok(catalog)
}
