//! Syntax colours for the detail pane: Python tracebacks, JSON, nginx configuration and unit
//! files. The syntax set is built once, on first use; highlighted lines are cached per record
//! by the app, so drawing never parses.

use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::{SyntaxDefinition, SyntaxSet};

use crate::model::format_id::FormatId;
use crate::text::sanitize;
use crate::ui::theme::{Depth, adapt};

/// Syntaxes sitrep ships because syntect's defaults lack them.
const SHIPPED: &[&str] = &[
    include_str!("syntaxes/nginx.sublime-syntax"),
    include_str!("syntaxes/systemd.sublime-syntax"),
    include_str!("syntaxes/traceback.sublime-syntax"),
];

struct Highlighter {
    set: SyntaxSet,
    theme: Theme,
}

fn highlighter() -> &'static Highlighter {
    static H: OnceLock<Highlighter> = OnceLock::new();
    H.get_or_init(|| {
        let mut builder = SyntaxSet::load_defaults_newlines().into_builder();
        for text in SHIPPED {
            if let Ok(def) = SyntaxDefinition::load_from_str(text, true, None) {
                builder.add(def);
            }
        }
        let themes = ThemeSet::load_defaults();
        let theme = themes
            .themes
            .get("base16-ocean.dark")
            .or_else(|| themes.themes.values().next())
            .cloned()
            .unwrap_or_default();
        Highlighter {
            set: builder.build(),
            theme,
        }
    })
}

/// Build the syntax set on a thread of its own, so the first frame finds it ready.
pub fn warm() {
    let _ = std::thread::Builder::new()
        .name("syntaxes".into())
        .spawn(|| {
            highlighter();
        });
}

/// The syntax a record's text is shown in, if any.
pub fn syntax_for(format: FormatId, text: &str) -> Option<&'static str> {
    match format {
        FormatId::NginxConfig => return Some("nginx"),
        FormatId::SystemctlCat => return Some("systemd unit"),
        _ => {}
    }
    if text.contains("Traceback (most recent call last)") {
        return Some("Python Traceback");
    }
    let t = text.trim_start();
    if (t.starts_with('{') || t.starts_with('['))
        && serde_json::from_str::<serde_json::Value>(t).is_ok()
    {
        return Some("JSON");
    }
    None
}

fn convert(s: syntect::highlighting::Style, depth: Depth) -> Style {
    let c = s.foreground;
    let mut style = Style::default().fg(adapt(Color::Rgb(c.r, c.g, c.b), depth));
    if s.font_style.contains(FontStyle::BOLD) {
        style = style.add_modifier(Modifier::BOLD);
    }
    if s.font_style.contains(FontStyle::ITALIC) {
        style = style.add_modifier(Modifier::ITALIC);
    }
    style
}

/// `text` as coloured lines in `syntax`; `None` when the syntax is unknown or parsing fails.
/// Text is sanitised before colouring, so no escape sequence survives.
pub fn highlight(text: &str, syntax: &str, depth: Depth) -> Option<Vec<Line<'static>>> {
    highlight_lines(text.split('\n'), syntax, depth)
}

/// `lines` (a record's lines on screen, not the whole of a long one) in colours of `syntax`.
pub fn highlight_lines<'a>(
    lines: impl Iterator<Item = &'a str>,
    syntax: &str,
    depth: Depth,
) -> Option<Vec<Line<'static>>> {
    let h = highlighter();
    let syn = h.set.find_syntax_by_name(syntax)?;
    let mut hl = HighlightLines::new(syn, &h.theme);
    let mut out = Vec::new();
    for line in lines {
        let safe = sanitize(&line.replace('\t', "    ")).into_owned();
        let with_nl = format!("{safe}\n");
        let ranges = hl.highlight_line(&with_nl, &h.set).ok()?;
        let spans: Vec<Span<'static>> = ranges
            .into_iter()
            .map(|(st, piece)| {
                Span::styled(piece.trim_end_matches('\n').to_string(), convert(st, depth))
            })
            .collect();
        out.push(Line::from(spans));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_syntaxes_load_and_colour_their_text() {
        let tb = "Traceback (most recent call last):\n  File \"/srv/app/app/__init__.py\", line 2, in <module>\n    from .utils import x\nImproperlyConfigured: nope";
        assert_eq!(
            syntax_for(FormatId::JournalJson, tb),
            Some("Python Traceback")
        );
        let lines = highlight(tb, "Python Traceback", Depth::TrueColor).unwrap();
        assert_eq!(lines.len(), 4);
        // The path of the frame is its own span, in a colour of its own.
        let frame = &lines[1];
        assert!(
            frame
                .spans
                .iter()
                .any(|s| s.content == "/srv/app/app/__init__.py"),
            "{frame:?}"
        );
        for name in ["nginx", "systemd unit", "JSON"] {
            assert!(highlight("x", name, Depth::TrueColor).is_some(), "{name}");
        }
        assert_eq!(
            syntax_for(FormatId::NginxAccess, "{\"status\":502}"),
            Some("JSON")
        );
        assert_eq!(syntax_for(FormatId::NginxAccess, "1.2.3.4 - -"), None);
        let nginx = highlight(
            "server {\n    proxy_pass http://127.0.0.1:8000;\n}",
            "nginx",
            Depth::TrueColor,
        )
        .unwrap();
        assert!(
            nginx[1]
                .spans
                .iter()
                .any(|s| s.content.contains("proxy_pass"))
        );
        // Escapes in log text stay inert.
        let esc = highlight("{\"m\":\"\u{1b}[2J\"}", "JSON", Depth::TrueColor).unwrap();
        assert!(
            esc.iter()
                .all(|l| l.spans.iter().all(|s| !s.content.contains('\u{1b}')))
        );
    }
}
