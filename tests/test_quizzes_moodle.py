"""Moodle compatibility: Moodle's own GIFT and Aiken test material, imported as Moodle imports it.

Sources (inputs and expected results are facts taken from them, not code):

* ``question/format/gift/tests/giftformat_test.php`` (the ``test_import_*`` cases),
* ``question/format/gift/examples.txt`` and ``tests/fixtures/questions.gift.txt``,
  ``tests/fixtures/questions_in_category.gift.txt``,
* ``question/format/aiken/tests/aikenformat_test.php`` with ``tests/fixtures/aiken_errors.txt``
  and ``tests/fixtures/questions.aiken.txt``,
* ``question/format/gift/format.php`` / ``aiken/format.php`` for the rules the other tests pin.

Our ``data`` differs in shape from Moodle's question object; ``summary`` maps it to
``(qtype, name, text, text format, general feedback, answers)`` where Moodle's
``multichoice`` is ``single``/``multi`` (its ``single`` flag), ``match`` is ``matching``,
and a numerical range ``a..b`` stays a range (Moodle stores its middle and tolerance).
Moodle imports a file with errors not at all (``stoponerror``), as we do.
"""
from pathlib import Path

import pytest

from portal_quizzes import formats, grading

MOODLE = Path(__file__).parent / "data" / "moodle"


def summary(q: formats.ParsedQuestion) -> tuple:
    d = q.data
    if q.qtype in ("single", "multi"):
        answers = [(c["text"], c["fraction"], c["feedback"]) for c in d["choices"]]
    elif q.qtype == "shortanswer":
        answers = [(a["text"], a["fraction"], a["feedback"]) for a in d["answers"]]
    elif q.qtype == "truefalse":
        answers = (d["correct"], d["feedback_wrong"], d["feedback_right"])
    elif q.qtype == "matching":
        answers = [(p["left"], p["right"]) for p in d["pairs"]]
    elif q.qtype == "numerical":
        answers = [("*", a["fraction"], a["feedback"]) if a.get("other") else
                   ((a["min"], a["max"]) if "min" in a else (a["value"], a["tolerance"]), a["fraction"], a["feedback"])
                   for a in d["answers"]]
    else:
        answers = None
    return (q.qtype, q.name, q.text, q.text_format, q.general_feedback, answers)


def gift_file(name: str) -> list[formats.ParsedQuestion]:
    return formats.parse_gift((MOODLE / name).read_text(encoding="utf-8"), name)


