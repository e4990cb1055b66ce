"""Running, checking and releasing the course as a whole.

* :mod:`.markup`  -- nbgrader's solution / hidden-test markup, read and stripped;
* :mod:`.release` -- student copies of the exercises (``gorun-kit course release``);
* :mod:`.grade`   -- the grader students and CI share (``gorun-kit course grade``);
* :mod:`.claims`  -- every ledger row demonstrated, cited or marked not checkable;
* :mod:`.run`     -- the notebooks re-run against other Go releases (``gorun-kit course run``).

Use the submodules: ``from gorun_kit.course.release import release``,
``from gorun_kit.course.grade import grade``.
"""
