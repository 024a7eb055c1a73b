import pytest

from vitrina.catalog.stats import CatalogStats
from vitrina.converse.history import Turn, merge_turn
from vitrina.converse.resolve import ConversationResolver
from vitrina.recommend.models import OutfitRules
from vitrina.understand.models import Intent
from vitrina.understand.parser import QueryParser
from vitrina.understand.rules import load_rules, rule_files, validated

pytestmark = pytest.mark.fast

TYPES = ["jeans", "shirts", "sports shoes", "casual shoes", "dresses", "tshirts", "kurtas", "kurtis", "trousers",
         "heels", "sunglasses", "backpacks", "watches", "tops", "sarees", "jackets", "blazers", "handbags",
         "formal shoes", "sweatshirts", "flip flops", "sandals", "flats", "duffel bag", "laptop bag", "messenger bag",
         "clutches"]


@pytest.fixture(scope="module")
def parser():
    stats = CatalogStats(values={"type": {t: 1 for t in TYPES}, "brand": {b: 1 for b in ["nike", "ray-ban", "puma",
                                                                                          "levis", "titan"]},
                                 "gender": {"men": 1, "women": 1}},
                         currency="INR", price_quantiles={"*": [200, 500, 900, 1500, 3000],
                                                          "backpacks": [500, 966, 1299, 1800, 2500]})
    return QueryParser(load_rules("fashion"), stats)


def terms(parsed, vocabulary, negated=False):
    return sorted(c.term for c in parsed.constraints if c.vocabulary == vocabulary and c.negated == negated)


@pytest.mark.parametrize("query,expected", [
    ("black jeans", ["black"]), ("Navy Blue shirt", ["navy"]), ("midnight blue blazer", ["navy"]),
    ("off white sneakers", ["off white"]), ("off-white sneakers", ["off white"]), ("gray hoodie", ["grey"]),
    ("womens handbag brwn", ["brown"]), ("wine red dress", ["maroon"]), ("olive green jacket", ["olive"]),
    ("lbd", ["black"]), ("multicolour kurta", ["multi"]), ("rose gold watch", ["rose gold"]),
    ("a cheerful dress", ["bright colours"]), ("something bright and cheerful", ["bright colours"]),
])
def test_colours(parser, query, expected):
    assert terms(parser.parse(query), "colors") == expected


@pytest.mark.parametrize("query,colour", [("handbags in tan colour", "tan"), ("red coloured kurta", "red"),
                                          ("navy blue color shirt", "navy"), ("gold tone watch", "gold")])
def test_the_word_colour_after_a_colour_is_part_of_it_not_a_keyword(parser, query, colour):
    parsed = parser.parse(query)
    assert terms(parsed, "colors") == [colour] and not parsed.keywords  # "color" would match "United Colors of.."


def test_shades_are_a_product_never_a_colour_word(parser):
    assert parser.parse("black shades").types == {"sunglasses": 1.0}


def test_colour_family_includes_shades(parser):
    blue = next(c for c in parser.parse("blue shirt").constraints if c.vocabulary == "colors")
    assert {"blue", "navy blue", "turquoise blue", "teal"} <= set(blue.values)
    navy = next(c for c in parser.parse("navy shirt").constraints if c.vocabulary == "colors")
    assert "blue" not in navy.values  # directed: navy does not widen to all blues
    rose = next(c for c in parser.parse("rose gold watch").constraints if c.vocabulary == "colors")
    assert "copper" in rose.values and "gold" not in rose.values  # the feed files rose gold watches as Copper


@pytest.mark.parametrize("query,expected", [
    ("cotton kurta", ["cotton"]), ("linen shirt for men", ["linen"]), ("faux leather jacket", ["synthetic leather"]),
    ("vegan leather bag", ["synthetic leather"]), ("merino sweater", ["wool"]), ("denim jacket", ["denim"]),
])
def test_materials(parser, query, expected):
    assert terms(parser.parse(query), "materials") == expected


@pytest.mark.parametrize("query,low,high", [
    ("shoes under 2000", None, 2000), ("shoes below rs 1500", None, 1500), ("jeans less than ₹3000", None, 3000),
    ("watch between 2000 and 5000", 2000, 5000), ("watch from 2000 to 5000", 2000, 5000),
    ("bag 1500-2500", 1500, 2500), ("shirt max 999", None, 999), ("kurta upto 1,500", None, 1500),
    ("heels over 3000", 3000, None), ("dress above 2k", 2000, None), ("shoes around 2000", 1600, 2400),
    ("sneakers for 2500 rs", None, 2500), ("t shirt under inr 700", None, 700),
    # the bound after the amount, a scale word, "priced", a named range
    ("shirts for 1000 or less", None, 1000), ("shoes 2000 max", None, 2000), ("kurta 800 and under", None, 800),
    ("saree under 2 thousand", None, 2000), ("watch under 1.5 lakh", None, 150000),
    ("jeans priced under 1200", None, 1200), ("kurtas in the 500 to 1000 price range", 500, 1000),
])
def test_prices_in_catalog_currency(parser, query, low, high):
    parsed = parser.parse(query)
    price = parsed.price
    assert price is not None and price.hard
    assert (price.catalog_min, price.catalog_max) == (low, high)
    assert not {"priced", "range", "less", "max", "thousand", "lakh"} & set(parsed.keyword_query.split())


def test_foreign_currency_is_converted(parser):
    price = parser.parse("jacket under $100").price
    assert price.currency == "USD" and price.max == 100 and price.catalog_max == pytest.approx(8300)
    assert parser.parse("bag under €50").price.currency == "EUR"
    assert parser.parse("scarf under £40").price.currency == "GBP"


def test_bare_number_without_currency_is_not_a_price(parser):
    assert parser.parse("levis 501 jeans").price is None


def test_a_bare_amount_in_thousands_is_about_that_price_but_not_a_race_a_measure_or_a_temperature(parser):
    shoes = parser.parse("men's casual shoes 1.5k").price
    assert (shoes.min, shoes.max) == (1200, 1800)
    assert parser.parse("kurta 2 thousand").price.max == 2400
    for query in ("running shoes for a 5k", "5k btu air conditioner", "2700k grow bulb", "6500 k lamps"):
        assert parser.parse(query).price is None


@pytest.mark.parametrize("query", ["10-2 wire", "1-1/8 in. rotary hammer", "1/2 to 1 pvc elbow", "12 x 24 shelf",
                                   "10-20 lb dumbbells", "2-3 years kids dress"])
def test_sizes_and_model_numbers_are_not_price_ranges(parser, query):
    parsed = parser.parse(query)
    assert parsed.price is None
    assert any(w[0].isdigit() for w in parsed.keywords)  # the numbers stay as words to match


def test_a_range_with_a_word_or_currency_is_a_price_even_when_small(parser):
    assert parser.parse("socks between 5 and 9").price.max == 9
    assert parser.parse("socks 5-9 rs").price.max == 9


def test_relative_price_words_use_catalog_quantiles(parser):
    cheap = parser.parse("cheap backpack for college").price
    assert cheap.catalog_max == 966 and not cheap.hard
    assert parser.parse("luxury watch").price.catalog_min == 1500
    assert parser.parse("affordable shirts").price.catalog_max == 500


@pytest.mark.parametrize("query,expected", [
    ("jeans for men", ["men"]), ("mens jeans", ["men"]), ("ladies chapals", ["women"]), ("fragrance for him", ["men"]),
    ("gift for her", ["women"]), ("kids shoes", ["kids"]), ("womens kurta", ["women"]), ("shirt for girls", ["girls"]),
])
def test_gender(parser, query, expected):
    assert terms(parser.parse(query), "genders") == expected


def test_gender_words_are_left_to_the_filter_where_the_catalog_records_genders(parser):
    # BM25 would only scan a posting list as long as half the catalog to rank nothing among the filtered products.
    assert parser.parse("mens casual shoes").keyword_query == "casual shoes"
    assert parser.parse("for men").keyword_query == ""
    without_genders = QueryParser(load_rules("fashion"), CatalogStats(values={"type": {"shoes": 1}}))
    assert without_genders.parse("mens casual shoes").keyword_query.split()[0] == "men"


@pytest.mark.parametrize("query,vocabulary,term", [
    ("mens casual shoes not leather", "materials", "leather"), ("black dress not short", "lengths", "short"),
    ("tshirts with no prints", "patterns", "printed"), ("formal shirts without checks", "patterns", "checked"),
    ("dress not too short", "lengths", "short"), ("jacket, no leather please", "materials", "leather"),
    ("avoid polyester shirts", "materials", "polyester"), ("casual shoes, not lace up", "fastenings", "lace-up"),
    ("no lace dress", "patterns", "lace"), ("backpacks that aren't black", "colors", "black"),
    ("shirts that don't have stripes", "patterns", "striped"), ("a bag that isn't leather", "materials", "leather"),
    ("shirts for men, skip the formal ones", "occasions", "formal"), ("tops minus the prints", "patterns", "printed"),
    ("women's watches apart from nike", "brands", "nike"), ("t-shirts besides black ones", "colors", "black"),
])
def test_negations(parser, query, vocabulary, term):
    parsed = parser.parse(query)
    assert term in terms(parsed, vocabulary, negated=True)
    assert term not in terms(parsed, vocabulary)
    assert term not in parsed.semantic_text  # the encoder never sees a negated word


def test_ruling_out_prints_asks_for_plain_and_ruling_out_one_print_does_not(parser):
    """"no prints": plain ones (a striped tee is no print, yet not what is asked); "no florals" leaves stripes and
    checks; a pattern said stands."""
    plain = parser.parse("tshirts for women, no prints")
    assert terms(plain, "patterns", negated=True) == ["printed"] and terms(plain, "patterns") == ["solid"]
    assert [c.implied for c in plain.positive("patterns")] == [True]
    assert terms(parser.parse("dresses, no florals"), "patterns") == []
    assert terms(parser.parse("striped shirts, no prints"), "patterns") == ["striped"]
    assert terms(parser.parse("no prints, striped shirts"), "patterns") == ["striped"]


@pytest.mark.parametrize("query", ["mens shoes no laces", "sneakers without laces", "laceless shoes",
                                   "slip ons for men"])
def test_shoes_without_laces_ask_for_slip_ons_and_rule_out_nothing(parser, query):
    parsed = parser.parse(query)
    assert terms(parsed, "fastenings") == ["slip-on"] and not parsed.negated() and not parsed.excluded
    assert not terms(parsed, "patterns") and not terms(parsed, "patterns", negated=True)  # laces are not lace


def test_a_ruled_out_word_no_vocabulary_knows_is_never_searched_for(parser):
    parsed = parser.parse("jeans not frayed")
    assert parsed.excluded == ["frayed"] and parsed.keywords == [] and not parsed.negated()
    assert "frayed" not in parsed.keyword_query and "frayed" not in parsed.semantic_text
    assert parser.parse("not frayed").semantic_text == ""  # the encoder is never asked for "not frayed"
    flashy = parser.parse("not flashy shoes")  # the negation is spent on the word: shoes are still asked for
    assert flashy.excluded == ["flashy"] and flashy.types and not flashy.negated()
    assert parser.parse("jeans not frayed or patched").excluded == ["frayed", "patched"]
    assert [c.term for c in parser.parse("jeans not ripped").negated()] == ["distressed"]  # a term the feed records
    numbered = parser.parse("no. 30 ridgid cutting wheel")  # "no." is a number's: nothing is ruled out
    assert not numbered.excluded and numbered.keyword_query == "30 ridgid cutting wheel"


def test_non_before_a_word_no_rule_knows_is_the_compound_titles_print(parser):
    parsed = parser.parse("non stick tape")  # (fashion's rules know "non slip": grip)
    assert parsed.semantic_text == "non stick tape" and not parsed.excluded and not parsed.negated()
    assert terms(parser.parse("non leather wallet"), "materials", negated=True) == ["leather"]


@pytest.mark.parametrize("query,vocabulary,term", [
    ("synthetic free shirt for men", "materials", "synthetic"), ("leather-free wallet", "materials", "leather"),
])
def test_a_term_followed_by_free_is_ruled_out(parser, query, vocabulary, term):
    parsed = parser.parse(query)
    assert terms(parsed, vocabulary, negated=True) == [term] and "free" not in parsed.keywords


def test_free_after_a_brand_or_an_unknown_word_rules_nothing_out(parser):
    assert terms(parser.parse("nike free running shoes"), "brands") == ["nike"]  # Nike Free: a shoe
    assert not parser.parse("frost free fridge").negated()


@pytest.mark.parametrize("query,expected_type", [
    ("capri pants for women", "capris"), ("boxer shorts for men", "boxers"), ("vest for men", "innerwear vests"),
    ("an umbrella", "umbrellas"), ("tunic", "tunics"), ("sunblock", "sunscreen"),
])
def test_a_garment_the_catalog_names_is_asked_for_by_its_common_names(query, expected_type):
    parser = QueryParser(load_rules("fashion"))
    assert parser.parse(query).types[expected_type] == 1.0


def test_a_catalog_type_named_by_a_rules_alias_is_asked_for_by_that_word_alone():
    types = {t: 1 for t in ("kurtas", "kurtis", "kurta sets", "tunics", "tops", "camisoles", "tshirts")}
    parser = QueryParser(load_rules("fashion"), CatalogStats(values={"type": types}))
    assert parser.parse("kurta").types["kurta sets"] == 0.5 and parser.parse("kurta").types["kurtas"] == 1
    assert parser.parse("kurta set").types == {"kurta sets": 1.0, "kurtas": 0.5, "kurtis": 0.5}  # a rule of its own
    assert parser.parse("camisole").types["camisoles"] == 1 and parser.parse("tops").types.get("camisoles") is None


def test_sandals_ask_for_sandals_first_and_floaters_for_the_sporty_kind_too(parser):
    # The dev set's graders give sports sandals half of what plain sandals get for a sandal-like word (fd016).
    assert parser.parse("sandals for women").types == {"sandals": 1.0, "sports sandals": 0.5, "flats": 0.5}
    assert parser.parse("floaters for men").types == {"sports sandals": 1.0, "sandals": 1.0}


def test_a_strap_of_a_material_asks_for_that_material_not_for_the_word_strap(parser):
    for query, material in (("watches for men with a leather strap", "leather"), ("rubber strap watch", "rubber"),
                            ("watch with steel straps", "metal")):
        parsed = parser.parse(query)
        assert terms(parsed, "materials") == [material] and "strap" not in parsed.keywords, query


def test_accessories_ask_for_what_the_catalog_files_as_accessories(parser):
    types = parser.parse("accessories for men").types
    assert types["watches"] == types["belts"] == types["wallets"] == 1.0 and types["cufflinks"] == 0.5
    with_the_type = QueryParser(load_rules("fashion"), CatalogStats(values={"type": {"accessory gift set": 1}}))
    assert with_the_type.parse("accessory gift set").types == {"accessory gift set": 1.0}  # the type's own name


def test_a_night_dress_is_nightwear_not_a_dress(parser):
    assert parser.parse("night dress for women").types == {"nightdress": 1.0, "night suits": 0.5, "baby dolls": 0.5}
    assert parser.parse("nighty").types["nightdress"] == 1.0


def test_a_birthday_asks_for_gifts_and_a_birthday_party_for_party_wear(parser):
    birthday = parser.parse("something for my boyfriend's birthday")
    assert terms(birthday, "occasions") == ["gift"] and birthday.types["watches"] == 1.0
    assert terms(parser.parse("dress for my birthday party"), "occasions") == ["party"]


def test_a_party_implies_party_wear_below_what_a_more_particular_occasion_asks_for(parser):
    date = parser.parse("what to wear on a first date, men")
    assert date.types_implied and date.types["shirts"] == 0.5 and "first" not in date.keywords
    diwali = parser.parse("clothes for a diwali party, women").types
    assert diwali["sarees"] == 1.0 and diwali["dresses"] == 0.5  # the festival's own wear first


def test_a_gift_for_someone_who_likes_a_setting_offers_its_kinds_bought_without_a_size_first(parser):
    # whose size the buyer seldom knows: a trip's bags lead, its t-shirts and shoes are only related
    travels = parser.parse("gift for a friend who travels a lot").types
    assert travels["duffel bag"] == travels["backpacks"] == travels["sunglasses"] == 1.0
    assert travels["tshirts"] == travels["flip flops"] == 0.5 and travels["watches"] == 1.0  # the gift's own stay
    with_ties = QueryParser(load_rules("fashion"), CatalogStats(values={"type": {t: 1 for t in [*TYPES, "ties"]}}))
    formal = with_ties.parse("a present for my boss, he likes formal stuff").types
    assert formal["ties"] == 1.0 and formal["shirts"] == formal["formal shoes"] == 0.5
    # a setting with only clothes to offer names what is given ("a rakhi gift": ethnic wear, as before)
    assert parser.parse("rakhi gift for my sister").types["sarees"] == 1.0
    # nor where the wear is said: "travel wear" asks for clothes
    assert parser.parse("travel wear as a gift").types["tshirts"] == 1.0
    assert parser.parse("a gift for him to wear on a trip").types["tshirts"] == 1.0
    assert parser.parse("clothes for a trip").types["tshirts"] == 1.0  # no gift: the trip's own grades


@pytest.mark.parametrize("query,gender", [("rakhi gift for brother", "men"), ("a scarf for my sister", "women")])
def test_family_words_name_a_gender(parser, query, gender):
    assert terms(parser.parse(query), "genders") == [gender]


def test_a_gift_without_a_product_word_asks_for_what_people_give(parser):
    wife = parser.parse("gift for my wife")
    assert terms(wife, "occasions") == ["gift"] and terms(wife, "genders") == ["women"]
    assert wife.types_implied and wife.types["watches"] == 1.0 and wife.types["handbags"] == 1.0
    assert parser.parse("a gift watch for him").types == {"watches": 1.0}  # a named type wins
    # "gift" in titles names gift sets: the word is not searched (its rule's `searched`), its types are
    assert "gift" not in wife.keyword_query.split()
    # nor when another of its names is what matched: "birthday gift" reads as the term "gift" from "birthday"
    assert not {"gift", "birthday"} & set(parser.parse("birthday gift for my girlfriend").keyword_query.split())
    assert "gift" not in wife.semantic_text.split()  # a vector of "gift" finds gift sets as BM25 does
    husband = parser.parse("anniversary gift for husband")
    assert terms(husband, "occasions") == ["gift"] and terms(husband, "genders") == ["men"]
    gift_set = QueryParser(load_rules("fashion"), CatalogStats(values={"type": {"accessory gift set": 1}}))
    sets = gift_set.parse("gift set for men")  # a gift set is a product, searched by its words
    assert sets.types["accessory gift set"] == 1.0 and "gift" in sets.keyword_query.split()


