//! `dependency-refused`: the app cannot reach a service it depends on. It fires on urllib3's
//! retry warnings (`Retrying (Retry(total=N, ...)) after connection broken by
//! 'NewConnectionError(... [Errno 111] Connection refused)': /path`), grouped into one series
//! per request (the retry budget counting down). Evidence: the warnings of the first series,
//! the final `Max retries exceeded` line, the target (scheme, host, port and path when the
//! logs name them), the waits between attempts (the backoff), and on Cloud Foundry whether a
//! network policy to the target is listed.

use super::{Context, Depth, Evidence, Finding, Rule};
use crate::analysis::scan::Lookout;
use crate::model::format_id::FormatId;
use crate::model::severity::Severity;
use crate::model::time::{MICROS_PER_SEC, Micros, TzReason, UNTIMED, format_utc};

pub struct DependencyRefused;

/// A retry warning further apart than this from the one before starts a new series.
const SERIES_GAP: Micros = 600 * MICROS_PER_SEC;
/// How far after a series to look for its final error.
const FINAL_WITHIN: Micros = 300 * MICROS_PER_SEC;

#[derive(Debug, Clone)]
struct Warning {
    record: (usize, usize),
    time: Micros,
    total: Option<u32>,
    path: Option<String>,
}

/// urllib3's retry warnings, in any log.
const RETRIES: Lookout = Lookout {
    name: "dependency-refused/retries",
    formats: FormatId::ALL,
    words: &["Retrying (Retry("],
};

fn refused(text: &str) -> bool {
    text.contains("Connection refused") || text.contains("Errno 111")
}

/// A urllib3 retry warning for a refused connection.
fn warning(cx: &Context, r: (usize, usize)) -> Option<Warning> {
    let text = cx.text(r);
    if !text.contains("Retrying (Retry(") || !refused(&text) {
        return None;
    }
    let total = text.split_once("Retry(total=").and_then(|(_, rest)| {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    });
    let path = text
        .rsplit_once("': ")
        .map(|(_, p)| p.trim().to_string())
        .filter(|p| p.starts_with('/'));
    Some(Warning {
        record: r,
        time: cx.time(r),
        total,
        path,
    })
}

/// The value after `key=` up to a quote, comma or `)`: `host='x'` -> `x`, `port=9000` -> `9000`.
fn arg(text: &str, key: &str) -> Option<String> {
    let (_, rest) = text.split_once(&format!("{key}="))?;
    let v: String = rest
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| !matches!(c, '\'' | '"' | ',' | ')'))
        .collect();
    (!v.is_empty()).then_some(v)
}

/// Where the calls went, from a `HTTPConnectionPool(host='h', port=p): Max retries exceeded
/// with url: /path` line.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    scheme: &'static str,
    host: String,
    port: Option<u16>,
    path: Option<String>,
}

impl Target {
    fn url(&self) -> String {
        let port = self.port.map_or(String::new(), |p| format!(":{p}"));
        format!(
            "{}://{}{port}{}",
            self.scheme,
            self.host,
            self.path.as_deref().unwrap_or("")
        )
    }
}

fn target(text: &str) -> Option<Target> {
    let scheme = if text.contains("HTTPSConnectionPool(") {
        "https"
    } else if text.contains("HTTPConnectionPool(") {
        "http"
    } else {
        return None;
    };
    let host = arg(text, "host")?;
    let port = arg(text, "port").and_then(|p| p.parse().ok());
    let path = text
        .split_once("with url: ")
        .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("").to_string())
        .filter(|p| p.starts_with('/'));
    Some(Target {
        scheme,
        host,
        port,
        path,
    })
}

/// Consecutive warnings of one source form a series while the retry budget counts down.
fn split_series(warnings: Vec<Warning>) -> Vec<Vec<Warning>> {
    let mut out: Vec<Vec<Warning>> = Vec::new();
    for w in warnings {
        let continues = out.last().and_then(|s| s.last()).is_some_and(|last| {
            w.time - last.time <= SERIES_GAP
                && match (last.total, w.total) {
                    (Some(a), Some(b)) => b < a,
                    _ => true,
                }
        });
        match out.last_mut() {
            Some(s) if continues => s.push(w),
            _ => out.push(vec![w]),
        }
    }
    out
}

fn secs_rounded(d: Micros) -> i64 {
    (d + MICROS_PER_SEC / 2).div_euclid(MICROS_PER_SEC)
}

