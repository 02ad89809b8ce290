//! A fair share of connections for each client. `--max-connections` is
//! shared by everyone, so without this one address holding many open
//! connections (idle, or sending its headers slowly) could take every slot
//! and make the site busy for all other readers.
//!
//! Connections are counted when they are accepted, before a byte is read,
//! so sending nothing does not get round the count, and each one is given
//! back when its guard is dropped, however the connection ends.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

/// Open connections by client, at most `limit` each. Clones share counts.
#[derive(Clone)]
pub(crate) struct ConnectionLimit {
    shared: Arc<Shared>,
}

struct Shared {
    limit: usize,
    /// Only clients with a connection open are kept: the map holds no more
    /// entries than there are open connections, and no address outlives
    /// its last connection.
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl ConnectionLimit {
    pub fn new(limit: usize) -> Self {
        ConnectionLimit { shared: Arc::new(Shared { limit, open: Mutex::new(HashMap::new()) }) }
    }

    /// Counts one more connection from `peer` if its client has fewer than
    /// the limit open; `None` when it has them all. Checked and counted
    /// under one lock, so connections accepted together cannot all pass.
    pub fn try_open(&self, peer: IpAddr) -> Option<OpenConnection> {
        let client = client_of(peer);
        let mut open = self.shared.lock();
        let count = open.entry(client).or_insert(0);
        if *count >= self.shared.limit {
            if *count == 0 {
                // A limit of 0 is "no connections at all"; don't keep the
                // empty entry the check just made.
                open.remove(&client);
            }
            return None;
        }
        *count += 1;
        Some(OpenConnection { shared: self.shared.clone(), client })
    }

    #[cfg(test)]
    fn open_for(&self, peer: IpAddr) -> usize {
        self.shared.lock().get(&client_of(peer)).copied().unwrap_or(0)
    }

    #[cfg(test)]
    fn clients(&self) -> usize {
        self.shared.lock().len()
    }
}

impl Shared {
    /// A panic elsewhere while the lock was held leaves the counts whole
    /// (each change is one step), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One counted connection; dropping it (the connection ended, timed out or
/// its task panicked) gives the count back.
#[must_use = "dropping it gives the connection's count back at once"]
pub(crate) struct OpenConnection {
    shared: Arc<Shared>,
    client: IpAddr,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let mut open = self.shared.lock();
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// Who a connection counts against: an IPv4 address, or an IPv6 /64, since
/// one home or office is usually given a whole /64 and can use any address
/// in it. IPv4 clients of a dual-stack listener arrive as `::ffff:a.b.c.d`
/// and count as their IPv4 address.
fn client_of(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn each_client_may_open_up_to_the_limit_and_no_more() {
        let limit = ConnectionLimit::new(2);
        let first = limit.try_open(ip("10.0.0.1")).expect("first");
        let _second = limit.try_open(ip("10.0.0.1")).expect("second");
        assert!(limit.try_open(ip("10.0.0.1")).is_none(), "a third from the same address");
        assert!(limit.try_open(ip("10.0.0.2")).is_some(), "another address has its own share");
        drop(first);
        assert!(limit.try_open(ip("10.0.0.1")).is_some(), "a closed connection gives its count back");
    }

    #[test]
    fn clients_are_forgotten_when_their_last_connection_closes() {
        let limit = ConnectionLimit::new(3);
        let held: Vec<_> = (1..=200u8).map(|last| limit.try_open(IpAddr::from([10, 0, 0, last])).unwrap()).collect();
        let twice = limit.try_open(ip("10.0.0.7")).unwrap();
        assert_eq!(limit.clients(), 200);
        assert_eq!(limit.open_for(ip("10.0.0.7")), 2);
        drop(held);
        assert_eq!(limit.clients(), 1, "only the address still connected is kept");
        drop(twice);
        assert_eq!(limit.clients(), 0);
        assert!(limit.try_open(ip("10.0.0.1")).is_some() && limit.clients() == 0, "the guard was dropped at once");
    }

    #[test]
    fn a_refused_connection_leaves_nothing_behind() {
        let limit = ConnectionLimit::new(0);
        assert!(limit.try_open(ip("10.0.0.1")).is_none());
        assert_eq!(limit.clients(), 0);
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64_and_ipv4_by_address() {
        let limit = ConnectionLimit::new(2);
        let _a = limit.try_open(ip("2001:db8:1:2::1")).unwrap();
        let _b = limit.try_open(ip("2001:db8:1:2:ffff:eeee:dddd:cccc")).unwrap();
        assert!(limit.try_open(ip("2001:db8:1:2:1234::9")).is_none(), "the same /64");
        assert!(limit.try_open(ip("2001:db8:1:3::1")).is_some(), "the next /64 is another client");
        let _c = limit.try_open(ip("192.0.2.1")).unwrap();
        let _d = limit.try_open(ip("::ffff:192.0.2.1")).unwrap();
        assert!(limit.try_open(ip("192.0.2.1")).is_none(), "IPv4 as seen by a dual-stack listener is the same client");
        assert!(limit.try_open(ip("192.0.2.2")).is_some(), "the next IPv4 address is another client");
    }

    #[test]
    fn a_connection_whose_task_panics_still_gives_its_count_back() {
        let limit = ConnectionLimit::new(1);
        let open = limit.try_open(ip("10.0.0.1")).unwrap();
        let result = std::thread::spawn(move || {
            let _open = open;
            panic!("the connection's task failed");
        })
        .join();
        assert!(result.is_err());
        assert_eq!(limit.clients(), 0);
        assert!(limit.try_open(ip("10.0.0.1")).is_some());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn connections_accepted_together_from_many_tasks_never_exceed_the_limit() {
        let limit = ConnectionLimit::new(5);
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let barrier = Arc::new(tokio::sync::Barrier::new(64));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (limit, most, barrier) = (limit.clone(), most.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let mut granted = 0;
                    for _ in 0..200 {
                        if let Some(open) = limit.try_open(ip("10.0.0.1")) {
                            granted += 1;
                            most.fetch_max(limit.open_for(ip("10.0.0.1")), std::sync::atomic::Ordering::Relaxed);
                            tokio::task::yield_now().await;
                            drop(open);
                        }
                    }
                    granted
                })
            })
            .collect();
        let mut granted = 0;
        for task in tasks {
            granted += task.await.unwrap();
        }
        assert!(granted > 0);
        assert!(most.load(std::sync::atomic::Ordering::Relaxed) <= 5, "more than 5 open at once");
        assert_eq!(limit.clients(), 0, "every count was given back");
    }

    #[test]
    fn connections_held_by_many_threads_stop_at_the_limit() {
        let limit = ConnectionLimit::new(5);
        let barrier = Arc::new(std::sync::Barrier::new(32));
        let threads: Vec<_> = (0..32)
            .map(|_| {
                let (limit, barrier) = (limit.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    limit.try_open(ip("10.0.0.1"))
                })
            })
            .collect();
        let held: Vec<_> = threads.into_iter().filter_map(|t| t.join().unwrap()).collect();
        assert_eq!(held.len(), 5);
        assert_eq!(limit.open_for(ip("10.0.0.1")), 5);
    }
}
