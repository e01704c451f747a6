"""Whether the Y of "X moved to Y" is a place (a change of location) or an organisation
(a change of employer), for the offline fact grammar.

Decided in this order, the first that knows wins:

1. what was said of Y, in the text itself or in the group's recent episodes: the
   object of "is based in" is a place; the object of "works at", "works for",
   "joined" or "'s company is" is an organisation (the latest statement wins);
2. the type the graph gives Y's entity, when it has a type beyond plain "Entity"
   (Location, City, Country ... or Organization, Company ...);
3. the last word of Y's name: Corp, Inc, Ltd, Labs ... make an organisation, City,
   County, Valley ... a place;
4. a small gazetteer of well-known cities, countries and regions, below;

and otherwise an organisation, which is how every move was read before places were told
apart: a move to a name nothing above knows stays a change of employer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

Kind = Literal["place", "organisation"]

# What a relation says of its object.
_OBJECT_KIND: dict[str, Kind] = {"BASED_IN": "place", "WORKS_AT": "organisation"}

_PLACE_TYPES = frozenset({"location", "place", "city", "country", "region", "town", "state"})
_ORGANISATION_TYPES = frozenset({"organization", "organisation", "company", "employer", "business"})

_ORGANISATION_ENDINGS = frozenset(
    """Inc Inc. Corp Corp. Corporation Co Co. Company Ltd Ltd. LLC GmbH AG SA plc PLC Labs Lab
    Group Holdings Partners Systems Technologies Technology Software Solutions Industries
    Bank Capital Ventures Consulting Studios Foundation University Institute Agency""".split()
)
_PLACE_ENDINGS = frozenset("City County Valley Province State Island Islands Bay Beach Heights Springs".split())

# Deliberately small: places a user is likely to move to, spelled the way they are written.
GAZETTEER = frozenset(
    name.strip()
    for name in """
    Amsterdam, Athens, Auckland, Austin, Bangalore, Barcelona, Beijing, Berlin, Boston, Brussels,
    Budapest, Buenos Aires, Cairo, Cape Town, Chicago, Copenhagen, Delhi, Denver, Dubai, Dublin,
    Edinburgh, Frankfurt, Geneva, Hamburg, Helsinki, Hong Kong, Istanbul, Lagos, Lisbon, London,
    Los Angeles, Lyon, Madrid, Manchester, Melbourne, Mexico City, Milan, Montreal, Mumbai, Munich,
    Nairobi, New York, Osaka, Oslo, Palo Alto, Paris, Prague, Rome, Rotterdam, San Francisco,
    Sao Paulo, Seattle, Seoul, Shanghai, Singapore, Stockholm, Sydney, Tel Aviv, Tokyo, Toronto,
    Vancouver, Vienna, Warsaw, Zurich,
    Argentina, Australia, Austria, Belgium, Brazil, Canada, China, Denmark, Egypt, Finland, France,
    Germany, Greece, India, Ireland, Italy, Japan, Kenya, Mexico, Nigeria, Norway, Poland, Portugal,
    Spain, Sweden, Switzerland, United Kingdom, United States, UK, USA,
    Africa, Asia, Europe, Bavaria, California, Texas
    """.split(",")
    if name.strip()
)
_GAZETTEER = frozenset(name.casefold() for name in GAZETTEER)


class Kinds:
    """What a text and its context have said of names: which are places, which organisations."""

    def __init__(self, stated: Iterable[tuple[str, str]] = (), types: Mapping[str, Iterable[str]] | None = None):
        # stated: (relation, object) pairs in the order they were said
        self._stated: dict[str, Kind] = {}
        for relation, obj in stated:
            if relation in _OBJECT_KIND:
                self._stated[obj.casefold()] = _OBJECT_KIND[relation]
        self._types = {name.casefold(): {t.casefold() for t in labels} for name, labels in (types or {}).items()}

    def of(self, name: str) -> Kind:
        key = name.casefold()
        if key in self._stated:
            return self._stated[key]
        labels = self._types.get(key, set())
        if labels & _PLACE_TYPES:
            return "place"
        if labels & _ORGANISATION_TYPES:
            return "organisation"
        last = name.split()[-1]
        if last in _ORGANISATION_ENDINGS:
            return "organisation"
        if last in _PLACE_ENDINGS or key in _GAZETTEER:
            return "place"
        return "organisation"
