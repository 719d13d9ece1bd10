//! `ps` process tables (procps, BusyBox): `ps aux`, `auxwww`, `auxf` (tree marks `\_ ` and `|`
//! before the command), `auxm` (thread rows with `-` for a pid), `-ef`, `-efww`, `-elfL`, `alx`,
//! `axjf`, `-eo COLUMNS` with any set of ps column names, and the files sos report writes under
//! `sos_commands/process/` (`ps_auxwww`, `ps_-elfL`, `ps_axo_..._lstart_tty_time_cmd`...).
//!
//! The header decides the columns. Every column holds one word except the start times, whose
//! words are read from the value (`18:55`, `Apr 10`, `Thu Apr 13 11:24:04 2023`), and the
//! command (`COMMAND`/`CMD`/`ARGS`), which takes the words the others leave, spaces and all.
//! Records: one untimed record per process row (the header is one too; a thread row of `m`
//! continues its process); a zombie is a warning; a row that does not fit the header is
//! unparsed.

use serde::Serialize;

use super::{Format, Head, Line, ParseCtx, field, parse_lines};
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::source::SourceBuilder;
use crate::model::time::UNTIMED;

pub struct Ps;

/// One process row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    pub pid: u32,
    pub ppid: Option<u32>,
    /// `USER`, else `UID` (a name in `-f` tables, a number in `-l` ones).
    pub user: Option<String>,
    /// `ELAPSED` as printed (`04:51`, `2-03:04:05`, seconds for `etimes`).
    pub elapsed: Option<String>,
    /// The command line (or `comm` name) without `f`'s tree marks.
    pub args: String,
    /// 1-based line in the file.
    pub line: u32,
}

/// Column titles ps prints (`ps L` lists the specifiers; several share a title).
const COLUMNS: &[&str] = &[
    "PID", "PPID", "PGID", "SID", "SESS", "TPGID", "LWP", "SPID", "TID", "NLWP", "THCNT", "USER",
    "UID", "EUSER", "RUSER", "SUSER", "FUSER", "EUID", "RUID", "SUID", "FUID", "GROUP", "GID",
    "EGROUP", "RGROUP", "EGID", "RGID", "%CPU", "%MEM", "VSZ", "RSS", "SZ", "SIZE", "DRS", "TRS",
    "PSS", "USS", "MAJFL", "MINFL", "TTY", "TT", "STAT", "S", "START", "STARTED", "LSTART",
    "STIME", "TIME", "ELAPSED", "ETIME", "COMMAND", "CMD", "ARGS", "COMM", "F", "PRI", "NI",
    "RTPRIO", "CLS", "POL", "SCH", "ADDR", "WCHAN", "C", "PSR", "CGROUP", "CGNAME", "LABEL",
    "STACKP", "BLOCKED", "CAUGHT", "IGNORED", "PENDING", "SESSION", "LUID", "MACHINE", "OWNER",
    "SEAT", "SLICE", "UNIT", "UUNIT", "PIDNS", "USERNS", "IPCNS", "MNTNS", "NETNS", "UTSNS", "EXE",
    "LXC",
];

/// Titles of columns holding the command; the last of them takes the rest of the row.
const COMMAND_COLUMNS: &[&str] = &["COMMAND", "CMD", "ARGS", "COMM"];

/// Whole-number columns (`-` when not applicable, negative for `NI`, `PRI`, `TPGID`).
const NUMBER_COLUMNS: &[&str] = &[
    "PID", "PPID", "PGID", "SID", "SESS", "TPGID", "LWP", "SPID", "TID", "NLWP", "THCNT", "VSZ",
    "RSS", "SZ", "SIZE", "DRS", "TRS", "PSS", "USS", "MAJFL", "MINFL", "PRI", "NI", "RTPRIO", "C",
    "PSR",
];

/// Columns of start times, one to five words.
const START_COLUMNS: &[&str] = &["START", "STARTED", "LSTART", "STIME"];

const WEEKDAYS: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The column titles of a header line: every word a ps title, `PID` among them.
fn header(line: &str) -> Option<Vec<&str>> {
    let cols: Vec<&str> = line.split_ascii_whitespace().collect();
    let known = cols.iter().all(|c| COLUMNS.contains(c));
    (known && cols.len() >= 2 && cols.contains(&"PID")).then_some(cols)
}

