"""Prediction types: what a participant's ``Fusion.predict`` returns, one type per kind of output.

Each type loads a split's inducers and ground truth as the pandas objects participants
work with, checks a prediction (one-line :class:`~scoring_common.errors.ParticipantError`),
writes it as the run the scoring program reads with its strict reader
(``scoring_common.formats``), and computes the leaderboard's metrics locally with the
scoring side's own metric functions (``scoring_common.metrics``):

=====================  ==========================================  ===========================
type                   output                                      kinds (``TASK.kind``)
=====================  ==========================================  ===========================
``ItemScores``         a score per item, ranked per query (MAP@k)  ranking (fusion-int)
``ItemValues``         a number per item                           regression (fusion-mem)
``ItemClasses``        a class label per item                      classification
``RankedLists``        a ranked list of items per query            retrieval (fusion-div)
``LabelSets``          a set of labels per item                    multilabel (fusion-cap)
=====================  ==========================================  ===========================

A task's ``fusion_io.py`` declares one instance (its names: item columns, file names,
classes) and exposes its methods as the module's functions (``load_inducers``,
``load_truth``, ``check_prediction``, ``write_run``, ...), the public API of the starting
kits. These modules import pandas: they run on the ingestion side only. The scoring side
never imports this package, and this ``__init__`` imports nothing.
"""
