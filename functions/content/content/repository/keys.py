"""Every key of the content table (one table: pk/sk, two generic indexes `gsi1` (gsi1pk/gsi1sk) and `gsi2`
(gsi2pk/gsi2sk), a stream for the outbox). Each helper adds its key functions in its own section below; the
repositories are their only users.

Library (A):
  ASSET#<aid> / ASSET                      the asset; gsi1pk ASSETS#<status>, gsi1sk <updated_at>#<aid> (vendor
                                           lists by status, newest updated first); gsi2pk ASSETS, gsi2sk
                                           <updated_at>#<aid> (every asset, newest updated first)
  ASSET#<aid> / VERSION#<n:06d>            one version (uploaded file) of the asset
  UPLOAD#<s3 key> / UPLOAD                 which asset and version an object key is (the processing consumer)
  ASSET#<aid> / EFFECT#<key>              side effects done once (shared.effects): processed object versions,
                                           timers fired
Access, search, tracking (B): IDX#..., PARTNER#<pid> / PROFILE | TIER, LADDER / ..., ASSET#<aid> / DOWNLOADER#...,
  DOWNLOAD#..., STATS#..., EXPORT#...
Kits and brand (C): KIT#<kid> / KIT, BRAND#<pid> / BRAND, BRAND#<pid> / LOGO#<upload_id>, KIT#<kid> / COPY#<pid>
Everyone: OUTBOX#<event id> / OUTBOX (shared.outbox).
"""

from __future__ import annotations

Key = tuple[str, str]

GSI1 = "gsi1"
GSI2 = "gsi2"

# ------------------------------------------------------------------ A: library (assets, versions, uploads)
ASSET_SK = "ASSET"
UPLOAD_SK = "UPLOAD"
VERSION_PREFIX = "VERSION#"
ALL_ASSETS = "ASSETS"


def asset(asset_id: str) -> Key:
    return f"ASSET#{asset_id}", ASSET_SK


def asset_version(asset_id: str, number: int) -> Key:
    return f"ASSET#{asset_id}", f"{VERSION_PREFIX}{number:06d}"


def assets_with_status(status: str) -> str:
    """gsi1pk of the assets in one status."""
    return f"ASSETS#{status}"


def asset_order(updated_at: str, asset_id: str) -> str:
    """gsi1sk / gsi2sk of an asset: newest updated first when read backwards."""
    return f"{updated_at}#{asset_id}"


def upload(s3_key: str) -> Key:
    return f"UPLOAD#{s3_key}", UPLOAD_SK


def asset_object_key(asset_id: str, number: int, file_name: str) -> str:
    """The S3 key of one version's file: `assets/<aid>/<n>/<file_name>` (file_name already safe)."""
    return f"assets/{asset_id}/{number}/{file_name}"


ASSETS_PREFIX = "assets/"
LOGOS_PREFIX = "logos/"  # C's logo uploads: processing dispatches them to content.logos.handle_logo_object
KITS_PREFIX = "kits/"
EXPORTS_PREFIX = "exports/"

# ------------------------------------------------------------------ B: access, search, downloads, tracking
#   PARTNER#<pid> / PROFILE | TIER        the partner projection (onboarding's and tiers' events)
#   LADDER / <effective_from>#<version>    the programme's tier ladders (tiers' TierProgrammeVersionAdded)
#   IDX#<term>#<band> / R#<999-weight>#<newest>#<aid> | N#<newest>#<aid>   search postings (domain/search.py)
#   ASSET#<aid> / INDEXED                  what the asset posted (terms, band, publish instant: stale postings go)
#   IDX#BANDS / <band>                     the bands that hold postings (a vendor's search reads them all)
#   ASSET#<aid> / DOWNLOADER#<email>       who downloaded the asset, their last version (version-changed emails)
#   DOWNLOADS#<yyyy-mm-dd> / <at>#<did>    one download or preview; gsi1pk ASSET#<aid>#DOWNLOADS, gsi1sk <at>#<did>
#   ASSET#<aid> / STATS                    the asset's counters; gsi1pk STATS#RECENT gsi1sk <last at>#<aid>,
#                                          gsi2pk STATS#TOP gsi2sk <downloads+previews:012d>#<aid>
#   ASSET#<aid> / STATS#VERSION#<n:06d> | STATS#PARTNER#<pid>   per version and per partner counters
#   EXPORT#<eid> / EXPORT                  a CSV export (its object key, rows, who asked)
PROFILE_SK = "PROFILE"
TIER_SK = "TIER"
LADDER = "LADDER"
BANDS = "IDX#BANDS"
INDEXED_SK = "INDEXED"
DOWNLOADER_PREFIX = "DOWNLOADER#"
STATS_SK = "STATS"
STATS_VERSION_PREFIX = "STATS#VERSION#"
STATS_PARTNER_PREFIX = "STATS#PARTNER#"
STATS_RECENT = "STATS#RECENT"
STATS_TOP = "STATS#TOP"


