import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import FASHION, first_rows, need
from vitrina.catalog.embedding_text import embedding_text, keyword_text
from vitrina.catalog.myntra import map_record
from vitrina.catalog.product import Product
from vitrina.catalog.registry import make_feed
from vitrina.catalog.validate import RowError, validate_rows


def run(feed, path):
    out = list(validate_rows(feed.rows(path)))
    return [o for o in out if isinstance(o, Product)], [o for o in out if isinstance(o, RowError)]


def test_myntra_record_is_normalised():
    need(FASHION)
    raw = first_rows(FASHION, 1)[0]  # id 10000: HTML description, 50% discount, NA colours, kids sizes
    fields = map_record(raw)
    product = Product.model_validate(fields)
    assert product.price == 324 and product.original_price == 649 and product.currency == "INR"
    assert product.discount_percent == 50.1
    assert "<" not in product.description and "Machine Wash separately in cold water" in product.description
    assert product.colors == ["White"]  # "NA" colour1/colour2 dropped
    assert product.sizes == ["2YRS", "4YRS", "6YRS", "8YRS"] and product.availability == "out_of_stock"
    assert product.category_path == ["Apparel", "Bottomwear", "Skirts"] and product.product_type == "Skirts"
    assert product.age_group == "kids" and product.gender == "women"
    assert product.rating is None  # the feed's rating field is not a 5-star rating


def test_a_watchs_display_is_one_of_its_styles():
    raw = {"id": 1, "productDisplayName": "Casio Men Watch", "price": 1995, "articleType": "Watches",
           "articleAttributes": {"Display": "Analogue and Digital", "Type": "Hybrid"}}
    assert Product.model_validate(map_record(raw)).style_tags == ["Hybrid", "Analogue and Digital"]


def test_a_dials_and_a_dresss_shape_are_styles():
    watch = {"id": 1, "productDisplayName": "Titan Women Watch", "price": 2995, "articleType": "Watches",
             "articleAttributes": {"Dial Shape": "Square", "Display": "Analogue"}}
    assert Product.model_validate(map_record(watch)).style_tags == ["Analogue", "Square dial"]  # not a "square" toe
    dress = {"id": 2, "productDisplayName": "Only Women Dress", "price": 1299, "articleType": "Dresses",
             "articleAttributes": {"Shape": "A-Line"}}
    assert Product.model_validate(map_record(dress)).style_tags == ["A-Line"]


def mapped(article_type: str, attrs: dict[str, str]) -> Product:
    """A Myntra record of that type with those attributes, mapped and validated."""
    raw = {"id": 2, "productDisplayName": f"Brand {article_type}", "price": 999, "articleType": article_type,
           "articleAttributes": attrs}
    return Product.model_validate(map_record(raw))


@pytest.mark.parametrize("article_type,attrs,features", [
    # Sunglasses name theirs "Feature", most types "Features": a polarised lens is searchable either way
    ("Sunglasses", {"Feature": "Polarised Lens"}, ["Polarised Lens"]),
    ("Jeans", {"Waist Rise": "High-Rise"}, ["High-Rise"]),
    ("Bra", {"Padding": "Non Padded", "Wiring": "Non-Wired"}, ["Non Padded", "Non-Wired"]),
    ("Sunglasses", {"Lens Colour": "Brown"}, ["Brown lens"]), ("Lipstick", {"Finish": "Matte"}, ["Matte"]),
    ("Bra", {"Seam": "Seamless", "Coverage": "Half"}, ["Seamless", "Half coverage"]),  # not a bare "Half"
    ("Watches", {"Movement": "Automatic", "Make": "Swiss Made"}, ["Automatic", "Swiss Made"]),
    ("Backpacks", {"Laptop Size": "Up to 15 inch"}, ["Up to 15 inch"]), ("Backpacks", {"Laptop Size": "NA"}, []),
    ("Heels", {"Fastening and Back Detail": "Ankle Loop"}, ["Ankle Loop"]),
    ("Sunglasses", {"Style": "Half Rim"}, ["Half Rim"]),
    # a bare "Woody" or "Oily" names nothing: the feed's value as shoppers say it
    ("Perfume and Body Mist", {"Fragrance": "Woody"}, ["Woody fragrance"]),
    ("Sunscreen", {"Skin Type": "Oily"}, ["Oily skin"]), ("Sunscreen", {"Skin Type": "All"}, ["all skin types"]),
    ("Highlighter and Blush", {"Skin Tone": "Light to Medium"}, ["Light to Medium skin tone"]),
    ("Jeans", {"Distress": "Mildly Distressed", "Fade": "Light Fade"}, ["Mildly Distressed", "Light Fade"]),
])
def test_a_lens_a_waist_rise_a_bras_padding_and_a_finish_are_features(article_type, attrs, features):
    assert mapped(article_type, attrs).features == features


def test_sleeve_styling_is_a_style():
    assert mapped("Tops", {"Sleeve Styling": "Puff Sleeves"}).style_tags == ["Puff Sleeves"]
    assert mapped("Sweatshirts", {"Hood": "Hooded"}).style_tags == ["Hooded"]
    assert mapped("Shirts", {"Hemline": "Curved"}).style_tags == ["Curved hem"]  # not "curved" alone
    assert mapped("Lipstick", {"Formulation": "Crayon"}).style_tags == ["Crayon"]
    assert mapped("Watches", {"Dial Colour": "Black"}).style_tags == ["Black dial"]  # not the watch's colour
    assert mapped("Kurtas", {"Slit Detail": "Side Slits"}).style_tags == ["Side Slits"]