/// Whitespace-separated words of `line` with their byte spans.
fn spans(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let s = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i > s {
            out.push((s, i));
        }
    }
    out
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Words a start time takes from word `i` on: `Thu Apr 13 11:24:04 2023` (lstart), `Apr 10`
/// (start), else one (`18:55`, `Apr10`, `2022`).
fn start_words_forward(words: &[&str], i: usize) -> usize {
    let at = |k: usize| words.get(k).copied().unwrap_or("");
    if WEEKDAYS.contains(&at(i)) && MONTHS.contains(&at(i + 1)) {
        5
    } else if MONTHS.contains(&at(i)) && at(i + 1).len() <= 2 && is_digits(at(i + 1)) {
        2
    } else {
        1
    }
}

/// Words a start time ending just before word `end` takes.
fn start_words_back(words: &[&str], end: usize) -> usize {
    let at = |k: Option<usize>| k.and_then(|k| words.get(k)).copied().unwrap_or("");
    let back = |n: usize| end.checked_sub(n);
    if WEEKDAYS.contains(&at(back(5))) && MONTHS.contains(&at(back(4))) {
        5
    } else if MONTHS.contains(&at(back(2))) && at(back(1)).len() <= 2 && is_digits(at(back(1))) {
        2
    } else {
        1
    }
}

/// Does `v` look like a value of column `col`?
fn fits(col: &str, v: &str) -> bool {
    let number = |v: &str| v == "-" || is_digits(v.strip_prefix('-').unwrap_or(v));
    if NUMBER_COLUMNS.contains(&col) {
        return number(v);
    }
    match col {
        "%CPU" | "%MEM" => v == "-" || is_digits(&v.replacen('.', "", 1)),
        "F" => v.bytes().all(|b| b.is_ascii_hexdigit()) && !v.is_empty(),
        "TIME" | "ELAPSED" | "ETIME" => {
            v.bytes().any(|b| b.is_ascii_digit())
                && v.bytes()
                    .all(|b| b.is_ascii_digit() || b == b':' || b == b'-')
        }
        "STAT" | "S" => v.bytes().all(|b| b"RSDZTtWXIKPLNsl<+-".contains(&b)),
        _ => true,
    }
}

/// The values of a row, one per column of the header; `None` when the row does not fit.
fn split_row<'a>(cols: &[&str], line: &'a str) -> Option<Vec<&'a str>> {
    let sp = spans(line);
    let words: Vec<&str> = sp.iter().map(|&(s, e)| &line[s..e]).collect();
    let n = cols.len();
    let wide = cols
        .iter()
        .rposition(|c| COMMAND_COLUMNS.contains(c))
        .unwrap_or(n - 1);
    let mut values = vec![""; n];
    let text = |from: usize, to: usize| line.get(sp[from].0..sp[to - 1].1);
    let mut i = 0;
    for (c, col) in cols.iter().enumerate().take(wide) {
        let w = if START_COLUMNS.contains(col) {
            start_words_forward(&words, i)
        } else {
            1
        };
        if i + w > words.len() {
            return None;
        }
        values[c] = text(i, i + w)?;
        i += w;
    }
    let mut j = words.len();
    for c in (wide + 1..n).rev() {
        let w = if START_COLUMNS.contains(&cols[c]) {
            start_words_back(&words, j)
        } else {
            1
        };
        if j < i + w {
            return None;
        }
        values[c] = text(j - w, j)?;
        j -= w;
    }
    if j <= i {
        return None;
    }
    values[wide] = text(i, j)?;
    let ok = cols.iter().zip(&values).all(|(c, v)| fits(c, v));
    ok.then_some(values)
}

/// The value of column `name` in a split row.
fn value<'a>(cols: &[&str], values: &[&'a str], name: &str) -> Option<&'a str> {
    cols.iter().position(|c| *c == name).map(|i| values[i])
}

/// A row of `m` (threads after their process): `-` for the pid.
fn is_thread_row(cols: &[&str], values: &[&str]) -> bool {
    value(cols, values, "PID") == Some("-")
}

fn severity(cols: &[&str], values: &[&str]) -> Severity {
    let state = value(cols, values, "STAT").or_else(|| value(cols, values, "S"));
    if state.is_some_and(|s| s.starts_with('Z')) {
        Severity::Warn
    } else {
        Severity::Info
    }
}

