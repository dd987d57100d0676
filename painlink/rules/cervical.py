"""Cervical examination thresholds, each with its source.

- Flexion–rotation test (FRT): rotation in full flexion; positive at ≤32° to a side
  (Hall, Briffa, Hopper, J Man Manip Ther 2010;18:126–31: cut-off 32°, sensitivity 75%,
  specificity 92%; Hall et al., J Headache Pain 2010;11:391–7: ROC cut-off 30°).
  A positive FRT supports an upper-cervical movement impairment; it does not
  establish ICHD-3 11.2.1 cervicogenic headache.
- Measurement error: Weir JP, J Strength Cond Res 2005;19:231–40 (ICC forms, SEM,
  MDC); ICC(2,1) after Shrout & Fleiss, Psychol Bull 1979;86:420–8.
- ICHD-3 11.2.1 cervicogenic headache criteria: ICHD-3 (2018); only clinician-documented
  evidence counts (clinical-standards.md §1, §5.5).
"""

from __future__ import annotations

FRT_POSITIVE_MAX_DEG = 32.0
#: the FRT measures rotation from 0° (none) to 90° (a quarter turn, beyond the ~44° of
#: normal FRT rotation, Hall 2010): a value outside it is a typing error
FRT_RANGE_DEG = (0.0, 90.0)
FRT_MEASURES = ("frt_left_deg", "frt_right_deg")
FRT_SIDE_DIFFERENCE_DEG: float | None = None  # a "≥10° side difference" rule is unverified; off
MDC_Z = 1.96  # 95% confidence for the minimal detectable change

#: clinician-documented evidence items for ICHD-3 11.2.1, with the criterion each supports
CERVICOGENIC_ITEMS: dict[str, tuple[str, str]] = {
    "cervical_lesion": (
        "B",
        "clinical and/or imaging evidence of a cervical disorder or lesion "
        "known to be able to cause headache",
    ),
    "temporal_relation": (
        "C1",
        "headache developed in temporal relation to the onset of the cervical disorder",
    ),
    "parallel_improvement": (
        "C2",
        "headache improved or resolved in parallel with the cervical disorder",
    ),
    "reduced_rom_provocation": (
        "C3",
        "cervical range of motion reduced and headache made "
        "significantly worse by provocative manoeuvres",
    ),
    "diagnostic_block": (
        "C4",
        "headache abolished by diagnostic blockade of a cervical structure or its nerve supply",
    ),
}
CERVICOGENIC_C_NEEDED = 2