def test_a_frame_material_and_a_sarees_fabric_are_materials():
    assert mapped("Sunglasses", {"Frame Material": "Metal"}).materials == ["Metal"]
    assert mapped("Sarees", {"Saree Fabric": "Poly Georgette"}).materials == ["Poly Georgette"]


@pytest.mark.parametrize("attrs,pattern", [
    ({"Pattern": "Printed", "Print or Pattern Type": "Floral"}, "Floral"),  # which print, where the feed says
    ({"Print or Pattern Type": "Graphic"}, "Graphic"), ({"Pattern": "Printed"}, "Printed"),
    ({"Pattern": "Printed", "Print or Pattern Type": "Solid"}, "Printed"),  # the two disagree: Pattern's word
    ({"Pattern": "Striped", "Print or Pattern Type": "Horizontal Stripes"}, "Striped"), ({}, None),
])
def test_a_print_is_named_by_its_kind(attrs, pattern):
    assert mapped("Tshirts", attrs).pattern == pattern


@pytest.mark.parametrize("pack,feature", [("3", ["pack of 3"]), ("5 and above", ["pack of 5 and above"]),
                                          ("Single", []), ("NA", [])])
def test_a_multipack_is_a_feature_and_a_single_piece_is_none(pack, feature):
    raw = {"id": 5, "productDisplayName": "Jockey Men Tshirts", "price": 999, "articleType": "Tshirts",
           "articleAttributes": {"Multipack Set": pack}}
    assert Product.model_validate(map_record(raw)).features == feature


@pytest.mark.parametrize("height,feature", [("1 inch", ["low heel"]), ("2.5 inches", ["mid heel"]),
                                            ("3 inches", ["high heel"]), ("NA", []), ("flat", [])])
def test_a_heel_height_is_said_as_shoppers_say_it(height, feature):
    assert mapped("Heels", {"Heel Height": height}).features == feature


@pytest.mark.parametrize("straps,feature", [("Strapless", ["Strapless"]), ("Multiway", ["Multiway"]), ("Regular", [])])
def test_a_bras_straps_are_a_feature_where_they_set_it_apart(straps, feature):
    assert mapped("Bra", {"Straps": straps}).features == feature


def test_bad_rows_are_reported_and_the_rest_land(tmp_path):
    rows = [
        {"id": "a1", "title": "Navy Cotton Shirt", "price": "1,299.00", "brand": "Acme", "colors": "Navy|Blue"},
        {"id": "a2", "title": "", "price": 10},
        {"id": "a3", "title": "Scarf", "price": "cheap"},
        {"id": "a4", "title": "Belt", "price": -5},
        "not an object",
        {"id": "a1", "title": "Duplicate", "price": 3},
        {"id": "a5", "title": "Wool Scarf", "price": 25, "rating": 9},
    ]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken json\n")
    products, errors = run(make_feed("tabular"), path)
    assert [p.id for p in products] == ["a1"]
    assert products[0].price == 1299.0 and products[0].colors == ["Navy", "Blue"]
    by_row = {e.row: e for e in errors}
    assert by_row[2].field == "title"
    assert by_row[3].field == "price" and "cheap" in by_row[3].reason
    assert by_row[4].field == "price" and "greater than 0" in by_row[4].reason
    assert by_row[5].field == "record" and "JSON object" in by_row[5].reason
    assert by_row[6].field == "id" and "duplicate" in by_row[6].reason
    assert by_row[7].field == "rating"
    assert by_row[8].field == "record" and "not valid JSON" in by_row[8].reason
    assert "row 3 (id a3): price:" in str(by_row[3])


def test_csv_with_column_mapping_keeps_unmapped_columns(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_text("sku,name,sale_price,colour,season\nS1,Linen Shirt,49.5,White,summer\nS2,NA,10,Red,\n")
    feed = make_feed("tabular", {"id": "sku", "title": "name", "price": "sale_price", "primary_color": "colour"})
    products, errors = run(feed, path)
    assert [p.id for p in products] == ["S1"] and products[0].primary_color == "White"
    assert products[0].attributes == {"season": "summer"}
    assert errors[0].row == 2 and errors[0].field == "title"


def test_parquet_feed(tmp_path):
    path = tmp_path / "feed.parquet"
    pq.write_table(pa.table({"id": ["p1", "p2"], "title": ["Red Dress", "Blue Jeans"], "price": [30.0, None]}), path)
    products, errors = run(make_feed("tabular"), path)
    assert [p.id for p in products] == ["p1", "p2"] and products[1].price is None and not errors


def test_embedding_text_turns_attributes_into_words():
    product = Product(id="x", title="Alpine Down Puffer Jacket", brand="North Peak", price=189.99,
                      product_type="Jackets", colors=["Navy"], materials=["Down", "Nylon"], warmth=4,
                      formality="business_casual", occasions=["Office"], seasons=["Winter"], gender="men")
    text = embedding_text(product)
    assert text.startswith("Alpine Down Puffer Jacket. North Peak Jackets")
    for words in ("warm winter", "office appropriate professional", "made of Down, Nylon", "for men"):
        assert words in text
    assert "Navy" in keyword_text(product) and "warm winter" not in keyword_text(product)
