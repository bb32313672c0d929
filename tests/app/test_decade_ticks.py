"""decade_ticks: the one labelling of whole decades shared by the gradient panel's axis and the
flow panel's colour bar."""

from gradlab.app.panels._decades import decade_ticks
from gradlab.app.theme import superscript_power


def test_every_decade_when_few_and_a_round_step_when_many():
    every, ticks = decade_ticks(-3, 3)
    assert every == 1 and [k for k, _ in ticks] == [-3, -2, -1, 0, 1, 2, 3]
    assert ticks[0] == (-3, superscript_power(-3))
    every, ticks = decade_ticks(-16, 16)
    assert every == 8 and [k for k, _ in ticks] == [-16, -8, 0, 8, 16]


def test_non_integer_ends_keep_the_decades_inside():
    every, ticks = decade_ticks(-2.5, 3.7)
    assert every == 2 and [k for k, _ in ticks] == [-2, 0, 2]
