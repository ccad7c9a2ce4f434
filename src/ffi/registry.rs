//! What the library has handed out and not yet taken back, so that every pointer coming from C
//! is checked before use.
//!
//! - [`Handles`]: clients and error objects. The "pointer" C holds is an id, never an address:
//!   a slot index plus the slot's generation plus a tag for the object type. Freeing bumps the
//!   slot's generation, so a stale handle (freed, even when its slot was reused by a later
//!   object), a garbage value or a handle of the other type reaches no live object. The
//!   objects live inside the table; nothing is dereferenced through a caller's pointer.
//! - [`LiveSet`]: `char *` strings, which must be real addresses. Unknown pointers are
//!   ignored, but an address the allocator reused for a newer string is that string's.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The tables hold plain data whose updates cannot be left half done by a panic.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bits of an id: the low half is the slot index + 1 (so no id is NULL), the high half the
/// slot's generation shifted left by [`TAG_BITS`] plus the type tag.
const HALF: u32 = usize::BITS / 2;
const TAG_BITS: u32 = 4;
const INDEX_MASK: usize = (1 << HALF) - 1;
/// Generations wrap after this many frees of one slot (2^28 on 64-bit targets).
const GENERATION_MASK: usize = (1 << (HALF - TAG_BITS)) - 1;

struct Slot<T> {
    generation: usize,
    object: Option<Box<T>>,
}

struct Table<T> {
    slots: Vec<Slot<T>>,
    /// Indices of empty slots, reused last-freed first.
    free: Vec<usize>,
}

/// The live objects of one type, addressed by generation-tagged ids.
pub(crate) struct Handles<T> {
    /// Distinguishes the id spaces of the object types (1..=15).
    tag: usize,
    table: Mutex<Table<T>>,
}

impl<T> Handles<T> {
    pub(crate) const fn new(tag: usize) -> Self {
        assert!(tag > 0 && tag < 1 << TAG_BITS);
        Handles {
            tag,
            table: Mutex::new(Table {
                slots: Vec::new(),
                free: Vec::new(),
            }),
        }
    }

    fn id(&self, index: usize, generation: usize) -> *mut T {
        let high = (generation << TAG_BITS) | self.tag;
        ((high << HALF) | (index + 1)) as *mut T
    }

    /// The slot index an id names, if its tag and generation are current.
    fn index_of(&self, table: &Table<T>, id: *const T) -> Option<usize> {
        let id = id as usize;
        let index = (id & INDEX_MASK).checked_sub(1)?;
        let high = id >> HALF;
        let slot = table.slots.get(index)?;
        (high & ((1 << TAG_BITS) - 1) == self.tag
            && high >> TAG_BITS == slot.generation
            && slot.object.is_some())
        .then_some(index)
    }

    /// Stores `object` and returns its new id for C; `None` (and `object` dropped) when every
    /// id is taken, which only a 32-bit host leaking tens of thousands of handles can reach.
    pub(crate) fn insert(&self, object: T) -> Option<*mut T> {
        let mut table = lock(&self.table);
        let index = match table.free.pop() {
            Some(index) => index,
            None if table.slots.len() < INDEX_MASK => {
                table.slots.push(Slot {
                    generation: 0,
                    object: None,
                });
                table.slots.len() - 1
            }
            None => return None,
        };
        let slot = &mut table.slots[index];
        slot.object = Some(Box::new(object));
        let generation = slot.generation;
        Some(self.id(index, generation))
    }

    /// Takes the object out; `None` for NULL, stale, foreign or garbage ids. The caller drops
    /// it (outside the table's lock).
    pub(crate) fn remove(&self, id: *const T) -> Option<Box<T>> {
        let mut table = lock(&self.table);
        let index = self.index_of(&table, id)?;
        let slot = &mut table.slots[index];
        slot.generation = (slot.generation + 1) & GENERATION_MASK;
        let object = slot.object.take();
        table.free.push(index);
        object
    }

    /// Runs `read` on the object `id` names; `None` for NULL, stale, foreign or garbage ids.
    /// The lock is held meanwhile, so a concurrent `remove` cannot pull the object away.
    pub(crate) fn with<R>(&self, id: *const T, read: impl FnOnce(&T) -> R) -> Option<R> {
        let table = lock(&self.table);
        let index = self.index_of(&table, id)?;
        table.slots[index].object.as_deref().map(read)
    }
}

/// Addresses of live objects of one type (the `char *` strings).
pub(crate) struct LiveSet<T> {
    // Keys are inverted addresses, so that the set holds no pointer values and leak checkers
    // (valgrind, LeakSanitizer) still report strings a caller forgot to free.
    live: Mutex<BTreeSet<usize>>,
    kind: PhantomData<fn(T)>,
}

impl<T> LiveSet<T> {
    pub(crate) const fn new() -> Self {
        LiveSet {
            live: Mutex::new(BTreeSet::new()),
            kind: PhantomData,
        }
    }

    /// Records an object that was just leaked to C and returns it.
    pub(crate) fn insert(&self, object: *mut T) -> *mut T {
        lock(&self.live).insert(!(object as usize));
        object
    }

    /// Forgets `object`; true when it was live, i.e. the caller now owns it and must drop it.
    pub(crate) fn remove(&self, object: *const T) -> bool {
        lock(&self.live).remove(&!(object as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_slot_gets_a_new_id_and_the_old_one_stays_dead() {
        let handles: Handles<String> = Handles::new(1);
        let first = handles.insert("first".into()).unwrap();
        assert_eq!(handles.with(first, |s| s.clone()).as_deref(), Some("first"));
        assert_eq!(
            handles.remove(first).as_deref().map(String::as_str),
            Some("first")
        );
        let second = handles.insert("second".into()).unwrap();
        assert_ne!(first, second, "same slot, new generation");
        assert_eq!(handles.with(first, |s| s.clone()), None);
        assert!(handles.remove(first).is_none(), "a second free is ignored");
        assert_eq!(
            handles.with(second, |s| s.clone()).as_deref(),
            Some("second")
        );
    }

    #[test]
    fn ids_of_another_type_null_and_garbage_are_unknown() {
        let clients: Handles<u8> = Handles::new(1);
        let errors: Handles<u8> = Handles::new(2);
        let client = clients.insert(7).unwrap();
        let error = errors.insert(9).unwrap();
        assert_eq!(errors.with(client.cast_const(), |v| *v), None);
        assert_eq!(clients.with(error.cast_const(), |v| *v), None);
        for garbage in [0usize, 1, 0xdead_beef, usize::MAX] {
            assert_eq!(
                clients.with(garbage as *const u8, |v| *v),
                None,
                "{garbage:#x}"
            );
        }
        assert_eq!(clients.with(client, |v| *v), Some(7));
    }
}
