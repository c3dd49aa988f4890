"""How well and how fast the PII scrubber works, on the labelled corpus of scrub_corpus.py.

    python bench/bench_scrubber.py [--records 20000] [--seed 7] [--runs 5] [--split held-out|tuning]

First, recall per country and per format on the corpus of locale_corpus.py (addresses and phones of
each country, cards of each network and separator style, numbers under sensitive keys in each JSON
type, "LAST, FIRST", a first name after a cue) and the share of city names taken for personal
data, on the held-out split unless --split says otherwise. Then, on the corpus of scrub_corpus.py,
recall per kind of personal data (a span counts as caught only when none of its letters or
digits survive in place), the share of other words replaced, the share of person-like vendor names
replaced, and records per second on one core, batched, as the median of several runs.
"""
from __future__ import annotations

import argparse
import gc
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import locale_corpus  # noqa: E402
from scrub_corpus import GL_ACCOUNTS, PERSON_LIKE_VENDORS, CorpusGenerator, Record  # noqa: E402

from modelops.privacy.pii import PLACEHOLDERS, Scrubber, lexicon  # noqa: E402

TARGETS = {"EMAIL": 0.99, "SSN": 0.99, "CARD": 0.99, "IBAN": 0.99, "ACCOUNT": 0.99, "ROUTING": 0.99, "IP": 0.99,
           "PHONE": 0.97, "ADDRESS": 0.95, "NAME": 0.90}
WORD = re.compile(r"[^\W_]+")
BATCH = 500


def covered_positions(scrubber: Scrubber, text: str) -> set[int]:
    return {i for span in scrubber.spans(text) for i in range(span.start, span.end)}


def caught(text: str, start: int, end: int, covered: set[int]) -> bool:
    return all(i in covered for i in range(start, end) if text[i].isalnum())


