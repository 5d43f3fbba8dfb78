from bharnet.core.words import plural


def test_a_count_takes_the_form_of_its_noun():
    assert [plural(n, "clip") for n in (0, 1, 2)] == ["0 clips", "1 clip", "2 clips"]
    assert plural(1, "person", "people") == "1 person" and plural(3, "person", "people") == "3 people"
