//! nginx `log_format` directives compiled into a matcher: the format string becomes a list of
//! literal runs and variables, and a line is walked against it without regex.

/// A variable of a `log_format` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    RemoteAddr,
    TimeLocal,
    TimeIso8601,
    Msec,
    Request,
    Status,
    BodyBytesSent,
    RequestLength,
    RequestTime,
    UpstreamAddr,
    UpstreamStatus,
    UpstreamResponseTime,
    /// `$http_user_agent` and friends: the header name after `http_`.
    Http(String),
    /// Any other variable, kept by name.
    Other(String),
}

impl Var {
    fn from_name(name: &str) -> Var {
        match name {
            "remote_addr" => Var::RemoteAddr,
            "time_local" => Var::TimeLocal,
            "time_iso8601" => Var::TimeIso8601,
            "msec" => Var::Msec,
            "request" => Var::Request,
            "status" => Var::Status,
            "body_bytes_sent" => Var::BodyBytesSent,
            "request_length" => Var::RequestLength,
            "request_time" => Var::RequestTime,
            "upstream_addr" => Var::UpstreamAddr,
            "upstream_status" => Var::UpstreamStatus,
            "upstream_response_time" => Var::UpstreamResponseTime,
            _ => match name.strip_prefix("http_") {
                Some(h) => Var::Http(h.to_string()),
                None => Var::Other(name.to_string()),
            },
        }
    }

    /// The field name sitrep shows for this variable.
    pub fn field_name(&self) -> String {
        match self {
            Var::RemoteAddr => "client".into(),
            Var::TimeLocal | Var::TimeIso8601 | Var::Msec => "time".into(),
            Var::Request => "request".into(),
            Var::Status => "status".into(),
            Var::BodyBytesSent => "bytes".into(),
            Var::RequestLength => "request_length".into(),
            Var::RequestTime => "request_time".into(),
            Var::UpstreamAddr => "upstream_addr".into(),
            Var::UpstreamStatus => "upstream_status".into(),
            Var::UpstreamResponseTime => "upstream_time".into(),
            Var::Http(h) => h.clone(),
            Var::Other(o) => o.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Lit(Vec<u8>),
    Var(Var),
}

/// A compiled `log_format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    pub name: String,
    pub escape_json: bool,
    items: Vec<Item>,
    /// Accept text after the last item (built-in formats, which people often extend).
    allow_trailing: bool,
}

/// What a line yields: the spans of each variable, in format order.
pub type Captures<'l> = Vec<(&'l Var, &'l [u8])>;

impl LogFormat {
    /// Compile the text of a `log_format` (the quoted parts already joined).
    pub fn compile(name: &str, format: &str, escape_json: bool) -> LogFormat {
        let mut items = Vec::new();
        let mut lit = Vec::new();
        let b = format.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'$' {
                let braced = b.get(i + 1) == Some(&b'{');
                let start = i + 1 + usize::from(braced);
                let len = b[start..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
                if len > 0 {
                    if !lit.is_empty() {
                        items.push(Item::Lit(std::mem::take(&mut lit)));
                    }
                    let name = String::from_utf8_lossy(&b[start..start + len]);
                    items.push(Item::Var(Var::from_name(&name)));
                    i = start + len + usize::from(braced && b.get(start + len) == Some(&b'}'));
                    continue;
                }
            }
            lit.push(b[i]);
            i += 1;
        }
        if !lit.is_empty() {
            items.push(Item::Lit(lit));
        }
        LogFormat {
            name: name.to_string(),
            escape_json,
            items,
            allow_trailing: false,
        }
    }

    /// nginx's predefined `combined`, which also matches lines with fields appended.
    pub fn combined() -> LogFormat {
        let mut f = LogFormat::compile(
            "combined",
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
            false,
        );
        f.allow_trailing = true;
        f
    }

    /// The Common Log Format (`combined` without referer and agent).
    pub fn common() -> LogFormat {
        let mut f = LogFormat::compile(
            "common",
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent"#,
            false,
        );
        f.allow_trailing = true;
        f
    }

