//! Ingest throughput: 1M nginx access lines and 1M journal JSON lines parsed into their
//! columnar stores, and the whole bundle loaded and merged (what `timeline --count` does).

#[path = "gen_data.rs"]
mod gen_data;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sitrep::analysis::timeline::Timeline;
use sitrep::ingest::formats::{
    Format, ParseCtx, journal_json::JournalJson, nginx_access::NginxAccess,
};
use sitrep::ingest::{LoadOptions, load};
use sitrep::model::source::SourceBuilder;

const LINES: u64 = 1_000_000;

fn parse_one(c: &mut Criterion, name: &str, format: &dyn Format, data: &[u8]) {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| {
            let mut out = SourceBuilder::default();
            format.parse(data, &ParseCtx::default(), &mut out);
            assert_eq!(out.stats.records as u64, LINES);
            out
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let mut access = Vec::new();
    gen_data::access(&mut access, LINES).expect("generate access lines");
    parse_one(c, "nginx_access_1M", &NginxAccess, &access);
    drop(access);
    let mut journal = Vec::new();
    gen_data::journal(&mut journal, LINES).expect("generate journal lines");
    parse_one(c, "journal_json_1M", &JournalJson, &journal);
    drop(journal);

    let dir = tempfile::tempdir().expect("temp dir");
    gen_data::write_bundle(dir.path(), LINES, LINES, LINES / 10).expect("write bundle");
    let mut g = c.benchmark_group("bundle_2_1M");
    g.sample_size(10);
    g.bench_function("load_and_merge", |b| {
        b.iter(|| {
            let inc = load(&[dir.path().to_path_buf()], &LoadOptions::default()).expect("load");
            Timeline::all(&inc.sources).len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
