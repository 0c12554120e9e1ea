"""Schemas of the reports: the area-and-period query, each report's figures, and the export query."""
from marshmallow import fields, validate

from api.schemas.common import Schema, positive_id

REPORT_NAMES = ("campaigns", "emergencies", "people", "activity", "hours", "enterprises")


class ReportQuerySchema(Schema):
    grid_id = positive_id(strict=False, metadata={
        "description": "The district, street office or community to report on (default: the caller's own)"})
    first = fields.Date(data_key="from", metadata={"description": "First day, local date (default: 29 days before `to`)"})
    last = fields.Date(data_key="to", metadata={"description": "Last day, local date, inclusive (default: today)"})


class ReportExportQuerySchema(ReportQuerySchema):
    report = fields.String(load_default="campaigns", validate=validate.OneOf(REPORT_NAMES))
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))
    lang = fields.String(load_default=None, validate=validate.OneOf(["zh", "en"]), metadata={
        "description": "Language of the headers (default: the request's Accept-Language, else English)"})


class AreaSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    level = fields.Integer()


class PeriodSchema(Schema):
    first = fields.Date(data_key="from")
    last = fields.Date(data_key="to")


class _Grouped(Schema):
    grid_id = fields.Integer(allow_none=True, metadata={"description": "The child node (null: the area node itself)"})
    name = fields.String()
    level = fields.Integer()


class CampaignFiguresSchema(_Grouped):
    campaigns = fields.Integer()
    places = fields.Integer(metadata={"description": "Places needed (headcounts)"})
    positions = fields.Integer()
    positions_filled = fields.Integer()
    called = fields.Integer(metadata={"description": "Call-ups sent to people"})
    accepted = fields.Integer(metadata={"description": "Said yes (attended and no-shows included)"})
    attended = fields.Integer()
    fill_rate = fields.Float(allow_none=True)
    hours = fields.Float()
    time_to_fill_minutes = fields.Float(allow_none=True, metadata={
        "description": "Median over filled positions: publish → the last place taken"})
    response_minutes = fields.Float(allow_none=True, metadata={"description": "Median: sent → answered"})


class EmergencyFiguresSchema(_Grouped):
    emergencies = fields.Integer()
    places = fields.Integer()
    places_in_hour = fields.Integer(metadata={"description": "Places where someone arrived within 60 min of publish"})
    share_in_hour = fields.Float(allow_none=True)


class PeopleFiguresSchema(_Grouped):
    people = fields.Integer(metadata={"description": "Active people living in the node"})
    party_members = fields.Integer()


class ActivityFiguresSchema(_Grouped):
    people = fields.Integer()
    active = fields.Integer(metadata={"description": "Answered or attended a call-up in the period"})
    dormant = fields.Integer(metadata={"description": "Neither in the 180 days up to the period's end"})


class HoursFiguresSchema(_Grouped):
    hours = fields.Float()
    shifts_served = fields.Integer()
    people = fields.Integer()


class NamedCountSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    people = fields.Integer()


class NamedHoursSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    hours = fields.Float()


class MonthHoursSchema(Schema):
    month = fields.String(metadata={"description": "YYYY-MM, local calendar month"})
    hours = fields.Float()


class EnterpriseFiguresSchema(Schema):
    enterprise_id = fields.Integer()
    name = fields.String()
    teams = fields.Integer()
    people = fields.Integer()
    shifts_served = fields.Integer()
    hours = fields.Float()


class EnterpriseTotalSchema(Schema):
    enterprises = fields.Integer()
    people = fields.Integer()
    shifts_served = fields.Integer()
    hours = fields.Float()


class _Report(Schema):
    area = fields.Nested(AreaSchema)
    period = fields.Nested(PeriodSchema)


class CampaignReportSchema(_Report):
    total = fields.Nested(CampaignFiguresSchema, attribute="data.total")
    rows = fields.List(fields.Nested(CampaignFiguresSchema), attribute="data.rows")


class EmergencyReportSchema(_Report):
    total = fields.Nested(EmergencyFiguresSchema, attribute="data.total")
    rows = fields.List(fields.Nested(EmergencyFiguresSchema), attribute="data.rows")


class PeopleReportSchema(_Report):
    total = fields.Nested(PeopleFiguresSchema, attribute="data.total")
    rows = fields.List(fields.Nested(PeopleFiguresSchema), attribute="data.rows")
    by_skill = fields.List(fields.Nested(NamedCountSchema), attribute="data.by_skill")
    by_identity = fields.List(fields.Nested(NamedCountSchema), attribute="data.by_identity")


class ActivityReportSchema(_Report):
    total = fields.Nested(ActivityFiguresSchema, attribute="data.total")
    rows = fields.List(fields.Nested(ActivityFiguresSchema), attribute="data.rows")


class HoursReportSchema(_Report):
    total = fields.Nested(HoursFiguresSchema, attribute="data.total")
    rows = fields.List(fields.Nested(HoursFiguresSchema), attribute="data.rows")
    by_skill = fields.List(fields.Nested(NamedHoursSchema), attribute="data.by_skill")
    by_kind = fields.List(fields.Nested(NamedHoursSchema), attribute="data.by_kind")
    by_month = fields.List(fields.Nested(MonthHoursSchema), attribute="data.by_month")


class EnterpriseReportSchema(_Report):
    total = fields.Nested(EnterpriseTotalSchema, attribute="data.total")
    rows = fields.List(fields.Nested(EnterpriseFiguresSchema), attribute="data.rows")
