//! Small in-memory rate limits, keyed by the client's address (or, for
//! sign-ins, also by the username tried). Nothing is written to disk:
//! addresses are personal data and a restart forgetting them is harmless.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::AppState;

/// At most `limit` events per `window` for each client (a sliding window).
pub struct RateLimiter<K = IpAddr> {
    limit: usize,
    window: Duration,
    hits: Mutex<Tracked<K>>,
}

/// Recent events by client, and when quiet clients were last forgotten.
struct Tracked<K> {
    clients: HashMap<K, VecDeque<Instant>>,
    swept: Instant,
}

/// Past this many tracked clients, forget the quiet ones before adding more.
const MAX_TRACKED: usize = 10_000;

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(limit: usize, window: Duration) -> Self {
        RateLimiter { limit, window, hits: Mutex::new(Tracked { clients: HashMap::new(), swept: Instant::now() }) }
    }

    /// Takes one of `client`'s slots at once, so requests arriving together
    /// cannot all pass a check before any is counted; `Err(wait)` when none
    /// is free. The slot is given back when the reservation is dropped,
    /// unless it is committed: only what was done counts.
    pub(crate) fn reserve(&self, client: K) -> Result<Reservation<'_, K>, Duration> {
        let at = self.take(client.clone())?;
        Ok(Reservation { limiter: self, client, at, committed: false })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tracked<K>> {
        self.hits.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks `client` and counts one event in the same step; the time it
    /// was counted at.
    fn take(&self, client: K) -> Result<Instant, Duration> {
        let now = Instant::now();
        let mut tracked = self.lock();
        // Addresses are personal data: one with no event inside the window
        // is forgotten at the next sweep, at least once a window (the
        // privacy notice tells readers so), and at once when too many are held.
        if tracked.clients.len() >= MAX_TRACKED || now.duration_since(tracked.swept) >= self.window {
            tracked.clients.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < self.window));
            tracked.swept = now;
        }
        let times = tracked.clients.entry(client).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.limit {
            let oldest = *times.front().expect("over the limit, so not empty");
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        times.push_back(now);
        Ok(now)
    }

    fn release(&self, client: &K, at: Instant) {
        let mut tracked = self.lock();
        if let Some(times) = tracked.clients.get_mut(client) {
            if let Some(index) = times.iter().rposition(|t| *t == at) {
                times.remove(index);
            }
            if times.is_empty() {
                tracked.clients.remove(client);
            }
        }
    }
}

/// One slot of a client's allowance, held while a request is handled.
#[must_use = "dropping a reservation gives the slot back at once"]
pub(crate) struct Reservation<'a, K: Hash + Eq + Clone = IpAddr> {
    limiter: &'a RateLimiter<K>,
    client: K,
    at: Instant,
    committed: bool,
}

impl<K: Hash + Eq + Clone> Reservation<'_, K> {
    /// Keeps the slot counted: the thing it was taken for was done.
    pub fn commit(mut self) {
        self.committed = true;
    }
}

impl<K: Hash + Eq + Clone> Drop for Reservation<'_, K> {
    fn drop(&mut self) {
        if !self.committed {
            self.limiter.release(&self.client, self.at);
        }
    }
}

/// The reader's address: from the connection, or from the last
/// X-Forwarded-For entry (the one our own proxy added) when the server is
/// told it sits behind one.
pub(crate) struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy {
            let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).next_back();
            if let Some(ip) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|ip| ip.trim().parse().ok()) {
                return Ok(ClientIp(ip));
            }
        }
        let connected = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        Ok(ClientIp(connected.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_gets_its_own_allowance() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        limiter.reserve(a).unwrap().commit();
        limiter.reserve(a).unwrap().commit();
        let wait = limiter.reserve(a).err().unwrap();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        limiter.reserve(b).unwrap().commit();
    }

    #[test]
    fn quiet_addresses_are_forgotten_once_their_window_has_passed() {
        let limiter = RateLimiter::new(5, Duration::from_millis(30));
        for last in 1..=50u8 {
            limiter.reserve(IpAddr::from([10, 0, 0, last])).unwrap().commit();
        }
        assert_eq!(limiter.lock().clients.len(), 50);
        std::thread::sleep(Duration::from_millis(40));
        limiter.reserve(IpAddr::from([10, 0, 1, 1])).unwrap().commit();
        assert_eq!(limiter.lock().clients.len(), 1, "only the address seen inside the window is kept");
    }

    #[test]
    fn the_window_slides() {
        let limiter = RateLimiter::new(1, Duration::from_millis(30));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        limiter.reserve(a).unwrap().commit();
        assert!(limiter.reserve(a).is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.reserve(a).is_ok());
    }

    #[test]
    fn a_reservation_holds_its_slot_until_dropped_and_counts_once_committed() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let first = limiter.reserve(a).unwrap();
        let second = limiter.reserve(a).unwrap();
        assert!(limiter.reserve(a).is_err(), "both slots are held while in use");
        drop(second);
        assert!(limiter.reserve(a).is_ok(), "a dropped reservation gives its slot back");
        first.commit();
        limiter.reserve(a).unwrap().commit();
        assert!(limiter.reserve(a).is_err(), "committed ones stay counted");
    }

    #[test]
    fn reservations_from_many_threads_never_exceed_the_limit() {
        let limiter = std::sync::Arc::new(RateLimiter::new(5, Duration::from_secs(60)));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(32));
        let threads: Vec<_> = (0..32)
            .map(|_| {
                let (limiter, barrier) = (limiter.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    limiter.reserve(a).map(Reservation::commit).is_ok()
                })
            })
            .collect();
        let granted = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
        assert_eq!(granted, 5);
    }
}
