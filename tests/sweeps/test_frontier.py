"""The Pareto front, the convex frontier and the knee, on points whose answers are known."""

from vaebalance.sweeps.frontier import knee, pareto_front

# (rate, distortion): a convex curve with an obvious knee at index 2, a dominated point (4),
# and a point on the front but inside the hull (5).
POINTS = [
    (1.0, 100.0),
    (2.0, 60.0),
    (5.0, 20.0),
    (20.0, 12.0),
    (10.0, 40.0),
    (40.0, 11.0),
    (60.0, 9.0),
]


def test_the_front_keeps_the_undominated_points_by_rate():
    assert pareto_front(POINTS) == [0, 1, 2, 3, 5, 6]


def test_identical_points_keep_the_first():
    assert pareto_front([(1.0, 1.0), (1.0, 1.0)]) == [0]


def test_the_knee_is_farthest_below_the_chord_after_scaling():
    assert knee(POINTS) == 2


def test_no_knee_with_two_points_or_a_straight_front():
    assert knee([(1.0, 2.0), (2.0, 1.0)]) is None
    assert knee([(0.0, 2.0), (1.0, 1.0), (2.0, 0.0)]) is None


def test_a_tied_knee_goes_to_the_first_point_in_order():
    square = [(0.0, 1.0), (0.4, 0.2), (0.2, 0.4), (1.0, 0.0)]
    assert knee(square) == 1
    assert knee([square[0], square[2], square[1], square[3]]) == 1
