"""A synthetic organisation, written in the formats real tenants export.

Typical use: ``generate(SynthConfig(people=2000, weeks=26, seed=7), Path("demo"))`` draws a
hierarchy of divisions, departments and teams, lets people join, leave and move over the weeks,
and writes ``hr/directory.csv`` plus one Microsoft Graph e-mail and one Teams usage report per
ISO week under ``m365/``, with a ``README.txt`` saying what was made. Everything comes from the
seed: the same config gives byte-identical files. The output feeds the demo, the integration
tests and the benchmarks; nothing here reads teamlens' own state.

For the hierarchy and people's traits, see ``organisation``; joiners, leavers and moves,
``workforce``; holidays and leave, ``holidays``; weekly activity, ``activity``; names and
identifiers, ``identity``; the file formats, ``m365_reports`` and ``directory``.
"""

from teamlens.domain.vendor_formats import EMAIL_HEADER, TEAMS_HEADER
from teamlens.synth.config import SynthConfig, SynthResult
from teamlens.synth.directory import DIRECTORY_HEADER
from teamlens.synth.generator import generate

__all__ = ["DIRECTORY_HEADER", "EMAIL_HEADER", "TEAMS_HEADER", "SynthConfig", "SynthResult", "generate"]
