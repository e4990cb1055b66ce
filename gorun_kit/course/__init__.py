"""Running, checking and releasing the course as a whole.

* :mod:`.layout`  -- where the course tree and its parts are;
* :mod:`.markup`  -- nbgrader's solution / hidden-test markup, read and stripped (notebooks and lab sources);
* :mod:`.files`   -- the course files an exercise reads, found from wherever it runs;
* :mod:`.release` -- the one generator of student copies (``gorun-kit course release``);
* :mod:`.nbgrader` -- the exercises as an nbgrader course directory (``gorun-kit course export-nbgrader``);
* :mod:`.grade`   -- the grader students and CI share, scoring as nbgrader does (``gorun-kit course grade``),
  with :mod:`.sandbox` (bubblewrap, uids, limits), :mod:`.cellrun` (the student's and the checker's
  processes) and :mod:`.rpc` (what crosses between them); see docs/grading.md;
* :mod:`.classgrade` -- a whole class at once, gradebook and feedback (``gorun-kit course grade-class``);
* :mod:`.variant` -- per-student variants of the exercises, seeded by the student id;
* :mod:`.selfcheck` -- "check my work": an exercise's public checks, run in the student's own kernel;
* :mod:`.workspace` -- a student's working copy, and JupyterLab opened on it (``make lab``);
* :mod:`.claims`  -- every ledger row demonstrated, cited or marked not checkable;
* :mod:`.run`     -- the notebooks re-run against other Go releases (``gorun-kit course run``).

Use the submodules: ``from gorun_kit.course.release import release``,
``from gorun_kit.course.grade import grade``.
"""
