//! Work spread over every core: each item to the next free thread, results in order.

/// `f` over every item of `work`, on every core, results in the order of `work`.
pub fn each<T: Sync, R: Send>(work: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(work.len());
    if threads <= 1 {
        return work.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = (0..work.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = work.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        for w in workers {
            let done = w.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            for (i, r) in done {
                out[i] = Some(r);
            }
        }
    });
    out.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_in_the_order_of_the_work() {
        let work: Vec<u64> = (0..1000).collect();
        let out = super::each(&work, |n| {
            // Uneven work, so threads finish out of order.
            (0..(n % 7) * 1000).fold(*n, |a, b| a ^ b) ^ (0..(n % 7) * 1000).fold(0, |a, b| a ^ b)
        });
        assert_eq!(out, work);
        assert!(super::each(&[] as &[u8], |b| *b).is_empty());
    }
}
