//! Reading figures without tracking anyone: how often each page was read
//! per day (UTC), printed and shared, and which sites sent readers here
//! (their host only). Nothing about a person is looked at or kept: no
//! cookie, no address, no user agent beyond "is it a bot".
//!
//! Requests are counted in memory ([`Counter`]), one hash-map increment
//! under a lock of the thread's own, and written to SQLite ([`store::FiguresStore`])
//! every minute and at shutdown, so a crash loses at most a minute.

pub mod store;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// What was counted for a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The page was read.
    View,
    /// The article's print page was opened.
    Print,
    /// A share control was used.
    Share(Channel),
}

/// The share controls under an article page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Copy,
    /// The phone's own share sheet.
    Native,
    Email,
    Sms,
    Whatsapp,
    Facebook,
    X,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Copy,
        Channel::Native,
        Channel::Email,
        Channel::Sms,
        Channel::Whatsapp,
        Channel::Facebook,
        Channel::X,
    ];

    /// The name `share.js` sends and the database keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Copy => "copy",
            Channel::Native => "native",
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Whatsapp => "whatsapp",
            Channel::Facebook => "facebook",
            Channel::X => "x",
        }
    }

    pub fn parse(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// For staff, in the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Copy => "Copy link",
            Channel::Native => "Share button",
            Channel::Email => "Email",
            Channel::Sms => "Text message",
            Channel::Whatsapp => "WhatsApp",
            Channel::Facebook => "Facebook",
            Channel::X => "X (Twitter)",
        }
    }
}

/// How many kinds there are: view, print, and one per channel.
const KINDS: usize = 2 + Channel::ALL.len();

impl Kind {
    fn index(self) -> usize {
        match self {
            Kind::View => 0,
            Kind::Print => 1,
            Kind::Share(channel) => {
                2 + Channel::ALL.iter().position(|c| *c == channel).expect("every channel is listed")
            }
        }
    }

    fn from_index(index: usize) -> Kind {
        match index {
            0 => Kind::View,
            1 => Kind::Print,
            n => Kind::Share(Channel::ALL[n - 2]),
        }
    }

    /// The name the database keeps: `view`, `print`, `share-copy`...
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::View => "view",
            Kind::Print => "print",
            Kind::Share(Channel::Copy) => "share-copy",
            Kind::Share(Channel::Native) => "share-native",
            Kind::Share(Channel::Email) => "share-email",
            Kind::Share(Channel::Sms) => "share-sms",
            Kind::Share(Channel::Whatsapp) => "share-whatsapp",
            Kind::Share(Channel::Facebook) => "share-facebook",
            Kind::Share(Channel::X) => "share-x",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        (0..KINDS).map(Kind::from_index).find(|k| k.as_str() == name)
    }
}

/// Days since 1970-01-01, UTC: the figures' unit of time.
pub type Day = i64;

/// The UTC day of a time in seconds since 1970.
pub fn day_of(secs: i64) -> Day {
    secs.div_euclid(86_400)
}

/// Today, UTC.
pub fn today() -> Day {
    day_of(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64))
}

/// Distinct referring hosts named per day; past it they count as
/// [`OTHER_SITES`], so forged `Referer` headers cannot grow memory or the
/// database.
const MAX_HOSTS_PER_DAY: usize = 500;
/// Where referrers past [`MAX_HOSTS_PER_DAY`] are counted.
pub const OTHER_SITES: &str = "(other sites)";

/// Hashes page addresses for the hot path's map, several times faster than
/// the standard library's SipHash. Only addresses the site served are
/// counted, so no reader can choose keys that collide; referring hosts,
/// which readers can forge, keep the standard hasher.
#[derive(Debug, Default, Clone, Copy)]
pub struct PageHasher(u64);

impl PageHasher {
    fn add(&mut self, word: u64) {
        // The multiply-rotate step of rustc's own FxHasher.
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for PageHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("chunks of 8 bytes")));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(last));
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        // The map picks buckets by the low bits and tags by the high ones;
        // the multiply leaves the low bits weakest, so bring high ones down.
        self.0.rotate_left(26)
    }
}

/// One day's counts, not yet written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DayTally {
    /// Per page address, a count per [`Kind`] (by its index).
    pub pages: HashMap<String, [u64; KINDS], BuildHasherDefault<PageHasher>>,
    /// Per referring host (already capped: see [`Counter::count`]).
    pub referrers: HashMap<String, u64>,
}

