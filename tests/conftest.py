"""Test setup: Qt runs offscreen (no display needed) and numpy prints compactly."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
