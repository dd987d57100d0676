"""Red flags that need a doctor today (``Urgency.urgent``).

Data only: each rule's check and thresholds are in :mod:`painlink.rules.red_flag_checks`;
:mod:`painlink.rules.red_flags` joins the levels, most urgent first, and names the
sources in full.
"""

from __future__ import annotations

from painlink.rules.red_flag_checks import (
    ACOG,
    CANCER_2005,
    CG150,
    NG133,
    NG232,
    SNNOOP,
    SPINE,
    RedFlag,
    Urgency,
    abrupt,
    all_of,
    any_of,
    crisis,
    gca,
    new_or_changed,
    pregnant,
    signs,
    spine_fracture,
    transient_deficit,
    yes,
)

URGENT_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "pregnancy",
        "Headache in pregnancy or in the 6 weeks after giving birth",
        Urgency.urgent,
        ("pre-eclampsia", "cerebral venous thrombosis", "pituitary apoplexy"),
        "A headache in pregnancy or after birth needs a doctor or midwife today; measure "
        "your blood pressure if you can.",
        ("pregnant_or_postpartum", "weeks_since_birth"),
        lambda p, s: pregnant(p),
        f"{SNNOOP}, P; {NG133}",
        "SNNOOP10: '(11) pregnancy or puerperium'. NICE NG133 advises pregnant women to "
        "seek immediate advice for 'severe headache' [paraphrase].",
    ),
    RedFlag(
        "older_onset_gca",
        "New headache at an older age with jaw pain on chewing, scalp tenderness or vision change",
        Urgency.urgent,
        ("giant cell arteritis",),
        "This combination needs a doctor today to protect your sight.",
        (
            "headache_onset_age",
            "new_headache",
            "age",
            "jaw_claudication",
            "scalp_tenderness",
            "visual_disturbance",
        ),
        gca,
        f"{SNNOOP}, O; {CG150} 1.1.1",
        "SNNOOP10: '(5) older age (onset after 65 years)' (after 50 in an earlier version). "
        "NICE CG150 1.1.1: 'symptoms suggestive of giant cell arteritis'.",
    ),
    RedFlag(
        "papilloedema",
        "Swelling of the optic disc, or brief greying-out of vision",
        Urgency.urgent,
        (
            "raised intracranial pressure",
            "tumour",
            "idiopathic intracranial hypertension",
            "venous thrombosis",
        ),
        "Signs of raised pressure in the head need a doctor today.",
        ("papilloedema", "transient_visual_obscurations"),
        lambda p, s: yes(p, "papilloedema", "transient_visual_obscurations"),
        f"{SNNOOP}, P",
        "SNNOOP10: '(9) papilledema'.",
    ),
    RedFlag(
        "cancer_or_immunosuppression",
        "New, changed or worsening headache with a history of cancer, HIV or immunosuppression",
        Urgency.urgent,
        ("metastasis", "opportunistic infection", "lymphoma"),
        "A new or worsening headache with this history needs a doctor today.",
        (
            "new_headache",
            "pattern_change",
            "progressive",
            "history_cancer",
            "history_immunosuppression",
        ),
        lambda p, s: all_of(
            yes(p, "new_headache", "pattern_change", "progressive"),
            yes(p, "history_cancer", "history_immunosuppression"),
        ),
        f"{SNNOOP}, N and P (immune system); {CG150} 1.1.2; {CANCER_2005}",
        "SNNOOP10: '(2) neoplasm history', '(10) progressive headache', '(14) pathology of "
        "the immune system such as HIV'. NICE CG150 1.1.2: 'new-onset headache and ... "
        "compromised immunity, caused, for example, by HIV or immunosuppressive drugs'. "
        "NICE 2005: 'Refer urgently patients previously diagnosed with any cancer who "
        "develop ... persistent headaches'.",
    ),
    RedFlag(
        "anticoagulated_new_headache",
        "New or changed headache while taking blood thinners",
        Urgency.urgent,
        ("intracranial bleeding (subdural, intracerebral)",),
        "A new or different headache on blood thinners needs a doctor today.",
        ("new_headache", "pattern_change", "worst_ever", "anticoagulants"),
        lambda p, s: all_of(
            yes(p, "new_headache", "pattern_change", "worst_ever"), yes(p, "anticoagulants")
        ),
        NG232,
        "QS74 statement 2 rationale: people taking anticoagulants 'have an increased risk of "
        "bleeding'; painlink applies that raised risk to a new headache without injury "
        "(painlink proposal, needs clinical sign-off).",
    ),
    RedFlag(
        "abrupt_onset",
        "Headache reaching its worst within 1 to 5 minutes",
        Urgency.urgent,
        ("subarachnoid haemorrhage", "other vascular causes"),
        "A headache that became severe within a few minutes needs a doctor today; if it is "
        "the worst ever, call emergency services.",
        ("onset_to_peak_min",),
        abrupt,
        f"{CG150} 1.1.1; {SNNOOP}, O",
        "NICE CG150 1.1.1: 'sudden-onset headache reaching maximum intensity within 5 minutes'.",
    ),
    RedFlag(
        "worst_ever",
        "The worst headache of your life",
        Urgency.urgent,
        ("subarachnoid haemorrhage", "other secondary headache"),
        "The worst headache of your life needs a doctor today; if it came on suddenly, call "
        "emergency services.",
        ("worst_ever",),
        lambda p, s: yes(p, "worst_ever"),
        f"{SNNOOP}, P (atypical presentations); {ACOG} Box 3",
        "SNNOOP10: '(10) progressive headache and atypical presentations'. ACOG PB 222 "
        "names a severe headache ('the worst headache I've ever had') among the cerebral "
        "features [paraphrase of the severe-features text].",
    ),
    RedFlag(
        "transient_deficit",
        "Numbness, speech or vision trouble that lasted an hour or less and has gone, "
        "not known to be the usual pattern",
        Urgency.urgent,
        ("migraine aura", "transient ischaemic attack"),
        "Symptoms like these that have gone still need a doctor today the first time, to tell "
        "migraine aura from a mini-stroke.",
        (
            "neuro_deficit",
            "deficit_still_present",
            "deficit_minutes",
            "motor_weakness",
            "new_headache",
            "pattern_change",
        ),
        transient_deficit,
        "ICHD-3 1.2.1 C–D",
        "ICHD-3 1.2.1 C: 'each individual aura symptom lasts 5-60 min'; D: 'transient "
        "ischaemic attack has been excluded'.",
    ),
    RedFlag(
        "severe_hypertension",
        "Blood pressure 180/120 or more with the headache",
        Urgency.urgent,
        ("hypertensive crisis", "hypertensive encephalopathy"),
        "A blood pressure this high with a headache needs a doctor today; call emergency "
        "services if you are confused, have chest pain or vision loss.",
        ("systolic_bp", "diastolic_bp"),
        crisis,
        "ICHD-3 10.3",
        "ICHD-3 10.3 (headache attributed to arterial hypertension): hypertension 'with "
        "systolic pressure ≥180 mmHg and/or diastolic pressure ≥120 mmHg'.",
    ),
    RedFlag(
        "valsalva",
        "Headache brought on by coughing, sneezing, straining or exercise",
        Urgency.urgent,
        ("posterior fossa lesion", "Chiari malformation", "bleeding or dissection with exertion"),
        "Headache set off by coughing, straining or exertion needs a doctor today the first time.",
        ("precipitated_by_valsalva",),
        lambda p, s: yes(p, "precipitated_by_valsalva"),
        f"{SNNOOP}, P; {CG150} 1.1.1",
        "SNNOOP10: '(8) precipitated by sneezing, coughing, or exercise'. NICE CG150 1.1.1: "
        "'headache triggered by cough, valsalva ... or sneeze', 'headache triggered by "
        "exercise'.",
    ),
    RedFlag(
        "positional",
        "Headache that changes with lying down or standing up",
        Urgency.urgent,
        ("raised or low pressure in the head (CSF leak)",),
        "A new headache that depends on posture needs a doctor today.",
        ("positional",),
        lambda p, s: yes(p, "positional"),
        f"{SNNOOP}, P; {CG150} 1.1.1",
        "SNNOOP10: '(7) positional headache'. NICE CG150 1.1.1: 'orthostatic headache "
        "(headache that changes with posture)'.",
    ),
    RedFlag(
        "low_csf_pressure",
        "Headache worse when upright, better lying down",
        Urgency.urgent,
        ("low pressure in the head (spinal CSF leak)",),
        "A headache that comes on when you sit or stand up and eases lying down needs a "
        "doctor today.",
        ("worse_upright",),
        lambda p, s: yes(p, "worse_upright"),
        f"{SNNOOP}, P; ICHD-3 7.2",
        "SNNOOP10: '(7) positional headache'. ICHD-3 7.2 (low CSF pressure): the headache "
        "is 'usually but not invariably orthostatic' [paraphrase].",
    ),
    RedFlag(
        "raised_pressure",
        "Headache worse lying down or straining, or waking you with vomiting",
        Urgency.urgent,
        ("raised pressure in the head", "tumour", "idiopathic intracranial hypertension"),
        "A headache worse lying down or on straining, or one that wakes you and makes you "
        "sick, needs a doctor today.",
        ("worse_lying_or_straining", "wakes_from_sleep", "vomiting"),
        lambda p, s: any_of(
            yes(p, "worse_lying_or_straining"),
            all_of(
                yes(
                    p,
                    "wakes_from_sleep",
                ),
                yes(p, "vomiting"),
            ),
        ),
        f"{SNNOOP}, P; {CANCER_2005}",
        "SNNOOP10: '(7) positional headache'. NICE 2005: 'headaches of recent onset "
        "accompanied by features suggestive of raised intracranial pressure, for example: "
        "vomiting, drowsiness, posture-related headache'.",
    ),
    RedFlag(
        "new_headache_vomiting",
        "New or changed headache with vomiting",
        Urgency.urgent,
        ("raised pressure in the head", "intracranial lesion"),
        "A new headache with vomiting needs a doctor today.",
        ("new_headache", "pattern_change", "vomiting"),
        lambda p, s: all_of(new_or_changed(p), yes(p, "vomiting")),
        f"{CG150} 1.1.2; {CANCER_2005}",
        "NICE CG150 1.1.2: 'Consider further investigations and/or referral for people who "
        "present with new-onset headache and any of the following: ... vomiting without "
        "other obvious cause'.",
    ),
    RedFlag(
        "systemic",
        "Fever, weight loss or night sweats with the headache",
        Urgency.urgent,
        ("infection", "systemic disease"),
        "Headache with fever or unexplained weight loss needs a doctor today.",
        ("fever", "weight_loss", "night_sweats", "fever_or_meningism"),
        lambda p, s: any_of(signs(p, "fever"), yes(p, "weight_loss", "night_sweats")),
        f"{SNNOOP}, S",
        "SNNOOP10: '(1) systemic symptoms including fever'.",
    ),
    RedFlag(
        "fever_or_meningism_combined",
        "Fever, stiff neck, rash or confusion (one earlier combined answer)",
        Urgency.urgent,
        ("infection", "meningitis"),
        "An earlier answer said yes to fever, stiff neck, rash or confusion without saying "
        "which: a doctor must check this today.",
        ("fever_or_meningism",),
        lambda p, s: yes(p, "fever_or_meningism"),
        f"{SNNOOP}, S",
        "SNNOOP10: '(1) systemic symptoms including fever'.",
    ),
    RedFlag(
        "spine_fracture",
        "Back or neck pain after significant trauma, or minor trauma with "
        "osteoporosis or long-term steroids",
        Urgency.urgent,
        ("vertebral fracture",),
        "Spinal pain after a fall or injury needs a doctor today.",
        ("spinal_trauma", "minor_spinal_trauma", "osteoporosis", "long_term_steroids"),
        spine_fracture,
        SPINE,
        "Finucane 2020: for fracture, a history of significant trauma, or of minor trauma in "
        "someone with osteoporosis or on prolonged corticosteroids, raises suspicion "
        "[paraphrase: source text not retrieved verbatim].",
    ),
    RedFlag(
        "spine_malignancy",
        "Spinal pain with a history of cancer, unexplained weight loss "
        "or pain at night that does not ease",
        Urgency.urgent,
        ("spinal metastasis",),
        "Spinal pain with this history needs a doctor soon — today if it is getting worse.",
        ("spinal_pain", "history_cancer", "weight_loss", "night_pain"),
        lambda p, s: all_of(
            yes(p, "spinal_pain"), yes(p, "history_cancer", "weight_loss", "night_pain")
        ),
        SPINE,
        "Finucane 2020: a past history of cancer is the strongest risk factor for spinal "
        "malignancy [paraphrase: source text not retrieved verbatim].",
    ),
    RedFlag(
        "spine_infection",
        "Spinal pain with fever, injected drug use or immunosuppression",
        Urgency.urgent,
        ("spinal infection (discitis, epidural abscess)",),
        "Spinal pain with fever or this history needs a doctor today.",
        ("spinal_pain", "fever", "iv_drug_use", "history_immunosuppression"),
        lambda p, s: all_of(
            yes(p, "spinal_pain"), yes(p, "fever", "iv_drug_use", "history_immunosuppression")
        ),
        SPINE,
        "Finucane 2020: fever, intravenous drug use and immunosuppression raise suspicion of "
        "spinal infection [paraphrase: source text not retrieved verbatim].",
    ),
)
