//! The last snapshot of a kind (the status, the segment table), shared by every client that
//! asks within [`FRESH`] of it: however many consoles poll, the daemon's loop builds at most a
//! few snapshots a second, and each is serialised once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long a snapshot is answered again rather than asked for anew (a console polls every
/// 500 ms).
pub const FRESH: Duration = Duration::from_millis(100);

#[derive(Default)]
pub struct SnapshotCache(Mutex<Option<(Instant, Arc<str>)>>);

impl SnapshotCache {
    /// The snapshot as JSON: the cached one if it is fresh, else what `ask` gets (`None`: the
    /// daemon did not answer). Clients asking while one is being built wait for it.
    pub async fn get<F, Fut>(&self, ask: F) -> Option<Arc<str>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Option<Arc<str>>>,
    {
        let mut slot = self.0.lock().await;
        if let Some((at, json)) = slot.as_ref()
            && at.elapsed() < FRESH
        {
            return Some(json.clone());
        }
        let json = ask().await?;
        *slot = Some((Instant::now(), json.clone()));
        Some(json)
    }

    /// Forgets the cached snapshot (after a reload: the next one shows its effect).
    pub async fn clear(&self) {
        *self.0.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_fresh_status_is_shared_and_a_stale_one_asked_again() {
        let cache = SnapshotCache::default();
        let asked = std::cell::Cell::new(0);
        let ask = || {
            asked.set(asked.get() + 1);
            let n = asked.get();
            async move { Some(Arc::from(format!("{{\"n\":{n}}}"))) }
        };
        assert_eq!(&*cache.get(ask).await.unwrap(), "{\"n\":1}");
        assert_eq!(&*cache.get(ask).await.unwrap(), "{\"n\":1}");
        assert_eq!(asked.get(), 1);
        tokio::time::advance(FRESH).await;
        assert_eq!(&*cache.get(ask).await.unwrap(), "{\"n\":2}");
        cache.clear().await;
        assert_eq!(&*cache.get(ask).await.unwrap(), "{\"n\":3}");
        assert_eq!(asked.get(), 3);
    }
}
