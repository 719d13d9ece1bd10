//! A drawn frame as an SVG picture: each cell's character in its colours, on a dark
//! background. `sitrep screenshots DIR` uses it to make the README's pictures from the real
//! renderer.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_W: f32 = 8.4;
const CELL_H: f32 = 17.0;
const DEFAULT_FG: &str = "#d0d0d0";
const DEFAULT_BG: &str = "#161b22";

/// xterm's 16 colours.
const BASIC: [&str; 16] = [
    "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
];

fn hex(c: Color, fallback: &'static str) -> String {
    let basic = |i: usize| BASIC[i].to_string();
    match c {
        Color::Reset => fallback.to_string(),
        Color::Black => basic(0),
        Color::Red => basic(1),
        Color::Green => basic(2),
        Color::Yellow => basic(3),
        Color::Blue => basic(4),
        Color::Magenta => basic(5),
        Color::Cyan => basic(6),
        Color::Gray => basic(7),
        Color::DarkGray => basic(8),
        Color::LightRed => basic(9),
        Color::LightGreen => basic(10),
        Color::LightYellow => basic(11),
        Color::LightBlue => basic(12),
        Color::LightMagenta => basic(13),
        Color::LightCyan => basic(14),
        Color::White => basic(15),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) if i < 16 => basic(usize::from(i)),
        Color::Indexed(i) if i >= 232 => {
            let v = 8 + (u32::from(i) - 232) * 10;
            format!("#{v:02x}{v:02x}{v:02x}")
        }
        Color::Indexed(i) => {
            let i = u32::from(i) - 16;
            let level = |n: u32| if n == 0 { 0 } else { 55 + n * 40 };
            format!(
                "#{:02x}{:02x}{:02x}",
                level(i / 36),
                level(i / 6 % 6),
                level(i % 6)
            )
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The buffer as an SVG document.
pub fn render(buf: &Buffer) -> String {
    let area = buf.area;
    let (w, h) = (
        f32::from(area.width) * CELL_W,
        f32::from(area.height) * CELL_H,
    );
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}"><rect width="100%" height="100%" fill="{DEFAULT_BG}"/><g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14px" xml:space="preserve">"#
    );
    for y in area.top()..area.bottom() {
        let ty = f32::from(y - area.top()) * CELL_H;
        for x in area.left()..area.right() {
            let Some(cell) = buf.cell((x, y)) else {
                continue;
            };
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let (mut fg, mut bg) = (hex(cell.fg, DEFAULT_FG), hex(cell.bg, DEFAULT_BG));
            if reversed {
                std::mem::swap(&mut fg, &mut bg);
            }
            let tx = f32::from(x - area.left()) * CELL_W;
            if bg != DEFAULT_BG {
                let _ = write!(
                    out,
                    r#"<rect x="{tx:.1}" y="{ty:.1}" width="{:.1}" height="{CELL_H}" fill="{bg}"/>"#,
                    CELL_W + 0.3
                );
            }
            let sym = cell.symbol();
            if sym.trim().is_empty() {
                continue;
            }
            let weight = if cell.modifier.contains(Modifier::BOLD) {
                r#" font-weight="bold""#
            } else {
                ""
            };
            let _ = write!(
                out,
                r#"<text x="{tx:.1}" y="{:.1}" fill="{fg}"{weight}>{}</text>"#,
                ty + CELL_H * 0.78,
                escape(sym)
            );
        }
    }
    out.push_str("</g></svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn cells_become_text_and_rects() {
        let mut b = Buffer::empty(Rect::new(0, 0, 4, 1));
        b.set_string(
            0,
            0,
            "a<",
            Style::default().fg(Color::Red).bg(Color::Rgb(1, 2, 3)),
        );
        let svg = render(&b);
        assert!(svg.contains(r##"fill="#cd3131">a</text>"##), "{svg}");
        assert!(svg.contains("&lt;"));
        assert!(svg.contains(r##"fill="#010203""##));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }
}
