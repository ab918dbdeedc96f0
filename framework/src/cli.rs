//! The command line every corering example shares: `--addr HOST:PORT` and
//! `--workers N`, plus the flags each program declares.
//!
//! A program describes itself in a [`Cli`] (name, one-line description,
//! default port) with its own [`Flag`]s, and optionally the positional
//! words it takes. [`Cli::parse`] then checks the command line: `--help`
//! prints every flag with its description and default and exits 0; an
//! unknown flag, a flag without its value, a value given to a switch or a
//! word the program does not take prints `error: ...` and the usage line
//! and exits 2. Values may be given as `--flag VALUE` or `--flag=VALUE`;
//! `--` ends the flags.
//!
//! ```no_run
//! use corering::cli::{Cli, Flag};
//!
//! const CLI: Cli = Cli::new("echo", "echo server: sends every byte back", 7000).flags(&[
//!     Flag::value("--unix", "PATH", "also listen on this Unix socket"),
//!     Flag::switch("--acceptor", "accept on one thread, not SO_REUSEPORT listeners"),
//! ]);
//!
//! let args = CLI.parse();
//! let mut builder = corering::Server::builder().bind(args.addr.as_str()).workers(args.workers);
//! if let Some(path) = args.value("--unix") {
//!     builder = builder.bind_unix(path);
//! }
//! ```

use std::fmt;

/// One flag a program takes besides `--addr` and `--workers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The flag, with its dashes (`--unix`).
    pub name: &'static str,
    /// What its value is called in the help (`PATH`), or `None` for a
    /// switch that takes no value.
    pub value: Option<&'static str>,
    /// A one-line description.
    pub help: &'static str,
    /// The value used when the flag is not given, shown in the help.
    pub default: Option<&'static str>,
}

impl Flag {
    /// A switch: present or not, no value.
    pub const fn switch(name: &'static str, help: &'static str) -> Flag {
        Flag {
            name,
            value: None,
            help,
            default: None,
        }
    }

    /// A flag followed by a value called `value_name` in the help.
    pub const fn value(name: &'static str, value_name: &'static str, help: &'static str) -> Flag {
        Flag {
            name,
            value: Some(value_name),
            help,
            default: None,
        }
    }

    /// Sets the value [`ServeArgs::value`] returns when the flag is not
    /// given (shown in the help as `(default VALUE)`).
    pub const fn default(mut self, value: &'static str) -> Flag {
        self.default = Some(value);
        self
    }
}

/// `--tls-cert PATH`: the PEM certificate chain a server presents (with
/// [`TLS_KEY`]; see [`ServeArgs::tls_files`]).
pub const TLS_CERT: Flag = Flag::value(
    "--tls-cert",
    "PATH",
    "serve TLS with this PEM certificate chain (with --tls-key)",
);
/// `--tls-key PATH`: the PEM private key of [`TLS_CERT`].
pub const TLS_KEY: Flag = Flag::value("--tls-key", "PATH", "the PEM private key of --tls-cert");

/// `--addr`, as shown in the help.
const ADDR_HELP: &str = "address to listen on";
/// `--workers`, as shown in the help.
const WORKERS_HELP: &str = "worker threads, each pinned to a CPU (default: one per CPU)";

/// A program's command line: its name, description, default port, flags
/// and positional words. Built in a `const`.
///
/// ```
/// use corering::cli::{Cli, Flag};
///
/// const CLI: Cli = Cli::new("proxy", "reverse proxy", 8081).flags(&[
///     Flag::value("--upstream", "HOST:PORT", "server to forward to").default("127.0.0.1:8080"),
/// ]);
///
/// let args = CLI.parse_from(["--workers", "2"]).unwrap();
/// assert_eq!(args.addr, "127.0.0.1:8081");
/// assert_eq!(args.workers, 2);
/// assert_eq!(args.value("--upstream"), Some("127.0.0.1:8080"));
///
/// let e = CLI.parse_from(["--bogus"]).unwrap_err();
/// assert_eq!(e.to_string(), "unknown flag --bogus");
/// assert!(CLI.help().contains("--upstream HOST:PORT"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Cli {
    name: &'static str,
    about: &'static str,
    default_port: u16,
    flags: &'static [Flag],
    words: Option<(&'static str, &'static str)>,
}

