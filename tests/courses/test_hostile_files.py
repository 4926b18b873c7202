"""Course directories that try to make coursegate read what it should not, or too much.

Links out of the course, devices, FIFOs, huge and sparse files, loops, too many entries and
JSON nested too deeply are each refused with an error naming the file; nothing hangs, nothing
is read whole, no traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from coursegate.courses.loader import find_course_files, load_course, read_json
from coursegate.courses.problems import CourseError, Problem
from coursegate.courses.reading import (
    FILE_BYTES_ENV,
    FILES_ENV,
    Limits,
    nesting_problem,
    parse_json,
    read_bytes,
)
from coursegate.services.access.decisions.request import decide, parse_request

CI_UUID = "0c4f5a0e-8d7b-4a53-9b1e-2f6a3c9d8e01"
HW_UUID = "0c4f5a0e-8d7b-4a53-9b1e-2f6a3c9d8e02"
HW2_UUID = "0c4f5a0e-8d7b-4a53-9b1e-2f6a3c9d8e03"
GOOD = {
    "uuid": HW_UUID,
    "title": "HW1",
    "set": "Homework",
    "accessControl": [{"dateControl": {"release": {"date": "2024-03-01T00:00:00"}}}],
}
HW1 = "courseInstances/Sp24/assessments/hw/hw1/infoAssessment.json"
needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and FIFOs")


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def good_course(root: Path) -> Path:
    write(root / "infoCourse.json", {"name": "T 101", "title": "T", "timezone": "UTC"})
    write(root / "courseInstances/Sp24/infoCourseInstance.json", {"uuid": CI_UUID})
    write(root / HW1, GOOD)
    return root


def errors_for(root: Path, **limits: int) -> list[Problem]:
    return load_course(root, **limits).errors


def only_error(root: Path, **limits: int) -> Problem:
    errs = errors_for(root, **limits)
    assert len(errs) == 1, errs
    return errs[0]


def test_the_good_course_is_clean(tmp_path: Path) -> None:
    loaded = load_course(good_course(tmp_path / "c"))
    assert loaded.problems == []
    assert list(loaded.instances["Sp24"].assessments) == ["hw/hw1"]


# --------------------------------------------------------------------------- links and kinds


@needs_posix
def test_a_link_to_a_file_outside_is_refused(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    outside = write(tmp_path / "elsewhere.json", GOOD)
    hw1 = root / HW1
    hw1.unlink()
    hw1.symlink_to(outside)
    p = only_error(root)
    assert p.file == str(root / HW1) and "outside the course directory" in p.message
    assert str(outside) not in p.message  # the target is not shown
    assert "hw/hw1" in load_course(root).instances["Sp24"].broken


@needs_posix
def test_a_link_inside_the_course_to_a_file_inside_is_followed(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    shared = write(root / "shared/hw1.json", GOOD)
    hw1 = root / HW1
    hw1.unlink()
    hw1.symlink_to(os.path.relpath(shared, hw1.parent))
    loaded = load_course(root)
    assert loaded.errors == []
    assert "hw/hw1" in loaded.instances["Sp24"].assessments


@needs_posix
def test_a_link_to_a_folder_outside_is_refused(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    write(tmp_path / "outside/hw9/infoAssessment.json", {**GOOD, "uuid": HW2_UUID})
    link = root / "courseInstances/Sp24/assessments/ext"
    link.symlink_to(tmp_path / "outside", target_is_directory=True)
    p = only_error(root)
    assert p.file == str(link) and "folder outside the course directory" in p.message
    assert list(load_course(root).instances["Sp24"].assessment_files) == ["hw/hw1"]


@needs_posix
def test_course_instances_as_a_link_outside_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "c"
    good_course(tmp_path / "real")
    root.mkdir()
    write(root / "infoCourse.json", {"title": "T"})
    (root / "courseInstances").symlink_to(tmp_path / "real/courseInstances")
    p = only_error(root)
    assert p.file == str(root / "courseInstances") and "outside" in p.message
    assert load_course(root).instances == {}


@needs_posix
def test_the_course_directory_itself_may_be_a_link(tmp_path: Path) -> None:
    real = good_course(tmp_path / "real")
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    assert load_course(tmp_path / "alias").errors == []


@needs_posix
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_link_to_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    hw1 = root / HW1
    hw1.unlink()
    hw1.symlink_to("/dev/zero")
    p = only_error(root)
    assert p.file == str(hw1) and "outside the course directory" in p.message
    # Without a course directory to stay inside, a device is still never read.
    _, (q,) = read_json(Path("/dev/zero"), "zero")
    assert "a device, not a regular file" in q.message


@needs_posix
def test_infocourse_as_a_link_to_a_device_is_refused_not_taken_as_missing(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    (root / "infoCourse.json").unlink()
    (root / "infoCourse.json").symlink_to("/dev/null")
    p = only_error(root)
    assert p.file == str(root / "infoCourse.json") and "outside" in p.message


@needs_posix
def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    hw1 = root / HW1
    hw1.unlink()
    os.mkfifo(hw1)  # opening it for reading would block for ever
    p = only_error(root)
    assert p.file == str(hw1) and "a FIFO (named pipe), not a regular file" in p.message


def test_a_folder_named_like_a_course_file_is_refused(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    (root / HW1).unlink()
    (root / HW1).mkdir()
    p = only_error(root)
    assert p.file == str(root / HW1) and "a directory, not a regular file" in p.message


@needs_posix
def test_a_broken_link_is_an_error(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    hw1 = root / HW1
    hw1.unlink()
    hw1.symlink_to("nowhere.json")
    p = only_error(root)
    assert p.file == str(hw1) and "link to nothing" in p.message


# ------------------------------------------------------------------------------------ loops


@needs_posix
def test_a_folder_link_looping_back_is_refused_and_the_walk_ends(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    loop = root / "courseInstances/Sp24/assessments/hw/again"
    loop.symlink_to("..", target_is_directory=True)  # .../assessments/hw/again -> assessments
    p = only_error(root)
    assert p.file == str(loop) and "again" in p.message and "loop" in p.message


@needs_posix
def test_a_link_to_a_folder_inside_that_is_not_walked_otherwise_is_followed(
    tmp_path: Path,
) -> None:
    root = good_course(tmp_path / "c")
    write(root / "library/quiz/infoAssessment.json", {**GOOD, "uuid": HW2_UUID, "title": "Q"})
    (root / "courseInstances/Sp24/assessments/lib").symlink_to(
        root / "library", target_is_directory=True
    )
    loaded = load_course(root)
    assert loaded.errors == []
    assert set(loaded.instances["Sp24"].assessments) == {"hw/hw1", "lib/quiz"}


# ------------------------------------------------------------------------------------- sizes


def test_a_huge_sparse_file_is_refused_from_its_size(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    with (root / HW1).open("r+b") as f:
        f.truncate(3 * 1024**3)  # 3 GiB, sparse: nothing is written, and nothing may be read
    p = only_error(root)
    assert p.file == str(root / HW1) and "too large" in p.message
    assert "3,221,225,472 bytes" in p.message and "1,048,576" in p.message


def test_the_size_limit_is_a_parameter_and_an_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = good_course(tmp_path / "c")
    size = (root / HW1).stat().st_size
    assert "too large" in only_error(root, max_file_bytes=size - 1).message
    assert errors_for(root, max_file_bytes=size) == []
    monkeypatch.setenv(FILE_BYTES_ENV, str(size - 1))
    errs = errors_for(root)
    assert any(p.file == str(root / HW1) and FILE_BYTES_ENV in p.message for p in errs)
    assert errors_for(root, max_file_bytes=10_000) == []  # the parameter wins
    monkeypatch.setenv(FILE_BYTES_ENV, "lots")
    with pytest.raises(CourseError) as err:
        load_course(root)
    assert err.value.problems[0].file == FILE_BYTES_ENV


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_no_more_than_the_limit_is_read_even_when_the_size_says_zero() -> None:
    # /proc files are regular files whose size says 0 but which hold text.
    data, (p,) = read_bytes(Path("/proc/self/status"), "status", Limits(max_file_bytes=16))
    assert data is None and "too large" in p.message
    data, problems = read_bytes(Path("/proc/self/status"), "status", Limits())
    assert data is not None and problems == []


def test_too_many_entries_stops_the_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = good_course(tmp_path / "c")
    for k in range(30):
        (root / f"courseInstances/Sp24/assessments/empty{k:02d}").mkdir()
    p = only_error(root, max_files=20)
    assert "more than 20 files and folders" in p.message and FILES_ENV in p.message
    assert p.file.startswith(str(root / "courseInstances"))
    assert errors_for(root, max_files=100) == []
    monkeypatch.setenv(FILES_ENV, "20")
    assert any("more than 20" in e.message for e in errors_for(root))


def test_an_assessments_own_folders_are_not_walked(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    for k in range(50):
        (root / f"courseInstances/Sp24/assessments/hw/hw1/clientFilesAssessment/f{k}").mkdir(
            parents=True
        )
    assert errors_for(root, max_files=10) == []


# --------------------------------------------------------------------------------------- JSON


def test_a_100k_deep_array_is_a_clear_error_not_a_recursion_error(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    write(root / HW1, "[" * 100_000 + "]" * 100_000)
    p = only_error(root)
    assert p.file == str(root / HW1) and p.path == "$"
    assert "nested more than 64 levels deep" in p.message and "line 1, column 65" in p.message


def test_nesting_limit_is_exact_and_ignores_brackets_in_strings() -> None:
    assert nesting_problem("[" * 64 + "]" * 64, 64) is None
    assert nesting_problem("[" * 65 + "]" * 65, 64) == (1, 65)
    assert nesting_problem('["[[[[[[", "\\"[[[[["]', 2) is None
    assert nesting_problem('{"a":\n {"b": [[1]]}}', 3) == (2, 9)
    # A 1 MiB file of backslashes and quotes is measured in linear time.
    assert nesting_problem('"' + '\\"' * 500_000, 64) is None


def test_depth_is_a_parameter(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    assert errors_for(root, max_depth=5) == []  # {accessControl: [{dateControl: {release: {}}}]}
    assert "nested more than 4 levels" in only_error(root, max_depth=4).message


def test_duplicate_keys_name_the_key_and_its_path(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    text = json.dumps(GOOD)
    text = text.replace('"title": "HW1"', '"title": "HW1", "title": "HW one"')
    text = text.replace(
        '"release": {"date": "2024-03-01T00:00:00"}',
        '"release": {"date": "2024-03-01T00:00:00", "date": "2024-03-02T00:00:00"}',
    )
    write(root / HW1, text)
    got = {(p.path, p.message.split(",")[0]) for p in errors_for(root)}
    assert got == {
        (
            "$.title",
            "the key 'title' appears more than once in this object; JSON keeps only the last one",
        ),
        (
            "$.accessControl[0].dateControl.release.date",
            "the key 'date' appears more than once in this object; JSON keeps only the last one",
        ),
    }


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"credit": NaN}', "NaN is not a JSON value"),
        ('{"credit": -Infinity}', "-Infinity is not a JSON value"),
        ('{"credit": 1e999}', "is too large"),
        ('{"credit": ' + "1" * 5000 + "}", "a number is too long to be read"),
        ("[1, 2]", "one JSON object"),
    ],
)
def test_what_python_accepts_but_json_does_not_is_refused(text: str, needle: str) -> None:
    data, problems = parse_json(text, "f.json")
    if data is not None:  # "[1, 2]" parses; the file check refuses it
        _, problems = read_json_for_text(text)
    (p,) = problems
    assert needle in p.message and p.path == "$"


def read_json_for_text(text: str) -> tuple[Any, list[Problem]]:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.json"
        path.write_text(text)
        return read_json(path, "x.json")


def test_not_utf8_is_an_error(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    (root / HW1).write_bytes(b'{"title": "\xff"}')
    assert "not UTF-8" in only_error(root).message


# ------------------------------------------------------------------------ uuids and sets


def test_a_missing_uuid_is_an_error_as_in_prairielearn(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    write(root / HW1, {k: v for k, v in GOOD.items() if k != "uuid"})
    write(root / "courseInstances/Sp24/infoCourseInstance.json", {"longName": "Spring"})
    loaded = load_course(root)
    files = {(p.file, p.path) for p in loaded.errors if "'uuid' is missing" in p.message}
    assert files == {
        (str(root / HW1), "$"),
        (str(root / "courseInstances/Sp24/infoCourseInstance.json"), "$"),
    }


@pytest.mark.parametrize("bad", ["x", "0c4f5a0e-8d7b-4a53-9b1e-2f6a3c9d8e0", 42, None, ["a"]])
def test_a_malformed_uuid_is_an_error(tmp_path: Path, bad: Any) -> None:
    root = good_course(tmp_path / "c")
    write(root / HW1, {**GOOD, "uuid": bad})
    p = only_error(root)
    assert p.file == str(root / HW1) and p.path == "$.uuid" and "is not a UUID" in p.message
    assert "hw/hw1" in load_course(root).instances["Sp24"].broken


def test_infocourse_uuid_is_optional_but_must_be_a_uuid(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    assert load_course(root).problems == []  # no uuid in infoCourse.json
    write(root / "infoCourse.json", {"title": "T", "uuid": "not-one"})
    p = only_error(root)
    assert p.file == str(root / "infoCourse.json") and p.path == "$.uuid"


def test_two_assessments_with_one_uuid_are_both_errors(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    write(root / "courseInstances/Sp24/assessments/hw/hw2/infoAssessment.json", GOOD)
    errs = errors_for(root)
    assert {(p.file.split("assessments/")[1], p.path) for p in errs} == {
        ("hw/hw1/infoAssessment.json", "$.uuid"),
        ("hw/hw2/infoAssessment.json", "$.uuid"),
    }
    assert all("also the uuid of assessment hw/hw" in p.message for p in errs)
    assert load_course(root).instances["Sp24"].assessments == {}


def test_uuids_compare_without_case(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    write(
        root / "courseInstances/Sp24/assessments/hw/hw2/infoAssessment.json",
        {**GOOD, "uuid": HW_UUID.upper()},
    )
    assert len(errors_for(root)) == 2


def test_the_same_assessment_uuid_in_two_course_instances_is_fine(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    write(root / "courseInstances/Fa24/infoCourseInstance.json", {"uuid": HW2_UUID})
    write(root / "courseInstances/Fa24/assessments/hw/hw1/infoAssessment.json", GOOD)
    assert errors_for(root) == []


def test_two_course_instances_with_one_uuid_are_both_errors(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    write(root / "courseInstances/Fa24/infoCourseInstance.json", {"uuid": CI_UUID})
    errs = errors_for(root)
    assert {p.file for p in errs} == {
        str(root / "courseInstances/Sp24/infoCourseInstance.json"),
        str(root / "courseInstances/Fa24/infoCourseInstance.json"),
    }
    assert all(p.path == "$.uuid" and "course instance" in p.message for p in errs)
    assert all(i.settings is None for i in load_course(root).instances.values())


def test_an_undefined_set_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    write(root / HW1, {**GOOD, "set": "Homwork"})
    p = only_error(root)
    assert p.path == "$.set" and "'Homwork' is not an assessment set" in p.message
    assert "did you mean 'Homework'" in p.message


@pytest.mark.parametrize("name", ["Homework", "Machine Problem", "Practice Exam", "Worksheet"])
def test_prairielearns_standard_sets_need_no_definition(tmp_path: Path, name: str) -> None:
    root = good_course(tmp_path / "c")
    write(root / HW1, {**GOOD, "set": name})
    assert errors_for(root) == []


def test_a_set_defined_in_infocourse_is_known_and_a_set_must_be_text(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    write(root / HW1, {**GOOD, "set": "Lab"})
    assert only_error(root).path == "$.set"
    write(root / "infoCourse.json", {"title": "T", "assessmentSets": [{"name": "Lab"}]})
    assert errors_for(root) == []
    write(root / HW1, {**GOOD, "set": 3})
    assert "must be the name of an assessment set" in only_error(root).message
    write(root / "infoCourse.json", {"title": "T", "assessmentSets": [{"abbreviation": "L"}]})
    write(root / HW1, GOOD)
    p = only_error(root)
    assert p.file == str(root / "infoCourse.json") and p.path == "$.assessmentSets[0]"


# ---------------------------------------------------------------------------- strict values


@pytest.mark.parametrize(
    ("rule", "path", "needle"),
    [
        ({"credit": "100"}, "$.allowAccess[0].credit", "must be a number (found '100')"),
        ({"credit": True}, "$.allowAccess[0].credit", "must be a number (found True)"),
        ({"timeLimitMin": "30"}, "$.allowAccess[0].timeLimitMin", "must be a whole number"),
        ({"timeLimitMin": 30.5}, "$.allowAccess[0].timeLimitMin", "must be a whole number"),
        ({"active": "false"}, "$.allowAccess[0].active", "must be true or false"),
        ({"active": 0}, "$.allowAccess[0].active", "must be true or false"),
        ({"uids": "a@x.edu"}, "$.allowAccess[0].uids", "must be a list"),
    ],
)
def test_values_are_not_coerced(
    tmp_path: Path, rule: dict[str, Any], path: str, needle: str
) -> None:
    root = good_course(tmp_path / "c")
    write(root / HW1, {"uuid": HW_UUID, "set": "Homework", "allowAccess": [rule]})
    p = only_error(root)
    assert p.path == path and needle in p.message, p


def test_whole_numbers_may_be_written_as_decimals_and_decimals_as_whole(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    rule = {"credit": 100, "timeLimitMin": 30.0, "startDate": "2024-03-01T00:00:00"}
    write(root / HW1, {"uuid": HW_UUID, "set": "Homework", "allowAccess": [rule, {"credit": 99.5}]})
    loaded = load_course(root)
    assert loaded.errors == []
    rules = loaded.instances["Sp24"].assessments["hw/hw1"].config.legacy_rules
    assert rules[0].time_limit_minutes == 30 and isinstance(rules[0].time_limit_minutes, int)
    assert rules[1].credit == 99.5


def test_strings_for_numbers_are_refused_in_modern_and_rfc_forms_too(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    dc = {
        "release": {"date": "2024-03-01T00:00:00"},
        "due": {"date": "2024-03-08T00:00:00", "credit": "100"},
        "durationMinutes": "60",
    }
    write(root / HW1, {**GOOD, "accessControl": [{"dateControl": dc}]})
    assert {p.path for p in errors_for(root)} == {
        "$.accessControl[0].dateControl.due.credit",
        "$.accessControl[0].dateControl.durationMinutes",
    }
    write(root / HW1, {**GOOD, "accessControl": {"published": "true", "lateCredit": "50"}})
    assert {p.path for p in errors_for(root)} == {
        "$.accessControl.published",
        "$.accessControl.lateCredit",
    }


# ------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("date", "needle"),
    [
        ("2024-03-01T00:00:00+99:00", "UTC offset +99:00"),
        ("2024-03-01T00:00:00+14:30", "UTC offset +14:30"),
        ("2024-03-01T00:00:00-0960", "UTC offset -0960"),
        ("0001-01-01T00:00:00+01:00", "ends of the calendar"),
        ("9999-12-31T23:59:59", "ends of the calendar"),
    ],
)
def test_impossible_offsets_and_calendar_ends_are_errors_with_a_path(
    tmp_path: Path, date: str, needle: str
) -> None:
    root = good_course(tmp_path / "c")
    write(root / HW1, {"uuid": HW_UUID, "allowAccess": [{"credit": 100, "startDate": date}]})
    p = only_error(root)
    assert p.path == "$.allowAccess[0].startDate" and needle in p.message


def test_real_offsets_are_read(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    for date in ("2024-03-01T00:00:00+14:00", "2024-03-01T00:00:00-12:00", "2024-03-01T00:00+0545"):
        write(root / HW1, {**GOOD, "accessControl": [{"dateControl": {"release": {"date": date}}}]})
        assert errors_for(root) == [], date


# ------------------------------------------------------------------------ the request path


def test_a_deep_request_is_a_clear_error() -> None:
    with pytest.raises(CourseError) as err:
        decide('{"at": "2024-01-01T00:00", "user": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (p,) = err.value.problems
    assert p.file == "request" and "nested more than 64 levels" in p.message
    deep: Any = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(CourseError, match="nested more than 64"):
        parse_request({"at": "2024-01-01T00:00", "student_overrides": deep})


def test_a_request_with_a_duplicate_key_is_refused() -> None:
    with pytest.raises(CourseError) as err:
        parse_request('{"at": "2024-01-01T00:00", "mode": "Exam", "mode": "Public"}')
    assert err.value.problems[0].path == "$.mode"


@needs_posix
def test_the_request_path_refuses_what_the_loader_refuses(tmp_path: Path) -> None:
    root = good_course(tmp_path / "c")
    hw1 = root / HW1
    hw1.unlink()
    os.mkfifo(hw1)
    req = {"at": "2024-03-02T00:00:00", "course": str(root), "assessment": "hw/hw1"}
    with pytest.raises(CourseError) as err:
        decide(req)
    assert any("FIFO" in p.message for p in err.value.problems)
    assert [p.name for p in find_course_files(root).paths()] == [
        "infoCourse.json",
        "infoCourseInstance.json",
        "infoAssessment.json",
    ]
