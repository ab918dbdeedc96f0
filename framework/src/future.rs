//! Small future combinators the engine's users need and `std` lacks.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

/// Which of two futures given to [`race`] finished first, with its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future's output.
    Left(A),
    /// The second future's output.
    Right(B),
}

/// Runs `a` and `b` on the current task and resolves with whichever
/// finishes first; the other is dropped. `a` is polled first, so if both
/// are ready it wins. Allocates nothing.
///
/// Dropping a [`Connection::read`](crate::Connection::read) this way is
/// safe: a buffer that arrives meanwhile waits for the next read. So one
/// task can serve two connections, as a tunnel does:
///
/// ```no_run
/// use corering::future::{race, Either};
/// use corering::Connection;
///
/// /// Copies bytes both ways until either side closes.
/// async fn tunnel(mut a: Connection, mut b: Connection) {
///     loop {
///         match race(a.read(), b.read()).await {
///             Either::Left(Ok(Some(data))) => {
///                 if b.write_all(&data).await.is_err() {
///                     return;
///                 }
///             }
///             Either::Right(Ok(Some(data))) => {
///                 if a.write_all(&data).await.is_err() {
///                     return;
///                 }
///             }
///             _ => return,
///         }
///     }
/// }
/// ```
pub async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(v) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(v));
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::{pending, ready};

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("not ready"),
        }
    }

    #[test]
    fn first_ready_wins_and_left_breaks_ties() {
        assert_eq!(block_on(race(ready(1), ready("b"))), Either::Left(1));
        assert_eq!(
            block_on(race(pending::<u8>(), ready("b"))),
            Either::Right("b")
        );
        assert_eq!(block_on(race(ready(1), pending::<()>())), Either::Left(1));
    }
}
