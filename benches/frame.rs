//! A key press to the next frame with 2M records loaded: one `Down` through the update
//! function, then a whole 160x48 frame drawn to ratatui's test backend; a regex filter over
//! the 2M records; and the key press again with that filter on.

#[path = "gen_data.rs"]
mod gen_data;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sitrep::ingest::{LoadOptions, load};
use sitrep::ui::action::Action;
use sitrep::ui::app::App;
use sitrep::ui::theme::Theme;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    gen_data::write_bundle(dir.path(), 1_000_000, 1_000_000, 0).expect("write bundle");
    let inc = load(&[dir.path().to_path_buf()], &LoadOptions::default()).expect("load");
    let mut app = App::new(inc);
    let theme = Theme::default_for_env();
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    let mut down = true;
    c.bench_function("key_to_frame_2M_160x48", |b| {
        b.iter(|| {
            // Alternate so the selection stays in the middle of the data.
            app.update(if down { Action::Down } else { Action::Up });
            down = !down;
            term.draw(|f| sitrep::ui::draw(f, &mut app, &theme))
                .expect("draw");
        })
    });
    let mut jump = true;
    c.bench_function("error_jump_to_frame_2M_160x48", |b| {
        b.iter(|| {
            app.update(if jump {
                Action::NextProblem
            } else {
                Action::PrevProblem
            });
            jump = !jump;
            term.draw(|f| sitrep::ui::draw(f, &mut app, &theme))
                .expect("draw");
        })
    });
    // A regex filter over the 2M records: every pane rebuilt through it (the work `F` does).
    let mut group = c.benchmark_group("filter");
    group.sample_size(10);
    group.bench_function("regex_filter_2M", |b| {
        b.iter(|| {
            app.filters.list.clear();
            app.filters.add(sitrep::ui::filter::Rule::In(
                sitrep::ui::filter::compile(r"items/42\?page=\d*7 ").expect("regex"),
            ));
            app.apply_filters();
        })
    });
    // The same with a capital letter in it: smart case makes it case-sensitive, and the
    // literal search runs faster.
    group.bench_function("regex_filter_2M_case_sensitive", |b| {
        b.iter(|| {
            app.filters.list.clear();
            app.filters.add(sitrep::ui::filter::Rule::In(
                sitrep::ui::filter::compile(r"GET /api/items/42\?page=\d*7 ").expect("regex"),
            ));
            app.apply_filters();
        })
    });
    group.finish();
    // With that filter on, a key press to the next frame.
    let mut down = true;
    c.bench_function("key_to_frame_2M_filtered_160x48", |b| {
        b.iter(|| {
            app.update(if down { Action::Down } else { Action::Up });
            down = !down;
            term.draw(|f| sitrep::ui::draw(f, &mut app, &theme))
                .expect("draw");
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
