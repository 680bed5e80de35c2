//! State that features keep in a session (opened DMs, NIP-05 badges, …)
//! without the session naming them: each feature's state is one value of
//! its own type, made on first use and kept for the session's life.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::session::Session;

/// One value per type, shared by the session's tasks.
#[derive(Default)]
pub(crate) struct FeatureState(Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl FeatureState {
    /// The value of type `T`, made with `T::default()` the first time.
    fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn Any + Send + Sync>);
        match Arc::clone(entry).downcast::<T>() {
            Ok(value) => value,
            // Unreachable: the entry under T's id is always a T.
            Err(_) => Arc::new(T::default()),
        }
    }
}

impl Session {
    /// A feature's state in this session (see [`FeatureState`]).
    pub(crate) fn feature<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        self.features.get::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Counter(std::sync::atomic::AtomicU32);

    #[test]
    fn one_value_per_type_made_once() {
        let state = FeatureState::default();
        state
            .get::<Counter>()
            .0
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            state
                .get::<Counter>()
                .0
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        assert!(state.get::<String>().is_empty());
    }
}
