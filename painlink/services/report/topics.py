"""Page 1's "topics worth discussing": rules over the numbers page 1 already shows,
each threshold in :mod:`painlink.rules.report` (or ICHD-3's own, in
:class:`~painlink.rules.ichd3.Ichd3Rules`) with its source there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from painlink.rules import report as rules

if TYPE_CHECKING:
    from painlink.services.report.model import FirstPage


def topics(page: FirstPage) -> list[str]:
    """What is worth discussing, from the data and the thresholds in
    :mod:`painlink.rules.report`: open red flags first, then overuse, chronic range,
    responses and the diary's completeness."""
    out = []
    for f in page.red_flags:
        out.append(
            f"Open red flag: {f['name']} ({f['urgency']}) — may point to {f['may_point_to']}."
        )
    single_over = any(o.over for o in page.overuse if o.code != "8.2.6")
    for o in page.overuse:
        if o.code == "8.2.6" and single_over:
            continue  # 8.2.6 applies only when no single class is overused
        if o.over:
            out.append(
                f"Acute medication ({o.label}) on {o.latest} days in the last 30 — at or above "
                f"the ICHD-3 {o.code} limit of {o.limit} days/month."
            )
        elif o.near:
            out.append(
                f"Acute medication ({o.label}) on {o.latest} days in the last 30 — close to "
                f"the ICHD-3 {o.code} limit of {o.limit} days/month."
            )
    if page.months:
        last = page.months[-1]
        if last.headache >= rules.CHRONIC_HEADACHE_DAYS:
            out.append(
                f"Headache on {last.headache:.0f} days per 28 in the last month — in the "
                f"chronic range (≥{rules.CHRONIC_HEADACHE_DAYS}, ICHD-3 1.3)."
            )
    for t in page.treatments:
        if t.get("responder_50"):
            out.append(
                f"{t['treatment']}: at least 50% fewer migraine days than before it "
                f"(about {100 * rules.PLACEBO_RESPONDERS:.1f}% of trial patients on placebo "
                "reach this)."
            )
        if t.get("rtm_warning"):
            out.append(
                f"{t['treatment']} began during a bad spell: part of any improvement may be "
                "regression to the mean."
            )
    for q in page.questionnaires:
        change = q.get("change") or ""
        if "reaches" in change and q.get("before") is not None:
            worse = q["now"] > q["before"]  # all four instruments: higher is more disability
            out.append(
                f"{q['name']} {'rose' if worse else 'fell'} from {q['before']:g} to "
                f"{q['now']:g} ({'worse' if worse else 'better'}): {change}."
            )
    if page.days_in_period < rules.MIN_BASELINE_DAYS:
        out.append(
            f"Only {page.days_in_period} day{'s' if page.days_in_period != 1 else ''} of "
            f"diary: shorter than the {rules.MIN_BASELINE_DAYS} "
            "days a monthly rate or a treatment baseline needs; the rates are rough estimates."
        )
    if page.completeness < rules.LOW_COMPLETENESS:
        out.append(
            f"The diary covers {page.completeness:.0%} of the days in the period: counts may "
            "be too low; days without an entry are not headache-free days."
        )
    return out
