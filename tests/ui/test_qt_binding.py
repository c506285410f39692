"""Guards against Qt binding bugs that would crash the window with a large roster."""

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem


def test_void_calls_do_not_leak_references_to_none(qapp):
    # PySide6 6.12.0 on Python 3.11 dropped a reference to None on each such call;
    # after a few thousand the interpreter aborts ("deallocating None").
    item = QStandardItem("x")
    before = sys.getrefcount(None)
    for _ in range(2000):
        item.setEditable(False)
        item.setToolTip("t")
        item.setData("v", Qt.ItemDataRole.UserRole)
    assert sys.getrefcount(None) >= before - 50
