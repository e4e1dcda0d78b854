//! The registry's state and where it lives: in memory, optionally mirrored to a JSON file.
//!
//! With a data directory every change is written to `registry.json` there atomically (a temp
//! file, fsync, rename), and the file is loaded at start, so schema ids survive restarts.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compat::CompatibilityLevel;
use crate::error::{Error, Result};
use crate::schema::SchemaContent;

/// Name of the state file inside the data directory.
pub const STATE_FILE: &str = "registry.json";

/// One version of a subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectVersion {
    pub version: u32,
    pub id: u32,
    /// Soft-deleted versions stay (their ids keep resolving) until deleted permanently.
    #[serde(default)]
    pub deleted: bool,
}

/// Everything the registry knows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    /// The id the next new schema gets.
    pub next_id: u32,
    /// Every schema ever registered, by global id. Ids are never reused for another schema.
    pub schemas: BTreeMap<u32, SchemaContent>,
    /// Versions of each subject, in version order.
    pub subjects: BTreeMap<String, Vec<SubjectVersion>>,
    pub global_compatibility: CompatibilityLevel,
    #[serde(default)]
    pub subject_compatibility: BTreeMap<String, CompatibilityLevel>,
}

impl Default for State {
    fn default() -> Self {
        State {
            next_id: 1,
            schemas: BTreeMap::new(),
            subjects: BTreeMap::new(),
            global_compatibility: CompatibilityLevel::default(),
            subject_compatibility: BTreeMap::new(),
        }
    }
}

/// The state plus, when persistent, the file it is mirrored to.
#[derive(Debug)]
pub struct Store {
    state: State,
    file: Option<PathBuf>,
}

impl Store {
    /// A store that forgets everything when the process exits.
    pub fn in_memory() -> Self {
        Store {
            state: State::default(),
            file: None,
        }
    }

    /// Opens (creating it if needed) the data directory and loads its state file, if any.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let store_error = |source| Error::Store {
            path: data_dir.display().to_string(),
            source,
        };
        fs::create_dir_all(data_dir).map_err(store_error)?;
        let file = data_dir.join(STATE_FILE);
        let state = match fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Store {
                path: file.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(store_error(e)),
        };
        Ok(Store {
            state,
            file: Some(file),
        })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Applies `change` to a copy of the state, persists the copy, and only then makes it
    /// current: a failed change or a failed write leaves the store as it was.
    pub fn update<T>(&mut self, change: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut next = self.state.clone();
        let out = change(&mut next)?;
        if let Some(file) = &self.file {
            write_atomically(file, &next).map_err(|source| Error::Store {
                path: file.display().to_string(),
                source,
            })?;
        }
        self.state = next;
        Ok(out)
    }
}

fn write_atomically(file: &Path, state: &State) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    let tmp = file.with_extension("json.tmp");
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, file)?;
    if let Some(dir) = file.parent() {
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::SchemaType;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("schemareg-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn state_survives_reopen() {
        let dir = temp_dir("reopen");
        let mut store = Store::open(&dir).unwrap();
        store
            .update(|s| {
                s.schemas.insert(
                    1,
                    SchemaContent {
                        schema_type: SchemaType::Avro,
                        schema: "\"int\"".into(),
                        references: vec![],
                    },
                );
                s.next_id = 2;
                s.global_compatibility = CompatibilityLevel::Full;
                Ok(())
            })
            .unwrap();
        let reopened = Store::open(&dir).unwrap();
        assert_eq!(reopened.state().next_id, 2);
        assert_eq!(
            reopened.state().global_compatibility,
            CompatibilityLevel::Full
        );
        assert!(!dir.join("registry.json.tmp").exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn failed_change_leaves_state_untouched() {
        let mut store = Store::in_memory();
        let r: Result<()> = store.update(|s| {
            s.next_id = 99;
            Err(Error::InvalidCompatibilityLevel)
        });
        assert!(r.is_err());
        assert_eq!(store.state().next_id, 1);
    }
}
