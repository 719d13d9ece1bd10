//! Clock skew between hosts, estimated from requests both saw: the proxy's access line and
//! the app server's access line for the same request (same method, path and status, close in
//! time). The app's clock is ahead by about the typical difference between the two.

use std::collections::HashMap;

use crate::model::Incident;
use crate::model::format_id::FormatId;
use crate::model::time::{MICROS_PER_SEC, Micros, UNTIMED};

/// What one host's clock looks like against the reference (the proxy).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub host: String,
    pub reference: String,
    /// How far `host`'s clock is ahead of the reference's.
    pub skew: Micros,
    /// Requests matched between the two.
    pub matched: usize,
}

/// Fewer matched requests than this say nothing.
const MIN_MATCHES: usize = 5;
/// A request's two lines are looked for at most this far apart.
const WINDOW: Micros = 60 * MICROS_PER_SEC;

/// `(method, path, status)` of an access line in the combined shape, and its time.
fn requests(
    incident: &Incident,
    host: &str,
    formats: &[FormatId],
) -> Vec<((String, String, String), Micros)> {
    let mut out = Vec::new();
    for s in incident
        .sources
        .iter()
        .filter(|s| s.host == host && formats.contains(&s.format))
    {
        for r in 0..s.len() {
            let t = s.ts[r];
            if t == UNTIMED {
                continue;
            }
            let text = s.text(r);
            let mut parts = text.split('"');
            let (Some(_), Some(request), Some(after)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let mut words = request.split_whitespace();
            let (Some(method), Some(path)) = (words.next(), words.next()) else {
                continue;
            };
            let Some(status) = after.split_whitespace().next() else {
                continue;
            };
            out.push((
                (method.to_string(), path.to_string(), status.to_string()),
                t,
            ));
        }
    }
    out
}

/// Every other host's skew against the host whose nginx logs the most requests (the proxy),
/// when enough requests were seen on both.
pub fn estimate(incident: &Incident) -> Vec<Estimate> {
    if incident.hosts.len() < 2 {
        return Vec::new();
    }
    let count = |h: &str| {
        incident
            .sources
            .iter()
            .filter(|s| s.host == h && s.format == FormatId::NginxAccess)
            .map(|s| s.len())
            .sum::<usize>()
    };
    let Some(reference) = incident
        .hosts
        .iter()
        .map(|h| h.name.as_str())
        .max_by_key(|h| count(h))
        .filter(|h| count(h) > 0)
    else {
        return Vec::new();
    };
    let mut at_proxy: HashMap<(String, String, String), Vec<Micros>> = HashMap::new();
    for (k, t) in requests(incident, reference, &[FormatId::NginxAccess]) {
        at_proxy.entry(k).or_default().push(t);
    }
    let mut out = Vec::new();
    for h in incident.hosts.iter().filter(|h| h.name != reference) {
        let mut diffs: Vec<Micros> = requests(
            incident,
            &h.name,
            &[FormatId::NginxAccess, FormatId::Gunicorn],
        )
        .into_iter()
        .filter_map(|(k, t)| {
            let seen = at_proxy.get(&k)?;
            seen.iter()
                .map(|p| t - p)
                .filter(|d| d.abs() <= WINDOW)
                .min_by_key(|d| d.abs())
        })
        .collect();
        if diffs.len() < MIN_MATCHES {
            continue;
        }
        diffs.sort_unstable();
        // The mean of those near the median: one-second log times average out, strays do not
        // pull it.
        let median = diffs[diffs.len() / 2];
        let near: Vec<Micros> = diffs
            .iter()
            .copied()
            .filter(|d| (d - median).abs() <= 2 * MICROS_PER_SEC)
            .collect();
        let skew = near.iter().sum::<Micros>() / near.len().max(1) as Micros;
        out.push(Estimate {
            host: h.name.clone(),
            reference: reference.to_string(),
            skew,
            matched: diffs.len(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Incident {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hosts");
        crate::ingest::load(
            &[root.join("proxy1"), root.join("app1"), root.join("app2")],
            &Default::default(),
        )
        .unwrap()
    }

    #[test]
    fn the_skew_of_each_app_server_is_found_within_half_a_second() {
        let inc = hosts();
        let e = estimate(&inc);
        let of = |h: &str| e.iter().find(|x| x.host == h).unwrap();
        assert_eq!(of("app2").reference, "proxy1");
        let app2 = of("app2").skew as f64 / 1e6;
        let app1 = of("app1").skew as f64 / 1e6;
        assert!((app2 - 2.3).abs() < 0.5, "app2 {app2}");
        assert!(app1.abs() < 0.5, "app1 {app1}");
        assert!(of("app2").matched >= 50);
    }

    #[test]
    fn applied_the_merged_timeline_puts_each_request_after_the_proxy_saw_it_start() {
        let mut inc = hosts();
        for e in estimate(&inc) {
            inc.apply_skew(&e.host, e.skew);
        }
        // After the correction, app2's lines sit within a second of the proxy's.
        let again = estimate(&inc);
        let app2 = again.iter().find(|x| x.host == "app2").unwrap();
        assert!(app2.skew.abs() < MICROS_PER_SEC / 2, "{}", app2.skew);
    }

    #[test]
    fn one_host_has_no_skew() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hosts/proxy1");
        let inc = crate::ingest::load(&[root], &Default::default()).unwrap();
        assert!(estimate(&inc).is_empty());
    }
}