impl Cli {
    /// A program called `name` (in the usage and error lines), described
    /// by `about`, listening on `127.0.0.1:default_port` unless `--addr`
    /// says otherwise. It takes no other flags and no positional words.
    pub const fn new(name: &'static str, about: &'static str, default_port: u16) -> Cli {
        Cli {
            name,
            about,
            default_port,
            flags: &[],
            words: None,
        }
    }

    /// The program's own flags.
    pub const fn flags(mut self, flags: &'static [Flag]) -> Cli {
        self.flags = flags;
        self
    }

    /// Accepts positional words (`name` and `help` for the help text, e.g.
    /// `"COMMAND..."`), collected in [`ServeArgs::words`].
    pub const fn words(mut self, name: &'static str, help: &'static str) -> Cli {
        self.words = Some((name, help));
        self
    }

    /// The one-line usage: `usage: NAME [--addr HOST:PORT] [--workers N] [OPTIONS]`.
    pub fn usage(&self) -> String {
        let mut s = format!("usage: {} [--addr HOST:PORT] [--workers N]", self.name);
        if !self.flags.is_empty() {
            s.push_str(" [OPTIONS]");
        }
        if let Some((w, _)) = self.words {
            s.push_str(&format!(" [{w}]"));
        }
        s
    }

    /// The full help: description, usage, and every flag with its
    /// description and default.
    pub fn help(&self) -> String {
        let addr_default = format!("127.0.0.1:{}", self.default_port);
        let mut rows: Vec<(String, String)> = vec![
            (
                "--addr HOST:PORT".into(),
                format!("{ADDR_HELP} (default {addr_default})"),
            ),
            ("--workers N".into(), WORKERS_HELP.into()),
        ];
        for f in self.flags {
            let left = match f.value {
                Some(v) => format!("{} {v}", f.name),
                None => f.name.to_string(),
            };
            let right = match f.default {
                Some(d) => format!("{} (default {d})", f.help),
                None => f.help.to_string(),
            };
            rows.push((left, right));
        }
        rows.push(("-h, --help".into(), "print this help and exit".into()));
        let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        let mut s = format!("{}: {}\n\n{}\n", self.name, self.about, self.usage());
        if let Some((w, help)) = self.words {
            s.push_str(&format!("\n{w}: {help}\n"));
        }
        s.push_str("\noptions:\n");
        for (l, r) in rows {
            s.push_str(&format!("  {l:width$}  {r}\n"));
        }
        s
    }

    /// Parses `std::env::args()`. On `--help` prints the help to stdout
    /// and exits 0; on an error prints it and the usage to stderr and
    /// exits 2 (see [`Cli::fail`]).
    pub fn parse(&self) -> ServeArgs {
        match self.parse_from(std::env::args().skip(1)) {
            Ok(a) => a,
            Err(CliError::Help) => {
                print!("{}", self.help());
                std::process::exit(0);
            }
            Err(e) => self.fail(e),
        }
    }

    /// Prints `error: {msg}` and the usage to stderr and exits with code 2:
    /// for a value the program itself finds wrong.
    pub fn fail(&self, msg: impl fmt::Display) -> ! {
        eprintln!("error: {msg}");
        eprintln!("{}", self.usage());
        eprintln!("run `{} --help` for the list of flags", self.name);
        std::process::exit(2);
    }

    /// Parses the given arguments (without the program name).
    pub fn parse_from<I, S>(&self, args: I) -> Result<ServeArgs, CliError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut out = ServeArgs {
            addr: format!("127.0.0.1:{}", self.default_port),
            workers: 0,
            words: Vec::new(),
            flags: self.flags,
            given: Vec::new(),
        };
        let mut it = args.into_iter().map(Into::into);
        let mut flags_done = false;
        while let Some(arg) = it.next() {
            if flags_done || !is_flag(&arg) {
                if self.words.is_none() {
                    return Err(CliError::UnexpectedWord(arg));
                }
                out.words.push(arg);
                continue;
            }
            if arg == "--" {
                flags_done = true;
                continue;
            }
            if arg == "-h" || arg == "--help" {
                return Err(CliError::Help);
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (arg, None),
            };
            let value_name = match name.as_str() {
                "--addr" => Some("HOST:PORT"),
                "--workers" => Some("N"),
                _ => match self.flags.iter().find(|f| f.name == name) {
                    Some(f) => f.value,
                    None => return Err(CliError::UnknownFlag(name)),
                },
            };
            let value = match (value_name, inline) {
                (None, None) => None,
                (None, Some(_)) => return Err(CliError::UnexpectedValue(name)),
                (Some(_), Some(v)) => Some(v),
                (Some(v), None) => match it.next() {
                    Some(next) if !next.starts_with("--") => Some(next),
                    _ => {
                        return Err(CliError::MissingValue {
                            flag: name,
                            value: v,
                        })
                    }
                },
            };
            match name.as_str() {
                "--addr" => out.addr = value.unwrap_or_default(),
                "--workers" => {
                    let v = value.unwrap_or_default();
                    out.workers = v.parse().map_err(|_| CliError::BadValue {
                        flag: name,
                        value: v,
                        expected: "a number",
                    })?;
                }
                _ => {
                    let f = self.flag(&name).expect("found above");
                    out.given.retain(|(n, _)| *n != f.name);
                    out.given.push((f.name, value));
                }
            }
        }
        Ok(out)
    }

    fn flag(&self, name: &str) -> Option<&'static Flag> {
        self.flags.iter().find(|f| f.name == name)
    }
}