# giftformat_test.php, test_import_*: the GIFT text and what Moodle's importer makes of it.
UNIT_CASES = {
    "essay": ("// essay\n::Q8:: How are you? {}",
              ("essay", "Q8", "How are you?", "moodle", "", None)),
    "match (format prefixes on sub-questions)": (
        "// question: 2  name: Moodle activities\n"
        "::Moodle activities::[html]Match the <b>activity</b> to the description.{\n"
        "    =[html]An activity supporting asynchronous discussions. -> Forum\n"
        "    =[moodle]A teacher asks a question and specifies a choice of multiple responses. -> Choice\n"
        "    =[plain]A bank of record entries which participants can add to. -> Database\n"
        "    =[markdown]A collection of web pages that anyone can add to or edit. -> Wiki\n"
        "    = -> Chat\n}",
        ("matching", "Moodle activities", "Match the <b>activity</b> to the description.", "html", "",
         [("An activity supporting asynchronous discussions.", "Forum"),
          ("A teacher asks a question and specifies a choice of multiple responses.", "Choice"),
          ("A bank of record entries which participants can add to.", "Database"),
          ("A collection of web pages that anyone can add to or edit.", "Wiki"), ("", "Chat")])),
    "multichoice (format prefixes on answers and feedback)": (
        "// multiple choice with specified feedback for right and wrong answers\n"
        "::Q2:: What's between orange and green in the spectrum?\n{\n    =yellow # right; good!\n"
        "    ~red # [html]wrong, it's yellow\n    ~[plain]blue # wrong, it's yellow\n}",
        ("single", "Q2", "What's between orange and green in the spectrum?", "moodle", "",
         [("yellow", 1.0, "right; good!"), ("red", 0.0, "wrong, it's yellow"), ("blue", 0.0, "wrong, it's yellow")])),
    "multichoice multi": (
        "::colours:: What's between orange and green in the spectrum?\n{\n    ~%50%yellow # right; good!\n"
        "    ~%-100%red # [html]wrong\n    ~%50%off-beige # right; good!\n    ~%-100%[plain]blue # wrong\n}",
        ("multi", "colours", "What's between orange and green in the spectrum?", "moodle", "",
         [("yellow", 0.5, "right; good!"), ("red", -1.0, "wrong"), ("off-beige", 0.5, "right; good!"),
          ("blue", -1.0, "wrong")])),
    "numerical without = and a ~# catch-all": (
        "// math range question\n::Q5:: What is a number from 1 to 5? {#3:2~#Completely wrong}",
        ("numerical", "Q5", "What is a number from 1 to 5?", "moodle", "",
         [((3.0, 2.0), 1.0, ""), ("*", 0.0, "Completely wrong")])),
    "shortanswer": (
        "// question: 666  name: Shortanswer\n::Shortanswer::Which is the best animal?{\n    =Frog#Good!\n"
        "    =%50%Cat#What is it with Moodlers and cats?\n    =%0%*#Completely wrong\n}",
        ("shortanswer", "Shortanswer", "Which is the best animal?", "moodle", "",
         [("Frog", 1.0, "Good!"), ("Cat", 0.5, "What is it with Moodlers and cats?"), ("*", 0.0, "Completely wrong")])),
    "shortanswer with [html] general feedback": (
        "::Shortanswer::Which is the best animal?{\n    =Frog#Good!\n    =%50%Cat#What is it with Moodlers and cats?\n"
        "    =%0%*#Completely wrong\n    ####[html]Here is some general feedback!\n}",
        ("shortanswer", "Shortanswer", "Which is the best animal?", "moodle", "Here is some general feedback!",
         [("Frog", 1.0, "Good!"), ("Cat", 0.5, "What is it with Moodlers and cats?"), ("*", 0.0, "Completely wrong")])),
    "truefalse": (
        "// true/false\n::Q1:: 42 is the Absolute Answer to everything.{\n"
        "FALSE#42 is the Ultimate Answer.#You gave the right answer.}",
        ("truefalse", "Q1", "42 is the Absolute Answer to everything.", "moodle", "",
         (False, "42 is the Ultimate Answer.", "You gave the right answer."))),
    "truefalse T": ("// name 0-11\n::2-08 TSL::TSL is blablabla.{T}",
                    ("truefalse", "2-08 TSL", "TSL is blablabla.", "moodle", "", (True, "", ""))),
    "truefalse TRUE": ("// name 0-11\n::2-08 TSL::TSL is blablabla.{TRUE}",
                       ("truefalse", "2-08 TSL", "TSL is blablabla.", "moodle", "", (True, "", ""))),
    "backslash": ("// essay\n::double backslash:: A \\\\ B \\\\\\\\ C{}",
                  ("essay", "double backslash", "A \\ B \\\\ C", "moodle", "", None)),
    # Moodle's unit test calls readquestion() directly and keeps the indentation inside <pre>;
    # its file import (qformat_default::readquestions) trims every line first, and so do we.
    "pre content (file import: lines trimmed)": (
        "::Q001::[html]<p>What would running the test method print?</p>\n<pre>\n    public void test() \\{\n"
        "        method1();\n        method2();\n        method3();\n    \\}\n</pre>\n{}",
        ("essay", "Q001", "<p>What would running the test method print?</p>\n<pre>\npublic void test() {\nmethod1();\n"
         "method2();\nmethod3();\n}\n</pre>", "html", "", None)),
}


@pytest.mark.parametrize("source,expected", UNIT_CASES.values(), ids=list(UNIT_CASES))
def test_moodle_giftformat_test_cases(source, expected):
    [question] = formats.parse_gift(source, "case.gift")
    assert summary(question) == expected


