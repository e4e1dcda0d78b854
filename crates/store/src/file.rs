//! [`FileStore`]: one JSON file per connector under `<state.dir>/connectors/`, replaced
//! atomically (write temp, fsync, rename, fsync the directory).

use super::{ConfigStore, Result, StatusSnapshot, StoreError, StoredConnector, TargetState};
use cassink_config::ConfigMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct FileStore {
    dir: PathBuf,
    /// Serializes read-modify-write cycles within this process.
    lock: Mutex<()>,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

impl FileStore {
    /// Opens (creating when missing) the store under `state_dir`.
    pub fn open(state_dir: &Path) -> Result<Self> {
        let dir = state_dir.join("connectors");
        fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        Ok(Self {
            dir,
            lock: Mutex::new(()),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.json", encode_name(name)))
    }

    fn read(&self, path: &Path) -> Result<Option<StoredConnector>> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("read", path)(e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt {
                path: path.to_path_buf(),
                source,
            })
    }

    fn write(&self, stored: &StoredConnector) -> Result<()> {
        let path = self.path(&stored.name);
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(stored).map_err(|source| StoreError::Corrupt {
            path: path.clone(),
            source,
        })?;
        {
            let mut file = fs::File::create(&tmp).map_err(io("create", &tmp))?;
            file.write_all(&bytes).map_err(io("write", &tmp))?;
            file.sync_all().map_err(io("fsync", &tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io("rename into", &path))?;
        sync_dir(&self.dir)
    }

    fn update(&self, name: &str, f: impl FnOnce(&mut StoredConnector)) -> Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut stored = self
            .read(&self.path(name))?
            .ok_or_else(|| StoreError::NotFound(name.to_string()))?;
        f(&mut stored);
        self.write(&stored)
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    let d = fs::File::open(dir).map_err(io("open", dir))?;
    d.sync_all().map_err(io("fsync", dir))
}

/// File-name-safe encoding: ASCII alphanumerics, `-` and `_` kept, every other byte `%XX`.
fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl ConfigStore for FileStore {
    fn list(&self) -> Result<Vec<StoredConnector>> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io("list", &self.dir))? {
            let path = entry.map_err(io("list", &self.dir))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            if let Some(stored) = self.read(&path)? {
                out.push(stored);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn get(&self, name: &str) -> Result<Option<StoredConnector>> {
        self.read(&self.path(name))
    }

    fn put_config(&self, name: &str, config: &ConfigMap, target_state: TargetState) -> Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let stored = match self.read(&self.path(name))? {
            Some(mut existing) => {
                existing.config = config.clone();
                existing
            }
            None => StoredConnector {
                name: name.to_string(),
                config: config.clone(),
                target_state,
                status: None,
            },
        };
        self.write(&stored)
    }

    fn put_target_state(&self, name: &str, state: TargetState) -> Result<()> {
        self.update(name, |s| s.target_state = state)
    }

    fn put_status(&self, name: &str, status: &StatusSnapshot) -> Result<()> {
        self.update(name, |s| s.status = Some(status.clone()))
    }

    fn delete(&self, name: &str) -> Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.path(name);
        match fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("delete", &path)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_and_states_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let mut config = ConfigMap::new();
        config.insert("name".into(), "a/b c".into());
        store
            .put_config("a/b c", &config, TargetState::Paused)
            .unwrap();
        store
            .put_config("z", &config, TargetState::Running)
            .unwrap();
        store.put_target_state("z", TargetState::Stopped).unwrap();
        // A config update keeps the target state.
        store
            .put_config("z", &config, TargetState::Running)
            .unwrap();
        store
            .put_status(
                "z",
                &StatusSnapshot {
                    connector_state: "STOPPED".into(),
                    connector_trace: None,
                    tasks: vec![],
                    at_ms: 1,
                },
            )
            .unwrap();

        let reopened = FileStore::open(dir.path()).unwrap();
        let all = reopened.list().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].name, "a/b c");
        assert_eq!(all[0].target_state, TargetState::Paused);
        assert_eq!(all[1].target_state, TargetState::Stopped);
        assert!(all[1].status.is_some());

        reopened.delete("a/b c").unwrap();
        reopened.delete("a/b c").unwrap();
        assert!(reopened.get("a/b c").unwrap().is_none());
        assert!(matches!(
            reopened.put_target_state("nope", TargetState::Running),
            Err(StoreError::NotFound(_))
        ));
    }
}
