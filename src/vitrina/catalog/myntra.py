"""The Myntra "Fashion Product Images" feed: raw vendor records with HTML, 'NA's and INR prices."""

from __future__ import annotations

from typing import Any

from vitrina.catalog.clean import clean_list, clean_text, html_to_text, is_missing, lower_label, parse_number
from vitrina.catalog.feeds import FieldError, RecordFeed

GENDERS = {"men": "men", "women": "women", "unisex": "unisex", "boys": "boys", "girls": "girls"}
FORMALITY = {"formal": "formal", "smart casual": "smart_casual", "casual": "casual", "sports": "casual",
             "party": "smart_casual", "travel": "casual"}
MATERIAL_KEYS = ("Fabric", "Fabric 2", "Fabric 3", "Material", "Strap Material", "Upper Material",
                 "Frame Material",  # a pair of sunglasses': metal or plastic
                 "Saree Fabric")  # georgette, chiffon, crepe, silk cotton
STYLE_KEYS = ("Type", "Main Trend", "Neck", "Collar", "Heel Type", "Surface Styling", "Toe Shape", "Ankle Height",
              "Display",  # a watch's: analogue, digital or both
              "Shape",  # a dress's or kurta's: a-line, fit and flare, straight
              "Sleeve Styling",  # puff, cap, flutter, kimono sleeves
              "Hood",  # a sweatshirt's: hooded (a jacket says so in its Collar)
              "Formulation",  # a cosmetic's form: crayon, pencil, liquid, cream, powder
              "Slit Detail")  # a kurta's: side slits, front slit
FEATURE_KEYS = ("Features", "Feature", "Water Resistance", "Closure", "Fastening", "Waist Rise", "Transparency", "Padding",
                "Distress", "Fade",  # a pair of jeans': clean look or distressed; no, light or heavy fade
                "Fastening and Back Detail",  # a heel's or flat's: ankle loop, slip-on, buckle, open back
                "Style",  # a pair of sunglasses' rim (full, half, rimless); a brief's lace or seamless
                "Wiring", "Seam",  # a bra's: seamless or cut and sew
                "Movement", "Make",  # a watch's: automatic, mechanical; Swiss made or not
                "Laptop Size",  # a bag's: "Up to 15 inch" (not "laptop": the word would match every laptop search)
                "Finish")  # Finish: a lipstick's or nail polish's matte, glossy, glitter
# The feed's own rating field holds 0, 1 or 10 for almost every product: not a 5-star rating.
MIN_PRICE = 1.0


def _price(record: dict, key: str) -> float | None:
    try:
        return parse_number(record.get(key))
    except ValueError as exc:
        raise FieldError(key, str(exc)) from exc


def row_id(record: dict[str, Any]) -> str:
    return str(record.get("id", "")).strip()


def _pack(size: str | None) -> str | None:
    """The feed's Multipack Set ("3", "5 and above") as a feature, "pack of 3"; a single piece ("Single", "NA") none."""
    return f"pack of {size}" if size and size[0].isdigit() else None


def _named(value: str | None, noun: str) -> str | None:
    """A value the bare word of which names nothing, as shoppers say it: a bra's "Full" coverage is "full coverage",
    a shirt's "Curved" hemline a "curved hem", a perfume's "Woody" fragrance a "woody fragrance"."""
    return f"{value} {noun}" if value else None


def _skin(skin_type: str | None) -> str | None:
    """A cosmetic's Skin Type ("Oily", "All") as shoppers say it: "oily skin", "all skin types"."""
    return "all skin types" if (skin_type or "").lower() == "all" else _named(skin_type, "skin")


def _unless_regular(value: str | None) -> str | None:
    """A feature only where it sets the product apart: a bra's "Regular" straps say nothing a shopper asks for."""
    return None if (value or "").lower() == "regular" else value


def _heel(height: str | None) -> str | None:
    """The feed's Heel Height ("1 inch", "2.5 inches") as the words shoppers use: low, mid or high heel."""
    try:
        inches = parse_number(height)
    except ValueError:
        return None
    if inches is None:
        return None
    return "low heel" if inches < 2 else ("mid heel" if inches < 3 else "high heel")