impl DayTally {
    fn add(&mut self, page: &str, kind: Kind, by: u64) {
        // Looking up by `&str` allocates only for a page's first count.
        match self.pages.get_mut(page) {
            Some(counts) => counts[kind.index()] += by,
            None => {
                let mut counts = [0; KINDS];
                counts[kind.index()] = by;
                self.pages.insert(page.to_string(), counts);
            }
        }
    }

    fn add_referrer(&mut self, host: &str, by: u64) {
        match self.referrers.get_mut(host) {
            Some(count) => *count += by,
            None => {
                self.referrers.insert(host.to_string(), by);
            }
        }
    }
}

/// Counts not yet written, per day (usually one; two around midnight).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub days: Vec<(Day, DayTally)>,
}

impl Tally {
    fn day(&mut self, day: Day) -> &mut DayTally {
        // A linear search: there are one or two days, and it saves hashing.
        let at = match self.days.iter().position(|(d, _)| *d == day) {
            Some(at) => at,
            None => {
                self.days.push((day, DayTally::default()));
                self.days.len() - 1
            }
        };
        &mut self.days[at].1
    }

    /// Adds another tally's counts to this one (the shards' tallies joined,
    /// or a failed write put back). Referring hosts are added as named: the
    /// cap was applied when they were first counted.
    pub fn merge(&mut self, other: Tally) {
        if self.days.is_empty() {
            *self = other;
            return;
        }
        for (day, other) in other.days {
            let tally = self.day(day);
            for (page, counts) in other.pages {
                for (index, by) in counts.into_iter().enumerate() {
                    if by > 0 {
                        tally.add(&page, Kind::from_index(index), by);
                    }
                }
            }
            for (host, by) in other.referrers {
                tally.add_referrer(&host, by);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.days.iter().all(|(_, t)| t.pages.is_empty() && t.referrers.is_empty())
    }

    /// Every (day, page, kind, count) with a count, for writing.
    pub fn rows(&self) -> impl Iterator<Item = (Day, &str, Kind, u64)> {
        self.days.iter().flat_map(|(day, tally)| {
            tally.pages.iter().flat_map(move |(page, counts)| {
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(move |(index, n)| (*day, page.as_str(), Kind::from_index(index), *n))
            })
        })
    }
}

/// How many tallies the counts are spread over. Each thread counts into
/// one of its own (by [`shard_index`]), so requests on different cores
/// neither wait for one lock nor pass its cache line back and forth; more
/// threads than this share, which stays correct, only slower.
const SHARDS: usize = 16;

/// One thread's share of the counts, on its own cache lines (128 bytes:
/// some CPUs fetch lines in pairs).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(Mutex<Tally>);

/// This thread's shard, picked once per thread in turn.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|index| *index)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Counts are plain numbers and a host set: a panic elsewhere cannot
    // leave them half-changed, so carry on.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The counts since the last write, shared by every request.
#[derive(Debug)]
pub struct Counter {
    /// The day pages served now are counted on: today, UTC, as of the last
    /// [`Counter::check_day`]. A number in memory, because reading the
    /// clock for every page served costs more than all the counting.
    day: AtomicI64,
    shards: [Shard; SHARDS],
    /// The referring hosts named so far on each recent day, over every
    /// write since the server started, so the cap holds per day and not per
    /// minute. Only touched the first time a thread sees a host in a minute.
    named: Mutex<Vec<(Day, HashSet<String>)>>,
}

impl Default for Counter {
    fn default() -> Self {
        Counter { day: AtomicI64::new(today()), shards: Default::default(), named: Mutex::default() }
    }
}

impl Counter {
    /// The day to count a page served now on. The server calls
    /// [`Counter::check_day`] every minute and as each day begins.
    pub fn day(&self) -> Day {
        self.day.load(Ordering::Relaxed)
    }

    /// Reads the clock for [`Counter::day`].
    pub fn check_day(&self) {
        self.day.store(today(), Ordering::Relaxed);
    }

    /// One more `kind` for `page` on `day`, and one more reader sent by
    /// `referrer` (a host), if any: the day's first [`MAX_HOSTS_PER_DAY`]
    /// hosts by name, any later one as [`OTHER_SITES`].
    pub fn count(&self, day: Day, page: &str, kind: Kind, referrer: Option<&str>) {
        let mut shard = lock(&self.shards[shard_index()].0);
        let tally = shard.day(day);
        tally.add(page, kind, 1);
        if let Some(host) = referrer {
            match tally.referrers.get_mut(host) {
                Some(count) => *count += 1,
                None => tally.add_referrer(self.name(day, host), 1),
            }
        }
    }

    /// `host`, if it is one of the day's first [`MAX_HOSTS_PER_DAY`]
    /// referring hosts, else [`OTHER_SITES`].
    fn name<'a>(&self, day: Day, host: &'a str) -> &'a str {
        let mut named = lock(&self.named);
        let at = match named.iter().position(|(d, _)| *d == day) {
            Some(at) => at,
            None => {
                named.push((day, HashSet::new()));
                named.len() - 1
            }
        };
        let hosts = &mut named[at].1;
        if hosts.contains(host) || (hosts.len() < MAX_HOSTS_PER_DAY && hosts.insert(host.to_string())) {
            host
        } else {
            OTHER_SITES
        }
    }

