#!/usr/bin/env python3
"""Renders a terminal screen captured with `tmux capture-pane -e -p` (text with SGR colour
sequences) as a PNG, one monospace cell per character.

    ansi_to_png.py SCREEN.ans OUT.png [--cols 120] [--rows 40]

Needs Pillow and the DejaVu Sans Mono font (Debian: fonts-dejavu-core).
"""

import argparse
import re

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE = 15

# xterm's 16 colours, slightly softened; then the default colours.
PALETTE = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]
DEFAULT_FG = (204, 204, 204)
DEFAULT_BG = (24, 24, 27)

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def xterm256(n):
    """The colour of xterm palette index n."""
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    g = 8 + (n - 232) * 10
    return (g, g, g)


class Pen:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = False
        self.dim = False
        self.reverse = False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = PALETTE[c - 30]
            elif 90 <= c <= 97:
                self.fg = PALETTE[c - 90 + 8]
            elif 40 <= c <= 47:
                self.bg = PALETTE[c - 40]
            elif 100 <= c <= 107:
                self.bg = PALETTE[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    colour = xterm256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    colour = tuple(codes[i + 2:i + 5])
                    i += 4
                else:
                    colour = None
                if c == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1

    def colours(self):
        fg = self.fg or DEFAULT_FG
        bg = self.bg or DEFAULT_BG
        if self.dim:
            fg = tuple(v * 2 // 3 for v in fg)
        return (bg, fg) if self.reverse else (fg, bg)


def parse(text, cols, rows):
    """The screen as rows of (char, fg, bg, bold) cells."""
    pen = Pen()
    screen = []
    for line in text.split("\n")[:rows]:
        row = []
        pos = 0
        # The pen carries over from line to line, as tmux writes it.
        for m in list(SGR.finditer(line)) + [None]:
            end = m.start() if m else len(line)
            for ch in line[pos:end]:
                fg, bg = pen.colours()
                row.append((ch, fg, bg, pen.bold))
            if m:
                pen.apply(m.group(1))
                pos = m.end()
        blank = (" ", DEFAULT_FG, DEFAULT_BG, False)
        screen.append((row + [blank] * cols)[:cols])
    while len(screen) < rows:
        screen.append([(" ", DEFAULT_FG, DEFAULT_BG, False)] * cols)
    return screen


def render(screen, out):
    font = ImageFont.truetype(FONT, SIZE)
    bold = ImageFont.truetype(FONT_BOLD, SIZE)
    left, top, right, bottom = font.getbbox("M")
    cw = round(font.getlength("M"))
    ch = round(SIZE * 1.3)
    pad = 12
    img = Image.new("RGB", (len(screen[0]) * cw + 2 * pad, len(screen) * ch + 2 * pad), DEFAULT_BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(screen):
        for x, (c, fg, bg, b) in enumerate(row):
            px, py = pad + x * cw, pad + y * ch
            if bg != DEFAULT_BG:
                d.rectangle([px, py, px + cw - 1, py + ch - 1], fill=bg)
            if c == " ":
                continue
            if "\u2800" <= c <= "\u28ff":
                draw_braille(d, c, px, py, cw, ch, fg)
            elif "\u2580" <= c <= "\u259f" or "\u2500" <= c <= "\u257f":
                # Block and box characters fill the cell, so that bars and rules join up.
                draw_cell_glyph(d, c, px, py, cw, ch, fg, font)
            else:
                d.text((px, py + (ch - (bottom - top)) // 2 - top), c, font=bold if b else font, fill=fg)
    img.save(out)


def draw_cell_glyph(d, c, px, py, cw, ch, fg, font):
    eighths = "▁▂▃▄▅▆▇█"
    if c in eighths:
        h = ch * (eighths.index(c) + 1) // 8
        d.rectangle([px, py + ch - h, px + cw - 1, py + ch - 1], fill=fg)
        return
    mid_x, mid_y = px + cw // 2, py + ch // 2
    horizontal = {"─": (px, px + cw), "┌": (mid_x, px + cw), "┐": (px, mid_x), "└": (mid_x, px + cw),
                  "┘": (px, mid_x), "├": (mid_x, px + cw), "┤": (px, mid_x), "┬": (px, px + cw),
                  "┴": (px, px + cw), "┼": (px, px + cw)}
    vertical = {"│": (py, py + ch), "┌": (mid_y, py + ch), "┐": (mid_y, py + ch), "└": (py, mid_y),
                "┘": (py, mid_y), "├": (py, py + ch), "┤": (py, py + ch), "┬": (mid_y, py + ch),
                "┴": (py, mid_y), "┼": (py, py + ch)}
    if c in horizontal or c in vertical:
        if c in horizontal:
            a, b = horizontal[c]
            d.line([a, mid_y, b, mid_y], fill=fg)
        if c in vertical:
            a, b = vertical[c]
            d.line([mid_x, a, mid_x, b], fill=fg)
        return
    d.text((px, py), c, font=font, fill=fg)


def draw_braille(d, c, px, py, cw, ch, fg):
    """A braille pattern as dots on a 2x4 grid (the monospace font has none)."""
    bits = ord(c) - 0x2800
    # (bit, column, row) of the eight dots.
    dots = [(0x01, 0, 0), (0x02, 0, 1), (0x04, 0, 2), (0x40, 0, 3),
            (0x08, 1, 0), (0x10, 1, 1), (0x20, 1, 2), (0x80, 1, 3)]
    r = max(1, cw // 6)
    for bit, col, row in dots:
        if bits & bit:
            x = px + cw * (1 + 2 * col) // 4
            y = py + ch * (1 + 2 * row) // 8
            d.ellipse([x - r, y - r, x + r, y + r], fill=fg)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("screen")
    ap.add_argument("out")
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    a = ap.parse_args()
    with open(a.screen, encoding="utf-8", errors="replace") as f:
        text = f.read()
    render(parse(text, a.cols, a.rows), a.out)


if __name__ == "__main__":
    main()
