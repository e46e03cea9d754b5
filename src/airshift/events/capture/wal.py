"""WAL capture for PostgreSQL: read Airflow's committed changes from a logical replication slot.

The database already writes every change to its write-ahead log; a logical replication slot with the
built-in `pgoutput` plugin and a publication on `task_instance` and `dag_run` decodes them, in commit
order, without a trigger on Airflow's tables: Airflow's own writes cost what they cost without airshift
(only `wal_level = logical` itself adds a little WAL).

The slot is read with `pg_logical_slot_peek_binary_changes` (a plain SQL call, no replication
connection) and advanced with `pg_replication_slot_advance` only after the relay has made the events
durable in the log. A crash at any point therefore replays from the last advanced position, and the log's
deduplication key ignores what it already holds: nothing is lost, nothing is logged twice.

What the trigger computes from the old row (the previous state; whether state or attempt changed at all)
is taken here from the previous change of the same row in the stream, or from the log for a row first seen
after a restart: updates of one row reach the WAL in the order they were made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from airshift.errors import AirshiftError
from airshift.events.capture.pgoutput import Begin, Commit, DecodeError, Decoder, Relation, RowChange
from airshift.events.capture.schema import ATTEMPT_COLUMN, DAG_RUN, TASK_INSTANCE
from airshift.events.database import mask
from airshift.events.model import NO_STATE, NewEvent

PUBLICATION = "airshift_events"
PLUGIN = "pgoutput"
# Above this much WAL held back by the slot, `status` warns: a stopped relay makes PostgreSQL keep every
# WAL segment since the slot's position, and a full disk stops the database.
RETAINED_WARNING_BYTES = 1 << 30
# Rows remembered for previous states; past it the oldest are forgotten and re-read from the log.
STATE_CACHE_SIZE = 200_000


def slot_name(database: str) -> str:
    """The slot of one database. Slot names are cluster-wide, so the database name is part of it (slot
    names allow only lower-case letters, digits and underscores, up to 63 characters)."""
    cleaned = re.sub(r"[^a-z0-9_]", "_", database.lower())
    name = f"airshift_events_{cleaned}"
    if len(name) <= 63 and cleaned == database:
        return name
    digest = hashlib.sha1(database.encode("utf-8")).hexdigest()[:8]
    return f"airshift_events_{cleaned[:38]}_{digest}"


@dataclass(frozen=True)
class WalStatus:
    wal_level: str
    slot: str
    slot_present: bool
    slot_active: bool
    publication_tables: tuple[str, ...]
    lag_bytes: int | None  # WAL written since the slot's confirmed position
    retained_bytes: int | None  # WAL PostgreSQL keeps for the slot
    wal_status: str | None  # reserved / extended / unreserved / lost (PostgreSQL 13+)
    pending_events: int | None = None  # transitions decoded from the slot, not relayed yet

    @property
    def installed(self) -> bool:
        return self.slot_present and {TASK_INSTANCE, DAG_RUN} <= set(self.publication_tables)

    @property
    def warnings(self) -> list[str]:
        found: list[str] = []
        if self.retained_bytes is not None and self.retained_bytes > RETAINED_WARNING_BYTES:
            found.append(
                f"the slot holds back {self.retained_bytes / (1 << 20):,.0f} MiB of WAL: is the relay running? "
                "PostgreSQL keeps every WAL segment since the slot's position until the relay advances it"
            )
        if self.wal_status == "lost":
            found.append(
                "PostgreSQL removed WAL this slot still needed (max_slot_wal_keep_size): events were lost; "
                "reinstall and reconcile"
            )
        if self.wal_level != "logical":
            found.append(f"wal_level is {self.wal_level!r}; the slot decodes nothing until it is 'logical'")
        return found


def _database(connection: Connection) -> str:
    return str(connection.execute(text("SELECT current_database()")).scalar_one())


def _friendly(engine: Engine, action: str, error: DBAPIError) -> AirshiftError:
    detail = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    return AirshiftError(f"{action} on {mask(engine.url)} failed: {detail}")


def check_requirements(connection: Connection, engine: Engine) -> None:
    """wal_level = logical and a role allowed to use replication slots, or a clear error saying how."""
    level = str(connection.execute(text("SHOW wal_level")).scalar_one())
    if level != "logical":
        raise AirshiftError(
            f"{mask(engine.url)}: wal_level is {level!r}; WAL capture needs wal_level = logical "
            "(postgresql.conf and a restart; Cloud SQL: flag cloudsql.logical_decoding=on; RDS/Aurora: "
            "parameter rds.logical_replication=1). Or install with --mode trigger"
        )
    allowed = connection.execute(
        text("SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user")
    ).scalar()
    if not allowed:
        raise AirshiftError(
            f"{mask(engine.url)}: the role has no REPLICATION attribute (ALTER ROLE ... REPLICATION; on "
            "Cloud SQL and RDS grant the provider's replication role). Or install with --mode trigger"
        )


def install(engine: Engine, schema: str) -> WalStatus:
    """Create the publication and the slot (each only if missing)."""
    tables = f'"{schema}"."{TASK_INSTANCE}", "{schema}"."{DAG_RUN}"'
    try:
        with engine.begin() as connection:
            check_requirements(connection, engine)
            present = _publication_tables(connection, schema)
            if not _publication_exists(connection):
                connection.exec_driver_sql(
                    f"CREATE PUBLICATION {PUBLICATION} FOR TABLE {tables} WITH (publish = 'insert, update')"
                )
            else:
                for table in (TASK_INSTANCE, DAG_RUN):
                    if table not in present:
                        connection.exec_driver_sql(
                            f'ALTER PUBLICATION {PUBLICATION} ADD TABLE "{schema}"."{table}"'
                        )
            database = _database(connection)
        # A slot cannot be created in a transaction that has written anything: its own transaction.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            name = slot_name(database)
            exists = connection.execute(
                text("SELECT 1 FROM pg_replication_slots WHERE slot_name = :slot"), {"slot": name}
            ).first()
            if not exists:
                connection.execute(
                    text("SELECT pg_create_logical_replication_slot(:slot, :plugin)"),
                    {"slot": name, "plugin": PLUGIN},
                )
    except DBAPIError as error:
        raise _friendly(engine, "installing the WAL capture", error) from None
    return status(engine, schema)


def uninstall(engine: Engine) -> WalStatus | None:
    """Drop the slot (PostgreSQL then frees the WAL it held) and the publication."""
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            name = slot_name(_database(connection))
            if connection.execute(
                text("SELECT 1 FROM pg_replication_slots WHERE slot_name = :slot"), {"slot": name}
            ).first():
                connection.execute(text("SELECT pg_drop_replication_slot(:slot)"), {"slot": name})
            connection.exec_driver_sql(f"DROP PUBLICATION IF EXISTS {PUBLICATION}")
    except DBAPIError as error:
        raise _friendly(engine, "removing the WAL capture", error) from None
    return None


def _publication_exists(connection: Connection) -> bool:
    return bool(
        connection.execute(
            text("SELECT 1 FROM pg_publication WHERE pubname = :p"), {"p": PUBLICATION}
        ).first()
    )


def _publication_tables(connection: Connection, schema: str) -> tuple[str, ...]:
    rows = connection.execute(
        text("SELECT tablename FROM pg_publication_tables WHERE pubname = :p AND schemaname = :s"),
        {"p": PUBLICATION, "s": schema},
    )
    return tuple(sorted(str(row[0]) for row in rows))


def is_installed(connection: Connection) -> bool:
    """Whether this database has airshift's slot (the relay then reads the WAL, not an outbox)."""
    name = slot_name(_database(connection))
    return bool(
        connection.execute(
            text("SELECT 1 FROM pg_replication_slots WHERE slot_name = :slot"), {"slot": name}
        ).first()
    )


