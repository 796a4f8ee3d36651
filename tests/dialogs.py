"""Modal message boxes that answer at once and are recorded, so editor tests never block on them."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox


def answer_message_boxes(monkeypatch, *, warning, question, information=QMessageBox.Ok) -> list[tuple[str, str]]:
    """Make QMessageBox.warning/question/information return the given buttons; returns the
    list that records (kind, text) of every box shown."""
    shown: list[tuple[str, str]] = []

    def answer(kind: str, reply):
        def box(parent, title, text, *args, **kwargs):
            shown.append((kind, text))
            return reply
        return box

    monkeypatch.setattr(QMessageBox, "warning", answer("warning", warning))
    monkeypatch.setattr(QMessageBox, "question", answer("question", question))
    monkeypatch.setattr(QMessageBox, "information", answer("information", information))
    return shown
