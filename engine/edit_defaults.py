"""Defaults of the SIM-Net edit that the command line shows before any model is loaded (this
module imports nothing, so ``simnet`` lists them without importing torch)."""

#: Alignment steps and the resolution they run at; see models/refinement.py.
DEFAULT_ALIGN_STEPS = 60
DEFAULT_ALIGN_SIZE = 128
#: How the artwork may be read along the motion, the default first (``engine.render.RESAMPLING`` says how each is
#: done); the command line's choices and the editor's setting.
RESAMPLINGS = ("bilinear", "bicubic")
