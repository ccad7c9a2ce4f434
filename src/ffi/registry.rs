//! Sets of the objects the library has handed out and not yet taken back.
//!
//! Every pointer coming from C is looked up here before it is dereferenced, so a freed, foreign
//! or garbage pointer is reported (or ignored by the `_free` functions) instead of crashing the
//! host process. The lock is held while an object is read, so a concurrent `_free` cannot pull it
//! away in the middle of the read.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard};

/// The key of an object: its address inverted, so that the set holds no pointer values and leak
/// checkers (valgrind, LeakSanitizer) still report objects a caller forgot to free.
fn key<T>(object: *const T) -> usize {
    !(object as usize)
}

/// The live objects of one type (a `lsv_error*` passed where a `lsv_client*` is
/// expected is not found in the clients' registry).
pub(crate) struct Registry<T> {
    live: Mutex<BTreeSet<usize>>,
    kind: PhantomData<fn(T)>,
}

impl<T> Registry<T> {
    pub(crate) const fn new() -> Self {
        Registry {
            live: Mutex::new(BTreeSet::new()),
            kind: PhantomData,
        }
    }

    fn live(&self) -> MutexGuard<'_, BTreeSet<usize>> {
        // A set of integers cannot be left half-updated by a panic, so poisoning is irrelevant.
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records an object that was just leaked to C and returns it.
    pub(crate) fn insert(&self, object: *mut T) -> *mut T {
        self.live().insert(key(object));
        object
    }

    /// Forgets `object`; true when it was live, i.e. the caller now owns it and must drop it.
    pub(crate) fn remove(&self, object: *const T) -> bool {
        self.live().remove(&key(object))
    }

    /// Runs `read` on `object` if it is live; `None` for NULL, freed or unknown pointers.
    ///
    /// # Safety
    /// Every address in the registry must point to a live `T` (guaranteed when objects are only
    /// inserted right after being leaked and dropped only after a successful [`Registry::remove`]).
    pub(crate) unsafe fn with<R>(&self, object: *const T, read: impl FnOnce(&T) -> R) -> Option<R> {
        let live = self.live();
        if live.contains(&key(object)) {
            Some(read(&*object))
        } else {
            None
        }
    }
}
