"""Seeded routing requests over a Germany-sized map, for bench/routing.py.

Every order is drawn from its own ``random.Random`` (seeded from the run's seed and the
order's index), so order 17 is the same order whether the run makes 60 orders or 1,000.

What the generator puts in, on purpose, so the router meets every rule it has to apply:
stores clustered a few km around cities weighted by population and a few warehouses with
deep stock; sparse store stock (many zeros); scarce SKUs that no single node can fill (the
line must be split); SKUs nobody holds (the line is unfulfillable); stores with no pick
capacity left; nodes past their cut-off at ``now``; stale stock readings; nodes without
coordinates; excess stock that earns the health bonus; store stock at or under the walk-in
reserve; orders with a delivery promise and a few pinned to one service level.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from math import cos, radians

from gateway.domain import GeoPoint, NodeType
from gateway.routing.model import (
    CandidateNode,
    RateBand,
    RouteLine,
    RoutingPolicy,
    RoutingRequest,
    ServiceLevel,
    ShippingModel,
    Strategy,
)

# (name, population in thousands, lat, lng): the 40 largest German cities and a few more.
CITIES: tuple[tuple[str, int, float, float], ...] = (
    ("Berlin", 3650, 52.520, 13.405),
    ("Hamburg", 1850, 53.551, 9.994),
    ("Munich", 1490, 48.137, 11.575),
    ("Cologne", 1080, 50.938, 6.960),
    ("Frankfurt", 760, 50.110, 8.682),
    ("Stuttgart", 630, 48.776, 9.183),
    ("Duesseldorf", 620, 51.228, 6.774),
    ("Leipzig", 600, 51.340, 12.375),
    ("Dortmund", 590, 51.514, 7.466),
    ("Essen", 580, 51.456, 7.012),
    ("Bremen", 570, 53.079, 8.802),
    ("Dresden", 560, 51.050, 13.738),
    ("Hanover", 540, 52.375, 9.732),
    ("Nuremberg", 520, 49.452, 11.077),
    ("Duisburg", 500, 51.434, 6.762),
    ("Bochum", 360, 51.482, 7.216),
    ("Wuppertal", 355, 51.256, 7.151),
    ("Bielefeld", 335, 52.030, 8.532),
    ("Bonn", 330, 50.737, 7.098),
    ("Muenster", 320, 51.961, 7.626),
    ("Mannheim", 310, 49.488, 8.466),
    ("Karlsruhe", 308, 49.007, 8.404),
    ("Augsburg", 300, 48.371, 10.898),
    ("Wiesbaden", 280, 50.078, 8.240),
    ("Moenchengladbach", 260, 51.185, 6.442),
    ("Gelsenkirchen", 260, 51.518, 7.086),
    ("Aachen", 250, 50.776, 6.084),
    ("Braunschweig", 250, 52.269, 10.521),
    ("Kiel", 247, 54.323, 10.123),
    ("Chemnitz", 244, 50.828, 12.921),
    ("Halle", 238, 51.483, 11.970),
    ("Magdeburg", 237, 52.121, 11.628),
    ("Freiburg", 231, 47.999, 7.842),
    ("Krefeld", 227, 51.339, 6.586),
    ("Mainz", 218, 49.999, 8.274),
    ("Luebeck", 216, 53.866, 10.687),
    ("Erfurt", 214, 50.978, 11.029),
    ("Rostock", 209, 54.092, 12.099),
    ("Kassel", 201, 51.312, 9.480),
    ("Saarbruecken", 180, 49.240, 6.997),
    ("Regensburg", 153, 49.013, 12.102),
    ("Passau", 53, 48.567, 13.431),
)
LAT_RANGE = (47.3, 55.0)
LNG_RANGE = (5.9, 15.0)
KM_PER_DEGREE_LAT = 111.2

CATALOGUE_SIZE = 5000
UNITS_PER_PARCEL = 5
STALE_AFTER_SECONDS = 3600
POLICY = RoutingPolicy(
    split_penalty=300,
    max_radius_km=800,
    stale_after_seconds=STALE_AFTER_SECONDS,
    max_shipments=4,
    excess_days=60,
    excess_bonus=20,
    store_reserve=2,
    store_reserve_penalty=40,
)
# (up_to_km, first_parcel, additional_parcel, transit_days) in euro cents. Express costs
# more in every band and is never slower, so the cheapest service that arrives in time is
# a real choice when an order carries a promise.
STANDARD_BANDS = ((50, 390, 160, 1), (200, 460, 190, 2), (500, 540, 220, 2), (1000, 620, 260, 3))
EXPRESS_BANDS = ((50, 790, 320, 1), (200, 920, 360, 1), (500, 1090, 410, 1), (1000, 1290, 470, 2))
FIRST_DAY = date(2025, 3, 3)


@dataclass(frozen=True, slots=True)
class Shape:
    """What an order's size is drawn from; the big timing instances pin both."""

    min_nodes: int = 10
    max_nodes: int = 500
    min_lines: int = 1
    max_lines: int = 20


