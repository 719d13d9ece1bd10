//! Cloud Foundry `cf revisions APP` (cf CLI v7/v8): the CLI's own lines (`This command is in
//! EXPERIMENTAL stage...`, `Getting revisions for app APP in org ORG / space SPACE as USER...`,
//! warnings), then a table
//! `revision  description  deployable  revision guid  created at`, one row per revision, the
//! deployed one marked `14(deployed)`.
//!
//! Records: one per revision at its `created at` time, the deployed one at notice; the CLI's
//! lines and the header are records of their own, untimed (or at the time before them).
//! Columns are read from both ends of a row (number first; deployable, guid and time last), so
//! descriptions with any spacing come out whole.

use serde::Serialize;

use super::{Format, Head, Line, ParseCtx, field, parse_lines, trim_cr};
use crate::ingest::timestamp;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::{Micros, UNTIMED, format_utc};

pub struct CfRevisions;

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    pub number: u32,
    /// Marked `(deployed)`: linked to the app's started processes.
    pub deployed: bool,
    pub description: String,
    pub deployable: bool,
    pub guid: String,
    pub created_at: Option<Micros>,
    /// 1-based line in the file.
    pub line: u32,
}

/// The revisions of one app, in the order printed (the CLI prints newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Revisions {
    pub app: Option<String>,
    pub revisions: Vec<Revision>,
}

impl Revisions {
    /// The revision marked `(deployed)`, if one is.
    pub fn deployed(&self) -> Option<&Revision> {
        self.revisions.iter().find(|r| r.deployed)
    }
}

/// What a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Blank,
    /// The CLI's own lines: preamble, warnings, `No revisions found`.
    Cli {
        error: bool,
    },
    Header,
    Row(Revision),
    Other,
}

fn words(l: &str) -> impl Iterator<Item = &str> {
    l.split_ascii_whitespace()
}

fn is_header(l: &str) -> bool {
    l.starts_with("revision ")
        && l.contains(" description ")
        && l.contains(" deployable ")
        && l.contains(" revision guid ")
        && l.trim_end().ends_with(" created at")
}

/// `GETTING revisions for app NAME in org ...`: the app's name.
fn app_of(l: &str) -> Option<&str> {
    let rest = l.strip_prefix("Getting revisions for app ")?;
    rest.split(' ').next().filter(|n| !n.is_empty())
}

fn is_cli(l: &str) -> Option<bool> {
    const INFO: &[&str] = &[
        "This command is in EXPERIMENTAL stage",
        "Getting revisions for app ",
        "Info: this app is in a stopped state",
        "No revisions found",
        "OK",
        "$ cf ",
    ];
    const ERROR: &[&str] = &["FAILED", "App '", "Warning: ", "Error "];
    if INFO.iter().any(|p| l.starts_with(p)) {
        Some(false)
    } else if ERROR.iter().any(|p| l.starts_with(p)) {
        Some(true)
    } else {
        None
    }
}

