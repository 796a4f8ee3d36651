"""``simnet eval``: held-out edits on paintings, scored against true results that are built apart
from the product's motion and fade code (``truth.py``), by kind of edit (affine, non-rigid, moved
layer, large growth) and region layout (one region, cut by the border, two parts)."""