    /// Whether the format names a time variable (a format without one cannot place lines).
    pub fn has_time(&self) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i, Item::Var(Var::TimeLocal | Var::TimeIso8601 | Var::Msec)))
    }

    /// Walk `line` against the format, calling `each` with every variable's value; false when
    /// the line does not match.
    pub fn walk<'a>(&'a self, line: &'a [u8], mut each: impl FnMut(&'a Var, &'a [u8])) -> bool {
        let mut pos = 0usize;
        let n = self.items.len();
        for (k, item) in self.items.iter().enumerate() {
            match item {
                Item::Lit(l) => {
                    if !line[pos..].starts_with(l) {
                        return false;
                    }
                    pos += l.len();
                }
                Item::Var(v) => {
                    let rest = &line[pos..];
                    let up_to_space = || rest.iter().position(|c| *c == b' ').unwrap_or(rest.len());
                    let len = match self.items.get(k + 1) {
                        // The last literal of a strict format closes the line: take the last
                        // occurrence, so a value may contain that byte.
                        Some(Item::Lit(next))
                            if next.len() == 1 && k + 2 == n && !self.allow_trailing =>
                        {
                            memchr::memrchr(next[0], rest)
                        }
                        Some(Item::Lit(next)) => find_literal(rest, next),
                        Some(Item::Var(_)) => Some(up_to_space()),
                        None if self.allow_trailing => Some(up_to_space()),
                        None => Some(rest.len()),
                    };
                    let Some(len) = len else { return false };
                    let value = &rest[..len];
                    if !plausible(v, value) {
                        return false;
                    }
                    each(v, value);
                    pos += len;
                }
            }
        }
        pos == line.len() || self.allow_trailing
    }

    /// Every variable's value, in format order; `None` when the line does not match.
    pub fn captures<'a>(&'a self, line: &'a [u8]) -> Option<Captures<'a>> {
        let mut out = Vec::with_capacity(self.items.len());
        self.walk(line, |v, value| out.push((v, value)))
            .then_some(out)
    }
}

/// First occurrence of a short literal: the literals of log formats are a few bytes, for
/// which scanning for the first byte and comparing beats building a substring searcher.
fn find_literal(hay: &[u8], lit: &[u8]) -> Option<usize> {
    let (&first, rest) = lit.split_first()?;
    let mut from = 0;
    while let Some(i) = memchr::memchr(first, &hay[from..]) {
        let at = from + i;
        if hay[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Cheap checks that keep a format from matching a line of another shape.
fn plausible(v: &Var, value: &[u8]) -> bool {
    match v {
        Var::Status => value.len() == 3 && value.iter().all(u8::is_ascii_digit),
        Var::BodyBytesSent | Var::RequestLength => {
            value == b"-" || (!value.is_empty() && value.iter().all(u8::is_ascii_digit))
        }
        Var::RemoteAddr => !value.is_empty() && !value.contains(&b' '),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_matches_a_custom_format() {
        let f = LogFormat::compile(
            "timed",
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time urt="$upstream_response_time""#,
            false,
        );
        let line = br#"10.0.0.7 - - [13/Apr/2023:11:24:04 +0000] "POST /api/deployments/42/run HTTP/1.1" 504 167 "-" "python-requests/2.28" rt=120.001 urt="120.000""#;
        let caps = f.captures(line).unwrap();
        let get = |name: &str| {
            caps.iter()
                .find(|(v, _)| v.field_name() == name)
                .map(|(_, s)| String::from_utf8_lossy(s).into_owned())
        };
        assert_eq!(get("status").as_deref(), Some("504"));
        assert_eq!(get("request_time").as_deref(), Some("120.001"));
        assert_eq!(get("upstream_time").as_deref(), Some("120.000"));
        assert_eq!(get("user_agent").as_deref(), Some("python-requests/2.28"));
        assert!(f.captures(b"garbage").is_none());
    }

    #[test]
    fn combined_takes_trailing_fields_and_common_lines() {
        let line =
            br#"1.2.3.4 - - [13/Apr/2023:11:24:04 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" "-""#;
        assert!(LogFormat::combined().captures(line).is_some());
        let clf = br#"1.2.3.4 - frank [13/Apr/2023:11:24:04 -0700] "GET / HTTP/1.0" 200 2326"#;
        assert!(LogFormat::common().captures(clf).is_some());
        assert!(LogFormat::combined().captures(clf).is_none());
    }

    #[test]
    fn braced_variables_and_json_formats() {
        let f = LogFormat::compile("j", r#"{"t":"${time_iso8601}","s":$status}"#, true);
        let caps = f
            .captures(br#"{"t":"2023-04-13T11:24:04+00:00","s":502}"#)
            .unwrap();
        assert_eq!(caps.len(), 2);
        assert_eq!(caps[1].1, b"502");
        assert!(f.has_time());
    }
}
