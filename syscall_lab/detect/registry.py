"""The detectors by name: make one with its default settings, or load a fitted one from the
model file ``Detector.save`` wrote.

This module imports numpy and the detector modules only, so the command line can list the
names for its options without loading scipy or pandas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from syscall_lab.detect.base import FORMAT_VERSION, Detector, DetectorError
from syscall_lab.detect.cover import SequenceCover
from syscall_lab.detect.ensemble import Ensemble
from syscall_lab.detect.neighbours import FrequencyKnn, NgramKnn
from syscall_lab.detect.ngram import NgramModel
from syscall_lab.detect.stide import Stide, TStide
from syscall_parse.errors import InputError

__all__ = ["DETECTORS", "detector_from_dict", "load_detector", "make_detector"]

DETECTORS: dict[str, type[Detector]] = {
    cls.name: cls
    for cls in (Stide, TStide, FrequencyKnn, NgramKnn, NgramModel, SequenceCover, Ensemble)
}


def make_detector(name: str) -> Detector:
    """A detector with its default settings, by name (``stide``, ``t-stide``, ...)."""
    try:
        return DETECTORS[name]()
    except KeyError:
        raise DetectorError(f"unknown detector {name!r}; known: {sorted(DETECTORS)}") from None


def _from_dict(data: dict[str, Any], where: str) -> Detector:
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise DetectorError(
            f"{where}: unsupported model format_version {version!r} (this version reads "
            f"{FORMAT_VERSION})"
        )
    kind = data.get("detector")
    if kind not in DETECTORS:
        raise DetectorError(f"{where}: unknown detector {kind!r}; known: {sorted(DETECTORS)}")
    cls = DETECTORS[kind]
    params = dict(data["params"])
    if cls is Ensemble:
        params["members"] = [_from_dict(m, where) for m in data["state"]["members"]]
    detector = cls(**params)
    detector._set_state(data["state"])
    return detector


def detector_from_dict(data: dict[str, Any], where: str) -> Detector:
    """A fitted detector from the data of ``Detector.to_dict`` (``where`` names it in errors)."""
    return _from_dict(data, where)


def load_detector(path: Path | str) -> Detector:
    """Read a model written by ``Detector.save``; DetectorError on an unknown format_version."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not a detector model file: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a detector model file")
    try:
        return _from_dict(data, str(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{path}: malformed detector model ({type(exc).__name__}: {exc})"
        ) from None