# examples.txt as Moodle imports it, question by question (file order).
EXAMPLES = [
    ('single',
     "Who's buried in Grant's tomb?",
     "Who's buried in Grant's tomb?",
     'moodle',
     '',
     [('Grant', 0.0, ''), ('Jefferson', 0.0, ''), ('no one', 1.0, '')]),
    ('single',
     "Grant is _____ in Grant's tomb.",
     "Grant is _____ in Grant's tomb.",
     'moodle',
     '',
     [('buried', 0.0, ''), ('entombed', 1.0, ''), ('living', 0.0, '')]),
    ('truefalse', "Grant is buried in Grant's tomb.", "Grant is buried in Grant's tomb.", 'moodle', '', (False, '', '')),
    ('shortanswer', "Who's buried in Grant's tomb?", "Who's buried in Grant's tomb?", 'moodle', '', [('no one', 1.0, ''), ('nobody', 1.0, '')]),
    ('numerical', 'When was Ulysses S. Grant born?', 'When was Ulysses S. Grant born?', 'moodle', '', [((1822.0, 1.0), 1.0, '')]),
    ('single',
     "Who's buried in Grant's tomb?",
     "Who's buried in Grant's tomb?",
     'moodle',
     '',
     [('Grant', 0.0, ''), ('Jefferson', 0.0, ''), ('no one', 1.0, '')]),
    ('single',
     "Grant is _____ in Grant's tomb.",
     "Grant is _____ in Grant's tomb.",
     'moodle',
     '',
     [('buried', 0.0, ''), ('entombed', 1.0, ''), ('living', 0.0, '')]),
    ('single',
     'The American holiday of Thanksgiving is celebrated on the _____ Thursday of...',
     'The American holiday of Thanksgiving is celebrated on the _____ Thursday of November.',
     'moodle',
     '',
     [('second', 0.0, ''), ('third', 0.0, ''), ('fourth', 1.0, '')]),
    ('single',
     'Japanese characters originally came from what country?',
     'Japanese characters originally came from what country?',
     'moodle',
     '',
     [('India', 0.0, ''), ('China', 1.0, ''), ('Korea', 0.0, ''), ('Egypt', 0.0, '')]),
    ('shortanswer', "Who's buried in Grant's tomb?", "Who's buried in Grant's tomb?", 'moodle', '', [('no one', 1.0, ''), ('nobody', 1.0, '')]),
    ('shortanswer', 'Two plus two equals _____.', 'Two plus two equals _____.', 'moodle', '', [('four', 1.0, ''), ('4', 1.0, '')]),
    ('truefalse', "Grant is buried in Grant's tomb.", "Grant is buried in Grant's tomb.", 'moodle', '', (False, '', '')),
    ('truefalse', 'The sun rises in the east.', 'The sun rises in the east.', 'moodle', '', (True, '', '')),
    ('matching',
     'Matching Question.',
     'Matching Question.',
     'moodle',
     '',
     [('subquestion1', 'subanswer1'), ('subquestion2', 'subanswer2'), ('subquestion3', 'subanswer3')]),
    ('matching',
     'Match the following countries with their corresponding capitals.',
     'Match the following countries with their corresponding capitals.',
     'moodle',
     '',
     [('Canada', 'Ottawa'), ('Italy', 'Rome'), ('Japan', 'Tokyo'), ('India', 'New Delhi')]),
    ('numerical', 'When was Ulysses S. Grant born?', 'When was Ulysses S. Grant born?', 'moodle', '', [((1822.0, 0.0), 1.0, '')]),
    ('numerical',
     'What is the value of pi (to 3 decimal places)? _____.',
     'What is the value of pi (to 3 decimal places)? _____.',
     'moodle',
     '',
     [((3.1415, 0.0005), 1.0, '')]),
    ('numerical',
     'What is the value of pi (to 3 decimal places)? _____.',
     'What is the value of pi (to 3 decimal places)? _____.',
     'moodle',
     '',
     [((3.141, 3.142), 1.0, '')]),
    ('numerical',
     'When was Ulysses S. Grant born?',
     'When was Ulysses S. Grant born?',
     'moodle',
     '',
     [((1822.0, 0.0), 1.0, ''), ((1822.0, 2.0), 0.5, '')]),
    ('numerical', "What's 2 plus 2?", "What's 2 plus 2?", 'moodle', '', [((4.0, 0.0), 1.0, '')]),
    ('shortanswer', 'Kanji Origins', 'Japanese characters originally\ncame from what country?', 'moodle', '', [('China', 1.0, '')]),
    ('single',
     'Thanksgiving Date',
     'The American holiday of Thanksgiving is\ncelebrated on the _____ Thursday of November.',
     'moodle',
     '',
     [('second', 0.0, ''), ('third', 0.0, ''), ('fourth', 1.0, '')]),
    ('single',
     "What's the answer to this multiple-choice question?",
     "What's the answer to this multiple-choice question?",
     'moodle',
     '',
     [('wrong answer', 0.0, 'feedback comment on the wrong answer'),
      ('another wrong answer', 0.0, 'feedback comment on this wrong answer'),
      ('right answer', 1.0, 'Very good!')]),
    ('shortanswer',
     "Who's buried in Grant's tomb?",
     "Who's buried in Grant's tomb?",
     'moodle',
     '',
     [('no one', 1.0, 'excellent answer!'), ('nobody', 1.0, 'excellent answer!')]),
    ('shortanswer',
     "Who's buried in **Grant's tomb**?",
     "Who's buried in **Grant's tomb**?",
     'markdown',
     '',
     [('no one', 1.0, 'excellent answer!'), ('nobody', 1.0, 'excellent answer!')]),
    ('truefalse',
     "Grant is buried in Grant's tomb.",
     "Grant is buried in Grant's tomb.",
     'moodle',
     '',
     (False, "No one is buried in Grant's tomb.", '')),
    ('single',
     'Difficult question.',
     'Difficult question.',
     'moodle',
     '',
     [('wrong answer', 0.0, ''), ('half credit answer', 0.5, ''), ('full credit answer', 1.0, '')]),
    ('single',
     "Jesus' hometown",
     'Jesus Christ was from _____.',
     'moodle',
     '',
     [('Jerusalem', 0.0, 'This was an important city, but the wrong answer.'),
      ('Bethlehem', 0.25, 'He was born here, but not raised here.'),
      ('Galilee', 0.5, 'You need to be more specific.'),
      ('Nazareth', 1.0, "Yes! That's right!")]),
    ('shortanswer',
     "Jesus' hometown",
     'Jesus Christ was from',
     'moodle',
     '',
     [('Nazareth', 1.0, "Yes! That's right!"),
      ('Nazereth', 0.75, 'Right, but misspelled.'),
      ('Bethlehem', 0.25, 'He was born here, but not raised here.')]),
    ('multi',
     "What two people are entombed in Grant's tomb?",
     "What two people are entombed in Grant's tomb?",
     'moodle',
     '',
     [('No one', 0.0, ''), ('Grant', 0.5, ''), ("Grant's wife", 0.5, ''), ("Grant's father", 0.0, '')]),
    ('multi',
     "What two people are entombed in Grant's tomb?",
     "What two people are entombed in Grant's tomb?",
     'moodle',
     '',
     [('No one', -0.5, ''), ('Grant', 0.5, ''), ("Grant's wife", 0.5, ''), ("Grant's father", -0.5, '')]),
    ('single',
     'Which answer equals 5?',
     'Which answer equals 5?',
     'moodle',
     '',
     [('= 2 + 2', 0.0, ''), ('= 2 + 3', 1.0, ''), ('= 2 + 4', 0.0, '')]),
    ('single',
     'GIFT Control Characters',
     'Which of the following is NOT a control character for the GIFT import format?',
     'moodle',
     '',
     [('~', 0.0, '~ is a control character.'),
      ('=', 0.0, '= is a control character.'),
      ('#', 0.0, '# is a control character.'),
      ('{', 0.0, '{ is a control character.'),
      ('}', 0.0, '} is a control character.'),
      ('\\',
       1.0,
       'Correct! \\ (backslash) is not a control character. BUT,\n'
       'it is used to escape the control characters. So, to specify\n'
       'a literal backslash, you must escape it with a backslash\n'
       '(as shown in this example).')]),
    ('single',
     "Who's buried in Grant's tomb?",
     "Who's buried in Grant's tomb?",
     'moodle',
     '',
     [('Grant', 0.0, ''), ('Jefferson', 0.0, ''), ('no one', 1.0, '')]),
    ('single',
     "Grant is _____ in Grant's tomb.",
     "Grant is _____ in Grant's tomb.",
     'moodle',
     '',
     [('buried', 0.0, ''), ('entombed', 1.0, ''), ('living', 0.0, '')]),
    ('truefalse', "Grant is buried in Grant's tomb.", "Grant is buried in Grant's tomb.", 'moodle', '', (False, '', '')),
    ('shortanswer', "Who's buried in Grant's tomb?", "Who's buried in Grant's tomb?", 'moodle', '', [('no one', 1.0, ''), ('nobody', 1.0, '')]),
    ('numerical', 'When was Ulysses S. Grant born?', 'When was Ulysses S. Grant born?', 'moodle', '', [((1822.0, 5.0), 1.0, '')]),
    ('matching',
     'Match the following countries with their corresponding capitals.',
     'Match the following countries with their corresponding\ncapitals.',
     'moodle',
     '',
     [('Canada', 'Ottawa'), ('Italy', 'Rome'), ('Japan', 'Tokyo')]),
    ('single',
     "Grant's Tomb",
     "Grant is _____ in Grant's tomb.",
     'moodle',
     '',
     [('buried', 0.0, 'No one is buried there.'), ('entombed', 1.0, 'Right answer!'), ('living', 0.0, 'We hope not!')]),
    ('single',
     'Difficult multiple choice question.',
     'Difficult multiple choice question.',
     'moodle',
     '',
     [('wrong answer', 0.0, 'comment on wrong answer'),
      ('half credit answer', 0.5, 'comment on answer'),
      ('full credit answer', 1.0, 'well done!')]),
    ('shortanswer',
     "Jesus' hometown (Short answer ex.)",
     'Jesus Christ was from _____.',
     'moodle',
     '',
     [('Nazareth', 1.0, "Yes! That's right!"),
      ('Nazereth', 0.75, 'Right, but misspelled.'),
      ('Bethlehem', 0.25, 'He was born here, but not raised here.')]),
    ('numerical',
     'Numerical example',
     'When was Ulysses S. Grant born?',
     'moodle',
     '',
     [((1822.0, 0.0), 1.0, 'Correct! 100% credit'), ((1822.0, 2.0), 0.5, 'He was born in 1822.\nYou get 50% credit for being close.')]),
]


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_moodle_examples_file(index):
    questions = gift_file("examples.txt")
    assert len(questions) == len(EXAMPLES)
    assert summary(questions[index]) == EXAMPLES[index]


