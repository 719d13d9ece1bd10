//! The rules' scan alone: every rule over a loaded 420k-record bundle (200k nginx access,
//! 200k journal JSON, 20k nginx error lines, generated), apart from loading it; and the
//! context the rules share (journal text, units, sockets), built once per run.

#[path = "gen_data.rs"]
mod gen_data;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sitrep::analysis::rules::{Context, RULES, diagnose_in};
use sitrep::ingest::{LoadOptions, load};

const LINES: u64 = 200_000;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    gen_data::write_bundle(dir.path(), LINES, LINES, LINES / 10).expect("write bundle");
    let inc = load(&[dir.path().to_path_buf()], &LoadOptions::default()).expect("load");
    let records: u64 = inc.sources.iter().map(|s| s.len() as u64).sum();
    let mut g = c.benchmark_group("rules_420k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records));
    g.bench_function("context", |b| b.iter(|| Context::new(&inc).timeline.len()));
    let cx = Context::new(&inc);
    g.bench_function(format!("{}_rules", RULES.len()), |b| {
        b.iter(|| diagnose_in(&cx).findings.len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
