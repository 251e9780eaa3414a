"""The screening CSV with a collision probability per event (``kizuna screen --pc``).

The text is the screening CSV contract
(:meth:`kizuna.screening.base.ScreeningResult.to_csv`, columns
:data:`~kizuna.screening.base.CSV_COLUMNS`) with two columns appended:

* ``pc``: the probability of collision written ``.6e`` (7 significant
  digits, far below the uncertainty of any element-set covariance); an
  empty cell where it is undefined (NaN);
* ``pc_method``: what produced it
  (:func:`kizuna.collision.screening_pc.pc_for_events`: ``foster``,
  ``foster+remediated``, ``none:zero_rel_speed``, ``none:sgp4_error``).

:func:`kizuna.store.screenings.conjunctions_csv` writes the same cells from
the store with the same :func:`kizuna.screening.base.format_pc`, so a recorded run exports
byte-identical to this text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kizuna.collision.encounter import CollisionInputError
from kizuna.screening.base import PC_CSV_COLUMNS, format_pc


def screening_csv_with_pc(result: Any, pc: Sequence[float], pc_method: Sequence[str],
                          path: str | Path | None = None) -> str:
    """The screen's CSV plus ``,pc,pc_method`` (module docstring); returns the text.

    Parameters
    ----------
    result : kizuna.screening.ScreeningResult
    pc, pc_method : sequences of length ``len(result)``
        As returned by :func:`~kizuna.collision.screening_pc.pc_for_events`
        for ``result.events`` (same order).
    path : path, optional
        Also write the text there (UTF-8, ``\\n`` line ends).

    Raises
    ------
    kizuna.collision.encounter.CollisionInputError
        When the lengths do not match the events, or a method contains a comma
        or line break (it would break the CSV).
    """
    n = len(result)
    if len(pc) != n or len(pc_method) != n:
        raise CollisionInputError(f"pc and pc_method need one value per event ({n}); got "
                                  f"{len(pc)} and {len(pc_method)}: pass what pc_for_events "
                                  "returned for result.events")
    lines = result.to_csv().split("\n")
    # to_csv ends every line with "\n": header, n rows, then "".
    assert len(lines) == n + 2 and lines[-1] == ""
    out = [lines[0] + "," + ",".join(PC_CSV_COLUMNS)]
    for k in range(n):
        method = str(pc_method[k])
        if any(c in method for c in ",\r\n\""):
            raise CollisionInputError(f"pc_method {method!r} cannot go in a CSV cell")
        out.append(f"{lines[k + 1]},{format_pc(pc[k])},{method}")
    text = "\n".join(out) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8", newline="")
    return text
