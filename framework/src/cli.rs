//! The command line every corering example shares:
//! `--addr HOST:PORT` and `--workers N`, plus example-specific flags.

use std::io;

/// Parsed common server flags.
///
/// ```
/// let args = corering::cli::ServeArgs::parse_from(
///     ["--addr", "127.0.0.1:9000", "--workers", "2", "--acceptor"], 7000,
/// ).unwrap();
/// assert_eq!(args.addr, "127.0.0.1:9000");
/// assert_eq!(args.workers, 2);
/// assert!(args.flag("--acceptor"));
/// ```
#[derive(Debug, Clone)]
pub struct ServeArgs {
    /// `--addr HOST:PORT` (default `127.0.0.1:<default_port>`).
    pub addr: String,
    /// `--workers N` (default 0: one per CPU).
    pub workers: usize,
    /// Other arguments, in order, for the example to interpret.
    pub rest: Vec<String>,
}

impl ServeArgs {
    /// Parses `std::env::args()`; prints usage and exits on `--help` or on
    /// a malformed value.
    pub fn parse(default_port: u16) -> ServeArgs {
        match Self::parse_from(std::env::args().skip(1), default_port) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{e}");
                eprintln!(
                    "usage: {} [--addr HOST:PORT] [--workers N] [options]",
                    std::env::args().next().unwrap_or_default()
                );
                std::process::exit(if e.kind() == io::ErrorKind::Interrupted {
                    0
                } else {
                    2
                });
            }
        }
    }

    /// Parses the given arguments (without the program name).
    pub fn parse_from<I, S>(args: I, default_port: u16) -> io::Result<ServeArgs>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut out = ServeArgs {
            addr: format!("127.0.0.1:{default_port}"),
            workers: 0,
            rest: Vec::new(),
        };
        let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        let mut it = args.into_iter().map(Into::into);
        while let Some(a) = it.next() {
            match a.as_str() {
                "--addr" => {
                    out.addr = it
                        .next()
                        .ok_or_else(|| bad("--addr needs HOST:PORT".into()))?;
                }
                "--workers" => {
                    let v = it
                        .next()
                        .ok_or_else(|| bad("--workers needs a number".into()))?;
                    out.workers = v
                        .parse()
                        .map_err(|_| bad(format!("--workers: not a number: {v}")))?;
                }
                "-h" | "--help" => {
                    return Err(io::Error::new(io::ErrorKind::Interrupted, "help requested"));
                }
                _ => out.rest.push(a),
            }
        }
        Ok(out)
    }

    /// True if `name` was given as a flag.
    pub fn flag(&self, name: &str) -> bool {
        self.rest.iter().any(|a| a == name)
    }

    /// The value after option `name`, if given.
    pub fn value(&self, name: &str) -> Option<&str> {
        let i = self.rest.iter().position(|a| a == name)?;
        self.rest.get(i + 1).map(String::as_str)
    }
}
