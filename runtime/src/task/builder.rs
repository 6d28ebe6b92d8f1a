//! `task::Builder`: spawning with a name.

use std::future::Future;
use std::io;

use super::JoinHandle;
use crate::context;

/// Spawns a task with settings: for now, a name that traces show next to
/// the task's [`Id`](super::Id).
///
/// ```
/// edgeloop::block_on(async {
///     let handle = edgeloop::task::Builder::new()
///         .name("conn 127.0.0.1:5123")
///         .spawn(async { 1 + 1 })?;
///     assert_eq!(handle.await?, 2);
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// Settings with nothing set.
    pub fn new() -> Builder<'a> {
        Builder::default()
    }

    /// Names the task. The name is kept only while the runtime traces (see
    /// [`crate::trace`]); it costs nothing otherwise.
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// Spawns `future` on the current runtime, as [`spawn`](super::spawn)
    /// does. The `io::Result` is tokio's shape; spawning itself never fails
    /// here.
    ///
    /// # Panics
    /// Outside an edgeloop runtime.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
    {
        let name = self.name;
        Ok(context::expect_core(
            "edgeloop::task::Builder::spawn",
            |core| core.spawn_named(future, name),
        ))
    }
}
