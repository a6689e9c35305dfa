//! All-pairs combination of argument values: every value of every parameter meets every value
//! of every other parameter in some row, in far fewer rows than the full product. Rows are
//! value indices; the construction (IPO: grow by one parameter, then patch missing pairs) is
//! deterministic, so the same inputs give the same tests.

use std::collections::BTreeSet;

/// Rows of value indices, one per parameter, covering every pair. `counts[i]` is how many values
/// parameter `i` has; a parameter with none means no row at all.
pub fn pairwise(counts: &[usize]) -> Vec<Vec<usize>> {
    if counts.contains(&0) {
        return Vec::new();
    }
    match counts {
        [] => return vec![Vec::new()],
        [only] => return (0..*only).map(|v| vec![v]).collect(),
        _ => {}
    }
    let mut rows: Vec<Vec<usize>> = (0..counts[0])
        .flat_map(|a| (0..counts[1]).map(move |b| vec![a, b]))
        .collect();
    for (k, &count) in counts.iter().enumerate().skip(2) {
        // Pairs (earlier parameter j, its value, value of k) still to cover.
        let mut uncovered: BTreeSet<(usize, usize, usize)> = (0..k)
            .flat_map(|j| (0..counts[j]).flat_map(move |vj| (0..count).map(move |vk| (j, vj, vk))))
            .collect();
        // Horizontal: extend each row with the value of k covering the most new pairs.
        for row in &mut rows {
            let best = (0..count)
                .max_by_key(|&vk| {
                    let gained = (0..k)
                        .filter(|&j| uncovered.contains(&(j, row[j], vk)))
                        .count();
                    // Ties go to the lowest value, for determinism.
                    (gained, std::cmp::Reverse(vk))
                })
                .expect("count > 0");
            for (j, &value) in row.iter().enumerate() {
                uncovered.remove(&(j, value, best));
            }
            row.push(best);
        }
        // Vertical: a new row for each pair still missing, others at their first value.
        while let Some((j, vj, vk)) = uncovered.pop_first() {
            let mut row = vec![0; k + 1];
            row[j] = vj;
            row[k] = vk;
            for (i, &value) in row.iter().enumerate().take(k) {
                uncovered.remove(&(i, value, vk));
            }
            rows.push(row);
        }
    }
    rows
}

#[cfg(test)]
mod test {
    use super::*;

    /// Every pair of values of every two parameters appears in some row.
    fn covers_all_pairs(counts: &[usize], rows: &[Vec<usize>]) -> bool {
        (0..counts.len()).all(|i| {
            (i + 1..counts.len()).all(|j| {
                (0..counts[i])
                    .all(|a| (0..counts[j]).all(|b| rows.iter().any(|r| r[i] == a && r[j] == b)))
            })
        })
    }

    #[test]
    fn every_pair_is_covered_in_few_rows() {
        for counts in [
            vec![3, 3, 3],
            vec![2, 5, 4, 3],
            vec![10, 10, 2, 2, 2, 2],
            vec![7, 1, 6],
        ] {
            let rows = pairwise(&counts);
            assert!(covers_all_pairs(&counts, &rows), "{counts:?}");
            let product: usize = counts.iter().product();
            assert!(rows.len() <= product, "{counts:?}: {}", rows.len());
            assert!(rows.iter().all(|r| r.len() == counts.len()));
        }
        // The largest two counts bound the rows from below (100 here), the product is 1600.
        assert!(pairwise(&[10, 10, 2, 2, 2, 2]).len() <= 110);
        // Four parameters of three values: 9 rows at best, 81 in the product.
        assert!(pairwise(&[3, 3, 3, 3]).len() <= 12);
    }

    #[test]
    fn small_cases_and_determinism() {
        assert_eq!(pairwise(&[]), [Vec::<usize>::new()]);
        assert_eq!(pairwise(&[3]), [[0], [1], [2]]);
        assert_eq!(pairwise(&[2, 0, 3]), Vec::<Vec<usize>>::new());
        assert_eq!(pairwise(&[4, 3, 5]), pairwise(&[4, 3, 5]));
    }
}