impl Rule for DependencyRefused {
    fn id(&self) -> &'static str {
        "dependency-refused"
    }

    fn lookouts(&self) -> &'static [&'static Lookout] {
        &[&RETRIES]
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        // Retry warnings by source; the same stream may be in two files (cf logs as the CLI
        // and as a web console prints them): use the source with the most, preferring one whose
        // lines carry their own zone.
        let mut by_source: Vec<(usize, Vec<Warning>)> = Vec::new();
        for r in cx.records_with(&RETRIES) {
            let Some(w) = warning(cx, r) else { continue };
            match by_source.iter_mut().find(|(s, _)| *s == r.0) {
                Some((_, v)) => v.push(w),
                None => by_source.push((r.0, vec![w])),
            }
        }
        let sources = &cx.incident.sources;
        let Some((source, warnings)) = by_source.into_iter().max_by_key(|(s, v)| {
            (
                v.len(),
                sources[*s].zone.reason == TzReason::InLog,
                usize::MAX - *s,
            )
        }) else {
            return Vec::new();
        };
        let total_warnings = warnings.len();
        let all_series = split_series(warnings);
        let Some(first) = all_series.first() else {
            return Vec::new();
        };
        let host = sources[source].host.clone();
        let rows: Vec<(usize, usize)> = cx
            .records(FormatId::ALL)
            .filter(|r| r.0 == source)
            .collect();

        // The gap before the first retry: from the line that started the call (the record
        // just before it in the same source), else 0.
        let first_rec = first[0].record;
        let before = rows
            .iter()
            .position(|r| *r == first_rec)
            .and_then(|i| i.checked_sub(1))
            .map(|i| rows[i])
            .filter(|r| {
                cx.time(*r) != UNTIMED && first[0].time - cx.time(*r) <= 60 * MICROS_PER_SEC
            });
        let mut gaps: Vec<i64> =
            vec![before.map_or(0, |r| secs_rounded(first[0].time - cx.time(r)))];
        gaps.extend(
            first
                .windows(2)
                .map(|w| secs_rounded(w[1].time - w[0].time)),
        );
        let gaps_text: Vec<String> = gaps.iter().map(|g| g.to_string()).collect();

        // The final error after the first series, naming the target.
        let last_time = first.last().map_or(first[0].time, |w| w.time);
        let last_rec = first.last().map_or(first_rec, |w| w.record);
        let final_line = rows
            .iter()
            .skip_while(|r| **r != last_rec)
            .skip(1)
            .take_while(|r| cx.time(**r) == UNTIMED || cx.time(**r) - last_time <= FINAL_WITHIN)
            .find(|r| {
                let t = cx.text(**r);
                (t.contains("Max retries exceeded") || t.contains("ConnectionError")) && refused(&t)
            })
            .copied();
        let mut target = final_line.and_then(|r| target(&cx.text(r)));
        if let Some(t) = &mut target
            && t.path.is_none()
        {
            t.path = first[0].path.clone();
        }
        let where_ = target
            .as_ref()
            .map(Target::url)
            .or_else(|| first[0].path.clone())
            .unwrap_or_else(|| "an internal service".to_string());

        let mut evidence: Vec<Evidence> = first
            .iter()
            .take(6)
            .map(|w| Evidence::Record {
                source: w.record.0,
                row: w.record.1,
            })
            .collect();
        if let Some(r) = final_line {
            evidence.push(Evidence::Record {
                source: r.0,
                row: r.1,
            });
        }
        evidence.push(Evidence::Fact(format!(
            "{} attempts of one call, refused each time; waits before each retry: {} s",
            first.len(),
            gaps_text.join(", ")
        )));
        if all_series.len() > 1 {
            let starts: Vec<String> = all_series
                .iter()
                .map(|s| format_utc(s[0].time).get(11..19).unwrap_or("?").to_string())
                .collect();
            evidence.push(Evidence::Fact(format!(
                "{} such series ({total_warnings} retry warnings) in {}, starting at {} UTC",
                all_series.len(),
                sources[source].file,
                starts.join(", ")
            )));
        }

        // Cloud Foundry: the app name is the last part of a `cf:ORG/SPACE/APP` host, and an
        // internal route's first label is the destination app.
        let cf_app = host
            .strip_prefix("cf:")
            .and_then(|h| h.rsplit('/').next())
            .map(str::to_string);
        let mut next = Vec::new();
        let mut fix = None;
        if let (Some(app), Some(t)) = (&cf_app, &target) {
            let dest = t
                .host
                .strip_suffix(".apps.internal")
                .map_or(t.host.clone(), |h| {
                    h.split('.').next().unwrap_or(h).to_string()
                });
            let port = t.port.unwrap_or(if t.scheme == "https" { 443 } else { 80 });
            let cmd = format!("cf add-network-policy {app} {dest} --protocol tcp --port {port}");
            // Is a policy to the destination listed?
            if let Some((i, s)) = sources
                .iter()
                .enumerate()
                .find(|(_, s)| s.host == host && s.file.contains("network-polic"))
            {
                let text = String::from_utf8_lossy(&s.data);
                let listed = text.lines().any(|l| {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    w.len() >= 2 && w[0] == app && w[1] == dest
                });
                if !listed {
                    evidence.push(Evidence::Fact(format!(
                        "{} lists no network policy {app} -> {dest}",
                        cx.incident.sources[i].file
                    )));
                }
            }
            evidence.push(Evidence::Fact(format!("fix: {cmd}")));
            next.push(
                "cf network-policies   # is there a policy from the app to the service?"
                    .to_string(),
            );
            next.push(format!(
                "cf app {dest}   # is the service running, on which port?"
            ));
            next.push(cmd.clone());
            next.push(format!("cf ssh {app} -c 'curl -sv {}'", t.url()));
            fix = Some(cmd);
        } else {
            match &target {
                Some(t) => {
                    let port = t.port.map_or(String::new(), |p| format!(":{p}"));
                    next.push(format!("curl -sv {}   # from the app's host", t.url()));
                    next.push(format!(
                        "ss -ltnp | grep '{port}'   # on {}: does anything listen?",
                        t.host
                    ));
                    next.push(
                        "ufw status verbose; iptables -S   # a firewall between them?".to_string(),
                    );
                }
                None => {
                    next.push(
                        "ss -ltnp   # on the service's host: does anything listen?".to_string(),
                    );
                    next.push(
                        "ufw status verbose; iptables -S   # a firewall between them?".to_string(),
                    );
                }
            }
        }

        let fix_text = match &fix {
            Some(cmd) => format!(
                " On Cloud Foundry, apps reach each other's internal routes only when a network \
                 policy allows it: `{cmd}`."
            ),
            None => " Check that the service runs and listens on that port, and that no \
                     firewall or network policy blocks the app from it."
                .to_string(),
        };
        vec![Finding {
            id: self.id(),
            severity: Severity::Error,
            depth: Depth::Cause,
            title: format!(
                "the app cannot connect to {where_}: connection refused, {} attempts with backoff {} s{}",
                first.len(),
                gaps_text.join(", "),
                if all_series.len() > 1 {
                    format!(" ({} times)", all_series.len())
                } else {
                    String::new()
                }
            ),
            explanation: format!(
                "The application calls another service ({where_}) and every connection is \
                 refused: nothing accepts connections there for this app. The HTTP library \
                 retries with growing waits, so each user request hangs for the whole backoff \
                 and then fails (often a 500).{fix_text}"
            ),
            evidence,
            next,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_on_refused_scanner() {
        let f = crate::analysis::rules::run_on_bundle(&DependencyRefused, "i6-pipeline-platform");
        assert_eq!(f.len(), 1, "{f:?}");
        let f = &f[0];
        assert_eq!(f.depth, Depth::Cause);
        assert!(
            f.title
                .contains("http://clamav-rest.apps.internal:9000/scan"),
            "{}",
            f.title
        );
        assert!(f.title.contains("backoff 0, 2, 4, 8, 16 s"), "{}", f.title);
        assert!(f.title.contains("(3 times)"), "{}", f.title);
        let fix = "cf add-network-policy grants-portal clamav-rest --protocol tcp --port 9000";
        assert!(f.next.iter().any(|n| n == fix), "{:?}", f.next);
        let facts: Vec<&str> = f
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Fact(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            facts.iter().any(|t| t.contains("15 retry warnings")),
            "{facts:?}"
        );
        assert!(
            facts
                .iter()
                .any(|t| t.contains("no network policy grants-portal -> clamav-rest")),
            "{facts:?}"
        );
        let records = f
            .evidence
            .iter()
            .filter(|e| matches!(e, Evidence::Record { .. }))
            .count();
        assert_eq!(records, 6);
    }

    #[test]
    fn silent_elsewhere() {
        for name in [
            "healthy",
            "i1-socket-mismatch",
            "i2-import-time-setting",
            "i3-daemon-reload",
            "i4-retry-storm",
            "i5-single-worker-upload",
            "awkward",
        ] {
            let f = crate::analysis::rules::run_on_bundle(&DependencyRefused, name);
            assert!(f.is_empty(), "{name}: {f:?}");
        }
    }

    #[test]
    fn reads_the_target() {
        let t = target("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='db.internal', port=8443): Max retries exceeded with url: /v1/x?y=1 (Caused by ...)").unwrap();
        assert_eq!(t.url(), "https://db.internal:8443/v1/x?y=1");
        assert!(target("nothing here").is_none());
    }
}
