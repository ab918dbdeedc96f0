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

    /// The `corering = ...` line of the new `Cargo.toml`; `extra` is what
    /// the template's line has after the path (`features = [...]`), if
    /// anything.
    fn line(&self, extra: &str) -> String {
        match (self, extra) {
            (Dependency::Path(p), "") => {
                format!("corering = {{ path = {:?} }}", p.display().to_string())
            }
            (Dependency::Path(p), extra) => format!(
                "corering = {{ path = {:?}, {extra} }}",
                p.display().to_string()
            ),
            (Dependency::Version(v), "") => format!("corering = {v:?}"),
            (Dependency::Version(v), extra) => format!("corering = {{ version = {v:?}, {extra} }}"),
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
        // A template's own file replaces the common file of that path.
        let common = COMMON
            .iter()
            .filter(|c| !template.files.iter().any(|f| f.path == c.path));
        for f in common.chain(template.files) {
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
            .replace(&format!("-p {from} "), "");
    }
    let lines: Vec<String> = f
        .text
        .lines()
        .map(|l| match dependency_extra(l) {
            Some(extra) => dependency.line(extra),
            None => l.to_string(),
        })
        .collect();
    let mut text = lines.join("\n");
    if f.text.ends_with('\n') {
        text.push('\n');
    }
    text.replace("{{project-name}}", name)
}

/// For the template's corering line, `corering = { path =
/// "{{corering_path}}" }` or `corering = { path = "{{corering_path}}",
/// EXTRA }`: `Some(EXTRA)` (empty for the first form).
fn dependency_extra(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("corering = { path = \"{{corering_path}}\"")?
        .strip_suffix('}')?
        .trim();
    match rest.strip_prefix(',') {
        Some(extra) => Some(extra.trim()),
        None if rest.is_empty() => Some(""),
        None => None,
    }
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
            assert!(
                manifest.contains("corering = \"0.1\"")
                    || manifest.contains("corering = { version = \"0.1\", features = ["),
                "{manifest}"
            );
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

    /// The corering line keeps the template's features, on a path or a
    /// version; other lines are left alone.
    #[test]
    fn corering_line_keeps_features() {
        let f = File {
            path: "Cargo.toml",
            text: "[dependencies]\ncorering = { path = \"{{corering_path}}\", features = [\"tokio-compat\"] }\nserde = \"1\"\n",
            verbatim: false,
        };
        let v = fill(&f, "x", "todo", &Dependency::Version("0.2".into()));
        assert_eq!(
            v,
            "[dependencies]\ncorering = { version = \"0.2\", features = [\"tokio-compat\"] }\nserde = \"1\"\n"
        );
        let p = fill(&f, "x", "todo", &Dependency::Path("/c/framework".into()));
        assert!(
            p.contains("corering = { path = \"/c/framework\", features = [\"tokio-compat\"] }\n"),
            "{p}"
        );
        assert_eq!(
            dependency_extra("corering = { path = \"{{corering_path}}\" }"),
            Some("")
        );
        assert_eq!(dependency_extra("corering = \"1\""), None);
        assert_eq!(
            dependency_extra("corering = { path = \"{{corering_path}}\" x }"),
            None
        );
    }

    /// A template's own `Cargo.toml` replaces the common one (written once).
    #[test]
    fn own_manifest_replaces_the_common_one() {
        let dir = Path::new("/nonexistent-todo");
        let plan = Plan::new(
            "x",
            find("todo").unwrap(),
            dir,
            Dependency::Version("0.1".into()),
        )
        .unwrap();
        let manifests: Vec<_> = plan
            .files
            .iter()
            .filter(|(p, _)| p.ends_with("Cargo.toml"))
            .collect();
        assert_eq!(manifests.len(), 1);
        assert!(manifests[0].1.contains("rusqlite"), "{}", manifests[0].1);
    }

    /// Each template lists every file of its example's directories (a new
    /// module in `templates/kv/src` must reach new crates too), subdirectories
    /// included.
    #[test]
    fn templates_list_every_source() {
        fn walk(root: &Path, rel: &str, out: &mut Vec<String>) {
            for entry in fs::read_dir(root.join(rel)).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().unwrap();
                let path = format!("{rel}/{name}");
                if entry.path().is_dir() {
                    walk(root, &path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
        for t in TEMPLATES {
            let mut found = Vec::new();
            for dir in ["src", "static"] {
                if root.join(t.name).join(dir).exists() {
                    walk(&root.join(t.name), dir, &mut found);
                }
            }
            for path in found {
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
