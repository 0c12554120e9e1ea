"""The demo district: grid tree, skills, people, partner teams and draft campaigns, built in bulk."""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Table, delete, exists, func, insert, select, text

from accounts.models import User
from accounts.users import create_user
from campaigns.models import Campaign, Priority
from campaigns.services import draft_campaign
from core.kinds import CampaignKind
from core.scope import Role, Scope
from demo import names
from extensions import db
from grids.models import Grid
from grids.paths import child_path
from volunteers.availability import windows_to_mask
from volunteers.models import (AvailabilityWindow, BlackoutDate, ChannelConsent, Identity, Volunteer,
                               VolunteerSkill, VolunteerStatus)
from volunteers.services import create_skill, skills_by_code
from volunteers.teams import create_team, register_enterprise

ACTOR = "demo"
MAX_VOLUNTEERS = 1_000_000
BATCH = 20_000
LEVEL_COUNTS = {1: 14, 2: 157, 3: 934}
# Tables the demo never touches: API tokens outlive a reset (those scoped to a deleted
# grid, person or enterprise go with it through ON DELETE CASCADE).
KEPT_TABLES = frozenset({"api_tokens"})

VOLUNTEER_COLUMNS = ("id", "name", "mobile", "home_grid_id", "identity_flags", "party_branch", "status",
                     "max_callups_per_month", "availability_mask", "interests", "language", "consent_at",
                     "note", "created_by", "created_at", "updated_at")
SKILL_COLUMNS = ("volunteer_id", "skill_id", "level", "certificate_expires_on")
WINDOW_COLUMNS = ("id", "volunteer_id", "weekday", "start_minute", "end_minute")
BLACKOUT_COLUMNS = ("volunteer_id", "day")
CONSENT_COLUMNS = ("volunteer_id", "channel", "granted_at")
GRID_COLUMNS = ("id", "code", "name", "level", "parent_id", "parent_level", "path", "lat", "lon",
                "created_at", "updated_at")

# Shares of the population (the rest are plain resident volunteers).
CADRE, POLICE, DOCTOR, LAW, PROPERTY, BUILDING_LEADER = 0.03, 0.005, 0.005, 0.005, 0.03, 0.05
GRID_WORKER = 0.004  # 网格员: a few per grid
# Cadres are nearly all party members; the base rate keeps the district near 20 %.
PARTY_BASE, PARTY_CADRE = 0.18, 0.85
STATUS_P = (0.90, 0.06, 0.04)
STATUSES = (VolunteerStatus.ACTIVE.value, VolunteerStatus.PAUSED.value, VolunteerStatus.LEFT.value)
SKILL_COUNT_P = (0.22, 0.30, 0.26, 0.15, 0.07)
LEVEL_P = (0.25, 0.30, 0.25, 0.13, 0.07)
INTEREST_P = {CampaignKind.GARBAGE_SORTING: 0.35, CampaignKind.GAS_SAFETY: 0.15,
              CampaignKind.FLOOD_EMERGENCY: 0.20, CampaignKind.EMERGENCY: 0.25, CampaignKind.VISIT: 0.30,
              CampaignKind.PATROL: 0.20, CampaignKind.EPIDEMIC: 0.15, CampaignKind.OTHER: 0.10}
# Certificates run out between ~7 months ago and 3 years ahead, so about one in seven has expired.
EXPIRY_DAYS = (-200, 1100)
AVAILABILITY_KINDS = (("weekday_evenings", 0.30), ("weekends", 0.20), ("evenings_and_weekends", 0.12),
                      ("retiree_daytime", 0.25), ("shift_worker", 0.08), ("none", 0.05))
TEMPLATES_PER_KIND = 48
# Share of people with a mobile who agreed to SMS when they registered, so the demo shows SMS going out.
SMS_CONSENT = 0.8


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in account the seed made, with its password in the clear, shown once."""

    login: str
    role: str
    grid: str
    password: str


@dataclass
class SeedSummary:
    """Row counts of what was written and how long it took."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    accounts: list[DemoAccount] = field(default_factory=list)

    def line(self) -> str:
        parts = ", ".join(f"{value:,} {key}" for key, value in self.counts.items())
        return f"Seeded {parts} in {self.seconds:.1f} s."


# --- housekeeping ---------------------------------------------------------------------------------


def _demo_tables() -> list[Table]:
    return [table for table in db.metadata.sorted_tables if table.name not in KEPT_TABLES]


def existing_rows() -> dict[str, int]:
    """Row counts of the tables the demo fills that are not empty."""
    counts = {}
    for table in _demo_tables():
        count = db.session.scalar(select(func.count()).select_from(table))
        if count:
            counts[table.name] = count
    db.session.commit()
    return counts


