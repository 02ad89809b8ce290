//! Reading figures without tracking anyone: how often each page was read
//! per day (UTC), printed and shared, and which sites sent readers here
//! (their host only). Nothing about a person is looked at or kept: no
//! cookie, no address, no user agent beyond "is it a bot".
//!
//! Requests are counted in memory ([`Counter`]), one hash-map increment
//! under a short lock, and written to SQLite ([`store::FiguresStore`])
//! every minute and at shutdown, so a crash loses at most a minute.

pub mod store;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

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

/// Distinct referring hosts kept in memory per day; past it they count as
/// [`OTHER_SITES`], so forged `Referer` headers cannot grow memory.
const MAX_HOSTS_PER_DAY: usize = 500;
/// Where referrers past [`MAX_HOSTS_PER_DAY`] are counted.
pub const OTHER_SITES: &str = "(other sites)";

/// One day's counts, not yet written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DayTally {
    /// Per page address, a count per [`Kind`] (by its index).
    pub pages: HashMap<String, [u64; KINDS]>,
    /// Per referring host.
    pub referrers: HashMap<String, u64>,
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

    fn add(&mut self, day: Day, page: &str, kind: Kind, by: u64) {
        let tally = self.day(day);
        // Looking up by `&str` allocates only for a page's first count.
        match tally.pages.get_mut(page) {
            Some(counts) => counts[kind.index()] += by,
            None => {
                let mut counts = [0; KINDS];
                counts[kind.index()] = by;
                tally.pages.insert(page.to_string(), counts);
            }
        }
    }

    fn add_referrer(&mut self, day: Day, host: &str, by: u64) {
        let tally = self.day(day);
        if let Some(count) = tally.referrers.get_mut(host) {
            *count += by;
            return;
        }
        let key = if tally.referrers.len() < MAX_HOSTS_PER_DAY { host } else { OTHER_SITES };
        *tally.referrers.entry(key.to_string()).or_default() += by;
    }

    /// Adds another tally's counts to this one (a failed write put back).
    pub fn merge(&mut self, other: Tally) {
        for (day, tally) in other.days {
            for (page, counts) in tally.pages {
                for (index, by) in counts.into_iter().enumerate() {
                    if by > 0 {
                        self.add(day, &page, Kind::from_index(index), by);
                    }
                }
            }
            for (host, by) in tally.referrers {
                self.add_referrer(day, &host, by);
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

/// The counts since the last write, shared by every request.
#[derive(Debug, Default)]
pub struct Counter {
    tally: Mutex<Tally>,
}

impl Counter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        // Counts are plain numbers: a panic elsewhere cannot leave them
        // half-changed, so carry on.
        self.tally.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One more `kind` for `page` on `day`, and one more reader sent by
    /// `referrer` (a host), if any.
    pub fn count(&self, day: Day, page: &str, kind: Kind, referrer: Option<&str>) {
        let mut tally = self.lock();
        tally.add(day, page, kind, 1);
        if let Some(host) = referrer {
            tally.add_referrer(day, host, 1);
        }
    }

    /// Everything counted since the last call, leaving nothing behind.
    pub fn take(&self) -> Tally {
        std::mem::take(&mut *self.lock())
    }

    /// Puts counts back, after a write that failed.
    pub fn put_back(&self, tally: Tally) {
        self.lock().merge(tally);
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
const BOT_WORDS: &[&str] = &[
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

/// Whether a user agent is a browser with a person at it, as far as it
/// says: every browser's starts with `Mozilla/`, and bots that pretend to
/// be one still name themselves. Only this answer is used; the user agent
/// is never kept.
pub fn is_browser(user_agent: &str) -> bool {
    if !user_agent.starts_with("Mozilla/") {
        return false;
    }
    // Lower-cased once, on the stack (a browser's user agent is 100 to 200
    // bytes), then searched with the standard library's fast search: a
    // byte-by-byte search ignoring case for each word cost about 2 µs per
    // page served (the counting benchmark).
    let mut buffer = [0u8; 512];
    let Some(lower) = buffer.get_mut(..user_agent.len()) else {
        return !BOT_WORDS.iter().any(|word| contains_ignoring_case(user_agent, word));
    };
    lower.copy_from_slice(user_agent.as_bytes());
    lower.make_ascii_lowercase();
    let lower = std::str::from_utf8(lower).expect("lower-casing ASCII letters keeps UTF-8 valid");
    !BOT_WORDS.iter().any(|word| lower.contains(word))
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
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // user:password@host is never shown to staff.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = host_port.split(':').next().unwrap_or("").trim_end_matches('.');
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
    let rest = address.split_once("://").map_or(address, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.split(':').next().unwrap_or("")
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
        // Past the stack buffer, the slower search still finds the word.
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
        for n in 0..MAX_HOSTS_PER_DAY + 10 {
            counter.count(1, "/a/", Kind::View, Some(&format!("h{n}.example")));
        }
        let tally = counter.take();
        let hosts = &tally.days[0].1.referrers;
        assert_eq!(hosts.len(), MAX_HOSTS_PER_DAY + 1);
        assert_eq!(hosts[OTHER_SITES], 10);
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
