"""Score MIDAS, HIT-6, ODI and NDI from FHIR R4 QuestionnaireResponses.

Instrument wording is never shipped: a deployer loads it from a licensed FHIR
Questionnaire (:func:`load_questionnaire`), painlink keeps only the scoring rules
(:mod:`painlink.rules.questionnaires`). Answers are read from ``valueInteger``,
``valueDecimal`` or a ``valueCoding`` carrying the FHIR ``ordinalValue`` (or
``itemWeight``) extension. Bad input names the item (linkId) at fault.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from painlink.rules.questionnaires import INSTRUMENTS, Band, InstrumentRules, only_by_chance

_ORDINAL_URLS = (
    "http://hl7.org/fhir/StructureDefinition/ordinalValue",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
)


class QuestionnaireError(ValueError):
    """A response or questionnaire painlink cannot score; the message names the field."""


@dataclass(frozen=True)
class Instrument:
    rules: InstrumentRules
    item_text: dict[str, str]  # from a licensed Questionnaire; empty when none was loaded
    questionnaire_url: str | None = None


@dataclass(frozen=True)
class Score:
    instrument: str
    name: str
    computable: bool
    raw_total: float | None
    score: float | None
    unit: str
    band: str | None
    patient_band: str | None
    answered: int
    missing: tuple[str, ...]
    message: str
    percent: float | None = None  # NDI total × 2 and ODI, as 0–100
    stated_total: float | None = None  # a total the response itself carries, if any
    important_change: float | None = None
    important_change_kind: str = ""
    source: str = ""
    #: the 95% measurement error of a change between two single scores, where published
    change_error_95: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_json(resource: str | Path | dict[str, Any]) -> dict[str, Any]:
    if isinstance(resource, dict):
        return resource
    from painlink.diary import files
    from painlink.diary.errors import DiaryFormatError

    try:  # a regular file of at most 1 MB, UTF-8, nested at most 64 deep
        data = files.read_json(resource, "fhir", str(resource))
    except DiaryFormatError as exc:
        raise QuestionnaireError(str(exc)) from None
    if not isinstance(data, dict):
        raise QuestionnaireError(f"{resource}: not a FHIR resource (a JSON object)")
    return data


def _validation_message(exc: ValidationError, kind: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"not a valid FHIR R4 {kind}: {where}: {first['msg']}"


def identify(resource: dict[str, Any]) -> str:
    """Which instrument a Questionnaire or response is, from its LOINC code or linkIds."""
    for coding in resource.get("code", []) or []:
        for rules in INSTRUMENTS.values():
            if rules.loinc and coding.get("code") == rules.loinc:
                return rules.key
    link_ids = {i.get("linkId", "") for i in resource.get("item", []) or []}
    for rules in INSTRUMENTS.values():
        if set(rules.items) & link_ids:
            return rules.key
    canonical = (resource.get("questionnaire") or resource.get("url") or "").lower()
    for word, key in (
        ("oswestry", "odi"),
        ("neckdisability", "ndi"),
        ("midas", "midas"),
        ("hit", "hit6"),
    ):
        if word in canonical:
            return key
    raise QuestionnaireError(
        "cannot tell which instrument this is (no known LOINC code or item linkIds)"
    )


def load_questionnaire(resource: str | Path | dict[str, Any]) -> Instrument:
    """An instrument with its wording, from a FHIR R4 Questionnaire the deployer may use."""
    data = _read_json(resource)
    try:
        q = Questionnaire.model_validate(data)
    except ValidationError as exc:
        raise QuestionnaireError(_validation_message(exc, "Questionnaire")) from exc
    rules = INSTRUMENTS[identify(data)]
    texts = {i.linkId: i.text or "" for i in (q.item or []) if i.linkId in rules.items}
    missing = [link for link in rules.items if link not in texts]
    if missing:
        raise QuestionnaireError(
            f"Questionnaire lacks the {rules.name} items: {', '.join(missing)}"
        )
    return Instrument(rules, texts, q.url)


def _answer_value(item: dict[str, Any]) -> float | None:
    answers = item.get("answer") or []
    if not answers:
        return None
    if len(answers) > 1:
        raise QuestionnaireError(f"item {item['linkId']}: more than one answer")
    answer = answers[0]
    for key in ("valueInteger", "valueDecimal"):
        if key in answer:
            return float(answer[key])
    coding = answer.get("valueCoding")
    if coding is not None:
        for ext in coding.get("extension", []) or []:
            if ext.get("url") in _ORDINAL_URLS:
                return float(ext.get("valueDecimal", ext.get("valueInteger")))
        raise QuestionnaireError(
            f"item {item['linkId']}: a coded answer needs an ordinalValue extension to be scored"
        )
    raise QuestionnaireError(
        f"item {item['linkId']}: answer has no integer, decimal or coded value"
    )


def _band(rules: InstrumentRules, value: float) -> Band | None:
    for band in rules.bands:
        if band.low <= value <= band.high:
            return band
    return None


def score_values(instrument: str | Instrument, values: dict[str, float | None]) -> Score:
    """Score answers given as linkId → value (None for unanswered)."""
    rules = instrument.rules if isinstance(instrument, Instrument) else _rules(instrument)
    unknown = sorted(set(values) - set(rules.items))
    if unknown:
        raise QuestionnaireError(f"{rules.name} has no item(s) {', '.join(unknown)}")
    for link, value in values.items():
        if value is None:
            continue
        if not rules.item_min <= value <= rules.item_max or (
            rules.allowed_values is not None and value not in rules.allowed_values
        ):
            raise QuestionnaireError(
                f"item {link}: {value:g} is not a valid answer ({rules.allowed_text})"
            )
    if rules.key == "midas":
        _check_midas_pairs(values)
    answered = {k: v for k, v in values.items() if v is not None}
    missing = tuple(link for link in rules.items if link not in answered)
    base: dict[str, Any] = {
        "instrument": rules.key,
        "name": rules.name,
        "unit": rules.unit,
        "answered": len(answered),
        "missing": missing,
        "important_change": rules.important_change,
        "important_change_kind": rules.important_change_kind,
        "source": rules.source,
        "change_error_95": rules.change_error_95,
    }
    if len(missing) > rules.max_missing:
        return Score(
            computable=False,
            raw_total=None,
            score=None,
            band=None,
            patient_band=None,
            message=f"not scored: {len(missing)} item(s) unanswered "
            f"({', '.join(missing)}); {rules.name} allows {rules.max_missing}",
            **base,
        )
    raw = sum(answered.values())
    if rules.key == "odi":
        value = raw / (5 * len(answered)) * 100
    elif rules.key == "ndi":
        value = raw * len(rules.items) / len(answered)  # prorated: missing items take the mean
    else:
        value = raw
    band = _band(rules, round(value))
    percent = value * 2 if rules.key == "ndi" else value if rules.key == "odi" else None
    note = f" ({len(missing)} unanswered, prorated)" if missing else ""
    return Score(
        computable=True,
        raw_total=raw,
        score=round(value, 2),
        band=band.label if band else None,
        patient_band=band.patient_label if band else None,
        percent=round(percent, 2) if percent is not None else None,
        message=f"{rules.name}: {value:.4g} {rules.unit}{note}",
        **base,
    )


def _check_midas_pairs(values: dict[str, float | None]) -> None:
    """Items 2 and 4 exclude the days counted in 1 and 3, so each pair fits in 90 days."""
    for a, b in (("midas-1", "midas-2"), ("midas-3", "midas-4")):
        if (values.get(a) or 0) + (values.get(b) or 0) > 90:
            raise QuestionnaireError(f"items {a} + {b}: more than the 90 days of the recall period")


def _rules(key: str) -> InstrumentRules:
    if key not in INSTRUMENTS:
        raise QuestionnaireError(
            f"unknown instrument {key!r}; painlink scores: {', '.join(INSTRUMENTS)}"
        )
    return INSTRUMENTS[key]


@dataclass(frozen=True)
class ResponseValues:
    """What a FHIR QuestionnaireResponse answered, ready to score or to store."""

    instrument: str
    values: dict[str, float | None]  # linkId → scored value, None when unanswered
    stated_total: float | None  # a total the response itself carries, if any
    authored: str | None  # FHIR dateTime, as written


def response_values(
    resource: str | Path | dict[str, Any], instrument: str | Instrument | None = None
) -> ResponseValues:
    """Read a FHIR R4 QuestionnaireResponse (validated first) into item values."""
    data = _read_json(resource)
    try:
        QuestionnaireResponse.model_validate(data)
    except ValidationError as exc:
        raise QuestionnaireError(_validation_message(exc, "QuestionnaireResponse")) from exc
    rules = (
        instrument.rules
        if isinstance(instrument, Instrument)
        else _rules(instrument)
        if instrument
        else INSTRUMENTS[identify(data)]
    )
    values: dict[str, float | None] = {link: None for link in rules.items}
    present = [i.get("linkId") for i in data.get("item", []) or []]
    if not set(present) & set(rules.items):
        raise QuestionnaireError(
            f"the response holds none of the {rules.name} items ({', '.join(rules.items[:3])} …); "
            f"it has: {', '.join(str(p) for p in present[:5])}"
        )
    stated = None
    for item in data.get("item", []) or []:
        link = item.get("linkId")
        if link in values:
            values[link] = _answer_value(item)
        elif item.get("answer"):
            try:
                stated = _answer_value(item)
            except QuestionnaireError:
                stated = None
    return ResponseValues(rules.key, values, stated, data.get("authored"))


def score_response(
    resource: str | Path | dict[str, Any], instrument: str | Instrument | None = None
) -> Score:
    """Score a FHIR R4 QuestionnaireResponse (validated first)."""
    read = response_values(resource, instrument)
    result = score_values(read.instrument, read.values)
    return Score(
        **{**result.as_dict(), "stated_total": read.stated_total, "missing": result.missing}
    )


def compare_scores(before: Score, after: Score) -> str:
    """Plain words on a change between two scores of the same instrument."""
    if before.instrument != after.instrument:
        raise QuestionnaireError("cannot compare scores of different instruments")
    if not (before.computable and after.computable):
        return "one of the two scores could not be computed"
    change = after.score - before.score  # type: ignore[operator]
    if before.important_change is None:
        return (
            f"change {_signed(change)} {after.unit}; no published important change for {after.name}"
        )
    verdict = "reaches" if abs(change) >= before.important_change else "is below"
    words = (
        f"change {_signed(change)} {after.unit} {verdict} the {before.important_change_kind} "
        f"of {before.important_change:g}"
    )
    chance = before.change_error_95
    if only_by_chance(change, before.important_change, chance):
        words += f", but two single scores differ by up to ±{chance:.1f} by chance"
    return words


@dataclass(frozen=True)
class StoredScore:
    """A stored response, scored now: old answers follow today's scoring rules."""

    patient_id: str
    completed_on: Any  # datetime.date
    recorded_by: str | None
    score: Score