def reset_demo_data() -> None:
    """Delete every row the demo could have written, children before parents."""
    if db.engine.dialect.name == "postgresql":
        # A million people and their rows take a while to delete; the app's default
        # statement timeout is meant for requests, not for this.
        db.session.execute(text("SET LOCAL statement_timeout = 0"))
    for table in reversed(_demo_tables()):
        if table.name == Grid.__tablename__:
            # RESTRICT on the parent key is checked row by row on SQLite: leaves first.
            for level in range(4, -1, -1):
                db.session.execute(delete(table).where(table.c.level == level))
        else:
            db.session.execute(delete(table))
    # Ids start again at 1, so a reset and reseed gives the very same rows as a fresh database.
    _BulkWriter().fix_sequences(_demo_tables())
    db.session.commit()


class _BulkWriter:
    """Bulk inserts of column-wise batches: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self) -> None:
        self.postgres = db.engine.dialect.name == "postgresql"

    def begin(self) -> None:
        if self.postgres:
            # Demo rows can be rebuilt: no need to wait for the WAL flush at each batch commit.
            db.session.execute(text("SET LOCAL synchronous_commit = off"))

    def write(self, table: Table, columns: tuple[str, ...], data: dict[str, list]) -> int:
        rows = zip(*(data[name] for name in columns))
        if self.postgres:
            raw = db.session.connection().connection.driver_connection
            count = 0
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            return count
        params = [dict(zip(columns, row)) for row in rows]
        if params:
            db.session.execute(insert(table), params)
        return len(params)

    def fix_sequences(self, tables: Iterable[Table]) -> None:
        """Move id sequences past the explicit ids, so later inserts do not collide."""
        if not self.postgres:
            return
        for table in tables:
            if "id" not in table.c or not table.c.id.primary_key:
                continue
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))


# --- the grid tree --------------------------------------------------------------------------------


@dataclass
class _Tree:
    streets: list[dict[str, Any]]
    communities: list[dict[str, Any]]
    grids: list[dict[str, Any]]
    micro: list[dict[str, Any]]


def _partition(total: int, parts: int, low: int, high: int, rng: np.random.Generator) -> list[int]:
    """``parts`` whole numbers in [low, high] that add up to ``total``, spread at random."""
    counts = np.full(parts, low)
    while counts.sum() < total:
        room = np.flatnonzero(counts < high)
        counts[rng.choice(room)] += 1
    return counts.tolist()


def _build_tree(rng: np.random.Generator, now: datetime) -> _Tree:
    """Rows of the tree with ids 1, 2, … and their materialised paths."""
    next_id = iter(range(1, 1_000_000))
    lat0, lon0 = names.CITY_CENTRE

    def node(code, name, level, parent, lat, lon):
        node_id = next(next_id)
        return {"id": node_id, "code": code, "name": name, "level": level,
                "parent_id": parent["id"] if parent else None,
                "parent_level": parent["level"] if parent else None,
                "path": child_path(parent["path"] if parent else None, node_id),
                "lat": round(float(lat), 6), "lon": round(float(lon), 6), "created_at": now, "updated_at": now}

    district = node(names.DISTRICT[0], names.DISTRICT[1], 0, None, lat0, lon0)
    streets, communities, grids, micro = [], [], [], []
    angles = np.linspace(0, 2 * np.pi, LEVEL_COUNTS[1], endpoint=False) + rng.uniform(-0.2, 0.2, LEVEL_COUNTS[1])
    radii = rng.uniform(0.02, 0.09, LEVEL_COUNTS[1])
    for s, street_name in enumerate(names.STREETS):
        streets.append(node(f"{district['code']}-S{s + 1:02d}", f"{street_name}街道", 1, district,
                            lat0 + radii[s] * np.sin(angles[s]), lon0 + radii[s] * np.cos(angles[s])))
    combos = [a + b for a in names.COMMUNITY_FIRST for b in names.COMMUNITY_SECOND]
    order = rng.permutation(len(combos))[:LEVEL_COUNTS[2]]
    community_names = [combos[i] for i in order]
    per_street = _partition(LEVEL_COUNTS[2], LEVEL_COUNTS[1], 8, 14, rng)
    for s, street in enumerate(streets):
        village_street = s >= LEVEL_COUNTS[1] - names.VILLAGE_STREETS
        for c in range(per_street[s]):
            base = community_names[len(communities)]
            suffix = "村" if village_street and c % 2 else "社区"
            communities.append(node(f"{street['code']}-C{c + 1:02d}", base + suffix, 2, street,
                                    street["lat"] + rng.normal(0, 0.012), street["lon"] + rng.normal(0, 0.012)))
    per_community = _partition(LEVEL_COUNTS[3], LEVEL_COUNTS[2], 3, 10, rng)
    for c, community in enumerate(communities):
        for g in range(per_community[c]):
            grids.append(node(f"{community['code']}-G{g + 1:02d}", f"第{g + 1}网格", 3, community,
                              community["lat"] + rng.normal(0, 0.003), community["lon"] + rng.normal(0, 0.003)))
    # A few high-rise grids are split further into building micro-grids.
    for g in sorted(rng.choice(len(grids), size=8, replace=False).tolist()):
        parent = grids[g]
        for m in range(int(rng.integers(2, 5))):
            micro.append(node(f"{parent['code']}-M{m + 1:02d}", f"{m + 1}号楼微网格", 4, parent,
                              parent["lat"] + rng.normal(0, 0.0005), parent["lon"] + rng.normal(0, 0.0005)))
    return _Tree(streets=[district] + streets, communities=communities, grids=grids, micro=micro)


def _seed_grids(writer: _BulkWriter, tree: _Tree) -> int:
    writer.begin()
    total = 0
    # Level by level, so every parent row exists before its children on both databases.
    for level_rows in (tree.streets, tree.communities, tree.grids, tree.micro):
        data = {name: [row[name] for row in level_rows] for name in GRID_COLUMNS}
        total += writer.write(Grid.__table__, GRID_COLUMNS, data)
    writer.fix_sequences([Grid.__table__])
    db.session.commit()
    return total


# --- people ---------------------------------------------------------------------------------------


def _availability_templates(rng: np.random.Generator) -> tuple[list[list[tuple[int, int, int]]], np.ndarray]:
    """Weekly window sets people pick from, and the probability of each."""
    def hm(hours: float) -> int:
        return int(round(hours * 60))

    def pick(options):
        return options[int(rng.integers(len(options)))]

    def weekday_evenings():
        days = (list(range(5)) if rng.random() < 0.6
                else sorted(rng.choice(5, int(rng.integers(2, 5)), replace=False).tolist()))
        start, end = hm(pick((18, 18.5, 19))), hm(pick((20.5, 21, 21.5, 22)))
        return [(d, start, end) for d in days]

    def weekends():
        days = pick(((5, 6), (5, 6), (5,), (6,)))
        shape = pick(("morning", "afternoon", "both", "day"))
        spans = {"morning": [(hm(pick((8, 8.5, 9))), hm(pick((11.5, 12))))],
                 "afternoon": [(hm(pick((13.5, 14))), hm(pick((17, 17.5, 18))))],
                 "day": [(hm(pick((8.5, 9))), hm(pick((17, 18))))]}
        spans["both"] = spans["morning"] + spans["afternoon"]
        return [(d, s, e) for d in days for s, e in spans[shape]]

    def retiree_daytime():
        if rng.random() < 0.6:
            start, end = hm(pick((7.5, 8, 8.5))), hm(pick((16.5, 17, 17.5)))
            return [(d, start, end) for d in range(7)]
        morning = (hm(pick((7.5, 8))), hm(pick((11, 11.5))))
        afternoon = (hm(pick((14, 14.5))), hm(pick((17, 17.5))))
        return [(d, s, e) for d in range(7) for s, e in (morning, afternoon)]

    def shift_worker():
        first = int(rng.integers(7))
        days = sorted({(first + k) % 7 for k in range(int(rng.integers(2, 4)))})
        start, end = hm(pick((9, 10))), hm(pick((18, 20)))
        return [(d, start, end) for d in days]

    makers = {"weekday_evenings": weekday_evenings, "weekends": weekends, "retiree_daytime": retiree_daytime,
              "shift_worker": shift_worker,
              "evenings_and_weekends": lambda: sorted(weekday_evenings() + weekends())}
    templates, weights = [], []
    for kind, share in AVAILABILITY_KINDS:
        if kind == "none":
            templates.append([])
            weights.append(share)
            continue
        for _ in range(TEMPLATES_PER_KIND):
            templates.append(makers[kind]())
            weights.append(share / TEMPLATES_PER_KIND)
    return templates, np.array(weights) / sum(weights)


@dataclass
class _People:
    """Everything drawn once and shared by every batch of volunteers."""

    seed: int
    now: datetime
    today: date
    grid_ids: np.ndarray
    grid_p: np.ndarray
    grid_branches: list[tuple[str, ...]]
    skill_ids: np.ndarray
    certified: np.ndarray
    skill_logw: np.ndarray
    boost: np.ndarray
    forced_skill: np.ndarray
    team_member: np.ndarray
    templates: list[list[tuple[int, int, int]]]
    template_p: np.ndarray
    template_masks: list[bytes]
    template_start: np.ndarray
    template_len: np.ndarray
    window_rows: np.ndarray
    mobile_step: int
    mobile_offset: int


def _plan_people(rng: np.random.Generator, seed: int, now: datetime, tz: ZoneInfo, tree: _Tree,
                 skill_ids: dict[str, int], team_plan: list[dict[str, Any]], count: int) -> _People:
    grid_ids = np.array([row["id"] for row in tree.grids])
    # Some grids (new high-rise estates) hold several times as many people as others.
    weights = rng.lognormal(0.0, 0.6, len(grid_ids))
    community_of = {row["id"]: row["name"] for row in tree.communities}
    branches = [tuple(f"{community_of[row['parent_id']]}{ordinal}党支部" for ordinal in names.BRANCH_ORDINALS)
                for row in tree.grids]
    codes = [code for code, *_ in names.SKILLS]
    identity_index = {identity.value: i for i, identity in enumerate(Identity)}
    boost = np.zeros((len(Identity), len(codes)))
    for identity, boosted in names.IDENTITY_SKILLS.items():
        for code in boosted:
            boost[identity_index[identity], codes.index(code)] = 2.5
    forced = np.full(count + 1, -1, dtype=np.int16)
    member = np.zeros(count + 1, dtype=bool)
    for team in team_plan:
        forced[team["member_ids"]] = codes.index(team["skill"])
        member[team["member_ids"]] = True
    templates, template_p = _availability_templates(rng)
    lengths = np.array([len(t) for t in templates])
    flat = np.array([w for t in templates for w in t], dtype=np.int32).reshape(-1, 3)
    step = int(rng.integers(10**6, 10**7)) * 10 + 3  # ends in 3: coprime with 10**8, so i ↦ mobile is one-to-one
    return _People(
        seed=seed, now=now, today=now.astimezone(tz).date(), grid_ids=grid_ids, grid_p=weights / weights.sum(),
        grid_branches=branches, skill_ids=np.array([skill_ids[code] for code in codes]),
        certified=np.array([certified for *_, certified in names.SKILLS]),
        skill_logw=np.log(np.array(names.SKILL_WEIGHTS, dtype=float)), boost=boost, forced_skill=forced,
        team_member=member, templates=templates, template_p=template_p,
        template_masks=[windows_to_mask(t) for t in templates],
        template_start=np.concatenate([[0], np.cumsum(lengths)[:-1]]), template_len=lengths, window_rows=flat,
        mobile_step=step, mobile_offset=int(rng.integers(10**8)))


def _volunteer_batch(people: _People, first_id: int, size: int, first_window_id: int) -> dict[str, dict[str, list]]:
    """Rows of volunteers ``first_id`` … ``first_id + size - 1`` and their skills, windows and blackouts."""
    # One generator per batch, keyed by (seed, batch start): a batch does not depend on the ones before.
    rng = np.random.default_rng([people.seed, first_id])
    ids = np.arange(first_id, first_id + size)
    bits = {identity: identity.bit for identity in Identity}

    grid_index = rng.choice(len(people.grid_ids), size=size, p=people.grid_p)
    draws = rng.random((size, 7))
    cadre, police, doctor = draws[:, 0] < CADRE, draws[:, 1] < POLICE, draws[:, 2] < DOCTOR
    law, prop, leader = draws[:, 3] < LAW, draws[:, 4] < PROPERTY, draws[:, 5] < BUILDING_LEADER
    grid_worker = draws[:, 5] > 1 - GRID_WORKER  # the other tail of the leader draw: nobody is both
    party = draws[:, 6] < np.where(cadre, PARTY_CADRE, PARTY_BASE)
    enterprise = people.team_member[ids]
    resident = ~(cadre | police | doctor | law | prop)
    has = {Identity.PARTY_MEMBER: party, Identity.RESIDENT_VOLUNTEER: resident, Identity.SUNK_DOWN_CADRE: cadre,
           Identity.LAW_ENFORCEMENT: law, Identity.POLICE: police, Identity.DOCTOR: doctor,
           Identity.BUILDING_LEADER: leader, Identity.PROPERTY_STAFF: prop, Identity.ENTERPRISE_MEMBER: enterprise,
           Identity.GRID_WORKER: grid_worker}
    identity_matrix = np.stack([has[identity] for identity in Identity], axis=1)
    flags = identity_matrix.astype(np.int64) @ np.array([bits[identity] for identity in Identity])

    surnames = [s for s, _ in names.SURNAMES]
    surname_p = np.array([w for _, w in names.SURNAMES], dtype=float)
    surname = rng.choice(len(surnames), size=size, p=surname_p / surname_p.sum())
    given = rng.integers(0, len(names.GIVEN_CHARS), size=(size, 2))
    two_chars = rng.random(size) < 0.72
    chars = names.GIVEN_CHARS
    person_names = [surnames[s] + chars[a] + (chars[b] if two else "")
                    for s, (a, b), two in zip(surname.tolist(), given.tolist(), two_chars.tolist())]
    suffix = ((ids - 1) * people.mobile_step + people.mobile_offset) % 10**8
    prefix = rng.choice(np.array(names.MOBILE_PREFIXES), size=size)
    mobiles = [f"{p}{s:08d}" for p, s in zip(prefix.tolist(), suffix.tolist())]

    branch_pick = rng.integers(0, len(names.BRANCH_ORDINALS), size=size)
    organ_pick = rng.integers(0, len(names.CADRE_ORGANS), size=size)
    branches = [None if not is_party else
                (f"{names.CADRE_ORGANS[o]}机关党支部" if is_cadre else people.grid_branches[g][b])
                for is_party, is_cadre, g, b, o in zip(party.tolist(), cadre.tolist(), grid_index.tolist(),
                                                      branch_pick.tolist(), organ_pick.tolist())]
    status = rng.choice(len(STATUSES), size=size, p=STATUS_P)
    status[enterprise] = 0  # team members on the roster are active
    kinds = list(INTEREST_P)
    interests = (rng.random((size, len(kinds))) < np.array([INTEREST_P[k] for k in kinds])).astype(np.int64) \
        @ np.array([k.bit for k in kinds])
    english = rng.random(size) < 0.03
    age_seconds = rng.integers(86_400, 730 * 86_400, size=size)
    created = [people.now - timedelta(seconds=s) for s in age_seconds.tolist()]
    template = rng.choice(len(people.templates), size=size, p=people.template_p)

    volunteers = {
        "id": ids.tolist(), "name": person_names, "mobile": mobiles,
        "home_grid_id": people.grid_ids[grid_index].tolist(), "identity_flags": flags.tolist(),
        "party_branch": branches, "status": [STATUSES[s] for s in status.tolist()],
        "max_callups_per_month": rng.integers(2, 9, size=size).tolist(),
        "availability_mask": [people.template_masks[t] for t in template.tolist()],
        "interests": interests.tolist(), "language": ["en" if e else "zh" for e in english.tolist()],
        "consent_at": created, "note": [None] * size, "created_by": [ACTOR] * size,
        "created_at": created, "updated_at": created,
    }

    # Skills: weighted sampling without replacement (Gumbel top-k), tilted by identity and team.
    logw = people.skill_logw + identity_matrix.astype(float) @ people.boost
    forced = people.forced_skill[ids]
    logw[np.flatnonzero(forced >= 0), forced[forced >= 0]] += 6.0
    keys = logw - np.log(-np.log(rng.random(logw.shape)))
    top = np.argsort(-keys, axis=1)[:, :len(SKILL_COUNT_P) - 1]
    how_many = rng.choice(len(SKILL_COUNT_P), size=size, p=SKILL_COUNT_P)
    how_many[enterprise] = np.maximum(how_many[enterprise], 1)
    chosen = np.arange(top.shape[1]) < how_many[:, None]
    rows, columns = np.nonzero(chosen)
    skill_index = top[rows, columns]
    levels = rng.choice(len(LEVEL_P), size=len(rows), p=LEVEL_P) + 1
    tilted = logw[rows, skill_index] > people.skill_logw[skill_index]
    levels = np.minimum(levels + tilted, 5)
    expiry_offset = rng.integers(EXPIRY_DAYS[0], EXPIRY_DAYS[1], size=len(rows))
    is_certified = people.certified[skill_index]
    skills = {
        "volunteer_id": ids[rows].tolist(), "skill_id": people.skill_ids[skill_index].tolist(),
        "level": levels.tolist(),
        "certificate_expires_on": [people.today + timedelta(days=d) if c else None
                                   for d, c in zip(expiry_offset.tolist(), is_certified.tolist())],
    }

    # Windows: each person's template rows, expanded without a Python loop.
    lengths = people.template_len[template]
    total = int(lengths.sum())
    owner = np.repeat(np.arange(size), lengths)
    within = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    flat = people.window_rows[people.template_start[template][owner] + within]
    windows = {"id": list(range(first_window_id, first_window_id + total)), "volunteer_id": ids[owner].tolist(),
               "weekday": flat[:, 0].tolist(), "start_minute": flat[:, 1].tolist(),
               "end_minute": flat[:, 2].tolist()}

    # Blackouts: a few people name one to three distinct days in the next two months.
    away = np.flatnonzero(rng.random(size) < 0.08)
    days_off = rng.integers(1, 4, size=len(away))
    offsets = rng.integers(1, 45, size=len(away))[:, None] + np.cumsum(rng.integers(1, 8, size=(len(away), 3)), axis=1)
    keep = np.arange(3) < days_off[:, None]
    who, which = np.nonzero(keep)
    blackouts = {"volunteer_id": ids[away[who]].tolist(),
                 "day": [people.today + timedelta(days=d) for d in offsets[who, which].tolist()]}
    # Channel consent, drawn last so the rows above stay the same for a seed: most people with a
    # mobile agreed to SMS when they registered (at ``created``, like their consent to the record).
    sms = np.flatnonzero((rng.random(size) < SMS_CONSENT) & np.array([bool(m) for m in mobiles]))
    consents = {"volunteer_id": ids[sms].tolist(), "channel": ["sms"] * len(sms),
                "granted_at": [created[i] for i in sms.tolist()]}
    return {"volunteers": volunteers, "skills": skills, "windows": windows, "blackouts": blackouts,
            "consents": consents}


def _seed_volunteers(writer: _BulkWriter, people: _People, count: int,
                     progress: Callable[[int], None] | None) -> dict[str, int]:
    totals = {"volunteers": 0, "volunteer skills": 0, "availability windows": 0, "blackout dates": 0,
              "channel consents": 0}
    next_window = 1
    for first in range(1, count + 1, BATCH):
        size = min(BATCH, count + 1 - first)
        batch = _volunteer_batch(people, first, size, next_window)
        writer.begin()
        totals["volunteers"] += writer.write(Volunteer.__table__, VOLUNTEER_COLUMNS, batch["volunteers"])
        totals["volunteer skills"] += writer.write(VolunteerSkill.__table__, SKILL_COLUMNS, batch["skills"])
        written = writer.write(AvailabilityWindow.__table__, WINDOW_COLUMNS, batch["windows"])
        totals["availability windows"] += written
        next_window += written
        totals["blackout dates"] += writer.write(BlackoutDate.__table__, BLACKOUT_COLUMNS, batch["blackouts"])
        totals["channel consents"] += writer.write(ChannelConsent.__table__, CONSENT_COLUMNS, batch["consents"])
        db.session.commit()
        if progress:
            progress(size)
    writer.begin()
    writer.fix_sequences([Volunteer.__table__, AvailabilityWindow.__table__])
    db.session.commit()
    return totals


# --- catalogue, partners, campaigns ---------------------------------------------------------------


def _seed_skills() -> dict[str, int]:
    for code, name, name_en, certified in names.SKILLS:
        create_skill({"code": code, "name": name, "name_en": name_en, "certified": certified})
    return {code: skill.id for code, skill in skills_by_code().items()}


def _plan_teams(rng: np.random.Generator, tree: _Tree, volunteers: int) -> list[dict[str, Any]]:
    """Enterprises' teams with member ids picked before the people exist (ids are known: 1 … N)."""
    teams = [(e, name, skill) for e, (_, _, team_list) in enumerate(names.ENTERPRISES) for name, skill in team_list]
    wanted = rng.integers(8, 26, size=len(teams))
    # Never more than a tenth of a small roster works for a partner.
    scale = min(1.0, (volunteers // 10) / max(int(wanted.sum()), 1))
    sizes = np.floor(wanted * scale).astype(int)
    members = (rng.choice(volunteers, size=int(sizes.sum()), replace=False) + 1) if volunteers else np.array([], int)
    plan, start = [], 0
    for (enterprise, name, skill), team_size in zip(teams, sizes.tolist()):
        pairs = rng.choice(len(tree.communities), size=int(rng.integers(1, 5)), replace=False)
        plan.append({"enterprise": enterprise, "name": name, "skill": skill,
                     "member_ids": sorted(members[start:start + team_size].tolist()),
                     "paired_grid_ids": sorted(tree.communities[i]["id"] for i in pairs.tolist())})
        start += team_size
    return plan


def _seed_enterprises(rng: np.random.Generator, team_plan: list[dict[str, Any]]) -> tuple[int, int]:
    surnames = [s for s, _ in names.SURNAMES[:20]]
    enterprise_ids = []
    for e, (name, address, _) in enumerate(names.ENTERPRISES):
        credit = "91330100" + "".join(str(d) for d in rng.integers(0, 10, size=9)) + "XABCDEFGHJ"[e]
        contact = (surnames[int(rng.integers(len(surnames)))]
                   + names.GIVEN_CHARS[int(rng.integers(len(names.GIVEN_CHARS)))])
        mobile = f"{names.MOBILE_PREFIXES[int(rng.integers(len(names.MOBILE_PREFIXES)))]}{int(rng.integers(10**8)):08d}"
        enterprise_ids.append(register_enterprise({"name": name, "credit_code": credit, "address": address,
                                                   "contact_name": contact, "contact_mobile": mobile}).id)
    for team in team_plan:
        create_team(enterprise_ids[team["enterprise"]], {
            "name": team["name"], "member_ids": team["member_ids"], "paired_grid_ids": team["paired_grid_ids"],
            "leader_id": team["member_ids"][0] if team["member_ids"] else None}, scope=Scope.system(ACTOR))
    return len(enterprise_ids), len(team_plan)


def _position(role: str, headcount: int, required=(), preferred=(), min_party: int = 0,
              identities=()) -> dict[str, Any]:
    return {"role": role, "headcount": headcount, "min_party_members": min_party,
            "required_skills": [{"code": c, "min_level": lv} for c, lv in required],
            "preferred_skills": [{"code": c, "min_level": lv} for c, lv in preferred],
            "required_identities": [i.value for i in identities]}


def _seed_campaigns(rng: np.random.Generator, tree: _Tree, now: datetime, tz: ZoneInfo) -> int:
    local_now = now.astimezone(tz)
    today = local_now.date()

    def at(day: date, hours: float) -> datetime:
        local = datetime(day.year, day.month, day.day, int(hours), int(round(hours % 1 * 60)), tzinfo=tz)
        return local.astimezone(timezone.utc)

    def grids_of(parent: dict[str, Any]) -> list[dict[str, Any]]:
        return [g for g in tree.grids if g["path"].startswith(parent["path"])]

    streets = tree.streets[1:]
    street_pick = rng.choice(len(streets), size=2, replace=False).tolist()
    community_pick = rng.choice(len(tree.communities), size=2, replace=False).tolist()
    contact = ("社区网格长", "0571-86001234")
    drafts = []

    # Garbage sorting: every Saturday morning; this row is the template the recurrence copies.
    community = tree.communities[community_pick[0]]
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    drafts.append({
        "title": f"{community['name']}垃圾分类宣传周末行动", "kind": CampaignKind.GARBAGE_SORTING,
        "priority": Priority.ROUTINE, "office_grid_id": community["id"], "recurrence_cron": "0 9 * * sat",
        "description": "在各小区垃圾投放点开展分类指导和宣传。", "policy": {"response_minutes": 1440, "reminder_hours": [24, 2]},
        "shifts": [{"start": at(saturday, 9), "end": at(saturday, 11.5), "grid_id": g["id"],
                    "place": f"{g['name']}垃圾投放点",
                    "positions": [_position("分类指导员", 3, required=[("garbage_sorting_guide", 1)],
                                            preferred=[("publicity", 2)]),
                                  _position("宣传员", 2, preferred=[("publicity", 1)])]}
                   for g in grids_of(community)[:3]]})

    # Gas safety: door to door across one street office over the next three days.
    street = streets[street_pick[0]]
    street_grids = grids_of(street)
    picks = sorted(rng.choice(len(street_grids), size=min(6, len(street_grids)), replace=False).tolist())
    drafts.append({
        "title": f"{street['name']}燃气安全入户排查", "kind": CampaignKind.GAS_SAFETY, "priority": Priority.URGENT,
        "office_grid_id": street["id"], "description": "逐户检查燃气管道、软管和报警器，发现隐患当场登记。",
        "policy": {"response_minutes": 240, "over_recruit_percent": 10, "max_radius_level": 1},
        "shifts": [{"start": at(today + timedelta(days=1 + k // 2), 9 if k % 2 == 0 else 14),
                    "end": at(today + timedelta(days=1 + k // 2), 12 if k % 2 == 0 else 17),
                    "grid_id": street_grids[i]["id"], "place": f"{street_grids[i]['name']}各楼栋",
                    "positions": [_position("入户检查员", 2, required=[("gas_check", 3)], min_party=1),
                                  _position("楼栋引导员", 1, preferred=[("publicity", 1)],
                                            identities=[Identity.BUILDING_LEADER])]}
                   for k, i in enumerate(picks)]})

    # Flood emergency: starts in a couple of hours along the river in another street office.
    street = streets[street_pick[1]]
    start = (now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    drafts.append({
        "title": f"{street['name']}防汛应急抢险", "kind": CampaignKind.FLOOD_EMERGENCY, "priority": Priority.EMERGENCY,
        "office_grid_id": street["id"], "description": "强降雨预警，沿河低洼地段封堵、转移和值守。",
        "policy": {"response_minutes": 10, "wave_minutes": 2, "over_recruit_percent": 30, "max_radius_level": 1},
        "shifts": [{"start": start, "end": start + timedelta(hours=8), "grid_id": g["id"], "place": f"{g['name']}沿河地段",
                    "positions": [_position("防汛抢险队员", 6, required=[("flood_control", 2)], min_party=2),
                                  _position("沙袋封堵", 6, required=[("sandbag", 1)], min_party=1),
                                  _position("水上救援", 1, required=[("boat_rescue", 3)]),
                                  _position("医疗保障", 1, required=[("first_aid", 2)], preferred=[("medical", 1)])]}
                   for g in grids_of(street)[:3]]})

    # Monthly visits to elderly people living alone, the first weekdays of next month.
    community = tree.communities[community_pick[1]]
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    weekdays = [first + timedelta(days=k) for k in range(7) if (first + timedelta(days=k)).weekday() < 5][:3]
    drafts.append({
        "title": f"{community['name']}独居老人月度走访", "kind": CampaignKind.VISIT, "priority": Priority.ROUTINE,
        "office_grid_id": community["id"], "recurrence_cron": "0 9 1 * *",
        "description": "每月上门走访独居和高龄老人，了解需求并登记。", "policy": {"response_minutes": 2880, "reminder_hours": [24]},
        "shifts": [{"start": at(day, 9), "end": at(day, 11.5), "grid_id": g["id"], "place": f"{g['name']}",
                    "positions": [_position("走访员", 2, required=[("elderly_care", 2)],
                                            preferred=[("nursing", 1), ("medical", 1)], min_party=1)]}
                   for day, g in zip(weekdays, grids_of(community))]})

    for data in drafts:
        data.setdefault("recurrence_cron", None)
        data["contact_name"], data["contact_phone"] = contact
        draft_campaign(data, scope=Scope.system(ACTOR), now=now)
    return len(drafts)


# --- demo sign-in accounts ------------------------------------------------------------------------


def _seed_accounts(now: datetime) -> list[DemoAccount]:
    """A district admin, the offices of the first street and community campaigns, and one of their people.

    Made through ``create_user`` like any account, each with a fresh random password that is
    returned once (only its argon2 hash is stored). Nothing is made when accounts exist already.
    """
    if db.session.scalar(select(exists().where(User.id.is_not(None)))):
        return []
    offices = db.session.execute(select(Grid).join(Campaign, Campaign.office_grid_id == Grid.id)
                                 .order_by(Campaign.id)).scalars().all()
    street = next(g for g in offices if g.level == 1)
    community = next(g for g in offices if g.level == 2)
    person = _demo_person(community)
    home = db.session.get(Grid, person.home_grid_id)
    parent = db.session.get(Grid, home.parent_id) if home.parent_id else None
    plans = [("demo-admin", "演示区管理员", Role.ADMIN, {}, "—"),
             ("demo-street", f"{street.name}工作人员", Role.OFFICE, {"grid_id": street.id}, street.name),
             ("demo-community", f"{community.name}工作人员", Role.OFFICE, {"grid_id": community.id}, community.name),
             (person.mobile, person.name, Role.VOLUNTEER, {"volunteer_id": person.id},
              f"{parent.name if parent else ''}{home.name}")]
    accounts = []
    for login, display_name, role, binding, grid in plans:
        password = secrets.token_urlsafe(9)
        create_user(login=login, display_name=display_name, password=password, role=role, actor=ACTOR, now=now,
                    **binding)
        accounts.append(DemoAccount(login=login, role=role.value, grid=grid, password=password))
    return accounts


def _demo_person(community: Grid) -> Volunteer:
    """An active person, best one living in ``community`` who takes SMS, so their account has call-ups to see."""
    sms = exists().where(ChannelConsent.volunteer_id == Volunteer.id, ChannelConsent.channel == "sms")
    nearby = Volunteer.home_grid_id.in_(select(Grid.id).where(Grid.path.startswith(community.path)))
    active = Volunteer.status == VolunteerStatus.ACTIVE
    for conditions in ((active, nearby, sms), (active, sms), (active,), ()):
        person = db.session.scalar(select(Volunteer).where(*conditions).order_by(Volunteer.id).limit(1))
        if person is not None:
            return person
    raise ValueError("the demo has no volunteer to make an account for")


# --- the whole district ---------------------------------------------------------------------------


def _refresh_statistics() -> None:
    """Give the query planner fresh statistics: after a bulk load PostgreSQL otherwise
    believes the tables are empty and picks nested loops (measured: 3.5 s instead of 0.4 s
    to read 180,000 candidates)."""
    db.session.commit()
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def seed_demo(*, volunteers: int = 20_000, seed: int = 42, now: datetime, timezone_name: str = "Asia/Shanghai",
              progress: Callable[[int], None] | None = None) -> SeedSummary:
    """Write the demo district into an empty database; same seed and day, same rows."""
    if not 0 <= volunteers <= MAX_VOLUNTEERS:
        raise ValueError(f"volunteers must be between 0 and {MAX_VOLUNTEERS:,}")
    found = existing_rows()
    if found:
        # Ids are computed, not read back: they are only right in empty tables.
        raise ValueError(f"the demo needs an empty database; found rows in {', '.join(sorted(found))}")
    started = time.perf_counter()
    now = now.replace(microsecond=0)
    tz = ZoneInfo(timezone_name)
    rng = np.random.default_rng(seed)
    writer = _BulkWriter()
    tree = _build_tree(rng, now)
    summary = SeedSummary()
    summary.counts["grids"] = _seed_grids(writer, tree)
    skill_ids = _seed_skills()
    summary.counts["skills"] = len(skill_ids)
    team_plan = _plan_teams(rng, tree, volunteers)
    people = _plan_people(rng, seed, now, tz, tree, skill_ids, team_plan, volunteers)
    summary.counts.update(_seed_volunteers(writer, people, volunteers, progress))
    enterprises, teams = _seed_enterprises(rng, team_plan)
    summary.counts["enterprises"], summary.counts["teams"] = enterprises, teams
    summary.counts["campaigns"] = _seed_campaigns(rng, tree, now, tz)
    if volunteers:
        summary.accounts = _seed_accounts(now)
        summary.counts["accounts"] = len(summary.accounts)
    _refresh_statistics()
    summary.seconds = time.perf_counter() - started
    return summary