def test_a_grown_ups_gender_implies_adult_wear_and_a_childs_kids_wear(parser):
    ages = {c.term: c.implied for c in parser.parse("grey hoodie for men").constraints if c.vocabulary == "ages"}
    assert ages == {"adult": True}
    assert [(c.term, c.implied) for c in parser.parse("tshirt for my son").constraints if c.vocabulary == "ages"] \
        == [("kids", True)]
    nobody = [c for c in parser.parse("grey hoodie").constraints if c.vocabulary == "ages"]  # nobody named: a default
    assert [(c.term, c.implied, c.source) for c in nobody] == [("adult", True, "")]
    # A later turn's gender brings its own age: "for my son" after "tshirts for men" is kids' wear only.
    son = parser.build(merge_turn(parser.parse("tshirts for men"), parser.draft("for my son instead", frozenset({"tshirts"}))))
    assert [(c.vocabulary, c.term) for c in son.constraints] == [("genders", "boys"), ("ages", "kids")]
    # What "my son" implies is the shopper's, not the type's: it survives a new type ("sports ones"), as what a
    # type implies does not ("lbd", then jeans: not black).
    sports = parser.build(merge_turn(parser.parse("shoes for my son"), parser.draft("sports ones")))
    assert {(c.vocabulary, c.term) for c in sports.constraints} >= {("genders", "boys"), ("ages", "kids")}
    jeans = parser.build(merge_turn(parser.parse("lbd"), parser.draft("actually jeans instead")))
    assert not jeans.positive("colors")


def test_cold_weather_asks_for_warm_clothes(parser):
    assert parser.parse("something for a cold day, women").types["jackets"] == 1.0


def test_hot_weather_asks_for_light_clothes(parser):
    hot = parser.parse("clothes for hot weather, women")
    assert hot.types_implied and hot.types["dresses"] == hot.types["tops"] == 1.0
    assert terms(hot, "seasons") == ["summer"]


def test_a_sport_without_a_product_word_asks_for_its_kit(parser):
    assert parser.parse("cricket gear").types["sports shoes"] == 1.0
    assert parser.parse("cricket shirts").types == {"shirts": 1.0}  # a named type wins


def test_a_watchs_display_is_a_style(parser):
    parsed = parser.parse("analog watches for men, not digital")
    assert parsed.types == {"watches": 1.0} and terms(parsed, "styles") == ["analog"]
    assert terms(parsed, "styles", negated=True) == ["digital"] and not parsed.excluded
    assert terms(parser.parse("polo tshirt"), "styles") == ["polo"]  # a polo collar, not a word of "t-shirt"


def test_a_negation_word_is_never_spelled_into_a_catalog_word():
    # "aren't" is keyed "arent", one letter from "agent": a catalog that says "agent" must not take it
    stats = CatalogStats(values={"type": {"backpacks": 1}}, words={"agent": 40, "black": 900, "backpacks": 700})
    parsed = QueryParser(load_rules("fashion"), stats).parse("backpacks that aren't black")
    assert terms(parsed, "colors", negated=True) == ["black"] and not parsed.corrections and not parsed.keywords


@pytest.mark.parametrize("query,style", [("heels, no wedges", "wedge"), ("heels but not stilettos", "stiletto")])
def test_ruling_out_a_kind_of_the_type_asked_for_keeps_the_type(parser, query, style):
    parsed = parser.parse(query)
    assert parsed.types == {"heels": 1.0} and not terms(parsed, "categories", negated=True)
    assert terms(parsed, "styles", negated=True) == [style]
    assert terms(parser.parse("sandals, no heels"), "categories", negated=True) == ["heels"]  # another type


@pytest.mark.parametrize("query,asked,vocabulary,kind", [
    ("stilettos", "heels", "styles", "stiletto"), ("wedges for women", "heels", "styles", "wedge"),
    ("ankle socks for women", "socks", "lengths", "ankle socks"), ("knee high socks", "socks", "lengths", "knee high socks"),
    ("bikini briefs", "briefs", "styles", "bikini"),
])
def test_another_name_of_a_type_that_names_a_kind_of_it_asks_for_both(parser, query, asked, vocabulary, kind):
    parsed = QueryParser(load_rules("fashion"), CatalogStats(values={"type": {asked: 1}})).parse(query)
    assert parsed.types[asked] == 1.0
    said = [c for c in parsed.constraints if c.vocabulary == vocabulary]
    assert [c.term for c in said] == [kind] and not said[0].implied  # said, so at its full penalty


def test_a_types_own_name_is_not_a_kind_of_another_type(parser):
    # the style "sandals" is a heel of the sandal kind: the word asks for sandals alone
    assert not terms(parser.parse("sandals for women"), "styles")
    boat = parser.parse("boat shoes")  # a type's own kind comes as what it implies
    assert boat.types == {"casual shoes": 1.0} and terms(boat, "styles") == ["boat shoes"]


def test_no_sleeves_a_dial_shape_and_a_shoes_height_are_asked_for_by_their_names(parser):
    assert terms(parser.parse("kurtis without sleeves"), "sleeves") == ["sleeveless"]  # not "sleeves" ruled out
    assert terms(parser.parse("square dial watch"), "styles") == ["square dial"]
    assert terms(parser.parse("high top sneakers"), "styles") == ["high top"]


@pytest.mark.parametrize("query,pack", [("multipack tshirts for men", "multipack"), ("cotton socks pack of 3", "pack of 3"),
                                        ("socks set of two", "pack of 2")])
def test_a_multipack_is_asked_for_by_its_names_and_its_number_is_no_size(parser, query, pack):
    parsed = parser.parse(query)
    assert terms(parsed, "packs") == [pack] and not parsed.sizes and not parsed.keywords


def test_a_ruled_out_type_is_what_its_word_asks_for_not_what_it_is_related_to(parser):
    parsed = parser.parse("perfume for men, not deodorant")  # "deodorant" is related to perfume, which stays
    assert [c.values for c in parsed.constraints if c.vocabulary == "categories" and c.negated] == [["deodorant"]]


def test_skin_is_a_colour_only_as_a_skin_colour(parser):
    dry = parser.parse("moisturizer for dry skin")
    assert dry.types["face moisturisers"] == 1.0 and not terms(dry, "colors")
    assert terms(parser.parse("skin colour bra"), "colors") == ["skin tone"]


def test_a_category_and_an_occasion_narrow_each_other(parser):
    party = parser.parse("shoes for a party, women")  # heels: a party's, related to shoes, asked for now
    assert party.types["heels"] == 1.0 and party.types["sports shoes"] == 0.5 and party.types["casual shoes"] == 1.0


def test_packing_is_not_an_occasion_and_a_trip_asks_for_casual_wear(parser):
    assert terms(parser.parse("packing for a beach holiday"), "occasions") == ["beach"]
    trip = parser.parse("clothes for a road trip, men")
    assert terms(trip, "occasions") == ["travel"] and trip.types["tshirts"] == 1.0


@pytest.mark.parametrize("query,rise", [("jeans for women high waist", "high-rise"), ("low rise jeans", "low-rise"),
                                        ("high-waisted trousers", "high-rise")])
def test_a_waist_rise_is_asked_for_by_its_common_names(parser, query, rise):
    parsed = parser.parse(query)
    assert terms(parsed, "rises") == [rise] and not parsed.keywords


def test_a_salwar_suit_is_the_set_and_a_salwar_the_trousers(parser):
    suit = parser.parse("salwar suit").types
    assert suit["salwar and dupatta"] == suit["kurta sets"] == 1.0 and suit["salwar"] == 0.5
    assert parser.parse("white salwar").types["salwar"] == 1.0


@pytest.mark.parametrize("query,style", [("tshirt with collar for men", "polo"), ("collared tshirt", "polo")])
def test_a_tshirt_with_a_collar_is_a_polo(parser, query, style):
    parsed = parser.parse(query)
    assert terms(parsed, "styles") == [style] and not parsed.keywords


@pytest.mark.parametrize("query,lens", [("sunglasses for men polarised", "polarised"),
                                        ("polarized shades", "polarised"), ("uv400 sunglasses", "uv protected")])
def test_a_lens_feature_is_asked_for_by_its_common_names(parser, query, lens):
    parsed = parser.parse(query)
    assert terms(parsed, "eyewear") == [lens] and parsed.types.get("sunglasses") == 1.0


def test_girls_and_boys_at_a_setting_only_grown_ups_go_to_are_young_women_and_men(parser):
    for query, gender in [("college outfit for girls", "women"), ("gift for my son who is going to college", "men")]:
        parsed = parser.parse(query)
        assert terms(parsed, "genders") == [gender] and terms(parsed, "ages") == ["adult"], query
    assert terms(parser.parse("school bag for boys"), "genders") == ["boys"]  # children go to school


def test_a_camisole_for_a_sheer_top_is_the_camisole_not_the_top(parser):
    # the catalog's own kind, no longer a name of "top": what is wanted and what the shopper has are told apart
    parsed = parser.parse("camisole for a sheer top")
    assert parsed.types["camisoles"] == 1.0 and "tops" not in parsed.types


def test_a_funeral_asks_for_sober_formal_and_traditional_wear(parser):
    parsed = parser.parse("what do i wear to a funeral, men")
    assert terms(parsed, "occasions") == ["funeral"] and {"shirts", "trousers", "formal shoes", "kurtas"} <= set(parsed.types)


@pytest.mark.parametrize("query,asked", [
    ("kada for men", "bangle"), ("locket for women", "pendant"), ("three fourth pants for women", "capris"),
    ("long tops for women", "tunics"), ("face powder", "compact"), ("panties", "briefs"), ("spaghetti top", "camisoles"),
    ("camisole", "camisoles"),
])
def test_a_garment_or_piece_is_asked_for_by_its_everyday_name(parser, query, asked):
    parsed = parser.parse(query)
    assert parsed.types[asked] == 1.0 and not parsed.keywords


def test_what_a_name_implies_comes_with_it(parser):
    assert terms(parser.parse("panties"), "genders") == ["women"]
    assert terms(parser.parse("spaghetti top"), "sleeves") == ["sleeveless"]
    assert terms(parser.parse("kurti three fourth sleeves"), "sleeves") == ["three-quarter sleeves"]  # not capris
    assert terms(parser.parse("sleeping wear for men"), "occasions") == ["lounge"]
    assert terms(parser.parse("clothes for a newborn"), "genders") == ["kids"]


@pytest.mark.parametrize("query,occasion,asked", [
    ("rainy day essentials", "rain", "flip flops"), ("garba night outfit", "navratri", "kurtas"),
    ("going to goa next week, what should i pack, men", "beach", "flip flops"),
    ("graduation day outfit, men", "graduation", "blazers"),
    ("haldi ceremony outfit for women", "haldi", "kurtas"), ("clothes for a music concert, women", "party", "dresses"),
    ("casual outfit for a day out, women", "casual", "tops"), ("clothes for a picnic, women", "casual", "tops"),
    ("what to wear to court for a hearing, men", "formal", "blazers"),
    ("outfit for a day at the museum, women", "casual", "tops"), ("theme park day outfit for kids", "casual", "tshirts"),
    ("going bowling with friends, what should i wear, men", "casual", "jeans"),
    ("clothes for salsa class, women", "party", "dresses"), ("cruise vacation outfits for women", "honeymoon", "dresses"),
    ("clothes for a safari trip, men", "safari", "shirts"), ("fishing trip gear for men", "fishing", "sunglasses"),
    ("golf outfit for men", "golf", "trousers"), ("what to wear for afternoon tea, women", "smart casual", "dresses"),
    ("what to wear to a bbq, men", "casual", "tshirts"), ("outfit for a nightclub, women", "party", "dresses"),
    ("what do i wear to a cricket match, men", "watching a match", "sunglasses"),
    ("what to wear to watch a cricket match at the stadium, men", "watching a match", "tshirts"),
    ("what to wear for a day at the races, women", "horse races", "dresses"),
    ("what to wear to the races, men", "horse races", "blazers"),
    ("outfit for a day of sightseeing, women", "sightseeing", "tops"),  # not shoes alone, as walking's need is
])
def test_an_occasion_by_its_everyday_name_asks_for_its_wear(parser, query, occasion, asked):
    parsed = parser.parse(query)
    assert occasion in terms(parsed, "occasions") and asked in parsed.types


def test_at_home_is_lounge_wear_alone_and_yields_to_a_setting_held_there(parser):
    feet = parser.parse("stuff for my feet that i can wear at home")
    assert terms(feet, "occasions") == ["at home"] and feet.types["flip flops"] == 1.0  # the house's slippers
    puja = parser.parse("what should i wear to a puja at home, men")
    assert puja.types["kurtas"] == 1.0 and "flip flops" not in puja.types  # the puja's wear, not lounge wear
    sharp = parser.parse("i want to look sharp for a presentation, women")
    assert terms(sharp, "occasions") == ["formal"] and sharp.types["blazers"] == 1.0


def test_a_beach_wedding_is_a_wedding_dressed_for_the_heat_not_a_swim(parser):
    beach_wedding = parser.parse("something to wear to a beach wedding")
    assert terms(beach_wedding, "occasions") == ["beach wedding"] and terms(beach_wedding, "seasons") == ["summer"]
    assert beach_wedding.types["dresses"] == beach_wedding.types["shirts"] == 1.0
    assert "sarees" not in beach_wedding.types and "swimwear" not in beach_wedding.types


def test_a_formal_evening_is_dressed_up_not_office_wear_and_a_black_tie_alone_is_a_tie(parser):
    for query in ["a classic look for a formal dinner, women", "black tie event, women", "formal evening wear for women"]:
        evening = parser.parse(query)
        assert terms(evening, "occasions") == ["formal evening"] and evening.types["dresses"] == 1.0, query
        assert evening.types["shirts"] == 0.5, query  # the office's shirts only related
    tie = parser.parse("black ties for men")  # a dress code's name only with its setting said
    assert terms(tie, "occasions") == [] and terms(tie, "colors") == ["black"] and "ties" in tie.keyword_query


def test_occasions_that_name_another_thing_are_read_as_the_occasion(parser):
    shower = parser.parse("something to wear to a baby shower, women")
    assert terms(shower, "occasions") == ["party"] and terms(shower, "genders") == ["women"]  # not a baby's wear
    assert terms(parser.parse("haldi ceremony outfit"), "colors") == ["yellow"]  # implied, at half its penalty
    assert terms(parser.parse("what should i wear for holi"), "colors") == ["white"]  # holi's white, not diwali's
    assert parser.parse("monsoon footwear").types == {"flip flops": 1.0, "sandals": 1.0, "sports sandals": 1.0,
                                                      "casual shoes": 0.5}


def test_brands_are_read_however_they_are_spaced_and_yield_to_an_attribute_of_the_same_word():
    stats = CatalogStats(values={"type": {"kurtas": 1, "jackets": 1, "tshirts": 1},
                                 "brand": {"Fabindia": 1, "Denim": 1, "U.S. Polo Assn.": 1, "Jack & Jones": 1}})
    shop = QueryParser(load_rules("fashion"), stats)
    assert terms(shop.parse("fab india kurta"), "brands") == ["Fabindia"]  # one word in the catalog, two typed
    assert terms(shop.parse("jack and jones tshirts"), "brands") == ["Jack & Jones"]  # "&" said "and"
    assert terms(shop.parse("us polo tshirts"), "brands") == ["U.S. Polo Assn."] and not terms(
        shop.parse("us polo tshirts"), "styles")
    denim = shop.parse("denim jacket")  # a brand and a material: the material
    assert terms(denim, "materials") == ["denim"] and not terms(denim, "brands")


@pytest.mark.parametrize("query,types", [("gold ear rings", {"earrings"}), ("back pack for college", {"backpacks"}),
                                         ("sweat shirt for men", {"sweatshirts"})])
def test_a_one_word_name_typed_as_two_is_that_name(parser, query, types):
    """"ear rings" are earrings, not rings: the longest reading wins, and a word the lexicon knows whole is one."""
    assert {t for t, grade in parser.parse(query).types.items() if grade >= 1} >= types
    assert "ring" not in parser.parse("gold ear rings").types


@pytest.mark.parametrize("query,term", [("padded bra", "padded"), ("non padded bra", "non padded"),
                                        ("wired bra", "underwired"), ("wireless bra", "non-wired")])
def test_a_bras_padding_and_wiring_are_asked_for_by_their_names(parser, query, term):
    parsed = parser.parse(query)
    assert terms(parsed, "lingerie") == [term] and not parsed.negated() and not parsed.keywords


def test_an_implied_term_yields_to_what_is_said_and_what_is_said_after_it_is_said():
    stats = CatalogStats(values={"gender": {"men": 1, "women": 1, "boys": 1, "girls": 1}})
    shop = QueryParser(load_rules("fashion"), stats)
    pyjama = shop.parse("kurta pyjama")
    assert pyjama.types == {"kurta sets": 1.0, "kurtas": 0.5} and terms(pyjama, "genders") == ["men"]
    assert not any(c.prefilters(stats.values) for c in pyjama.constraints)  # implied: never a filter
    said = shop.parse("white kurta pyjama for men")  # said too: the filter it would be had nothing implied it
    assert any(c.term == "men" and c.prefilters(stats.values) for c in said.constraints)
    for query, gender, age in [("kurta pyjama for boys", "boys", "kids"), ("panties for girls", "girls", "kids")]:
        parsed = shop.parse(query)
        assert terms(parsed, "genders") == [gender] and terms(parsed, "ages") == [age]
    assert terms(shop.parse("beach holiday in winter"), "seasons") == ["winter"]  # not the summer a beach implies


def test_a_place_of_worship_asks_for_traditional_wear(parser):
    parsed = parser.parse("something to wear to the temple, women")
    assert terms(parsed, "occasions") == ["ethnic"] and {"kurtas", "sarees"} <= set(parsed.types)


def test_negation_reach_is_limited(parser):
    parsed = parser.parse("not leather casual shoes in black for men")
    assert "black" in terms(parsed, "colors") and "leather" in terms(parsed, "materials", negated=True)


@pytest.mark.parametrize("query,intent", [
    ("navy puffer jacket", Intent.product_search), ("style me for a beach wedding", Intent.outfit),
    ("what to wear to a wedding, women", Intent.outfit), ("nike vs adidas running shoes", Intent.comparison),
    ("compare these two watches", Intent.comparison), ("what is your return policy", Intent.help),
    ("track my order", Intent.help), ("what material is this made of", Intent.details),
])
def test_intent(parser, query, intent):
    assert parser.parse(query).intent == intent


def test_category_synonyms_are_directed(parser):
    assert {"jackets", "blazers"} <= set(parser.parse("navy jacket").types)
    assert set(parser.parse("navy blazer").types) == {"blazers"}


@pytest.mark.parametrize("query,expected_type", [
    ("white sneakers", "casual shoes"), ("hoodie for men", "sweatshirts"), ("shades", "sunglasses"),
    ("black rucksack", "backpacks"), ("khaki chinos", "trousers"), ("lbd", "dresses"), ("t shirt", "tshirts"),
    ("tees", "tshirts"), ("ray ban sunglasses", "sunglasses"), ("jeans", "jeans"), ("kurtas", "kurtas"),
])
def test_category_words(parser, query, expected_type):
    parsed = parser.parse(query)
    assert parsed.types.get(expected_type) == 1.0


def test_occasion_implies_types_only_without_a_category(parser):
    office = parser.parse("office wear for men")
    assert office.types_implied and office.types["shirts"] == 1 and "formal" in terms(office, "occasions")
    assert not parser.parse("office shirts").types_implied


