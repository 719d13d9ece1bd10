//! `cargo bench --bench gen -- DIR [ACCESS JOURNAL ERRORS]`: write the benchmark bundle
//! (default 1M access lines, 1M journal JSON lines, 100k error lines) into DIR.

#[path = "gen_data.rs"]
mod gen_data;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: cargo bench --bench gen -- DIR [ACCESS JOURNAL ERRORS]");
        std::process::exit(2);
    };
    let n = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (a, j, e) = (n(1, 1_000_000), n(2, 1_000_000), n(3, 100_000));
    if let Err(err) = gen_data::write_bundle(std::path::Path::new(dir), a, j, e) {
        eprintln!("gen: {dir}: {err}");
        std::process::exit(2);
    }
    println!("wrote {dir}: {a} access, {j} journal, {e} error lines");
}
