//! Numbers as the site writes them for people.

/// `30000` as "30,000", as the staff guide and readers' messages write
/// numbers.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_grouped_in_thousands() {
        let cases = [(0, "0"), (999, "999"), (2_000, "2,000"), (16_000, "16,000"), (1_234_567, "1,234,567")];
        for (n, text) in cases {
            assert_eq!(super::thousands(n), text);
        }
    }
}