/// True for an argument that names a flag (`--x`, `-x`), not for a word
/// (`-5` is a word: a negative number).
fn is_flag(arg: &str) -> bool {
    match arg.strip_prefix('-') {
        Some(rest) => !rest.starts_with(|c: char| c.is_ascii_digit()),
        None => false,
    }
}

/// Why a command line was refused (or `--help`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CliError {
    /// `-h` or `--help` was given.
    Help,
    /// A flag the program does not declare.
    UnknownFlag(String),
    /// A flag that takes a value came last, or before another flag.
    MissingValue {
        /// The flag.
        flag: String,
        /// What its value is called (`N`).
        value: &'static str,
    },
    /// A switch was given a value (`--acceptor=yes`).
    UnexpectedValue(String),
    /// A value that does not parse.
    BadValue {
        /// The flag.
        flag: String,
        /// The value given.
        value: String,
        /// What was expected (`a number`).
        expected: &'static str,
    },
    /// A positional word, to a program that takes none.
    UnexpectedWord(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Help => f.write_str("help requested"),
            CliError::UnknownFlag(n) => write!(f, "unknown flag {n}"),
            CliError::MissingValue { flag, value } => {
                write!(f, "flag {flag} needs a value ({value})")
            }
            CliError::UnexpectedValue(n) => write!(f, "flag {n} takes no value"),
            CliError::BadValue {
                flag,
                value,
                expected,
            } => write!(f, "flag {flag}: expected {expected}, got {value:?}"),
            CliError::UnexpectedWord(w) => write!(f, "unexpected argument {w:?}"),
        }
    }
}

impl std::error::Error for CliError {}

/// A parsed command line.
///
/// ```
/// use corering::cli::{Cli, Flag};
/// const CLI: Cli = Cli::new("echo", "echo server", 7000).flags(&[
///     Flag::switch("--acceptor", "one accept thread"),
///     Flag::value("--unix", "PATH", "also listen on a Unix socket"),
/// ]);
/// let args = CLI
///     .parse_from(["--addr", "127.0.0.1:9000", "--workers=2", "--acceptor"])
///     .unwrap();
/// assert_eq!(args.addr, "127.0.0.1:9000");
/// assert_eq!(args.workers, 2);
/// assert!(args.flag("--acceptor"));
/// assert_eq!(args.value("--unix"), None);
/// ```
#[derive(Debug, Clone)]
pub struct ServeArgs {
    /// `--addr HOST:PORT` (default `127.0.0.1:<default_port>`).
    pub addr: String,
    /// `--workers N` (default 0: one per CPU).
    pub workers: usize,
    /// The positional words, in order (only for a [`Cli`] that takes
    /// [`words`](Cli::words)).
    pub words: Vec<String>,
    flags: &'static [Flag],
    /// The program's flags that were given, with their values (the last
    /// one wins).
    given: Vec<(&'static str, Option<String>)>,
}

impl ServeArgs {
    /// True if flag `name` was given.
    ///
    /// # Panics
    ///
    /// If the program did not declare `name` (a misspelt name would
    /// otherwise never be found).
    pub fn flag(&self, name: &str) -> bool {
        self.declared(name);
        self.given.iter().any(|(n, _)| *n == name)
    }

