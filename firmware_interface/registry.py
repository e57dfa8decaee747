"""Which profile a device speaks, from what it advertises.

:func:`identify` scores every known profile against the advertised local name
and service UUIDs: a name match and a device-specific service UUID each count;
the standard SIG services (heart rate, running speed and cadence) only win when
nothing device-specific matches.  Example: a Polar H10 advertises
``"Polar H10 1A2B3C4D"`` and the Heart Rate service → the Polar H10 PMD profile.
"""

from __future__ import annotations

from typing import Iterable

from firmware_interface import heart_rate, metamotion, movesense, polar_pmd, reference, rsc, thingy52, witmotion
from firmware_interface.base import DeviceProfile, normalise_uuid

#: Every profile backstride knows, device-specific first.
PROFILES: tuple[DeviceProfile, ...] = (
    reference.PROFILE,
    witmotion.PROFILE,
    polar_pmd.H10_PROFILE,
    polar_pmd.VERITY_PROFILE,
    thingy52.PROFILE,
    metamotion.PROFILE,
    movesense.PROFILE,
    heart_rate.PROFILE,
    rsc.PROFILE,
)


def profile(key: str) -> DeviceProfile:
    """The profile with this key (``"polar-h10"`` …)."""
    for p in PROFILES:
        if p.key == key:
            return p
    raise KeyError(f"no device profile {key!r}; known: {', '.join(p.key for p in PROFILES)}")


def _score(p: DeviceProfile, name: str | None, uuids: set[str]) -> int:
    by_name = p.matches_name(name)
    by_uuid = bool(uuids & set(p.advertised_uuids))
    if p.generic:
        return 1 if by_uuid else 0
    return 2 * by_name + 2 * by_uuid


def candidates(name: str | None = None, service_uuids: Iterable[str] = ()) -> list[DeviceProfile]:
    """Profiles that fit the advertisement, best first (empty if none)."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be the advertised local name (str) or None, got {type(name).__name__}")
    if isinstance(service_uuids, str):
        raise TypeError("service_uuids must be a list of UUID strings, not one string")
    uuids = {normalise_uuid(u) for u in service_uuids}
    scored = [(_score(p, name, uuids), i, p) for i, p in enumerate(PROFILES)]
    return [p for score, _, p in sorted(scored, key=lambda t: (-t[0], t[1])) if score > 0]


def identify(name: str | None = None, service_uuids: Iterable[str] = ()) -> DeviceProfile | None:
    """The best-fitting profile for an advertised name and/or service UUIDs, or None.

    Parameters
    ----------
    name
        Advertised local name (``BLEDevice.name`` / ``AdvertisementData.local_name``).
    service_uuids
        Advertised service UUIDs (``AdvertisementData.service_uuids``); 16-bit
        forms such as ``"180d"`` are accepted.
    """
    found = candidates(name, service_uuids)
    return found[0] if found else None
