//! Rotated files join their source: `access.log.2.gz`, `access.log.1`, `access.log` are one
//! stream, oldest first; so are logrotate's `dateext` names (`access.log-20230412.gz`).

/// The name a rotated file belongs to (`nginx/access.log.2.gz` -> `nginx/access.log`) and its
/// age rank (0 = current; larger = older; date suffixes rank by date, newest lowest).
pub fn rotation_of(path: &str) -> (String, u64) {
    let stem = path.strip_suffix(".gz").unwrap_or(path);
    if let Some((base, n)) = stem.rsplit_once('.')
        && !n.is_empty()
        && n.len() <= 3
        && n.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = n.parse::<u64>()
    {
        return (base.to_string(), n + 1_000_000_000);
    }
    if let Some((base, d)) = stem.rsplit_once('-')
        && d.len() == 8
        && d.bytes().all(|b| b.is_ascii_digit())
        && let Ok(date) = d.parse::<u64>()
    {
        // Newer dates must rank lower: subtract from a date beyond any real one.
        return (base.to_string(), 100_000_000 - date.min(99_999_999));
    }
    (stem.to_string(), 0)
}

/// Sort paths so each rotation group is together and oldest first.
pub fn sort_for_reading(paths: &mut [String]) {
    paths.sort_by(|a, b| {
        let (ga, ra) = rotation_of(a);
        let (gb, rb) = rotation_of(b);
        ga.cmp(&gb).then(rb.cmp(&ra)).then(a.cmp(b))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_orders_rotated_files() {
        assert_eq!(rotation_of("nginx/access.log.2.gz").0, "nginx/access.log");
        assert_eq!(rotation_of("nginx/access.log").0, "nginx/access.log");
        assert_eq!(
            rotation_of("nginx/error.log-20230412.gz").0,
            "nginx/error.log"
        );
        assert_eq!(
            rotation_of("journal/journal.json").0,
            "journal/journal.json"
        );
        let mut v: Vec<String> = ["a.log", "a.log.1", "a.log.10.gz", "a.log.2.gz", "b.log"]
            .map(String::from)
            .to_vec();
        sort_for_reading(&mut v);
        assert_eq!(
            v,
            ["a.log.10.gz", "a.log.2.gz", "a.log.1", "a.log", "b.log"]
        );
        let mut d: Vec<String> = ["e.log", "e.log-20230411", "e.log-20230412.gz"]
            .map(String::from)
            .to_vec();
        sort_for_reading(&mut d);
        assert_eq!(d, ["e.log-20230411", "e.log-20230412.gz", "e.log"]);
    }
}