    /// Everything counted since the last call, leaving nothing behind. A
    /// count made meanwhile lands either in this tally or in the next.
    pub fn take(&self) -> Tally {
        let mut all = Tally::default();
        for shard in &self.shards {
            let tally = std::mem::take(&mut *lock(&shard.0));
            all.merge(tally);
        }
        // Forget the hosts of days before yesterday: nothing more is counted
        // on them (around midnight both days are still counted).
        let mut named = lock(&self.named);
        if let Some(newest) = named.iter().map(|(day, _)| *day).max() {
            named.retain(|(day, _)| *day >= newest - 1);
        }
        all
    }

    /// Puts counts back, after a write that failed.
    pub fn put_back(&self, tally: Tally) {
        lock(&self.shards[shard_index()].0).merge(tally);
    }
}

/// The figures as the server holds them: what is counted since the last
/// write, and where it is written. One value behind one `Arc` in the
/// server's state, so cloning the state per request costs the same with
/// counting on or off.
pub struct Figures {
    /// `None` with `--no-counting`: nothing is counted.
    pub counter: Option<Counter>,
    pub store: store::FiguresStore,
}

/// Words in a user agent that mean a program, not a person reading: search
/// engines, link preview fetchers, monitors and command-line tools.
pub const BOT_WORDS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "preview",
    "curl",
    "wget",
    "python",
    "go-http-client",
    "headless",
    "lighthouse",
    "monitor",
    "scanner",
];

/// Symbols a bot word's pair of bytes is looked up by: the 26 letters in
/// either case, and `-`.
const SYMBOLS: usize = 27;

/// A byte's symbol: a letter's place in the alphabet, either case, or 26
/// for `-`.
const fn symbol(byte: u8) -> Option<usize> {
    // Setting bit 5 lower-cases a letter, and maps no other byte onto one.
    let place = (byte | 0x20).wrapping_sub(b'a');
    if place < 26 {
        Some(place as usize)
    } else if byte == b'-' {
        Some(26)
    } else {
        None
    }
}

/// For each pair of symbols, the [`BOT_WORDS`] whose first two bytes are
/// that pair (bit `w`) and those whose second and third are (bit `16 + w`).
/// [`is_browser`] looks up only the pairs starting at even offsets: every
/// word has at least three bytes, so one of its first two pairs starts at
/// an even offset, and half the lookups find every word.
const WORD_PAIRS: [u32; SYMBOLS * SYMBOLS] = {
    assert!(BOT_WORDS.len() <= 16, "two bits per word in a u32");
    let mut table = [0u32; SYMBOLS * SYMBOLS];
    let mut word = 0;
    while word < BOT_WORDS.len() {
        let bytes = BOT_WORDS[word].as_bytes();
        assert!(bytes.len() >= 3, "every bot word has three bytes or more");
        let (Some(first), Some(second), Some(third)) = (symbol(bytes[0]), symbol(bytes[1]), symbol(bytes[2])) else {
            panic!("every bot word starts with three letters or dashes");
        };
        table[first * SYMBOLS + second] |= 1 << word;
        table[second * SYMBOLS + third] |= 1 << (16 + word);
        word += 1;
    }
    table
};

