//! `Features`: a small type map carried by every connection, through which
//! layers pass context (peer identity, TLS details, user state), in the
//! manner of ASP.NET Core's connection features.

use std::any::{Any, TypeId};
use std::fmt;

/// A type-keyed map of values attached to a connection.
///
/// Empty maps allocate nothing; lookups are a linear scan, which beats
/// hashing for the handful of entries a connection carries.
///
/// ```
/// use corering::Features;
/// #[derive(Debug, PartialEq)]
/// struct UserId(u32);
/// let mut f = Features::new();
/// f.insert(UserId(7));
/// assert_eq!(f.get::<UserId>(), Some(&UserId(7)));
/// assert_eq!(f.remove::<UserId>(), Some(UserId(7)));
/// assert!(f.is_empty());
/// ```
#[derive(Default)]
pub struct Features {
    entries: Vec<(TypeId, Box<dyn Any>)>,
}

impl Features {
    /// An empty map.
    pub const fn new() -> Features {
        Features {
            entries: Vec::new(),
        }
    }

    /// Inserts `value`, returning the previous value of that type.
    pub fn insert<T: 'static>(&mut self, value: T) -> Option<T> {
        let id = TypeId::of::<T>();
        for (k, v) in &mut self.entries {
            if *k == id {
                let old = std::mem::replace(v, Box::new(value));
                return old.downcast::<T>().ok().map(|b| *b);
            }
        }
        self.entries.push((id, Box::new(value)));
        None
    }

    /// The value of type `T`, if present.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.entries
            .iter()
            .find(|(k, _)| *k == id)
            .and_then(|(_, v)| v.downcast_ref())
    }

    /// The value of type `T`, mutably, if present.
    pub fn get_mut<T: 'static>(&mut self) -> Option<&mut T> {
        let id = TypeId::of::<T>();
        self.entries
            .iter_mut()
            .find(|(k, _)| *k == id)
            .and_then(|(_, v)| v.downcast_mut())
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: 'static>(&mut self) -> Option<T> {
        let id = TypeId::of::<T>();
        let i = self.entries.iter().position(|(k, _)| *k == id)?;
        self.entries.swap_remove(i).1.downcast().ok().map(|b| *b)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Features")
            .field("len", &self.entries.len())
            .finish()
    }
}
