"""Does `flask demo seed` build a consistent, repeatable demo district and guard existing data?"""
import hashlib
import re
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from accounts.models import Role, User
from accounts.passwords import verify_password
from campaigns.models import Campaign, CampaignStatus, Position, PositionSkill, Priority, Shift
from core.clock import utcnow
from core.kinds import CampaignKind
from extensions import db
from grids.models import Grid
from volunteers.availability import windows_to_mask
from volunteers.models import (AvailabilityWindow, ChannelConsent, Enterprise, Identity, Skill, Team, Volunteer,
                               VolunteerSkill, team_members)

N = 500
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def _seed(runner, *extra):
    result = runner.invoke(args=["demo", "seed", "--volunteers", str(N), *extra])
    db.session.remove()
    return result


def _digest() -> str:
    rows = db.session.execute(select(Volunteer.id, Volunteer.name, Volunteer.mobile, Volunteer.home_grid_id,
                                     Volunteer.identity_flags, Volunteer.availability_mask)
                              .order_by(Volunteer.id)).all()
    skills = db.session.execute(select(VolunteerSkill.volunteer_id, VolunteerSkill.skill_id, VolunteerSkill.level)
                                .order_by(VolunteerSkill.volunteer_id, VolunteerSkill.skill_id)).all()
    grids = db.session.execute(select(Grid.id, Grid.code, Grid.name, Grid.lat).order_by(Grid.id)).all()
    return hashlib.sha256(repr((rows, skills, grids)).encode()).hexdigest()


@pytest.fixture
def seeded(runner):
    result = _seed(runner)
    assert result.exit_code == 0, result.output
    return result


def test_demo_seed_builds_the_grid_tree(seeded):
    counts = dict(db.session.execute(select(Grid.level, func.count()).group_by(Grid.level)).all())
    assert (counts[0], counts[1], counts[2], counts[3]) == (1, 14, 157, 934)
    grids = {grid.id: grid for grid in db.session.scalars(select(Grid))}
    for grid in grids.values():
        if grid.parent_id is None:
            assert grid.level == 0 and grid.path == f"/{grid.id}/"
            continue
        parent = grids[grid.parent_id]
        assert grid.level == parent.level + 1 == grid.parent_level + 1
        assert grid.path == f"{parent.path}{grid.id}/"
        assert grid.code.startswith(parent.code + "-")
    assert len({grid.code for grid in grids.values()}) == len(grids)


def test_demo_seed_registers_plausible_volunteers(seeded):
    volunteers = db.session.scalars(select(Volunteer)).all()
    assert len(volunteers) == N
    mobiles = [v.mobile for v in volunteers]
    assert len(set(mobiles)) == N and all(MOBILE_RE.match(m) for m in mobiles)
    party = sum(v.is_party_member for v in volunteers)
    assert 0.15 <= party / N <= 0.25
    assert all(v.party_branch for v in volunteers if v.is_party_member)
    assert not any(v.party_branch for v in volunteers if not v.is_party_member)
    home_levels = set(db.session.scalars(select(Grid.level).join(Volunteer, Volunteer.home_grid_id == Grid.id)))
    assert home_levels == {3}
    assert all(v.consent_at is not None and 2 <= v.max_callups_per_month <= 8 for v in volunteers)
    assert f"{N} volunteers" in seeded.output


def test_demo_seed_masks_match_windows(seeded):
    windows = defaultdict(list)
    for w in db.session.scalars(select(AvailabilityWindow)):
        windows[w.volunteer_id].append((w.weekday, w.start_minute, w.end_minute))
    masks = dict(db.session.execute(select(Volunteer.id, Volunteer.availability_mask)).all())
    assert sum(1 for vid in masks if windows[vid]) > N * 0.8
    for vid, mask in masks.items():
        assert bytes(mask) == windows_to_mask(windows[vid]), vid


def test_demo_seed_skills_and_teams(seeded):
    certified = {s.id for s in db.session.scalars(select(Skill).where(Skill.certified))}
    assert 25 <= db.session.scalar(select(func.count()).select_from(Skill)) <= 32
    rows = db.session.scalars(select(VolunteerSkill)).all()
    assert all(1 <= r.level <= 5 for r in rows)
    assert all((r.certificate_expires_on is not None) == (r.skill_id in certified) for r in rows)
    today = utcnow().date()
    expiries = [r.certificate_expires_on for r in rows if r.certificate_expires_on]
    assert any(d < today for d in expiries) and any(d > today for d in expiries)
    assert 5 <= db.session.scalar(select(func.count()).select_from(Enterprise)) <= 8
    members = set(db.session.scalars(select(team_members.c.volunteer_id)))
    assert members
    flagged = set(db.session.scalars(select(Volunteer.id).where(
        Volunteer.identity_flags.op("&")(Identity.ENTERPRISE_MEMBER.bit) != 0)))
    assert flagged == members
    for team in db.session.scalars(select(Team)):
        assert 1 <= len(team.paired_grids) <= 4 and {g.level for g in team.paired_grids} == {2}


