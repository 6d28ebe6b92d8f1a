//! `JoinHandle<T>` is `Unpin` whatever `T` is: it only points at the task,
//! and the output is moved out, never pinned. Checked at compile time:
//! until it holds, this file does not compile.

/// Fails today to compile: the handle's `PhantomData<T>` makes it `Unpin`
/// only when `T` is, so `JoinHandle<PhantomPinned>` is `!Unpin` and cannot
/// be polled through `Pin::new(&mut handle)`.
#[test]
fn a_join_handle_is_unpin_even_when_its_output_is_not() {
    fn assert_unpin<T: Unpin>() {}
    assert_unpin::<edgeloop::JoinHandle<std::marker::PhantomPinned>>();
}
