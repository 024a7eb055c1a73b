"""A small, realistic fashion catalog the project makes itself, so the demo runs without ../shared."""

from __future__ import annotations

import json
import random
from pathlib import Path

# (type, category path, genders, materials, price range USD, occasions, seasons, warmth, sizes)
TYPES = [
    ("Shirts", ["Apparel", "Topwear"], ["men", "women"], ["Cotton", "Linen", "Polyester"], (25, 90),
     ["Formal", "Casual"], ["Summer", "Spring", "Fall"], 2, ["S", "M", "L", "XL"]),
    ("Tshirts", ["Apparel", "Topwear"], ["men", "women", "unisex"], ["Cotton", "Polyester"], (12, 45),
     ["Casual", "Sports"], ["Summer", "Spring"], 1, ["S", "M", "L", "XL"]),
    ("Jackets", ["Apparel", "Topwear"], ["men", "women"], ["Wool", "Polyester", "Leather", "Denim"], (60, 240),
     ["Casual", "Formal"], ["Winter", "Fall"], 4, ["S", "M", "L", "XL"]),
    ("Blazers", ["Apparel", "Topwear"], ["men", "women"], ["Wool", "Linen", "Polyester"], (80, 260),
     ["Formal"], ["Fall", "Winter", "Spring"], 3, ["S", "M", "L", "XL"]),
    ("Sweaters", ["Apparel", "Topwear"], ["men", "women"], ["Wool", "Cotton", "Acrylic"], (35, 140),
     ["Casual", "Formal"], ["Winter", "Fall"], 4, ["S", "M", "L", "XL"]),
    ("Jeans", ["Apparel", "Bottomwear"], ["men", "women"], ["Denim"], (35, 120), ["Casual"], ["Fall", "Winter", "Spring"],
     None, ["28", "30", "32", "34", "36"]),
    ("Trousers", ["Apparel", "Bottomwear"], ["men", "women"], ["Cotton", "Wool", "Linen", "Polyester"], (30, 110),
     ["Formal", "Casual"], ["Fall", "Spring", "Summer"], None, ["28", "30", "32", "34", "36"]),
    ("Dresses", ["Apparel", "Dress"], ["women"], ["Cotton", "Silk", "Viscose Rayon", "Polyester"], (30, 180),
     ["Party", "Casual", "Formal"], ["Summer", "Spring"], 1, ["XS", "S", "M", "L"]),
    ("Casual Shoes", ["Footwear", "Shoes"], ["men", "women"], ["Canvas", "Synthetic", "Leather", "Mesh"], (40, 130),
     ["Casual"], ["Summer", "Fall"], None, ["6", "7", "8", "9", "10", "11"]),
    ("Formal Shoes", ["Footwear", "Shoes"], ["men"], ["Leather", "Synthetic Leather"], (60, 220), ["Formal"],
     ["Fall", "Winter"], None, ["7", "8", "9", "10", "11"]),
    ("Sports Shoes", ["Footwear", "Shoes"], ["men", "women"], ["Mesh", "Synthetic"], (45, 160), ["Sports", "Running"],
     ["Summer", "Spring"], None, ["6", "7", "8", "9", "10", "11"]),
    ("Boots", ["Footwear", "Shoes"], ["men", "women"], ["Leather", "Suede", "Synthetic Leather"], (70, 250),
     ["Casual"], ["Winter", "Fall"], 4, ["6", "7", "8", "9", "10"]),
    ("Heels", ["Footwear", "Shoes"], ["women"], ["Synthetic Leather", "Leather", "Suede"], (35, 150),
     ["Party", "Formal"], ["Summer", "Spring", "Fall"], None, ["5", "6", "7", "8", "9"]),
    ("Handbags", ["Accessories", "Bags"], ["women"], ["Leather", "Synthetic Leather", "Canvas"], (30, 280),
     ["Casual", "Formal", "Party"], ["Summer", "Fall", "Winter", "Spring"], None, []),
    ("Watches", ["Accessories", "Watches"], ["men", "women", "unisex"], ["Leather", "Metal", "Silicone"], (40, 400),
     ["Casual", "Formal"], ["Summer", "Fall", "Winter", "Spring"], None, []),
]
COLORS = ["Black", "White", "Navy Blue", "Blue", "Grey", "Beige", "Brown", "Olive", "Red", "Maroon", "Pink", "Green",
          "Off White", "Charcoal", "Khaki", "Tan"]
PATTERNS = {"Shirts": ["Solid", "Striped", "Checked", "Printed"], "Tshirts": ["Solid", "Printed", "Striped"],
            "Dresses": ["Solid", "Floral", "Printed", "Polka Dots"]}
BRANDS = ["Northpeak", "Urban Loom", "Marlowe & Co", "Kestrel", "Saffron Lane", "Bluefield", "Atelier Nove",
          "Strider", "Copperleaf", "Harbor Supply"]
