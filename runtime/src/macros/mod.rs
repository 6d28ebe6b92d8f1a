//! `join!`, `try_join!` and `select!`: waiting for several futures inside
//! one task. Declarative macros; what they expand to uses [`support`].
//!
//! All of them poll their futures inside the task that runs the macro, on
//! its thread: the futures need not be `Send`, and there is no spawn.

#[doc(hidden)]
pub mod support;

/// Waits for every future given and returns their outputs, in order, as a
/// tuple. The futures run concurrently within the calling task (each poll
/// of the task polls the ones not yet finished).
///
/// ```
/// use std::time::Duration;
/// edgeloop::block_on(async {
///     let (a, b) = edgeloop::join!(
///         async { 1 },
///         async {
///             edgeloop::time::sleep(Duration::from_millis(1)).await;
///             "two"
///         },
///     );
///     assert_eq!((a, b), (1, "two"));
/// });
/// ```
#[macro_export]
macro_rules! join {
    (@ [$($done:ident)*]) => {{
        $( let mut $done = $crate::macros::support::pin!($done); )*
        $crate::macros::support::poll_fn(|cx| {
            let mut all = true;
            $( all &= $crate::macros::support::MaybeDone::poll_done($done.as_mut(), cx); )*
            if all {
                $crate::macros::support::PollResult::Ready((
                    $( $crate::macros::support::MaybeDone::take($done.as_mut()), )*
                ))
            } else {
                $crate::macros::support::PollResult::Pending
            }
        })
        .await
    }};
    (@ [$($done:ident)*] $fut:expr $(, $rest:expr)*) => {{
        // A new `fut` per step: hygiene keeps each one its own binding.
        let fut = $crate::macros::support::MaybeDone::new($fut);
        $crate::join!(@ [$($done)* fut] $($rest),*)
    }};
    ($($fut:expr),+ $(,)?) => {
        $crate::join!(@ [] $($fut),+)
    };
}

/// Like [`join!`] for futures whose outputs are `Result`s: `Ok` with a tuple
/// of the values if all succeed, or the first `Err` as soon as one fails
/// (the other futures are then dropped).
///
/// ```
/// edgeloop::block_on(async {
///     let ok: Result<(u8, u8), &str> = edgeloop::try_join!(async { Ok(1) }, async { Ok(2) });
///     assert_eq!(ok, Ok((1, 2)));
///     let failed: Result<(u8, u8), &str> =
///         edgeloop::try_join!(async { Ok(1) }, async { Err("no") });
///     assert_eq!(failed, Err("no"));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    (@ [$($done:ident)*]) => {{
        $( let mut $done = $crate::macros::support::pin!($done); )*
        $crate::macros::support::poll_fn(|cx| {
            let mut all = true;
            $(
                all &= $crate::macros::support::MaybeDone::poll_done($done.as_mut(), cx);
                if $done.is_err() {
                    return $crate::macros::support::PollResult::Ready(::core::result::Result::Err(
                        $crate::macros::support::MaybeDone::take_err($done.as_mut()),
                    ));
                }
            )*
            if all {
                $crate::macros::support::PollResult::Ready(::core::result::Result::Ok((
                    $( $crate::macros::support::MaybeDone::take_ok($done.as_mut()), )*
                )))
            } else {
                $crate::macros::support::PollResult::Pending
            }
        })
        .await
    }};
    (@ [$($done:ident)*] $fut:expr $(, $rest:expr)*) => {{
        let fut = $crate::macros::support::MaybeDone::new($fut);
        $crate::try_join!(@ [$($done)* fut] $($rest),*)
    }};
    ($($fut:expr),+ $(,)?) => {
        $crate::try_join!(@ [] $($fut),+)
    };
}