/// A revision guid: 36 characters, hex digits and four dashes.
fn is_guid(w: &str) -> bool {
    w.len() == 36
        && w.bytes().filter(|b| *b == b'-').count() == 4
        && w.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

fn parse_time(w: &str) -> Option<Micros> {
    let (t, _, used) = timestamp::iso(w.as_bytes())?;
    (used == w.len()).then_some(t)
}

/// A table row: `14(deployed)  New droplet deployed.  true  c74367ef-...  2022-07-18T13:37:06Z`.
fn row(l: &str, line: u32) -> Option<Revision> {
    let l = l.trim();
    let first = words(l).next()?;
    let (num, deployed) = match first.strip_suffix("(deployed)") {
        Some(n) => (n, true),
        None => (first, false),
    };
    let number: u32 = num.parse().ok()?;
    let mut rest = l.get(first.len()..)?.trim_end();
    // From the right: created at (if it is a time), guid, deployable.
    let take_last = |rest: &mut &str| -> Option<String> {
        let r = rest.trim_end();
        let i = r
            .rfind(|c: char| c.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        let w = r.get(i..)?.to_string();
        *rest = r.get(..i)?;
        Some(w)
    };
    let mut last = take_last(&mut rest)?;
    let created_at = parse_time(&last);
    if created_at.is_some() {
        last = take_last(&mut rest)?;
    }
    if !is_guid(&last) {
        return None;
    }
    let guid = last;
    let deployable = match take_last(&mut rest)?.as_str() {
        "true" => true,
        "false" => false,
        _ => return None,
    };
    Some(Revision {
        number,
        deployed,
        description: rest.trim().to_string(),
        deployable,
        guid,
        created_at,
        line,
    })
}

fn classify(line: &[u8], line_no: u32) -> Kind {
    let Ok(l) = std::str::from_utf8(trim_cr(line)) else {
        return Kind::Other;
    };
    let t = l.trim();
    if t.is_empty() {
        return Kind::Blank;
    }
    if is_header(t) {
        return Kind::Header;
    }
    if let Some(error) = is_cli(t) {
        return Kind::Cli { error };
    }
    match row(t, line_no) {
        Some(r) => Kind::Row(r),
        None => Kind::Other,
    }
}

impl Format for CfRevisions {
    fn id(&self) -> FormatId {
        FormatId::CfRevisions
    }

    fn sniff(&self, head: &Head) -> u8 {
        let (mut sure, mut rows, mut good, mut bad) = (false, 0u32, 0u32, 0u32);
        for line in &head.lines {
            match classify(line, 0) {
                Kind::Blank => {}
                Kind::Header => {
                    sure = true;
                    good += 1;
                }
                Kind::Cli { .. } => {
                    let l = String::from_utf8_lossy(line);
                    sure |= app_of(l.trim()).is_some();
                    good += 1;
                }
                Kind::Row(_) => {
                    rows += 1;
                    good += 1;
                }
                Kind::Other => bad += 1,
            }
        }
        if good == 0 || !(sure || rows >= 2) {
            return 0;
        }
        let share = good * 100 / (good + bad);
        if share < 80 {
            return 0;
        }
        if sure { 95 } else { 80 }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut line_no = 0u32;
        parse_lines(data, out, |line, b| {
            line_no = line_no.saturating_add(1);
            let before = b.ts.last().copied().unwrap_or(UNTIMED);
            match classify(line, line_no) {
                Kind::Blank => Line::Continue,
                Kind::Cli { error } => Line::start(
                    before,
                    if error {
                        Severity::Warn
                    } else {
                        Severity::Info
                    },
                ),
                Kind::Header => Line::start(UNTIMED, Severity::Info),
                Kind::Row(r) => Line::start(
                    r.created_at.unwrap_or(before),
                    if r.deployed {
                        Severity::Notice
                    } else {
                        Severity::Info
                    },
                ),
                Kind::Other => Line::Unparsed,
            }
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            "This command is in EXPERIMENTAL stage and may change without notice\n\
             \n\
             Getting revisions for app shop-api in org acme / space prod as ops@example.org...\n\
             \n\
             revision       description                                                 deployable   revision guid                          created at\n\
             3(deployed)    New droplet deployed. New environment variables deployed.   true         c74367ef-6212-40ce-a316-9441e2297c68   2023-04-13T11:20:06Z\n\
             2              Rolled back to revision 1.                                  true         709c59de-761b-49b5-851f-2816c39e87a4   2023-04-12T09:02:11Z\n\
             1              Initial revision.                                           false        5df30b02-33c4-4396-a432-995555d75c3b   2023-04-11T15:40:33Z\n",
            "Getting revisions for app shop-api in org acme / space prod as ops@example.org...\n\
             Warning: Revisions for app 'shop-api' are disabled. Updates to the app will not create new revisions.\n\
             \n\
             No revisions found\n",
        ]
    }

    /// number, deployed, description, deployable, guid, created.
    fn fields(&self, raw: &[u8], _ctx: &ParseCtx) -> Vec<(String, String)> {
        let first = raw.split(|b| *b == b'\n').next().unwrap_or_default();
        let Kind::Row(r) = classify(first, 0) else {
            return Vec::new();
        };
        let mut v = vec![
            field("number", r.number.to_string().as_bytes()),
            field("deployed", r.deployed.to_string().as_bytes()),
            field("description", r.description.as_bytes()),
            field("deployable", r.deployable.to_string().as_bytes()),
            field("guid", r.guid.as_bytes()),
        ];
        if let Some(t) = r.created_at {
            v.push(field("created", format_utc(t).as_bytes()));
        }
        v
    }
}

/// The app and the revision rows of `cf revisions` output; other lines are skipped.
pub fn parse_revisions(text: &str) -> Revisions {
    let mut out = Revisions::default();
    for (i, line) in text.split('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if out.app.is_none()
            && let Some(app) = app_of(line.trim())
        {
            out.app = Some(app.to_string());
        }
        if let Kind::Row(r) = classify(line.as_bytes(), line_no) {
            out.revisions.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use crate::ingest::sniff::sniff;
    use crate::model::source::flag;
    use crate::model::time::parse_instant;
    use proptest::prelude::*;

    const I6: &str =
        include_str!("../../../tests/bundles/i6-pipeline-platform/platform/cf-revisions.txt");

    #[test]
    fn i6_revisions() {
        assert_eq!(
            sniff("cf-revisions.txt", I6.as_bytes()),
            FormatId::CfRevisions
        );
        let r = parse_revisions(I6);
        assert_eq!(r.app.as_deref(), Some("grants-portal"));
        let numbers: Vec<u32> = r.revisions.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [14, 13, 12, 11, 10, 9, 8]);
        let d = r.deployed().unwrap();
        assert_eq!(d.number, 14);
        assert_eq!(d.guid, "c74367ef-6212-40ce-a316-9441e2297c68");
        assert_eq!(d.created_at, parse_instant("2022-07-18T13:37:06Z"));
        assert_eq!(d.line, 6);
        assert!(d.deployable);
        assert_eq!(r.revisions[4].description, "Rolled back to revision 8.");
        assert_eq!(
            r.revisions[6].description,
            "New droplet deployed. New environment variables deployed."
        );
        assert_eq!(r.revisions.iter().filter(|r| r.deployed).count(), 1);
    }

    #[test]
    fn i6_records() {
        let b = parse_str(&CfRevisions, I6, &ParseCtx::default());
        // Two CLI lines, the header, seven rows; blank lines continue.
        assert_eq!(b.stats.records, 10);
        assert_eq!(b.stats.continuations, 2);
        assert_eq!(b.stats.unparsed, 0);
        assert_eq!(b.lines, vec![1, 3, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert_eq!(&b.ts[..3], &[UNTIMED; 3]);
        assert_eq!(b.ts[3], parse_instant("2022-07-18T13:37:06Z").unwrap());
        assert_eq!(b.sev[3], Severity::Notice);
        assert_eq!(b.sev[4], Severity::Info);
        let raw = &I6.as_bytes()[b.starts[9] as usize..];
        let f = CfRevisions.fields(raw, &ParseCtx::default());
        assert_eq!(
            f[2],
            (
                "description".to_string(),
                "New droplet deployed. New environment variables deployed.".to_string()
            )
        );
    }

    #[test]
    fn single_spaced_rows_without_a_header() {
        let text = "8 New droplet deployed. New environment variables deployed. true bf08f870-e3e4-4668-a0a7-bfac27180e77 2022-07-07T16:12:09Z\n\
                    7(deployed) x false 0b533d0b-b438-45c4-9b33-0347d7efb542 2022-07-06T16:12:09Z\n";
        let r = parse_revisions(text);
        assert_eq!(r.app, None);
        assert_eq!(r.revisions.len(), 2);
        assert_eq!(
            r.revisions[0].description,
            "New droplet deployed. New environment variables deployed."
        );
        assert!(r.revisions[1].deployed && !r.revisions[1].deployable);
        assert_eq!(r.revisions[1].line, 2);
        assert_eq!(sniff("x", text.as_bytes()), FormatId::CfRevisions);
    }

    #[test]
    fn cut_and_garbled_input_keeps_every_line() {
        let cut = &I6[..I6.find("2022-07-11T14").unwrap() + 5];
        let b = parse_str(&CfRevisions, cut, &ParseCtx::default());
        assert_eq!(b.stats.records + b.stats.continuations, cut.lines().count());
        // The cut row is kept, flagged unparsed, at the time of the row before it.
        assert_eq!(b.stats.unparsed, 1);
        assert_eq!(*b.flags.last().unwrap() & flag::UNPARSED, flag::UNPARSED);
        assert_eq!(parse_revisions(cut).revisions.len(), 4);
        for text in [
            "revision",
            "14(deployed)",
            "\u{0}\u{ff}\n\n x",
            "1 a b c d e f",
        ] {
            let b = parse_str(&CfRevisions, text, &ParseCtx::default());
            assert_eq!(
                b.stats.records + b.stats.continuations,
                text.lines().count()
            );
            let _ = parse_revisions(text);
        }
    }

    #[test]
    fn an_empty_file_has_no_record() {
        let b = parse_str(&CfRevisions, "", &ParseCtx::default());
        assert_eq!(b.stats.records, 0);
        assert_eq!(parse_revisions(""), Revisions::default());
        assert_eq!(CfRevisions.sniff(&Head::new("x", b"")), 0);
    }

    #[test]
    fn other_cf_output_is_not_revisions() {
        let apps = include_str!("../../../tests/bundles/i6-pipeline-platform/platform/cf-apps.txt");
        assert_eq!(CfRevisions.sniff(&Head::new("x", apps.as_bytes())), 0);
    }

    proptest! {
        #[test]
        fn never_panics(text in "[0-9a-f( )\\-TZ:.\n]{0,200}") {
            let b = parse_str(&CfRevisions, &text, &ParseCtx::default());
            prop_assert_eq!(b.stats.records + b.stats.continuations, text.lines().count());
            let _ = parse_revisions(&text);
        }
    }
}
