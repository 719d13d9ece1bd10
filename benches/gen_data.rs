//! Synthetic but format-exact inputs for the benchmarks: nginx combined access lines, journal
//! JSON lines (`journalctl -o json` field set) and nginx error lines, spread over one day.

use std::io::Write;
use std::path::Path;

/// A small deterministic generator (xorshift64*), so every run writes the same bytes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn step(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.step() % n
    }
}

/// 2023-04-13T00:00:00Z in seconds.
const DAY0: u64 = 1_681_344_000;
const PATHS: [&str; 6] = [
    "/",
    "/api/orders",
    "/static/app.js",
    "/login",
    "/api/items/42",
    "/health",
];
const AGENTS: [&str; 3] = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/112.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0 Safari/537.36",
    "curl/7.88.1",
];

fn hms(sec_of_day: u64) -> (u64, u64, u64) {
    (sec_of_day / 3600, sec_of_day / 60 % 60, sec_of_day % 60)
}

pub fn access(out: &mut impl Write, n: u64) -> std::io::Result<()> {
    let mut r = Rng::new(7);
    for i in 0..n {
        let (h, m, s) = hms(i * 86_400 / n);
        let status = match r.below(100) {
            0..=1 => 502,
            2..=6 => 404,
            7..=9 => 304,
            _ => 200,
        };
        writeln!(
            out,
            "10.0.{}.{} - - [13/Apr/2023:{h:02}:{m:02}:{s:02} +0000] \"GET {}?page={} HTTP/1.1\" {status} {} \"-\" \"{}\"",
            r.below(256),
            r.below(256),
            PATHS[r.below(6) as usize],
            r.below(1000),
            r.below(50_000),
            AGENTS[r.below(3) as usize]
        )?;
    }
    Ok(())
}

pub fn journal(out: &mut impl Write, n: u64) -> std::io::Result<()> {
    let mut r = Rng::new(11);
    for i in 0..n {
        let us = DAY0 * 1_000_000 + i * 86_400_000_000 / n + r.below(1000);
        let (ident, pid, unit, msg) = match r.below(10) {
            0 => (
                "systemd",
                1,
                "init.scope",
                "Started Session 42 of User deploy.",
            ),
            1 => (
                "CRON",
                4242,
                "cron.service",
                "(root) CMD (run-parts /etc/cron.hourly)",
            ),
            _ => (
                "gunicorn",
                788_990,
                "gunicorn.service",
                "[2023-04-13 11:19:27 +0000] [788990] [INFO] GET /api/orders",
            ),
        };
        writeln!(
            out,
            "{{\"__CURSOR\":\"s=6b1f0c2a9d3e4f50;i={i:x};b=9d0e1f2a3b4c5d6e;m={:x};t={us:x};x=7a6b5c4d\",\"__REALTIME_TIMESTAMP\":\"{us}\",\"__MONOTONIC_TIMESTAMP\":\"{}\",\"PRIORITY\":\"{}\",\"SYSLOG_IDENTIFIER\":\"{ident}\",\"_PID\":\"{pid}\",\"_SYSTEMD_UNIT\":\"{unit}\",\"_TRANSPORT\":\"stdout\",\"MESSAGE\":\"{msg}\"}}",
            i * 1000,
            i * 1000,
            if r.below(50) == 0 { 3 } else { 6 }
        )?;
    }
    Ok(())
}

pub fn errors(out: &mut impl Write, n: u64) -> std::io::Result<()> {
    let mut r = Rng::new(13);
    for i in 0..n {
        let (h, m, s) = hms(i * 86_400 / n);
        writeln!(
            out,
            "2023/04/13 {h:02}:{m:02}:{s:02} [error] 789202#789202: *{} connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.{}.{}, server: app.example.org, request: \"GET {} HTTP/1.1\", upstream: \"http://127.0.0.1:8000{}\", host: \"app.example.org\"",
            i + 1,
            r.below(256),
            r.below(256),
            PATHS[r.below(6) as usize],
            PATHS[r.below(6) as usize],
        )?;
    }
    Ok(())
}

/// Write the benchmark bundle into `dir`: `access_lines` access, `journal_lines` journal JSON,
/// `error_lines` error lines, plus a manifest.
pub fn write_bundle(
    dir: &Path,
    access_lines: u64,
    journal_lines: u64,
    error_lines: u64,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("nginx"))?;
    std::fs::create_dir_all(dir.join("journal"))?;
    std::fs::write(
        dir.join("manifest.toml"),
        "host = \"bench\"\ncaptured_at = \"2023-04-14T00:00:00Z\"\ntz = \"+00:00\"\n",
    )?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("nginx/access.log"))?);
    access(&mut f, access_lines)?;
    f.flush()?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("journal/journal.json"))?);
    journal(&mut f, journal_lines)?;
    f.flush()?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("nginx/error.log"))?);
    errors(&mut f, error_lines)?;
    f.flush()
}
