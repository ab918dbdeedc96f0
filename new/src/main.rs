//! `corering-new`: makes a new server crate from one of corering's
//! examples.
//!
//! ```text
//! cargo run -p corering-new -- NAME [--from hello|echo|kv|frames|chat|todo] [--path DIR]
//! ```
//!
//! The crate gets a `Cargo.toml` depending on corering (by path to the
//! checkout this tool was built from, or `--corering-version V` once
//! published), the example's sources as `src/`, a README with its two
//! commands, and `tests/smoke.rs`, which starts the server, talks to it
//! and stops it with SIGTERM. The same files, with cargo-generate's
//! placeholders, are in `templates/NAME/` for `cargo generate`.

mod render;
mod templates;

use std::path::PathBuf;
use std::process::ExitCode;

use render::{Dependency, Plan};

const USAGE: &str = "\
usage: corering-new NAME [--from TEMPLATE] [--path DIR] [--corering-path DIR | --corering-version V]

Makes a new corering server crate called NAME from one of corering's examples.

  --from TEMPLATE        the example to start from (default: hello)
  --path DIR             where to write the crate (default: ./NAME); must not exist or be empty
  --corering-path DIR    depend on corering at DIR (default: this checkout's framework/)
  --corering-version V   depend on corering V from crates.io instead of a path
  -h, --help             this text

Templates:";

fn usage() -> String {
    let mut s = USAGE.to_string();
    for t in templates::TEMPLATES {
        s += &format!("\n  {:<8} {}", t.name, t.about);
    }
    s
}

/// The command line, parsed.
struct Args {
    name: String,
    from: String,
    path: Option<PathBuf>,
    dependency: Option<Dependency>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut name = None;
    let mut from = "hello".to_string();
    let mut path = None;
    let mut dependency = None;
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--from" => from = value("--from")?,
            "--path" => path = Some(PathBuf::from(value("--path")?)),
            "--corering-path" => {
                dependency = Some(Dependency::Path(PathBuf::from(value("--corering-path")?)))
            }
            "--corering-version" => {
                dependency = Some(Dependency::Version(value("--corering-version")?))
            }
            flag if flag.starts_with('-') => return Err(format!("unknown flag {flag}")),
            word if name.is_none() => name = Some(word.to_string()),
            word => return Err(format!("unexpected argument {word:?} (one NAME only)")),
        }
    }
    let name = name.ok_or("missing the crate's NAME")?;
    Ok(Some(Args {
        name,
        from,
        path,
        dependency,
    }))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("corering-new: {e}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let Some(template) = templates::find(&args.from) else {
        let names: Vec<&str> = templates::TEMPLATES.iter().map(|t| t.name).collect();
        eprintln!(
            "corering-new: no template {:?}; there are: {}",
            args.from,
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let dir = args.path.unwrap_or_else(|| PathBuf::from(&args.name));
    let dependency = args.dependency.unwrap_or_else(Dependency::this_checkout);
    let plan = match Plan::new(&args.name, template, &dir, dependency) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("corering-new: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = plan.write() {
        eprintln!("corering-new: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "corering-new: made {} from the {} example in {}\n\n    cd {}\n    cargo run --release -- --addr 127.0.0.1:8080\n    cargo test",
        args.name,
        template.name,
        dir.display(),
        dir.display()
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Result<Option<Args>, String> {
        parse(words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn flags_and_errors() {
        let a = args(&["app", "--from", "kv", "--path", "/tmp/x"])
            .unwrap()
            .unwrap();
        assert_eq!((a.name.as_str(), a.from.as_str()), ("app", "kv"));
        assert_eq!(a.path, Some(PathBuf::from("/tmp/x")));
        assert!(args(&["--help"]).unwrap().is_none());
        assert_eq!(
            args(&["app", "--nope"]).err().unwrap(),
            "unknown flag --nope"
        );
        assert_eq!(
            args(&["app", "--from"]).err().unwrap(),
            "--from needs a value"
        );
        assert!(args(&[]).err().unwrap().contains("NAME"));
        assert!(args(&["a", "b"]).err().unwrap().contains("one NAME"));
    }
}
