"""Gridmuster matcher: exact, explainable volunteer-to-shift assignment over numpy arrays."""
from .problem import (COMMUNITY_LEVEL, DEFAULT_WEIGHTS, LEVELS, MASK_BYTES, NO_CERTIFICATE, NO_EXPIRY,
                      PARTY_MEMBER,
                      WEEK_SLOTS, Assignment, Candidates, EscalationStep, PositionOutcome,
                      PositionSpec, Problem, Reason, Result, Weights, pack_availability,
                      week_mask, week_mask_epoch, week_of_day)
from .problem import (BUILDING_LEADER, DOCTOR, ENTERPRISE_TEAM, POLICE, PROPERTY_STAFF,
                      RESIDENT_VOLUNTEER, SUNK_DOWN_CADRE)
from .solver import CertificateError, solve

__all__ = [
    "solve", "Problem", "Candidates", "PositionSpec", "Weights", "Result", "Assignment",
    "PositionOutcome", "EscalationStep", "Reason", "CertificateError", "DEFAULT_WEIGHTS",
    "week_mask", "week_mask_epoch", "week_of_day", "pack_availability", "LEVELS", "COMMUNITY_LEVEL",
    "WEEK_SLOTS", "MASK_BYTES", "NO_CERTIFICATE", "NO_EXPIRY", "PARTY_MEMBER", "RESIDENT_VOLUNTEER",
    "SUNK_DOWN_CADRE", "POLICE", "DOCTOR", "BUILDING_LEADER", "PROPERTY_STAFF", "ENTERPRISE_TEAM",
]
