"""Where a web order is routed to: its coordinates, else its postcode region's or town's
centre from the offline table, else nowhere (the caller's default node)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import GeoPoint
from gateway.domain.documents import PostalAddress
from gateway.geo import distance_km
from gateway.geocoding.germany import REGIONS
from gateway.geocoding.locate import LocatedBy, locate


def address(
    postcode: str = "10115", city: str = "Berlin", country: str = "DE", point=None
) -> PostalAddress:
    return PostalAddress("Ann", "Hauptstrasse 1", city, postcode, country, point=point)


def test_given_coordinates_then_they_are_used_whatever_the_postcode_says():
    located = locate(address(point=GeoPoint(48.1351, 11.582)))
    assert located.by is LocatedBy.COORDINATES
    assert located.point == GeoPoint(48.1351, 11.582)


def test_given_an_unset_pair_of_coordinates_then_the_postcode_is_used():
    located = locate(address(point=GeoPoint(0.0, 0.0)))
    assert located.by is LocatedBy.POSTCODE


def test_given_a_berlin_postcode_then_within_a_few_km_of_berlin():
    located = locate(address("10435"))
    assert located.by is LocatedBy.POSTCODE
    assert located.point is not None
    assert distance_km(located.point, GeoPoint(52.52, 13.405)) < 5
    assert "10435" in located.note and "Berlin" in located.note


def test_given_munich_and_hamburg_postcodes_then_far_apart_as_the_cities_are():
    munich = locate(address("80331", "Muenchen")).point
    hamburg = locate(address("20095", "Hamburg")).point
    assert munich is not None and hamburg is not None
    assert 580 < distance_km(munich, hamburg) < 640  # about 612 km


def test_given_no_usable_postcode_then_the_town_is_used_however_spelled():
    for spelled in ("München", "MUENCHEN", " munich "):
        located = locate(address("", spelled))
        assert located.by is LocatedBy.CITY, spelled
        assert located.point == GeoPoint(48.1351, 11.582)


def test_given_another_country_or_an_unknown_place_then_the_default_node():
    assert locate(address("75001", "Paris", "FR")).by is LocatedBy.DEFAULT_NODE
    assert locate(address("", "Atlantis")).by is LocatedBy.DEFAULT_NODE
    assert locate(None).by is LocatedBy.DEFAULT_NODE
    assert locate(None).point is None


@given(st.sampled_from(sorted(REGIONS)), st.integers(min_value=0, max_value=999))
def test_every_postcode_of_a_used_region_lands_in_germany(region: str, rest: int):
    located = locate(address(f"{region}{rest:03d}"))
    assert located.by is LocatedBy.POSTCODE
    assert located.point is not None
    assert 47.2 < located.point.lat < 55.1 and 5.8 < located.point.lng < 15.1


@given(st.text(max_size=8), st.text(max_size=20))
def test_any_postcode_and_town_are_located_or_left_to_the_default_never_an_error(postcode, city):
    located = locate(address(postcode, city))
    assert (located.point is None) == (located.by is LocatedBy.DEFAULT_NODE)
    assert located.note
