//! Work split over the machine's cores with scoped threads: a map over a
//! slice in contiguous chunks, results in order. A leaf.

/// How many threads the checks use: the cores the process may use.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `f` of every item, in order, computed on [`threads`] threads (one when
/// there are few items).
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n == 1 || items.len() < 4096 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(n);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a verification thread panicked"))
            .collect()
    })
}

/// `f` of each contiguous chunk of `items` (about one per thread) with its
/// offset in `items`, results in order.
pub fn par_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &[T]) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n == 1 || items.len() < 512 {
        return vec![f(0, items)];
    }
    let chunk = items.len().div_ceil(n);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(i, c)| s.spawn(move || f(i * chunk, c)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a verification thread panicked"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_their_order() {
        let v: Vec<u64> = (0..10_000).collect();
        assert_eq!(
            par_map(&v, |x| x * 2),
            v.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
        let sums = par_chunks(&v, |off, c| (off, c.len()));
        assert_eq!(sums.iter().map(|(_, n)| n).sum::<usize>(), 10_000);
        assert_eq!(sums[0].0, 0);
    }
}
