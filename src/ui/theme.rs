//! Styles named for what they show, read from `themes/*.toml` (compiled in). `NO_COLOR`
//! drops every colour and keeps only bold and reverse video.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::model::severity::Severity;

pub const DEFAULT: &str = include_str!("../../themes/default.toml");

/// The built-in themes by name, compiled in from `themes/`.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("default", DEFAULT),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeverityColors {
    emerg: String,
    alert: String,
    crit: String,
    error: String,
    warn: String,
    notice: String,
    info: String,
    debug: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UiColors {
    border: String,
    border_focused: String,
    title: String,
    selection_bg: String,
    aligned_bg: String,
    header_bg: String,
    header_fg: String,
    muted: String,
    histogram: String,
    histogram_cursor: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    severity: SeverityColors,
    ui: UiColors,
}

/// Resolved styles.
#[derive(Debug, Clone)]
pub struct Theme {
    severity: [Color; 8],
    border: Color,
    border_focused: Color,
    title: Color,
    selection_bg: Color,
    aligned_bg: Color,
    header_bg: Color,
    header_fg: Color,
    muted: Color,
    histogram: Color,
    histogram_cursor: Color,
    no_color: bool,
    /// The terminal's colour depth the colours were mapped to.
    pub depth: Depth,
}

/// How many colours the terminal shows, from `COLORTERM` and `TERM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    TrueColor,
    Indexed256,
    Basic16,
}

impl Depth {
    pub fn from_env() -> Depth {
        let colorterm = std::env::var("COLORTERM").unwrap_or_default();
        let term = std::env::var("TERM").unwrap_or_default();
        if colorterm.contains("truecolor") || colorterm.contains("24bit") {
            Depth::TrueColor
        } else if term.contains("256") || term.starts_with("tmux") || term.starts_with("screen") {
            Depth::Indexed256
        } else {
            Depth::Basic16
        }
    }
}

/// The nearest colour the terminal can show: RGB becomes a 256-colour index, or one of the 16
/// basic colours.
pub fn adapt(c: Color, depth: Depth) -> Color {
    let Color::Rgb(r, g, b) = c else {
        return c;
    };
    match depth {
        Depth::TrueColor => c,
        Depth::Indexed256 => {
            let level = |v: u8| {
                if v < 48 {
                    0
                } else if v < 115 {
                    1
                } else {
                    (v - 35) / 40
                }
            };
            Color::Indexed(16 + 36 * level(r) + 6 * level(g) + level(b))
        }
        Depth::Basic16 => {
            const BASIC: [(Color, (i32, i32, i32)); 16] = [
                (Color::Black, (0, 0, 0)),
                (Color::Red, (205, 49, 49)),
                (Color::Green, (13, 188, 121)),
                (Color::Yellow, (229, 229, 16)),
                (Color::Blue, (36, 114, 200)),
                (Color::Magenta, (188, 63, 188)),
                (Color::Cyan, (17, 168, 205)),
                (Color::Gray, (229, 229, 229)),
                (Color::DarkGray, (102, 102, 102)),
                (Color::LightRed, (241, 76, 76)),
                (Color::LightGreen, (35, 209, 139)),
                (Color::LightYellow, (245, 245, 67)),
                (Color::LightBlue, (59, 142, 234)),
                (Color::LightMagenta, (214, 112, 214)),
                (Color::LightCyan, (41, 184, 219)),
                (Color::White, (255, 255, 255)),
            ];
            let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
            BASIC
                .iter()
                .min_by_key(|(_, (br, bg, bb))| (r - br).pow(2) + (g - bg).pow(2) + (b - bb).pow(2))
                .map_or(c, |(col, _)| *col)
        }
    }
}

fn color(name: &str, depth: Depth) -> Result<Color, String> {
    let c = Color::from_str(name).map_err(|_| format!("unknown colour {name:?}"))?;
    Ok(adapt(c, depth))
}

impl Theme {
    /// Parse a theme file for this terminal; `no_color` turns every colour off.
    pub fn parse(text: &str, no_color: bool) -> Result<Theme, String> {
        Theme::parse_at(text, no_color, Depth::from_env())
    }

