//! Where the figures go: `--output FILE`, or by default `bench-results.json` in the cargo target
//! directory the bench was built into, so that a run leaves nothing in the directory it ran
//! in (a checkout stays clean, and `target/` is already ignored).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The file name of the figures in the target directory.
pub(crate) const DEFAULT_NAME: &str = "bench-results.json";

/// The file the figures are written to: `requested`, or [`DEFAULT_NAME`] in the target
/// directory that holds `exe`. Worked out before anything is measured, so that a bench binary
/// copied out of a target directory fails at once rather than after the run.
pub(crate) fn resolve(requested: Option<PathBuf>, exe: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = requested {
        return Ok(path);
    }
    let target = target_dir(exe).with_context(|| {
        format!(
            "{} is not in a cargo target directory, so there is no default place for the \
             figures: give --output FILE",
            exe.display()
        )
    })?;
    Ok(target.join(DEFAULT_NAME))
}

/// The cargo target directory `exe` was built into. Cargo puts binaries at
/// `<target>/<profile>/` (or `<target>/<triple>/<profile>/`) and marks `<target>` with a
/// `CACHEDIR.TAG`, which also finds a `CARGO_TARGET_DIR` set elsewhere.
fn target_dir(exe: &Path) -> Option<PathBuf> {
    exe.ancestors()
        .skip(1)
        .take(3)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target directory as cargo lays it out, with the bench binary under `profile`.
    fn target_with_bench(profile: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::create_dir_all(target.join(profile)).unwrap();
        std::fs::write(
            target.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .unwrap();
        let exe = target.join(profile).join("loginprofiled-bench");
        (dir, exe)
    }

    #[test]
    fn by_default_the_figures_go_into_the_target_directory() {
        let (dir, exe) = target_with_bench("release");
        let path = resolve(None, &exe).unwrap();
        assert_eq!(path, dir.path().join("target").join(DEFAULT_NAME));
    }

    #[test]
    fn a_cross_compiled_binary_finds_its_target_directory_too() {
        let (dir, exe) = target_with_bench("x86_64-unknown-linux-gnu/release");
        let path = resolve(None, &exe).unwrap();
        assert_eq!(path, dir.path().join("target").join(DEFAULT_NAME));
    }

    #[test]
    fn output_overrides_the_default() {
        let (_dir, exe) = target_with_bench("debug");
        let chosen = PathBuf::from("elsewhere/figures.json");
        assert_eq!(resolve(Some(chosen.clone()), &exe).unwrap(), chosen);
    }

    #[test]
    fn a_binary_outside_a_target_directory_must_be_told_where() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve(None, &dir.path().join("loginprofiled-bench")).unwrap_err();
        assert!(format!("{err:#}").contains("give --output FILE"), "{err:#}");
    }
}