def status(engine: Engine, schema: str) -> WalStatus:
    try:
        with engine.connect() as connection:
            level = str(connection.execute(text("SHOW wal_level")).scalar_one())
            name = slot_name(_database(connection))
            row = connection.execute(
                text(
                    "SELECT active, "
                    "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), "
                    "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), wal_status "
                    "FROM pg_replication_slots WHERE slot_name = :slot"
                ),
                {"slot": name},
            ).first()
            tables = _publication_tables(connection, schema)
    except DBAPIError as error:
        raise _friendly(engine, "reading the WAL capture status", error) from None
    pending = None
    if row is not None and level == "logical" and not bool(row[0]):
        pending = WalSource(engine, schema).count()  # only while no relay holds the slot
    return WalStatus(
        pending_events=pending,
        wal_level=level,
        slot=name,
        slot_present=row is not None,
        slot_active=bool(row[0]) if row else False,
        publication_tables=tables,
        lag_bytes=int(row[1]) if row and row[1] is not None else None,
        retained_bytes=int(row[2]) if row and row[2] is not None else None,
        wal_status=str(row[3]) if row and row[3] is not None else None,
    )


# ----------------------------------------------------------------------------------------------------
# Reading: the slot as the relay's source (the same fetch / acknowledge contract as the outbox)


