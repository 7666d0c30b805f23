"""Study mode: an exam-style quiz backed by measured evidence, and a check of the seed note's claims.

`comparison.study.bank` holds the question bank (data in `questions.json`), `comparison.study.quiz` runs a
session, `comparison.study.claims` sets the note's trade-off claims against a report, and
`comparison.study.cli` registers `python -m comparison study`.
"""