FITS = {"Shirts": ["Slim Fit", "Regular Fit"], "Jeans": ["Slim Fit", "Regular Fit", "Skinny Fit", "Straight Fit"],
        "Trousers": ["Slim Fit", "Regular Fit", "Tapered Fit"], "Tshirts": ["Regular Fit", "Slim Fit", "Loose Fit"]}
LENGTHS = {"Dresses": ["Mini", "Knee Length", "Midi", "Maxi"]}
SLEEVES = {"Shirts": ["Long Sleeves", "Short Sleeves"], "Tshirts": ["Short Sleeves", "Long Sleeves", "Sleeveless"],
           "Dresses": ["Sleeveless", "Short Sleeves", "Long Sleeves"]}
STYLE_NAMES = {"Jackets": ["Puffer Jacket", "Bomber Jacket", "Denim Jacket", "Quilted Jacket", "Biker Jacket"],
               "Casual Shoes": ["Sneakers", "Canvas Sneakers", "Loafers", "Slip-On Shoes"],
               "Boots": ["Chelsea Boots", "Ankle Boots", "Lace-Up Boots"], "Heels": ["Block Heels", "Stilettos", "Wedges"],
               "Sweaters": ["Crew Neck Sweater", "Cardigan", "Turtleneck Sweater"],
               "Handbags": ["Tote Bag", "Shoulder Bag", "Sling Bag"], "Watches": ["Analog Watch", "Chronograph Watch"]}
FEATURES = {"Jackets": ["water-resistant", "packable", "hooded", "insulated"], "Sports Shoes": ["cushioned", "breathable"],
            "Boots": ["water-resistant", "lug sole"], "Watches": ["water-resistant", "date display"]}
GENDER_WORD = {"men": "Men", "women": "Women", "unisex": "Unisex"}
FAMILY = {"Shirts": "top", "Tshirts": "top", "Sweaters": "top", "Jackets": "outer", "Blazers": "outer",
          "Jeans": "bottom", "Trousers": "bottom", "Dresses": "dress", "Casual Shoes": "shoe", "Formal Shoes": "shoe",
          "Sports Shoes": "shoe", "Heels": "shoe", "Boots": "boot", "Handbags": "bag", "Watches": "watch"}


def drawn_image_name(product_type: str, color: str) -> str:
    """The drawn silhouette the service renders for a sample product (serve/drawn.py)."""
    return f"drawn-{FAMILY[product_type]}-{color.lower().replace(' ', '-')}.svg"


def sample_products(count: int = 360, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    products = []
    for i in range(count):
        ptype, path, genders, materials, (lo, hi), occasions, seasons, warmth, sizes = TYPES[i % len(TYPES)]
        gender = rng.choice(genders)
        color = rng.choice(COLORS)
        material = rng.choice(materials)
        brand = rng.choice(BRANDS)
        name = rng.choice(STYLE_NAMES.get(ptype, [ptype.rstrip("s") if ptype != "Dresses" else "Dress"]))
        pattern = rng.choice(PATTERNS.get(ptype, ["Solid"]))
        fit = rng.choice(FITS[ptype]) if ptype in FITS else None
        length = rng.choice(LENGTHS[ptype]) if ptype in LENGTHS else None
        sleeve = rng.choice(SLEEVES[ptype]) if ptype in SLEEVES else None
        occasion = rng.choice(occasions)
        price = round(rng.uniform(lo, hi), 0) - 0.01
        on_sale = rng.random() < 0.3
        title = f"{brand} {GENDER_WORD[gender]} {color} {material} {name}"
        desc = (f"A {pattern.lower()} {color.lower()} {name.lower()} in {material.lower()}"
                f"{', ' + fit.lower() if fit else ''}{', ' + length.lower() if length else ''}. "
                f"Made for {occasion.lower()} days in {' and '.join(s.lower() for s in seasons[:2])}.")
        available = [s for s in sizes if rng.random() < 0.7]
        products.append({
            "id": f"VIT-{i + 1:04d}", "title": title, "brand": brand, "description": desc,
            "price": price, "original_price": round(price * 1.3, 2) if on_sale else None, "currency": "USD",
            "category_path": [*path, ptype], "product_type": ptype, "images": [drawn_image_name(ptype, color)],
            "availability": "in_stock" if available or not sizes else "out_of_stock",
            "sizes": sizes, "available_sizes": available,
            "rating": round(rng.uniform(3.0, 5.0), 1), "review_count": rng.choice([0, 3, 12, 25, 60, 140, 480]),
            "colors": [color], "primary_color": color, "pattern": pattern, "materials": [material], "fit": fit,
            "length": length, "sleeve": sleeve, "occasions": [occasion], "seasons": seasons, "gender": gender,
            "age_group": "adult", "warmth": warmth, "features": rng.sample(FEATURES.get(ptype, []),
                                                                          k=min(2, len(FEATURES.get(ptype, [])))),
            "formality": {"Formal": "formal", "Party": "smart_casual"}.get(occasion, "casual"),
        })
    return products


def write_sample_catalog(path: Path, count: int = 360) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for product in sample_products(count):
            handle.write(json.dumps({k: v for k, v in product.items() if v is not None}) + "\n")
    return path
