//! The one seam where parallelism lives: layers are walked on the rayon pool, largest
//! first, and their results are handed back to the caller strictly in layer order, so
//! merging can start while later layers are still being read and everything after this
//! point is deterministic ([`ordered`]); two independent pure computations can run side
//! by side ([`join`]).

use std::collections::BTreeMap;
use std::sync::mpsc;

use rayon::iter::{ParallelBridge, ParallelIterator};

/// Run `work` for every job on the rayon pool, largest `size` first, and call `consume`
/// on the calling thread with the results in ascending job order.
pub fn ordered<T, W, C>(jobs: &[(usize, u64)], work: W, consume: C)
where
    T: Send,
    W: Fn(usize) -> T + Sync,
    C: FnMut(usize, T),
{
    ordered_wide(jobs, None, work, consume)
}

/// [`ordered`] with `width` jobs at a time instead of one per core: for jobs that
/// wait on a network as much as they compute (layers downloaded while they are
/// walked). `None` is the rayon pool.
pub fn ordered_wide<T, W, C>(jobs: &[(usize, u64)], width: Option<usize>, work: W, mut consume: C)
where
    T: Send,
    W: Fn(usize) -> T + Sync,
    C: FnMut(usize, T),
{
    let mut by_size: Vec<(usize, u64)> = jobs.to_vec();
    by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut in_order: Vec<usize> = jobs.iter().map(|j| j.0).collect();
    in_order.sort_unstable();
    let (tx, rx) = mpsc::channel::<(usize, T)>();
    let work = &work;
    let pool = width.and_then(|n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .ok()
    });
    std::thread::scope(|s| {
        s.spawn(move || {
            let run = move || {
                by_size
                    .into_iter()
                    .par_bridge()
                    .for_each_with(tx, |tx, (index, _)| {
                        // The receiver lives until every job is done; a send cannot fail.
                        let _ = tx.send((index, work(index)));
                    });
            };
            match pool {
                Some(pool) => pool.install(run),
                None => run(),
            }
        });
        let mut pending = BTreeMap::new();
        let mut next = 0;
        for (index, result) in rx {
            pending.insert(index, result);
            while let Some(&want) = in_order.get(next) {
                match pending.remove(&want) {
                    Some(result) => {
                        consume(want, result);
                        next += 1;
                    }
                    None => break,
                }
            }
        }
    });
}

/// Run `a` and `b`, possibly at the same time, and return both results.
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    rayon::join(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order() {
        let jobs: Vec<(usize, u64)> = (0..20).map(|i| (i, (i * 7 % 5) as u64)).collect();
        let mut seen = Vec::new();
        ordered(&jobs, |i| i * 10, |i, v| seen.push((i, v)));
        let want: Vec<(usize, usize)> = (0..20).map(|i| (i, i * 10)).collect();
        assert_eq!(seen, want);
        let mut wide = Vec::new();
        ordered_wide(&jobs, Some(5), |i| i * 10, |i, v| wide.push((i, v)));
        assert_eq!(wide, want);
    }
}