def _iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


# PostgreSQL's text output of a timestamptz: `2026-12-03 20:00:00.93425+00` (fraction without trailing
# zeros, offset without minutes when they are zero).
_PG_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::(\d{2}))?$")


def _json_like_timestamp(raw: str | None) -> str | None:
    """A timestamp exactly as the trigger writes it (`to_jsonb` text: `2026-12-03T20:00:00.93425+00:00`),
    from the text pgoutput sends (`2026-12-03 20:00:00.93425+00`; the session runs in UTC).

    Rewritten as text, not parsed and re-rendered: `datetime.isoformat` would pad the fraction to six
    digits (`.934250`) where PostgreSQL strips trailing zeros, and both capture modes must give one value."""
    if raw is None:
        return None
    match = _PG_TIMESTAMP.match(raw)
    if match is None:
        return raw
    day, time, offset_hours, offset_minutes = match.groups()
    return f"{day}T{time}{offset_hours}:{offset_minutes or '00'}"


RowKey = tuple[str, str, str, int]  # (dag_id, run_id, task_id, map_index); task_id "" for a DAG run
# The log's last (state, attempt) of every row of one DAG run (dag_id, run_id).
RunStates = Callable[[str, str], dict[RowKey, tuple[str, int]]]


class WalSource:
    """Captured transitions read from the slot. `fetch` decodes whole transactions; `acknowledge` (with the
    ids of everything the last `fetch` returned, once the log holds them) advances the slot past them."""

    def __init__(
        self,
        engine: Engine,
        schema: str,
        last_state_in_log: RunStates | None = None,
        cache_size: int = STATE_CACHE_SIZE,
    ) -> None:
        self.engine = engine
        self.schema = schema
        self.last_state_in_log = last_state_in_log
        self._states: OrderedDict[RowKey, tuple[str, int]] = OrderedDict()
        self._cache_size = cache_size
        self._run_ids: dict[tuple[str, str], str] = {}  # (dag_id, execution_date) -> run_id (1.10)
        self._clear_numbers: dict[tuple[str, str], int] = {}  # (dag_id, run_id) -> clear number
        self._advance_to: int | None = None
        self._has_clear_number: bool | None = None
        self._runs_read_from_log: OrderedDict[tuple[str, str], None] = OrderedDict()
        with engine.connect() as connection:
            self.slot = slot_name(_database(connection))

    # The relay's contract ------------------------------------------------------------------------

    def fetch(self, limit: int) -> list[tuple[int, NewEvent]]:
        """Events of the next committed transactions (at least `limit` changes' worth, whole transactions),
        in commit order, as (end position of their transaction, event)."""
        events, last_end = self._peek(limit)
        self._advance_to = last_end
        if not events and last_end is not None:
            self._advance(last_end)  # only changes the EventStream ignores: nothing to make durable
        return events

    def acknowledge(self, ids: Sequence[int]) -> None:
        """The log holds every event of the last fetch: let PostgreSQL forget those transactions."""
        if not ids:
            return
        target = max(max(ids), self._advance_to or 0)
        self._advance(target)

    def count(self) -> int:
        """Transitions waiting in the slot (decoded without consuming them; bounded to 100,000 changes)."""
        saved = (OrderedDict(self._states), dict(self._run_ids), dict(self._clear_numbers))
        try:
            return len(self._peek(100_000)[0])
        finally:
            self._states, self._run_ids, self._clear_numbers = saved

    def _peek(self, limit: int) -> tuple[list[tuple[int, NewEvent]], int | None]:
        """Decode the slot's next changes without consuming them (the slot moves only in _advance)."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SET TimeZone = 'UTC'")
                rows = connection.execute(
                    text(
                        "SELECT data FROM pg_logical_slot_peek_binary_changes(:slot, NULL, :limit, "
                        "'proto_version', '1', 'publication_names', :publication)"
                    ),
                    {"slot": self.slot, "limit": max(limit, 1), "publication": PUBLICATION},
                ).all()
                return self._decode([bytes(row[0]) for row in rows], connection)
        except DBAPIError as error:
            raise _friendly(self.engine, "reading the WAL capture slot", error) from None

    # Decoding ------------------------------------------------------------------------------------

    def _advance(self, lsn: int) -> None:
        from airshift.events.capture.pgoutput import lsn_text

        try:
            with self.engine.connect() as connection:
                connection.execute(
                    text("SELECT pg_replication_slot_advance(:slot, CAST(:lsn AS pg_lsn))"),
                    {"slot": self.slot, "lsn": lsn_text(lsn)},
                )
                connection.commit()
        except DBAPIError as error:
            raise _friendly(self.engine, "advancing the WAL capture slot", error) from None

    def _decode(
        self, messages: list[bytes], connection: Connection
    ) -> tuple[list[tuple[int, NewEvent]], int | None]:
        decoder = Decoder()
        events: list[tuple[int, NewEvent]] = []
        pending: list[NewEvent] = []
        committed_at = ""
        last_end: int | None = None
        try:
            for data in messages:
                message = decoder.decode(data)
                if isinstance(message, Begin):
                    pending = []
                    committed_at = _iso_utc(message.committed_at)
                elif isinstance(message, RowChange):
                    relation = decoder.relations[message.relation_id]
                    event = self._event(relation, message, committed_at, connection)
                    if event is not None:
                        pending.append(event)
                elif isinstance(message, Commit):
                    events.extend((message.end_lsn, event) for event in pending)
                    pending = []
                    last_end = message.end_lsn
        except DecodeError as error:
            raise AirshiftError(
                f"{mask(self.engine.url)}: cannot decode the WAL capture slot: {error}"
            ) from None
        return events, last_end

    def _event(
        self, relation: Relation, change: RowChange, committed_at: str, connection: Connection
    ) -> NewEvent | None:
        if relation.namespace != self.schema or relation.name not in (TASK_INSTANCE, DAG_RUN):
            return None
        row = change.values
        table = relation.name
        dag_id = row.get("dag_id") or ""
        attempt = int(row.get(ATTEMPT_COLUMN[table]) or 0)
        state = row.get("state") or NO_STATE
        if table == DAG_RUN:
            run_id = row.get("run_id") or ""
            self._clear_numbers[(dag_id, run_id)] = attempt
            execution_date = row.get("execution_date")
            if execution_date is not None:
                self._run_ids[(dag_id, execution_date)] = run_id
            key: RowKey = (dag_id, run_id, "", -1)
            run_attempt = attempt
            map_index = -1
        else:
            run_id = row.get("run_id") or self._run_id_110(dag_id, row.get("execution_date"), connection)
            raw_index = row.get("map_index")
            map_index = int(raw_index) if raw_index is not None else -1  # 1.10-2.2: no mapped tasks
            key = (dag_id, run_id, row.get("task_id") or "", map_index)
            run_attempt = self._clear_number(dag_id, run_id, connection)
        previous = self._previous(key) if change.operation == "update" else None
        self._remember(key, (state, attempt))
        if change.operation == "update" and previous == (state, attempt):
            return None  # a heartbeat, a hostname...: neither state nor attempt changed
        return NewEvent(
            kind=table,
            dag_id=dag_id,
            run_id=run_id,
            task_id=row.get("task_id") or "",
            map_index=map_index,
            try_number=attempt,
            run_attempt=run_attempt,
            state=state,
            previous_state=(previous[0] if previous and previous[0] != NO_STATE else None)
            if change.operation == "update"
            else None,
            logical_date=_json_like_timestamp(row.get("logical_date") or row.get("execution_date")),
            changed_at=committed_at,
            source="wal",
        )

    def _previous(self, key: RowKey) -> tuple[str, int] | None:
        if key not in self._states and self.last_state_in_log is not None:
            run = (key[0], key[1])
            if run not in self._runs_read_from_log:
                # A row not seen since the relay started: what the log last recorded for its whole run.
                for row, value in self.last_state_in_log(*run).items():
                    if row not in self._states:  # never older values over what the stream showed
                        self._remember(row, value)
                self._runs_read_from_log[run] = None
                while len(self._runs_read_from_log) > self._cache_size // 100:
                    self._runs_read_from_log.popitem(last=False)
        if key in self._states:
            self._states.move_to_end(key)
            return self._states[key]
        return None

    def _remember(self, key: RowKey, value: tuple[str, int]) -> None:
        self._states[key] = value
        self._states.move_to_end(key)
        while len(self._states) > self._cache_size:
            (dag_id, run_id, _task, _index), _value = self._states.popitem(last=False)
            self._runs_read_from_log.pop((dag_id, run_id), None)  # read that run again if needed

    def _run_id_110(self, dag_id: str, execution_date: str | None, connection: Connection) -> str:
        """Airflow 1.10 task instances carry only an execution_date: their run's id by that date."""
        if execution_date is None:
            return ""
        cached = self._run_ids.get((dag_id, execution_date))
        if cached is not None:
            return cached
        found = connection.execute(
            text(
                f'SELECT run_id FROM "{self.schema}"."{DAG_RUN}" WHERE dag_id = :dag_id '
                "AND execution_date = CAST(:execution_date AS timestamptz)"
            ),
            {"dag_id": dag_id, "execution_date": execution_date},
        ).scalar()
        run_id = str(found or "")
        self._run_ids[(dag_id, execution_date)] = run_id
        return run_id

    def _clear_number(self, dag_id: str, run_id: str, connection: Connection) -> int:
        """The run's clear number; read from the database when the stream has not shown the run yet."""
        cached = self._clear_numbers.get((dag_id, run_id))
        if cached is not None:
            return cached
        if self._has_clear_number is None:
            self._has_clear_number = bool(
                connection.execute(
                    text(
                        "SELECT 1 FROM information_schema.columns WHERE table_schema = :schema "
                        "AND table_name = :table AND column_name = 'clear_number'"
                    ),
                    {"schema": self.schema, "table": DAG_RUN},
                ).first()
            )
        number = 0  # before Airflow 2.8 runs have no clear number
        if self._has_clear_number:
            found = connection.execute(
                text(
                    f'SELECT clear_number FROM "{self.schema}"."{DAG_RUN}" '
                    "WHERE dag_id = :dag_id AND run_id = :run_id"
                ),
                {"dag_id": dag_id, "run_id": run_id},
            ).scalar()
            number = int(found or 0)
        self._clear_numbers[(dag_id, run_id)] = number
        return number
