"""Grading of single responses: deterministic, Moodle's rules, Chinese input normalised."""
import pytest

from portal_quizzes.formats import parse_gift
from portal_quizzes.grading import clean_response, grade, normalize_text, parse_number


def q(text):
    return parse_gift(text)[0]


def ids(question):
    return {c["text"]: c["id"] for c in question.data["choices"]}


def test_normalisation_of_chinese_input():
    assert normalize_text("  ＡＢＣ　１２３ ") == "abc 123"
    assert normalize_text("Beijing", case_sensitive=True) == "Beijing"
    assert parse_number("１５") == 15.0
    assert parse_number(" 3,5 ") == 3.5
    assert parse_number("abc") is None


@pytest.mark.parametrize("typed,fraction", [
    ("深圳", 1.0), (" 深圳　", 1.0), ("SHENZHEN", 1.0), ("ｓｈｅｎｚｈｅｎ", 1.0), ("Shenzhen city", 0.0), ("", 0.0),
    ("Shenzen", 0.5),
])
def test_short_answer(typed, fraction):
    question = q("Where? {=深圳 =Shenzhen =%50%Shenzen}")
    assert grade("shortanswer", question.data, typed) == fraction


def test_short_answer_case_sensitive_and_wildcard():
    question = q("Name {=NATO =*organisation}")
    data = dict(question.data, case_sensitive=True)
    assert grade("shortanswer", data, "nato") == 0.0
    assert grade("shortanswer", data, "NATO") == 1.0
    assert grade("shortanswer", question.data, "an organisation") == 1.0


def test_multi_partial_and_negative_clamped():
    question = q("Pick {~%50%a ~%50%b ~%-100%c}")
    i = ids(question)
    assert grade("multi", question.data, [i["a"]]) == 0.5
    assert grade("multi", question.data, [i["a"], i["b"]]) == 1.0
    assert grade("multi", question.data, [i["a"], i["b"], i["c"]]) == 0.0
    assert grade("multi", question.data, [i["c"]]) == 0.0


def test_single_partial_weight():
    question = q("Pick {~wrong ~%50%half =full}")
    i = ids(question)
    assert [grade("single", question.data, i[t]) for t in ("wrong", "half", "full")] == [0.0, 0.5, 1.0]


def test_numerical_tolerance_range_and_first_match():
    tol = q("Year {#1822:2}")
    assert [grade("numerical", tol.data, v) for v in ("1820", "1824", "1825", "１８２２", "x")] == [1.0, 1.0, 0.0, 1.0, 0.0]
    rng = q("Between {#1..5}")
    assert [grade("numerical", rng.data, v) for v in ("1", "5", "5.01")] == [1.0, 1.0, 0.0]
    multi = q("Year {#=1822:0 =%50%1822:2}")
    assert grade("numerical", multi.data, "1822") == 1.0 and grade("numerical", multi.data, "1821") == 0.5


def test_true_false_matching_essay():
    tf = q("Sky is blue {T}")
    assert grade("truefalse", tf.data, True) == 1.0 and grade("truefalse", tf.data, False) == 0.0
    m = q("Match {=a -> 1 =b -> 2 =c -> 3}")
    pairs = m.data["pairs"]
    right = {p["id"]: p["right_id"] for p in pairs}
    assert grade("matching", m.data, right) == 1.0
    two = dict(right, **{pairs[2]["id"]: pairs[0]["right_id"]})
    assert grade("matching", m.data, two) == pytest.approx(2 / 3, abs=1e-6)
    assert grade("essay", {}, "text") is None


def test_clean_response_rejects_malformed():
    single = q("Pick {=a ~b}")
    with pytest.raises(ValueError):
        clean_response("single", single.data, "nope")
    with pytest.raises(ValueError):
        clean_response("truefalse", {"correct": True}, "maybe")
    with pytest.raises(ValueError):
        clean_response("shortanswer", {}, {"x": 1})
    assert clean_response("truefalse", {"correct": True}, "true") is True
    assert clean_response("multi", q("P {~%50%a ~%50%b}").data, []) == []