def score_stored(items: pl.DataFrame, *, skip_invalid: bool = False) -> list[StoredScore]:
    """Score every response in a ``questionnaire_items`` table, oldest first per instrument.

    ``skip_invalid``: leave out a stored response today's rules cannot score (an
    answer outside the instrument's choices, MIDAS days beyond the recall period)
    instead of raising — what an analysis over a whole diary wants, since one odd
    old response must not stop every other result."""
    out: list[StoredScore] = []
    if items.is_empty():
        return out
    keys = ["patient_id", "instrument", "completed_on"]
    for (pid, instrument, completed_on), group in items.sort([*keys, "item"]).group_by(
        keys, maintain_order=True
    ):
        rules = INSTRUMENTS[str(instrument)]
        values: dict[str, float | None] = {link: None for link in rules.items}
        values.update(dict(zip(group["item"], group["value"], strict=True)))
        by = group["recorded_by"].drop_nulls() if "recorded_by" in group.columns else pl.Series()
        try:
            score = score_values(rules.key, values)
        except QuestionnaireError:
            if skip_invalid:
                continue
            raise
        out.append(StoredScore(str(pid), completed_on, by[0] if by.len() else None, score))
    return out


def _signed(value: float) -> str:
    """A signed number with a true minus sign (U+2212), as print and screen readers want."""
    return f"{value:+.4g}".replace("-", "\u2212")