def test_moodle_fixture_questions_gift():
    """tests/fixtures/questions.gift.txt; its stray ``";`` after two answer blocks makes missing-word gaps in Moodle."""
    assert [summary(q) for q in gift_file("questions.gift.txt")] == [
        UNIT_CASES["essay"][1], UNIT_CASES["match (format prefixes on sub-questions)"][1],
        UNIT_CASES["multichoice (format prefixes on answers and feedback)"][1], UNIT_CASES["multichoice multi"][1],
        ("numerical", "Q5", 'What is a number from 1 to 5? _____";', "moodle", "",
         [((3.0, 2.0), 1.0, ""), ("*", 0.0, "Completely wrong")]),
        UNIT_CASES["shortanswer"][1],
        ("truefalse", "Q1", '42 is the Absolute Answer to everything._____";', "moodle",
         "This is, of course, a Hitchiker's Guide to the Galaxy reference.",
         (False, "42 is the Ultimate Answer.", "You gave the right answer.")),
        UNIT_CASES["truefalse T"][1], UNIT_CASES["truefalse TRUE"][1],
    ]


def test_moodle_fixture_questions_in_category():
    questions = gift_file("questions_in_category.gift.txt")
    assert [q.category for q in questions] == [("Default for New Features",)] * 4
    assert [summary(q) for q in questions] == [
        ("matching", "Moodle activities", "Match the activity to the description.", "html", "",
         [("An activity supporting asynchronous discussions.", "Forum"),
          ("A teacher asks a question and specifies a choice of multiple responses.", "Choice"),
          ("A bank of record entries which participants can add to.", "Database"),
          ("A collection of web pages that anyone can add to or edit.", "Wiki"), ("", "Chat")]),
        ("single", "Greeting", '<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3">Listen to this greeting:'
         '</a><br /><br />What language is being spoken?', "html", "",
         [("English", 0.0, "Sorry, listen again."), ("French", 1.0, "Yes, well done!"),
          ("German", 0.0, "Sorry, listen again."), ("Spanish", 0.0, "Sorry, listen again.")]),
        ("shortanswer", "Moodle user", "Anyone who uses Moodle is a ...", "html", "", [("Moodler", 1.0, "")]),
        ("truefalse", "Moodle acronym", 'Moodle is an acronym for <span style="font-style: italic;">Modular '
         'Object-Oriented Dynamic Learning Environment</span>.', "html", "", (True, "", "")),
    ]


