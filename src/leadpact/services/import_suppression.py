"""Setting aside the rows of erased people in the chunks an import or an event batch lands.

A `Screen` holds the workspace's suppression list (`store.suppression`) as one import sees it:
read once when the import starts, and checked again inside each chunk's write transaction
(one count query per chunk; read again only when an erasure added to it meanwhile).

- A leads row is set aside when its `id` or its `email` is on the list. That needs a hash of
  both values of every row, so it is done only when the list is not empty; the rows are
  screened on the reading thread, and again in the write transaction when the list grew.
- An activity, touch or deal row names its lead by `lead_id`. An erased lead's id is no longer
  in the workspace, so only the rows whose lead is unknown (already on their way to the
  rejects) are hashed, to tell "erased earlier" from "not imported yet".

Rows set aside this way are not rejects: they are reported by line only (`Chunk.suppressed`),
and their text is never written anywhere (the rejects file would keep the person's data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.store.suppression import Identifier, current_suppressions, load_suppressions

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from leadpact.services.import_convert import Chunk

Mask = np.ndarray[Any, np.dtype[np.bool_]]

#: Why a leads row (or lead event) was set aside.
ERASED_PERSON = "the person was erased earlier (their id or email is on the suppression list)"
#: Why an activity, touch or deal row (or event) was set aside.
ERASED_LEAD = "its lead was erased earlier (the lead_id is on the suppression list)"


class Screen:
    """The suppression list of one import (or event batch), and the checks against it.

    Args:
        conn: the import's connection, outside a transaction or inside one.
    """

    def __init__(self, conn: Connection) -> None:
        if conn.in_transaction():
            self.list = load_suppressions(conn)
        else:
            with conn.begin():
                self.list = load_suppressions(conn)

    def refresh(self, conn: Connection) -> None:
        """Inside a chunk's write transaction: catch up with erasures made since the last look
        (on PostgreSQL, also keep new ones out until the transaction ends)."""
        self.list = current_suppressions(conn, self.list)

    def leads(self, chunk: Chunk) -> bool:
        """Set aside the leads rows whose id or email is on the list (unless the chunk was
        screened against this list already); returns whether any was."""
        suppressions = self.list
        if chunk.screened is suppressions:
            return False
        chunk.screened = suppressions
        if not suppressions.size or not len(chunk.lines):
            return False
        values = chunk.values
        hit = np.array(suppressions.matches(Identifier.ID, values["id"].to_pylist()), dtype=bool)
        if "email" in values:
            hit |= np.array(
                suppressions.matches(Identifier.EMAIL, values["email"].to_pylist()), dtype=bool
            )
        if not hit.any():
            return False
        chunk.suppressed.extend(chunk.lines[hit].tolist())
        chunk.keep(~hit)
        if chunk.history is not None:  # the stage history of those rows goes too
            history = chunk.history
            chunk.history = history.filter(pc.is_in(history.column("line"), pa.array(chunk.lines)))
        return True

    def lead_ids(self, lead_ids: pa.Array) -> Mask:
        """Which of these lead ids are on the list."""
        if not self.list.size:
            return np.zeros(len(lead_ids), dtype=bool)
        return np.array(self.list.matches(Identifier.ID, lead_ids.to_pylist()), dtype=bool)
