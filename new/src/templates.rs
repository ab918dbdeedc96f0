//! The templates: each one an example's sources (`templates/NAME/src/` is
//! where the example lives; `examples/Cargo.toml` points there), a smoke
//! test, and the files all templates share. Every template directory is
//! made of real files, so that `cargo generate` (which skips symbolic
//! links) sees them; the shared ones are copies of `templates/common/`,
//! checked by this module's tests (`SHARED`).

/// One file of a new crate: where it goes and what it holds (before the
/// placeholders are filled in).
pub struct File {
    /// Path relative to the new crate's root.
    pub path: &'static str,
    /// The text, with `{{project-name}}` and `{{corering_path}}` placeholders.
    pub text: &'static str,
    /// Copied as it is (Rust sources whose `{{` is a format escape).
    pub verbatim: bool,
}

/// A template: an example's name, what it is, and its own files (a file
/// of [`COMMON`]'s path listed here, such as a `Cargo.toml` with more
/// dependencies, replaces the common one).
pub struct Template {
    /// The example it comes from (`--from NAME`).
    pub name: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// Its own files (sources and smoke test).
    pub files: &'static [File],
}

/// Files of the template at `templates/$dir`, relative to it.
macro_rules! files {
    ($dir:literal: $($path:literal $(verbatim $v:tt)?),* $(,)?) => {
        &[$(File {
            path: $path,
            text: include_str!(concat!("../../templates/", $dir, "/", $path)),
            verbatim: files!(@v $($v)?),
        }),*]
    };
    (@v) => { false };
    (@v $v:tt) => { true };
}

/// The files every template has.
pub const COMMON: &[File] = files!("common":
    "Cargo.toml",
    "README.md",
    "support/mod.rs" verbatim(),
);

/// Where [`COMMON`]'s `support/mod.rs` goes in the new crate.
pub const SUPPORT_DEST: &str = "tests/support/mod.rs";

/// Every template, `hello` first (the default).
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "hello",
        about: "HTTP/1.1 routes with #[get]/#[post] and routes![] (JSON, path parameters, metrics)",
        files: files!("hello": "src/main.rs" verbatim(), "tests/smoke.rs"),
    },
    Template {
        name: "echo",
        about: "a TCP echo server on the raw Connection API (read a buffer, write it back)",
        files: files!("echo": "src/main.rs" verbatim(), "tests/smoke.rs"),
    },
    Template {
        name: "kv",
        about:
            "a Redis-compatible key-value server (RESP parser, sharded store, cross-worker calls)",
        files: files!("kv":
            "src/main.rs" verbatim(),
            "src/commands.rs" verbatim(),
            "src/glob.rs" verbatim(),
            "src/hash.rs" verbatim(),
            "src/reader_stats.rs" verbatim(),
            "src/resp.rs" verbatim(),
            "src/shard.rs" verbatim(),
            "src/store.rs" verbatim(),
            "tests/smoke.rs",
        ),
    },
    Template {
        name: "frames",
        about: "a binary protocol with #[derive(Frame)]: server and client in one binary",
        files: files!("frames": "src/main.rs" verbatim(), "tests/smoke.rs"),
    },
    Template {
        name: "chat",
        about: "a WebSocket chat room across workers, with its HTML page and an /echo route",
        files: files!("chat":
            "src/main.rs" verbatim(),
            "src/index.html" verbatim(),
            "tests/smoke.rs",
        ),
    },
    Template {
        name: "todo",
        about: "a JSON CRUD API on SQLite (default) or PostgreSQL, with a plain-JS page",
        files: files!("todo":
            "Cargo.toml",
            "src/main.rs" verbatim(),
            "src/lib.rs" verbatim(),
            "src/api.rs" verbatim(),
            "src/error.rs" verbatim(),
            "src/model.rs" verbatim(),
            "src/page.rs" verbatim(),
            "src/store/mod.rs" verbatim(),
            "src/store/postgres.rs" verbatim(),
            "src/store/sqlite.rs" verbatim(),
            "static/index.html" verbatim(),
            "tests/smoke.rs",
        ),
    },
];

/// The template called `name`.
pub fn find(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::{Path, PathBuf};

    /// The files of `templates/common/` that every template directory holds a
    /// copy of, for `cargo generate` (which cannot follow a link out of the
    /// template): (canonical path under `templates/common/`, path of the copy
    /// under `templates/NAME/`). A template whose [`Template::files`] lists the
    /// copy's path has its own file there instead (todo's `Cargo.toml`).
    ///
    /// `cargo test -p corering-new` fails when a copy differs from its
    /// canonical file; `CORERING_SYNC_TEMPLATES=1 cargo test -p corering-new`
    /// rewrites the copies from it.
    const SHARED: &[(&str, &str)] = &[
        ("Cargo.toml", "Cargo.toml"),
        ("README.md", "README.md"),
        ("cargo-generate.toml", "cargo-generate.toml"),
        ("support/mod.rs", SUPPORT_DEST),
    ];

    fn templates_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
    }

    /// Each template's copy of a shared file is the same as the one in
    /// `templates/common/` (or is rewritten from it, with
    /// `CORERING_SYNC_TEMPLATES=1`).
    #[test]
    fn shared_copies_match_common() {
        let root = templates_dir();
        let sync = std::env::var_os("CORERING_SYNC_TEMPLATES").is_some_and(|v| v == "1");
        let mut stale = Vec::new();
        for (canonical, copy) in SHARED {
            let want = fs::read(root.join("common").join(canonical)).unwrap();
            for t in TEMPLATES {
                if t.files.iter().any(|f| f.path == *copy) {
                    continue;
                }
                let path = root.join(t.name).join(copy);
                if fs::read(&path).ok().as_deref() == Some(&want[..]) {
                    continue;
                }
                if sync {
                    fs::create_dir_all(path.parent().unwrap()).unwrap();
                    fs::write(&path, &want).unwrap();
                } else {
                    stale.push(format!("templates/{}/{copy}", t.name));
                }
            }
        }
        assert!(
            stale.is_empty(),
            "differ from their canonical file in templates/common/: {stale:?}; \
             edit the one in templates/common/, then run \
             `CORERING_SYNC_TEMPLATES=1 cargo test -p corering-new` to copy it"
        );
    }

    /// No template holds a symbolic link: `cargo generate` skips them.
    #[test]
    fn templates_are_real_files() {
        fn walk(dir: &Path, links: &mut Vec<PathBuf>) {
            for entry in fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                let kind = entry.file_type().unwrap();
                if kind.is_symlink() {
                    links.push(entry.path());
                } else if kind.is_dir() {
                    walk(&entry.path(), links);
                }
            }
        }
        let mut links = Vec::new();
        walk(&templates_dir(), &mut links);
        assert!(links.is_empty(), "links in templates/: {links:?}");
    }
}