def partner_profile(partner_id: str) -> Key:
    return f"PARTNER#{partner_id}", PROFILE_SK


def partner_tier(partner_id: str) -> Key:
    return f"PARTNER#{partner_id}", TIER_SK


def ladder(effective_from: str, version_id: str) -> Key:
    return LADDER, f"{effective_from}#{version_id}"


def indexed(asset_id: str) -> Key:
    return f"ASSET#{asset_id}", INDEXED_SK


def band(name: str) -> Key:
    return BANDS, name


def downloader(asset_id: str, email: str) -> Key:
    return f"ASSET#{asset_id}", f"{DOWNLOADER_PREFIX}{email}"


def download(day: str, at: str, download_id: str) -> Key:
    return f"DOWNLOADS#{day}", f"{at}#{download_id}"


def asset_downloads(asset_id: str) -> str:
    """gsi1pk of an asset's download records."""
    return f"ASSET#{asset_id}#DOWNLOADS"


def stats(asset_id: str) -> Key:
    return f"ASSET#{asset_id}", STATS_SK


def version_stats(asset_id: str, number: int) -> Key:
    return f"ASSET#{asset_id}", f"{STATS_VERSION_PREFIX}{number:06d}"


def partner_stats(asset_id: str, partner_id: str) -> Key:
    return f"ASSET#{asset_id}", f"{STATS_PARTNER_PREFIX}{partner_id}"


def export(export_id: str) -> Key:
    return f"EXPORT#{export_id}", "EXPORT"


def export_object_key(export_id: str) -> str:
    return f"exports/{export_id}.csv"


# ------------------------------------------------------------------ C: kits and brand profile
KIT_SK = "KIT"
BRAND_SK = "BRAND"
COPY_PREFIX = "COPY#"
LOGO_PREFIX = "LOGO#"
ALL_KITS = "KITS"  # gsi1pk of every kit (the vendor's list); gsi2pk KITS#published (the partners' list)


def kit(kit_id: str) -> Key:
    return f"KIT#{kit_id}", KIT_SK


def kits_with_status(status: str) -> str:
    """gsi2pk of the kits in one status (partners list the published ones)."""
    return f"KITS#{status}"


def kit_copy(kit_id: str, partner_id: str) -> Key:
    """A partner's copy of a kit: in the kit's partition, keyed by the partner id from the caller's token."""
    return f"KIT#{kit_id}", f"{COPY_PREFIX}{partner_id}"


def brand(partner_id: str) -> Key:
    return f"BRAND#{partner_id}", BRAND_SK


def logo_upload(partner_id: str, upload_id: str) -> Key:
    return f"BRAND#{partner_id}", f"{LOGO_PREFIX}{upload_id}"


def logo_object_key(partner_id: str, upload_id: str) -> str:
    """`logos/<pid>/<upload_id>`: one logo upload (processing dispatches the prefix to content.logos)."""
    return f"{LOGOS_PREFIX}{partner_id}/{upload_id}"


def parse_logo_object_key(key: str) -> tuple[str, str] | None:
    """(partner id, upload id) of a logo object key, None for any other shape."""
    parts = key.split("/")
    if len(parts) != 3 or f"{parts[0]}/" != LOGOS_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def kit_copy_object_key(partner_id: str, kit_id: str, copy_revision: int, file_name: str) -> str:
    """`kits/<pid>/<kid>/<copy_revision>/<file>`: built only from the caller's own partner id."""
    return f"{KITS_PREFIX}{partner_id}/{kit_id}/{copy_revision}/{file_name}"
