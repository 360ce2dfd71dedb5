"""GIFT and Aiken: every construct of Moodle's GIFT documentation, errors, and the export round trip."""
from pathlib import Path

import pytest

from portal_quizzes.formats import (
    BLANK, FormatError, ParsedQuestion, export_gift, parse_aiken, parse_category_path, parse_gift,
)

DATA = Path(__file__).parent / "data" / "quizzes"


def one(text: str) -> ParsedQuestion:
    questions = parse_gift(text)
    assert len(questions) == 1
    return questions[0]


def choices(q: ParsedQuestion) -> list[tuple[str, float, str]]:
    return [(c["text"], c["fraction"], c["feedback"]) for c in q.data["choices"]]


def test_multiple_choice_basic():
    q = one("Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}")
    assert q.qtype == "single"
    assert q.text == "Who's buried in Grant's tomb?"
    assert choices(q) == [("Grant", 0.0, ""), ("Jefferson", 0.0, ""), ("no one", 1.0, "")]
    assert q.name == "Who's buried in Grant's tomb?"  # Moodle's default name: the text


def test_missing_word_keeps_text_before_and_after():
    q = one("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert q.qtype == "single"
    assert q.text == f"Grant is {BLANK} in Grant's tomb."


def test_answers_on_separate_indented_lines():
    q = one("The American holiday of Thanksgiving is celebrated on the {\n    ~second\n    ~third\n    =fourth\n} Thursday of November.")
    assert q.text == f"The American holiday of Thanksgiving is celebrated on the {BLANK} Thursday of November."
    assert [c[0] for c in choices(q)] == ["second", "third", "fourth"]


def test_short_answer_with_and_without_equals():
    q = one("Two plus two equals {=four =4}.")
    assert q.qtype == "shortanswer"
    assert [(a["text"], a["fraction"]) for a in q.data["answers"]] == [("four", 1.0), ("4", 1.0)]
    assert q.text == f"Two plus two equals {BLANK}."
    q = one("Two plus two equals {four}.")
    assert q.qtype == "shortanswer" and q.data["answers"][0]["text"] == "four"
    assert q.data["case_sensitive"] is False


def test_short_answer_weights_and_feedback():
    q = one("::Jesus' hometown::Jesus Christ was from {\n=Nazareth#Yes! That's right!\n"
            "=%75%Nazereth#Right, but misspelled.\n=%25%Bethlehem#He was born here}.")
    assert q.name == "Jesus' hometown"
    assert [(a["text"], a["fraction"], a["feedback"]) for a in q.data["answers"]] == [
        ("Nazareth", 1.0, "Yes! That's right!"), ("Nazereth", 0.75, "Right, but misspelled."),
        ("Bethlehem", 0.25, "He was born here")]


@pytest.mark.parametrize("mark,correct", [("T", True), ("TRUE", True), ("F", False), ("FALSE", False)])
def test_true_false_all_spellings(mark, correct):
    q = one(f"Grant is buried in Grant's tomb.{{{mark}}}")
    assert q.qtype == "truefalse"
    assert q.data["correct"] is correct


def test_true_false_feedback_wrong_then_right():
    q = one("Grant was buried in a tomb in New York City.{\nTRUE\n#Wrong, he is buried there.\n#Yes, you are right.}")
    assert q.data == {"correct": True, "feedback_wrong": "Wrong, he is buried there.", "feedback_right": "Yes, you are right."}
    q = one("Grant is buried in Grant's tomb.{FALSE#No one is buried in Grant's tomb.}")
    assert q.data["feedback_wrong"] == "No one is buried in Grant's tomb." and q.data["feedback_right"] == ""


def test_matching():
    q = one("Match the following countries with their corresponding capitals. {\n =Canada -> Ottawa\n =Italy  -> Rome\n =Japan  -> Tokyo\n }")
    assert q.qtype == "matching"
    assert [(p["left"], p["right"]) for p in q.data["pairs"]] == [("Canada", "Ottawa"), ("Italy", "Rome"), ("Japan", "Tokyo")]
    assert len({p["right_id"] for p in q.data["pairs"]}) == 3


def test_matching_extra_distractor_and_shared_answer():
    q = one("Sort them {=cat -> animal =dog -> animal =rose -> plant = -> mineral}")
    pairs = q.data["pairs"]
    assert pairs[0]["right_id"] == pairs[1]["right_id"] != pairs[2]["right_id"]
    assert pairs[3]["left"] == "" and pairs[3]["right"] == "mineral"


def test_numerical_tolerance_range_and_exact():
    q = one("When was Ulysses S. Grant born?{#1822:5}")
    assert q.qtype == "numerical"
    assert q.data["answers"] == [{"value": 1822.0, "tolerance": 5.0, "fraction": 1.0, "feedback": ""}]
    q = one("What is the value of pi (to 3 decimal places)? {#3.141..3.142}.")
    assert q.data["answers"][0]["min"] == 3.141 and q.data["answers"][0]["max"] == 3.142
    assert q.text.endswith(f"{BLANK}.")
    q = one("Three plus four is {#7}.")
    assert q.data["answers"][0]["value"] == 7.0 and q.data["answers"][0]["tolerance"] == 0.0
    q = one("Tolerance written with 3:0.5 {#3:0.5}")
    assert q.data["answers"][0]["tolerance"] == 0.5
    q = one("Below zero {#-3.5}")
    assert q.data["answers"][0]["value"] == -3.5


def test_numerical_multiple_answers_with_partial_credit_and_other_feedback():
    q = one("When was Ulysses S. Grant born? {#\n =1822:0 # Correct! Full credit.\n =%50%1822:2 # Half credit.\n ~#Way off.\n}")
    assert [(a.get("value"), a.get("tolerance"), a["fraction"], a["feedback"]) for a in q.data["answers"]] == [
        (1822.0, 0.0, 1.0, "Correct! Full credit."), (1822.0, 2.0, 0.5, "Half credit."), (None, None, 0.0, "Way off.")]
    q = one("Ranges too {#=%100%1..5 =%50%6..10}")
    assert [(a["min"], a["max"], a["fraction"]) for a in q.data["answers"]] == [(1.0, 5.0, 1.0), (6.0, 10.0, 0.5)]


def test_per_answer_feedback_and_percent_weights_including_negative():
    q = one("::Q2:: What's between orange and green in the spectrum?\n"
            "{ =yellow # right; good! ~red # wrong, it's yellow ~blue # wrong, it's yellow }")
    assert q.name == "Q2"
    assert choices(q) == [("yellow", 1.0, "right; good!"), ("red", 0.0, "wrong, it's yellow"), ("blue", 0.0, "wrong, it's yellow")]
    q = one("What two people are entombed in Grant's tomb? {\n~%-100%No one\n~%50%Grant\n~%50%Grant's wife\n~%-100%Grant's father\n}")
    assert q.qtype == "multi"  # no "=": several answers may be chosen
    assert [c[1] for c in choices(q)] == [-1.0, 0.5, 0.5, -1.0]
    q = one("Difficult question.{~wrong answer ~%50%half credit answer =full credit answer}")
    assert q.qtype == "single" and [c[1] for c in choices(q)] == [0.0, 0.5, 1.0]
    q = one("Fractions {~%33.33333%a ~%33.33333%b ~%33.33334%c ~%-100%d}")
    assert sum(c[1] for c in choices(q) if c[1] > 0) == pytest.approx(1.0)


def test_general_feedback():
    q = one("How many wheels does a car have?{#4####Cars are not bikes.}")
    assert q.general_feedback == "Cars are not bikes."
    assert q.data["answers"][0]["value"] == 4.0
    q = one("Pick {=a #yes ~b #no ####Both are letters.}")
    assert q.general_feedback == "Both are letters." and choices(q)[1] == ("b", 0.0, "no")
    q = one("Sky is blue {T####It is, on a clear day.}")
    assert q.data["correct"] is True and q.general_feedback == "It is, on a clear day."


def test_comments_are_ignored_and_carry_id_and_tags():
    questions = parse_gift("// a comment line\n// [id:Q-7] [tag:maths] [tag:easy]\n::Seven::Three plus four is {#7}.\n\n"
                           "  // indented comment\nSecond {T}\n")
    assert len(questions) == 2
    assert questions[0].idnumber == "Q-7" and questions[0].tags == ("maths", "easy")
    assert questions[1].text == "Second"


def test_escapes():
    q = one("::GIFT \\: special \\{ characters \\}::Which is a tilde, a hash or a backslash? {=\\~ ~\\# ~\\\\}")
    assert q.name == "GIFT : special { characters }"
    assert [c[0] for c in choices(q)] == ["~", "#", "\\"]
    q = one("Which answer equals 5? {\n~ \\= 2 + 2\n= \\= 2 + 3\n~ \\= 2 + 4\n}")
    assert choices(q)[1] == ("= 2 + 3", 1.0, "")
    q = one("Line one\\nline two {T}")
    assert q.text == "Line one\nline two"
    q = one("Cost in \\{braces\\} and 1\\:2 ratio {=ok}")
    assert q.text == "Cost in {braces} and 1:2 ratio"


@pytest.mark.parametrize("fmt", ["markdown", "html", "plain", "moodle"])
def test_text_format_markers(fmt):
    q = one(f"::n::[{fmt}]Is *this* formatted? {{T}}")
    assert q.text_format == fmt and q.text == "Is *this* formatted?"
    assert one("No marker {T}").text_format == "moodle"
    q = one("[markdown]Pick {=a #**good** ~b####[html]<b>general</b>}")
    assert q.general_feedback == "<b>general</b>"


def test_essay_and_description():
    q = one("Write a short biography of Dag Hammarskjöld. {}")
    assert q.qtype == "essay" and q.data == {}
    q = one("You can use your pencil and paper for these next math questions.")
    assert q.qtype == "description"


def test_category_and_category_paths():
    questions = parse_gift("First {T}\n\n$CATEGORY: $course$/top/Daily quiz/Numbers\n\nSecond {T}\n\n$CATEGORY: Other//Things\n\nThird {F}")
    assert [q.category for q in questions] == [(), ("Daily quiz", "Numbers"), ("Other/Things",)]
    assert parse_category_path("$system$/top/A/B") == ("A", "B")
    with_root = parse_gift("$CATEGORY: Sub\n\nX {T}", category=("Root",))
    assert with_root[0].category == ("Root", "Sub")


def test_the_whole_documentation_file_parses_and_round_trips():
    questions = parse_gift((DATA / "moodle_examples.gift").read_text(encoding="utf-8"), "moodle_examples.gift")
    kinds = {q.qtype for q in questions}
    assert kinds == {"single", "multi", "shortanswer", "truefalse", "matching", "numerical", "essay", "description"}
    assert len(questions) == 35
    exported = export_gift(questions)
    again = parse_gift(exported)
    assert [q.comparable() for q in again] == [q.comparable() for q in questions]
    # and a second export is byte-identical (stable writer)
    assert export_gift(again) == exported


def test_round_trip_of_tricky_texts():
    source = ("// [id:a\\]b] [tag:x y]\n::Na\\:me::[markdown]Text with \\{ \\} \\~ \\= \\# \\\\ and\\nnew line {=%50%half =full ~%-50%neg}\n\n"
              "[moodle][html]literal marker {T}\n\nOnly gap at end {=x} \n\nNumbers {#=%33.33333%1e-05:0.5 =2..3 ~#other}\n\n"
              "Single without a full mark {=%50%half ~zero}")
    questions = parse_gift(source)
    assert questions[0].idnumber == "a]b" and questions[1].text == "[html]literal marker"
    again = parse_gift(export_gift(questions))
    assert [q.comparable() for q in again] == [q.comparable() for q in questions]
    assert again[4].qtype == "single" and [c["fraction"] for c in again[4].data["choices"]] == [0.5, 0.0]


def test_errors_are_file_line_messages_and_all_or_nothing():
    with pytest.raises(FormatError) as info:
        parse_gift((DATA / "broken.gift").read_text(encoding="utf-8"), "broken.gift")
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 3
    assert lines[0].startswith("broken.gift:4: ") and "150" in lines[0]
    assert lines[1].startswith("broken.gift:6: ") and "}" in lines[1]
    assert lines[2].startswith("broken.gift:8: ") and "lots" in lines[2]


@pytest.mark.parametrize("text,fragment", [
    ("::unclosed name {T}", "::"),
    ("Stray } brace {T}", "}"),
    ("Two blocks {T} and {F}", "one answer block"),
    ("Only one {~a}", "two answers"),
    ("No right answer {~a ~b}", "right"),
    ("Bad range {#5..1}", "empty"),
    ("Bad tolerance {#5:-1}", "negative"),
    ("Matching with one pair {=a -> b}", "two pairs"),
    ("Matching item without arrow {=a -> b =c -> d =e}", "->"),
    ("Weird weight {~%abc%a =b}", "%50%"),
    ("{T}", "no text"),
])
def test_each_error_is_reported(text, fragment):
    with pytest.raises(FormatError) as info:
        parse_gift(text, "f.gift")
    assert len(info.value.problems) == 1
    assert str(info.value.problems[0]).startswith("f.gift:1: ")
    assert fragment in info.value.problems[0].message


def test_error_line_points_inside_a_multiline_question():
    text = "First {T}\n\n::q::Pick {\n=a\n~%500%b\n}"
    with pytest.raises(FormatError) as info:
        parse_gift(text, "f.gift")
    assert str(info.value.problems[0]).startswith("f.gift:5: ")


def test_empty_file_is_an_error():
    with pytest.raises(FormatError):
        parse_gift("// only comments\n\n", "empty.gift")


def test_aiken():
    questions = parse_aiken((DATA / "questions.aiken").read_text(encoding="utf-8"), "q.aiken", ("Imported",))
    assert [q.qtype for q in questions] == ["single", "single"]
    assert choices(questions[0]) == [("15天", 1.0, ""), ("30天", 0.0, ""), ("3个月", 0.0, "")]
    assert questions[1].category == ("Imported",) and questions[1].line == 7
    with pytest.raises(FormatError) as info:
        parse_aiken((DATA / "broken.aiken").read_text(encoding="utf-8"), "broken.aiken")
    assert [str(p) for p in info.value.problems] == [
        # Blank lines inside a question are allowed (as in Moodle); the next question starting is the error.
        "broken.aiken:5: The question above has no ANSWER: line before the next question starts.",
        "broken.aiken:8: The answer C is not one of the options.",
    ]