    /// The value given to flag `name`, or its declared default.
    ///
    /// # Panics
    ///
    /// If the program did not declare `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        let f = self.declared(name);
        match self.given.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => v.as_deref(),
            None => f.default,
        }
    }

    /// `--tls-cert` and `--tls-key` (declared with [`TLS_CERT`] and
    /// [`TLS_KEY`]): both paths, `None` if neither was given, or an error
    /// message if only one was.
    ///
    /// ```
    /// use corering::cli::{Cli, TLS_CERT, TLS_KEY};
    /// const CLI: Cli = Cli::new("web", "a server", 8443).flags(&[TLS_CERT, TLS_KEY]);
    /// let a = CLI.parse_from(["--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap();
    /// assert_eq!(a.tls_files(), Ok(Some(("c.pem", "k.pem"))));
    /// assert_eq!(CLI.parse_from(["--addr", "x:1"]).unwrap().tls_files(), Ok(None));
    /// assert!(CLI.parse_from(["--tls-key", "k.pem"]).unwrap().tls_files().is_err());
    /// ```
    pub fn tls_files(&self) -> Result<Option<(&str, &str)>, String> {
        match (self.value(TLS_CERT.name), self.value(TLS_KEY.name)) {
            (Some(c), Some(k)) => Ok(Some((c, k))),
            (None, None) => Ok(None),
            _ => Err("--tls-cert and --tls-key go together: give both (HTTPS) or neither".into()),
        }
    }

    fn declared(&self, name: &str) -> &'static Flag {
        self.flags
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("corering::cli: flag {name} was not declared"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLI: Cli = Cli::new("t", "test program", 7000)
        .flags(&[
            Flag::switch("--client", "client mode"),
            Flag::value("--wait", "MODE", "batching").default("on"),
        ])
        .words("COMMAND...", "what the client sends");

    fn parse(args: &[&str]) -> Result<ServeArgs, CliError> {
        CLI.parse_from(args.iter().copied())
    }

    #[test]
    fn defaults() {
        let a = parse(&[]).unwrap();
        assert_eq!(a.addr, "127.0.0.1:7000");
        assert_eq!(a.workers, 0);
        assert!(!a.flag("--client"));
        assert_eq!(a.value("--wait"), Some("on"));
        assert!(a.words.is_empty());
    }

    #[test]
    fn words_flags_and_negative_numbers() {
        let a = parse(&["--client", "--addr", "h:1", "incr", "x", "-5", "--wait=off"]).unwrap();
        assert!(a.flag("--client"));
        assert_eq!(a.addr, "h:1");
        assert_eq!(a.words, ["incr", "x", "-5"]);
        assert_eq!(a.value("--wait"), Some("off"));
        let a = parse(&["--", "--client"]).unwrap();
        assert!(!a.flag("--client"));
        assert_eq!(a.words, ["--client"]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(&["--bogus"]).unwrap_err(),
            CliError::UnknownFlag("--bogus".into())
        );
        assert_eq!(
            parse(&["-x"]).unwrap_err(),
            CliError::UnknownFlag("-x".into())
        );
        assert_eq!(
            parse(&["--workers"]).unwrap_err().to_string(),
            "flag --workers needs a value (N)"
        );
        assert!(matches!(
            parse(&["--wait", "--client"]).unwrap_err(),
            CliError::MissingValue { .. }
        ));
        assert!(matches!(
            parse(&["--workers", "two"]).unwrap_err(),
            CliError::BadValue { .. }
        ));
        assert_eq!(
            parse(&["--client=1"]).unwrap_err(),
            CliError::UnexpectedValue("--client".into())
        );
        assert_eq!(parse(&["--help"]).unwrap_err(), CliError::Help);
        let no_words = Cli::new("n", "no words", 1);
        assert_eq!(
            no_words.parse_from(["extra"]).unwrap_err(),
            CliError::UnexpectedWord("extra".into())
        );
    }

    #[test]
    fn help_lists_every_flag_with_its_default() {
        let h = CLI.help();
        for want in [
            "t: test program",
            "usage: t [--addr HOST:PORT] [--workers N] [OPTIONS] [COMMAND...]",
            "--addr HOST:PORT",
            "(default 127.0.0.1:7000)",
            "--workers N",
            "--client ",
            "client mode",
            "--wait MODE",
            "batching (default on)",
            "COMMAND...: what the client sends",
            "-h, --help",
        ] {
            assert!(h.contains(want), "{want:?} missing from:\n{h}");
        }
    }

    #[test]
    #[should_panic(expected = "--nope was not declared")]
    fn undeclared_lookup_panics() {
        parse(&[]).unwrap().flag("--nope");
    }
}
