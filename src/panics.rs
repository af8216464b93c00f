//! Panics caught where they happen. A bug in the CEL interpreter (a `format` precision it
//! cannot allocate) or in a background job must fail that evaluation or that job, with
//! an error the user sees, and leave the process and the terminal as they were.
//!
//! The panic hook runs before unwinding reaches a `catch_unwind`, so a caught panic has
//! to be told apart there: inside [`guard`] (this thread) or [`guard_future`] (this
//! task) the hook only logs it; anywhere else it runs the previous hook (restore the
//! terminal, print the report).

use futures_util::FutureExt;
use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, PanicHookInfo};

thread_local! {
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

tokio::task_local! {
    static GUARDED_TASK: ();
}

/// `f`'s value, or what its panic said.
pub fn guard<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    GUARDED.with(|g| g.set(g.get() + 1));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    result.map_err(|payload| message(&*payload))
}

/// The future's output, or what its panic said.
pub async fn guard_future<F: Future>(f: F) -> Result<F::Output, String> {
    GUARDED_TASK
        .scope((), AssertUnwindSafe(f).catch_unwind())
        .await
        .map_err(|payload| message(&*payload))
}

/// Whether a panic now would be caught by [`guard`] or [`guard_future`].
pub fn guarded() -> bool {
    GUARDED.with(Cell::get) > 0 || GUARDED_TASK.try_with(|()| ()).is_ok()
}

/// Wraps the installed hook: caught panics are logged, the others go to it.
pub fn install() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info: &PanicHookInfo| {
        if guarded() {
            tracing::error!(panic = %info, "caught a panic; the evaluation or job fails with it");
        } else {
            previous(info);
        }
    }));
}

fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guarded_panic_is_its_message() {
        assert_eq!(guard(|| 1), Ok(1));
        let e = guard(|| -> u8 { panic!("precision {} too large", 7) }).unwrap_err();
        assert_eq!(e, "precision 7 too large");
        assert!(!guarded());
    }

    #[tokio::test]
    async fn a_guarded_future_panic_is_its_message() {
        let e = guard_future(async { panic!("boom") }).await;
        assert_eq!(e, Err::<(), _>("boom".to_string()));
        assert_eq!(guard_future(async { 2 }).await, Ok(2));
    }
}
