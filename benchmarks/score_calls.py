"""Score a diary analysis's calls against a simulator's truth, person by variable.

``calls`` (what an analysis outputs; several rows per person × variable allowed):
patient_id, variable (the days.csv column, "menstruation", "contraceptive_phase", an
own factor's name; "neck_pain"/"low_back_pain"), verdict, odds_ratio, ci_low, ci_high
(may be null), optional form and lag. A person × variable pair is *called* when any of
its rows has a positive verdict (:data:`POSITIVE`).

``truth``: one row per person × variable with ``recorded`` and ``role`` (trigger,
protector, premonitory, none; neck/back: cause, symptom, premonitory, none), as
written by ``painlink.simulate.independent``.

    python benchmarks/score_calls.py --calls calls.csv --truth truth.csv
"""

from __future__ import annotations

import argparse
import math

import polars as pl

TRIGGER, PROTECTOR = "likely trigger", "likely protector"
EARLY, SYMPTOM, CAUSE = "possible early attack sign", "symptom of the attack", "candidate cause"
POSITIVE = frozenset({TRIGGER, PROTECTOR, EARLY, CAUSE, SYMPTOM})
NECK_BACK = ("neck_pain", "low_back_pain")
#: the rates broken down by form or variable (nested dicts in :func:`score`)
NESTED = ("sensitivity by form", "sensitivity by variable", "false calls by variable")


def _share(hits: int, total: int) -> float:
    return hits / total if total else math.nan


