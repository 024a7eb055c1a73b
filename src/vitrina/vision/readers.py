"""What a photo shows, read from its vector in the shared space: a softmax per field (its colour family, its product
type) over the image tower's vectors, fitted on a catalog's own labels (scikit-learn, at training time only) and
applied by numpy alone. Ingest checks and fills the feed's colour with it; search by photo ranks products by how
likely they are what the photo shows; a text query's photo list looks along the directions of what it asks for."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vitrina.understand.models import ParsedQuery
from vitrina.vision.colour import colour_family, product_family

FIELDS = ("colour", "type")


def reader_file(tower: Path, field: str) -> Path:
    """Where a tower's reader of `field` lives: beside it, `<name>.<field>.json`."""
    return tower.with_suffix(f".{field}.json")


def label_of(record: dict, field: str) -> str | None:
    """A product's own label for a field, as readers are fitted on: its colour family, its type (lower case)."""
    if field == "colour":
        return product_family(record)
    kind = str(record.get("product_type") or "").strip().lower()
    return kind or None


@dataclass(frozen=True)
class Reading:
    """One field of a photo, read: each label's probability; a label the reader does not know (or a product with
    no label) gets `unknown`, the chance of a guess among the reader's labels."""
    field: str
    probabilities: dict[str, float]
    unknown: float

    @property
    def best(self) -> tuple[str, float]:
        return max(self.probabilities.items(), key=lambda kv: (kv[1], kv[0]))

    def chance(self, label: str | None) -> float:
        """How likely a product with this label is what the photo shows, in this field."""
        return self.probabilities.get(label, self.unknown) if label is not None else self.unknown

    @classmethod
    def certain(cls, field: str, label: str) -> Reading:
        """A known label (a catalog product's own), not a guess: the others have no chance."""
        return cls(field, {label: 1.0}, 0.0)


class PhotoReader:
    """A softmax over photo vectors for one field, for the tower it was fitted on."""

    def __init__(self, field: str, labels: list[str], weights: np.ndarray, bias: np.ndarray, tower: str):
        self.field, self.labels, self.weights, self.bias, self.tower = field, labels, weights, bias, tower

    @classmethod
    def load(cls, path: Path, field: str) -> PhotoReader:
        data = json.loads(path.read_text())
        # "families": the colour reader's file before readers had fields.
        return cls(data.get("field", field), data.get("labels") or data["families"],
                   np.asarray(data["weights"], dtype=np.float32), np.asarray(data["bias"], dtype=np.float32),
                   data["tower"])

    def save(self, path: Path, **about: object) -> None:
        path.write_text(json.dumps({"field": self.field, "labels": self.labels, "tower": self.tower, **about,
                                    "weights": np.round(self.weights, 5).tolist(),
                                    "bias": np.round(self.bias, 5).tolist()}))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """[N, labels]: each photo's probability of each label."""
        logits = np.asarray(vectors, dtype=np.float32) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray) -> list[tuple[str, float]]:
        """(label, probability) of each photo's likeliest label."""
        if len(vectors) == 0:
            return []
        probs = self.probabilities(vectors)
        return [(self.labels[i], float(probs[n, i])) for n, i in enumerate(probs.argmax(axis=1))]

    def read(self, vector: np.ndarray) -> Reading:
        """One photo's reading of this field."""
        probs = self.probabilities(vector[None])[0]
        return Reading(self.field, {label: float(p) for label, p in zip(self.labels, probs, strict=True)},
                       1.0 / len(self.labels))


def load_readers(tower: Path, model_id: str) -> dict[str, PhotoReader]:
    """The readers beside a tower that were fitted on this very tower (its model id), by field."""
    readers = {}
    for field in FIELDS:
        path = reader_file(tower, field)
        if path.exists():
            reader = PhotoReader.load(path, field)
            if reader.tower == model_id:
                readers[field] = reader
    return readers


def fit_reader(field: str, vectors: np.ndarray, labels: list[str], tower: str, min_examples: int = 5) -> PhotoReader:
    """A multinomial logistic regression on photos with a label; labels with fewer than `min_examples` photos are
    left out (too few to learn, and a guess among them is no help)."""
    from sklearn.linear_model import LogisticRegression

    counts = Counter(labels)
    keep = [i for i, label in enumerate(labels) if counts[label] >= min_examples]
    names = sorted({labels[i] for i in keep})
    if len(names) < 2:
        raise ValueError(f"a {field} reader needs two labels with {min_examples} photos each; found {len(names)}")
    model = LogisticRegression(C=1.0, max_iter=3000)
    model.fit(vectors[keep], [names.index(labels[i]) for i in keep])
    weights, bias = model.coef_.T, model.intercept_
    if len(names) == 2:  # a binary model has one column, the second label's logit against the first's 0
        weights, bias = np.hstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], bias])
    return PhotoReader(field, names, weights.astype(np.float32), bias.astype(np.float32), tower)


class PhotoQuery:
    """A text query's vector for the photo list, steered toward what the query asks for: each reader's direction
    for the asked labels (the product types it names, the colour families of its colours) is added to it, each
    at `weight` times the query vector's length, so "navy shirt" looks for photos that read as shirts in blue as
    well as for photos near the words. A reader's direction is its weights for the label less their mean over
    the labels (what tells that label apart), unit length."""

    def __init__(self, readers: dict[str, PhotoReader], weight: float = 1.0):
        self.weight = weight
        self.directions: dict[str, dict[str, np.ndarray]] = {}
        for field, reader in readers.items():
            centred = reader.weights - reader.weights.mean(axis=1, keepdims=True)
            norms = np.linalg.norm(centred, axis=0)
            self.directions[field] = {label: centred[:, i] / norms[i]
                                      for i, label in enumerate(reader.labels) if norms[i] > 0}

    def asked(self, parsed: ParsedQuery) -> dict[str, list[str]]:
        """The labels a query asks for, by field, as the readers name them."""
        types = sorted(t.lower() for t, grade in parsed.types.items() if grade >= 1)
        families = sorted({f for c in parsed.positive("colors") for f in map(colour_family, c.values) if f})
        return {field: [label for label in labels if label in self.directions.get(field, {})]
                for field, labels in (("type", types), ("colour", families))}

    def vector(self, parsed: ParsedQuery, vector: np.ndarray) -> np.ndarray:
        """The query's vector for the photo list (unit length); the vector itself when it asks for no label."""
        steered = np.asarray(vector, dtype=np.float32).copy()
        length = float(np.linalg.norm(steered))
        moved = False
        for field, labels in self.asked(parsed).items():
            if labels:
                steered += self.weight * length * np.mean([self.directions[field][x] for x in labels], axis=0)
                moved = True
        if not moved:
            return vector
        return steered / max(float(np.linalg.norm(steered)), 1e-12)