/// A line of a ps table, given the header in force (updated when the line is a header).
fn scan(line: &str, cols: &mut Option<Vec<String>>) -> Line {
    if line.trim().is_empty() {
        return Line::Continue;
    }
    if let Some(h) = header(line) {
        *cols = Some(h.into_iter().map(str::to_string).collect());
        return Line::start(UNTIMED, Severity::Info);
    }
    let Some(names) = cols.as_ref() else {
        return Line::Unparsed;
    };
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    match split_row(&names, line) {
        Some(v) if is_thread_row(&names, &v) => Line::Continue,
        Some(v) => Line::start(UNTIMED, severity(&names, &v)),
        None => Line::Unparsed,
    }
}

/// The command without the tree marks of `f` (`\_ `, `|`) and `-H`'s indent.
fn strip_tree(cmd: &str) -> &str {
    let mut s = cmd.trim_start();
    loop {
        if let Some(r) = s.strip_prefix("\\_ ") {
            s = r.trim_start();
        } else if let Some(r) = s.strip_prefix("| ") {
            s = r.trim_start();
        } else {
            return s;
        }
    }
}

/// The process of a row, `None` for thread rows (`m`; `-L` rows whose thread is not the main).
fn process(cols: &[&str], values: &[&str], line: u32) -> Option<Process> {
    let get = |name: &str| value(cols, values, name);
    let pid: u32 = get("PID")?.parse().ok()?;
    let thread = ["LWP", "SPID", "TID"]
        .iter()
        .find_map(|c| get(c))
        .and_then(|t| t.parse::<u32>().ok());
    if thread.is_some_and(|t| t != pid) {
        return None;
    }
    let args = cols
        .iter()
        .rposition(|c| COMMAND_COLUMNS.contains(c))
        .map_or("", |i| strip_tree(values[i]));
    Some(Process {
        pid,
        ppid: get("PPID").and_then(|p| p.parse().ok()),
        user: get("USER").or_else(|| get("UID")).map(str::to_string),
        elapsed: get("ELAPSED").or_else(|| get("ETIME")).map(str::to_string),
        args: args.to_string(),
        line,
    })
}

/// Typed reading of ps output: one [`Process`] per process row (thread rows left out).
pub fn parse_processes(text: &str) -> Vec<Process> {
    let mut cols: Option<Vec<String>> = None;
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(h) = header(line) {
            cols = Some(h.into_iter().map(str::to_string).collect());
            continue;
        }
        let Some(names) = cols.as_ref() else {
            continue;
        };
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if let Some(p) = split_row(&names, line).and_then(|v| process(&names, &v, line_no)) {
            out.push(p);
        }
    }
    out
}

/// Headers of the usual tables, most columns first: a record alone does not carry its file's
/// header, so [`Ps::fields`] reads a row with the first of these it fits.
const KNOWN_TABLES: &[&str] = &[
    "F S UID PID PPID LWP C NLWP PRI NI ADDR SZ WCHAN STIME TTY TIME CMD",
    "F S UID PID PPID PGID SID CLS PRI ADDR SZ WCHAN STARTED TT TIME CMD",
    "F S UID PID PPID C PRI NI ADDR SZ WCHAN STIME TTY TIME CMD",
    "F UID PID PPID PRI NI VSZ RSS WCHAN STAT TTY TIME COMMAND",
    "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND",
    "PPID PID PGID SID TTY TPGID STAT UID TIME COMMAND",
    "UID PID PPID LWP C NLWP STIME TTY TIME CMD",
    "PID PPID USER GROUP LWP NLWP START COMMAND CGROUP",
    "UID PID PPID C STIME TTY TIME CMD",
    "PID PPID USER ELAPSED COMMAND",
    "PID TTY STAT TIME COMMAND",
    "PID USER TIME COMMAND",
    "PID TTY TIME CMD",
];

impl Format for Ps {
    fn id(&self) -> FormatId {
        FormatId::Ps
    }

    fn sniff(&self, head: &Head) -> u8 {
        let (mut rows, mut bad) = (0u32, 0u32);
        let mut cols: Option<Vec<String>> = None;
        let mut width = 0;
        for line in &head.lines {
            let line = String::from_utf8_lossy(line);
            if let Some(h) = header(&line) {
                width = h.len();
            }
            match scan(&line, &mut cols) {
                Line::Start { .. } if header(&line).is_none() => rows += 1,
                Line::Unparsed => bad += 1,
                _ => {}
            }
        }
        match (cols.is_some(), rows) {
            (false, _) => 0,
            // `ps -C gunicorn` that found nothing prints the header alone.
            (true, 0) if bad == 0 && width >= 3 => 60,
            (true, 0) => 0,
            _ => (rows * 100 / (rows + bad)) as u8,
        }
    }