def test_brands_come_from_the_catalog(parser):
    assert terms(parser.parse("ray ban sunglasses"), "brands") == ["ray-ban"]
    assert terms(parser.parse("rayban aviators"), "brands") == ["ray-ban"]
    assert terms(parser.parse("levi's jeans"), "brands") == ["levis"]


def test_typos_and_normalisation(parser):
    parsed = parser.parse("  SHOES for playing FOOTBAL!!  ")
    assert parsed.normalized == "shoes for playing football"
    assert "football" in terms(parsed, "occasions")
    assert terms(parser.parse("blck jens"), "colors") == ["black"]
    assert parser.parse("blck jens").types.get("jeans") == 1.0
    # four-letter words are too short for the speller to correct safely: the common ones are listed typos
    kurti = parser.parse("blak kurti for womn")
    assert terms(kurti, "colors") == ["black"] and terms(kurti, "genders") == ["women"]


def test_expansions_keep_original_terms_first_and_are_unique(parser):
    parsed = parser.parse("navy jacket")
    assert parsed.expansions[:2] == ["navy", "jacket"]
    assert "navy blue" in parsed.expansions and len(parsed.expansions) == len(set(parsed.expansions))


def test_multi_item_requests_split_and_share_constraints(parser):
    parsed = parser.parse("black jacket and white sneakers for men under 5000")
    assert len(parsed.sub_queries) == 2
    jacket, shoes = parsed.sub_queries
    assert "jackets" in jacket.types and terms(jacket, "colors") == ["black"]
    assert "casual shoes" in shoes.types and terms(shoes, "colors") == ["white"]
    for sub in parsed.sub_queries:
        assert terms(sub, "genders") == ["men"] and sub.price.catalog_max == 5000
    assert parser.parse("black and white shirt").sub_queries == []


def test_sizes_and_references(parser):
    assert parser.parse("jeans size 32").sizes == ["32"]
    assert parser.parse("tshirt xl").sizes == ["xl"]
    assert parser.parse("the third one but in black").references == [3]


def test_huge_and_odd_input_is_bounded(parser):
    parsed = parser.parse("shoes " * 5000 + "\x00\x07\u202e")
    assert len(parsed.normalized) <= 512
    assert parser.parse("").semantic_text == ""


def test_what_to_find_comes_before_a_complement_phrase_and_what_the_shopper_has_after(parser):
    shoes = parser.parse("shoes to go with a saree")  # was split at "with a" into shoes and sarees
    assert "sarees" not in shoes.types and shoes.types["casual shoes"] == 1.0 and not shoes.sub_queries
    assert terms(shoes, "genders") == ["women"] and shoes.intent == Intent.product_search  # a saree is a woman's
    bag = parser.parse("a handbag to match my red dress")
    assert "dresses" not in bag.types and not terms(bag, "colors")  # red is the dress's colour
    jeans = parser.parse("what goes with black jeans")  # nothing named to find: a look around the jeans
    assert jeans.intent == Intent.outfit and jeans.types["jeans"] == 1.0


def test_a_jacket_is_a_jacket_first_and_a_blazer_or_raincoat_only_related(parser):
    """A blazer and a raincoat are jackets sold under their own names: asked for by those, related to "jacket"."""
    types = parser.parse("bomber jacket for men").types
    assert types["jackets"] == 1.0 and types["blazers"] == 0.5
    assert parser.parse("blazer for men").types["blazers"] == 1.0


def test_a_waterproof_watch_is_one_rated_for_swimming(parser):
    """The feed rates a watch by depth: 30 m takes splashes, 50 m and more a swim."""
    waterproof = next(c for c in parser.parse("waterproof watch").constraints if c.vocabulary == "water")
    assert {"50 m", "100 m"} <= set(waterproof.values) and "30 m" not in waterproof.values
    resistant = next(c for c in parser.parse("water resistant watch").constraints if c.vocabulary == "water")
    assert "30 m" in resistant.values


@pytest.mark.parametrize("query", ["sweat pants women", "joggers for men", "sweatpants"])
def test_sweatpants_and_joggers_are_track_pants(parser, query):
    assert max(parser.parse(query).types.items(), key=lambda kv: kv[1])[0] == "track pants"


@pytest.mark.parametrize("bound", ["under 2000", "cheaper"])
def test_a_turn_of_only_a_bound_adds_no_words_to_search(parser, bound):
    """"under 2000" as a second turn put "under 2000" into BM25's words and the vector's text."""
    merged = parser.build(merge_turn(parser.parse("running shoes for men"), parser.parse(bound)))
    assert merged.semantic_text == "running shoes men" and not set(bound.split()) & set(merged.keyword_query.split())


@pytest.mark.parametrize("query,vocabulary,term", [
    ("graphic tees for men", "patterns", "graphic"), ("polka dot dress", "patterns", "polka dots"),
    ("puff sleeve top", "styles", "puff sleeves"), ("skater dress", "styles", "fit and flare"),
    ("sunglasses with brown lenses", "eyewear", "brown lenses"), ("matte lipstick", "finishes", "matte"),
])
def test_the_feeds_finer_fields_are_asked_for_by_their_words(parser, query, vocabulary, term):
    assert terms(parser.parse(query), vocabulary) == [term]
    if vocabulary == "eyewear":  # the lenses' colour, not the frame's
        assert not terms(parser.parse(query), "colors")


def test_a_floral_print_is_a_print_but_a_print_is_not_floral(parser):
    printed = next(c for c in parser.parse("printed kurta").constraints if c.vocabulary == "patterns")
    floral = next(c for c in parser.parse("floral kurta").constraints if c.vocabulary == "patterns")
    assert "floral" in printed.values and "printed" not in floral.values


def test_a_category_and_an_occasion_narrow_to_the_types_both_grade_highest(parser):
    """"festive kurta set": kurta sets; the kurtas both only relate to it stay related (they were asked for as
    much before)."""
    kurta_set = parser.parse("festive kurta set for women").types
    assert kurta_set["kurta sets"] == 1.0 and kurta_set["kurtas"] == kurta_set["kurtis"] == 0.5
    assert parser.parse("shoes for a party, women").types["heels"] == 1.0  # a related kind the occasion suits
    brunch = parser.parse("outfit for a brunch, women")
    assert brunch.types_implied and brunch.types["dresses"] == brunch.types["tops"] == 1.0  # smart casual wear


@pytest.mark.parametrize("query,family,member", [("pastel tops", "pastel", "lavender"),
                                                 ("neon sports shoes", "neon", "fluorescent green"),
                                                 ("bright coloured kurti", "bright colours", "orange"),
                                                 ("earthy tones kurta", "earthy", "rust")])
def test_a_colour_family_asks_for_its_colours(parser, query, family, member):
    family_term = next(c for c in parser.parse(query).constraints if c.vocabulary == "colors")
    assert family_term.term == family and member in family_term.values


def test_bright_or_dark_before_a_colour_is_that_colour(parser):
    assert terms(parser.parse("bright red dress"), "colors") == ["red"]
    assert terms(parser.parse("dark green shirt"), "colors") == ["green"]


def test_a_college_farewell_is_a_party(parser):
    farewell = parser.parse("what to wear for farewell, women")
    assert terms(farewell, "occasions") == ["farewell"] and "party" in farewell.positive("occasions")[0].values


def test_an_occasion_naming_a_need_keeps_its_types_over_a_settings(parser):
    """"something warm for a trip": what keeps warm, not the t-shirts and shorts a trip implies."""
    warm_trip = parser.parse("something warm for a trip").types
    assert warm_trip["jackets"] == 1.0 and "tshirts" not in warm_trip
    assert parser.parse("clothes for a trip").types["tshirts"] == 1.0  # the setting alone still names its types


def test_what_a_product_is_for_names_its_type(parser):
    """Shoppers name a use or a body part, not a category: "keep my hands warm" is gloves, "hold up my trousers"
    a belt (not trousers), "for my feet at the beach" the footwear a beach suits."""
    assert set(parser.parse("something to hold up my trousers").types) >= {"belts"}
    assert "trousers" not in parser.parse("something to hold up my trousers").types
    assert parser.parse("something to protect my eyes from the sun").types == {"sunglasses": 1.0}
    beach = parser.parse("something for my feet at the beach").types
    assert beach["flip flops"] == 1.0 and beach["casual shoes"] == 0.5
    assert parser.parse("stuff to keep my hands warm").types == {"gloves": 1.0}
    assert parser.parse("something to carry my books to college").types["backpacks"] == 1.0
    assert "handbags" in parser.parse("a bag to carry my stuff").types


def test_what_goes_with_a_piece_sold_to_one_side_is_that_sides():
    """A dress is a woman's where the catalog sells dresses to women and girls alone: the shoes to go with it are
    a woman's, and her own kinds (heels, flats) more than the sneakers everyone wears."""
    stats = CatalogStats(values={"type": {t: 1 for t in TYPES}, "gender": {"men": 1, "women": 1}},
                         type_genders={"dresses": {"women": 90, "girls": 8, "men": 1}, "heels": {"women": 50},
                                       "flats": {"women": 20}, "casual shoes": {"men": 60, "women": 30},
                                       "sports shoes": {"men": 60, "women": 30}, "formal shoes": {"men": 40}})
    assert stats.genders_of(["dresses"]) == ["girls", "unisex", "women"] and stats.gender_of(["dresses"]) == "women"
    assert stats.genders_of(["casual shoes"]) == [] and stats.gender_of(["casual shoes"]) is None
    # a dress sold to a man is a feed's slip; casual shoes are sold to both sides
    assert stats.hardly_sold_to(["dresses"], ["men", "unisex"]) and not stats.hardly_sold_to(["casual shoes"], ["women"])
    parsed = QueryParser(load_rules("fashion"), stats).parse("shoes to go with a red dress")
    assert any(c.vocabulary == "genders" and c.term == "women" and c.implied for c in parsed.constraints)
    assert parsed.types["heels"] == parsed.types["flats"] == 1.0 and parsed.types["casual shoes"] == 0.5
    assert not parsed.positive("colors")  # the red is the dress's
    assert parsed.intent == Intent.product_search  # shoes, named
    assert QueryParser(load_rules("fashion"), stats).parse("what can i wear with chinos").intent == Intent.outfit


def test_a_mehendi_and_comfortable_shoes_name_their_own_kinds(parser):
    """A mehendi is a day function of kurtas and kurta sets, not the wedding's sarees and lehengas; comfortable
    shoes are sports and casual shoes, not formal shoes or heels."""
    mehendi = parser.parse("what to wear to a mehendi, women").types
    assert mehendi["kurtas"] == 1.0 and mehendi["sarees"] == 0.5
    comfortable = parser.parse("comfortable shoes for standing all day").types
    assert comfortable["sports shoes"] == comfortable["casual shoes"] == 1.0 and "formal shoes" not in comfortable


def test_only_says_nothing_else_unless_named_as_the_brand():
    """"cotton only" is no brand ONLY; "dresses from only" is."""
    stats = CatalogStats(values={"type": {t: 1 for t in TYPES}, "brand": {"only": 1, "nike": 1}})
    parser = QueryParser(load_rules("fashion"), stats)
    for query in ("kurtas cotton only", "only full sleeve shirts", "only tops"):
        assert not parser.parse(query).positive("brands"), query
    for query in ("dresses from only", "only brand tops"):
        assert [c.term for c in parser.parse(query).positive("brands")] == ["only"], query


def test_a_brand_named_like_a_common_word_is_that_brand_only_when_named_so():
    """AND is a brand: "black and white shirt" and "and cheaper" say no brand, "tops from and" does."""
    stats = CatalogStats(values={"type": {t: 1 for t in TYPES}, "brand": {"and": 1, "nike": 1}})
    parser = QueryParser(load_rules("fashion"), stats)
    for query in ("black and white shirt", "tops and jeans", "and cheaper"):
        assert not parser.parse(query).positive("brands"), query
    assert [c.term for c in parser.parse("tops from and").positive("brands")] == ["and"]


def test_a_known_words_possessive_is_no_typo(parser):
    """"wife's" is keyed "wifes": the wife (a woman), never corrected to another word ("wires")."""
    parsed = parser.parse("a watch for my wife's birthday")
    assert not parsed.corrections and terms(parsed, "genders") == ["women"]


def test_clothes_keep_an_occasion_to_its_garments(parser):
    """"clothes for jogging": the running occasion's t-shirts and shorts, not its shoes (a filter on the kinds of
    garment); a type said decides ("a bag for my gym clothes" is a bag)."""
    jogging = parser.parse("clothes for jogging, men")
    garments = next(c for c in jogging.constraints if c.field == "type")
    assert garments.prefilters(parser.stats.values) and "tshirts" in garments.values
    assert "sports shoes" not in garments.values and "clothes" in jogging.keyword_query.split()
    bag = parser.parse("a bag for my gym clothes")
    assert bag.types and not any(c.field == "type" for c in bag.constraints)


def test_a_turn_naming_a_kind_with_the_carried_noun_replaces_the_type(parser):
    """"casual shoes for men", then "actually formal ones": formal shoes for men; "in black" keeps the type."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    before = [Turn(query="casual shoes for men")]
    formal = resolver.understand("actually formal ones", before)
    assert formal.types == {"formal shoes": 1.0} and [c.term for c in formal.positive("genders")] == ["men"]
    black = resolver.understand("in black", before)
    assert black.types == {"casual shoes": 1.0} and [c.term for c in black.positive("colors")] == ["black"]


def test_a_tank_top_is_sleeveless_and_a_honeymoon_an_occasion(parser):
    """A man's tank top is a sleeveless t-shirt, a woman's a sleeveless top; a honeymoon names its own wear."""
    tank = parser.parse("tank top for men")
    assert tank.types["tops"] == tank.types["tshirts"] == 1.0
    assert [c.term for c in tank.constraints if c.vocabulary == "sleeves"] == ["sleeveless"]
    honeymoon = parser.parse("honeymoon outfits for women")
    assert honeymoon.types_implied and honeymoon.types["dresses"] == 1.0


def test_what_the_shopper_has_says_what_the_find_is_worn_for():
    """A suit is formal wear where the catalog sells blazers for formal wear: the shoes to go with it are formal
    ones; a type worn for many occasions (t-shirts) says none; an occasion said wins."""
    stats = CatalogStats(values={"type": {**{t: 1 for t in TYPES}, "blazers": 8, "tshirts": 10}},
                         type_occasions={"blazers": {"formal": 7, "casual": 1},
                                         "tshirts": {"casual": 7, "sports": 3}})
    assert stats.occasion_of(["blazers"]) == "formal" and stats.occasion_of(["tshirts"]) is None
    shop = QueryParser(load_rules("fashion"), stats)
    suit = shop.parse("help me pick shoes to go with a navy suit")
    assert [(c.term, c.implied) for c in suit.positive("occasions")] == [("formal", True)]
    assert not suit.positive("colors") and "formal shoes" in suit.types
    assert not shop.parse("shoes to go with a grey t-shirt").positive("occasions")
    assert terms(shop.parse("shoes to go with my suit for a party"), "occasions") == ["party"]


def test_a_turn_of_only_what_they_have_keeps_the_carried_find(parser):
    """"a handbag", then "to go with a white kurta": a handbag still, for a woman; the kurta's words are not
    searched for."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    goes = resolver.understand("to go with a white kurta", [Turn(query="a handbag")])
    assert {t for t, grade in goes.types.items() if grade >= 1} == {"handbags"}
    assert "kurta" not in goes.keyword_query and "kurta" not in goes.semantic_text
    assert not goes.positive("colors")
    alone = parser.parse("to go with a white kurta")  # with nothing carried: what goes with a kurta
    assert "kurtas" in alone.types


def test_ruling_out_a_type_by_its_own_name_rules_out_that_type_alone(parser):
    """"sandals, no flip flops": a rule that names flip flops in a family with sandals (chappals) does not rule
    the sandals out; "kurta instead of a shirt" rules out shirts."""
    sandals = parser.parse("sandals, no flip flops")
    assert sandals.types["sandals"] == 1.0
    assert [c.values for c in sandals.constraints if c.vocabulary == "categories" and c.negated] == [["flip flops"]]
    kurta = parser.parse("kurta instead of a shirt")
    assert "kurtas" in kurta.types and "shirts" in [v for c in kurta.constraints if c.negated for v in c.values]
    assert parser.parse("lowers for women").types["track pants"] == 1.0  # Indian English: track pants
    sneakers = parser.parse("casual shoes for men, not sneakers")  # a kind of the type asked: not the type
    assert sneakers.types == {"casual shoes": 1.0} and terms(sneakers, "styles", negated=True) == ["sneakers"]
    assert not [c for c in sneakers.constraints if c.vocabulary == "categories" and c.negated]
    kurtas = parser.parse("kurtas not kurtis")  # a type of its own, though "kurta" names both
    assert [c.values for c in kurtas.constraints if c.vocabulary == "categories" and c.negated] == [["kurtis"]]


def test_a_comparative_says_how_not_what(parser):
    """"more formal" after t-shirts: formal, and no title that says "more" ("Less Work More Sleep" tees)."""
    parsed = parser.parse("more formal")
    assert "more" not in parsed.keywords and terms(parsed, "occasions") == ["formal"]
    assert "less" not in parser.parse("something less flashy").keywords
    assert "bit" in parser.parse("drill bit").keywords  # a product's noun elsewhere: not a filler word


def test_heel_heights_are_asked_for_but_high_heels_are_just_heels(parser):
    """"lower heels please" and "low heels" ask for a low heel (and heels); "high heels" is the common name of
    heels, not a height; "very high heels" is one."""
    for query in ("low heels for office", "lower heels please"):
        parsed = parser.parse(query)
        assert [c.term for c in parsed.positive("heel_heights")] == ["low heel"] and parsed.types["heels"] == 1.0
    assert not parser.parse("high heels in red").positive("heel_heights")
    assert [c.values for c in parser.parse("very high heels").positive("heel_heights")] == [["high heel"]]


def test_regional_names_of_footwear_and_underwear_and_a_watch_to_swim_with(parser):
    """Kolhapuris are flat sandals, chuddies underwear; a watch to swim with resists 50 m or more, not 30 m."""
    kolhapuri = parser.parse("kolhapuri chappals for women").types
    assert kolhapuri["flats"] == kolhapuri["sandals"] == 1.0 and kolhapuri["flip flops"] == 0.5
    assert parser.parse("chuddies for men").types["briefs"] == 1.0
    swim = parser.parse("a watch for swimming")
    assert swim.types == {"watches": 1.0}
    assert "30 m" not in [v for c in swim.positive("water") for v in c.values]


def test_a_word_of_both_sides_kinds_asks_for_her_kinds_with_a_dress_a_word_of_hers_keeps_its_grades():
    """"accessories to go with a black dress": her handbags and her earrings alike, a watch only related; "a top
    to go with a denim skirt": tops, and the tunics "top" only relates stay related."""
    women = {"women": 50}
    stats = CatalogStats(values={"type": {t: 1 for t in [*TYPES, "earrings", "tunics", "skirts"]}},
                         type_genders={"dresses": women, "handbags": women, "earrings": women, "tops": women,
                                       "tunics": women, "skirts": women, "watches": {"men": 50, "women": 50}})
    shop = QueryParser(load_rules("fashion"), stats)
    accessories = shop.parse("accessories to go with a black dress").types
    assert accessories["handbags"] == accessories["earrings"] == 1.0 and accessories["watches"] == 0.5
    top = shop.parse("a top to go with a denim skirt").types
    assert top["tops"] == 1.0 and top["tunics"] == 0.5


