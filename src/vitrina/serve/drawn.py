"""Drawn product images for the generated sample catalog, which has no photographs: a plain silhouette of the
garment's family in the product's colour, as SVG. Names look like `drawn-dress-navy-blue.svg` (catalog.sample
gives each product one)."""

from __future__ import annotations

import re

NAME = re.compile(r"^drawn-([a-z]+)-([a-z-]+)\.svg$")
COLOURS = {"black": "#222222", "white": "#f4f4f0", "navy-blue": "#1f2a52", "blue": "#2f6db5", "grey": "#8a8d91",
           "beige": "#d9c7a3", "brown": "#6b4a2f", "olive": "#6b6b2f", "red": "#c0262d", "maroon": "#6d1a24",
           "pink": "#e79ab4", "green": "#2f8a4a", "off-white": "#ece6d6", "charcoal": "#3a3d42", "khaki": "#bfae7e",
           "tan": "#c39a6b"}
SHAPES = {  # one path per family, drawn in a 160 x 160 box
    "top": "M50 30 L70 22 Q80 32 90 22 L110 30 L135 55 L120 68 L110 58 L110 135 L50 135 L50 58 L40 68 L25 55 Z",
    "outer": "M48 28 L70 20 L80 60 L90 20 L112 28 L138 60 L122 140 L100 140 L96 70 L80 140 L64 70 L60 140 "
             "L38 140 L22 60 Z",
    "dress": "M62 20 L98 20 L94 55 L128 140 L32 140 L66 55 Z",
    "bottom": "M52 22 L108 22 L114 140 L88 140 L80 60 L72 140 L46 140 Z",
    "shoe": "M20 100 L70 96 L92 78 L110 80 L140 104 L140 118 L20 118 Z",
    "boot": "M55 30 L90 30 L92 95 L135 105 L138 125 L55 125 Z",
    "bag": "M35 60 L125 60 L132 135 L28 135 Z M60 60 Q80 20 100 60",
    "watch": "M68 20 L92 20 L92 50 L68 50 Z M68 110 L92 110 L92 140 L68 140 Z M80 80 m-32 0 a32 32 0 1 0 64 0 "
             "a32 32 0 1 0 -64 0",
}


def drawn_image(name: str) -> bytes | None:
    """The SVG for a drawn image's name, or None when the name is not one."""
    match = NAME.match(name)
    if not match or match.group(1) not in SHAPES:
        return None
    fill = COLOURS.get(match.group(2), "#9a9a9a")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160" viewBox="0 0 160 160">'
            f'<rect width="160" height="160" fill="#fafafa"/>'
            f'<path d="{SHAPES[match.group(1)]}" fill="{fill}" fill-rule="evenodd" stroke="#555" stroke-width="1.5"/>'
            f'</svg>').encode()