def name_case(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if all(c.isupper() for c in letters):
        return "ALL CAPS"
    if all(c.islower() for c in letters):
        return "lower case"
    return "Title Case"


def name_known(text: str) -> str:
    keys = [lexicon.fold(w) for w in WORD.findall(text) if len(w) > 1]
    known = [k in lexicon.first_names() or k in lexicon.surnames() for k in keys]
    return "every word in the name lists" if all(known) else "some word in no name list"


def accuracy(records: list[Record], scrubber: Scrubber) -> dict:
    found, total = Counter(), Counter()
    misses: dict[str, list[str]] = defaultdict(list)
    other_words = replaced_words = 0
    clean_words = clean_replaced = 0
    vendor_total, vendor_hit = Counter(), Counter()
    builtin = {lexicon.fold(v) for v in lexicon.vendor_names()}
    false_hits: Counter = Counter()
    for record in records:
        covered = covered_positions(scrubber, record.text)
        labelled = set()
        for start, end, kind in record.spans:
            labelled.update(range(start, end))
            groups = [kind]
            if kind == "NAME":
                value = record.text[start:end]
                tag = "US" if record.name_tags.get(start) == "en_US" else "other locales"
                groups += [f"NAME / {name_case(value)}", f"NAME / {tag}", f"NAME / {name_known(value)}"]
            hit = caught(record.text, start, end, covered)
            for group in groups:
                total[group] += 1
                found[group] += hit
            if not hit and len(misses[kind]) < 12:
                misses[kind].append(f"{record.text[start:end]!r} in {record.text!r}")
        for word in WORD.finditer(record.text):
            if any(i in labelled for i in range(word.start(), word.end())):
                continue
            hit = any(i in covered for i in range(word.start(), word.end()))
            other_words += 1
            replaced_words += hit
            if not record.has_pii:
                clean_words += 1
                clean_replaced += hit
            if hit:
                false_hits[word.group()] += 1
        for start, end, name in record.vendors:
            group = "on the built-in list" if lexicon.fold(name) in builtin else (
                "famous, not on the list" if name in PERSON_LIKE_VENDORS else "local, named after a person")
            hit = not all(i not in covered for i in range(start, end) if record.text[i].isalnum())
            for key in (group, "all"):
                vendor_total[key] += 1
                vendor_hit[key] += hit
    return {
        "recall": {group: (found[group], total[group]) for group in sorted(total)},
        "misses": misses,
        "other_words": (replaced_words, other_words),
        "clean_words": (clean_replaced, clean_words),
        "vendors": {group: (vendor_hit[group], vendor_total[group]) for group in sorted(vendor_total)},
        "false_hits": false_hits.most_common(15),
    }


def payloads(records: list[Record], generator: CorpusGenerator) -> list[dict]:
    """Feedback input as a classification agent sends it: the description and its context."""
    rng = generator.random
    return [{
        "description": record.text,
        "amount": round(rng.uniform(1, 5000), 2),
        "date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "category": rng.choice(GL_ACCOUNTS),
        "account_type": rng.choice(["expense", "income", "asset"]),
        "confidence": round(rng.random(), 3),
    } for record in records]


def throughput(values: list, runs: int, scrubber: Scrubber) -> tuple[float, float]:
    """Median records per CPU-second on this one core, and per wall-clock second."""
    cpu_rates, wall_rates = [], []
    for _ in range(runs):
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        for start in range(0, len(values), BATCH):
            scrubber.scrub_many(values[start:start + BATCH])
        cpu_rates.append(len(values) / (time.process_time() - cpu))
        wall_rates.append(len(values) / (time.perf_counter() - wall))
    return statistics.median(cpu_rates), statistics.median(wall_rates)


def share(pair: tuple[int, int]) -> str:
    hit, count = pair
    return f"{hit / count:.4f} ({hit}/{count})" if count else "n/a"


def report(title: str, result: dict) -> None:
    print(f"\n== {title}")
    print("recall (caught / labelled):")
    for group, pair in result["recall"].items():
        target = TARGETS.get(group)
        verdict = "" if target is None else ("  ok" if pair[0] / pair[1] >= target else f"  BELOW target {target}")
        print(f"  {group:48s} {share(pair)}{verdict}")
    print(f"non-PII words replaced, all records:        {share(result['other_words'])}")
    print(f"non-PII words replaced, PII-free records:   {share(result['clean_words'])}")
    print("person-like vendor names replaced:")
    for group, pair in result["vendors"].items():
        print(f"  {group:48s} {share(pair)}")
    print("words most often replaced wrongly:", ", ".join(f"{w} ({n})" for w, n in result["false_hits"]))


def locale_accuracy(items: list[locale_corpus.Item], misses: dict[str, list[str]] | None = None) -> dict[str, tuple[int, int]]:
    """Per group: (caught, total) for personal data; for text to keep, (replaced, total). misses, when
    given, collects every wrongly judged item of a group as the scrubber left it."""
    scrubbers: dict[str | None, Scrubber] = {}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        scrubber = scrubbers.setdefault(item.country, Scrubber(country=item.country))
        if isinstance(item.value, dict):
            key = next(iter(item.value))
            hit = scrubber.scrub(item.value).value[key] in PLACEHOLDERS.values()
        else:
            start = item.value.index(item.secret)
            covered = covered_positions(scrubber, item.value)
            hit = caught(item.value, start, start + len(item.secret), covered) if item.pii else any(
                i in covered for i in range(start, start + len(item.secret)))
        counts[item.group][0] += hit
        counts[item.group][1] += 1
        if misses is not None and hit != item.pii:
            misses[item.group].append(f"{item.value!r} -> {scrubber.scrub(item.value).value!r}")
    return {group: (hit, total) for group, (hit, total) in sorted(counts.items())}


LOCALE_TARGETS = {"ADDRESS": 0.95, "PHONE": 0.97, "KEYED": 0.99, "CARD": 0.99}


def locale_report(split: str, show_misses: bool, faker_seed: int | None = None, per_group: int = 60) -> None:
    items = locale_corpus.generate(split, per_group, faker_seed)
    seeds = "" if faker_seed is None else f", Faker seeds from {faker_seed}"
    print(f"\n== per country and format, {split} split of locale_corpus.py{seeds} ({len(items)} items)")
    misses: dict[str, list[str]] = defaultdict(list)
    for group, pair in locale_accuracy(items, misses).items():
        target = LOCALE_TARGETS.get(group.split(" /")[0])
        verdict = "" if target is None else ("  ok" if pair[0] / pair[1] >= target else f"  BELOW target {target}")
        label = "replaced (should be kept)" if group.startswith("CITY") else ""
        print(f"  {group:48s} {share(pair)}{verdict} {label}")
    if show_misses:
        for group, samples in sorted(misses.items()):
            print(f"\nwrongly judged, {group}:")
            for sample in samples:
                print("   ", sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="print sample misses per kind, and every miss per country and format")
    parser.add_argument("--locales-only", action="store_true", help="report only the per-country corpus (no recall or speed on the main one)")
    parser.add_argument("--split", choices=list(locale_corpus.SPLITS), default="held-out",
                        help="which split of the per-country corpus to report (tune on one, report the other)")
    parser.add_argument("--faker-seed", type=int,
                        help="draw the split's shapes from other Faker seeds (values no rule was written against)")
    parser.add_argument("--per-group", type=int, default=60, help="items per country and format in the per-country corpus")
    args = parser.parse_args()
    locale_report(args.split, args.misses, args.faker_seed, args.per_group)
    if args.locales_only:
        return

    started = time.perf_counter()
    generator = CorpusGenerator(args.seed)
    records = generator.records(args.records)
    print(f"corpus: {len(records)} records (seed {args.seed}), {sum(r.has_pii for r in records)} with personal data, "
          f"{sum(len(r.spans) for r in records)} labelled spans; generated in {time.perf_counter() - started:.1f} s")

    started, memory = time.perf_counter(), psutil.Process().memory_info().rss
    scrubber = Scrubber()
    scrubber.scrub("warm up: load the name lists")
    print(f"first use (loading the name lists): {time.perf_counter() - started:.2f} s, "
          f"{(psutil.Process().memory_info().rss - memory) / 2**20:.0f} MiB")

    result = accuracy(records, scrubber)
    report("built-in vendor list only", result)
    if args.misses:
        for kind, samples in result["misses"].items():
            print(f"\nmissed {kind}:")
            for sample in samples:
                print("   ", sample)
    with_ledger = accuracy(records, Scrubber(vendors=PERSON_LIKE_VENDORS))
    print("\n== with the ledger's vendor list passed in (the corpus's person-like vendors)")
    print(f"  NAME recall {share(with_ledger['recall']['NAME'])}; person-like vendor names replaced "
          f"{share(with_ledger['vendors']['all'])}; non-PII words replaced {share(with_ledger['other_words'])}")

    # A fresh corpus: its names and codes are new to the word cache, as a live stream's would be.
    fresh = CorpusGenerator(args.seed + 1).records(args.records)
    print(f"\n== throughput on one core, batches of {BATCH}, median of {args.runs} runs, on {len(fresh)} fresh records")
    cpu, wall = throughput([record.text for record in fresh], args.runs, scrubber)
    print(f"  one string per record:             {cpu:8.0f} records/s per core (wall clock {wall:.0f}/s)")
    cpu, wall = throughput(payloads(fresh, generator), args.runs, scrubber)
    print(f"  feedback payload (dict, 6 fields):  {cpu:8.0f} records/s per core (wall clock {wall:.0f}/s)")


if __name__ == "__main__":
    main()
