"""Numbered schema migrations of the local store.

Each entry upgrades the schema from version N-1 to N; PRAGMA user_version holds
the current version. Append new migrations; never edit a released one.
"""

MIGRATIONS: list[str] = [
    # 1: roster, runs, audit
    """
    CREATE TABLE clients (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE,
        user TEXT, port INTEGER, jump TEXT, key TEXT,
        updated TEXT NOT NULL
    );
    CREATE TABLE sites (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        user TEXT, port INTEGER, jump TEXT, key TEXT,
        updated TEXT NOT NULL,
        UNIQUE (client_id, name)
    );
    CREATE TABLE hosts (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE,
        address TEXT, port INTEGER, user TEXT,
        client_id INTEGER REFERENCES clients(id),
        site_id INTEGER REFERENCES sites(id),
        tags TEXT NOT NULL DEFAULT '[]',
        os TEXT, jump TEXT, key TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX hosts_client ON hosts(client_id);
    CREATE INDEX hosts_site ON hosts(site_id);

    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        bundle TEXT NOT NULL,
        bundle_version INTEGER,
        started TEXT NOT NULL,
        finished TEXT,
        technician TEXT NOT NULL,
        trigger TEXT NOT NULL DEFAULT 'manual'
    );
    CREATE TABLE run_hosts (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        status TEXT NOT NULL,
        started TEXT NOT NULL,
        duration_s REAL NOT NULL,
        error_kind TEXT, error_message TEXT,
        PRIMARY KEY (run_id, host)
    );
    CREATE INDEX run_hosts_host ON run_hosts(host, started);
    CREATE TABLE check_results (
        run_id TEXT NOT NULL,
        host TEXT NOT NULL,
        check_id TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        summary TEXT NOT NULL,
        exit_code INTEGER,
        duration_s REAL NOT NULL,
        output TEXT NOT NULL,
        PRIMARY KEY (run_id, host, check_id),
        FOREIGN KEY (run_id, host) REFERENCES run_hosts(run_id, host) ON DELETE CASCADE
    );
    CREATE TABLE metrics (
        run_id TEXT NOT NULL,
        host TEXT NOT NULL,
        check_id TEXT NOT NULL,
        label TEXT NOT NULL,
        ts TEXT NOT NULL,
        value REAL NOT NULL,
        uom TEXT NOT NULL DEFAULT '',
        warn REAL, crit REAL, min REAL, max REAL,
        PRIMARY KEY (run_id, host, check_id, label),
        FOREIGN KEY (run_id, host) REFERENCES run_hosts(run_id, host) ON DELETE CASCADE
    );
    CREATE INDEX metrics_series ON metrics(host, check_id, label, ts);

    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        technician TEXT NOT NULL,
        device TEXT NOT NULL,
        host TEXT,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        script_sha256 TEXT,
        outcome TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_host ON audit(host);
    CREATE TABLE audit_scripts (
        sha256 TEXT PRIMARY KEY,
        text TEXT NOT NULL
    );
    """,
    # 2: service notes and visits
    """
    CREATE TABLE notes (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        author TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        host TEXT, client TEXT, site TEXT,
        followups TEXT NOT NULL DEFAULT '[]',
        runs TEXT NOT NULL DEFAULT '[]',
        visit_id TEXT
    );
    CREATE INDEX notes_host ON notes(host);
    CREATE INDEX notes_client ON notes(client);
    CREATE TABLE visits (
        id TEXT PRIMARY KEY,
        client TEXT NOT NULL,
        site TEXT,
        technician TEXT NOT NULL,
        started TEXT NOT NULL,
        stopped TEXT,
        summary TEXT NOT NULL DEFAULT '',
        checklist TEXT NOT NULL DEFAULT '[]',
        hosts TEXT NOT NULL DEFAULT '[]',
        runs TEXT NOT NULL DEFAULT '[]',
        billable_minutes INTEGER
    );
    CREATE INDEX visits_client ON visits(client, started);
    """,
    # 3: team sync state (techdesk/store/syncstate.py, docs/sync-format.md "Sync engine").
    # No ';' in these comments: the migration runner splits on it.
    """
    CREATE TABLE sync_revs (
        rev TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        parents TEXT NOT NULL,
        author TEXT NOT NULL,
        device TEXT NOT NULL,
        time TEXT NOT NULL,
        deleted INTEGER NOT NULL,
        content TEXT NOT NULL,
        body TEXT,
        head INTEGER NOT NULL,
        published INTEGER NOT NULL
    );
    CREATE INDEX sync_revs_record ON sync_revs(kind, id, head);
    CREATE INDEX sync_revs_outbox ON sync_revs(published) WHERE published = 0;
    CREATE TABLE sync_state (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        base TEXT NOT NULL DEFAULT '[]',
        body_sha TEXT,
        alias TEXT,
        conflict INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
    CREATE INDEX sync_state_conflicts ON sync_state(conflict) WHERE conflict = 1;
    CREATE TABLE sync_dirty (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
    CREATE TABLE sync_seen (token TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE sync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    """,
    # 4: proactive monitoring (techdesk/store/monitor.py, docs/proactive.md "In the app").
    # Schedules travel with the roster (sync kind "schedule", keyed by uid). The rest is
    # this device's own bookkeeping and never travels. No ';' in these comments.
    """
    CREATE TABLE schedules (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        bundle TEXT NOT NULL,
        target TEXT NOT NULL,
        interval_s INTEGER NOT NULL,
        windows TEXT NOT NULL DEFAULT '',
        enabled INTEGER NOT NULL DEFAULT 1,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE schedule_hosts (
        schedule_uid TEXT NOT NULL,
        host TEXT NOT NULL,
        last_run TEXT NOT NULL,
        run_id TEXT,
        PRIMARY KEY (schedule_uid, host)
    ) WITHOUT ROWID;
    CREATE TABLE host_health (
        host TEXT PRIMARY KEY,
        last_attempt TEXT,
        last_success TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_retry TEXT,
        last_error TEXT
    ) WITHOUT ROWID;
    CREATE TABLE alert_states (
        host TEXT NOT NULL,
        check_id TEXT NOT NULL,
        state TEXT NOT NULL,
        open INTEGER NOT NULL DEFAULT 0,
        updated TEXT NOT NULL,
        PRIMARY KEY (host, check_id)
    ) WITHOUT ROWID;
    CREATE INDEX alert_states_open ON alert_states(open) WHERE open = 1;
    CREATE TABLE alert_events (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        event TEXT NOT NULL,
        host TEXT NOT NULL,
        check_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        opened_at TEXT,
        notified INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX alert_events_alert ON alert_events(host, check_id, seq);
    CREATE INDEX alert_events_unsent ON alert_events(notified) WHERE notified = 0;
    CREATE TABLE forecast_cache (
        host TEXT NOT NULL,
        check_id TEXT NOT NULL,
        label TEXT NOT NULL,
        last_ts REAL NOT NULL,
        computed REAL NOT NULL,
        days_left REAL,
        forecast TEXT NOT NULL,
        PRIMARY KEY (host, check_id, label)
    ) WITHOUT ROWID;
    CREATE TABLE monitor_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    """,
    # 5: change tracking for team sync: every write to a record that travels marks it in
    # sync_dirty, so a sync reads only what changed (techdesk/sync/engine/state.py).
    # Before this migration the triggers were created at service start as sync1_*.
    """
    DROP TRIGGER IF EXISTS sync1_notes_insert;
    DROP TRIGGER IF EXISTS sync1_notes_update;
    DROP TRIGGER IF EXISTS sync1_notes_delete;
    DROP TRIGGER IF EXISTS sync1_visits_insert;
    DROP TRIGGER IF EXISTS sync1_visits_update;
    DROP TRIGGER IF EXISTS sync1_visits_delete;
    DROP TRIGGER IF EXISTS sync1_hosts_insert;
    DROP TRIGGER IF EXISTS sync1_hosts_update;
    DROP TRIGGER IF EXISTS sync1_hosts_delete;
    DROP TRIGGER IF EXISTS sync1_clients_insert;
    DROP TRIGGER IF EXISTS sync1_clients_update;
    DROP TRIGGER IF EXISTS sync1_clients_delete;
    DROP TRIGGER IF EXISTS sync1_sites_insert;
    DROP TRIGGER IF EXISTS sync1_sites_update;
    DROP TRIGGER IF EXISTS sync1_sites_delete;
    DROP TRIGGER IF EXISTS sync1_schedules_insert;
    DROP TRIGGER IF EXISTS sync1_schedules_update;
    DROP TRIGGER IF EXISTS sync1_schedules_delete;
    CREATE TRIGGER sync_notes_insert AFTER INSERT ON notes BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('note', NEW.id);
    END;
    CREATE TRIGGER sync_notes_update AFTER UPDATE ON notes BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('note', NEW.id);
        INSERT OR IGNORE INTO sync_dirty VALUES ('note', OLD.id);
    END;
    CREATE TRIGGER sync_notes_delete AFTER DELETE ON notes BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('note', OLD.id);
    END;
    CREATE TRIGGER sync_visits_insert AFTER INSERT ON visits BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('visit', NEW.id);
    END;
    CREATE TRIGGER sync_visits_update AFTER UPDATE ON visits BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('visit', NEW.id);
        INSERT OR IGNORE INTO sync_dirty VALUES ('visit', OLD.id);
    END;
    CREATE TRIGGER sync_visits_delete AFTER DELETE ON visits BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('visit', OLD.id);
    END;
    CREATE TRIGGER sync_hosts_insert AFTER INSERT ON hosts BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('host', NEW.uid);
    END;
    CREATE TRIGGER sync_hosts_update AFTER UPDATE ON hosts BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('host', NEW.uid);
        INSERT OR IGNORE INTO sync_dirty VALUES ('host', OLD.uid);
    END;
    CREATE TRIGGER sync_hosts_delete AFTER DELETE ON hosts BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('host', OLD.uid);
    END;
    CREATE TRIGGER sync_clients_insert AFTER INSERT ON clients BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('client', NEW.uid);
    END;
    CREATE TRIGGER sync_clients_update AFTER UPDATE ON clients BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('client', NEW.uid);
        INSERT OR IGNORE INTO sync_dirty SELECT 'site', uid FROM sites WHERE client_id = NEW.id;
        INSERT OR IGNORE INTO sync_dirty SELECT 'host', uid FROM hosts WHERE client_id = NEW.id;
        INSERT OR IGNORE INTO sync_dirty VALUES ('client', OLD.uid);
    END;
    CREATE TRIGGER sync_clients_delete AFTER DELETE ON clients BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('client', OLD.uid);
    END;
    CREATE TRIGGER sync_sites_insert AFTER INSERT ON sites BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('site', NEW.uid);
    END;
    CREATE TRIGGER sync_sites_update AFTER UPDATE ON sites BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('site', NEW.uid);
        INSERT OR IGNORE INTO sync_dirty SELECT 'host', uid FROM hosts WHERE site_id = NEW.id;
        INSERT OR IGNORE INTO sync_dirty VALUES ('site', OLD.uid);
    END;
    CREATE TRIGGER sync_sites_delete AFTER DELETE ON sites BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('site', OLD.uid);
    END;
    CREATE TRIGGER sync_schedules_insert AFTER INSERT ON schedules BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('schedule', NEW.uid);
    END;
    CREATE TRIGGER sync_schedules_update AFTER UPDATE ON schedules BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('schedule', NEW.uid);
        INSERT OR IGNORE INTO sync_dirty VALUES ('schedule', OLD.uid);
    END;
    CREATE TRIGGER sync_schedules_delete AFTER DELETE ON schedules BEGIN
        INSERT OR IGNORE INTO sync_dirty VALUES ('schedule', OLD.uid);
    END;
    """,
    # 6: notes pinned "know before you go": shown first in the visit briefing.
    """
    ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: care reports made by the sweep at the end of each month (services/care_schedule.py).
    # This device's own: the folder is a path on this machine. No ';' in these comments.
    """
    CREATE TABLE care_report_schedules (
        client TEXT PRIMARY KEY,
        folder TEXT NOT NULL,
        format TEXT NOT NULL DEFAULT 'pdf',
        last_period TEXT,
        created TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 8: trust (docs/sync-format.md "Trust model"). trash: the last body of each deleted
    # note, visit and host, restorable. schedule_approvals: the exact version of a
    # schedule a technician enabled on this device (a teammate's schedule runs only
    # then: the schedules that exist when upgrading keep running). A secret's endpoint
    # is kept with it in the keyring, not here.
    """
    CREATE TABLE trash (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        deleted_at TEXT NOT NULL,
        deleted_by TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
    CREATE TABLE schedule_approvals (
        uid TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        approved_at TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO schedule_approvals (uid, version, approved_at)
        SELECT uid, bundle || char(31) || target || char(31) || interval_s || char(31) || windows,
               strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') FROM schedules;
    """,
    # 9: audit anchor: how many entries and which was last, written with every entry in
    # the same transaction; deleting audit rows does not update it (store/audit.py)
    """
    CREATE TABLE audit_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        entries INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        last_hash TEXT NOT NULL
    );
    INSERT INTO audit_anchor (id, entries, last_seq, last_hash)
        SELECT 1, COUNT(*), COALESCE(MAX(seq), 0),
               COALESCE((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1),
                        '0000000000000000000000000000000000000000000000000000000000000000')
        FROM audit;
    """,
    # 10: each check's current state: its latest completed result (store/runs.py
    # current_checks). Folded in from check_results past `seen` on read, so runs,
    # sync imports and older databases all arrive without triggers.
    """
    CREATE TABLE check_current (
        host TEXT NOT NULL,
        check_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        started TEXT NOT NULL,
        status TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        PRIMARY KEY (host, check_id)
    ) WITHOUT ROWID;
    CREATE TABLE check_current_seen (id INTEGER PRIMARY KEY CHECK (id = 0), seen INTEGER NOT NULL);
    INSERT INTO check_current_seen VALUES (0, 0);
    """,
    # 11: port forwards saved with a host (services/tunnels.py); they go with the host
    """
    CREATE TABLE tunnels (
        id INTEGER PRIMARY KEY,
        host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
        label TEXT NOT NULL DEFAULT '',
        local_port INTEGER NOT NULL DEFAULT 0,
        target_host TEXT NOT NULL,
        target_port INTEGER NOT NULL
    );
    CREATE INDEX tunnels_host ON tunnels(host_id);
    """,
    # 12: files kept with a note: [{name, sha256, size, source}]; the bytes are in
    # <workspace>/attachments/<sha256> (services/attachments.py)
    """
    ALTER TABLE notes ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
    """,
    # 13: a sent script kept as its run-independent text plus the run's values (the
    # nonce; tokens where they are in the text): tens of KB once per bundle version,
    # not per run (store/audit.py). audit_scripts keeps texts stored whole.
    """
    CREATE TABLE audit_templates (
        sha256 TEXT PRIMARY KEY,
        text TEXT NOT NULL
    );
    CREATE TABLE audit_script_fills (
        sha256 TEXT PRIMARY KEY,
        template_sha256 TEXT NOT NULL,
        fills TEXT NOT NULL
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