def test_moodle_fixture_questions_aiken():
    questions = formats.parse_aiken((MOODLE / "questions.aiken.txt").read_text(encoding="utf-8"), "q.aiken")
    assert [(q.name, q.text, [(c["text"], c["fraction"]) for c in q.data["choices"]]) for q in questions] == [
        ("The Moodle project was started by:", "The Moodle project was started by:",
         [("Petr Skoda", 0.0), ("Martin Dougiamas", 1.0), ("Eloy Lafuente", 0.0), ("Tim Hunt", 0.0)]),
        ("Moodle's abilities include handling user input that includes & images:",
         "Moodle's abilities include handling user input that includes <html class=\"cool\"> & images:",
         [("True", 1.0), ("False", 0.0)]),
    ]


def test_moodle_aikenformat_test_errors():
    """aikenformat_test.php: errors on lines 3, 5, 7 and 18; the file is refused (Moodle's stoponerror)."""
    with pytest.raises(formats.FormatError) as info:
        formats.parse_aiken((MOODLE / "aiken_errors.txt").read_text(encoding="utf-8"), "aiken_errors.txt")
    assert [p.line for p in info.value.problems] == [3, 5, 7, 18]


def test_moodle_aiken_lenient_forms_import():
    """The good questions of aiken_errors.txt: ``A)text`` without a space, blank lines inside a question."""
    source = "A good question\nA) Correct\nB) Incorrect\nANSWER: A\n\nA second good question\n\n" \
             "A)Incorrect (No space)\n\nB)Correct (No space)\n\nANSWER: B\n"
    questions = formats.parse_aiken(source, "good.aiken")
    assert [[(c["text"], c["fraction"]) for c in q.data["choices"]] for q in questions] == [
        [("Correct", 1.0), ("Incorrect", 0.0)], [("Incorrect (No space)", 0.0), ("Correct (No space)", 1.0)]]