/// Whether a user agent is a browser with a person at it, as far as it
/// says: every browser's starts with `Mozilla/`, and bots that pretend to
/// be one still name themselves. Only this answer is used; the user agent
/// is never kept.
pub fn is_browser(user_agent: &str) -> bool {
    if !user_agent.starts_with("Mozilla/") {
        return false;
    }
    // This runs for every page served. One pass, looking up every other
    // pair of bytes in a table, checks a word only where it could start:
    // fourteen searches of a lower-cased copy cost about 110 ns a page.
    let bytes = user_agent.as_bytes();
    let is_at = |start: usize, word: usize| {
        let word = BOT_WORDS[word].as_bytes();
        bytes.get(start..start + word.len()).is_some_and(|found| found.eq_ignore_ascii_case(word))
    };
    !bytes.chunks_exact(2).enumerate().any(|(half, pair)| {
        let (Some(first), Some(second)) = (symbol(pair[0]), symbol(pair[1])) else { return false };
        let mut words = WORD_PAIRS[first * SYMBOLS + second];
        while words != 0 {
            let bit = words.trailing_zeros() as usize;
            // A word's second pair here means the word starts a byte before.
            let found = if bit < 16 { is_at(half * 2, bit) } else { half > 0 && is_at(half * 2 - 1, bit - 16) };
            if found {
                return true;
            }
            words &= words - 1;
        }
        false
    })
}

/// Whether `haystack` holds `needle` (lower-case ASCII) in any case, without
/// allocating.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack.as_bytes().windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Whether a request is the browser fetching ahead in case the reader
/// clicks (`Sec-Purpose: prefetch`, or the older `Purpose`/`X-Moz`), not a
/// reading.
pub fn is_prefetch(sec_purpose: Option<&str>, purpose: Option<&str>, x_moz: Option<&str>) -> bool {
    [sec_purpose, purpose, x_moz].into_iter().flatten().any(|value| contains_ignoring_case(value, "prefetch"))
}

/// The host of a `Referer` header, lower-case, without port, path or
/// query; `None` when it is not an http(s) address with a plain host name
/// or when it is one of `own_hosts` (a reader moving between our pages).
pub fn referrer_host<'a>(referer: &'a str, own_hosts: &[&str]) -> Option<Cow<'a, str>> {
    let referer = referer.trim();
    let scheme = |prefix: &str| {
        referer.get(..prefix.len()).filter(|s| s.eq_ignore_ascii_case(prefix)).map(|_| &referer[prefix.len()..])
    };
    let rest = scheme("https://").or_else(|| scheme("http://"))?;
    let authority = authority(rest);
    // user:password@host is never shown to staff.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = without_port(host_port).trim_end_matches('.');
    let plain = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    if host.is_empty() || host.len() > 253 || !host.bytes().all(plain) {
        return None;
    }
    if own_hosts.iter().any(|own| own.eq_ignore_ascii_case(host)) {
        return None;
    }
    // Borrowed unless it has capitals: this runs for every page served.
    Some(if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    })
}

/// The host of an address such as the site's base URL or a `Host` header
/// (`clinic.example:8080` -> `clinic.example`).
pub fn host_of(address: &str) -> &str {
    // Not `split_once("://")`: a search for a string sets up a searcher
    // each time, and this runs for every page served with a `Referer`.
    let scheme_end = address.as_bytes().windows(3).position(|w| w == b"://");
    let rest = scheme_end.map_or(address, |at| &address[at + 3..]);
    without_port(authority(rest))
}

/// An address's part up to its path, query or fragment. Byte by byte: a
/// search for any of several `char`s decodes each one, and this runs for
/// every page served.
fn authority(rest: &str) -> &str {
    let end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    &rest[..end]
}

