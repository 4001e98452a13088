"""When training goes wrong: a message that says what happened, with what helps as buttons.

The training loop diagnoses (:mod:`bpstudio.core.health`): a step that diverged, weights that
blew up, a network that stopped learning (dead ReLUs, saturated neurons). This box shows the
diagnosis and turns its remedies into one click each: go back to the last healthy weights,
reset to the seeded start, or use the smaller η it suggests.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from bpstudio.gui.numbers import format_number

TITLES = {
    "diverged": "Training diverged",
    "exploding": "The weights blew up",
    "dead": "The network stopped learning",
}


def show_diagnosis(window, diagnosis) -> QMessageBox:
    """Open (without blocking) the box for ``diagnosis``; returns it (its buttons are named)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        TITLES.get(diagnosis.kind, "Training stopped"),
        diagnosis.message + "\n\nTraining is paused.",
        QMessageBox.StandardButton.NoButton,
        window,
    )
    box.setObjectName("diagnosisBox")
    actions = {}
    for remedy in diagnosis.remedies:
        button_and_action = _remedy(window, diagnosis, remedy)
        if button_and_action is None:
            continue
        text, name, action = button_and_action
        button = box.addButton(text, QMessageBox.ButtonRole.ActionRole)
        button.setObjectName(name)
        actions[button] = action
    box.addButton(QMessageBox.StandardButton.Close)
    box.buttonClicked.connect(lambda button: actions.get(button, lambda: None)())
    box.open()
    return box


def _remedy(window, diagnosis, remedy):
    controller = window.controller
    if remedy == "restore_checkpoint" and diagnosis.checkpoint is not None:
        batch = diagnosis.checkpoint
        return (
            f"Go back to mini-batch {batch}",
            "diagnosisRestore",
            lambda: controller.restore_checkpoint(batch),
        )
    if remedy == "reset":
        return "Reset to the seeded start", "diagnosisReset", controller.reset
    if remedy == "smaller_eta" and diagnosis.suggested_eta:
        eta = diagnosis.suggested_eta
        return (
            f"Use η = {format_number(eta)}",
            "diagnosisEta",
            lambda: window.hyper.eta.setValue(eta),  # the form forwards it as any change
        )
    return None
