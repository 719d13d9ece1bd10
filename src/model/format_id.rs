//! The format ids used everywhere: CLI, JSON output, docs.

use serde::Serialize;

macro_rules! format_ids {
    ($($variant:ident => $id:literal),* $(,)?) => {
        /// Which format a source was recognised as.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FormatId { $($variant),* }

        impl FormatId {
            pub const ALL: &'static [FormatId] = &[$(FormatId::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(FormatId::$variant => $id),* }
            }

            pub fn parse(s: &str) -> Option<FormatId> {
                match s { $($id => Some(FormatId::$variant),)* _ => None }
            }
        }
    };
}

format_ids! {
    NginxAccess => "nginx-access",
    NginxError => "nginx-error",
    NginxConfig => "nginx-config",
    JournalJson => "journal-json",
    JournalExport => "journal-export",
    JournalShort => "journal-short",
    JournalShortIso => "journal-short-iso",
    JournalShortPrecise => "journal-short-precise",
    Gunicorn => "gunicorn",
    GunicornConfig => "gunicorn-config",
    CfLogs => "cf-logs",
    CfRevisions => "cf-revisions",
    CfEnv => "cf-env",
    CircleCi => "circleci",
    PythonLogging => "python-logging",
    SystemctlListUnits => "systemctl-list-units",
    SystemctlStatus => "systemctl-status",
    SystemctlShow => "systemctl-show",
    SystemctlCat => "systemctl-cat",
    Ss => "ss",
    Netstat => "netstat",
    Ps => "ps",
    Generic => "generic",
    Unknown => "unknown",
}

impl FormatId {
    /// The journal's formats: `journalctl -o json`, `export` and the `short` family.
    pub const JOURNALS: &'static [FormatId] = &[
        FormatId::JournalJson,
        FormatId::JournalExport,
        FormatId::JournalShort,
        FormatId::JournalShortIso,
        FormatId::JournalShortPrecise,
    ];

    /// Where an app server's own lines are: its log file (gunicorn's) and the journal.
    pub const APP_SERVER_LOGS: &'static [FormatId] = &[
        FormatId::Gunicorn,
        FormatId::JournalJson,
        FormatId::JournalExport,
        FormatId::JournalShort,
        FormatId::JournalShortIso,
        FormatId::JournalShortPrecise,
    ];

    pub fn is_journal(self) -> bool {
        FormatId::JOURNALS.contains(&self)
    }
}

impl std::fmt::Display for FormatId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FormatId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
