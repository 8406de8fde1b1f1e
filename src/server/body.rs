//! Request bodies under the server's bounds: kept up to `--max-body`, the whole of it within
//! `--body-timeout` of the head, and given up at once when the server starts stopping. A refused
//! body (over the limit, or a request refused on its head) is read and thrown away after the
//! answer has gone out, up to [`DISCARD_FACTOR`] × `--max-body` and within `--body-timeout`: a
//! client that writes its whole body before reading (no `Expect: 100-continue`, as Python's urllib
//! and most SDKs) then finds the answer instead of a connection reset.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::watch;

use super::Refused;

/// How much of a refused body is read and discarded before the connection is closed anyway, as
/// a multiple of the body limit.
pub(super) const DISCARD_FACTOR: usize = 4;

/// Resolves once the server starts stopping; every connection holds a clone.
#[derive(Clone)]
pub(super) struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// The signal to send (`true`) when stopping, and the receiving side for the connections.
    pub(super) fn channel() -> (watch::Sender<bool>, Stopping) {
        let (stop, stopping) = watch::channel(false);
        (stop, Stopping(stopping))
    }

    async fn wait(&self) {
        // A dropped sender (the server gone) counts as stopping too.
        let _ = self.0.clone().wait_for(|stopping| *stopping).await;
    }
}

/// Reads the whole body, or says why it was not: over `max` bytes, not all there within
/// `timeout`, the server stopping, or broken off. The body stays with the caller, to be
/// [`discard`]ed when refused.
pub(super) async fn read(body: &mut Incoming, max: usize, timeout: Duration, stopping: &Stopping) -> Result<Bytes, Refused> {
    tokio::select! {
        // The body is usually in already: read before arming anything.
        biased;
        read = collect(body, max) => read,
        () = tokio::time::sleep(timeout) => Err(Refused::BodyTimeout),
        () = stopping.wait() => Err(Refused::Stopping),
    }
}

async fn collect(body: &mut Incoming, max: usize) -> Result<Bytes, Refused> {
    // Most bodies come in one frame, kept as it is; a second one starts a joined copy.
    let mut first = Bytes::new();
    let mut joined: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            tracing::debug!("could not read a request body: {e}");
            Refused::BodyUnreadable
        })?;
        let Ok(data) = frame.into_data() else { continue };
        total = total.saturating_add(data.len());
        if total > max {
            return Err(Refused::BodyTooLarge);
        }
        match &mut joined {
            Some(joined) => joined.extend_from_slice(&data),
            None if first.is_empty() => first = data,
            None => {
                let mut whole = BytesMut::with_capacity(max.min(2 * total));
                whole.extend_from_slice(&first);
                whole.extend_from_slice(&data);
                joined = Some(whole);
            }
        }
    }
    Ok(joined.map_or(first, BytesMut::freeze))
}

/// Reads and drops the rest of a refused body, up to `bound` bytes, within `timeout`, or until
/// the server stops; then lets go of it, and the connection closes.
pub(super) async fn discard(mut body: Incoming, bound: usize, timeout: Duration, stopping: Stopping) {
    let draining = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen = seen.saturating_add(frame.data_ref().map_or(0, Bytes::len));
            if seen > bound {
                return;
            }
        }
    };
    tokio::select! {
        () = draining => {}
        () = tokio::time::sleep(timeout) => {}
        () = stopping.wait() => {}
    }
}