ORDER_SHAPE = Shape()


def big_shape(nodes: int = 500, lines: int = 10) -> Shape:
    return Shape(nodes, nodes, lines, lines)


def generate_orders(
    seed: int, count: int, shape: Shape = ORDER_SHAPE, stream: str = "orders"
) -> list[RoutingRequest]:
    return [generate_order(order_rng(seed, stream, index), shape) for index in range(count)]


def order_rng(seed: int, stream: str, index: int) -> random.Random:
    """The generator of one order: the same order whatever else the run makes."""
    return random.Random(f"{seed}:{stream}:{index}")


def generate_order(rng: random.Random, shape: Shape) -> RoutingRequest:
    now = datetime.combine(
        FIRST_DAY + timedelta(days=rng.randrange(28)),
        time(rng.randrange(5, 21), rng.randrange(60), rng.randrange(60)),
        tzinfo=UTC,
    )
    lines = _lines(rng, shape)
    # A node count drawn log-uniformly: most orders meet tens of nodes, some meet hundreds.
    node_count = round(shape.min_nodes * (shape.max_nodes / shape.min_nodes) ** rng.random())
    warehouse_count = min(node_count, rng.randint(3, 8))
    nodes = [_warehouse(rng, index, lines, now) for index in range(warehouse_count)]
    nodes += [_store(rng, index, lines, now) for index in range(node_count - warehouse_count)]
    rng.shuffle(nodes)
    with_express = rng.random() < 0.6
    services = [_service("STANDARD", STANDARD_BANDS)]
    if with_express:
        services.append(_service("EXPRESS", EXPRESS_BANDS))
    # The request carries each line once; several lines of one SKU would be merged anyway.
    return RoutingRequest(
        lines=tuple(RouteLine(sku, quantity) for sku, quantity, _ in lines),
        nodes=tuple(nodes),
        shipping=ShippingModel("EUR", UNITS_PER_PARCEL, tuple(services)),
        policy=POLICY,
        strategy=Strategy.COST,
        now=now,
        destination=_near_city(rng, spread_km=8.0),
        deliver_by=_promise(rng, now),
        service_level="EXPRESS" if with_express and rng.random() < 0.08 else None,
    )


def _promise(rng: random.Random, now: datetime) -> date | None:
    if rng.random() >= 0.25:
        return None
    # Next-day promises are rare: most nodes cannot keep them, which empties the order.
    return now.date() + timedelta(days=rng.choice((1, 2, 2, 3, 3, 4)))


# A line's SKU is one of three kinds, which decides how nodes stock it.
COMMON, SCARCE, ABSENT = "common", "scarce", "absent"


def _lines(rng: random.Random, shape: Shape) -> list[tuple[str, int, str]]:
    count = rng.randint(shape.min_lines, shape.max_lines)
    skus = rng.sample(range(CATALOGUE_SIZE), count)
    lines = []
    for sku in skus:
        roll = rng.random()
        if roll < 0.015:
            kind, quantity = ABSENT, rng.randint(1, 3)
        elif roll < 0.07:
            kind, quantity = SCARCE, rng.randint(3, 5)
        else:
            kind = COMMON
            quantity = rng.choices((1, 2, 3, 4, 5), weights=(58, 28, 7, 4, 3))[0]
        lines.append((f"SKU-{sku:05d}", quantity, kind))
    return lines


