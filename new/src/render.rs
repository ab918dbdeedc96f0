//! Filling in a template and writing the new crate.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::templates::{File, Template, COMMON, SUPPORT_DEST};

/// How the new crate depends on corering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    /// `corering = { path = "..." }`.
    Path(PathBuf),
    /// `corering = "V"` from crates.io.
    Version(String),
}

impl Dependency {
    /// The framework crate of the checkout this tool was built from.
    pub fn this_checkout() -> Dependency {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../framework");
        Dependency::Path(dir.canonicalize().unwrap_or(dir))
    }

    /// The `corering = ...` line of the new `Cargo.toml`.
    fn line(&self) -> String {
        match self {
            Dependency::Path(p) => format!("corering = {{ path = {:?} }}", p.display().to_string()),
            Dependency::Version(v) => format!("corering = {v:?}"),
        }
    }
}

/// What will be written, and where: checked before anything is.
pub struct Plan {
    dir: PathBuf,
    files: Vec<(PathBuf, String)>,
}

impl Plan {
    /// Checks the name and the directory, and fills in every file.
    pub fn new(
        name: &str,
        template: &Template,
        dir: &Path,
        dependency: Dependency,
    ) -> Result<Plan, String> {
        check_name(name)?;
        if dir.exists() {
            let empty = fs::read_dir(dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?
                .next()
                .is_none();
            if !empty {
                return Err(format!(
                    "{} exists and is not empty; choose another --path",
                    dir.display()
                ));
            }
        }
        if let Dependency::Path(p) = &dependency {
            if !p.join("Cargo.toml").is_file() {
                return Err(format!(
                    "no corering crate at {} (no Cargo.toml there); give --corering-path or --corering-version",
                    p.display()
                ));
            }
        }
        let inside = enclosing_workspace(dir);
        let mut files = Vec::new();
        for f in COMMON.iter().chain(template.files) {
            let dest = if f.path == "support/mod.rs" {
                SUPPORT_DEST
            } else {
                f.path
            };
            let mut text = fill(f, name, template.name, &dependency);
            if dest == "Cargo.toml" {
                if let Some(ws) = &inside {
                    text += &format!(
                        "\n# A workspace of its own: it lies inside another one ({}).\n[workspace]\n",
                        ws.display()
                    );
                }
            }
            files.push((dir.join(dest), text));
        }
        Ok(Plan {
            dir: dir.to_path_buf(),
            files,
        })
    }

    /// Writes the files (creating the directories).
    pub fn write(&self) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        for (path, text) in &self.files {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(path, text)?;
        }
        Ok(())
    }
}

/// One file's text for the crate `name` made from example `from`.
fn fill(f: &File, name: &str, from: &str, dependency: &Dependency) -> String {
    if f.verbatim {
        // The example's own comments run it as an example of corering's
        // workspace; in the new crate it is the package's binary.
        return f
            .text
            .replace(&format!("--example {from} "), "")
            .replace(&format!("examples/{from}/"), "src/");
    }
    f.text
        .replace(
            "corering = { path = \"{{corering_path}}\" }",
            &dependency.line(),
        )
        .replace("{{project-name}}", name)
}

/// Cargo's rules for a package name, and a few names that would shadow
/// the crates it uses.
fn check_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let starts = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    if !ok_chars || !starts || name.len() > 64 {
        return Err(format!(
            "{name:?} is not a crate name: use ASCII letters, digits, `-` and `_`, starting with a letter"
        ));
    }
    if [
        "corering",
        "corering-macros",
        "std",
        "core",
        "alloc",
        "test",
        "proc_macro",
    ]
    .contains(&name)
    {
        return Err(format!(
            "{name:?} would shadow a crate it uses; choose another name"
        ));
    }
    Ok(())
}

/// The nearest enclosing directory whose `Cargo.toml` declares a
/// workspace: Cargo would take the new crate for one of its members.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    let abs = std::env::current_dir().ok()?.join(dir);
    abs.ancestors().skip(1).find_map(|a| {
        let manifest = fs::read_to_string(a.join("Cargo.toml")).ok()?;
        manifest
            .lines()
            .any(|l| l.trim() == "[workspace]")
            .then(|| a.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::{find, TEMPLATES};

    #[test]
    fn names() {
        assert!(check_name("my-server_2").is_ok());
        for bad in ["", "2fast", "a b", "ünï", "a/b", "corering", "test"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_template_fills_its_placeholders() {
        let dep = Dependency::Version("0.1".into());
        for t in TEMPLATES {
            let dir = std::env::temp_dir().join(format!("corering-new-unit-{}", t.name));
            let plan = Plan::new("my-app", t, &dir, dep.clone()).unwrap();
            let names: Vec<String> = plan
                .files
                .iter()
                .map(|(p, _)| p.strip_prefix(&dir).unwrap().display().to_string())
                .collect();
            for want in [
                "Cargo.toml",
                "README.md",
                "src/main.rs",
                "tests/smoke.rs",
                SUPPORT_DEST,
            ] {
                assert!(names.iter().any(|n| n == want), "{}: no {want}", t.name);
            }
            for (p, text) in &plan.files {
                if !p.ends_with("main.rs") && !p.ends_with("mod.rs") {
                    assert!(
                        !text.contains("{{"),
                        "{}: {} keeps a placeholder",
                        t.name,
                        p.display()
                    );
                }
            }
            let manifest = &plan
                .files
                .iter()
                .find(|(p, _)| p.ends_with("Cargo.toml"))
                .unwrap()
                .1;
            assert!(manifest.contains("name = \"my-app\""), "{manifest}");
            assert!(manifest.contains("corering = \"0.1\""), "{manifest}");
        }
        let main = &Plan::new(
            "x",
            find("hello").unwrap(),
            Path::new("/nonexistent-x"),
            dep,
        )
        .unwrap()
        .files
        .into_iter()
        .find(|(p, _)| p.ends_with("src/main.rs"))
        .unwrap()
        .1;
        assert!(!main.contains("--example"), "{main}");
    }

    /// Each template lists every file of its example's directory (a new
    /// module in `examples/kv` must reach new crates too).
    #[test]
    fn templates_list_every_source() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
        for t in TEMPLATES {
            let src = root.join(t.name).join("src");
            for entry in fs::read_dir(&src).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                let path = format!("src/{name}");
                assert!(
                    t.files.iter().any(|f| f.path == path),
                    "template {} does not list {path}",
                    t.name
                );
            }
        }
    }

    #[test]
    fn refuses_a_directory_in_use() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let e = Plan::new("x", find("echo").unwrap(), dir, Dependency::this_checkout())
            .err()
            .unwrap();
        assert!(e.contains("not empty"), "{e}");
        let e = Plan::new(
            "x",
            find("echo").unwrap(),
            Path::new("/nonexistent-y"),
            Dependency::Path("/nonexistent-z".into()),
        )
        .err()
        .unwrap();
        assert!(e.contains("no corering crate"), "{e}");
    }
}