def _pattern(attrs: dict[str, str | None]) -> str | None:
    """The feed's Pattern, or its Print or Pattern Type where that says which print ("Printed": "Floral")."""
    pattern, print_type = attrs.get("Pattern"), attrs.get("Print or Pattern Type")
    if print_type and print_type != "Solid" and pattern in (None, "Printed"):
        return print_type
    return pattern or print_type


def product_type_of(record: dict[str, Any]) -> str | None:
    return clean_text(record.get("articleType"))


def map_record(record: dict[str, Any]) -> dict[str, Any]:
    attrs = {k: clean_text(v) for k, v in (record.get("articleAttributes") or {}).items()}
    attrs = {k: v for k, v in attrs.items() if v}
    listed, discounted = _price(record, "price"), _price(record, "discountedPrice")
    paid = discounted if discounted and listed and discounted < listed else (listed or discounted)
    if paid is None:
        raise FieldError("price", "no price in price or discountedPrice")
    if paid < MIN_PRICE:
        raise FieldError("price", f"price {paid:g} INR is below the minimum of {MIN_PRICE:g}")
    options = record.get("styleOptions") or []
    sizes = clean_list([o.get("value") for o in options if isinstance(o, dict)])
    available = clean_list([o.get("value") for o in options if isinstance(o, dict) and o.get("available")])
    usage = clean_text(record.get("usage"))
    age = lower_label(record.get("ageGroup")) or ""
    season = clean_text(record.get("season"))
    product_type = product_type_of(record)
    colors = clean_list([record.get(k) for k in ("baseColour", "colour1", "colour2")])
    occasions = clean_list([usage, attrs.get("Occasion"), attrs.get("Sport")])
    extra = {k: v for k, v in attrs.items() if k not in MATERIAL_KEYS}
    for key in ("year", "myntraRating", "variantName", "displayCategories", "articleNumber"):
        if not is_missing(record.get(key)):
            extra[key] = str(record[key])
    description = html_to_text((record.get("productDescriptors") or {}).get("description"))
    return {
        "id": row_id(record),
        "title": clean_text(record.get("productDisplayName")) or "",
        "brand": clean_text(record.get("brandName")),
        "description": description,
        "price": paid,
        "currency": "INR",
        "original_price": listed if listed and listed > paid else None,
        "category_path": clean_list([record.get(k) for k in ("masterCategory", "subCategory", "articleType")]),
        "product_type": product_type,
        "images": [f"{record.get('id')}.jpg"],
        "url": clean_text(record.get("landingPageUrl")),
        "availability": ("in_stock" if available else "out_of_stock") if options else "unknown",
        "sizes": sizes,
        "available_sizes": available,
        "attributes": extra,
        "colors": colors,
        "primary_color": colors[0] if colors else None,
        "pattern": _pattern(attrs),
        "materials": clean_list([attrs.get(k) for k in MATERIAL_KEYS]),
        "fit": attrs.get("Fit"),
        "length": attrs.get("Length"),
        "sleeve": attrs.get("Sleeve Length"),
        # a dial's shape says "dial": "round" alone is a neck's or a toe's too
        "style_tags": clean_list([attrs.get(k) for k in STYLE_KEYS]
                                 + [_named(attrs.get("Dial Shape"), "dial"), _named(attrs.get("Dial Colour"), "dial"),
                                    _named(attrs.get("Hemline"), "hem")]),
        "occasions": occasions,
        "seasons": [season] if season else [],
        "formality": FORMALITY.get((usage or "").lower()),
        "gender": GENDERS.get(lower_label(record.get("gender")) or ""),
        "age_group": "kids" if age.startswith("kids") else ("adult" if age.startswith("adults") else None),
        "warmth": {"Winter": 4, "Fall": 3, "Spring": 2, "Summer": 1}.get(season or "")
        if (record.get("masterCategory") == "Apparel") else None,
        "features": clean_list([attrs.get(k) for k in FEATURE_KEYS] + [_pack(attrs.get("Multipack Set"))]
                               + [_named(attrs.get("Lens Colour"), "lens"), _heel(attrs.get("Heel Height")),
                                  _named(attrs.get("Coverage"), "coverage"),
                                  _named(attrs.get("Fragrance"), "fragrance"), _skin(attrs.get("Skin Type")),
                                  _named(attrs.get("Skin Tone"), "skin tone"),
                                  _unless_regular(attrs.get("Straps"))]),  # a bra's: strapless, multiway
    }


FEED = RecordFeed("myntra", map_record)
