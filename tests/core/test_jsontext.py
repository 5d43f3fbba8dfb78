import json

import numpy as np

from bharnet.core.atomic import write_json
from bharnet.core.jsontext import json_text


def _strict(text: str):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_numbers_that_are_not_finite_become_null(tmp_path):
    value = {"p50": float("nan"), "rates": (np.float32(np.inf), 1.5), "n": np.int64(3), "x": -np.inf}
    assert _strict(json_text(value, default=lambda o: o.item())) == {"p50": None, "rates": [None, 1.5], "n": 3,
                                                                    "x": None}
    write_json(tmp_path / "a.json", {"top1": float("nan")})
    assert _strict((tmp_path / "a.json").read_text()) == {"top1": None}