def test_an_occasions_wear_is_its_clothes(parser):
    """"work wear": the office's shirts and trousers; its formal shoes only related. "office" alone: all of them."""
    wear = parser.parse("work wear for men").types
    assert wear["shirts"] == wear["trousers"] == 1.0 and wear["formal shoes"] == 0.5
    assert parser.parse("what to wear to the office, men").types["formal shoes"] == 1.0


def test_a_bag_pack_is_a_backpack_and_bodycon_a_grown_womans_style(parser):
    """Indian English writes backpacks "bag pack"; a bodycon dress is adults' wear, not a girl's."""
    assert parser.parse("bag pack for school").types["backpacks"] == 1.0
    assert "handbags" not in parser.parse("bag pack for school").types
    assert terms(parser.parse("bodycon dress"), "ages") == ["adult"]


def test_a_bags_kind_is_asked_for_as_its_style(parser):
    """"pink shoulder bag": a handbag whose style is a shoulder bag (the feed's Type), not any handbag; "tote" and
    "crossbody bag" likewise."""
    for query, style in (("pink shoulder bag for women", "shoulder bag"), ("a tote for work", "tote bag"),
                         ("crossbody bag", "sling bag")):
        parsed = parser.parse(query)
        assert parsed.types["handbags"] == 1.0 and terms(parsed, "styles") == [style]
    assert not parser.parse("handbags for women").positive("styles")


def test_an_occasion_the_asked_types_never_record_reads_as_its_broader_one():
    """The feed says which shoes are for running, never which shorts: "running shorts" prefers the sports ones;
    "running shoes" keep asking for running ones."""
    stats = CatalogStats(values={"type": {t: 1 for t in TYPES}},
                         type_occasions={"shorts": {"casual": 5, "sports": 3},
                                         "sports shoes": {"sports": 9, "running": 6}})
    shop = QueryParser(load_rules("fashion"), stats)
    shorts = [c for c in shop.parse("running shorts for women").positive("occasions") if c.term == "running"]
    assert {"running", "sports"} <= set(shorts[0].values)
    shoes = [c for c in shop.parse("running shoes for men").positive("occasions") if c.term == "running"]
    assert shoes[0].values == ["running"]


def test_a_winter_outfit_asks_for_winter_wear_as_a_summer_one_does_for_summer_wear(parser):
    """"winter outfit for men" searched titles for "outfit" (sandals); it names winter wear's types."""
    winter = parser.parse("winter outfit for men")
    assert terms(winter, "occasions") == ["winter wear"] and winter.types["jackets"] == 1.0
    assert terms(parser.parse("summer outfit for girls"), "occasions") == ["summer wear"]


def test_studs_are_earrings_or_football_boots_and_ruling_out_a_kind_in_a_later_turn(parser):
    """"studs" are stud earrings or football boots (whose gender decides); "heels", then "no wedges" rules out the
    wedge kind, not the heels carried; "earrings", then "no studs" likewise."""
    studs = parser.parse("small studs for daily wear")
    assert {t for t, grade in studs.types.items() if grade >= 1} == {"earrings", "sports shoes"}
    assert terms(studs, "styles") == ["studs"]
    assert terms(parser.parse("stud earrings"), "styles") == ["studs"]
    assert parser.parse("football studs").types == {"sports shoes": 1.0}
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    for first, then, kind in (("heels", "no wedges", "wedge"), ("earrings", "no studs", "studs"),
                              ("casual shoes for men", "not sneakers", "sneakers")):
        later = resolver.understand(then, [Turn(query=first)])
        assert terms(later, "styles", negated=True) == [kind]
        assert not [c for c in later.constraints if c.vocabulary == "categories" and c.negated]
    kurtis = resolver.understand("not kurtis", [Turn(query="kurtas")])  # a type's own name: that type
    assert [c.values for c in kurtis.constraints if c.vocabulary == "categories" and c.negated] == [["kurtis"]]


def test_dungarees_and_luggage_name_their_types(parser):
    """Dungarees are jumpsuits and rompers; a travel bag, luggage or a suitcase a duffel or trolley bag."""
    assert parser.parse("dungarees for girls").types == {"jumpsuit": 1.0, "rompers": 1.0}
    for query in ("travel bag for men", "a suitcase"):
        asked = {t for t, grade in parser.parse(query).types.items() if grade >= 1}
        assert asked == {"duffel bag", "trolley bag"}


def test_a_negation_that_ends_a_clause_rules_nothing_out(parser):
    """"a watch that looks expensive but isn't, men" is for men: "isn't" points back; "kurta, not white" still
    rules white out."""
    watch = parser.parse("a watch that looks expensive but isn’t, men")
    assert terms(watch, "genders") == ["men"] and not terms(watch, "genders", negated=True)
    assert terms(parser.parse("kurta, not white"), "colors", negated=True) == ["white"]
    assert terms(parser.parse("no, show me red ones"), "colors") == ["red"]
    assert parser.draft("no. 7 screws").normalized.startswith("no")  # a number, not a negation


def test_a_bag_for_a_trip_is_travel_luggage(parser):
    """A trip's bag is a duffel or a backpack, not any handbag or laptop bag."""
    trip = parser.parse("a bag big enough for a weekend trip")
    assert {t for t, grade in trip.types.items() if grade >= 1} == {"duffel bag", "backpacks"}


def test_makeup_is_every_kind_of_makeup_and_not_a_title_word(parser):
    """Eyeshadow, mascara and blush are makeup too; titles say "Makeup" only of some foundations and removers, so
    the word is not searched."""
    makeup = parser.parse("makeup for a party")
    assert {"eyeshadow", "mascara", "lip gloss", "highlighter and blush", "lipstick"} <= {
        t for t, grade in makeup.types.items() if grade >= 1}
    assert "makeup" not in makeup.keyword_query.split()


