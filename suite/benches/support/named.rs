//! A bench's loads and servers as the command line and the report tables name them:
//! [`Named`] (the name, aliases, every value in order, parsing), and [`named_enum!`],
//! which declares such an enum from one line per variant.

use super::Res;

/// A load or a server of a bench: what the report tables and `--only`/`--servers` call it.
pub trait Named: Copy + PartialEq + 'static {
    /// What a value is, in messages: `load`, `server`.
    const WHAT: &'static str;
    /// Every value, in the order the bench runs and reports them by default.
    const ALL: &'static [Self];

    /// The name in the tables and messages.
    fn name(self) -> &'static str;

    /// Other names the command line takes for it.
    fn aliases(self) -> &'static [&'static str] {
        &[]
    }

    /// The value whose name or alias is `s`; an error listing the names otherwise.
    fn parse(s: &str) -> Res<Self> {
        if let Some(&v) = Self::ALL
            .iter()
            .find(|v| v.name() == s || v.aliases().contains(&s))
        {
            return Ok(v);
        }
        let names: Vec<&str> = Self::ALL.iter().map(|v| v.name()).collect();
        Err(format!(
            "unknown {} {s:?} ({})",
            Self::WHAT,
            names.join(", ")
        ))
    }
}

/// Declares a fieldless enum and its [`Named`] impl, one line per variant: its name, then
/// any aliases.
///
/// ```ignore
/// named_enum! {
///     /// The loads.
///     enum Load: "load" {
///         Small = "4k" | "small",
///         Large = "1m" | "large",
///     }
/// }
/// ```
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        enum $ty:ident: $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $name:literal $(| $alias:literal)*),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        enum $ty {
            $($(#[$vmeta])* $variant,)+
        }

        impl $crate::support::named::Named for $ty {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &[$($ty::$variant),+];

            fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }

            fn aliases(self) -> &'static [&'static str] {
                match self {
                    $($ty::$variant => &[$($alias),*],)+
                }
            }
        }
    };
}
pub(crate) use named_enum;
