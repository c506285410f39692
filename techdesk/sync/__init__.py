"""Team sync through a shared folder, read top to bottom (docs/sync-format.md):

- format/   what is in the shared folder: names.py (which file names mean what),
            revisions.py (the JSON document and its hash), atomic.py (create a file
            without ever replacing one), folder.py (open, write, scan).
- engine/   the local half, inside one SQLite transaction: state.py (bookkeeping
            tables), codec.py (field checks, flat kinds from store/fields.py),
            roster.py and runs.py (the relational kinds), records.py (every kind),
            batch.py (decide per record: push, take, conflict; apply), merge.py
            (`conflicts resolve --merge`).

services/sync.py is the async service the CLI and the window call. store/ does not
import this package; this package imports store/ (tables, fields) and core/.
Importing `techdesk.sync` loads the format only (the CLI's error type is here).
"""

from .format import *  # noqa: F403 - the format's public API, as before the split
from .format import __all__  # noqa: F401
