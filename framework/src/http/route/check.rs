//! The startup check of a router's states: every `State<T>` and
//! `Local<T>` its routes take must have been given.

use std::any::TypeId;
use std::fmt;

use super::extract::AppState;
use super::matcher::RouteInfo;

/// A state one extractor needs (made by the route macros through
/// [`FromRequest`](super::FromRequest)'s hidden `__needs`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Need {
    /// The state's type.
    pub type_id: TypeId,
    /// Its name, for the error.
    pub type_name: &'static str,
    /// `Local<T>` rather than `State<T>`.
    pub local: bool,
}

impl Need {
    /// What `State<T>` (or, with `local`, `Local<T>`) needs.
    pub fn of<T: 'static>(local: bool) -> Need {
        Need {
            type_id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
            local,
        }
    }
}

/// A route's needs, as the route attribute lists them.
#[doc(hidden)]
pub type NeedsFn = fn(&mut Vec<Need>);

/// Routes that ask for a state their router was not given: a server bug,
/// found at startup ([`Router::check`](super::Router::check)). Its
/// message lists each route and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingState {
    lines: Vec<String>,
}

impl fmt::Display for MissingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("routes ask for application state the router was not given:")?;
        for l in &self.lines {
            write!(f, "\n  {l}")?;
        }
        f.write_str("\n(give it with Router::with_state / Router::with_local_state)")
    }
}

impl std::error::Error for MissingState {}

impl MissingState {
    /// Collects into `out` what `routes` need and `state` lacks.
    pub(super) fn collect(
        out: &mut Vec<String>,
        prefix: &str,
        routes: &[RouteInfo],
        needs: &[NeedsFn],
        state: &AppState,
    ) {
        let mut buf = Vec::new();
        for (r, needs) in routes.iter().zip(needs) {
            buf.clear();
            needs(&mut buf);
            for n in &buf {
                let have = if n.local {
                    state.local_type()
                } else {
                    state.shared_type()
                };
                if have != Some(n.type_id) {
                    let ex = if n.local { "Local" } else { "State" };
                    out.push(format!(
                        "{} {prefix}{} (fn {}) takes {ex}<{}>",
                        r.method, r.path, r.name, n.type_name
                    ));
                }
            }
        }
    }

    pub(super) fn from_lines(lines: Vec<String>) -> Result<(), MissingState> {
        if lines.is_empty() {
            Ok(())
        } else {
            Err(MissingState { lines })
        }
    }
}