def test_aiken_question_without_options_is_an_error():
    with pytest.raises(formats.FormatError) as info:
        formats.parse_aiken("A question without options\n\nAnother question\nA) yes\nB) no\nANSWER: A\n", "x.aiken")
    assert [p.line for p in info.value.problems] == [3]


def test_default_name_is_the_first_80_characters():
    """Moodle names an unnamed question ``shorten_text(text, 80)``: cut at a word, ``...`` appended."""
    text = "The American holiday of Thanksgiving is celebrated on the {~second =fourth} Thursday of November."
    [question] = formats.parse_gift(text)
    assert question.name == "The American holiday of Thanksgiving is celebrated on the _____ Thursday of..."
    short = "x" * 80
    assert formats.parse_gift(short + "{}")[0].name == short
    assert formats.parse_gift("党" * 100 + "{}")[0].name == "党" * 77 + "..."


def test_description_is_shown_but_not_graded():
    """Moodle's GIFT docs: a text without an answer block is a description (default mark 0)."""
    [question] = formats.parse_gift("You can use your pencil and paper for these next math questions.")
    assert question.qtype == "description"
    assert question.text == "You can use your pencil and paper for these next math questions."
    assert grading.grade("description", question.data, None) is None
    assert formats.parse_gift(formats.export_gift([question]))[0].comparable() == question.comparable()


def test_missing_word_is_graded_like_its_answer_block():
    [question] = formats.parse_gift("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert question.text == f"Grant is {formats.BLANK} in Grant's tomb."
    right = next(c["id"] for c in question.data["choices"] if c["fraction"] == 1.0)
    wrong = next(c["id"] for c in question.data["choices"] if c["fraction"] == 0.0)
    assert grading.grade(question.qtype, question.data, right) == 1.0
    assert grading.grade(question.qtype, question.data, wrong) == 0.0
    assert formats.parse_gift(formats.export_gift([question]))[0].comparable() == question.comparable()


def test_text_that_looks_like_a_format_marker_round_trips():
    [question] = formats.parse_gift("Which is literal? {=[html]\\{kept\\} #[plain]fb ~other}")
    assert question.data["choices"][0]["text"] == "{kept}"
    question.data["choices"][0]["text"] = "[html] is literal here"
    again = formats.parse_gift(formats.export_gift([question]))[0]
    assert again.data["choices"][0]["text"] == "[html] is literal here"


def test_windows_1252_file_is_refused():
    # Every byte pair here is valid GB18030 ("M黮ler抯 Caf闂揋re攁us"): decoding alone proves nothing.
    raw = "Müller’s Café—“Grüße”aus Zürich? {=ja ~nein}\n".encode("cp1252")
    assert raw.decode("gb18030")
    with pytest.raises(formats.FormatError) as info:
        formats.decode_text(raw, "latin.gift")
    assert "UTF-8" in str(info.value) and info.value.problems[0].filename == "latin.gift"


def test_gbk_chinese_file_is_accepted_and_utf8_first():
    text = "流动党员变更工作地点后，应在多少天内向党组织报告？\nA. 15天\nB. 30天\nANSWER: A\n"
    assert formats.decode_text(text.encode("gbk"), "q.aiken") == text
    assert formats.decode_text("\ufeff".encode() + "Café".encode(), "u.gift") == "Café"
