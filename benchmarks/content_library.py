"""Content library: a partner's library page (browse newest, text search by relevance, a filtered search) and a
vendor admin's page, with 100 and with 10,000 published assets in the library; the DynamoDB items a page reads must
not grow with the library (docs/content.md "Access, search and downloads": tier bands in the posting keys, one
`Limit`ed Query per visible band after the cursor, one BatchGet of the candidates).

An in-process moto gets every resource of template.yaml through the Provisioner, with the integration tests'
parameters (tests/integration/conftest.py); the content API is imported with its function's template environment.
The library is seeded as the system stores it: each asset item made by A's repository function (`asset_item`), its
postings and index state by the indexer's own domain functions (content.domain.search via content.service.search),
the partner projection (profile, current tier, the ladder) by the projection repository; loaded with
batch_write_item. Assets are spread over three bands (no minimum tier, Silver, Gold), four types and a few words.
Measured through the API handler (GET /content/library, `limit` 20), each repeated and the median taken: the items
read (GetItem's Item, Query's ScannedCount, BatchGetItem's items), counted with botocore event hooks on the cached
shared.aws.client("dynamodb") the code uses. moto's full-table Query is shortened as in tier_evaluation.py.
Usage: `.venv/bin/python benchmarks/content_library.py [--sizes 100,10000] [--repeat 3] [--strict]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions" / "content")]
from tests.support.in_process_aws import use_in_process_aws  # noqa: E402 - needs ROOT on sys.path

use_in_process_aws("benchmark")  # before boto3 is imported
warnings.filterwarnings("ignore", message="No application metrics to publish")


from benchmarks.dynamo_meter import Meter, load, provisioned_stack, scans  # noqa: E402
from shared.aws import client  # noqa: E402
from tests.support.lambda_events import LambdaContext, api_event, claims_for  # noqa: E402

SIZES = (100, 10_000)
REPEAT = 3
LIMIT = 20
ROUNDS = 3  # content.service.search.ROUNDS: merges a page makes at most
QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING"}
VENDOR = claims_for(sub="vendor-bench", email="content-admin@example.com", partner_id=None, groups=["vendor-admin"])
WORDS = ("firewall", "router", "switch", "wireless", "cloud", "security", "branch", "datacenter")
TYPES = ("document", "presentation", "video", "image")
BANDS = (None, "silver", "gold")
PAGES: dict[str, dict[str, str]] = {
    "partner: browse newest": {"sort": "newest"},
    "partner: search 'firewall'": {"q": "firewall"},
    "partner: search + type filter": {"q": "firewall", "type": "document"},
    "partner: selective filters": {"q": "security guide", "type": "video"},  # few match: a short page and a cursor
    "partner: page 2 of browse": {"sort": "newest", "page": "2"},
    "vendor: browse newest": {"sort": "newest", "vendor": "1"},
}


# --------------------------------------------------------------------------------------------- seeding
def library_items(first: int, count: int, now: datetime) -> list[dict[str, Any]]:
    """Assets `first`..`first+count-1`, published and ready, with their postings and index state."""
    from content.domain.search import postings, terms_of
    from content.models.assets import Asset, AssetVersion
    from content.models.common import Audience
    from content.repository import keys
    from content.repository.assets import asset_item
    from content.service.search import indexable

    items: list[dict[str, Any]] = []
    for n in range(first, first + count):
        asset_id = f"ast_{n:024x}"
        at = now - timedelta(days=30) + timedelta(seconds=n)
        words = f"{WORDS[n % len(WORDS)]} {WORDS[(n // 8) % len(WORDS)]}"
        version = AssetVersion(
            asset_id=asset_id,
            number=1,
            file_name="asset.pdf",
            content_type="application/pdf",
            size_bytes=1000,
            status="ready",
            s3_key=f"assets/{asset_id}/1/asset.pdf",
            s3_version_id="bench",
            uploaded_by="content-admin@example.com",
            created_at=at,
            processed_at=at,
        )
        asset = Asset(
            asset_id=asset_id,
            title=f"{words.title()} guide {n}",
            description=f"How to sell {words}.",
            type=TYPES[n % len(TYPES)],  # type: ignore[arg-type]
            language="en",
            tags=[WORDS[n % len(WORDS)]],
            product_skus=[f"SKU-{n % 50}"],
            audience=Audience(min_tier_id=BANDS[n % len(BANDS)]),
            publish_at=at,
            status="ready",
            published=True,
            current_version=1,
            current=version,
            created_by="content-admin@example.com",
            created_at=at,
            updated_at=at,
        )
        doc = indexable(asset)
        terms = terms_of(doc)
        items.append(asset_item(asset))
        pk, sk = keys.indexed(asset_id)
        items.append(
            {
                "pk": pk,
                "sk": sk,
                "entity": "indexed",
                "asset_id": asset_id,
                "band": doc.band,
                "publish_at": at.isoformat(),
                "terms": terms,
                "indexed_at": now.isoformat(),
            }
        )
        items += [{"pk": p, "sk": s, "entity": "posting", "asset_id": asset_id} for p, s in postings(doc, terms)]
    return items


def projection(table_name: str, partner_id: str, now: datetime) -> None:
    from content.models.partners import LadderTier, LadderVersion, PartnerProfile, PartnerTier
    from content.repository.access import PartnersRepository
    from content.repository.search import SearchRepository

    directory = PartnersRepository(table_name)
    directory.add_ladder(
        LadderVersion(
            version_id="v1",
            effective_from=date(2026, 1, 1),
            tiers=[
                LadderTier(tier_id="registered", name="Registered", rank=0),
                LadderTier(tier_id="silver", name="Silver", rank=1),
                LadderTier(tier_id="gold", name="Gold", rank=2),
            ],
        )
    )
    directory.save_profile(
        PartnerProfile(
            partner_id=partner_id,
            company_name="Bench Reseller",
            country="GB",
            region="EMEA",
            partner_type="reseller",
            onboarded_at=now - timedelta(days=60),
        )
    )
    directory.save_tier(
        PartnerTier(partner_id=partner_id, tier_id="gold", tier_name="Gold", effective_at=now, event_id="e")
    )
    for band in ("ALL", "silver", "gold"):
        SearchRepository(table_name).add_band(band)


# --------------------------------------------------------------------------------------------- the run
@dataclass
class Result:
    size: int
    seconds_to_load: float
    median: dict[str, int]
    shown: dict[str, int]
    calls: dict[str, list[tuple[str, int, int]]]


def page(api: Any, claims: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
    answer = api.app(api_event("GET", "/content/library", claims=claims, query=query), LambdaContext())
    assert answer["statusCode"] == 200, answer
    return dict(json.loads(answer["body"]))


def measure(api: Any, meter: Meter, partner: dict[str, str], repeat: int) -> tuple[dict[str, list[int]], Any, Any]:
    per: dict[str, list[int]] = {name: [] for name in PAGES}
    shown: dict[str, int] = {}
    calls: dict[str, list[tuple[str, int, int]]] = {}
    for _ in range(repeat):
        for name, spec in PAGES.items():
            who = VENDOR if spec.get("vendor") else partner
            query = {k: v for k, v in spec.items() if k not in ("vendor", "page")} | {"limit": str(LIMIT)}
            if spec.get("page"):
                first = page(api, who, query)
                assert first["next_cursor"], first
                query["cursor"] = first["next_cursor"]
            meter.reset()
            body = page(api, who, query)
            per[name].append(meter.items_read)
            shown[name] = len(body["items"])
            calls[name] = list(meter.calls)
    return per, shown, calls


def run(sizes: tuple[int, ...], repeat: int) -> list[Result]:
    results: list[Result] = []
    with provisioned_stack() as stack:
        api = stack.load("ContentApiFunction", "content.api", **QUIET)
        table_name = stack.ref("ContentTable")
        now = datetime.now(UTC)
        partner = claims_for(
            sub="sub-bench", email="seller@bench.example", partner_id="prt_bench", groups=["partner-user"]
        )
        stack.ensure_user(partner)
        stack.ensure_user(VENDOR)
        projection(table_name, "prt_bench", now)
        meter = Meter()
        meter.attach(client("dynamodb"))
        loaded_so_far = 0
        for size in sizes:
            started = time.perf_counter()
            load(table_name, library_items(loaded_so_far, size - loaded_so_far, now))
            loaded_so_far = size
            loaded = time.perf_counter() - started
            per, shown, calls = measure(api, meter, partner, repeat)
            results.append(
                Result(
                    size=size,
                    seconds_to_load=loaded,
                    median={name: int(statistics.median(runs)) for name, runs in per.items()},
                    shown=shown,
                    calls=calls,
                )
            )
    return results


def _by_call(calls: list[tuple[str, int, int]]) -> str:
    return " + ".join(f"{name} ({read})" for name, read, _ in calls)


def report(results: list[Result], repeat: int) -> bool:
    print(f"Content library: DynamoDB items read per page of {LIMIT} (median of {repeat}), by assets in the library")
    for r in results:
        print(f"  {r.size:>6,} assets loaded in {r.seconds_to_load:.1f} s")
    print(f"{'page':<32}" + "".join(f"{f'{r.size:,} assets: read (shown)':>30}" for r in results))
    for name in PAGES:
        print(f"{name:<32}" + "".join(f"{f'{r.median[name]} ({r.shown[name]})':>30}" for r in results))
    print("  (the last run's calls: the agreement gate, the ladder, the partner's two items or the vendor's bands, one")
    print(
        "   Query per band, one BatchGet of the candidates; a selective filter reads at most 3 merges, then answers a"
    )
    print("   short page and a cursor. A small library reads less: its bands hold fewer postings than a page asks.)")
    for name in PAGES:
        print(f"  {name}, {results[-1].size:,}: {_by_call(results[-1].calls[name])}")
    small, large = results[0], results[-1]
    ok = True
    for name, spec in PAGES.items():
        bands = 3 if spec.get("vendor") else 4  # the vendor reads the bands in use; a Gold partner ALL + 3 tiers
        bound = 6 + ROUNDS * (bands * (LIMIT + 1) + LIMIT)  # gate, ladder, partner or bands; merges; candidates
        holds = large.median[name] <= bound
        ok &= holds
        print(
            f"{name}: {large.median[name]} vs {small.median[name]} items read, bound {bound} whatever the size"
            f" -> {'OK' if holds else 'GROWS'}"
        )
    scanned = [c for r in results for calls in r.calls.values() for c in scans(calls)]
    ok &= not scanned
    print(f"Scan in the measured calls: {len(scanned)}")
    print(
        json.dumps(
            {
                "sizes": [r.size for r in results],
                "items": {str(r.size): r.median for r in results},
                "reads_grow_with_library": not ok,
            }
        )
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="assets, ascending")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--strict", action="store_true", help="exit 1 when items read grow with the library")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    saved = dict(os.environ)
    try:
        results = run(sizes, args.repeat)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    ok = report(results, args.repeat)
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
