//! The templates: each one an example's sources (through the symbolic
//! links in `templates/NAME/`, so the example's code exists once), a
//! smoke test, and the files all templates share.

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