def test_a_comparison_names_the_term_it_asks_for_and_replaces_the_earlier_one(parser):
    """"formal shirts", then "something less formal" asks for casual ones: the words "less formal" name casual, so
    neither the keyword query nor the embedded text says "formal"; an occasion of a later turn replaces the earlier
    one as a colour does ("black heels", then "something brighter")."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    casual = resolver.understand("something less formal", [Turn(query="formal shirts for men")])
    assert terms(casual, "occasions") == ["casual"] and casual.types == {"shirts": 1.0}
    assert "formal" not in casual.keyword_query.split() and "formal" not in casual.semantic_text.split()
    formal = resolver.understand("now something more formal", [Turn(query="casual shirts for men")])
    assert terms(formal, "occasions") == ["formal"]
    brighter = resolver.understand("something brighter", [Turn(query="black heels")])
    assert terms(brighter, "colors") == ["bright colours"] and brighter.types == {"heels": 1.0}
    assert terms(resolver.understand("shorter ones", [Turn(query="kurtas for women")]), "lengths") == ["short"]
    assert terms(parser.parse("jeans, looser"), "fits") == ["loose fit"]
    assert terms(parser.parse("darker colour kurtas"), "colors") == ["dark colours"]


def test_a_sunglasses_shape_is_asked_for_as_its_style(parser):
    """"wayfarers", "aviators", "cat eye sunglasses": sunglasses whose style (the feed's Type) is that shape."""
    for query, style in (("wayfarers for men", "wayfarer"), ("ray ban aviators", "aviator"),
                         ("cat eye sunglasses for women", "cat eye"), ("oversized sunglasses", "oversized sunglasses")):
        parsed = parser.parse(query)
        assert parsed.types == {"sunglasses": 1.0} and terms(parsed, "styles") == [style]
    assert not parser.parse("sunglasses for men").positive("styles")


def test_something_to_wear_under_a_garment_is_a_layer_for_whoever_wears_it(parser):
    """"something to wear under a formal shirt": a vest or camisole (the shirt is what they have, not what they ask
    for: in a catalog that records genders, its wearer's)."""
    shirt = parser.parse("something to wear under a formal shirt")
    assert shirt.types["innerwear vests"] == 1.0 and "shirts" not in shirt.types
    assert terms(shirt, "occasions") == ["formal"]  # whom and what for, from what they have; never its type
    assert parser.parse("what to wear under a sheer top").types["camisoles"] == 1.0


def test_a_word_of_both_sides_kinds_asks_for_the_kinds_of_the_side_said():
    """"mens purse": a wallet (the handbags a purse also is are sold to women, so only related); "purse for women":
    handbags and wallets alike; "handbags for men": handbags still, there being nothing else asked for."""
    stats = CatalogStats(values={"type": {t: 1 for t in [*TYPES, "wallets"]}, "gender": {"men": 1, "women": 1}},
                         type_genders={"handbags": {"women": 95, "men": 5}, "clutches": {"women": 50},
                                       "wallets": {"men": 50, "women": 50}})
    shop = QueryParser(load_rules("fashion"), stats)
    assert shop.parse("mens purse").types == {"wallets": 1.0, "handbags": 0.5, "clutches": 0.5}
    assert shop.parse("purse for women").types == {"handbags": 1.0, "wallets": 1.0, "clutches": 0.5}
    assert shop.parse("handbags for men").types["handbags"] == 1.0


def test_a_flight_is_a_journey_thermals_are_a_warm_layer_and_a_beach_bag_a_tote(parser):
    """"a long flight" is a journey, not a length; thermal innerwear a winter vest, not briefs; a beach bag a tote."""
    flight = parser.parse("something comfy for a long flight, women")
    assert terms(flight, "occasions") == ["flight"] and not terms(flight, "lengths")
    assert flight.types["sweatshirts"] == 1.0 and "shorts" not in flight.types  # comfort for hours, not a beach's
    assert terms(parser.parse("a bag for a weekend away"), "occasions") == ["travel"]
    thermals = parser.parse("thermal innerwear for men")
    assert thermals.types["innerwear vests"] == 1.0 and "briefs" not in thermals.types
    assert terms(thermals, "seasons") == ["winter"]
    assert parser.parse("thermal wear for women").types["camisoles"] == 1.0  # hers: a camisole
    beach = parser.parse("beach bag")
    assert beach.types == {"handbags": 1.0} and terms(beach, "styles") == ["tote bag"]


def test_a_season_said_as_when_is_that_seasons_wear(parser):
    """"clothes for a trip to the hills in winter": what keeps her warm on the trip, not the trip's t-shirts."""
    trip = parser.parse("clothes for a trip to the hills in winter, women")
    asked = {t for t, grade in trip.types.items() if grade >= 1}
    assert {"sweatshirts", "jackets"} <= asked <= {"sweaters", "sweatshirts", "jackets"}  # the shop's of them
    assert terms(trip, "seasons") == ["winter"]
    assert parser.parse("jackets for men for winter").types["jackets"] == 1.0  # a type said stays


def test_girls_asking_for_what_the_catalog_sells_only_to_women_are_young_women():
    """"kurtis for girls": no girl's kurti is sold, women's are, so the girls meant are young women (adults); "jeans
    for girls" stays kids' wear, the catalog selling girls' jeans."""
    stats = CatalogStats(values={"type": {t: 1 for t in [*TYPES, "kurtis"]}, "gender": {"women": 1, "girls": 1}},
                         type_genders={"kurtis": {"women": 230}, "jeans": {"women": 200, "girls": 14},
                                       "kurtas": {"women": 1700, "men": 80}})
    shop = QueryParser(load_rules("fashion"), stats)
    kurtis = shop.parse("kurtis for girls")
    assert terms(kurtis, "genders") == ["women"] and terms(kurtis, "ages") == ["adult"]
    jeans = shop.parse("jeans for girls")
    assert terms(jeans, "genders") == ["girls"] and terms(jeans, "ages") == ["kids"]


def test_a_dinner_is_an_evening_out(parser):
    """"a dinner date": evening wear (dresses, heels, clutches), not the office's shirts; a formal dinner both: a
    formal evening, whose values are formal and party."""
    assert terms(parser.parse("shirt for a dinner date"), "occasions") == ["party"]
    formal_dinner = parser.parse("something for a formal dinner, men")
    assert terms(formal_dinner, "occasions") == ["formal evening"]
    assert [c.values for c in formal_dinner.positive("occasions")] == [["formal", "party"]]


def test_watch_bra_and_top_details_the_feed_records_are_asked_for(parser):
    """A watch's movement and make, a bra's coverage and seams, a sheer top: each a feature the feed records."""
    for query, vocabulary, term in (("automatic watch for men", "watchmaking", "automatic"),
                                    ("swiss made watch", "watchmaking", "swiss made"),
                                    ("half coverage bra", "lingerie", "half coverage"),
                                    ("seamless bra", "lingerie", "seamless"),
                                    ("sheer top for a party", "sheerness", "sheer"),
                                    ("watch I can swim with, men", "water", "swimproof")):
        assert terms(parser.parse(query), vocabulary) == [term], query
    assert parser.parse("a swiss watch").types == {"watches": 1.0}  # a make or movement alone is a watch's
    assert parser.parse("see-through tops").positive("sheerness")


def test_a_heels_fastening_a_scent_a_rim_a_hem_and_a_skin_type_are_asked_for(parser):
    """Details the feed records of heels, perfumes, sunglasses, shirts and skin care, each a constraint."""
    for query, vocabulary, term in (("ankle strap heels", "fastenings", "ankle strap"),
                                    ("woody perfume for men", "scents", "woody"),
                                    ("half rim sunglasses", "eyewear", "half rim"),
                                    ("high low hem shirt", "hemlines", "high-low hem"),
                                    ("sunscreen for oily skin", "skin", "oily skin")):
        assert terms(parser.parse(query), vocabulary) == [term], query
    assert parser.parse("a floral scent for her").types["perfume and body mist"] == 1.0  # a scent, not a print
    assert not parser.parse("a floral scent for her").positive("patterns")
    assert [c.term for c in parser.parse("heels without an ankle strap").negated()] == ["ankle strap"]


def test_skin_care_lip_care_and_a_skin_tone_are_asked_for(parser):
    """"skin care" names the care types, not makeup; chapped lips a lip balm; "a medium skin tone" a shade, not the
    skin-coloured (nude) colour."""
    care = parser.parse("skin care for winter")
    assert care.types["face moisturisers"] == 1.0 and "lipstick" not in care.types
    assert parser.parse("something for dry chapped lips").types == {"lip care": 1.0, "lip gloss": 0.5}
    blush = parser.parse("blusher for a medium skin tone")
    assert terms(blush, "skin") == ["medium skin tone"] and not blush.positive("colors")
    dusky = parser.parse("dusky pink kurta")  # a colour's name, not a skin tone
    assert terms(dusky, "colors") == ["pink"] and not dusky.positive("skin")


def test_what_the_shopper_has_says_whose_side_and_an_occasion_said_of_it_narrows_the_find(parser):
    """"accessories for a formal suit": a formal suit's ties, belts and cufflinks, not sunglasses; "jewellery for a
    lehenga" a woman's though the shop may sell lehengas to girls only."""
    suit = parser.parse("accessories for a formal suit, men")
    assert sorted(t for t, grade in suit.types.items() if grade >= 1) == ["belts", "cufflinks", "ties"]
    stats = CatalogStats(values={"type": {t: 1 for t in TYPES}}, type_genders={"lehenga choli": {"girls": 4}})
    lehenga = QueryParser(load_rules("fashion"), stats).parse("jewellery to wear with a lehenga")
    assert terms(lehenga, "genders") == ["women"] and terms(lehenga, "ages") == ["adult"]


@pytest.mark.parametrize("query,vocabulary,term", [
    ("ripped jeans for men", "denim", "distressed"), ("jeans with no rips", "denim", "clean look"),
    ("light wash slim jeans", "denim", "light wash"), ("dark wash jeans", "denim", "dark wash"),
    ("black dial watch", "styles", "black dial"), ("kurta with side slits", "styles", "side slits"),
    ("button down collar shirt", "styles", "button-down collar"), ("scoop neck tshirt", "styles", "scoop neck"),
    ("square neck top", "styles", "square neck"), ("cowl neck tops for women", "styles", "cowl neck"),
    ("tie up neck top", "styles", "tie-up neck"), ("mock neck sweater", "styles", "high neck"),
    ("halter dress", "styles", "halter neck"), ("keyhole top", "styles", "keyhole neck"),
])
def test_a_pair_of_jeans_wash_and_rips_a_dial_a_slit_and_a_neck_are_asked_for(parser, query, vocabulary, term):
    parsed = parser.parse(query)
    assert terms(parsed, vocabulary) == [term] and parsed.types and not parsed.positive("colors")


@pytest.mark.parametrize("query,occasion", [
    ("lohri outfit for women", "diwali"), ("kurta for pongal, men", "diwali"), ("outfit for ganesh chaturthi", "diwali"),
    ("what to wear for cycling, men", "cycling"), ("shoes for badminton", "badminton"), ("zumba class outfit", "sports"),
    ("prom dress", "party"), ("something to wear to church on sunday", "smart casual"),
    ("what to wear for a college farewell", "farewell"), ("saree for onam", "onam"),
])
def test_festivals_sports_and_settings_are_occasions(parser, query, occasion):
    assert terms(parser.parse(query), "occasions") == [occasion]


def test_protecting_the_face_from_the_sun_asks_for_caps_sunglasses_and_sunscreen(parser):
    """A need said beside a setting: its types, the setting's (cycling's t-shirts) only narrowing them."""
    face = parser.parse("something to protect my face from the sun")
    assert {t for t, grade in face.types.items() if grade >= 1} >= {"caps", "sunglasses", "sunscreen"}
    assert "tshirts" not in parser.parse("something to protect my face from the sun while cycling").types


def test_onam_pictures_off_white_and_a_farewell_a_saree_or_a_dress(parser):
    onam = parser.parse("saree for onam")
    assert terms(onam, "colors") == ["off white"] and "off white" in onam.semantic_text
    farewell = parser.parse("what to wear for a college farewell, women")
    assert farewell.types["sarees"] == farewell.types["dresses"] == 1.0


def test_a_person_named_in_the_possessive_is_whose_the_occasion_is(parser):
    """"a guy ... his sister's wedding": his clothes, not hers; "my sister's birthday" alone stays hers."""
    guy = parser.parse("what should a guy wear to his sister's wedding")
    assert terms(guy, "genders") == ["men"] and terms(guy, "occasions") == ["wedding"]
    assert terms(parser.parse("a gift for my sister's birthday"), "genders") == ["women"]
    assert terms(parser.parse("what to wear to my brother’s wedding, women"), "genders") == ["women"]


def test_whom_the_shopper_goes_with_is_company_not_whom_the_find_is_for(parser):
    """"a trip to the zoo with my kids, women": hers, and the kids leave the texts too; alone they are the find's."""
    zoo = parser.parse("what to wear for a trip to the zoo with my kids, women")
    assert terms(zoo, "genders") == ["women"] and "kids" not in zoo.semantic_text.split()
    assert terms(parser.parse("dinner with my husband, dress for women"), "genders") == ["women"]
    assert terms(parser.parse("a day out with my kids"), "genders") == ["kids"]


def test_a_colour_an_occasion_implies_is_read_by_the_encoder(parser):
    """"haldi" implies yellow: the vector text says yellow too, or it finds black kurtas as readily."""
    haldi = parser.parse("something to wear to a friend's haldi, women")
    assert "yellow" in haldi.semantic_text.split() and terms(haldi, "colors") == ["yellow"]
    assert "yellow" not in parser.parse("kurtas for women").semantic_text.split()


def test_metal_is_what_a_thing_is_made_of_not_its_colour(parser):
    """"metal frame sunglasses": a metal frame, not a metallic colour; "shiny" is the colour."""
    frame = parser.parse("metal frame sunglasses")
    assert terms(frame, "materials") == ["metal"] and not frame.positive("colors")
    assert terms(parser.parse("shiny heels"), "colors") == ["metallic"]


def test_high_tops_and_mom_jeans_are_kinds_of_their_type(parser):
    """"high tops" are shoes cut above the ankle, not tops; mom jeans are women's high-rise jeans."""
    high = parser.parse("high tops for women")
    assert "tops" not in high.types and high.types["casual shoes"] == 1.0 and terms(high, "styles") == ["high top"]
    mom = parser.parse("mom jeans")
    assert mom.types == {"jeans": 1.0} and terms(mom, "rises") == ["high-rise"] and terms(mom, "genders") == ["women"]


def test_not_too_high_asks_for_a_low_or_mid_heel_and_a_price_not_too_high_for_a_cheap_one(parser):
    """"not too high" after heels is a heel height, not the word "high" excluded; said of a price it is cheap."""
    heels = parser.parse("heels, not too high")
    assert [c.values for c in heels.positive("heel_heights")] == [["low heel", "mid heel"]] and not heels.excluded
    watch = parser.parse("a watch, price not too high")
    assert watch.types == {"watches": 1.0} and not watch.positive("heel_heights")
    assert watch.price is not None and watch.price.relative == "cheap"


def test_budget_friendly_is_a_cheap_price_not_a_word_to_search(parser):
    for query in ("budget friendly sunglasses", "budget-friendly sunglasses", "wallet friendly sunglasses"):
        parsed = parser.parse(query)
        assert parsed.price is not None and parsed.price.relative == "cheap" and parsed.keywords == [], query


@pytest.mark.parametrize("query,fits", [("backpack for a 15 inch laptop", ["15", "16", "18"]),
                                        ("backpack that fits a 15.6 inch laptop", ["16", "18"]),
                                        ("laptop backpack for 17 inch laptops", ["18"])])
def test_a_laptops_size_asks_for_a_bag_made_for_that_size_or_larger(parser, query, fits):
    """The feed says which laptop a bag holds ("Up to 15 inch"): a 15.6 inch laptop needs one up to 16."""
    (size,) = parser.parse(query).positive("laptop_sizes")
    assert size.values == [f"up to {n} inch" for n in fits]


def test_a_bag_for_the_gym_is_a_duffel(parser):
    """A gym bag is a duffel: the sports occasion relates duffels, so a bag said for it asks for them."""
    parsed = parser.parse("bag to carry my gym clothes")
    assert [t for t, grade in parsed.types.items() if grade >= 1] == ["duffel bag"]


@pytest.mark.parametrize("query,asked", [("belt for formal trousers, men", ["belts"]), ("socks for sports shoes", ["socks"]),
                                         ("top for jeans", ["tops"])])
def test_a_type_for_another_type_asks_for_the_first(parser, query, asked):
    """"a belt for formal trousers": the belt is what to find, the trousers what the shopper has (their occasion and
    gender carry over); "shirts for men" and "shoes for running" name no second type."""
    parsed = parser.parse(query)
    assert [t for t, grade in parsed.types.items() if grade >= 1] == asked


def test_what_the_shopper_has_gives_its_occasion_and_gender_not_its_type(parser):
    belt = parser.parse("belt for formal trousers, men")
    assert terms(belt, "genders") == ["men"] and terms(belt, "occasions") == ["formal"]
    assert parser.parse("shirts for men").types == {"shirts": 1.0}
    assert parser.parse("shoes for running").types["sports shoes"] == 1.0


def test_a_turn_that_says_what_the_type_is_for_keeps_the_type(parser):
    """"belts", then "for formal trousers": still belts, for formal wear."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    parsed = resolver.understand("for formal trousers", [Turn(query="belts")])
    assert [t for t, grade in parsed.types.items() if grade >= 1] == ["belts"] and terms(parsed, "occasions") == ["formal"]


def slotted_parser(parser):
    """The parser as the engine builds it for fashion: with the domain's outfit slots."""
    slots = {"top": ["kurtas", "kurtis", "shirts"], "bottom": ["skirts", "jeans"], "shoes": ["sandals", "heels"],
             "accessory": ["belts", "ties"]}

    def slot_of(product_type: str) -> str | None:
        return next((slot for slot, types in slots.items() if product_type in types), None)
    return QueryParser(parser.rules, parser.stats, slot_of=slot_of)


@pytest.mark.parametrize("query,asked,words", [("green kurta with dupatta", ["kurtas", "kurtis"], ["dupatta"]),
                                               ("denim skirt with a belt", ["skirts"], ["belt"])])
def test_a_type_after_with_is_what_comes_with_the_find_not_a_second_find(parser, query, asked, words):
    """"Churidar Kurta with Dupatta", "skirt with belt": the catalog's titles say what comes with a product so, and
    shoppers do too; the second type's words are searched as words."""
    parsed = slotted_parser(parser).parse(query)
    assert [t for t, grade in parsed.types.items() if grade >= 1] == asked
    assert parsed.keywords[-len(words):] == words and words[0] in parsed.semantic_text


def test_a_kind_of_the_same_place_after_with_is_still_asked_for(parser):
    """"shoes with heels" names heels among shoes; "sandals with a heel" a kind worn where sandals are."""
    slotted = slotted_parser(parser)
    assert slotted.parse("sandals with a heel").types["heels"] == 1.0
    assert slotted.parse("shoes with heels").types["heels"] == 1.0


def test_a_turn_that_says_what_comes_with_the_find_keeps_its_type(parser):
    """"green kurta", then "with a dupatta": a kurta that comes with one, not a dupatta."""
    resolver = ConversationResolver(slotted_parser(parser), lambda ids: {}, lambda parsed: [])
    parsed = resolver.understand("with a dupatta", [Turn(query="green kurta for women")])
    assert [t for t, grade in parsed.types.items() if grade >= 1] == ["kurtas", "kurtis"]
    assert "dupatta" in parsed.keywords


def test_earrings_that_dont_dangle_exclude_drops_and_nude_is_a_skin_shade(parser):
    assert terms(parser.parse("earrings that don't dangle"), "styles", negated=True) == ["drop earrings"]
    assert {"beige", "peach"} <= {v for c in parser.parse("nude lipstick").positive("colors") for v in c.values}


def test_a_bag_said_for_one_of_the_bags_kinds_is_that_kind_not_a_bag_for_something_they_have(parser):
    """"office bag for laptop": a laptop bag is one of the bags, so "for laptop" says which, as before."""
    parsed = parser.parse("office bag for laptop, men")
    assert parsed.types.get("laptop bag") == 1.0 and "laptop" in parsed.keyword_query.split()


def test_something_to_wear_over_a_piece_is_a_layer_for_it_and_a_type_said_stays(parser):
    """"something to wear over a kurti when it's cold": a layer (a shrug, a jacket, a sweater) for winter, not kurtis;
    "a jacket to wear over a dress" still asks for jackets."""
    layer = parser.parse("something to wear over a kurti when it's cold")
    assert "kurtis" not in layer.types and layer.types.get("shrug") == layer.types.get("jackets") == 1.0
    assert terms(layer, "seasons") == ["winter"]
    jacket = parser.parse("jacket to wear over a dress")
    assert [t for t, grade in jacket.types.items() if grade >= 1] == ["jackets"]


def test_a_bag_for_a_wedding_is_a_clutch(parser):
    """A wedding relates clutches: a bag said for one asks for them."""
    parsed = parser.parse("bag for a wedding reception, women")
    assert [t for t, grade in parsed.types.items() if grade >= 1] == ["clutches"]


def test_what_the_shopper_has_narrows_the_find_as_an_occasion_said_would():
    """A kurta is ethnic wear where the catalog sells kurtas for it: a jacket for one is a Nehru jacket (or a
    waistcoat), as "an ethnic jacket" would be; jeans are worn for many occasions, so shoes for jeans stay shoes."""
    stats = CatalogStats(values={"type": {**{t: 1 for t in TYPES}, "kurtas": 10, "jeans": 10, "nehru jackets": 1,
                                          "waistcoat": 1}},
                         type_occasions={"kurtas": {"ethnic": 9, "casual": 1}, "jeans": {"casual": 5, "party": 5}})
    shop = QueryParser(load_rules("fashion"), stats)
    jacket = shop.parse("jacket for a kurta, men")
    assert {t for t, grade in jacket.types.items() if grade >= 1} == {"nehru jackets", "waistcoat"}
    assert jacket.types["jackets"] == 0.5
    assert shop.parse("shoes for jeans").types == shop.parse("shoes").types


@pytest.mark.parametrize("query,vocabulary,term", [("pjs for women", "occasions", "lounge"),
                                                   ("it's raining a lot, what shoes should i get", "occasions", "rain"),
                                                   ("something for my first day at a new job", "occasions", "formal"),
                                                   ("shoes that go with everything", "colors", "versatile")])
def test_everyday_words_for_sleepwear_rain_a_new_job_and_versatile_colours(parser, query, vocabulary, term):
    assert terms(parser.parse(query), vocabulary) == [term]


def test_sweats_are_track_pants_and_sweatshirts(parser):
    sweats = parser.parse("sweats for women")
    assert sweats.types["track pants"] == sweats.types["sweatshirts"] == 1.0


def test_a_phrase_inside_a_longer_term_is_that_term_not_a_complement_nor_an_outfit(parser):
    """"shoes that go with everything": versatile shoes, not what goes with "everything" nor a whole outfit; "what
    goes with jeans" is still one."""
    neutral = parser.parse("shoes that go with everything, women")
    assert neutral.intent == Intent.product_search and neutral.types["casual shoes"] == 1.0
    assert parser.parse("what goes with jeans").intent == Intent.outfit
    under = parser.parse("need something to wear under my shirt, men")  # "under my shirt" names vests too
    assert under.types["innerwear vests"] == 1.0 and "shirts" not in under.types


def test_a_humid_day_asks_for_summer_wear_and_palazzos_are_loose_trousers(parser):
    """Humidity is hot weather's ("a hot humid day": summer wear); palazzos are a woman's wide, loose trousers (salwars
    and patialas, sold beside them, related)."""
    assert terms(parser.parse("something for a hot humid day, men"), "occasions") == ["summer wear"]
    palazzo = parser.parse("palazzo for women")
    assert palazzo.types["trousers"] == 1.0 and palazzo.types["salwar"] == 0.5 and terms(palazzo, "fits") == ["loose fit"]


def test_clothes_for_an_occasion_ask_for_its_clothes_even_where_it_grades_its_shoes_higher(parser):
    """"clothes for a hike": a hike's jackets and track pants, its boots and rucksacks only related; an airport is a
    journey's, a job fair work's."""
    hike = parser.parse("clothes for a hike in the mountains, men")
    assert hike.types["jackets"] == 1.0 and hike.types["sports shoes"] == 0.5
    airport = parser.parse("a bag for the airport")
    assert terms(airport, "occasions") == ["flight"] and airport.types["duffel bag"] == airport.types["backpacks"] == 1.0
    assert terms(parser.parse("clothes for a job fair, men"), "occasions") == ["formal"]


def test_a_refinement_keeps_a_bound_said_in_numbers_beside_it(parser):
    """"cheaper ones, under 400": the tighter of the two caps holds, not the median's alone."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [800.0, 1000.0, 1200.0])
    both = resolver.understand("cheaper ones, under 400", [Turn(query="t-shirts for men")])
    assert both.price is not None and both.price.catalog_max == 400
    looser = resolver.understand("cheaper ones, under 5000", [Turn(query="t-shirts for men")])
    assert looser.price is not None and looser.price.catalog_max < 1000  # the median's cap is the tighter


def test_a_setting_named_as_its_wear_keeps_its_clothes_beside_a_season(parser):
    """"office wear for women in summer" asks for office clothes (the summer ranks among them), as "summer office
    wear" does; a season beside a setting not named as wear still asks for the season's clothes."""
    office = parser.parse("office wear for women in summer")
    assert office.types["shirts"] == office.types["trousers"] == 1.0 and "shorts" not in office.types
    assert terms(office, "seasons") == ["summer"]
    trip = parser.parse("clothes for a trip to the hills in winter")
    assert trip.types["jackets"] == 1.0 and "shorts" not in trip.types


@pytest.mark.parametrize("query,values", [("gift for a teenage boy", {"boys", "men", "unisex"}),
                                          ("a top for a teen girl", {"girls", "women", "unisex"}),
                                          ("something cute for my niece", {"girls", "unisex"}),
                                          ("a shirt for my nephew", {"boys", "unisex"})])
def test_teenagers_shop_both_sides_of_the_age_line_and_nieces_are_girls(parser, query, values):
    gender = next(c for c in parser.parse(query).constraints if c.vocabulary == "genders")
    assert set(gender.values) == values


def test_walking_asks_for_sports_shoes_and_a_gym_vest_is_a_sleeveless_tee(parser):
    walk = parser.parse("shoes for a long walking holiday")
    assert terms(walk, "occasions") == ["walking"] and walk.types["sports shoes"] == 1.0
    assert walk.types["casual shoes"] < 1.0
    assert "sports" in next(c for c in walk.constraints if c.vocabulary == "occasions").values  # what it asks for
    vest = parser.parse("gym vest for men")
    assert vest.types["tshirts"] == 1.0 and terms(vest, "sleeves") == ["sleeveless"]
    assert terms(vest, "occasions") == ["sports"]


@pytest.mark.parametrize("query,term", [("something comfy for lazy sundays", "lounge"),
                                        ("something nice to wear out tonight", "party"),
                                        ("a gift for my sister who just started working", "formal")])
def test_everyday_phrases_for_lounging_a_night_out_and_a_first_job(parser, query, term):
    assert term in terms(parser.parse(query), "occasions")


def test_a_puja_at_home_is_no_lounging(parser):
    assert "lounge" not in terms(parser.parse("what should I wear to a puja at home, men"), "occasions")


def test_a_sarees_georgette_is_georgette_and_a_polyester_one_polyester(parser):
    georgette = next(c for c in parser.parse("georgette saree").constraints if c.vocabulary == "materials")
    assert {"poly georgette", "pure georgette"} <= set(georgette.values)
    polyester = next(c for c in parser.parse("polyester saree").constraints if c.vocabulary == "materials")
    assert "poly georgette" in polyester.values


def test_what_a_kind_of_product_is_defines_it_and_what_an_occasion_suggests_does_not(parser):
    """A little black dress is black, a tank top sleeveless (missed in full); haldi only suggests yellow (by half)."""
    lbd = next(c for c in parser.parse("lbd").constraints if c.vocabulary == "colors")
    assert lbd.implied and lbd.defining
    tank = next(c for c in parser.parse("tank top for women").constraints if c.vocabulary == "sleeves")
    assert tank.defining
    haldi = next(c for c in parser.parse("haldi outfit").constraints if c.vocabulary == "colors")
    assert haldi.implied and not haldi.defining


def test_a_puffer_is_a_winter_jacket_and_a_sweatband_is_worn_on_the_wrist_or_the_head(parser):
    puffer = parser.parse("puffer jacket for women")
    assert puffer.types == {"jackets": 1.0} and terms(puffer, "seasons") == ["winter"]
    assert parser.parse("sweatband for the gym").types == {"wristbands": 1.0, "headband": 1.0}


@pytest.mark.parametrize("query,genders,ages", [("birthday present for a 10 year old boy", ["boys"], ["kids"]),
                                                ("shoes for my 5 yo", ["kids"], ["kids"]),
                                                ("gift for a 15-year-old girl", ["teen girls"], []),
                                                ("a watch for a 30 year old man", ["men"], ["adult"]),
                                                ("a watch for someone aged 25", [], ["adult"])])
def test_an_age_in_years_says_whose_wear_and_is_never_a_title_word(parser, query, genders, ages):
    """"Ben 10" is no ten-year-old's: the age says a child's, a teenager's (both sides) or a grown-up's wear."""
    parsed = parser.parse(query)
    assert terms(parsed, "genders") == genders and terms(parsed, "ages") == ages
    assert not any(ch.isdigit() for ch in parsed.keyword_query)


def test_words_for_sleep_name_sleepwear_so_a_need_beside_them_only_says_which():
    """"something warm to sleep in": sleepwear for the cold, not a jacket; "pyjamas" and "nightwear" name it too."""
    parser = QueryParser(load_rules("fashion"))
    warm = parser.parse("something warm to sleep in")
    assert warm.types["night suits"] == 1.0 and "jackets" not in warm.types and terms(warm, "seasons") == ["winter"]
    assert parser.parse("pyjamas for men").types["night suits"] == 1.0
    assert parser.parse("gilet for men").types == {"jackets": 1.0, "waistcoat": 1.0}
    assert parser.parse("bathers for women").types == {"swimwear": 1.0}


def test_a_brand_word_after_my_is_a_person_unless_a_product_follows(parser):
    """"a gift for my boss" is for a person, not Hugo Boss; "my boss perfume" still names the brand."""
    rules = load_rules("fashion")
    stats = CatalogStats(values={"type": {"perfume and body mist": 1, "watches": 1}, "brand": {"boss": 1}})
    branded = QueryParser(rules, stats)
    assert terms(branded.parse("gift for my boss, he's a man"), "brands") == []
    assert "boss" not in branded.parse("gift for my boss, he's a man").keyword_query.split()
    assert terms(branded.parse("boss perfume for men"), "brands") == ["boss"]
    assert terms(branded.parse("my boss perfume"), "brands") == ["boss"]
    assert terms(branded.parse("a present for my boss, he likes formal stuff"), "genders") == ["men"]


def test_a_colours_suffix_is_not_searched_and_another_name_of_a_colour_is_pictured(parser):
    """"wine coloured": titles say "Multi Coloured" of another colour; the encoder reads maroon as well as wine."""
    wine = parser.parse("wine coloured dress")
    assert terms(wine, "colors") == ["maroon"] and "coloured" not in wine.keyword_query.split()
    assert wine.semantic_text.split()[-1] == "maroon"
    assert parser.parse("navy shirt").semantic_text == "navy shirt"  # the colour's own word was said


def test_a_print_whose_kind_the_feed_does_not_say_is_a_near_miss_for_a_kind_of_print(parser):
    """A dress the feed calls "printed" may be the floral one asked for; a solid one is not."""
    floral = parser.parse("floral dress")
    pattern = next(c for c in floral.constraints if c.vocabulary == "patterns")
    assert "printed" in pattern.near and "floral" in pattern.values and "solid" not in pattern.near


def test_office_shoes_are_formal_shoes_first_and_a_womans_flats_or_heels_too(parser):
    office = parser.parse("office shoes for women, no heels")
    assert office.types["formal shoes"] == 1.0 and office.types["flats"] == 0.5
    assert terms(office, "occasions") == ["formal"] and terms(office, "categories", negated=True) == ["heels"]
    assert terms(parser.parse("pink lipstick with a creamy finish"), "finishes") == ["creme finish"]
    assert terms(parser.parse("creme top"), "colors") == ["cream"]


def test_bags_for_college_are_a_students_and_a_bag_for_an_overnight_stay_a_travellers(parser):
    college = parser.parse("bags for college")
    assert [t for t, grade in college.types.items() if grade >= 1] == ["backpacks"]
    overnight = parser.parse("bag for an overnight stay")
    assert terms(overnight, "occasions") == ["travel"] and overnight.types["duffel bag"] == 1.0


def test_ankle_socks_are_the_near_miss_for_no_show_socks(parser):
    no_show = next(c for c in parser.parse("no show socks").constraints if c.vocabulary == "lengths")
    assert no_show.values == ["shoe liners"] and no_show.near == ["ankle length"]


def test_light_blue_is_not_navy_and_specs_ask_for_the_eyewear_the_shop_sells(parser):
    light = next(c for c in parser.parse("light blue shirt").constraints if c.vocabulary == "colors")
    assert "blue" in light.values and "navy blue" not in light.values and "navy blue" in light.near
    assert "light blue" in next(c for c in parser.parse("blue shirt").constraints if c.vocabulary == "colors").values
    assert parser.parse("specs for men").types == {"sunglasses": 1.0}


def test_waterproof_is_a_feature_of_any_product_and_swimming_with_it_a_watchs(parser):
    """"waterproof backpack": a backpack (the word no longer implies a watch); "a watch to swim with": rated for it."""
    backpack = parser.parse("waterproof backpack")
    assert "watches" not in backpack.types and terms(backpack, "water") == ["waterproof"]
    assert parser.parse("something to swim with").types == {"watches": 1.0}


def test_keeping_cool_leaves_a_settings_kinds_where_keeping_warm_does_not(parser):
    """A hot day changes the fabric, not the kind: "breathable ... at the office" asks for the office's shirts (the
    summer ranks among them); warmth is a kind of its own (a jacket), so "warm for the office" still asks for it."""
    office = parser.parse("something breathable for a humid day at the office, men")
    assert office.types["shirts"] == 1.0 and "tshirts" not in office.types and terms(office, "seasons") == ["summer"]
    assert parser.parse("something for a hot day").types["tshirts"] == 1.0
    warm = parser.parse("something warm for the office")
    assert warm.types["jackets"] == 1.0 and "shirts" not in warm.types


def test_a_music_festival_is_casual_day_wear_and_a_trek_needs_a_jacket(parser):
    festival = parser.parse("what to wear to a music festival")
    assert terms(festival, "occasions") == ["music festival"] and festival.types["tshirts"] == 1.0
    assert festival.types["dresses"] < 1.0 and terms(parser.parse("outfit for a concert"), "occasions") == ["party"]
    assert parser.parse("clothes for a trek").types["jackets"] == 1.0


def test_shop_words_for_shorts_track_pants_underwear_rain_and_looking_smart(parser):
    assert parser.parse("half pants for men").types["shorts"] == 1.0
    assert parser.parse("tracksuit bottoms for men").types["track pants"] == 1.0
    assert "briefs" in parser.parse("underpants for men").types
    assert terms(parser.parse("stuff for when it pours"), "occasions") == ["rain"]
    assert terms(parser.parse("a smart look for a dinner date"), "occasions") == ["party", "smart casual"]


def test_rose_gold_is_a_gold(parser):
    gold = next(c for c in parser.parse("gold watch").constraints if c.vocabulary == "colors")
    rose = next(c for c in parser.parse("rose gold watch").constraints if c.vocabulary == "colors")
    assert "rose gold" in gold.values and "gold" in rose.near and "gold" not in rose.values


def test_a_pronoun_refers_to_the_person_named(parser):
    """"my son ... his school": the son's side and age, not a man's; "a watch for him" still says a man's."""
    son = parser.parse("my son has his school annual day and needs something formal")
    assert terms(son, "genders") == ["boys"] and terms(son, "ages") == ["kids"] and "his" not in son.keyword_query
    assert terms(parser.parse("a watch for him"), "genders") == ["men"]
    assert terms(parser.parse("clothes for a desk job"), "occasions") == ["formal"]


def test_a_person_named_alone_is_someone_to_give_to(parser):
    """"something for my dad" asks for what is given to a man; "shoes for my dad" asks for his shoes, no gift."""
    dad = parser.parse("something for my dad")
    assert terms(dad, "occasions") == ["gift"] and dad.types["watches"] == 1.0 and terms(dad, "genders") == ["men"]
    shoes = parser.parse("shoes for my dad")
    assert terms(shoes, "occasions") == [] and "watches" not in shoes.types
    budget = parser.parse("something nice for my girlfriend under 1000")
    assert terms(budget, "occasions") == ["gift"] and budget.price.max == 1000 and terms(budget, "genders") == ["women"]
    assert terms(parser.parse("for men"), "occasions") == []


def test_covering_the_shoulders_asks_for_a_stole_a_dupatta_or_a_shrug(parser):
    cover = parser.parse("something to cover my shoulders")
    assert cover.types == {"stoles": 1.0, "dupatta": 1.0, "scarves": 1.0, "shrug": 1.0}


def test_a_long_distance_is_a_walk_or_a_run_never_a_length_and_the_heat_is_summer(parser):
    walking = parser.parse("shoes for walking long distances")
    assert terms(walking, "occasions") == ["walking"] and terms(walking, "lengths") == []
    running = parser.parse("long distance running shoes")
    assert terms(running, "occasions") == ["running"] and terms(running, "lengths") == []
    assert terms(parser.parse("something to wear in the heat, women"), "occasions") == ["summer wear"]


def test_what_hurts_or_tires_them_is_ruled_out_and_another_kind_of_its_place_asked(parser):
    """"my feet hurt in heels": not heels, and her other footwear; a plain "no heels" only rules heels out."""
    stats = parser.stats.model_copy(update={"type_genders": {"heels": {"women": 50}, "sandals": {"men": 90},
                                                             "flats": {"women": 40}}})
    shoes = {"sandals", "heels", "flats", "casual shoes"}
    slotted = QueryParser(parser.rules, stats, slot_of=lambda t: "shoes" if t in shoes else None)
    hurt = slotted.parse("my feet hurt in heels, need something comfy for a wedding")
    assert terms(hurt, "categories", negated=True) == ["heels"]
    assert hurt.types["flats"] == 1.0 and hurt.types["casual shoes"] > 0  # a wedding's flats first, hers related
    assert "sandals" not in hurt.types and "heels" not in hurt.types  # men's sandals are not hers
    assert terms(hurt, "genders") == ["women"]
    tired = slotted.parse("tired of sneakers")  # worn by both sides: every other kind of footwear
    assert {"sandals", "heels", "flats"} <= set(tired.types) and "casual shoes" not in tired.types
    plain = slotted.parse("something for a wedding, no heels")
    # flats only as a wedding relates them, not asked for in the heels' place
    assert plain.types.get("flats", 0) <= 0.25 and terms(plain, "categories", negated=True) == ["heels"]
    assert terms(parser.parse("i hate stilettos"), "categories", negated=True) != []


def test_a_request_to_pack_or_be_styled_is_no_search_word(parser):
    """"what should i pack for a ski trip": the slopes' jackets and gloves, and "pack" searches no backpacks; a bag
    pack is still a backpack, and "outfit" alone names the find."""
    ski = parser.parse("going skiing, what should i pack")
    assert ski.intent == Intent.outfit and terms(ski, "occasions") == ["skiing"] and "pack" not in ski.keywords
    assert ski.types["jackets"] == 1.0 and terms(ski, "seasons") == ["winter"]
    assert "style" not in parser.parse("style me for a party, women").keyword_query
    bag = parser.parse("bag pack for school")
    assert bag.intent != Intent.outfit and bag.types.get("backpacks") == 1.0


def test_a_funeral_asks_for_sombre_colours_and_cream_is_an_off_white(parser):
    funeral = parser.parse("what should a man wear to a funeral")
    assert sorted(c.term for c in funeral.constraints if c.vocabulary == "colors" and c.implied) == ["black", "white"]
    cream = next(c for c in parser.parse("cream kurta").constraints if c.vocabulary == "colors")
    assert "off white" in cream.values


def test_a_turn_of_what_comes_with_a_kind_of_two_words_keeps_it(parser):
    """"kurta sets for women", then "with dupatta": kurta sets that come with one ("sets" alone names nothing, so
    the kind's whole name heads the turn), not dupattas."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    turn = resolver.understand("with dupatta", [Turn(query="kurta sets for women")])
    assert {t for t, grade in turn.types.items() if grade >= 1} == {"kurta sets"}
    assert "dupatta" in turn.keywords and "sets" not in turn.keywords


def test_slip_ons_are_shoes_that_slip_on(parser):
    slip = parser.parse("slip ons for men")
    assert slip.types["casual shoes"] == 1.0 and terms(slip, "fastenings") == ["slip-on"]


def test_a_long_strap_a_gym_vest_and_an_office_party(parser):
    """A bag's long strap is no garment's length; a vest for the gym is a sleeveless t-shirt, one alone an
    undershirt; an office party is a party, not office wear."""
    bag = parser.parse("black handbag with long strap")
    assert terms(bag, "styles") == ["long strap"] and terms(bag, "lengths") == []
    gym = parser.parse("men's sleeveless vest for gym")
    assert gym.types["tshirts"] == 1.0 and terms(gym, "sleeves") == ["sleeveless"]
    assert parser.parse("vest for men").types["innerwear vests"] == 1.0
    assert terms(parser.parse("what should i wear to an office party, women"), "occasions") == ["party"]


def test_a_graduation_asks_for_her_dresses_as_for_his_shirts(parser):
    grad = parser.parse("an outfit for my graduation ceremony, women")
    assert grad.types["dresses"] == grad.types["shirts"] == 1.0


def test_loafers_bum_bags_holdalls_and_singlets_by_their_names(parser):
    loafers = parser.parse("red tape loafers")
    assert loafers.types["casual shoes"] == 1.0 and terms(loafers, "styles") == ["loafers"]
    assert parser.parse("bum bag").types == {"waist pouch": 1.0}  # not every bag
    assert parser.parse("fanny pack for travel").types == {"waist pouch": 1.0}
    assert parser.parse("holdall for the gym").types["duffel bag"] == 1.0
    assert parser.parse("singlets for men").types["innerwear vests"] == 1.0


def test_a_hospital_stay_is_lounging_and_maternity_wear_a_womans_loose_wear(parser):
    assert terms(parser.parse("comfortable clothes for a hospital stay, women"), "occasions") == ["lounge"]
    assert terms(parser.parse("something to wear to bed at night"), "occasions") == ["lounge"]  # night: no party
    parsed = parser.parse("maternity wear")
    assert terms(parsed, "occasions") == ["maternity"] and terms(parsed, "genders") == ["women"]
    assert {"dresses", "tops", "kurtis"} <= set(parsed.types)


def test_a_toe_is_round_pointed_or_open(parser):
    assert terms(parser.parse("round toe heels"), "styles") == ["round toe"]
    assert terms(parser.parse("pointy toe flats"), "styles") == ["pointed toe"]
    peep = next(c for c in parser.parse("peep-toe heels").constraints if c.vocabulary == "styles")
    assert set(peep.values) == {"peep toe", "peep toes"}  # the toe's shape and the heel's type say it alike


def test_a_strapless_bra_is_its_straps_not_the_brand_of_that_name(parser):
    strapless = parser.parse("strapless bra")
    assert terms(strapless, "lingerie") == ["strapless"] and terms(strapless, "brands") == []


def test_an_outfit_for_a_setting_no_rule_knows_is_smart_casual(parser):
    """"what do i wear to a networking event": the middle of the range, not what the setting's words match."""
    event = parser.parse("what do i wear to a networking event, women")
    assert [c.term for c in event.constraints if c.vocabulary == "occasions" and c.implied] == ["smart casual"]
    assert {"tops", "trousers", "dresses"} <= set(event.types) and event.types_implied
    for query in ("clothes for a hot summer day, men", "clothes for a newborn", "gym outfit for women",
                  "outfit for a wedding, men", "an outfit for men"):  # a season, a child, a known or no setting
        assert "smart casual" not in terms(parser.parse(query), "occasions"), query


@pytest.mark.parametrize("query,occasion", [
    ("what to wear to an open mic night, men", "party"), ("outfit for a karaoke night, men", "party"),
    ("what to wear to an awards show, women", "party"), ("what to wear for a campus interview, women", "formal"),
    ("clothes for a hackathon, men", "college"), ("outfit for a mountain road trip in december, men", "winter months"),
])
def test_more_settings_say_what_is_worn_there(parser, query, occasion):
    assert occasion in terms(parser.parse(query), "occasions")


def test_a_month_says_its_season_and_a_nightdress_stays_one(parser):
    assert terms(parser.parse("jackets for a trip in december"), "seasons") == ["winter"]
    assert terms(parser.parse("dresses for june"), "seasons") == ["summer"]
    night = parser.parse("night dress for women")
    assert night.types["nightdress"] == 1.0 and terms(night, "occasions") == []


def test_a_settings_word_that_names_a_kind_it_does_not_ask_for_is_not_searched():
    """"an open mic night": BM25 would find night suits by "night"; a nightwear search keeps the word, and so
    does a product named beside a setting ("formal shirts": formal asks for formal shoes)."""
    parser = QueryParser(load_rules("fashion"), CatalogStats(values={"type": {t: 1 for t in [*TYPES, "night suits"]}}))
    mic = parser.parse("what to wear to an open mic night, men")
    assert "night" not in mic.keyword_query.split() and "mic" in mic.keyword_query.split()
    assert "night" in parser.parse("night suits for men").keyword_query.split()
    assert "formal" in parser.parse("formal outfit for office, men").keyword_query.split()


def test_a_shopper_who_names_no_one_shops_for_a_grown_up(parser):
    """No person, age or setting that says one: a grown-up's wear, unless the kinds asked are only children's.
    A default no words said: a later turn that names a child ends it, and one that names no one keeps the child."""
    assert terms(parser.parse("party dresses"), "ages") == ["adult"]
    assert terms(parser.parse("party dresses for my daughter"), "ages") == ["kids"]
    frocks = QueryParser(load_rules("fashion"), CatalogStats(values={"type": {"dresses": 9}},
                                                              type_genders={"dresses": {"girls": 9}}))
    assert terms(frocks.parse("party dresses"), "ages") == []
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    assert terms(resolver.understand("for my son", [Turn(query="sports shoes")]), "ages") == ["kids"]
    assert terms(resolver.understand("pink ones", [Turn(query="tshirts"), Turn(query="for girls")]), "ages") == ["kids"]
    women = resolver.understand("flat ones", [Turn(query="sandals for women")])
    assert [c.source for c in women.constraints if c.vocabulary == "ages"] == ["women"]


def test_a_season_said_of_a_kind_narrows_it_as_the_seasons_need_would(parser):
    """"winter accessories": the warm ones (scarves, mufflers, gloves) asked for, the watches only related;
    "winter jackets" stay jackets; a need said outright narrows as it always did."""
    winter = parser.parse("winter accessories for men")
    assert {t for t, grade in winter.types.items() if grade >= 1} == {"scarves", "mufflers", "gloves"}
    assert winter.types["watches"] < 1
    assert {t for t, grade in parser.parse("winter jackets").types.items() if grade >= 1} == {"jackets"}
    assert parser.parse("winter shoes").types == parser.parse("shoes").types  # no shoes in the need: as said


def test_what_the_shopper_says_they_have_is_what_the_find_goes_with(parser):
    """"i have a black dress, which shoes": the dress is theirs (its colour its own); the shoes are the find.
    Words after "i have" that name no kind ("a job interview") or begin a duty ("to buy") are one request."""
    shoes = parser.parse("i have a black dress, which shoes")
    assert "dresses" not in shoes.types and shoes.types["casual shoes"] == 1.0 and not terms(shoes, "colors")
    earrings = parser.parse("i bought a red saree, need earrings")
    assert "sarees" not in earrings.types and terms(earrings, "genders") == ["women"]
    interview = parser.parse("i have a job interview at a bank, women")
    assert interview.types_implied and terms(interview, "occasions") == ["formal"]
    wedding = parser.parse("i have a wedding, need a dress and shoes")  # a setting: the dress is asked for
    assert wedding.types.get("dresses") == 1.0 or any(q.types.get("dresses") == 1.0 for q in wedding.sub_queries)
    both = parser.parse("i have to buy a dress and shoes")
    assert both.types.get("dresses") == 1.0 or any(q.types.get("dresses") == 1.0 for q in both.sub_queries)


def test_a_layer_worn_beneath_takes_no_kind_from_the_setting_of_what_covers_it(parser):
    """A vest under a kurta is a vest: the kurta's ethnic setting does not narrow it to a Nehru waistcoat."""
    vest = parser.parse("vest to wear under a kurta")
    assert vest.types["innerwear vests"] == 1.0 and vest.types["waistcoat"] < 1.0
    assert parser.parse("what goes under a formal shirt, men").types["innerwear vests"] == 1.0


def test_a_need_prevails_over_the_setting_it_is_said_with(parser):
    """"shoes for standing all day at work": the office's formal kinds narrow first, the need last: flats and
    comfortable shoes, heels only related."""
    shoes = parser.parse("i need shoes for standing all day at work, women")
    assert terms(shoes, "occasions") == ["office", "standing"]
    assert shoes.types["flats"] == 1.0 and shoes.types["heels"] < 1.0


@pytest.mark.parametrize("query,kind", [
    ("what to wear to sleep, men", "night suits"), ("something to hold my trousers up, men", "suspenders"),
    ("something to carry my cards and cash", "wallets"), ("wristlet for ladies", "clutches"),
])
def test_what_a_kind_does_names_it(parser, query, kind):
    assert parser.parse(query).types[kind] == 1.0


def test_a_watch_on_a_steel_chain_has_a_metal_strap(parser):
    watch = parser.parse("gents watch steel chain")
    assert terms(watch, "materials") == ["metal"] and not terms(watch, "colors") and "jewellery" not in watch.types


def test_a_day_said_is_no_product_word(parser):
    assert "tomorrow" not in parser.parse("shirts for a presentation tomorrow").keywords


def test_swimming_asks_for_swimwear_and_shoes_that_will_not_slip_for_grip(parser):
    """Swimming is a need (swimwear; a bag for it a duffel), not a beach holiday's shorts; "shoes that won't slip"
    ask for grip, not slip-ons, and the words are not searched (titles print "slip-on" for the opposite)."""
    stats = CatalogStats(values={"type": {t: 1 for t in [*TYPES, "swimwear", "shorts"]}, "gender": {"men": 1, "women": 1}},
                         currency="INR")
    parser = QueryParser(load_rules("fashion"), stats)
    swim = parser.parse("what do i need for swimming")
    assert terms(swim, "occasions") == ["swimming"] and swim.types["swimwear"] == 1.0 and swim.types["shorts"] < 1
    assert parser.parse("bag to take swimming").types["duffel bag"] == 1.0
    grip = parser.parse("shoes that won't slip on wet floors")
    assert terms(grip, "occasions") == ["grip"] and not terms(grip, "fastenings") and not terms(grip, "styles")
    assert grip.types["sports shoes"] == 1.0 and "slip" not in grip.keyword_query.split()


def test_a_cap_is_a_cap_and_a_hat_either(parser):
    assert parser.parse("adidas cap").types == {"caps": 1.0, "hat": 0.5}
    assert parser.parse("baseball hat").types == {"caps": 1.0, "hat": 0.5}
    assert parser.parse("beanie").types == {"caps": 1.0, "hat": 1.0}


def test_a_season_said_alone_asks_for_what_its_need_does(parser):
    """"something for when it snows": winter wear's kinds, as "something for the cold"; a season said of a kind
    narrows that kind and asks for no other."""
    snow = parser.parse("something for when it snows, women")
    assert terms(snow, "seasons") == ["winter"] and snow.types_implied and snow.types["jackets"] == 1.0
    assert parser.parse("something for the cold, women").types == snow.types
    jackets = parser.parse("snow jackets, women")
    assert terms(jackets, "occasions") == [] and jackets.types["jackets"] == 1.0 and "gloves" not in jackets.types


@pytest.mark.parametrize("query,occasion", [
    ("what to wear for karva chauth", "karva chauth"), ("what to wear to a pub, men", "casual"),
    ("what to wear to a bonfire night, men", "bonfire"), ("clothes for working from home, women", "lounge"),
])
def test_settings_shoppers_name(parser, query, occasion):
    assert occasion in terms(parser.parse(query), "occasions")


def test_a_festival_bonfire_is_both_settings_not_a_need_that_overrides_the_festival(parser):
    lohri = parser.parse("what to wear to a lohri bonfire, men")
    assert terms(lohri, "occasions") == ["bonfire", "diwali"]
    assert lohri.types["kurtas"] == 1.0 and lohri.types["jackets"] == 1.0  # (the test catalog sells no sweaters)


def _parser_selling(*extra):
    stats = CatalogStats(values={"type": {t: 1 for t in [*TYPES, *extra]}, "gender": {"men": 1, "women": 1}},
                         currency="INR")
    return QueryParser(load_rules("fashion"), stats)


def test_the_groom_is_a_man_and_the_bride_a_woman(parser):
    assert terms(parser.parse("what should the groom wear for the sangeet"), "genders") == ["men"]
    assert terms(parser.parse("earrings for the bride"), "genders") == ["women"]


def test_a_trip_yields_to_the_place_gone_to_and_a_gift_still_travels(parser):
    """"a trip to a hill station": the hill station's woollens, not a trip's shorts; "shoes I can walk in all day on
    holiday": the walking's shoes, the holiday narrowing nothing; a gift for a traveller is still a travel bag."""
    parser = _parser_selling("sweaters", "shorts", "trolley bag")
    hills = parser.parse("clothes for a trip to a hill station, men")
    assert hills.types["jackets"] == 1.0 and hills.types["sweaters"] == 1.0 and "shorts" not in hills.types
    assert "winter" in terms(hills, "seasons")
    walk = parser.parse("shoes i can walk in all day on holiday, women")
    assert walk.types["sports shoes"] == 1.0 and walk.types["flats"] < 1.0 and walk.types["sandals"] < 1.0
    gift = parser.parse("gift for a friend who travels a lot")
    assert gift.types["duffel bag"] == 1.0 and gift.types["trolley bag"] == 1.0


def test_a_wedding_narrows_shoes_to_hers_only_where_she_is_said():
    stats = CatalogStats(values={"type": {t: 1 for t in TYPES}, "gender": {"men": 1, "women": 1}}, currency="INR",
                         type_genders={"heels": {"women": 50, "men": 1}, "flats": {"women": 40},
                                       "formal shoes": {"men": 60}, "casual shoes": {"men": 50, "women": 40}})
    parser = QueryParser(load_rules("fashion"), stats)
    assert parser.parse("shoes for dancing at a wedding, women").types["heels"] == 1.0
    his = parser.parse("shoes for a wedding, men")
    assert his.types == parser.parse("shoes for men").types  # nothing shared: his shoes stay shoes for men


@pytest.mark.parametrize("query,kind", [
    ("bellies for women", "flats"), ("overcoat for men", "jackets"), ("a pouch to carry my phone while running",
                                                                          "mobile pouch"),
    ("travel pouch", "travel accessory"), ("something to cover grey hair", "hair colour"),
    ("my lips are dry and cracked", "lip care"), ("something to keep my hair out of my face", "headband"),
    ("something to stop my jeans falling down", "belts"), ("my hands get cold on my bike in the morning", "gloves"),
    ("shoes that don't hurt, women", "casual shoes"),
])
def test_kinds_named_as_shoppers_name_them(query, kind):
    parsed = _parser_selling("mobile pouch", "waist pouch", "travel accessory", "hair colour", "lip care",
                             "headband", "hair accessory", "belts", "suspenders", "gloves").parse(query)
    assert parsed.types[kind] == 1.0
    assert not terms(parsed, "colors") and "waistcoat" not in parsed.types


@pytest.mark.parametrize("query,occasion", [
    ("what do i wear to play squash, men", "squash"), ("clothes to wear to a mosque, men", "ethnic"),
    ("what to wear to a satsang, women", "ethnic"), ("what do i wear to a boxing class, men", "sports"),
    ("my son needs shoes for sports day", "sports"), ("running errands outfit, women", "casual"),
    ("outfit for a game night at a friend's place, men", "casual"), ("something comfy for a long car ride, men",
                                                                     "flight"),
    ("what do i wear for a spa day", "spa"), ("something to wear to a christening, women", "smart casual"),
    ("something to hide my belly, women", "slimming"),
])
def test_more_settings_and_needs_shoppers_name(parser, query, occasion):
    parsed = parser.parse(query)
    assert terms(parsed, "occasions") == [occasion] and not terms(parsed, "lengths")


def test_a_lack_is_a_need_not_a_negation(parser):
    """"i have nothing to wear to sleep": sleepwear asked for, not ruled out; "shoes that don't have laces" still rules
    laces out (the shoes lack them, not the shopper)."""
    sleep = parser.parse("i have nothing to wear to sleep, women")
    assert not sleep.negated() and sleep.types and not sleep.excluded
    jacket = parser.parse("i don't have a warm jacket for winter, men")
    assert jacket.types["jackets"] == 1.0 and not jacket.negated()
    assert [c.term for c in parser.parse("shoes that don't have laces").negated()] == ["lace-up"]
    bare = parser.parse("my ears feel bare without earrings")  # what they feel bare without is what they lack
    assert bare.types == {"earrings": 1.0} and not bare.negated()


def test_a_hue_word_after_a_colour_is_the_colours_not_sunglasses(parser):
    """"nail polish in nude shades", "kurtas in shades of pink": colours; "black shades" stays sunglasses."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    polish = resolver.understand("in nude shades", [Turn(query="nail polish")])
    assert "sunglasses" not in polish.types and terms(polish, "colors") == ["skin tone"]
    pink = parser.parse("kurtas in shades of pink")
    assert "sunglasses" not in pink.types and terms(pink, "colors") == ["pink"]
    assert parser.parse("black shades").types == {"sunglasses": 1.0}


def test_under_an_over_layer_is_a_top_not_innerwear():
    """What goes under a blazer or a sweater is seen: a shirt or a top; under a shirt or a sheer top it is a vest or a
    camisole."""
    parser = _parser_selling("innerwear vests", "camisoles", "shapewear", "blazers", "sweaters", "tops")
    blazer = parser.parse("something smart to wear under a blazer, men")
    assert blazer.types["shirts"] == 1.0 and "innerwear vests" not in blazer.types
    assert parser.parse("what to wear under a sweater").types["tshirts"] == 1.0
    assert parser.parse("something to wear under a sheer top").types["camisoles"] == 1.0
    assert parser.parse("vest to wear under a kurta").types["innerwear vests"] == 1.0


def test_a_relation_reaches_the_encoder_as_the_catalogs_word(parser):
    """"a gift for my mom": the encoder reads "women" (reading "mom" it finds Mother of Pearl dials); a word that is
    no relation ("ladies", "the bride") is read as said."""
    assert parser.parse("a gift for my mom").semantic_text.split() == ["women"]
    assert "husband" not in parser.parse("watch for my husband").semantic_text.split()
    assert "ladies" in parser.parse("ladies handbag").semantic_text.split()
    assert "bridesmaid" in parser.parse("i'm a bridesmaid, what do i wear").semantic_text.split()


def test_a_colour_in_a_settings_name_is_no_colour_asked_for(parser):
    """"a black tie event": the setting's kinds, read by the encoder as the setting's name and kept from BM25, which
    finds "Black Tie" in titles; a colour said beside a setting is still asked for."""
    event = parser.parse("something for a black tie event, men")
    assert event.types["blazers"] == 1.0 and not [c for c in event.constraints if c.vocabulary == "colors"]
    assert "black" not in event.keyword_query.split() and "black" not in event.semantic_text.split()
    assert "formal evening" in event.semantic_text
    assert "wine" not in parser.parse("what to wear to a wine tasting").keyword_query.split()
    dress = parser.parse("a black dress for a party")
    assert "black" in dress.keyword_query.split() and [c.term for c in dress.positive("colors")] == ["black"]


def test_a_later_turns_teen_age_makes_the_child_named_before_a_teenager(parser):
    """"a blazer", "for my son", "he's 17": a teenager, who shops a boy's and a man's wear, as "a blazer for my son,
    he's 17" does in one turn; "he's 10" keeps him a boy."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    history = [Turn(query="a blazer"), Turn(query="for my son")]
    teen = resolver.understand("he's 17", history)
    assert [c.term for c in teen.positive("genders")] == ["teen boys"] and not teen.positive("ages")
    assert "17" not in teen.semantic_text and teen.types == {"blazers": 1.0}
    assert [c.term for c in parser.parse("a blazer for my son, he's 17").positive("genders")] == ["teen boys"]
    child = resolver.understand("he's 10", history)
    assert [c.term for c in child.positive("genders")] == ["boys"]


def test_a_turn_that_implies_kinds_implies_them_anew_with_the_turns_before(parser):
    """"a gift for my mom", then "she likes ethnic wear": the ethnic wear's kinds, not the gift's watches; "clothes for
    the gym", then "in black": the gym's kinds stay."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    ethnic = resolver.understand("she likes ethnic wear", [Turn(query="gift for my mom")])
    assert ethnic.types["kurtas"] == 1.0 and "watches" not in ethnic.types
    gym = resolver.understand("in black", [Turn(query="clothes for the gym")])
    assert gym.types == parser.parse("clothes for the gym").types


@pytest.mark.parametrize("query,kind", [
    ("knapsack", "backpacks"), ("bottle to take to the gym", "water bottle"),
    ("my neck gets cold on the bike", "mufflers"), ("the sun is too bright when i drive", "sunglasses"),
    ("my feet sweat a lot, men", "socks"), ("my hair keeps blowing in my face on the scooter", "headband"),
    ("ladies undergarments", "briefs"), ("my toes get cold in winter", "socks"),
    ("my eyes water in the wind on the bike", "sunglasses"), ("i get blisters from my new shoes", "shoe accessories"),
    ("my shoes smell bad", "socks"), ("my dark circles show in the morning", "concealer"),
    ("my jeans keep sliding down, women", "belts"), ("my face gets tanned on my commute", "sunscreen"),
    ("my shoulders get cold in the evening, women", "shrug"), ("my skin feels dry in winter", "face moisturisers"),
])
def test_more_kinds_named_as_shoppers_name_them(query, kind):
    parsed = _parser_selling("water bottle", "mufflers", "scarves", "stoles", "socks", "sandals", "headband",
                             "hair accessory", "briefs", "backpacks", "rucksacks", "sunglasses", "shoe accessories",
                             "earrings", "concealer", "eye cream", "belts", "suspenders", "sunscreen", "shrug",
                             "stoles", "face moisturisers", "body lotion").parse(query)
    assert parsed.types[kind] == 1.0 and not parsed.negated()


@pytest.mark.parametrize("query,occasion", [
    ("secret santa under 500", "gift"), ("i need to look presentable for a video call, men", "smart casual"),
    ("something i can wear from the office to dinner, women", "smart casual"),
])
def test_settings_said_as_idioms(parser, query, occasion):
    assert occasion in terms(parser.parse(query), "occasions")


def test_a_kids_gender_read_as_grown_ups_is_read_anew_for_the_next_kind():
    """"track pants for boys": the test catalog's track pants are men's, so the boys are young men; "now tshirts to go
    with them": boys wear t-shirts, so the boys are boys again."""
    stats = CatalogStats(values={"type": {t: 1 for t in TYPES}, "gender": {"men": 1, "women": 1, "boys": 1}},
                         currency="INR", type_genders={"track pants": {"men": 50, "women": 20},
                                                       "tshirts": {"men": 50, "boys": 30, "women": 40}})
    parser = QueryParser(load_rules("fashion"), stats)
    assert terms(parser.parse("track pants for boys"), "genders") == ["men"]
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    tees = resolver.understand("now tshirts to go with them", [Turn(query="track pants for boys")])
    assert terms(tees, "genders") == ["boys"] and terms(tees, "ages") == ["kids"]


def test_a_time_word_beside_a_setting_says_when_not_night_suits(parser):
    """"an outfit for a sangeet night", "a night party": the night is when the setting is, so no word of it finds
    night suits; "something for the night" keeps the word."""
    sangeet = parser.parse("outfit for a sangeet night, men")
    assert terms(sangeet, "occasions") == ["wedding"] and "night" not in sangeet.keywords
    assert "night" not in sangeet.semantic_text.split()
    party = parser.parse("a night party outfit, women")
    assert terms(party, "occasions") == ["party"] and "night" not in party.keywords
    assert "night" in parser.parse("something for the night, women").keywords


def test_how_often_said_inside_a_phrase_is_read_past(parser):
    """"my lips are always chapped" is "my lips are chapped": lip care, not a lipstick; "easily irritated skin"
    keeps its word."""
    lips = parser.parse("my lips are always chapped")
    assert lips.types["lip care"] == 1.0 and "lipstick" not in lips.types and not lips.keywords
    assert terms(parser.parse("cream for easily irritated skin"), "skin") == ["sensitive skin"]


def test_a_gift_for_someone_of_no_side_said_leads_with_what_both_sides_are_given():
    """"a gift for a colleague": watches and perfume lead, handbags and cufflinks only related; "a gift for my wife"
    keeps her handbags."""
    kinds = [*TYPES, "perfume and body mist", "cufflinks"]
    stats = CatalogStats(values={"type": {t: 1 for t in kinds}, "gender": {"men": 1, "women": 1}}, currency="INR",
                         type_genders={"watches": {"men": 50, "women": 40}, "handbags": {"women": 60},
                                       "cufflinks": {"men": 30}, "perfume and body mist": {"men": 20, "women": 30}})
    parser = QueryParser(load_rules("fashion"), stats)
    colleague = parser.parse("gift for a colleague who is leaving")
    assert colleague.types["watches"] == 1.0 and colleague.types["perfume and body mist"] == 1.0
    assert colleague.types["handbags"] < 1.0 and colleague.types["cufflinks"] < 1.0
    assert parser.parse("gift for my wife").types["handbags"] == 1.0


@pytest.mark.parametrize("query,kind", [
    ("my toes freeze in the office ac, women", "socks"), ("the sun hurts my eyes when i drive", "sunglasses"),
    ("my phone keeps falling out of my pocket when i run", "mobile pouch"),
    ("my bag is too heavy for my shoulder", "backpacks"), ("lippie in a nude shade", "lipstick"),
    ("i look too short in photos, women", "heels"), ("my ears get cold on the bike, men", "caps"),
])
def test_problems_said_name_the_kinds_that_solve_them(query, kind):
    parsed = _parser_selling("mobile pouch", "waist pouch", "lipstick", "socks", "backpacks", "caps").parse(query)
    assert parsed.types[kind] == 1.0 and not terms(parsed, "lengths")


@pytest.mark.parametrize("query,occasion", [
    ("outfit for a conference where i'm speaking, men", "formal"),
    ("comfy clothes for an overnight bus ride", "flight"), ("gift ideas for a fitness freak", "sports"),
    ("something to wear to my nephew's naming ceremony, women", "ethnic"),
    ("outfit for a wine tasting, women", "smart casual"), ("what to wear to an iftar party, men", "ethnic"),
    ("what to wear to my school reunion, men", "smart casual"), ("what do i need for a bike trip", "motorcycling"),
    ("what to wear to a cocktail party, women", "cocktail"), ("shoes i can stand in all day, women", "standing"),
])
def test_settings_named_as_shoppers_name_them(parser, query, occasion):
    assert occasion in terms(parser.parse(query), "occasions")


def test_bottoms_and_topwear_keep_a_settings_kinds_of_that_half(parser):
    """"bottoms for yoga": the track pants, capris and shorts yoga asks for, not its t-shirts."""
    bottoms = parser.parse("bottoms for yoga")
    kept = next(c for c in bottoms.constraints if c.vocabulary == "garments")
    assert {"track pants", "capris", "shorts"} <= set(kept.values) and "tshirts" not in kept.values
    assert "bottoms" not in bottoms.keywords


@pytest.mark.parametrize("query,vocabulary,term", [
    ("dinner and drinks with the girls, what should i wear", "genders", "women"),
    ("outfit for a girls night out", "genders", "women"), ("outfit for a girls night out", "occasions", "party"),
    ("what to pack for a girls trip to goa", "occasions", "travel"),
    ("drinks with the boys tonight", "genders", "men"),
    ("outfit for a gala dinner, men", "occasions", "formal evening"),
    ("clothes for a snowy holiday", "occasions", "winter wear"),
    ("outfit for a standup comedy show, men", "occasions", "casual"),
    ("clothes for moving house, something i don't mind getting dirty", "occasions", "chores"),
    ("clothes for working out at home", "occasions", "sports"),
    ("something for my grandfather's 80th", "occasions", "gift"),
    ("something to wear to my kid's school function, women", "occasions", "smart casual"),
    ("something to wear to my kid's school function, women", "ages", "adult"),
    ("what to wear for an evening walk by the sea, women", "occasions", "beach"),
])
def test_company_and_settings_as_shoppers_say_them(parser, query, vocabulary, term):
    assert term in terms(parser.parse(query), vocabulary)


def test_a_smartwatch_is_a_digital_watch(parser):
    assert terms(parser.parse("watches for men, not a smartwatch"), "styles", negated=True) == ["digital"]


def test_a_ladies_night_dress_is_a_nightdress(parser):
    """Company words take only phrases no kind shares: "ladies night dress" stays a woman's nightdress."""
    assert terms(parser.parse("ladies night dress"), "occasions") == []


@pytest.mark.parametrize("query,kind", [
    ("pj set women", "night suits"), ("hobo bag brown", "handbags"), ("shoes for flat feet", "sports shoes"),
    ("banyan for men", "innerwear vests"), ("something warm for my neck", "mufflers"), ("sandos for men",
    "innerwear vests"), ("a cardi for my mum", "sweaters"), ("swim shorts for men", "swimwear"),
    ("a pair of skinnies", "jeans"),
])
def test_kinds_by_the_names_shoppers_use(query, kind):
    assert _parser_selling("night suits", "innerwear vests", "mufflers", "swimwear").parse(query).types[kind] == 1.0


def test_synthetic_fabrics_are_the_polyesters_and_nylons_too(parser):
    """"a saree, no synthetic": its poly georgettes and polycottons are ruled out with the plain synthetics."""
    ruled_out = next(c for c in parser.parse("a saree, no synthetic").constraints if c.vocabulary == "materials")
    assert ruled_out.negated and {"synthetic", "poly georgette", "polycotton", "nylon"} <= set(ruled_out.values)
    assert "skinny fit" in terms(parser.parse("a pair of skinnies"), "fits")


def test_a_weekend_beside_a_setting_says_when_it_is(parser):
    """"a weekend in the hills", "a weekend party": the setting, not a casual weekend; "weekend wear" is casual."""
    hills = parser.parse("clothes for a weekend in the hills, men")
    assert terms(hills, "occasions") == ["mountains"] and hills.types["jackets"] == 1.0
    assert terms(parser.parse("outfit for a weekend party"), "occasions") == ["party"]
    assert terms(parser.parse("weekend wear for men"), "occasions") == ["casual"]


def test_a_role_after_my_is_someone_to_give_to_never_a_title_word(parser):
    """"something nice for my teacher": a person named by role, of no side, so a gift; "for my new boss, men" is a
    man to give to, not the brand Boss; "shoes for my teacher" asks for shoes, and "teacher" searches no title."""
    teacher = parser.parse("something nice for my teacher")
    assert terms(teacher, "occasions") == ["gift"] and "teacher" not in teacher.keywords
    branded = QueryParser(load_rules("fashion"), CatalogStats(values={"type": {"watches": 1}, "brand": {"boss": 1}}))
    boss = branded.parse("something for my new boss, men")
    assert terms(boss, "occasions") == ["gift"] and terms(boss, "genders") == ["men"] and not terms(boss, "brands")
    assert terms(branded.parse("my new boss perfume"), "brands") == ["boss"]
    colleague = parser.parse("something for my colleague, women")
    assert terms(colleague, "occasions") == ["gift"] and terms(colleague, "genders") == ["women"]
    shoes = parser.parse("shoes for my teacher")
    assert terms(shoes, "occasions") == [] and "teacher" not in shoes.keywords


def test_a_video_call_asks_for_the_half_the_camera_sees(parser):
    """"an outfit for a zoom meeting": shirts, tops and blazers, never trousers or shoes."""
    zoom = parser.parse("outfit for a zoom meeting, women")
    kept = next(c for c in zoom.constraints if c.vocabulary == "garments")
    assert terms(zoom, "occasions") == ["video call"] and "tops" in kept.values and "trousers" not in kept.values


def test_a_person_who_likes_a_setting_is_given_its_things(parser):
    """"something for my dad who likes to travel": a gift of a traveller's things, not a traveller's t-shirts;
    "something for a trip, men" is no gift."""
    dad = parser.parse("something for my dad who likes to travel")
    assert terms(dad, "occasions") == ["gift", "travel"]
    assert terms(parser.parse("something for a trip, men"), "occasions") == ["travel"]


def test_a_domains_language_adds_its_own_words_to_the_generic_ones():
    """"gear" says nothing of a fashion find, but is a product at a hardware store: a fashion stopword only."""
    fashion, generic = load_rules("fashion").language, load_rules("generic").language
    assert "gear" in fashion.stopwords and "gear" not in generic.stopwords
    assert set(generic.stopwords) < set(fashion.stopwords) and fashion.roles == generic.roles


@pytest.mark.parametrize("query,gender,age", [
    ("dress for a girl in her twenties", "women", "adult"), ("shirts for my son in his early 30s", "men", "adult"),
    ("jeans for a 25 year old boy", "men", "adult"), ("a gift for my nephew who is 7", "boys", "kids"),
    ("shoes for my son, he's 12", "boys", "kids"), ("a gift for a thirty-something woman", "women", "adult"),
])
def test_an_age_said_in_words_says_whose_wear_it_is(parser, query, gender, age):
    """A decade of life or an age said of someone is an age; a girl or boy of a grown-up's age wears women's or
    men's kinds. A height is no age."""
    parsed = parser.parse(query)
    assert terms(parsed, "genders") == [gender] and terms(parsed, "ages") == [age]
    assert terms(parser.parse("a dress for my wife, she is 5 feet tall"), "ages") == ["adult"]
    assert "feet" in parser.parse("a dress for my wife, she is 5 feet tall").keywords


def test_a_length_said_alone_names_the_kinds_cut_to_it(parser):
    """"a black maxi" is a maxi dress (or skirt); "maxi skirt" a skirt; "maxi length" stays a length."""
    maxi = parser.parse("black maxi")
    assert maxi.types["dresses"] == 1.0 and maxi.types["skirts"] < 1.0 and terms(maxi, "lengths") == ["long"]
    assert parser.parse("maxi skirt").types == {"skirts": 1.0}
    assert terms(parser.parse("maxi length dress"), "lengths") == ["long"]


@pytest.mark.parametrize("query,kind", [
    ("oxidised neckpiece for women", "necklace and chains"), ("boyshorts for women", "briefs"),
    ("sleepshirt for her", "nightdress"), ("flats that look like ballet shoes", "flats"), ("cargos for men", "trousers"),
    ("bathrobe for women", "bath robe"), ("stilettoes in red", "heels"), ("sliders for guys", "flip flops"),
    ("boyfriend jeans women", "jeans"), ("bags with wheels", "trolley bag"), ("surma for eyes", "kajal and eyeliner"),
    ("mules for women", "flats"), ("espadrilles for summer", "casual shoes"), ("a shawl for my grandma", "stoles"),
    ("a kaftan for the beach", "tunics"), ("bell bottoms for women", "jeans"), ("a dinner jacket", "blazers"),
    ("sweater vest for men", "sweaters"),
])
def test_more_names_of_kinds(parser, query, kind):
    assert parser.parse(query).types[kind] == 1.0


def test_another_find_after_or_is_not_what_the_shopper_has(parser):
    """"a pen gift set for dad? or a wallet": the wallet is a second find, not what the set is for."""
    gift = parser.parse("a nice pen gift set for dad? or a wallet")
    assert gift.types["wallets"] == 1.0 and gift.types["accessory gift set"] == 1.0
    assert parser.parse("socks for sports shoes").types == {"socks": 1.0, "stockings": 0.5}


def test_a_negation_after_for_rules_out_not_what_the_shopper_has(parser):
    """"formal shoes for women, nothing with a high heel": heels are ruled out, not what the shoes go with."""
    shoes = parser.parse("formal shoes for women, nothing with a high heel")
    assert shoes.types["formal shoes"] == 1.0 and terms(shoes, "categories", negated=True) == ["heels"]


def test_a_month_says_when_and_a_place_with_its_own_climate_says_the_weather(parser):
    """"goa in december" is a beach's wear; "a trip to shimla in january" and "delhi in january" a winter's."""
    goa = parser.parse("what should i pack for goa in december, guy")
    assert goa.types["flip flops"] == 1.0 and "jackets" not in goa.types
    assert parser.parse("clothes for a trip to shimla in january").types["jackets"] == 1.0
    assert parser.parse("clothes for delhi in january").types["jackets"] == 1.0
    assert terms(parser.parse("winter bottom wear for men"), "occasions") == ["winter wear"]


def test_and_lists_on_a_negation_within_one_vocabulary(parser):
    trunks = parser.parse("trunks for men other than black and grey")
    assert terms(trunks, "colors", negated=True) == ["black", "grey"]
    shoes = parser.parse("no leather and black shoes")
    assert terms(shoes, "materials", negated=True) == ["leather"] and terms(shoes, "colors") == ["black"]
    assert terms(parser.parse("heels in any colour but black"), "colors", negated=True) == ["black"]


def test_the_narrower_side_said_is_whom_the_find_is_for(parser):
    assert terms(parser.parse("clothes for a newborn baby girl"), "genders") == ["girls"]
    assert terms(parser.parse("kids shoes for my son"), "genders") == ["boys"]
    assert terms(parser.parse("a gift for my wife and daughter"), "genders") == ["girls", "women"]


def test_a_role_written_as_an_owner_is_a_person(parser):
    branded = QueryParser(load_rules("fashion"), CatalogStats(values={"type": {"shirts": 1}, "brand": {"boss": 1}}))
    assert not terms(branded.parse("dinner party at my boss's house, man"), "brands")


def test_settings_said_apart_that_name_another_together_are_that_one(parser):
    assert terms(parser.parse("a wedding in goa, beach side, men"), "occasions") == ["beach wedding"]
    assert terms(parser.parse("what should a bridesmaid wear to a christian wedding"), "occasions") == [
        "church wedding"]


def test_the_office_yields_to_a_setting_held_there_but_not_to_a_need(parser):
    """"a diwali party at the office": the festival's kinds, not formal shoes; "clothes for the office in summer":
    the office's shirts (the summer ranks among them)."""
    diwali = parser.parse("something for a diwali party at the office, men")
    assert diwali.types["kurtas"] == 1.0 and "formal shoes" not in diwali.types
    assert parser.parse("clothes for office in summer").types["shirts"] == 1.0
    assert terms(parser.parse("going out for drinks after work, woman"), "occasions") == ["party", "smart casual"]


@pytest.mark.parametrize("query,occasion", [
    ("visiting my in-laws for the first time, what should a woman wear", "ethnic"),
    ("family function outfit for women", "ethnic"), ("a not too formal dress", "casual"),
    ("it's freezing in my hostel room at night", "college"),
])
def test_settings_said_by_who_and_where(parser, query, occasion):
    assert occasion in terms(parser.parse(query), "occasions")


@pytest.mark.parametrize("query,gender", [
    ("i'm a girl, need a dress for a party", "women"), ("what do i wear to a pool party, girl", "women"),
    ("i need a dress for a girl", "girls"), ("what should i buy my girl", "girls"),
    ("i need a watch, girl, 8 years", "girls"), ("what to wear on a road trip with friends, girl", "women"),
    ("shoes for school, girl", "girls"), ("outfit for a music class recital, girls", "girls"),
])
def test_a_girl_asking_for_herself_is_a_young_woman(parser, query, gender):
    """The catalog's girls' wear is a child's: a girl who asks for herself ("i'm a girl", "..., girl") is a young
    woman, as ", guy" is a man; a girl written of ("a girl", "my girl") or given a child's age is a child."""
    assert terms(parser.parse(query), "genders") == [gender]


def test_a_child_said_to_be_one_stays_one(parser):
    """"a pink tshirt for a girl, 10 years": years said after a child are an age; "a little girl" is a child."""
    assert terms(parser.parse("a pink tshirt for a girl, 10 years"), "ages") == ["kids"]
    little = parser.parse("mary janes for a little girl")
    assert terms(little, "genders") == ["girls"] and terms(little, "ages") == ["kids"]
    assert little.types["flats"] == 1.0
    assert terms(parser.parse("a 10 year warranty watch"), "ages") != ["kids"]
    assert terms(parser.parse("my daughter is 3 and we are going to a wedding"), "ages") == ["kids"]
    assert not [c for c in parser.parse("shoes for my son, he is 6 feet tall").constraints if "years" in c.source]


@pytest.mark.parametrize("query,occasion", [
    ("what do i wear for a yoga class, woman", "yoga"), ("what do i need for a day at the water park, kid", "swimming"),
    ("my daughter is going to her first school dance", "party"), ("going to a rock concert, guy", "music festival"),
    ("my mother in law is visiting, what should i wear", "ethnic"), ("my office has a strict dress code", "formal"),
])
def test_more_settings_by_name(parser, query, occasion):
    assert occasion in terms(parser.parse(query), "occasions")


def test_yoga_is_worn_barefoot_and_a_beach_wedding_is_not_its_titles_beach_slippers(parser):
    yoga = parser.parse("what do i wear for a yoga class, woman")
    assert yoga.types["tops"] == 1.0 and "sports shoes" not in yoga.types
    assert "beach" not in parser.parse("a beach wedding outfit for a man").keyword_query.split()


def test_the_mountains_are_a_place_that_yields_to_a_setting_held_there(parser):
    """"a wedding in the hills": the wedding's kinds, not a trek's shoes; "shoes for the mountains" still the trek's."""
    wedding = parser.parse("a wedding in the hills, what do i wear, guy")
    assert wedding.types["kurtas"] > 0 and "sports shoes" not in wedding.types and "backpacks" not in wedding.types
    assert parser.parse("shoes for the mountains").types["sports shoes"] == 1.0


def test_kin_by_marriage_and_what_someone_lacks(parser):
    assert terms(parser.parse("a gift for my sister-in-law"), "genders") == ["women"]
    assert terms(parser.parse("a gift for my father in law"), "genders") == ["men"]
    husband = parser.parse("my husband snores, he has nothing to sleep in")
    assert not husband.negated() and husband.types["night suits"] == 1.0
    boyfriend = parser.parse("boyfriend jeans women")
    assert terms(boyfriend, "genders") == ["women"] and terms(boyfriend, "fits") == ["loose fit"]


def test_a_later_turns_pronoun_is_the_one_named_before(parser):
    """"a gift for a 10 year old girl", then "she loves pink" (or "she's 6"): still the girl, not a grown woman."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    girl = resolver.understand("she loves pink", [Turn(query="a gift"), Turn(query="for a 10 year old girl")])
    assert terms(girl, "genders") == ["girls"] and terms(girl, "ages") == ["kids"]
    niece = resolver.understand("she loves princesses", [Turn(query="a gift for my niece"), Turn(query="she's 6")])
    assert terms(niece, "genders") == ["girls"] and terms(niece, "ages") == ["kids"]
    assert terms(resolver.understand("she likes ethnic wear", [Turn(query="a gift for my mom")]), "genders") == [
        "women"]
    assert terms(resolver.understand("she likes watches", [Turn(query="a gift for my son")]), "genders") == ["women"]


def test_a_person_written_as_the_owner_of_another_is_not_whom_it_is_for(parser):
    assert terms(parser.parse("a gift for my son's teacher, she's young"), "genders") == ["women"]
    assert terms(parser.parse("a gift for my wife's brother"), "genders") == ["men"]
    assert terms(parser.parse("a gift for my son's birthday"), "genders") == ["boys"]


def test_an_event_one_asks_what_to_wear_to_is_a_setting_not_a_gift(parser):
    """"what to wear to my friend's birthday": a party one dresses for; "a birthday gift" stays a gift."""
    worn = parser.parse("what to wear to my friend's birthday, women")
    assert terms(worn, "occasions") == ["party"] and "watches" not in worn.types
    assert terms(parser.parse("a birthday gift for my wife"), "occasions") == ["gift"]
    assert terms(parser.parse("what should i wear to my girlfriend's birthday, i'm a guy"), "genders") == ["men"]


def test_a_shopper_who_says_who_they_are_asks_what_they_wear(parser):
    """"my sister is getting married, what do i wear? i'm her brother": his clothes for a wedding; asked of someone
    else ("what should my husband wear, i'm his wife"), that one's."""
    brother = parser.parse("my sister is getting married, what do i wear, i'm her brother")
    assert terms(brother, "genders") == ["men"] and terms(brother, "occasions") == ["wedding"]
    assert terms(parser.parse("my brother is getting married, what should i wear, i am his sister"), "genders") == [
        "women"]
    assert terms(parser.parse("what should my husband wear to the wedding, i'm his wife"), "genders") == ["men"]


@pytest.mark.parametrize("query,kind,modifier", [
    ("a shirt dress for the summer", "dresses", "shirts"), ("dress pants for women", "trousers", "dresses"),
    ("a jersey dress", "dresses", "tshirts"), ("a navy blue shirt dress for work", "dresses", "shirts"),
])
def test_a_kind_named_before_another_says_what_the_other_is_like(parser, query, kind, modifier):
    """"a shirt dress" is a dress like a shirt: the last kind named is asked for, not the one before (worn in
    another place; "for work" then finds dresses, not shirts); a kind of the same place stays ("jogger pants",
    "tunic top"), as does one in a list."""
    outfits = validated(OutfitRules, rule_files("fashion", None, "outfits")[-1])
    slotted = QueryParser(parser.rules, parser.stats, slot_of=outfits.slot_of)
    parsed = slotted.parse(query)
    assert parsed.types[kind] == 1.0 and modifier not in parsed.types
    assert slotted.parse("jogger pants").types["track pants"] == 1.0
    assert slotted.parse("a tunic top").types["tunics"] == 1.0
    assert slotted.parse("a shirt, shirt dress").types["shirts"] == 1.0
    assert parser.parse("a shirt dress").types["shirts"] == 1.0  # a domain without outfit slots: both


def test_a_list_of_ruled_out_kinds_may_repeat_its_article(parser):
    gift = parser.parse("a gift for my dad that isn't a watch or a wallet")
    assert sorted(c.term for c in gift.negated()) == ["wallet", "watch"]


def test_an_age_someone_turned_is_their_age(parser):
    assert terms(parser.parse("a watch for my son, he just turned 21"), "ages") == ["adult"]
    assert terms(parser.parse("a dress, my daughter turned 5"), "ages") == ["kids"]
    pyjamas = parser.parse("pj's for my son, 7")  # a bare number that ends the query after a child
    assert terms(pyjamas, "genders") == ["boys"] and terms(pyjamas, "ages") == ["kids"]


def test_a_grown_ups_step_in_life_makes_a_son_a_man(parser):
    """"my son got a job": a man's gift; "my son is 8" stays a boy's."""
    job = parser.parse("my son got a job in bangalore, gift ideas")
    assert terms(job, "genders") == ["men"] and terms(job, "ages") == ["adult"]
    assert terms(parser.parse("a shirt for my son, he's 8"), "genders") == ["boys"]
    office = parser.parse("my son just started working in an office")
    assert terms(office, "genders") == ["men"] and "formal" in terms(office, "occasions")


def test_a_kind_of_the_kind_asked_for_ruled_out_by_its_own_name(parser):
    """"a bag that isn't a backpack": backpacks ruled out, as "no backpacks" does; "heels, no wedges" a style."""
    bag = parser.parse("a bag that isn't a backpack")
    assert [c.term for c in bag.negated()] == ["backpack"]
    travel = parser.parse("a bag for travel that isn't a trolley or a backpack")  # the list goes on past a kind
    assert [c.term for c in travel.negated()] == ["backpack"] and "trolley" in travel.excluded
    assert terms(parser.parse("a sherwani for my wedding"), "genders") == ["men"]


def test_a_later_turns_owner_of_the_occasion_replaces_no_one(parser):
    """"a kurta | i'm a man | for my sister's wedding": still his; "a gift | for my sister's birthday" is hers."""
    resolver = ConversationResolver(parser, lambda ids: {}, lambda parsed: [])
    his = resolver.understand("for my sister's wedding", [Turn(query="a kurta"), Turn(query="i'm a man")])
    assert terms(his, "genders") == ["men"] and terms(his, "occasions") == ["wedding"]
    assert terms(resolver.understand("for my sister's birthday", [Turn(query="a gift")]), "genders") == ["women"]
