"""How right is the feed's colour? A blind audit of 100 held-out fashion photos, labelled by a person.

The colour target of the image issue is agreement with the feed's `baseColour` family. This asks what that
agreement can reach: 100 photos drawn at random (seeded) from the tower's held-out products with a known family,
shown numbered in four sheets with no label, product type or name (as the photo reader sees them), each given the
colour family a shopper would name (and whether that was clear, or the photo shows several colours, a metallic or
a shade between two families). Their labels (bench/queries/colour-audit.tsv, one annotator) are then set beside the
feed's family and the packaged photo reader's.

    python bench/colour_audit.py --sheets /tmp/audit   # the four unlabelled sheets, to label anew
    python bench/colour_audit.py                        # writes bench/results/colour-audit.{json,md}
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from fashion_set import fashion_engine

from vitrina.config import Settings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.learn.tuning.pairs import split_queries
from vitrina.vision.colour import product_family
from vitrina.vision.images import pixels, read_images

RESULTS = Path("bench/results")
LABELS = Path("bench/queries/colour-audit.tsv")
SAMPLE, SEED, SPLIT_SEED = 100, 7, 0  # the tower's held-out split is SPLIT_SEED's


def sample(engine) -> tuple[list[str], dict[str, dict]]:
    held = split_queries(engine.ids(), 0.1, SPLIT_SEED)[1]
    records = engine.records(held)
    known = [pid for pid in held if product_family(records[pid])]
    return sorted(random.Random(SEED).sample(known, SAMPLE)), records


def sheets(photos: dict[str, bytes], ids: list[str], out: Path) -> None:
    from PIL import Image, ImageDraw

    out.mkdir(parents=True, exist_ok=True)
    for sheet_no in range(0, len(ids), 25):
        sheet = Image.new("RGB", (5 * 186, 5 * 256), "white")
        draw = ImageDraw.Draw(sheet)
        for k, pid in enumerate(ids[sheet_no:sheet_no + 25]):
            image = Image.fromarray(pixels(photos[pid])).resize((180, 240), Image.Resampling.BICUBIC)
            x, y = (k % 5) * 186, (k // 5) * 256
            sheet.paste(image, (x, y + 14))
            draw.text((x + 2, y), str(sheet_no + k), fill="red")
        sheet.save(out / f"sheet{sheet_no // 25}.png")


def share(pairs: list[tuple[str | None, str | None]]) -> float:
    return round(sum(a == b for a, b in pairs) / len(pairs), 4) if pairs else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sheets", type=Path, help="write the unlabelled sheets here and stop")
    args = parser.parse_args()
    settings = Settings()
    shared = settings.datasets_path
    engine = fashion_engine(settings)
    if not (shared / "fashion" / "images-00.tar").exists():
        raise SystemExit(f"{shared}/fashion has no photos: the fashion set lives in ../shared/datasets (see its README)")
    ids, records = sample(engine)
    photos = dict(read_images(shared / "fashion", set(ids)))
    if args.sheets:
        sheets(photos, ids, args.sheets)
        print(f"{len(ids)} photos in {args.sheets}; label them in {LABELS}'s format")
        return
    with open(LABELS, encoding="utf-8") as handle:
        labelled = list(csv.DictReader(handle, delimiter="\t"))
    if [row["product_id"] for row in labelled] != ids:
        raise SystemExit(f"{LABELS} labels other photos than this sample draws: label the sheets anew")
    reader = engine.photos.colour
    if reader is None:
        raise SystemExit("the packaged image tower has no colour reader")
    rows = []
    for row in labelled:
        pid = row["product_id"]
        read, _ = reader.predict(engine.photos.embed_one(photos[pid])[None])[0]
        rows.append({"photo": int(row["photo"]), "id": pid, "type": records[pid].get("product_type"),
                     "feed_colour": records[pid].get("primary_color"), "feed": product_family(records[pid]),
                     "reader": read, "person": row["colour_family"], "clear": row["clear"] == "yes"})
    table = {}
    for subset, chosen in (("all", rows), ("clear to the person", [r for r in rows if r["clear"]])):
        table[subset] = {"photos": len(chosen),
                         "feed_vs_person": share([(r["feed"], r["person"]) for r in chosen]),
                         "reader_vs_person": share([(r["reader"], r["person"]) for r in chosen]),
                         "reader_vs_feed": share([(r["reader"], r["feed"]) for r in chosen])}
    figures = {"machine": machine(), "sample": SAMPLE, "seed": SEED, "agreement": table, "photos": rows}
    lines = ["# The feed's colour against a person's reading of the photo (100 held-out photos)", "",
             f"{SAMPLE} photos drawn (seed {SEED}) from the image tower's held-out products with a known colour "
             "family, labelled blind by one person (no product type, name or label shown; bench/colour_audit.py).",
             "", "| photos | n | feed vs person | photo reader vs person | photo reader vs feed |", "|---|---|---|---|---|"]
    lines += [f"| {subset} | {t['photos']} | {t['feed_vs_person']:.2f} | {t['reader_vs_person']:.2f} | "
              f"{t['reader_vs_feed']:.2f} |" for subset, t in table.items()]
    lines += ["", "Where the feed and the person differ:", "", "| photo | type | feed | person | reader |",
              "|---|---|---|---|---|"]
    lines += [f"| {r['photo']} | {r['type']} | {r['feed_colour']} ({r['feed']}) | {r['person']}"
              f"{'' if r['clear'] else ' (not clear)'} | {r['reader']} |" for r in rows if r["feed"] != r["person"]]
    write_results(RESULTS, "colour-audit", figures, "\n".join(lines) + "\n")
    print("\n".join(lines))
    engine.close()


if __name__ == "__main__":
    main()
