"""The nearest airport to a point, from the small table shipped with the example
(data/airports.csv: rows of OurAirports' airports.csv, public domain, with a short name added
for posts)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "airports.csv"
EARTH_RADIUS_KM = 6371.0
# Farther than this from every airport in the table, a point is "near" coordinates instead.
NEAREST_WITHIN_KM = 10.0


@dataclass(frozen=True)
class Airport:
    ident: str  # ICAO code, e.g. KAUS
    name: str
    short_name: str
    latitude: float
    longitude: float
    elevation_ft: int

    def __str__(self) -> str:
        return f"{self.short_name} ({self.ident})"


def load(path: Path = TABLE) -> list[Airport]:
    with path.open(newline="", encoding="utf-8") as f:
        return [
            Airport(
                row["ident"],
                row["name"],
                row["short_name"],
                float(row["latitude_deg"]),
                float(row["longitude_deg"]),
                int(row["elevation_ft"]),
            )
            for row in csv.DictReader(f)
        ]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearest(
    airports: list[Airport], latitude: float, longitude: float, within_km: float = NEAREST_WITHIN_KM
) -> Airport | None:
    if not airports:
        return None
    best = min(airports, key=lambda a: distance_km(latitude, longitude, a.latitude, a.longitude))
    if distance_km(latitude, longitude, best.latitude, best.longitude) > within_km:
        return None
    return best
