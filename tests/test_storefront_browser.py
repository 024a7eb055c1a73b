"""The storefront in headless Chromium (Debian's), against a real uvicorn server on loopback."""

import time
from pathlib import Path

import pytest

from conftest import running_app
from vitrina.config import Settings
from vitrina.serve.service import Service

pytestmark = pytest.mark.slow
OUTPUT = Path(__file__).resolve().parent / "output"


@pytest.fixture(scope="module")
def server(sample_engine, tmp_path_factory):
    settings = Settings(service={"data_dir": tmp_path_factory.mktemp("browser-service")}, api_key="browser-key")
    service = Service.build(settings)
    service.bootstrap(sample_engine.path)
    with running_app(service) as base:
        yield base, service


def searched(page, base: str, query: str) -> str:
    page.goto(base + "/")
    page.get_by_test_id("query").fill(query)
    page.get_by_test_id("search").click()
    page.get_by_test_id("hit").first.wait_for()
    return page.get_by_test_id("status").get_attribute("data-search-id")


def all_sent(page) -> None:
    page.wait_for_function("window.vitrinaStorefront.pixel.pending() === 0", timeout=15_000)


def test_search_explain_click_and_buy_are_attributed(server, page):
    base, service = server
    search_id = searched(page, base, "navy cotton shirt for men under 60")
    hits = page.get_by_test_id("hit")
    assert hits.count() >= 5
    assert "navy" in hits.first.get_by_test_id("hit-title").inner_text().lower()
    assert "colors: navy" in page.get_by_test_id("understood").inner_text()

    first = hits.nth(0)
    first.get_by_test_id("why-button").click()
    why = first.get_by_test_id("why")
    assert why.is_visible()
    assert why.get_by_test_id("signal").count() >= 4 and "✓" in why.inner_text()

    second = hits.nth(1)
    second_id = second.get_attribute("data-product-id")
    second.get_by_test_id("hit-title").click()
    second.get_by_test_id("add-to-cart").click()
    second.get_by_test_id("buy").click()
    assert page.get_by_test_id("cart").inner_text() == "Cart: 1"
    all_sent(page)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "storefront.png"), full_page=True)

    detail = service.analytics.search("default", search_id)
    assert detail is not None and detail.query == "navy cotton shirt for men under 60"
    assert detail.shown[1] == {"position": 2, "product_id": second_id}
    assert [(e["type"], e["product_id"], e["position"]) for e in detail.events] == [
        ("click", second_id, 2), ("add_to_cart", second_id, 2), ("purchase", second_id, 2)]
    price = service.tenants.engine("default").get(second_id)["price"]
    assert detail.totals.purchases == 1 and detail.totals.revenue == pytest.approx(price)


def test_facets_apply_filters(server, page):
    base, _ = server
    searched(page, base, "shirts")
    facet = page.locator('[data-testid="facet-value"][data-field="brand"]').first
    brand = facet.inner_text().rsplit(" (", 1)[0]
    facet.click()
    page.get_by_test_id("active-filter").first.wait_for()
    page.wait_for_function(f"""() => [...document.querySelectorAll('[data-testid=hit] .meta')]
                                     .every(m => m.textContent.startsWith({brand!r}))""")
    assert page.get_by_test_id("hit").count() >= 1


def test_pixel_retries_with_the_same_event_id(server, page):
    base, service = server
    search_id = searched(page, base, "white sneakers")
    failures = []

    def flaky(route):
        if not failures:
            failures.append(route.request.post_data)
            route.abort()  # the first send is lost on the network
        else:
            route.continue_()

    page.route("**/v1/default/events", flaky)
    page.get_by_test_id("hit").first.get_by_test_id("hit-title").click()
    all_sent(page)
    assert failures, "the first delivery was not attempted"
    detail = service.analytics.search("default", search_id)
    assert [e["type"] for e in detail.events] == ["click"]
    assert detail.events[0]["event_id"] in failures[0]  # the retry carried the same event id


def test_pixel_beacons_events_when_the_page_is_left(server, page):
    base, service = server
    search_id = searched(page, base, "black dress")
    page.evaluate("window.vitrinaStorefront.pixel.flushDelay = 60000")  # only the exit can send it now
    page.get_by_test_id("hit").first.get_by_test_id("add-to-cart").click()
    page.goto("about:blank")
    deadline = time.monotonic() + 10
    while not service.analytics.search("default", search_id).events:
        assert time.monotonic() < deadline, "the beacon did not arrive"
        time.sleep(0.1)
    assert service.analytics.search("default", search_id).events[0]["type"] == "add_to_cart"


def test_the_search_lives_in_the_url(server, page):
    base, _ = server
    searched(page, base, "white sneakers for women")
    assert "q=white+sneakers+for+women" in page.url
    page.locator("[data-testid=facet-value]").first.click()  # a facet adds a filter: it goes into the URL too
    page.wait_for_function("location.search.indexOf('filters=') >= 0", timeout=10_000)
    shared = page.url
    page.goto("about:blank")
    page.goto(shared)  # reloaded from the URL alone: same query, same filters, results shown
    page.get_by_test_id("hit").first.wait_for()
    assert page.get_by_test_id("query").input_value() == "white sneakers for women"
    assert page.get_by_test_id("active-filter").count() >= 1


