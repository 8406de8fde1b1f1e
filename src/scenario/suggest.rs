//! "Did you mean ...?": the nearest valid name to a misspelt one (a field, a status, a region, an
//! operation), so that an error says what was meant, not only what is allowed.

/// The candidate closest to `word` by edit distance (case-insensitive, a swap of two neighbours
/// counting as one edit), if it is close enough to be a likely typo: at most a third of the
/// longer name's length, and at least one edit. An exact match (ignoring case) is returned too.
pub(crate) fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word: Vec<char> = word.to_lowercase().chars().collect();
    candidates
        .into_iter()
        .map(|c| {
            let lower: Vec<char> = c.to_lowercase().chars().collect();
            (distance(&word, &lower), lower.len().max(word.len()), c)
        })
        .filter(|&(d, longest, _)| d <= (longest / 3).max(1))
        .min_by_key(|&(d, _, _)| d)
        .map(|(_, _, c)| c)
}

/// `did you mean "x"?` for the nearest candidate, or an empty string: for appending to a message.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(word, candidates).map(|c| format!(" (did you mean {c:?}?)")).unwrap_or_default()
}

/// Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.
fn distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in rows.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[(i - 1) * width + j] + 1).min(rows[i * width + j - 1] + 1).min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = best;
        }
    }
    rows[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGIONS: &[&str] = &["cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1"];

    #[test]
    fn a_typo_finds_the_name_it_was_meant_to_be() {
        assert_eq!(nearest("cn-hangzou", REGIONS.iter().copied()), Some("cn-hangzhou"));
        assert_eq!(nearest("cn-hnagzhou", REGIONS.iter().copied()), Some("cn-hangzhou"), "an adjacent swap is one edit");
        assert_eq!(nearest("Finshed", ["Waiting", "Processing", "Finished"]), Some("Finished"));
        assert_eq!(nearest("PROCESSING", ["Waiting", "Processing"]), Some("Processing"), "case is ignored");
    }

    #[test]
    fn a_name_far_from_every_candidate_suggests_nothing() {
        assert_eq!(nearest("cn-nowhere", REGIONS.iter().copied()), None);
        assert_eq!(nearest("x", ["status", "created"]), None);
        assert_eq!(did_you_mean("zzzz", ["status"]), "");
        assert_eq!(did_you_mean("statsu", ["status", "created"]), " (did you mean \"status\"?)");
    }

    #[test]
    fn distance_counts_edits() {
        let d = |a: &str, b: &str| distance(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>());
        assert_eq!(d("", ""), 0);
        assert_eq!(d("abc", ""), 3);
        assert_eq!(d("abc", "acb"), 1);
        assert_eq!(d("kitten", "sitting"), 3);
    }
}