fn without_port(host_port: &str) -> &str {
    host_port.split_once(':').map_or(host_port, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

    #[test]
    fn browsers_count_and_bots_do_not() {
        assert!(is_browser(FIREFOX));
        assert!(is_browser(SAFARI));
        for bot in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
            "Mozilla/5.0 (compatible; Yahoo! Slurp)",
            "facebookexternalhit/1.1",
            "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0",
            "Mozilla/5.0 (compatible; AhrefsSiteCrawler)",
            "Mozilla/5.0 (Macintosh) Chrome-Lighthouse",
            "Mozilla/5.0 (compatible; Discordbot/2.0)",
            "Mozilla/5.0 Slack-LinkExpanding Preview",
            "curl/8.5.0",
            "Wget/1.21",
            "python-requests/2.31",
            "",
        ] {
            assert!(!is_browser(bot), "{bot}");
        }
        // Long ones are searched to the end.
        let long = format!("Mozilla/5.0 {} Googlebot", "x".repeat(600));
        assert!(!is_browser(&long));
        assert!(is_browser(&format!("Mozilla/5.0 {} Firefox/128.0", "é".repeat(300))));
        assert!(!is_browser("Mozilla/5.0 (compatible; GOOGLEBOT)"));
    }

    #[test]
    fn prefetches_are_told_by_their_headers() {
        assert!(is_prefetch(Some("prefetch"), None, None));
        assert!(is_prefetch(Some("prefetch;prerender"), None, None));
        assert!(is_prefetch(None, Some("prefetch"), None));
        assert!(is_prefetch(None, None, Some("prefetch")));
        assert!(!is_prefetch(None, None, None));
        assert!(!is_prefetch(Some("other"), None, None));
    }

    #[test]
    fn only_the_referring_host_is_kept() {
        let own = ["clinic.example"];
        assert_eq!(referrer_host("https://www.google.com/search?q=knee+pain", &own).as_deref(), Some("www.google.com"));
        assert_eq!(referrer_host("http://Forum.Example:8080/t/123#reply", &own).as_deref(), Some("forum.example"));
        assert_eq!(referrer_host("https://user:secret@news.example/a", &own).as_deref(), Some("news.example"));
        assert_eq!(referrer_host("https://clinic.example/dry-needling/", &own), None);
        assert_eq!(referrer_host("https://CLINIC.example./x", &own), None);
        assert_eq!(referrer_host("android-app://com.google.android.gm/", &own), None);
        assert_eq!(referrer_host("https://[::1]/", &own), None);
        assert_eq!(referrer_host("https:///nothing", &own), None);
        assert_eq!(referrer_host("https://bad host/", &own), None);
        assert_eq!(host_of("https://clinic.example:8443/x"), "clinic.example");
        assert_eq!(host_of("127.0.0.1:3000"), "127.0.0.1");
    }

    #[test]
    fn counts_add_up_per_day_page_and_kind() {
        let counter = Counter::default();
        counter.count(10, "/a/", Kind::View, Some("news.example"));
        counter.count(10, "/a/", Kind::View, None);
        counter.count(10, "/a/print/", Kind::Print, None);
        counter.count(11, "/a/", Kind::Share(Channel::Email), Some("news.example"));
        let tally = counter.take();
        let mut rows: Vec<_> = tally.rows().map(|(d, p, k, n)| (d, p.to_string(), k, n)).collect();
        rows.sort_by_key(|(d, p, k, _)| (*d, p.clone(), k.as_str()));
        assert_eq!(
            rows,
            [
                (10, "/a/".into(), Kind::View, 2),
                (10, "/a/print/".into(), Kind::Print, 1),
                (11, "/a/".into(), Kind::Share(Channel::Email), 1)
            ]
        );
        assert!(counter.take().is_empty());
        counter.put_back(tally.clone());
        counter.put_back(tally);
        let doubled = counter.take();
        assert_eq!(doubled.days.iter().find(|(d, _)| *d == 10).unwrap().1.pages["/a/"][0], 4);
        assert_eq!(doubled.days.iter().find(|(d, _)| *d == 11).unwrap().1.referrers["news.example"], 2);
    }

    #[test]
    fn referring_hosts_are_capped_per_day() {
        let counter = Counter::default();
        let half = MAX_HOSTS_PER_DAY / 2;
        for n in 0..half {
            counter.count(1, "/a/", Kind::View, Some(&format!("h{n}.example")));
        }
        let first = counter.take();
        assert_eq!(first.days[0].1.referrers.len(), half);
        // The minute's write does not start the count of hosts again: the
        // day's first hosts still count by name, and new ones only until
        // the day has MAX_HOSTS_PER_DAY.
        counter.count(1, "/a/", Kind::View, Some("h0.example"));
        for n in half..half + MAX_HOSTS_PER_DAY + 10 {
            counter.count(1, "/a/", Kind::View, Some(&format!("h{n}.example")));
        }
        let second = counter.take();
        let hosts = &second.days[0].1.referrers;
        assert_eq!(hosts["h0.example"], 1);
        assert_eq!(hosts[&format!("h{}.example", MAX_HOSTS_PER_DAY - 1)], 1);
        assert!(!hosts.contains_key(&format!("h{MAX_HOSTS_PER_DAY}.example")));
        assert_eq!(hosts.len(), 1 + (MAX_HOSTS_PER_DAY - half) + 1);
        assert_eq!(hosts[OTHER_SITES], half as u64 + 10);
        // A new day names its own hosts.
        counter.count(2, "/a/", Kind::View, Some("h999.example"));
        assert_eq!(counter.take().days[0].1.referrers["h999.example"], 1);
        // A failed write put back keeps its names, even past the cap.
        counter.put_back(second.clone());
        assert_eq!(counter.take(), second);
    }

    #[test]
    fn counts_from_many_threads_add_up_exactly_while_being_written() {
        const THREADS: u64 = 24;
        const EACH: u64 = 5_000;
        let counter = Counter::default();
        let mut written = Vec::new();
        std::thread::scope(|scope| {
            // More threads than shards, so some share one.
            for thread in 0..THREADS {
                let counter = &counter;
                scope.spawn(move || {
                    for n in 0..EACH {
                        let kind = if n % 2 == 0 { Kind::View } else { Kind::Print };
                        let page = if thread % 3 == 0 { "/a/" } else { "/b/" };
                        counter.count(
                            7 + (n % 2) as Day,
                            page,
                            kind,
                            Some(if n % 5 == 0 { "x.example" } else { "y.example" }),
                        );
                    }
                });
            }
            // The minute's writes, while the threads count.
            for _ in 0..50 {
                written.push(counter.take());
                std::thread::yield_now();
            }
        });
        let mut all = Tally::default();
        for tally in written {
            all.merge(tally);
        }
        all.merge(counter.take());
        let day = |d: Day| &all.days.iter().find(|(x, _)| *x == d).unwrap().1;
        let on_a = (0..THREADS).filter(|t| t % 3 == 0).count() as u64;
        assert_eq!(day(7).pages["/a/"][Kind::View.index()], on_a * EACH / 2);
        assert_eq!(day(7).pages["/b/"][Kind::View.index()], (THREADS - on_a) * EACH / 2);
        assert_eq!(day(8).pages["/b/"][Kind::Print.index()], (THREADS - on_a) * EACH / 2);
        let referred: u64 = all.days.iter().flat_map(|(_, t)| t.referrers.values()).sum();
        assert_eq!(referred, THREADS * EACH);
        assert_eq!(day(7).referrers["x.example"] + day(8).referrers["x.example"], THREADS * EACH / 5);
    }

    #[test]
    fn the_day_counted_on_is_kept_in_memory_until_checked() {
        let counter = Counter::default();
        assert_eq!(counter.day(), today());
        counter.day.store(today() - 1, Ordering::Relaxed);
        assert_eq!(counter.day(), today() - 1, "a page served does not read the clock");
        counter.check_day();
        assert_eq!(counter.day(), today());
    }

    #[test]
    fn a_page_renamed_between_writes_keeps_the_address_it_was_read_at() {
        let counter = Counter::default();
        counter.count(3, "/old-name/", Kind::View, None);
        counter.count(3, "/new-name/", Kind::View, None);
        let tally = counter.take();
        assert_eq!(tally.days[0].1.pages["/old-name/"][0], 1);
        assert_eq!(tally.days[0].1.pages["/new-name/"][0], 1);
    }

    /// What [`is_browser`] must answer, the slow and obvious way.
    fn is_browser_slowly(user_agent: &str) -> bool {
        let lower = user_agent.to_ascii_lowercase();
        user_agent.starts_with("Mozilla/") && !BOT_WORDS.iter().any(|word| lower.contains(word))
    }

    #[test]
    fn every_bot_word_is_found_in_any_case_at_any_offset() {
        let mut agents = 0;
        for word in BOT_WORDS {
            let upper = word.to_ascii_uppercase();
            let mixed: String =
                word.chars().enumerate().map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c }).collect();
            for spelled in [word.to_string(), upper, mixed] {
                for padding in 0..4 {
                    for after in ["", "/2.1", "x"] {
                        let agent = format!("Mozilla/5.0 {}{spelled}{after}", "é-".repeat(padding));
                        assert!(!is_browser(&agent), "{agent}");
                        assert_eq!(is_browser(&agent), is_browser_slowly(&agent), "{agent}");
                        agents += 1;
                    }
                }
            }
            // Most of the word is not the word.
            let cut = format!("Mozilla/5.0 {}", &word[..word.len() - 1]);
            assert_eq!(is_browser(&cut), is_browser_slowly(&cut), "{cut}");
        }
        assert_eq!(agents, BOT_WORDS.len() * 3 * 4 * 3);
    }

    #[test]
    fn kinds_and_channels_round_trip_their_names() {
        for index in 0..KINDS {
            let kind = Kind::from_index(index);
            assert_eq!(kind.index(), index);
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Channel::parse("carrier-pigeon"), None);
        assert_eq!(day_of(86_399), 0);
        assert_eq!(day_of(86_400), 1);
    }
}