    fn parse(&self, data: &[u8], _ctx: &ParseCtx, out: &mut SourceBuilder) {
        let mut cols: Option<Vec<String>> = None;
        parse_lines(data, out, |line, _| {
            scan(&String::from_utf8_lossy(line), &mut cols)
        });
    }

    fn samples(&self) -> &'static [&'static str] {
        &[
            // ps auxfwww
            "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n\
             root           1  0.0  0.1 167744 13100 ?        Ss   Apr10   0:05 /sbin/init\n\
             root         788  0.0  0.3  31000 24000 ?        Ss   11:20   0:01 /usr/bin/python3 /usr/bin/gunicorn --workers 3 --bind unix:/run/gunicorn.sock app.wsgi:application\n\
             www-data     790  0.2  1.1  95000 90000 ?        S    11:20   0:03  \\_ /usr/bin/python3 /usr/bin/gunicorn --workers 3 --bind unix:/run/gunicorn.sock app.wsgi:application\n\
             www-data     791  0.0  0.0      0     0 ?        Z    11:21   0:00  \\_ [gunicorn] <defunct>\n",
            // ps -ef
            "UID          PID    PPID  C STIME TTY          TIME CMD\n\
             root           1       0  0 Apr10 ?        00:00:05 /sbin/init\n\
             www-data    4242    4000  0 11:24 pts/0    00:00:02 python3 manage.py runserver 0.0.0.0:8000\n",
            // ps -elfL
            "F S UID          PID    PPID     LWP  C NLWP PRI  NI ADDR SZ WCHAN  STIME TTY          TIME CMD\n\
             4 S root           1       0       1  0   14  70 -10 -  9450 -      18:55 ?        00:00:00 /sbin/init\n\
             5 S root           1       0      61  0   14  80   0 -  9450 -      18:55 ?        00:00:00 /sbin/init\n",
            // ps -eo pid,ppid,user,etime,args
            "    PID    PPID USER         ELAPSED COMMAND\n\
             \x20     1       0 root        2-03:04:05 /sbin/init\n\
             \x20  1200       1 root           04:51 nginx: master process /usr/sbin/nginx -g daemon on; master_process on;\n",
            // sos: ps axo flags,state,uid,pid,ppid,pgid,sid,cls,pri,addr,sz,wchan:20,lstart,tty,time,cmd
            "F S   UID     PID    PPID    PGID     SID CLS PRI ADDR    SZ WCHAN                                 STARTED TT           TIME CMD\n\
             4 S     0       1       0       1       1  TS  19    - 41936 ep_poll              Thu Apr 13 09:02:11 2023 ?        00:00:05 /sbin/init\n",
            // sos: ps axo pid,ppid,user,group,lwp,nlwp,start_time,comm,cgroup
            "    PID    PPID USER     GROUP        LWP NLWP START COMMAND         CGROUP\n\
             \x20   788       1 root     root         788    1 11:20 gunicorn: maste 0::/system.slice/gunicorn.service\n",
            // ps auxwwwm: thread rows continue their process
            "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n\
             root           1  0.3  0.0  37800  8516 ?        -    18:55   0:00 /sbin/init\n\
             root           -  0.3    -      -     - -        S<Ll 18:55   0:00 -\n",
        ]
    }

    fn fields(&self, raw: &[u8], _ctx: &ParseCtx) -> Vec<(String, String)> {
        let text = String::from_utf8_lossy(raw);
        let line = text.lines().next().unwrap_or("");
        for table in KNOWN_TABLES {
            let cols: Vec<&str> = table.split(' ').collect();
            if let Some(p) = split_row(&cols, line).and_then(|v| process(&cols, &v, 1)) {
                let mut out = vec![field("pid", p.pid.to_string().as_bytes())];
                if let Some(ppid) = p.ppid {
                    out.push(field("ppid", ppid.to_string().as_bytes()));
                }
                if let Some(user) = &p.user {
                    out.push(field("user", user.as_bytes()));
                }
                out.push(field("command", p.args.as_bytes()));
                return out;
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::parse_str;
    use proptest::prelude::*;

    #[test]
    fn aux_tree_marks_and_zombies() {
        let p = parse_processes(Ps.samples()[0]);
        assert_eq!(p.len(), 4);
        assert_eq!(p[1].pid, 788);
        assert_eq!(p[1].user.as_deref(), Some("root"));
        assert_eq!(p[1].ppid, None);
        assert!(
            p[2].args
                .starts_with("/usr/bin/python3 /usr/bin/gunicorn --workers 3")
        );
        assert_eq!(p[3].args, "[gunicorn] <defunct>");
        assert_eq!(p[3].line, 5);
        let b = parse_str(&Ps, Ps.samples()[0], &ParseCtx::default());
        assert_eq!(b.sev[4], Severity::Warn);
    }

    #[test]
    fn ef_and_custom_columns() {
        let p = parse_processes(Ps.samples()[1]);
        assert_eq!((p[1].pid, p[1].ppid), (4242, Some(4000)));
        assert_eq!(p[1].user.as_deref(), Some("www-data"));
        assert_eq!(p[1].args, "python3 manage.py runserver 0.0.0.0:8000");
        let p = parse_processes(Ps.samples()[3]);
        assert_eq!(p[0].elapsed.as_deref(), Some("2-03:04:05"));
        assert_eq!(
            p[1].args,
            "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"
        );
    }

    #[test]
    fn threads_are_rows_but_not_processes() {
        let p = parse_processes(Ps.samples()[2]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].user.as_deref(), Some("root"));
        let b = parse_str(&Ps, Ps.samples()[6], &ParseCtx::default());
        assert_eq!((b.stats.records, b.stats.continuations), (2, 1));
        assert_eq!(parse_processes(Ps.samples()[6]).len(), 1);
    }

    #[test]
    fn sos_tables_with_long_start_times_and_a_command_in_the_middle() {
        let p = parse_processes(Ps.samples()[4]);
        assert_eq!((p[0].pid, p[0].args.as_str()), (1, "/sbin/init"));
        let p = parse_processes(Ps.samples()[5]);
        assert_eq!(p[0].args, "gunicorn: maste");
        let row = "    1       0 root     Apr 10 /sbin/init splash";
        let v = split_row(&["PID", "PPID", "USER", "STARTED", "ARGS"], row).unwrap();
        assert_eq!(v[3], "Apr 10");
    }

    #[test]
    fn rows_that_do_not_fit_are_unparsed_and_other_tables_are_not_ps() {
        let text = "UID PID PPID C STIME TTY TIME CMD\nroot x 0 0 10:00 ? 00:00:00 init\n";
        let b = parse_str(&Ps, text, &ParseCtx::default());
        assert_eq!(b.stats.unparsed, 1);
        for other in [
            "  PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n    1 root      20   0  167744  13100   8400 S   0.0   0.1   0:05.01 systemd\n",
            "COMMAND   PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\nnginx    1200 root    6u  IPv4  31337      0t0  TCP *:http (LISTEN)\n",
            "Apr 13 11:24:04 web1 systemd[1]: Started nginx.service.\n",
        ] {
            assert_eq!(Ps.sniff(&Head::new("x", other.as_bytes())), 0, "{other}");
        }
    }

    #[test]
    fn fields_read_a_row_alone() {
        let raw = b"www-data    4242    4000  0 11:24 pts/0    00:00:02 python3 manage.py runserver 0.0.0.0:8000";
        let f = Ps.fields(raw, &ParseCtx::default());
        assert_eq!(f[0], ("pid".into(), "4242".into()));
        assert_eq!(f[1], ("ppid".into(), "4000".into()));
        assert_eq!(f[2], ("user".into(), "www-data".into()));
        assert_eq!(f[3].1, "python3 manage.py runserver 0.0.0.0:8000");
    }

    proptest! {
        #[test]
        fn never_panics(pieces in proptest::collection::vec(prop_oneof![
            Just("USER PID %CPU STAT START COMMAND\n".to_string()), Just("PID STARTED CGROUP COMM\n".to_string()),
            Just("Thu Apr ".to_string()), Just("Apr 1 ".to_string()), Just(" \\_ ".to_string()), Just("12 ".to_string()),
            Just("- ".to_string()), Just("\n".to_string()), "\\PC{0,12}",
        ], 0..40)) {
            let text: String = pieces.concat();
            let _ = parse_processes(&text);
            let b = parse_str(&Ps, &text, &ParseCtx::default());
            for line in text.lines() {
                let _ = Ps.fields(line.as_bytes(), &ParseCtx::default());
            }
            let _ = b;
        }
    }
}
