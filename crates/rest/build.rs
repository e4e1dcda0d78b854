//! Puts the git commit of the build into `CASSINK_GIT_COMMIT` (what `GET /` reports, as
//! Kafka Connect reports its own), unless the environment already sets it (e.g. a Docker
//! build without the `.git` directory). Outside a git checkout it stays unset ("unknown").

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CASSINK_GIT_COMMIT");
    if std::env::var_os("CASSINK_GIT_COMMIT").is_some() {
        return;
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        return;
    };
    println!("cargo:rustc-env=CASSINK_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves: HEAD itself, the branch it names, and packed refs (paths as
    // git resolves them, so worktrees work too).
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    for name in ["HEAD", "packed-refs"].into_iter().chain(branch.as_deref()) {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", name]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