def spine_interval(spine: pl.DataFrame) -> list[pl.Expr]:
    """The neck/back verdict's estimate and interval on the scorer's odds-ratio scale: an
    odds ratio as it is; a rise in points (the "with" test, null 0) as exp(rise), a
    monotone map that keeps "the interval excludes the null" (null 0 → 1)."""
    points = pl.col("test") != "before" if "test" in spine.columns else pl.lit(False)
    out = []
    for name, col in (("odds_ratio", "estimate"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
        value = pl.col(col).cast(pl.Float64) if col in spine.columns else pl.lit(None, pl.Float64)
        out.append(pl.when(points).then(value.exp()).otherwise(value).alias(name))
    return out


def score(calls: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Rates of the calls against the truth (NaN where a rate has no pairs)."""
    calls = calls.with_columns(
        *(pl.lit(None, pl.String).alias(c) for c in ("form", "lag") if c not in calls.columns)
    ).with_columns(pl.col("form", "lag").cast(pl.String))
    pairs = truth.filter(pl.col("recorded")).select(
        "patient_id", "variable", "role", "form", "lag", "true_log_or"
    )
    positive = calls.filter(pl.col("verdict").is_in(list(POSITIVE)))
    verdicts = positive.group_by("patient_id", "variable").agg(pl.col("verdict").unique())
    scored = pairs.join(verdicts, on=["patient_id", "variable"], how="left").with_columns(
        pl.col("verdict").fill_null(pl.lit([], pl.List(pl.String)))
    )

    def count(frame: pl.DataFrame, wanted: set[str]) -> int:
        return sum(bool(set(v) & wanted) for v in frame["verdict"].to_list())

    def rate(frame: pl.DataFrame, wanted: set[str]) -> tuple[float, int]:
        hits = sum(bool(set(v) & wanted) for v in frame["verdict"].to_list())
        return _share(hits, frame.height), frame.height

    body = ~pl.col("variable").is_in(NECK_BACK)
    null = scored.filter(pl.col("role") == "none")
    trig = scored.filter(body & (pl.col("role") == "trigger"))
    prot = scored.filter(body & (pl.col("role") == "protector"))
    prem = scored.filter(pl.col("role") == "premonitory")
    nb = scored.filter(~body)
    out: dict = {}
    out["null pairs"] = null.height
    out["false calls on null pairs"] = rate(null, set(POSITIVE))[0]
    out["false calls, neck/back null pairs"] = rate(
        nb.filter(pl.col("role") == "none"), set(POSITIVE)
    )[0]
    hits = count(trig, {TRIGGER}) + count(prot, {PROTECTOR})
    effects = trig.height + prot.height
    out["true trigger/protector pairs"] = effects
    out["sensitivity (right direction)"] = _share(hits, effects)
    if "direction" in calls.columns:
        # "less exercise: likely trigger" and "more exercise: likely protector" say the
        # same; with a direction column (+1: more of the variable goes with more
        # attacks) a call is right when that direction is the truth's
        down = pl.col("form").is_in(["below", "drop"])
        true_dir = (pl.when(down).then(-1).otherwise(1) * pl.col("true_log_or").sign()).cast(
            pl.Int64
        )
        directed = (
            calls.filter(pl.col("verdict").is_in([TRIGGER, PROTECTOR, EARLY]))
            .group_by("patient_id", "variable")
            .agg(pl.col("direction").cast(pl.Int64).alias("dirs"))
        )
        both = pl.concat([trig, prot]).with_columns(true_dir.alias("true_dir"))
        both = both.join(directed, on=["patient_id", "variable"], how="left")
        right = sum(
            d is not None and t in d
            for t, d in zip(both["true_dir"].to_list(), both["dirs"].to_list(), strict=True)
        )
        out["sensitivity (right direction of 'more')"] = _share(right, both.height)
        # called, but never in the truth's direction of "more": the row below counts
        # verdict names, so it also counts "less exercise: likely trigger" for a true
        # protector, which says the right thing
        wrong_way = sum(
            bool(d) and t not in d
            for t, d in zip(both["true_dir"].to_list(), both["dirs"].to_list(), strict=True)
        )
        out["called in the wrong direction of 'more'"] = _share(wrong_way, both.height)
    out["sensitivity, triggers"] = rate(trig, {TRIGGER})[0]
    out["sensitivity, protectors"] = rate(prot, {PROTECTOR})[0]
    out["called in the wrong direction"] = _share(
        count(trig, {PROTECTOR}) + count(prot, {TRIGGER}),
        effects,
    )
    out["premonitory pairs"] = prem.height
    out["premonitory called early sign/symptom"] = rate(prem, {EARLY, SYMPTOM})[0]
    out["premonitory called trigger/cause (wrong kind)"] = rate(prem, {TRIGGER, CAUSE})[0]
    kinds = (("cause", CAUSE, "symptom", SYMPTOM), ("symptom", SYMPTOM, "cause", CAUSE))
    for role, right, other, wrong in kinds:
        frame = nb.filter(pl.col("role") == role)
        out[f"neck/back {role} pairs"] = frame.height
        out[f"neck/back {role} called {role}"] = rate(frame, {right})[0]
        out[f"neck/back {role} called {other} (wrong kind)"] = rate(frame, {wrong})[0]
    with_ci = positive.filter(pl.col("ci_low").is_not_null() & pl.col("ci_high").is_not_null())
    excludes = with_ci.filter((pl.col("ci_low") > 1) | (pl.col("ci_high") < 1)).height
    out["displayed calls"] = positive.height
    out["displayed calls whose interval excludes 1"] = _share(excludes, positive.height)
    null_rows = calls.join(
        null.select("patient_id", "variable"), on=["patient_id", "variable"], how="semi"
    ).filter(pl.col("ci_low").is_not_null() & pl.col("ci_high").is_not_null())
    covers = null_rows.filter((pl.col("ci_low") <= 1) & (pl.col("ci_high") >= 1)).height
    out["null pairs: intervals covering OR = 1"] = _share(covers, null_rows.height)
    same_form = calls.join(
        pairs.filter(pl.col("role").is_in(["trigger", "protector", "cause"])),
        on=["patient_id", "variable"],
        suffix="_true",
    ).filter(
        (pl.col("form") == pl.col("form_true"))
        & (pl.col("lag") == pl.col("lag_true"))
        & pl.col("ci_low").is_not_null()
    )
    # a numeric form's odds ratio is shown per unit in the direction that goes with
    # more attacks ("per SD less sleep"): the truth on that scale is exp(−β) when the
    # shown direction is "less" (direction −1)
    flipped = (
        pl.col("form").is_in(["per_sd", "change"]) & (pl.col("direction") == -1)
        if "direction" in calls.columns
        else pl.lit(False)
    )
    truth_or = pl.when(flipped).then(-pl.col("true_log_or")).otherwise("true_log_or").exp()
    covered = same_form.filter((pl.col("ci_low") <= truth_or) & (pl.col("ci_high") >= truth_or))
    out["true effects in the true form: intervals covering the true OR"] = _share(
        covered.height, same_form.height
    )
    unrecorded = positive.join(
        pairs.select("patient_id", "variable"), on=["patient_id", "variable"], how="anti"
    )
    out["calls on variables not recorded"] = unrecorded.height
    effects_called = pl.concat([trig, prot]).with_columns(
        right=pl.struct("role", "verdict").map_elements(
            lambda r: (TRIGGER if r["role"] == "trigger" else PROTECTOR) in r["verdict"],
            return_dtype=pl.Boolean,
        )
    )
    out["sensitivity by form"] = _by(effects_called, "form", "right")
    out["sensitivity by variable"] = _by(effects_called, "variable", "right")
    null_called = null.with_columns(
        right=pl.col("verdict").list.len() > 0  # here: any positive verdict (a false call)
    )
    out["false calls by variable"] = _by(null_called, "variable", "right")
    return out


def _by(frame: pl.DataFrame, key: str, flag: str) -> dict[str, float]:
    """Share of rows with ``flag`` per value of ``key``."""
    if frame.height == 0:
        return {}
    rates = frame.group_by(key).agg(pl.col(flag).mean()).sort(key)
    return dict(zip(rates[key].to_list(), rates[flag].to_list(), strict=True))


def nested_markdown(results: dict[str, dict], key: str) -> str:
    """A nested rate table (e.g. "sensitivity by form") with one column per analysis."""
    names = list(results)
    rows = sorted({k for r in results.values() for k in r.get(key, {})})
    lines = [f"| {key} | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for row in rows:
        cells = [_cell(results[n].get(key, {}).get(row, math.nan)) for n in names]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.1f}" if value > 1 else f"{value:.3f}"  # a count (mean) or a rate
    return str(value)


def markdown(results: dict[str, dict]) -> str:
    """One column per scored analysis, one row per rate (nested dicts left out)."""
    names = list(results)
    keys = list(
        dict.fromkeys(k for r in results.values() for k, v in r.items() if not isinstance(v, dict))
    )
    lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(_cell(results[n].get(key)) for n in names) + " |")
    return "\n".join(lines)


def breakdown(calls: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """What :func:`score` does not break down, for a generator's runner
    (attack_painlink.py, attack_four.py): false calls by variable × form × lag (and the
    direction of "more", where the calls carry it) and by verdict, counted in call rows
    on null pairs; the null calls shown with an interval that includes 1; sensitivity
    with any positive call; premonitory pairs called "likely trigger"."""
    positive = calls.filter(pl.col("verdict").is_in(list(POSITIVE)))
    null = truth.filter(pl.col("recorded") & (pl.col("role") == "none"))
    false = positive.join(null.select("patient_id", "variable"), on=["patient_id", "variable"])
    effects = truth.filter(pl.col("recorded") & pl.col("role").is_in(["trigger", "protector"]))
    any_call = effects.join(
        positive.select("patient_id", "variable").unique(),
        on=["patient_id", "variable"],
        how="semi",
    )
    prem = truth.filter(pl.col("recorded") & (pl.col("role") == "premonitory"))
    prem_trig = prem.join(
        positive.filter(pl.col("verdict") == TRIGGER).select("patient_id", "variable"),
        on=["patient_id", "variable"],
        how="semi",
    )

    def counts(frame: pl.DataFrame, *keys: str) -> dict[str, int]:
        if frame.height == 0:
            return {}
        grouped = frame.group_by(*keys).len().sort("len", descending=True)
        return {" ".join(str(r[k]) for k in keys): r["len"] for r in grouped.iter_rows(named=True)}

    out = {
        "sensitivity (any positive call)": _share(any_call.height, effects.height),
        "premonitory called likely trigger": _share(prem_trig.height, prem.height),
        "false call rows by variable form lag": counts(false, "variable", "form", "lag"),
        "false call rows by verdict": counts(false, "verdict"),
        "false call rows whose interval includes 1": false.filter(
            (pl.col("ci_low") <= 1) & (pl.col("ci_high") >= 1)
        ).height,
        "false call rows": false.height,
    }
    if "direction" in false.columns:
        out["false call rows by variable form lag direction"] = counts(
            false, "variable", "form", "lag", "direction"
        )
    return out


def mean_span(rows: list[dict], key: str) -> str:
    """``key``'s mean over ``rows`` (seeds) with its range: "0.042 (0.041–0.043)"."""
    values: list[float] = [
        float(v) for r in rows if isinstance(v := r.get(key), (int, float)) and not math.isnan(v)
    ]
    if not values:
        return "–"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.3f}"
    return f"{mean:.3f} ({min(values):.3f}–{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description="Score calls against a simulator's truth.")
    parser.add_argument("--calls", required=True, help="calls CSV (see the module docstring)")
    parser.add_argument("--truth", required=True, help="truth.csv of the independent simulator")
    args = parser.parse_args()
    calls = pl.read_csv(args.calls, infer_schema_length=None)
    truth = pl.read_csv(args.truth, infer_schema_length=None, schema_overrides={"lag": pl.String})
    result = score(calls, truth)
    print(markdown({args.calls: result}))
    for key in NESTED:
        print("\n" + nested_markdown({args.calls: result}, key))


if __name__ == "__main__":
    main()
