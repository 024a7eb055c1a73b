"""Colour families: the basic colour a shopper would name, over the catalog's many shade names."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

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


# --- colour from pixels ---
# The image tower's vector of a photo already carries its colour (its texts name colours); a linear classifier
# over it, trained on a catalog's own labelled colours, names the garment's family. numpy alone applies it.


def colour_file(tower: Path) -> Path:
    """Where a tower's colour classifier lives: beside it, `<name>.colour.json`."""
    return tower.with_suffix(".colour.json")


class PixelColour:
    """A softmax over photo vectors: (family, probability) per photo, for the tower it was fitted on."""

    def __init__(self, families: list[str], weights: np.ndarray, bias: np.ndarray, tower: str):
        self.families, self.weights, self.bias, self.tower = families, weights, bias, tower

    @classmethod
    def load(cls, path: Path) -> PixelColour:
        data = json.loads(path.read_text())
        return cls(data["families"], np.asarray(data["weights"], dtype=np.float32),
                   np.asarray(data["bias"], dtype=np.float32), data["tower"])

    def save(self, path: Path, **about: object) -> None:
        path.write_text(json.dumps({"families": self.families, "tower": self.tower, **about,
                                    "weights": np.round(self.weights, 5).tolist(),
                                    "bias": np.round(self.bias, 5).tolist()}))

    def predict(self, vectors: np.ndarray) -> list[tuple[str, float]]:
        if len(vectors) == 0:
            return []
        logits = np.asarray(vectors, dtype=np.float32) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return [(self.families[i], float(probs[n, i])) for n, i in enumerate(probs.argmax(axis=1))]


def fit_pixel_colour(vectors: np.ndarray, families: list[str], tower: str) -> PixelColour:
    """A multinomial logistic regression (scikit-learn, at training time only) on photos with a known family."""
    from sklearn.linear_model import LogisticRegression

    names = sorted(set(families))
    model = LogisticRegression(C=1.0, max_iter=3000)
    model.fit(vectors, [names.index(f) for f in families])
    return PixelColour(names, model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32), tower)