    /// Parse a theme file for a terminal of colour depth `depth`.
    pub fn parse_at(text: &str, no_color: bool, depth: Depth) -> Result<Theme, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let s = &f.severity;
        let u = &f.ui;
        Ok(Theme {
            severity: [
                color(&s.emerg, depth)?,
                color(&s.alert, depth)?,
                color(&s.crit, depth)?,
                color(&s.error, depth)?,
                color(&s.warn, depth)?,
                color(&s.notice, depth)?,
                color(&s.info, depth)?,
                color(&s.debug, depth)?,
            ],
            border: color(&u.border, depth)?,
            border_focused: color(&u.border_focused, depth)?,
            title: color(&u.title, depth)?,
            selection_bg: color(&u.selection_bg, depth)?,
            aligned_bg: color(&u.aligned_bg, depth)?,
            header_bg: color(&u.header_bg, depth)?,
            header_fg: color(&u.header_fg, depth)?,
            muted: color(&u.muted, depth)?,
            histogram: color(&u.histogram, depth)?,
            histogram_cursor: color(&u.histogram_cursor, depth)?,
            no_color,
            depth,
        })
    }

    /// The built-in dark theme, honouring `NO_COLOR`.
    pub fn default_for_env() -> Theme {
        Theme::named("default").unwrap_or_else(|_| Theme::plain())
    }

    /// A theme by name: `themes/NAME.toml` in the config directory if there is one, else the
    /// built-in theme of that name; `NO_COLOR` honoured.
    pub fn resolve(name: &str, config_dir: Option<&std::path::Path>) -> Result<Theme, String> {
        if let Some(dir) = config_dir {
            let file = dir.join("themes").join(format!("{name}.toml"));
            if let Ok(text) = std::fs::read_to_string(&file) {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                return Theme::parse(&text, no_color)
                    .map_err(|e| format!("{}: {e}", file.display()));
            }
        }
        Theme::named(name)
    }

    /// A built-in theme by name, honouring `NO_COLOR`.
    pub fn named(name: &str) -> Result<Theme, String> {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let text = BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                format!("no theme {name:?}; built in: {}", names.join(", "))
            })?;
        Theme::parse(text, no_color).map_err(|e| format!("theme {name}: {e}"))
    }

    /// No colours at all.
    pub fn plain() -> Theme {
        Theme {
            severity: [Color::Reset; 8],
            border: Color::Reset,
            border_focused: Color::Reset,
            title: Color::Reset,
            selection_bg: Color::Reset,
            aligned_bg: Color::Reset,
            header_bg: Color::Reset,
            header_fg: Color::Reset,
            muted: Color::Reset,
            histogram: Color::Reset,
            histogram_cursor: Color::Reset,
            no_color: true,
            depth: Depth::Basic16,
        }
    }

    /// Whether colours are on (syntax colouring follows this too).
    pub fn colours(&self) -> bool {
        !self.no_color
    }

    fn fg(&self, c: Color) -> Style {
        if self.no_color {
            Style::default()
        } else {
            Style::default().fg(c)
        }
    }

    pub fn severity(&self, s: Severity) -> Style {
        let st = self.fg(self.severity[s as usize]);
        if s <= Severity::Error {
            st.add_modifier(Modifier::BOLD)
        } else {
            st
        }
    }

    pub fn block(&self, focused: bool) -> Style {
        if focused {
            self.fg(self.border_focused).add_modifier(Modifier::BOLD)
        } else {
            self.fg(self.border)
        }
    }

    pub fn title(&self, focused: bool) -> Style {
        let s = self.fg(self.title);
        if focused {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    /// The selected row of the focused pane.
    pub fn selection(&self) -> Style {
        if self.no_color {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .bg(self.selection_bg)
                .add_modifier(Modifier::BOLD)
        }
    }

    /// The row other panes aligned to the cursor time.
    pub fn aligned(&self) -> Style {
        if self.no_color {
            Style::default().add_modifier(Modifier::UNDERLINED)
        } else {
            Style::default().bg(self.aligned_bg)
        }
    }

    pub fn header(&self) -> Style {
        if self.no_color {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().bg(self.header_bg).fg(self.header_fg)
        }
    }

    /// A search match inside a line: reversed, so it shows in every theme and without colour.
    pub fn match_style(&self) -> Style {
        Style::default().add_modifier(ratatui::style::Modifier::REVERSED)
    }

    pub fn muted(&self) -> Style {
        self.fg(self.muted)
    }

    pub fn histogram(&self, cursor: bool) -> Style {
        if cursor {
            self.fg(self.histogram_cursor)
                .add_modifier(Modifier::REVERSED)
        } else {
            self.fg(self.histogram)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_theme_parses_and_no_color_drops_colours() {
        let t = Theme::parse(DEFAULT, false).unwrap();
        assert_eq!(t.severity(Severity::Error).fg, Some(Color::Red));
        let plain = Theme::parse(DEFAULT, true).unwrap();
        assert_eq!(plain.severity(Severity::Error).fg, None);
        assert!(Theme::parse("[severity]\nerror = 3\n", false).is_err());
        for (name, text) in BUILT_IN {
            assert!(Theme::parse(text, false).is_ok(), "theme {name}");
        }
        assert!(Theme::named("nope").unwrap_err().contains("high-contrast"));
        assert_eq!(
            adapt(Color::Rgb(0x1f, 0x3a, 0x5f), Depth::TrueColor),
            Color::Rgb(0x1f, 0x3a, 0x5f)
        );
        assert_eq!(
            adapt(Color::Rgb(255, 0, 0), Depth::Indexed256),
            Color::Indexed(196)
        );
        assert_eq!(
            adapt(Color::Rgb(250, 250, 250), Depth::Basic16),
            Color::White
        );
        assert_eq!(adapt(Color::Red, Depth::Basic16), Color::Red);
    }
}
