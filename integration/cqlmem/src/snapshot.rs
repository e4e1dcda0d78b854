//! `--data-dir` persistence: the whole catalog as one JSON file, written atomically.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::exec::Engine;
use crate::storage::{Catalog, Snapshot};

const FILE: &str = "cqlmem-snapshot.json";

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

pub fn load(dir: &Path) -> anyhow::Result<Catalog> {
    let p = path(dir);
    if !p.exists() {
        return Ok(Catalog::default());
    }
    let bytes = std::fs::read(&p)?;
    let snap: Snapshot = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("snapshot {} is unreadable: {e}", p.display()))?;
    Ok(Catalog::from_snapshot(snap))
}

/// Writes the snapshot to a temp file and renames it over the old one.
pub fn save(engine: &Engine, dir: &Path) -> anyhow::Result<()> {
    engine.dirty.store(false, Ordering::Relaxed);
    let snap = engine.catalog().to_snapshot();
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    let bytes = serde_json::to_vec(&snap)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path(dir))?;
    Ok(())
}
