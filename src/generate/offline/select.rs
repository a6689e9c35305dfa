//! Which candidate tests to keep: per function, greedily the ones that add the most not yet
//! exercised (argument values, sites, spec items), at most `max_per_fn`; across functions,
//! round-robin in that order up to the feature's budget, so every function gets its best
//! tests before any gets its tenth. A test whose body another kept test has already (a
//! function's own and one made to reach a helper it calls) is not kept twice.

use std::collections::HashSet;

use super::cases::Candidate;

/// `candidates[f]` are function `f`'s; the result keeps, per function, the chosen ones in the
/// order they were chosen.
pub fn select(
    candidates: Vec<Vec<Candidate>>,
    max_per_fn: usize,
    max_total: Option<usize>,
) -> Vec<Vec<Candidate>> {
    let ranked: Vec<Vec<Candidate>> = candidates
        .into_iter()
        .map(|c| rank(c, max_per_fn))
        .collect();
    let mut kept: Vec<Vec<Candidate>> = vec![Vec::new(); ranked.len()];
    let mut iters: Vec<std::vec::IntoIter<Candidate>> =
        ranked.into_iter().map(Vec::into_iter).collect();
    let mut total = 0;
    let mut bodies: HashSet<String> = HashSet::new();
    loop {
        let mut progressed = false;
        for (slot, iter) in iters.iter_mut().enumerate() {
            if max_total.is_some_and(|max| total >= max) {
                return kept;
            }
            let fresh = iter.find(|candidate| !bodies.contains(&candidate.body));
            if let Some(candidate) = fresh {
                bodies.insert(candidate.body.clone());
                kept[slot].push(candidate);
                total += 1;
                progressed = true;
            }
        }
        if !progressed {
            return kept;
        }
    }
}

/// How many of a function's best candidates are kept whatever their potency.
const FIRST_KEPT: usize = 3;

/// The potency (see `Case::potency`) from which a candidate is kept beyond the first few:
/// a value mined from the function's own code or the spec, or a known-strong combination.
const POTENT: usize = 3;

/// Of a function's candidates in ranked order: the first few, then every potent one.
pub(super) fn potent(ranked: Vec<Candidate>) -> Vec<Candidate> {
    ranked
        .into_iter()
        .enumerate()
        .filter(|(index, candidate)| *index < FIRST_KEPT || candidate.priority >= POTENT)
        .map(|(_, candidate)| candidate)
        .collect()
}

/// Greedy order: next the candidate with the most features not yet covered (the earliest on
/// a tie), at most `max`.
pub(super) fn rank(mut candidates: Vec<Candidate>, max: usize) -> Vec<Candidate> {
    let mut covered: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    while out.len() < max && !candidates.is_empty() {
        let (best, _) = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let new = c.features.iter().filter(|f| !covered.contains(*f)).count();
                (i, new + c.priority)
            })
            .fold(
                (0, 0),
                |(bi, bn), (i, n)| if n > bn { (i, n) } else { (bi, bn) },
            );
        let chosen = candidates.remove(best);
        covered.extend(chosen.features.iter().cloned());
        out.push(chosen);
    }
    out
}

#[cfg(test)]
mod test {
    use super::*;

    fn candidate(name: &str, features: &[&str]) -> Candidate {
        Candidate {
            name: name.into(),
            meta: Default::default(),
            body: format!("{name}();"),
            features: features.iter().map(|f| f.to_string()).collect(),
            priority: 0,
            harness: None,
        }
    }

    fn names(kept: &[Candidate]) -> Vec<&str> {
        kept.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn the_most_new_features_first_then_the_rest_in_order() {
        let got = rank(
            vec![
                candidate("a", &["x=0"]),
                candidate("b", &["x=0", "y=1", "site1"]),
                candidate("c", &["x=1"]),
                candidate("d", &["y=1"]),
            ],
            3,
        );
        assert_eq!(names(&got), ["b", "c", "a"]);
    }

    #[test]
    fn the_first_few_and_then_the_potent_ones_are_kept() {
        let mut ranked: Vec<Candidate> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|name| candidate(name, &[]))
            .collect();
        ranked[4].priority = POTENT;
        ranked[1].priority = POTENT + 1;
        assert_eq!(names(&potent(ranked)), ["a", "b", "c", "e"]);
    }

    #[test]
    fn every_function_gets_its_best_before_any_gets_more() {
        let f = vec![candidate("f1", &["a"]), candidate("f2", &["b"])];
        let g = vec![candidate("g1", &["a"])];
        let h = vec![candidate("h1", &["a"]), candidate("h2", &["b"])];
        let got = select(vec![f, g, h], 20, Some(4));
        assert_eq!(names(&got[0]), ["f1", "f2"]);
        assert_eq!(names(&got[1]), ["g1"]);
        assert_eq!(names(&got[2]), ["h1"]);
        let capped = select(
            vec![vec![candidate("x", &["1"]), candidate("y", &["2"])]],
            1,
            None,
        );
        assert_eq!(names(&capped[0]), ["x"]);
    }

    #[test]
    fn a_body_already_kept_is_not_kept_again() {
        let mut twin = candidate("g1", &["a"]);
        twin.body = "f1();".to_owned();
        let got = select(
            vec![
                vec![candidate("f1", &["a"])],
                vec![twin, candidate("g2", &["b"])],
            ],
            20,
            None,
        );
        assert_eq!(names(&got[0]), ["f1"]);
        assert_eq!(names(&got[1]), ["g2"]);
    }
}
