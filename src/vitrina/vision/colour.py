"""Colour families: the basic colour a shopper would name, over the catalog's many shade names."""

from __future__ import annotations

# A family groups the shade names catalogs use ("navy blue", "teal") under the basic term ("blue"). Metallics and
# multi-colour have no single hue to agree on.
FAMILIES: dict[str, tuple[str, ...]] = {
    "black": ("black", "charcoal black", "jet black"),
    "white": ("white", "off white", "cream", "ivory"),
    "grey": ("grey", "gray", "grey melange", "charcoal", "steel", "silver"),
    "blue": ("blue", "navy blue", "navy", "turquoise blue", "turquoise", "teal", "sky blue"),
    "red": ("red", "maroon", "burgundy", "rust", "wine"),
    "pink": ("pink", "magenta", "rose", "peach", "fuchsia"),
    "purple": ("purple", "lavender", "mauve", "violet"),
    "green": ("green", "olive", "sea green", "lime green", "fluorescent green"),
    "yellow": ("yellow", "mustard", "gold"),
    "orange": ("orange", "copper", "coral"),
    "brown": ("brown", "coffee brown", "mushroom brown", "tan", "bronze", "taupe", "camel"),
    "beige": ("beige", "khaki", "skin", "nude"),
}
_FAMILY_OF = {shade: family for family, shades in FAMILIES.items() for shade in shades}


def colour_family(colour: str | None) -> str | None:
    """The family of a colour name, or None for an unknown, metallic or multi-colour one."""
    return _FAMILY_OF.get(colour.strip().lower()) if colour else None


def product_family(product: dict) -> str | None:
    """A product's colour family: its primary colour's, else its first colour with a known family."""
    return colour_family(product.get("primary_color")) or next(
        (f for f in map(colour_family, product.get("colors") or []) if f), None)