def test_the_storefront_shows_the_experiment_variant(server, page):
    from vitrina.experiments.models import Experiment, Variant

    base, service = server
    service.experiments.create("default", Experiment(name="browser-ab", unit="session", variants=[
        Variant(name="static", profile="full"), Variant(name="learned", profile="learned")]))
    try:
        search_id = searched(page, base, "white sneakers")
        status = page.get_by_test_id("status")
        variant = status.get_attribute("data-variant")
        assert variant in ("static", "learned") and f"browser-ab: {variant}" in status.inner_text()
        with service.db.connect() as conn:
            logged = conn.exec_driver_sql("SELECT variant FROM assignments WHERE search_id = ?", (search_id,)).scalar()
        assert logged == variant  # the variant the shopper saw is the one the analytics count
    finally:
        service.experiments.stop("default", "browser-ab")


def test_a_signed_in_shopper_sees_results_ranked_for_them_and_why(server, page):
    base, service = server
    searched(page, base, "dress")
    hits = page.get_by_test_id("hit")
    assert page.get_by_test_id("for-you").count() == 0  # a guest: the plain ranking
    last = hits.nth(hits.count() - 1)
    brand = service.tenants.engine("default").get(last.get_attribute("data-product-id"))["brand"]
    page.get_by_test_id("shopper").select_option("demo-shopper")
    page.get_by_test_id("hit").first.wait_for()
    for i in range(hits.count()):  # the demo shopper buys every dress of that brand shown
        hit = hits.nth(i)
        if service.tenants.engine("default").get(hit.get_attribute("data-product-id"))["brand"] == brand:
            hit.get_by_test_id("buy").click()
    all_sent(page)
    page.reload()  # signed in still; the search comes back from the URL, now ranked for this shopper
    page.get_by_test_id("for-you").first.wait_for()
    assert page.get_by_test_id("shopper").input_value() == "demo-shopper"
    assert f"you often buy {brand}" in page.get_by_test_id("results").inner_text()
    page.screenshot(path=str(OUTPUT / "storefront-for-you.png"), full_page=True)
    page.get_by_test_id("shopper").select_option("")
    page.wait_for_function("document.querySelectorAll('[data-testid=for-you]').length === 0", timeout=15_000)


@pytest.fixture(scope="module")
def photo_server(photo_engine, tmp_path_factory):
    from conftest import FASHION_PHOTOS

    settings = Settings(service={"data_dir": tmp_path_factory.mktemp("photo-service"), "images_path": FASHION_PHOTOS},
                        api_key="browser-key")
    service = Service.build(settings)
    service.bootstrap(photo_engine.path)
    with running_app(service) as base:
        yield base, service


def test_search_by_photo_then_similar_with_real_thumbnails(photo_server, photo_engine, page, tmp_path):
    from conftest import FASHION_PHOTOS
    from vitrina.vision.images import read_images

    base, service = photo_server
    pid = sorted(photo_engine.ids())[3]
    photo = tmp_path / "mine.jpg"
    photo.write_bytes(next(data for _, data in read_images(FASHION_PHOTOS, {pid})))
    page.goto(base + "/")
    page.get_by_test_id("photo").set_input_files(str(photo))
    page.wait_for_function("document.querySelector('[data-testid=status]').getAttribute('data-mode') === 'photo'")
    hits = page.get_by_test_id("hit")
    assert hits.count() >= 10 and hits.first.get_attribute("data-product-id") == pid
    page.wait_for_function("document.querySelector('[data-testid=hit] img').naturalWidth >= 60")  # the real thumbnail
    understood = page.get_by_test_id("understood").inner_text()
    assert "your photo" in understood and "· type: " in understood and "· colour: " in understood  # what it reads as
    other = hits.nth(1)
    other_id, kind = other.get_attribute("data-product-id"), photo_engine.get(other.get_attribute("data-product-id"))
    other.get_by_test_id("similar").click()
    page.wait_for_function(f"document.querySelector('[data-testid=status]').getAttribute('data-mode') === "
                           f"'similar to {other_id}'")
    shown = [hits.nth(i).get_attribute("data-product-id") for i in range(hits.count())]
    assert other_id not in shown and len(shown) >= 10
    types = [photo_engine.get(i)["product_type"] for i in shown[:5]]
    assert types.count(kind["product_type"]) >= 4
    search_id = page.get_by_test_id("status").get_attribute("data-search-id")
    assert service.analytics.search("default", search_id) is not None  # logged: clicks on it are attributed


def test_complete_the_look_panel_for_an_outfit_search_and_around_a_hit(photo_server, photo_engine, page):
    base, _ = photo_server
    searched(page, base, "an outfit for a beach holiday for women")
    look = page.get_by_test_id("look")
    look.wait_for()
    items = look.get_by_test_id("look-item")
    assert items.count() >= 3
    slots = [items.nth(i).get_attribute("data-slot") for i in range(items.count())]
    assert len(set(slots)) == len(slots) and "shoes" in slots
    hit = page.get_by_test_id("hit").first
    pid = hit.get_attribute("data-product-id")
    hit.get_by_test_id("complete-look").click()
    page.wait_for_function(f"document.querySelector('[data-testid=look-item]').getAttribute('data-product-id') === "
                           f"{pid!r}")
    assert "Complete the look with" in look.inner_text() and "(yours)" in look.inner_text()
    assert look.get_by_test_id("look-item").count() >= 2
