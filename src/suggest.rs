//! "Did you mean": the names closest to one a user typed. Fuzzy subsequence matching
//! first (`rep-arch` finds `reports-archive`), then edit distance for typos that break
//! the order of letters (`Deploymnet`), then shared words of a dashed name.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

/// Candidates close to `name`, best first, at most `n`.
pub fn ranked<'a>(name: &str, candidates: &[&'a str], n: usize) -> Vec<&'a str> {
    let matcher = SkimMatcherV2::default();
    let short = name.rsplit('/').next().unwrap_or(name);
    let lower = name.to_lowercase();
    // Scores from different measures must not mix: a tier first, then the score.
    let mut scored: Vec<(u8, i64, &str)> = candidates
        .iter()
        .filter_map(|c| {
            if let Some(s) = matcher
                .fuzzy_match(c, name)
                .or_else(|| matcher.fuzzy_match(c, short))
            {
                return Some((3, s, *c));
            }
            let d = edit_distance(&lower, &c.to_lowercase());
            if d <= (name.chars().count() / 3).max(2) {
                return Some((2, -(d as i64), *c));
            }
            let words = short.split(['-', '_', '.']).filter(|w| w.len() > 2);
            let hits = words.filter(|w| c.contains(w)).count() as i64;
            (hits > 0).then_some((1, hits, *c))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then_with(|| a.2.cmp(b.2)));
    scored.into_iter().take(n).map(|(_, _, c)| c).collect()
}

pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    ranked(name, candidates, 1).into_iter().next()
}

/// Optimal string alignment distance: insertions, deletions, substitutions and
/// swaps of neighbours each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The best matches, best first, quoted for a message.
pub fn close_names(name: &str, candidates: &[&str], n: usize) -> Vec<String> {
    ranked(name, candidates, n)
        .into_iter()
        .map(|c| format!("`{}`", crate::text::sanitize_line(c)))
        .collect()
}

/// `; did you mean `a`, `b`?` for a message, or nothing when no name is close.
pub fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    let close = close_names(name, candidates, 5);
    if close.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", close.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_subsequences_and_words_are_found() {
        let kinds = ["Deployment", "DaemonSet", "Pod", "PersistentVolumeClaim"];
        assert_eq!(closest("Deploymnet", &kinds), Some("Deployment"));
        assert_eq!(
            closest(
                "web-frontend",
                &["shop/reports-archive", "data/orders-db-0"]
            ),
            None
        );
        assert_eq!(
            closest("rep-arch", &["shop/reports-archive", "data/orders-db-0"]),
            Some("shop/reports-archive")
        );
        assert_eq!(
            closest("reports-archiv", &["shop/reports-archive"]),
            Some("shop/reports-archive")
        );
        assert_eq!(closest("zzzz", &kinds), None);
    }

    #[test]
    fn edit_distance_counts_swaps_once() {
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn best_first() {
        let got = ranked(
            "ask-provisoner-log",
            &["ask-provisioner-log", "access-mode", "provisioning-failed"],
            3,
        );
        assert_eq!(got[0], "ask-provisioner-log");
    }
}