/// Waits on several futures at once and runs the branch of the first one
/// to finish; the others are dropped (cancelled) when `select!` returns.
///
/// ```text
/// select! {
///     [biased;]
///     <pattern> = <future> [, if <condition>] => <handler>,
///     ...
///     [else => <handler>]
/// }
/// ```
///
/// - Every `if <condition>` is evaluated first, in order (a branch whose
///   condition is false is disabled from the start), then every `<future>`
///   expression, the disabled ones' included.
/// - The enabled futures are polled in turn — starting from a different
///   branch each time, so none starves, or in the written order after
///   `biased;`. The first whose output matches its `<pattern>` wins: the
///   others are dropped and its `<handler>` runs, with the pattern's
///   bindings. An output that does not match disables its branch for the
///   rest of this `select!`.
/// - If every branch is (or becomes) disabled, the `else` handler runs; with
///   no `else`, that panics.
/// - Handlers run outside the polling, in the caller's code: they may
///   `.await`, `break`, `continue` or `return`.
///
/// Only cancel-safe futures belong in a `select!` that runs in a loop: a
/// losing future is dropped, and whatever it had half done is lost. Each
/// function's docs say whether it is cancel-safe (a channel `recv`, `accept`,
/// a `sleep` are; `read_exact` is not).
///
/// ```
/// use std::time::Duration;
/// use edgeloop::time::sleep;
///
/// edgeloop::block_on(async {
///     let winner = edgeloop::select! {
///         _ = sleep(Duration::from_secs(10)) => "slow",
///         n = async { 7 } => if n == 7 { "fast" } else { "odd" },
///     };
///     assert_eq!(winner, "fast");
///
///     let mut polls = 0;
///     let result = edgeloop::select! {
///         biased;
///         Some(x) = async { None::<u8> } => x,
///         _ = async { polls += 1 }, if polls > 100 => 0,
///         else => 42,
///     };
///     assert_eq!(result, 42, "the first branch's output did not match, the second was off");
/// });
/// ```
#[macro_export]
macro_rules! select {
    (biased; $($branches:tt)*) => {
        $crate::select!(@parse (true) [] []; $($branches)*)
    };
    (@parse $b:tt [$($br:tt)*] [$($else:tt)*]; else => $h:block $(,)?) => {
        $crate::select!(@gen $b [] [$($br)*] [$h] (0))
    };
    (@parse $b:tt [$($br:tt)*] [$($else:tt)*]; else => $h:expr $(,)?) => {
        $crate::select!(@gen $b [] [$($br)*] [$h] (0))
    };
    (@parse $b:tt [$($br:tt)*] [$($else:tt)*]; $p:pat = $f:expr, if $c:expr => $h:block $(, $($rest:tt)*)?) => {
        $crate::select!(@parse $b [$($br)* (($p) ($f) ($c) ($h))] [$($else)*]; $($($rest)*)?)
    };
    (@parse $b:tt [$($br:tt)*] [$($else:tt)*]; $p:pat = $f:expr, if $c:expr => $h:block $($rest:tt)*) => {
        $crate::select!(@parse $b [$($br)* (($p) ($f) ($c) ($h))] [$($else)*]; $($rest)*)
    };
    (@parse $b:tt [$($br:tt)*] [$($else:tt)*]; $p:pat = $f:expr, if $c:expr => $h:expr $(, $($rest:tt)*)?) => {
        $crate::select!(@parse $b [$($br)* (($p) ($f) ($c) ($h))] [$($else)*]; $($($rest)*)?)
    };
    (@parse $b:tt [$($br:tt)*] [$($else:tt)*]; $p:pat = $f:expr => $h:block $(, $($rest:tt)*)?) => {
        $crate::select!(@parse $b [$($br)* (($p) ($f) (true) ($h))] [$($else)*]; $($($rest)*)?)
    };
    (@parse $b:tt [$($br:tt)*] [$($else:tt)*]; $p:pat = $f:expr => $h:block $($rest:tt)*) => {
        $crate::select!(@parse $b [$($br)* (($p) ($f) (true) ($h))] [$($else)*]; $($rest)*)
    };
    (@parse $b:tt [$($br:tt)*] [$($else:tt)*]; $p:pat = $f:expr => $h:expr $(, $($rest:tt)*)?) => {
        $crate::select!(@parse $b [$($br)* (($p) ($f) (true) ($h))] [$($else)*]; $($($rest)*)?)
    };
    (@parse $b:tt [$($br:tt)*] [$($else:tt)*];) => {
        $crate::select!(@gen $b [] [$($br)*] [
            ::core::panic!("edgeloop::select!: every branch is disabled and there is no `else` branch")
        ] (0))
    };
    // First every condition, in order (as tokio does), each into a binding
    // of its own (hygiene keeps each step's names apart)...
    (@gen $b:tt [$($done:tt)*] [(($p:pat) ($f:expr) ($c:expr) ($h:expr)) $($todo:tt)*] [$else:expr] ($k:expr)) => {{
        let off = !$c;
        $crate::select!(@gen $b [$($done)* (off ($k) ($p) ($f) ($h))] [$($todo)*] [$else] ($k + 1))
    }};
    // ... then every future, with its output slot ...
    (@gen $b:tt [$($done:tt)*] [] [$else:expr] ($n:expr)) => {
        $crate::select!(@futs $b [] [$($done)*] [$else] ($n))
    };
    (@futs $b:tt [$($ready:tt)*] [($off:ident ($k:expr) ($p:pat) ($f:expr) ($h:expr)) $($todo:tt)*] [$else:expr] ($n:expr)) => {{
        let fut = $f;
        let out = ::core::option::Option::None;
        $crate::select!(@futs $b [$($ready)* ($off fut out ($k) ($p) ($h))] [$($todo)*] [$else] ($n))
    }};
    // ... and the polling.
    (@futs $b:tt [$(($off:ident $fut:ident $out:ident ($k:expr) ($p:pat) ($h:expr)))*] [] [$else:expr] ($n:expr)) => {{
        $( let mut $fut = $crate::macros::support::pin!($fut); let mut $out = $out; let mut $off = $off; )*
        let start: u32 = if $b { 0 } else { $crate::macros::support::start_index($n) };
        let won = $crate::macros::support::poll_fn(|cx| {
            for turn in 0..($n as u32) {
                let branch = (start + turn) % ($n as u32);
                $(
                    if branch == ($k as u32) && !$off {
                        if let $crate::macros::support::PollResult::Ready(value) =
                            ::core::future::Future::poll($fut.as_mut(), cx)
                        {
                            #[allow(unused_variables, unused_mut, unreachable_patterns)]
                            let matched = match &value {
                                $p => true,
                                _ => false,
                            };
                            if matched {
                                $out = ::core::option::Option::Some(value);
                                return $crate::macros::support::PollResult::Ready(true);
                            }
                            $off = true;
                        }
                    }
                )*
            }
            let enabled = false $(|| !$off)*;
            if enabled {
                $crate::macros::support::PollResult::Pending
            } else {
                $crate::macros::support::PollResult::Ready(false)
            }
        })
        .await;
        if won {
            $(
                if let ::core::option::Option::Some(value) = $out.take() {
                    #[allow(unreachable_patterns)]
                    match value {
                        $p => $h,
                        _ => ::core::unreachable!("edgeloop::select!: the winning output matched its pattern"),
                    }
                } else
            )* {
                ::core::unreachable!("edgeloop::select!: a branch won")
            }
        } else {
            $else
        }
    }};
    ($($branches:tt)*) => {
        $crate::select!(@parse (false) [] []; $($branches)*)
    };
}