def test_demo_seed_drafts_campaigns_with_shifts_and_positions(seeded):
    campaigns = {c.kind: c for c in db.session.scalars(select(Campaign))}
    assert set(campaigns) >= {CampaignKind.GARBAGE_SORTING, CampaignKind.GAS_SAFETY,
                              CampaignKind.FLOOD_EMERGENCY, CampaignKind.VISIT}
    assert all(c.status is CampaignStatus.DRAFT and c.shifts and all(s.positions for s in c.shifts)
               for c in campaigns.values())
    assert all(s.start_at > utcnow() for c in campaigns.values() for s in c.shifts)
    assert campaigns[CampaignKind.GARBAGE_SORTING].recurrence_cron == "0 9 * * sat"
    assert campaigns[CampaignKind.FLOOD_EMERGENCY].priority is Priority.EMERGENCY
    assert any(p.min_party_members for s in campaigns[CampaignKind.FLOOD_EMERGENCY].shifts for p in s.positions)
    gas = db.session.execute(
        select(PositionSkill.min_level).join(Skill, Skill.id == PositionSkill.skill_id)
        .join(Position).join(Shift).where(Shift.campaign_id == campaigns[CampaignKind.GAS_SAFETY].id,
                                          Skill.code == "gas_check")).scalars().all()
    assert gas and min(gas) >= 3
    assert len(campaigns[CampaignKind.GAS_SAFETY].shifts) >= 3


def test_demo_seed_same_seed_same_rows(runner):
    assert _seed(runner, "--seed", "7").exit_code == 0
    first = _digest()
    result = _seed(runner, "--seed", "7", "--reset")
    assert result.exit_code == 0, result.output
    assert _digest() == first
    assert _seed(runner, "--seed", "8", "--reset").exit_code == 0
    assert _digest() != first


def test_demo_seed_refuses_a_non_empty_database(seeded, runner):
    result = _seed(runner)
    assert result.exit_code != 0
    assert "not empty" in result.output and "--reset" in result.output
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == N


def test_demo_seed_if_empty_leaves_a_seeded_database_alone(seeded, runner):
    before = _digest()
    result = runner.invoke(args=["demo", "seed", "--volunteers", "50", "--if-empty"])
    db.session.remove()
    assert result.exit_code == 0, result.output
    assert "nothing seeded" in result.output and "Demo sign-in accounts" not in result.output
    assert _digest() == before
    assert db.session.scalar(select(func.count()).select_from(User)) == 4


def test_demo_seed_grants_sms_consent_to_most_people_with_a_mobile(seeded):
    consents = db.session.scalars(select(ChannelConsent)).all()
    assert {c.channel for c in consents} == {"sms"}
    assert len({c.volunteer_id for c in consents}) == len(consents)
    assert 0.7 <= len(consents) / N <= 0.9
    granted = dict(db.session.execute(select(Volunteer.id, Volunteer.consent_at)).all())
    assert all(c.withdrawn_at is None and c.granted_at == granted[c.volunteer_id] for c in consents)
    assert f"{len(consents)} channel consents" in seeded.output


def _printed_accounts(output: str) -> dict[str, tuple[str, str, str]]:
    lines = output.split("Demo sign-in accounts", 1)[1].splitlines()[2:]
    rows = [line.split() for line in lines if line.strip()]
    return {login: (role, grid, password) for login, role, grid, password in rows}


def test_demo_seed_makes_four_demo_accounts_and_prints_their_passwords(seeded):
    printed = _printed_accounts(seeded.output)
    users = {u.login: u for u in db.session.scalars(select(User))}
    assert set(users) == set(printed) and len(users) == 4
    for login, (role, _, password) in printed.items():
        user = users[login]
        assert user.role.value == role and user.active and len(password) == 12
        assert verify_password(user.password_hash, password) and password not in user.password_hash
    assert users["demo-admin"].role is Role.ADMIN and users["demo-admin"].grid_id is None
    offices = set(db.session.scalars(select(Campaign.office_grid_id)))
    street, community = (db.session.get(Grid, users[login].grid_id) for login in ("demo-street", "demo-community"))
    assert (users["demo-street"].role, street.level) == (Role.OFFICE, 1) and street.id in offices
    assert (users["demo-community"].role, community.level) == (Role.OFFICE, 2) and community.id in offices
    assert printed["demo-street"][1] == street.name and printed["demo-community"][1] == community.name
    [person_login] = set(users) - {"demo-admin", "demo-street", "demo-community"}
    person = db.session.get(Volunteer, users[person_login].volunteer_id)
    assert users[person_login].role is Role.VOLUNTEER and person.mobile == person_login
    assert len({password for _, _, password in printed.values()}) == 4  # each drawn on its own


def test_demo_seed_without_people_or_with_data_makes_no_accounts(runner):
    result = runner.invoke(args=["demo", "seed", "--volunteers", "0"])
    db.session.remove()
    assert result.exit_code == 0, result.output
    assert "Demo sign-in accounts" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert db.session.scalar(select(func.count()).select_from(ChannelConsent)) == 0
    again = runner.invoke(args=["demo", "seed", "--volunteers", "50", "--if-empty"])
    db.session.remove()
    assert again.exit_code == 0 and "nothing seeded" in again.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
