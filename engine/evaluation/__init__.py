"""``simnet eval``: held-out edits on paintings, scored against their known true results."""