def _warehouse(
    rng: random.Random, index: int, lines: list[tuple[str, int, str]], now: datetime
) -> CandidateNode:
    atp: dict[str, int] = {}
    for sku, quantity, kind in lines:
        if kind == COMMON and rng.random() < 0.9:
            atp[sku] = 0 if rng.random() < 0.1 else rng.randint(1, 300)
        elif kind == SCARCE and rng.random() < 0.3:
            atp[sku] = rng.randint(1, quantity - 1)  # never the whole line in one place
    city = _city(rng)
    return CandidateNode(
        id=f"WH-{index:02d}",
        name=f"{city[0]} warehouse",
        kind=NodeType.WAREHOUSE,
        point=_around(rng, city, spread_km=15.0),
        atp=atp,
        capacity=None if rng.random() < 0.5 else rng.randint(400, 5000),
        cutoff=time(rng.randint(11, 16), rng.choice((0, 30))),
        handling_per_order=rng.randint(150, 260),
        handling_per_unit=rng.randint(10, 35),
        days_of_supply=_days_of_supply(rng, atp),
        stock_as_of=_stock_as_of(rng, now),
    )


def _store(
    rng: random.Random, index: int, lines: list[tuple[str, int, str]], now: datetime
) -> CandidateNode:
    stocked_share = rng.uniform(0.3, 0.7)
    atp: dict[str, int] = {}
    for sku, quantity, kind in lines:
        if kind == ABSENT or rng.random() >= stocked_share:
            continue
        units = 0 if rng.random() < 0.35 else min(12, 1 + int(rng.expovariate(1 / 3)))
        atp[sku] = min(units, quantity - 1) if kind == SCARCE else units
    city = _city(rng)
    capacity = 0 if rng.random() < 0.08 else rng.randint(1, 80)
    return CandidateNode(
        id=f"ST-{index:04d}",
        name=f"{city[0]} store {index}",
        kind=NodeType.STORE,
        point=None if rng.random() < 0.01 else _around(rng, city, spread_km=4.0),
        atp=atp,
        capacity=capacity,
        cutoff=None if rng.random() < 0.1 else time(rng.randint(13, 18), rng.choice((0, 30))),
        handling_per_order=rng.randint(200, 400),
        handling_per_unit=rng.randint(20, 60),
        days_of_supply=_days_of_supply(rng, atp),
        stock_as_of=_stock_as_of(rng, now),
        pickup=rng.random() < 0.7,
    )


def _days_of_supply(rng: random.Random, atp: dict[str, int]) -> dict[str, int]:
    # Roughly one SKU in four sits above the policy's 60 excess days.
    return {sku: int(rng.expovariate(1 / 40)) for sku in atp if rng.random() < 0.9}


def _stock_as_of(rng: random.Random, now: datetime) -> datetime | None:
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.09:  # a feed that stopped hours ago
        return now - timedelta(seconds=rng.randint(STALE_AFTER_SECONDS + 1, 86_400))
    return now - timedelta(seconds=rng.randint(0, STALE_AFTER_SECONDS // 2))


def _service(name: str, bands: tuple[tuple[int, int, int, int], ...]) -> ServiceLevel:
    return ServiceLevel(name, tuple(RateBand(*band) for band in bands))


def _city(rng: random.Random) -> tuple[str, int, float, float]:
    return rng.choices(CITIES, weights=[city[1] for city in CITIES])[0]


def _near_city(rng: random.Random, spread_km: float) -> GeoPoint:
    return _around(rng, _city(rng), spread_km)


def _around(rng: random.Random, city: tuple[str, int, float, float], spread_km: float) -> GeoPoint:
    _, _, lat, lng = city
    lat += rng.gauss(0.0, spread_km) / KM_PER_DEGREE_LAT
    lng += rng.gauss(0.0, spread_km) / (KM_PER_DEGREE_LAT * cos(radians(lat)))
    return GeoPoint(
        round(min(max(lat, LAT_RANGE[0]), LAT_RANGE[1]), 5),
        round(min(max(lng, LNG_RANGE[0]), LNG_RANGE[1]), 5),
    )
