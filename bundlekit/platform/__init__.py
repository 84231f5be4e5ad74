"""From bundle to live campaign: the platform commands of bundlekit.

``publish`` creates a competition from a bundle zip, ``submit`` sends a submission (and
follows it to its scores), ``smoke`` submits every baseline of a bundle and compares the
posted scores with the build's ``baselines.json``, ``results`` collects a campaign into a
folder (layout in docs/organisers-guide.md), ``rerun`` scores every submission of a phase
again. All talk to Codabench or AI4MediaBench through :mod:`bundlekit.platform.client`.
"""
