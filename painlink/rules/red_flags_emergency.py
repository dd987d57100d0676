"""Red flags that call for emergency services now (``Urgency.emergency``).

Data only: each rule's check and thresholds are in :mod:`painlink.rules.red_flag_checks`;
:mod:`painlink.rules.red_flags` joins the levels, most urgent first, and names the
sources in full.
"""

from __future__ import annotations

from painlink.rules.red_flag_checks import (
    ACOG,
    CAD,
    CG150,
    NG133,
    NG232,
    SNNOOP,
    SPINE,
    RedFlag,
    Urgency,
    all_of,
    deficit_emergency,
    dissection,
    pre_eclampsia,
    signs,
    thunderclap,
    yes,
)

EMERGENCY_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "thunderclap",
        "Sudden (thunderclap) onset: worst pain within a minute",
        Urgency.emergency,
        (
            "subarachnoid haemorrhage",
            "other bleeding or vascular causes (RCVS, dissection, venous thrombosis)",
        ),
        "A headache that reaches full strength within a minute needs emergency care.",
        ("thunderclap", "onset_to_peak_min"),
        thunderclap,
        f"{SNNOOP}, O; ICHD-3 4.4",
        "SNNOOP10: '(4) sudden or abrupt onset'. ICHD-3 4.4 B: 'Abrupt onset, reaching "
        "maximum intensity in <1 minute'.",
    ),
    RedFlag(
        "fever_meningism",
        "Fever with neck stiffness, rash or confusion",
        Urgency.emergency,
        ("meningitis", "encephalitis"),
        "Headache with fever and a stiff neck, rash or confusion needs emergency care.",
        ("fever", "neck_stiffness", "rash", "confusion", "fever_or_meningism"),
        lambda p, s: all_of(signs(p, "fever"), signs(p, "neck_stiffness", "rash", "confusion")),
        f"{SNNOOP}, S; {CG150} 1.1.1",
        "SNNOOP10: '(1) systemic symptoms including fever'. NICE CG150 1.1.1: 'worsening "
        "headache with fever'.",
    ),
    RedFlag(
        "neuro_deficit",
        "Weakness, or numbness, speech or vision loss still present or lasting over an hour; "
        "confusion, reduced consciousness or a seizure",
        Urgency.emergency,
        ("stroke", "transient ischaemic attack", "haemorrhage", "encephalitis", "tumour"),
        "New weakness, or numbness, speech or vision trouble that has not gone or lasted more "
        "than an hour, confusion or a fit need emergency care. If you are not sure how long "
        "it lasted, treat it as an emergency.",
        (
            "neuro_deficit",
            "deficit_still_present",
            "deficit_minutes",
            "motor_weakness",
            "decreased_consciousness",
            "seizure",
            "confusion",
            "fever_or_meningism",
        ),
        deficit_emergency,
        f"{SNNOOP}, N; ICHD-3 1.2.1; {CG150} 1.1.1",
        "SNNOOP10: '(3) neurologic deficit (including decreased consciousness)'. ICHD-3 "
        "1.2.1: aura has 'no motor, brainstem or retinal symptoms', 'each individual aura "
        "symptom lasts 5-60 min', and D: 'transient ischaemic attack has been excluded'. "
        "NICE CG150 1.1.1: 'new-onset cognitive dysfunction', 'impaired level of "
        "consciousness'.",
    ),
    RedFlag(
        "head_injury",
        "Headache after a head injury",
        Urgency.emergency,
        ("subdural or other intracranial bleeding",),
        "Headache after a head injury — above all on blood thinners — needs emergency care.",
        ("after_head_trauma",),
        lambda p, s: yes(p, "after_head_trauma"),
        f"{SNNOOP}, P (post-traumatic); {CG150} 1.1.1",
        "SNNOOP10: '(13) posttraumatic onset of headache'. NICE CG150 1.1.1: 'recent "
        "(typically within the past 3 months) head trauma'.",
    ),
    RedFlag(
        "head_injury_anticoagulated",
        "Head injury while taking blood thinners (anticoagulants or antiplatelets)",
        Urgency.emergency,
        ("intracranial bleeding",),
        "A head injury on blood thinners needs a brain scan within hours, even if you feel "
        "well: call emergency services.",
        ("after_head_trauma", "anticoagulants"),
        lambda p, s: all_of(yes(p, "after_head_trauma"), yes(p, "anticoagulants")),
        NG232,
        "QS74 statement 2: 'People attending an emergency department with a head injury "
        "have a CT head scan within 8 hours of the injury if they are taking anticoagulants "
        "but have no other risk factors for brain injury.' Rationale: 'Some people who have "
        "no other risk factors for brain injury have an increased risk of bleeding after a "
        "head injury because they are taking anticoagulants.'",
    ),
    RedFlag(
        "painful_red_eye",
        "Painful red eye, or eye pain with watering/drooping and vision change",
        Urgency.emergency,
        ("acute angle-closure glaucoma", "cavernous sinus or pituitary disease"),
        "A painful red eye with blurred vision or halos needs emergency care.",
        ("painful_eye_autonomic",),
        lambda p, s: yes(p, "painful_eye_autonomic"),
        f"{SNNOOP}, P (painful eye with autonomic features)",
        "SNNOOP10: '(12) painful eye with autonomic features'. NICE CG150 1.1.1: 'symptoms "
        "and signs of acute narrow-angle glaucoma'.",
    ),
    RedFlag(
        "cervical_artery_dissection",
        "After neck manipulation or neck injury: new neck pain or headache with dizziness, "
        "double vision, speech or swallowing trouble, unsteadiness or numbness",
        Urgency.emergency,
        ("cervical artery dissection", "stroke"),
        "These symptoms after neck treatment or injury need emergency care. "
        "Do not have further neck manipulation.",
        (
            "recent_neck_manipulation",
            "neck_trauma",
            "new_neck_pain",
            "new_headache",
            "dizziness",
            "diplopia",
            "dysarthria",
            "dysphagia",
            "ataxia",
            "drop_attack",
            "nystagmus",
            "facial_numbness",
        ),
        dissection,
        CAD,
        "Rushton 2023: the '5 Ds and 3 Ns' (dizziness, diplopia, dysarthria, dysphagia, drop "
        "attacks; ataxia, nystagmus, nausea, numbness) after trauma or manipulation point to "
        "cervical arterial dysfunction [paraphrase: source text not retrieved verbatim].",
    ),
    RedFlag(
        "cauda_equina",
        "Back pain with numbness in the saddle area, bladder or bowel change, "
        "or weakness in both legs",
        Urgency.emergency,
        ("cauda equina syndrome",),
        "Numbness around the genitals or bottom, new bladder or bowel trouble, or weak legs "
        "with back pain need emergency care.",
        ("saddle_anaesthesia", "bladder_bowel_dysfunction", "bilateral_leg_weakness"),
        lambda p, s: yes(
            p, "saddle_anaesthesia", "bladder_bowel_dysfunction", "bilateral_leg_weakness"
        ),
        SPINE,
        "Finucane 2020: saddle anaesthesia, bladder or bowel disturbance and bilateral leg "
        "neurological symptoms are the signs of cauda equina syndrome, an emergency "
        "[paraphrase: source text not retrieved verbatim].",
    ),
    RedFlag(
        "pre_eclampsia",
        "In pregnancy or up to 6 weeks after birth: blood pressure 160/110 or more, new "
        "140/90 or more, vision change, pain below the right ribs, a fit, confusion or the "
        "worst headache ever",
        Urgency.emergency,
        ("pre-eclampsia with severe features", "eclampsia", "cerebral venous thrombosis"),
        "Headache in pregnancy or after birth with high blood pressure, vision change, pain "
        "below the ribs, a fit or confusion needs emergency care now.",
        (
            "pregnant_or_postpartum",
            "weeks_since_birth",
            "systolic_bp",
            "diastolic_bp",
            "hypertension_before_pregnancy",
            "visual_disturbance",
            "ruq_epigastric_pain",
            "seizure",
            "confusion",
            "worst_ever",
            "fever_or_meningism",
        ),
        pre_eclampsia,
        f"{ACOG} Boxes 2–3; {NG133}; {SNNOOP}, P",
        "ACOG PB 222 Box 3 (severe features): 'Systolic blood pressure of 160 mm Hg or "
        "more, or diastolic blood pressure of 110 mm Hg or more'; 'New-onset headache "
        "unresponsive to medication'; 'Visual disturbances'; 'severe persistent right upper "
        "quadrant or epigastric pain'. Box 2: 'Systolic blood pressure of 140 mm Hg or more "
        "or diastolic blood pressure of 90 mm Hg or more ... in a woman with a previously "
        "normal blood pressure'. NICE NG133: severe hypertension is 'blood pressure of "
        "160/110 mmHg or more'.",
    ),
)
